"""The explorers' update time against the 150 ms budget for an 'instant' update (median)."""

from __future__ import annotations

import time

import numpy as np

from .core import Row, benchmark

__all__ = ["WIDGET_BUDGET_MS", "SVD_CALLS", "FLATTENED_CALLS", "CHANNEL_CALLS", "TT_CALLS", "SUMMARY_CALLS",
           "SHARING_CALLS", "TRANSFORMER_CALLS"]

WIDGET_BUDGET_MS = 150.0

#: the SVD explorer's slider positions timed on wide_mlp: (rank of fc1, rank of fc2, method)
SVD_CALLS = ((50, 50, "exact"), (100, 20, "randomized q=1"), (30, 200, "exact"), (10, 10, "randomized q=2"),
             (784, 1024, "exact"), (60, 60, "randomized q=0"))
#: the flattened explorer's ranks timed: one slider moved at a time, the first one first (every layer
#: recomputed), then further down the network
FLATTENED_CALLS = ((1, 1, 1, 1), (2, 1, 1, 1), (2, 3, 1, 1), (2, 3, 2, 1), (2, 3, 2, 4))
#: the channel-pruning explorer's (fraction kept per convolution, score) timed: from the widget's first setting,
#: one slider moved at a time, the first one first (every block recomputed), then further down, then the score
CHANNEL_CALLS = (((0.5, 0.5, 0.5, 0.5, 0.5), "l1"), ((0.75, 0.5, 0.5, 0.5, 0.5), "l1"),
                 ((0.75, 0.3, 0.5, 0.5, 0.5), "l1"), ((0.75, 0.3, 0.6, 0.5, 0.5), "l1"),
                 ((0.75, 0.3, 0.6, 0.4, 0.5), "l1"), ((0.75, 0.3, 0.6, 0.4, 0.25), "l1"),
                 ((0.75, 0.3, 0.6, 0.4, 0.25), "bn"))
#: the TT explorer's (TT-rank, d) settings timed
TT_CALLS = ((4, 4), (8, 4), (2, 6), (16, 2), (1, 4), (16, 6), (4, 2))
#: the summary explorer's (model, cost, budget) timed
SUMMARY_CALLS = (("lenet300", "bytes", 0.1), ("lenet300", "ms_100", 0.5), ("lenet300", "bytes", 0.03),
                 ("lenet300", "ms_1", 1.0), ("lenet300", "bytes", 1.0))

#: the sharing explorer's (bits of fc1, fc2, fc3; kept fraction) timed: from the widget's first setting, one slider
#: moved at a time (each move clusters one layer anew, or all three for the kept fraction)
SHARING_CALLS = (((5, 5, 5), 0.1), ((4, 5, 5), 0.1), ((4, 6, 5), 0.1), ((4, 6, 3), 0.1), ((4, 6, 3), 0.08),
                 ((3, 6, 3), 0.08), ((3, 6, 3), 0.12))

#: the transformer explorer's (bits per block, group size, method, heads kept, LoRA rank) timed: from the widget's
#: first setting, one control moved at a time (a block's bits recompute the blocks from it on; the others, every block)
TRANSFORMER_CALLS = (((4, 4, 4, 4), 32, "rtn", 16, 0), ((4, 4, 4, 3), 32, "rtn", 16, 0),
                     ((4, 4, 3, 3), 32, "rtn", 16, 0), ((4, 4, 3, 3), 32, "gptq", 16, 0),
                     ((4, 4, 3, 3), 64, "gptq", 16, 0), ((4, 4, 3, 3), 64, "gptq", 12, 0),
                     ((4, 4, 3, 3), 64, "gptq", 12, 4), ((2, 4, 3, 3), 64, "gptq", 12, 4))


def _transformer_case() -> tuple:
    """``(label, explorer, calls)``: notebook 11's transformer explorer on the trained ViT and its fixed test subset
    (its build quantizes every layer both ways and trains the adapters: not timed here)."""
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..widgets import TransformerExplorer

    test = load_mnist("test", limit=TransformerExplorer.TEST_IMAGES)
    explorer = TransformerExplorer(load_pretrained("vit_mnist"), test, load_mnist("train", limit=2000))
    return ("11 transformer, bits per block, group, method, heads, LoRA", explorer,
            [dict(bits=list(b), group_size=g, method=m, heads=h, rank=r) for b, g, m, h, r in TRANSFORMER_CALLS])


