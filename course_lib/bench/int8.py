"""Benchmark of the int8 runtime: real integer inference against float32 on the course's two models."""

from __future__ import annotations

from .core import Row, benchmark

__all__: list[str] = []


@benchmark("int8")
def _bench_int8(quick: bool) -> list[Row]:
    """The static int8 model (PyTorch's quantized engine) vs float32 with batch norm folded, 1 thread.

    LeNet-300-100 and the CIFAR-10 CNN at 1 and 100 images; the case names the CPU capability and the
    engine. Run under ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2``
    to measure what an AVX2-only laptop gets.
    """
    from ..checkpoints import load_pretrained
    from ..data import load_cifar10, load_mnist
    from ..quantization.nn.int8_measure import int8_latency
    from ..quantization.nn.int8_runtime import build_int8_model

    repeats = 5 if quick else 30
    rows = []
    for name, load in (("lenet300", load_mnist), ("cifar_vgg", load_cifar10)):
        model = load_pretrained(name)
        int8_model = build_int8_model(model, load("train", limit=500).images)
        r = int8_latency(model, int8_model, load("test", limit=100).images, repeats=repeats)
        for row in r["rows"]:
            case = f"{name}, {row['batch']} image(s), {r['capability']}, engine {r['engine']}, 1 thread"
            rows.append(Row("int8", case, "int8", row["int8_ms"], "float32", row["float32_ms"], "ms"))
    return rows
