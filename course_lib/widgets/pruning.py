"""Pruning explorers: weights below C (notebook 01) and rarely firing neurons (notebook 02)."""

from __future__ import annotations

import numpy as np

from ..models import to_tensor
from .layout import TestSet, explorer_box

__all__ = ["NeuronPruningExplorer", "WeightPruningExplorer"]


class NeuronPruningExplorer:
    """Remove LeNet-300-100's rarely firing neurons (and merge near-duplicates) with a slider.

    Statistics and duplicate pairs are computed once, on the data given; an
    update only chooses neurons, builds the physically smaller model, and
    measures its accuracy, parameters and latency.

    Parameters
    ----------
    model : LeNet300100
        The trained model.
    acts : dict layer -> (N, units) activations (from ``course_lib.pruning.nn.collect_activations``).
    test : Dataset
        Where accuracy is measured (a few thousand images keep updates fast).
    dup_tol : float
        Relative distance under which two neurons count as duplicates.
    """

    layers = ("fc1", "fc2")

    def __init__(self, model, acts: dict, test, *, dup_tol: float = 0.45):
        from ..pruning import neurons

        self.model = model.eval()
        self.test = test
        self.stats = {k: neurons.activation_stats(acts[k]) for k in self.layers}
        self.duplicates = {k: neurons.find_duplicates(acts[k], tol=dup_tol) for k in self.layers}
        self.x100 = to_tensor(test.images[:100])
        self._test = TestSet(test)
        self.fig = None

    def plan(self, max_fire_rate: float, merge: bool) -> tuple[dict, dict]:
        """Neurons to drop (fire rate <= max_fire_rate) and pairs to merge, without conflicts."""
        from ..pruning import neurons

        drop = {k: neurons.rarely_active(self.stats[k], max_fire_rate=max_fire_rate) for k in self.layers}
        pairs = {}
        for k in self.layers:
            gone = set(drop[k].tolist())
            pairs[k] = [(a, b) for a, b in self.duplicates[k] if a not in gone and b not in gone] if merge else []
        return drop, pairs

    def compute(self, max_fire_rate: float, merge: bool = False) -> dict:
        """Build the smaller model and measure it."""
        from ..measure import count_parameters, latency
        from ..pruning.nn import shrink_mlp

        drop, pairs = self.plan(max_fire_rate, merge)
        small = shrink_mlp(self.model, drop=drop, merge=pairs)
        return {
            "max_fire_rate": max_fire_rate,
            "hidden": (small.fc1.out_features, small.fc2.out_features),
            "removed": {k: len(drop[k]) + len(pairs[k]) for k in self.layers},
            "parameters": count_parameters(small),
            "accuracy": self._test.accuracy(small),
            "latency_ms": latency(lambda: small(self.x100), warmup=1, repeats=5).median_ms,
            "model": small,
        }

    def update(self, max_fire_rate: float, merge: bool = False) -> dict:
        """Compute and redraw: the cut moves on the (fixed) fire-rate histograms."""
        import matplotlib.pyplot as plt

        result = self.compute(max_fire_rate, merge)
        if self.fig is None:
            with plt.ioff():
                self.fig = plt.figure(figsize=(8, 2.8))
            axes = self.fig.subplots(1, 2)
            self._cuts = []
            for ax, k in zip(axes, self.layers):
                ax.hist(self.stats[k]["fire_rate"], bins=40, color="#9bb7d4")
                ax.set_xlabel("fire rate (fraction of images with a large output)")
                self._cuts.append(ax.axvline(0, color="#d62728", lw=2))
            axes[0].set_ylabel("neurons")
            self.fig.tight_layout()
        for ax, cut, k in zip(self.fig.axes, self._cuts, self.layers):
            cut.set_xdata([max_fire_rate, max_fire_rate])
            ax.set_title(f"{k}: {result['removed'][k]} of {len(self.stats[k]['fire_rate'])} neurons removed",
                         fontsize=9)
        return result

    def widget(self, *, max_fire_rate: float = 0.02):
        import ipywidgets as w

        slider = w.FloatSlider(value=max_fire_rate, min=0.0, max=0.2, step=0.005, readout_format=".3f",
                               description="max fire rate", continuous_update=False)
        merge = w.Checkbox(value=False, description="merge near-duplicates")
        base = self.compute(0.0, False)

        def describe():
            r = self.update(slider.value, merge.value)
            return (f"hidden layers {r['hidden'][0]}-{r['hidden'][1]} (was 300-100) · parameters "
                    f"{r['parameters']:,} ({r['parameters'] / base['parameters']:.0%}) · accuracy "
                    f"{100 * r['accuracy']:.2f}% (was {100 * base['accuracy']:.2f}%) · 100 images "
                    f"{r['latency_ms']:.2f} ms (was {base['latency_ms']:.2f} ms)")

        return explorer_box([w.HBox([slider, merge])], [slider, merge], describe, self)