def _sharing_case() -> tuple:
    """``(label, explorer, calls)``: notebook 10's weight-sharing explorer on the trained LeNet-300-100 and its fixed
    test subset."""
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..widgets import SharingExplorer

    explorer = SharingExplorer(load_pretrained("lenet300"), load_mnist("test", limit=SharingExplorer.TEST_IMAGES))
    return ("10 weight sharing, bits per layer and kept fraction", explorer,
            [dict(bits=dict(zip(("fc1", "fc2", "fc3"), b)), kept=k) for b, k in SHARING_CALLS])


def _flattened_case() -> tuple:
    """``(label, explorer, calls)``: notebook 07's explorer on the trained CNN and its fixed test subset."""
    from ..checkpoints import load_pretrained
    from ..data import load_cifar10
    from ..factorization.nn.flattened_train import FLATTENED_LAYERS
    from ..widgets import FlattenedExplorer

    test = load_cifar10("test", limit=FlattenedExplorer.TEST_IMAGES)
    explorer = FlattenedExplorer(load_pretrained("cifar_vgg"), test, FLATTENED_LAYERS)
    return "07 flattened, rank per layer", explorer, [dict(ranks=list(r)) for r in FLATTENED_CALLS]


def _channel_case() -> tuple:
    """``(label, explorer, calls)``: notebook 02's channel-pruning explorer on the trained CNN and its fixed test
    subset."""
    from ..checkpoints import load_pretrained
    from ..data import load_cifar10
    from ..widgets import ChannelPruningExplorer

    explorer = ChannelPruningExplorer(load_pretrained("cifar_vgg"),
                                      load_cifar10("test", limit=ChannelPruningExplorer.TEST_IMAGES))
    return ("02 channel pruning, fraction per convolution", explorer,
            [dict(keep=dict(zip(explorer.layers, k)), method=m) for k, m in CHANNEL_CALLS])


def _tt_case() -> tuple:
    """``(label, explorer, calls)``: notebook 08's explorer on the trained wide MLP and its fixed test subset."""
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..widgets import TTExplorer

    explorer = TTExplorer(load_pretrained("wide_mlp"), load_mnist("test", limit=TTExplorer.TEST_IMAGES))
    return "08 tensor train, rank and modes", explorer, [dict(rank=r, d=d) for r, d in TT_CALLS]


def _summary_case() -> tuple:
    """``(label, explorer, calls)``: LeNet-300-100's configurations, briefly tuned (20 fine-tuning steps, 1,000 test
    images): an explorer over a real measured table."""
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..summary.nn import lenet300_configs, measure_configs
    from ..widgets import SummaryExplorer

    configs = lenet300_configs(load_pretrained("lenet300"), load_mnist("train", limit=5000), steps=20)
    rows = measure_configs(configs, load_mnist("test", limit=1000), model_name="lenet300", repeats=5)
    return ("09 summary, budget -> best configuration", SummaryExplorer(rows),
            [dict(model=m, cost=c, budget=b) for m, c, b in SUMMARY_CALLS])


@benchmark("widgets")
def _bench_widgets(quick: bool) -> list[Row]:
    """Update time of each notebook explorer against the 150 ms budget for 'instant' (median)."""
    import matplotlib
    matplotlib.use("Agg")
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..pruning import nn as prune_nn
    from ..widgets import (
        NeuronPruningExplorer,
        PredictionExplorer,
        PTQExplorer,
        QuantizationExplorer,
        ScheduleExplorer,
        SVDExplorer,
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
        _channel_case(),
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
         [dict(ranks={"fc1": a, "fc2": b}, method=m) for a, b, m in SVD_CALLS]),
        _flattened_case(), _tt_case(), _summary_case(), _sharing_case(), _transformer_case(),
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
