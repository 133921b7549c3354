"""The explorers' update time against the 150 ms budget for an 'instant' update (median)."""

from __future__ import annotations

import time

import numpy as np

from .core import Row, benchmark

__all__ = ["WIDGET_BUDGET_MS"]

WIDGET_BUDGET_MS = 150.0


@benchmark("widgets")
def _bench_widgets(quick: bool) -> list[Row]:
    """Update time of each notebook explorer against the 150 ms budget for 'instant' (median)."""
    import matplotlib
    matplotlib.use("Agg")
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..pruning import nn as prune_nn
    from ..widgets import (
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
    from ..widgets.layout import figure_png

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