class WeightPruningExplorer:
    """Zero LeNet-300-100's small weights with a threshold C, or to a target sparsity.

    Each update builds the masks (|w| >= C kept, or the global magnitude ranking for a
    sparsity), zeroes the weights of a copy of the model, and measures per-layer
    sparsity, test accuracy and the bytes of the weights stored dense, as CSR and as
    a bitmask.
    """

    def __init__(self, model, test):
        from ..pruning.nn import prunable_weights

        self.model = model.eval()
        self.test = test
        self.weights = prunable_weights(model)
        self._test = TestSet(test)
        self.fig = None

    def compute(self, *, C: float | None = None, sparsity: float | None = None) -> dict:
        """Masks by threshold ``C`` or by global ``sparsity`` (exactly one), and their cost."""
        from .. import pruning
        from ..pruning.nn import apply_masks, masks_for

        if (C is None) == (sparsity is None):
            raise ValueError("give exactly one of C and sparsity.")
        if C is not None:
            masks = {name: pruning.threshold_mask(w, C) for name, w in self.weights.items()}
        else:
            masks = masks_for(self.model, sparsity, scope="global")
        pruned = {name: np.where(masks[name], w, 0.0).astype(np.float32) for name, w in self.weights.items()}
        small = apply_masks(self.model, masks)
        kept = sum(int(m.sum()) for m in masks.values())
        total = sum(m.size for m in masks.values())
        return {
            "layer_sparsity": {name: pruning.sparsity(m) for name, m in masks.items()},
            "sparsity": 1 - kept / total,
            "accuracy": self._test.accuracy(small),
            "dense_bytes": sum(4 * w.size for w in pruned.values()),
            "csr_bytes": sum(pruning.csr_bytes(w) for w in pruned.values()),
            "bitmask_bytes": sum(pruning.bitmask_bytes(w) for w in pruned.values()),
            "C": C,
        }

    def update(self, *, C: float | None = None, sparsity: float | None = None) -> dict:
        """Compute and redraw: the threshold lines move, the per-layer bars change height."""
        import matplotlib.pyplot as plt

        result = self.compute(C=C, sparsity=sparsity)
        names = list(result["layer_sparsity"])
        if self.fig is None:
            with plt.ioff():
                self.fig = plt.figure(figsize=(8.5, 2.8))
            ax_hist, ax_bar = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
            counts, edges = np.histogram(self.weights["fc1.weight"].ravel(), bins=120, range=(-0.3, 0.3))
            ax_hist.stairs(counts, edges, fill=True, color="#9bb7d4")
            ax_hist.set_yticks([])
            self._lines = [ax_hist.axvline(0, color="#d62728", lw=1.5) for _ in range(2)]
            self._bars = ax_bar.bar(range(len(names)), np.zeros(len(names)), color="#1f77b4")
            ax_bar.set_xticks(range(len(names)), [n.split(".")[0] for n in names])
            ax_bar.set_ylim(0, 100)
            ax_bar.set_ylabel("weights removed, %")
            self._ax_hist, self._ax_bar = ax_hist, ax_bar
            self.fig.tight_layout()
        for line, c in zip(self._lines, (-(C or 0.0), C or 0.0)):
            line.set_xdata([c, c])
            line.set_visible(C is not None)
        self._ax_hist.set_title("fc1 weights (the removed ones lie between the red lines)" if C is not None
                                else "fc1 weights", fontsize=9)
        for bar, n in zip(self._bars, names):
            bar.set_height(100 * result["layer_sparsity"][n])
        self._ax_bar.set_title(f"accuracy {100 * result['accuracy']:.2f}%", fontsize=9)
        return result

    def widget(self, *, C: float = 0.05):
        import ipywidgets as w

        from ..report import format_bytes

        mode = w.ToggleButtons(options=["threshold C", "target sparsity"], value="threshold C")
        c_slider = w.FloatSlider(value=C, min=0.0, max=0.3, step=0.005, readout_format=".3f",
                                 description="C", continuous_update=False)
        s_slider = w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="sparsity",
                                 continuous_update=False)

        def describe():
            if mode.value == "threshold C":
                r = self.update(C=c_slider.value)
            else:
                r = self.update(sparsity=s_slider.value)
            return (f"removed {100 * r['sparsity']:.1f}% of the weights · accuracy "
                    f"{100 * r['accuracy']:.2f}% · stored dense {format_bytes(r['dense_bytes'])}, "
                    f"CSR {format_bytes(r['csr_bytes'])}, bitmask {format_bytes(r['bitmask_bytes'])}")

        return explorer_box([mode, w.HBox([c_slider, s_slider])], [mode, c_slider, s_slider], describe, self)
