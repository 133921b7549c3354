"""The course's benchmarks: ``python -m course_lib.bench [--quick] [NAME ...]``.

Every benchmark measures two things side by side in the same run and reports
their **ratio** -- ours vs a reference library, compressed vs dense, batched vs
single -- because an absolute time on one machine is not a verdict. Later
lessons add benchmarks with the :func:`benchmark` decorator.

Not part of the timed test suite (a smoke run of ``--quick`` is).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["Row", "BENCHMARKS", "WIDGET_BUDGET_MS", "benchmark", "run", "format_rows", "main"]


class Row(NamedTuple):
    """One comparison: ``ratio = a / b`` with what a and b are.

    Parameters
    ----------
    benchmark : str
        The benchmark's name (a key of :data:`BENCHMARKS`).
    case : str
        What was measured, e.g. ``"1024x1024, batch 1, 90% zeros"``.
    a_label, b_label : str
        What ``a`` and ``b`` are (``"CSR"``, ``"dense"``).
    a, b : float
        The two measurements, in ``unit``.
    unit : str
        ``"ms"``, ``"s"`` or ``"bytes"``.
    """

    benchmark: str
    case: str
    a_label: str
    a: float
    b_label: str
    b: float
    unit: str

    @property
    def ratio(self) -> float:
        """``a / b`` (infinite when ``b`` is 0)."""
        return self.a / self.b if self.b else float("inf")


BENCHMARKS: dict[str, Callable[[bool], list[Row]]] = {}


def benchmark(name: str):
    """Register ``fn(quick: bool) -> list[Row]`` under ``name`` (a decorator).

    ``quick`` asks for few repeats and small sizes (a smoke run); the rows are the comparisons.

    Parameters
    ----------
    name : str
        The benchmark's name on the command line and in :data:`BENCHMARKS`.

    Returns
    -------
    callable
        The decorator; it returns ``fn`` unchanged.
    """
    def register(fn):
        BENCHMARKS[name] = fn
        return fn
    return register


def _seconds(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@benchmark("data")
def _bench_data(quick: bool) -> list[Row]:
    """Our MNIST IDX reader vs torchvision's on the same files (load the training set)."""
    from torchvision.datasets import MNIST

    from .data import data_dir, load_mnist

    root = data_dir()
    ours = _seconds(lambda: load_mnist("train", download=False), 1 if quick else 3)
    ref = _seconds(lambda: MNIST(str(root), train=True, download=False), 1 if quick else 3)
    return [Row("data", "MNIST train, 60000 images", "course_lib", ours * 1e3,
                "torchvision", ref * 1e3, "ms")]


@benchmark("latency")
def _bench_latency(quick: bool) -> list[Row]:
    """Our latency helper vs torch.utils.benchmark on the same call (ratio ~1 = trustworthy)."""
    from torch.utils.benchmark import Timer

    from .measure import latency
    from .models import build_model

    model = build_model("lenet5").eval()
    x = torch.rand(100, 1, 28, 28)
    ours = latency(lambda: model(x), repeats=5 if quick else 30, threads=1).median_ms
    with torch.inference_mode():
        timer = Timer("model(x)", globals={"model": model, "x": x}, num_threads=1)
        ref = timer.blocked_autorange(min_run_time=0.2 if quick else 1.0).median * 1e3
    return [Row("latency", "LeNet-5, 100 images, 1 thread", "cl.latency", ours,
                "torch.utils.benchmark", ref, "ms")]


@benchmark("models")
def _bench_models(quick: bool) -> list[Row]:
    """Per-image CPU time at batch 100 vs batch 1, and file size vs raw float32 bytes."""
    from .checkpoints import load_manifest, load_pretrained
    from .formats import storage_bytes
    from .measure import latency
    from .models import MODELS

    rows = []
    trained = load_manifest()
    for name in MODELS:
        if name not in trained:
            continue
        model = load_pretrained(name)
        shape = (3, 32, 32) if model.dataset == "cifar10" else (1, 28, 28)
        one, hundred = torch.rand(1, *shape), torch.rand(100, *shape)
        reps = 5 if quick else 30
        t1 = latency(lambda m=model, x=one: m(x), repeats=reps).median_ms
        t100 = latency(lambda m=model, x=hundred: m(x), repeats=reps).median_ms
        rows.append(Row("models", f"{name}: per-image time", "batch 100", t100 / 100, "batch 1", t1, "ms"))
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        rows.append(Row("models", f"{name}: size", "torch.save file", buf.tell(),
                        "float32 parameters", storage_bytes(model), "bytes"))
    return rows


