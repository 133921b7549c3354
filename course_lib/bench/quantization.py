"""Benchmarks of the quantization chapters: int8 kernels against float32, NumPy's int8 product, bytes."""

from __future__ import annotations

import numpy as np

from .core import Row, benchmark, median_seconds

__all__: list[str] = []


@benchmark("quantization")
def _bench_quantization(quick: bool) -> list[Row]:
    """Each int8 kernel vs float32 on one Linear layer; NumPy's int8 product vs BLAS; bytes.

    The kernel the course uses is the one :func:`~course_lib.quantization.nn.kernels.choose_int8_kernel`
    picks (marked "chosen"); run under ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
    FBGEMM_ENABLE_INSTRUCTIONS=AVX2`` to measure what an AVX2-only laptop gets.
    """
    from .. import quantization
    from ..checkpoints import load_pretrained
    from ..formats import storage_bytes
    from ..quantization.nn import int8_linear_latency

    n = 1024 if quick else 4096
    repeats = 5 if quick else 30
    rows = []
    for batch in (1, 32):
        r = int8_linear_latency(n, n, batch=batch, repeats=repeats, rng=0)
        where = f"{n}x{n} layer, batch {batch}, {r['capability']}"
        for kernel, ms in r["kernels_ms"].items():
            mark = " (chosen)" if kernel == r["kernel"] else ""
            rows.append(Row("quantization", where, f"int8 {kernel}{mark}", ms, "float32", r["float32_ms"], "ms"))
        rows.append(Row("quantization", where, "torch._int_mm alone", r["int8_matmul_ms"], "float32",
                        r["float32_ms"], "ms"))
    # the from-scratch reference: NumPy has no int8 BLAS, so exact int32 sums are slow (honestly)
    gen = np.random.default_rng(0)
    m = 512 if quick else 1024
    w = gen.standard_normal((m, m)).astype(np.float32)
    x = gen.standard_normal((m, 32)).astype(np.float32)
    w_q = gen.integers(-128, 128, size=(m, m), dtype=np.int8)
    x_q = gen.integers(-128, 128, size=(m, 32), dtype=np.int8)
    rows.append(Row("quantization", f"{m}x{m} @ {m}x32 in NumPy", "int8 (int32 sums)",
                    1e3 * median_seconds(lambda: quantization.int8_matmul(w_q, x_q), repeats),
                    "float32 BLAS", 1e3 * median_seconds(lambda: w @ x, repeats), "ms"))
    for name in ("lenet300", "cifar_vgg"):
        model = load_pretrained(name)
        f32 = storage_bytes(model, "float32")
        for fmt in ("int8", "int8_per_channel", "float16"):
            rows.append(Row("quantization", f"{name} parameters", fmt, storage_bytes(model, fmt), "float32", f32,
                            "bytes"))
    return rows
