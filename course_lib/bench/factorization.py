"""Benchmarks of the factorization chapters: SVD methods and factorized layers, flattened convolutions, TT.

The comparisons themselves are the chapters' own (:mod:`course_lib.factorization.svd_references`,
:mod:`~course_lib.factorization.tt_references`, :mod:`~course_lib.factorization.flattened_timing`, which
the notebooks draw); these functions turn them into rows.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_bool
from ..factorization.flattened_timing import CHANNELS, FILTER_SIZES, conv_timing
from ..factorization.svd_references import randomized_vs_references, trained_like_matrix
from ..factorization.tt_references import smooth_tensor, tt_svd_vs_tensorly, vgg_layer_timing
from ..factorization.ttmatrix import random_tt_matrix, tt_matmul, tt_matmul_einsum
from .core import Row, benchmark

__all__: list[str] = []


@benchmark("svd")
def bench_svd(quick: bool) -> list:
    """The benchmark: randomized vs exact vs the references, and dense vs factorized Linear latency.

    ``quick``: the wide MLP's trained fc1 (1024 x 784, k = 50, p = 10, q = 0, 1, 2) and its fc2
    as a layer; otherwise also 4096 x 4096 (k = 250) and 25088 x 4096 (k = 250) matrices with
    the trained fc2's spectrum stretched to their size (no layer that wide is trained here).
    """
    quick = check_bool("quick", quick)  # before any import: nothing runs on a bad call
    from ..checkpoints import load_pretrained
    from ..factorization.nn.svd import factorize_linear, linear_latency
    model = load_pretrained("wide_mlp")
    rows = []

    def add(case, table):
        for q in sorted({r["q"] for r in table if r["q"] is not None}):
            by = {r["method"]: r for r in table if r["q"] == q}
            label = f"{case}, q={q}"
            for ref in ("sklearn", "torch"):
                rows.append(Row("svd", f"{label}: error / optimal", "ours", by["ours"]["error_ratio"], ref,
                                by[ref]["error_ratio"], "x"))
                rows.append(Row("svd", f"{label}: time", "ours", by["ours"]["ms"], ref, by[ref]["ms"], "ms"))
            rows.append(Row("svd", f"{label}: time", "ours", by["ours"]["ms"], "exact np.linalg.svd",
                            table[0]["ms"], "ms"))

    fc1 = model.fc1.weight.detach().numpy()
    add("wide_mlp fc1 1024x784, k=50, p=10", randomized_vs_references(fc1, 50, repeats=3 if quick else 10))
    if not quick:
        spectrum = np.linalg.svd(model.fc2.weight.detach().numpy().astype(np.float64), compute_uv=False)
        for shape in ((4096, 4096), (25088, 4096)):
            a = trained_like_matrix(spectrum, shape)
            add(f"{shape[0]}x{shape[1]} (trained fc2 spectrum, stretched), k=250, p=10",
                randomized_vs_references(a, 250, power_iterations=(1, 2), repeats=1))
    layer = model.fc2
    small = factorize_linear(layer, 100)
    for batch in (1, 100):
        rows.append(Row("svd", f"wide_mlp fc2 1024x1024 -> rank 100, batch {batch}, 1 thread", "factorized",
                        linear_latency(small, batch=batch, repeats=20 if quick else 200), "dense",
                        linear_latency(layer, batch=batch, repeats=20 if quick else 200), "ms"))
    return rows


@benchmark("flattened")
def bench_flattened(quick: bool) -> list:
    """The rows of ``python -m course_lib.bench flattened``.

    One 3x3 layer, 128 -> 128 channels, 16x16, batch 32, then the filter-size sweep
    (64 channels, 16x16, batch 8) and the channel sweep (3x3, 16x16, batch 8), each forward and
    forward+backward. Each row is dense vs flattened time; the case names the multiply-add ratio.

    Parameters
    ----------
    quick : bool
        A smoke run: small layers, few repeats.

    Returns
    -------
    list of course_lib.bench.Row
    """
    quick = check_bool("quick", quick)  # before any import: nothing runs on a bad call
    from ..timing import cpu_capability
    repeats = 3 if quick else 15
    cases = [(32, 3, 8, 2)] if quick else [(128, 3, 16, 32)]
    cases += [(16 if quick else 64, k, 16, 2 if quick else 8) for k in (FILTER_SIZES[:2] if quick else FILTER_SIZES)]
    cases += [(c, 3, 16, 2 if quick else 8) for c in (CHANNELS[:2] if quick else CHANNELS)]
    rows = []
    for channels, kernel, size, batch in cases:
        for backward in (False, True):
            t = conv_timing(channels, kernel, size, batch, backward=backward, repeats=repeats)
            case = (f"{kernel}x{kernel} {channels}->{channels}, {size}x{size}, batch {batch}, "
                    f"{'fwd+bwd' if backward else 'forward'}, MACs {t['mac_ratio']:.1f}x fewer, {cpu_capability()}")
            rows.append(Row("flattened", case, "dense", t["dense_ms"], "flattened", t["flat_ms"], "ms"))
    return rows


@benchmark("tt")
def bench_tt(quick: bool) -> list:
    """The rows of ``python -m course_lib.bench tt``.

    Parameters
    ----------
    quick : bool
        A smoke run: few repeats, small tensors.

    Returns
    -------
    list of course_lib.bench.Row
    """
    quick = check_bool("quick", quick)  # before any import: nothing runs on a bad call
    from ..checkpoints import load_pretrained
    from ..timing import cpu_capability, latency
    cpu = cpu_capability()
    rows = []
    fc2 = load_pretrained("wide_mlp").fc2.weight.detach().double().numpy()  # 1024 x 1024 -> (16, 64, 64, 16)
    tensors = [("wide_mlp fc2 as a (16, 64, 64, 16) tensor, rank 16", fc2.reshape(16, 64, 64, 16), 16),
               ("1/(1+sum x) on 8^6, rank 4", smooth_tensor(6 if quick else 8, 6), 4)]
    for label, tensor, rank in tensors:
        res = tt_svd_vs_tensorly(tensor, rank, repeats=2 if quick else 10)
        rows.append(Row("tt", f"TT-SVD time, {label}, {cpu}", "ours", res["ours_ms"], "TensorLy", res["tensorly_ms"],
                        "ms"))
        rows.append(Row("tt", f"TT-SVD relative error, {label}, difference "
                        f"{abs(res['ours_error'] - res['tensorly_error']):.1e}", "ours", res["ours_error"],
                        "TensorLy", res["tensorly_error"], " (relative error)"))
    for batch in (1, 100):
        t = vgg_layer_timing(batch, 4, repeats=2 if quick else 10, warmup=1)
        rows.append(Row("tt", f"25088x4096 layer, batch {batch}, TT-rank 4, 1 thread, {cpu}", "dense", t["dense_ms"],
                        "TT layer", t["tt_ms"], "ms"))
    modes = ((4, 7, 7, 4), (4, 8, 8, 4))
    cores = random_tt_matrix(*modes, 4, std=0.05, rng=0, dtype=np.float32).cores
    for batch in ((1,) if quick else (1, 100)):
        x = np.random.default_rng(0).standard_normal((batch, 784)).astype(np.float32)
        naive = latency(lambda x=x: tt_matmul_einsum(cores, x), repeats=1 if quick else 3, warmup=0).median_ms
        ours = latency(lambda x=x: tt_matmul(cores, x), repeats=5 if quick else 50, warmup=1).median_ms
        rows.append(Row("tt", f"784->1024 TT layer (4x7x7x4 -> 4x8x8x4, rank 4), batch {batch}, {cpu}",
                        "np.einsum path", naive, "core by core", ours, "ms"))
    return rows