@benchmark("pruning")
def _bench_pruning(quick: bool) -> list[Row]:
    """Sparse (SciPy CSR) vs dense (BLAS) product of the same pruned 1024x1024 layer, and stored bytes."""
    from .pruning import csr_bytes, dense_vs_sparse_times, magnitude_prune

    sparsities = (0.5, 0.9, 0.95, 0.99) if quick else (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99)
    rows = []
    for batch in (1, 100):
        for r in dense_vs_sparse_times((1024, 1024), sparsities, batch=batch, repeats=5 if quick else 30, rng=0):
            rows.append(Row("pruning", f"1024x1024, batch {batch}, {100 * r['sparsity']:.0f}% zeros", "CSR",
                            r["sparse_ms"], "dense", r["dense_ms"], "ms"))
    w = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    for s in (0.5, 0.9):
        pruned, _ = magnitude_prune(w, s)
        rows.append(Row("pruning", f"1024x1024 storage, {100 * s:.0f}% zeros", "CSR", csr_bytes(pruned),
                        "dense", 4 * pruned.size, "bytes"))
    return rows


@benchmark("quantization")
def _bench_quantization(quick: bool) -> list[Row]:
    """Each int8 kernel vs float32 on one Linear layer; NumPy's int8 product vs BLAS; bytes.

    The kernel the course uses is the one :func:`~course_lib.quantization.nn.kernels.choose_int8_kernel`
    picks (marked "chosen"); run under ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
    FBGEMM_ENABLE_INSTRUCTIONS=AVX2`` to measure what an AVX2-only laptop gets.
    """
    from . import quantization
    from .checkpoints import load_pretrained
    from .formats import storage_bytes
    from .quantization.nn import int8_linear_latency

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
                    1e3 * _seconds(lambda: quantization.int8_matmul(w_q, x_q), repeats),
                    "float32 BLAS", 1e3 * _seconds(lambda: w @ x, repeats), "ms"))
    for name in ("lenet300", "cifar_vgg"):
        model = load_pretrained(name)
        f32 = storage_bytes(model, "float32")
        for fmt in ("int8", "int8_per_channel", "float16"):
            rows.append(Row("quantization", f"{name} parameters", fmt, storage_bytes(model, fmt), "float32", f32,
                            "bytes"))
    return rows


WIDGET_BUDGET_MS = 150.0


@benchmark("widgets")
def _bench_widgets(quick: bool) -> list[Row]:
    """Update time of each notebook explorer against the 150 ms budget for 'instant' (median)."""
    import matplotlib
    matplotlib.use("Agg")
    from .checkpoints import load_pretrained
    from .data import load_mnist
    from .pruning import nn as prune_nn
    from .widgets import (
        FlattenedExplorer,
        NeuronPruningExplorer,
        PredictionExplorer,
        PTQExplorer,
        QuantizationExplorer,
        ScheduleExplorer,
        SummaryExplorer,
        SVDExplorer,
        TTExplorer,
        WeightPruningExplorer,
    )
    from .widgets.layout import figure_png

    lenet = load_pretrained("lenet300")
    test = load_mnist("test", limit=2000)
    acts = prune_nn.collect_activations(lenet, load_mnist("train", limit=5000).images, ("fc1", "fc2"))
    cases = [
        ("00 prediction explorer", PredictionExplorer({"lenet300": (lenet, test)}),
         [dict(name="lenet300", index=i) for i in range(1, 6)]),
        ("01 weight pruning, C slider", WeightPruningExplorer(lenet, test),
         [dict(C=c) for c in (0.02, 0.04, 0.06, 0.08, 0.1)]),
        ("01 weight pruning, sparsity slider", WeightPruningExplorer(lenet, test),
         [dict(sparsity=s) for s in (0.5, 0.7, 0.9, 0.95, 0.99)]),
        ("02 neuron pruning", NeuronPruningExplorer(lenet, acts, test),
         [dict(max_fire_rate=r, merge=m) for r, m in ((0.01, False), (0.02, True), (0.05, False), (0.1, True),
                                                        (0.0, False))]),
        ("03 schedules, 3 to 10 rounds", ScheduleExplorer(lenet, load_mnist("test", limit=1000)),  # as in 03
         [dict(final_sparsity=s, rounds=r, schedule=k) for s, r, k in ((0.9, 5, "rounds"), (0.95, 10, "cubic"),
                                                                     (0.8, 3, "rounds"), (0.99, 8, "cubic"),
                                                                     (0.9, 10, "rounds"))]),
        ("04 quantization, bits and range", QuantizationExplorer(lenet, test),
         [dict(bits=b, range_fraction=r) for b, r in ((8, 1.0), (4, 0.5), (3, 0.8), (2, 0.3), (6, 1.0))]),
        ("05 whole-model PTQ", PTQExplorer(lenet, load_mnist("train", limit=500).images, test),
         [dict(bits=b, per_channel=c, method=m) for b, c, m in ((8, True, "percentile"), (4, False, "minmax"),
                                                               (3, True, "maxabs"), (2, True, "percentile"),
                                                               (6, False, "percentile"))]),
        ("06 SVD, rank per layer and q", SVDExplorer(load_pretrained("wide_mlp"), load_mnist("test", limit=1000)),
         [dict(ranks={"fc1": a, "fc2": b}, method=m) for a, b, m in SVDExplorer.BENCH_CALLS]),
        FlattenedExplorer.bench_case(), TTExplorer.bench_case(), SummaryExplorer.bench_case(),
    ]
    rows = []
    for label, explorer, calls in cases:
        explorer.update(**calls[0])  # first draw creates the figure
        times = []
        for kwargs in calls[: 2 if quick else None]:
            start = time.perf_counter()
            explorer.update(**kwargs)
            figure_png(explorer.fig)  # the PNG the notebook's explorer shows (widgets.layout)
            times.append((time.perf_counter() - start) * 1e3)
        rows.append(Row("widgets", label, "update + PNG", float(np.median(times)), "budget", WIDGET_BUDGET_MS, "ms"))
    return rows


def _plugin(name: str, module: str, function: str) -> None:
    """Register a benchmark that lives in a technique's package (imported when it runs)."""
    def run_plugin(quick: bool) -> list[Row]:
        import importlib

        return getattr(importlib.import_module(module), function)(quick)
    BENCHMARKS[name] = run_plugin


_plugin("grading", "course_lib.grading.bench_grading", "bench_grading")
_plugin("grading-dask", "course_lib.grading.bench_grading", "bench_grading_dask")
for _name in ("svd", "flattened", "tt"):  # course_lib/factorization/{name}_bench.py: bench_{name}(quick)
    _plugin(_name, f"course_lib.factorization.{_name}_bench", f"bench_{_name}")


def run(names=None, *, quick: bool = False) -> list[Row]:
    """Run the named benchmarks (all when None) and return their rows.

    Parameters
    ----------
    names : sequence of str or None
        Keys of :data:`BENCHMARKS`, run in this order; all of them when None or empty.
    quick : bool, keyword-only
        Few repeats: a smoke run.

    Returns
    -------
    list of Row
        The rows of every benchmark run, in order.

    Raises
    ------
    ValueError
        If a name is not a benchmark.
    """
    names = list(BENCHMARKS) if not names else list(names)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise ValueError(f"names contains {unknown}, must be among {sorted(BENCHMARKS)}.")
    rows = []
    for name in names:
        rows.extend(BENCHMARKS[name](quick))
    return rows


def format_rows(rows: list[Row]) -> str:
    """The rows as an aligned text table: benchmark, case, A, B and the ratio A/B.

    Parameters
    ----------
    rows : list of Row
        As returned by :func:`run`.

    Returns
    -------
    str
        A header line and one line per row.
    """
    def value(label, x, unit):
        return f"{label} {x:.4g}{unit if unit != 'bytes' else 'B'}"

    table = [("benchmark", "case", "A", "B", "A/B")]
    table += [(r.benchmark, r.case, value(r.a_label, r.a, r.unit), value(r.b_label, r.b, r.unit), f"{r.ratio:.3f}")
              for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row[:4], widths)), row[4].rjust(widths[4])])
                     for row in table)


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.bench [--quick] [NAME ...]``; prints the table.

    Parameters
    ----------
    argv : list of str or None
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m course_lib.bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run")
    args = parser.parse_args(argv)
    print(format_rows(run(args.names, quick=args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
