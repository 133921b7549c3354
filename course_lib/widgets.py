"""Interactive explorers for the notebooks.

Each explorer separates the **update function** (computes the numbers and
redraws; tested without a browser, and timed) from the ipywidgets controls
that call it. Every update re-evaluates a real model.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import check_choice, check_int
from .models import to_tensor

__all__ = ["PredictionExplorer", "NeuronPruningExplorer", "WeightPruningExplorer"]


class _TestSet:
    """Test images converted to a tensor once, so that an update only runs the model."""

    def __init__(self, dataset):
        self.x = to_tensor(dataset.images)
        self.y = torch.from_numpy(np.asarray(dataset.labels))

    def accuracy(self, model) -> float:
        with torch.inference_mode():
            return float((model.eval()(self.x).argmax(1) == self.y).float().mean())


def _explorer_box(rows: list, controls: list, describe, explorer):
    """The common layout of every explorer: control rows, a status line, the figure.

    ``describe()`` runs the explorer's update for the controls' current values and
    returns the status line (HTML); it runs once now and again whenever a control
    in ``controls`` changes.
    """
    import ipywidgets as w
    from IPython.display import display

    status, out = w.HTML(), w.Output()

    def redraw(*_):
        status.value = describe()
        with out:
            out.clear_output(wait=True)
            display(explorer.fig)

    for control in controls:
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([*rows, status, out])


class PredictionExplorer:
    """Pick a model and a test image; see the image and the model's class probabilities.

    Parameters
    ----------
    models : dict name -> (model, Dataset)
        Trained models with the test split they are evaluated on.
    """

    def __init__(self, models: dict):
        if not models:
            raise ValueError("models is empty, must map at least one name to (model, dataset).")
        self.models = {name: (model.eval(), ds) for name, (model, ds) in models.items()}
        self.names = list(self.models)
        self.fig = None
        self._widget = None

    def compute(self, name: str, index: int) -> dict:
        """The numbers the widget shows: true label, prediction, probabilities (no drawing)."""
        check_choice("name", name, self.names)
        model, ds = self.models[name]
        index = check_int("index", index, minimum=0, maximum=len(ds.labels) - 1)
        with torch.inference_mode():
            logits = model(to_tensor(ds.images[index:index + 1]))[0]
        probs = torch.softmax(logits, 0).numpy()
        return {"name": name, "index": index, "label": int(ds.labels[index]),
                "prediction": int(probs.argmax()), "probabilities": probs}

    def update(self, name: str, index: int) -> dict:
        """Compute and redraw the figure; returns what :meth:`compute` returns.

        The figure and its artists are created once; an update only changes
        the image data, the bar lengths and colours and the titles.
        """
        import matplotlib.pyplot as plt

        result = self.compute(name, index)
        _, ds = self.models[name]
        img = ds.images[result["index"]]
        if self.fig is None:
            with plt.ioff():
                self.fig = plt.figure(figsize=(7.5, 2.8))
            self._ax_img, self._ax_bar = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
            self._ax_img.axis("off")
            self._ax_bar.set_xlim(0, 1)
            self._ax_bar.set_xlabel("probability")
            self._ax_bar.invert_yaxis()
            self._image = None
            self._bars = self._ax_bar.barh(np.arange(10), np.zeros(10), color="#9bb7d4")
            self._shown = None
        if self._image is None or self._image.get_array().shape != img.shape:
            self._ax_img.clear()
            self._ax_img.axis("off")
            self._image = self._ax_img.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
        else:
            self._image.set_data(img)
        if self._shown != name:
            self._ax_bar.set_yticks(np.arange(10), [str(c) for c in ds.classes], fontsize=8)
            self._shown = name
        probs, label, top = result["probabilities"], result["label"], result["prediction"]
        for k, bar in enumerate(self._bars):
            bar.set_width(float(probs[k]))
            bar.set_color("#2ca02c" if k == label else "#d62728" if k == top else "#9bb7d4")
        verdict = "right" if top == label else "WRONG"
        self._ax_img.set_title(f"true: {ds.classes[label]}\npredicted: {ds.classes[top]} ({verdict})", fontsize=9)
        self._ax_bar.set_title(f"{name}: class probabilities", fontsize=9)
        if not getattr(self, "_laid_out", False):
            self.fig.tight_layout()
            self._laid_out = True
        return result

    def widget(self, *, index: int = 0):
        """The ipywidgets UI: a model dropdown, an image slider, the figure."""
        import ipywidgets as w

        dropdown = w.Dropdown(options=self.names, value=self.names[0], description="model")
        slider = w.IntSlider(value=index, min=0, max=len(self.models[self.names[0]][1].labels) - 1,
                             description="test image", continuous_update=False)

        def set_range(change):
            slider.max = len(self.models[change["new"]][1].labels) - 1

        dropdown.observe(set_range, names="value")  # registered first: runs before the redraw

        def describe():
            result = self.update(dropdown.value, slider.value)
            p = float(result["probabilities"][result["prediction"]])
            return (f"<b>{dropdown.value}</b>, image {result['index']}: predicted "
                    f"<b>{result['prediction']}</b> with p = {p:.3f}, true label {result['label']}")

        self._widget = _explorer_box([w.HBox([dropdown, slider])], [dropdown, slider], describe, self)
        return self._widget


class NeuronPruningExplorer:
    """Remove LeNet-300-100's rarely firing neurons (and merge near-duplicates) with a slider.

    Statistics and duplicate pairs are computed once, on the data given; an
    update only chooses neurons, builds the physically smaller model, and
    measures its accuracy, parameters and latency.

    Parameters
    ----------
    model : LeNet300100
        The trained model.
    acts : dict layer -> (N, units) activations (from ``neurons.collect_activations``).
    test : Dataset
        Where accuracy is measured (a few thousand images keep updates fast).
    dup_tol : float
        Relative distance under which two neurons count as duplicates.
    """

    layers = ("fc1", "fc2")

    def __init__(self, model, acts: dict, test, *, dup_tol: float = 0.45):
        from . import neurons

        self.model = model.eval()
        self.test = test
        self.stats = {k: neurons.activation_stats(acts[k]) for k in self.layers}
        self.duplicates = {k: neurons.find_duplicates(acts[k], tol=dup_tol) for k in self.layers}
        self.x100 = to_tensor(test.images[:100])
        self._test = _TestSet(test)
        self.fig = None

    def plan(self, max_fire_rate: float, merge: bool) -> tuple[dict, dict]:
        """Neurons to drop (fire rate <= max_fire_rate) and pairs to merge, without conflicts."""
        from . import neurons

        drop = {k: neurons.rarely_active(self.stats[k], max_fire_rate=max_fire_rate) for k in self.layers}
        pairs = {}
        for k in self.layers:
            gone = set(drop[k].tolist())
            pairs[k] = [(a, b) for a, b in self.duplicates[k] if a not in gone and b not in gone] if merge else []
        return drop, pairs

    def compute(self, max_fire_rate: float, merge: bool = False) -> dict:
        """Build the smaller model and measure it."""
        from . import neurons
        from .measure import count_parameters, latency

        drop, pairs = self.plan(max_fire_rate, merge)
        small = neurons.shrink_mlp(self.model, drop=drop, merge=pairs)
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

        return _explorer_box([w.HBox([slider, merge])], [slider, merge], describe, self)


class WeightPruningExplorer:
    """Zero LeNet-300-100's small weights with a threshold C, or to a target sparsity.

    Each update builds the masks (|w| >= C kept, or the global magnitude ranking for a
    sparsity), zeroes the weights of a copy of the model, and measures per-layer
    sparsity, test accuracy and the bytes of the weights stored dense, as CSR and as
    a bitmask.
    """

    def __init__(self, model, test):
        from .prune_torch import prunable_weights

        self.model = model.eval()
        self.test = test
        self.weights = prunable_weights(model)
        self._test = _TestSet(test)
        self.fig = None

    def compute(self, *, C: float | None = None, sparsity: float | None = None) -> dict:
        """Masks by threshold ``C`` or by global ``sparsity`` (exactly one), and their cost."""
        from . import pruning
        from .prune_torch import apply_masks, masks_for

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

        from .report import format_bytes

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

        return _explorer_box([mode, w.HBox([c_slider, s_slider])], [mode, c_slider, s_slider], describe, self)


class QuantizationExplorer:
    """Quantize LeNet-300-100's weights to ``bits`` bits with a clipping range ``a``.

    The range of each layer is ``a = range_fraction * max|w|`` (1.0: max-abs, no
    clipping; smaller: finer steps, the largest weights clipped). Weights become
    the grid values ``k * a / (2^(b-1) - 1)`` (round to nearest, symmetric);
    activations stay float (weight-only quantization). An update shows fc1's
    weight histogram with the quantization levels, the error and the accuracy.
    """

    def __init__(self, model, test):
        from .prune_torch import prunable_weights

        self.model = model.eval()
        self.weights = prunable_weights(model)
        self._test = _TestSet(test)
        self._copy = None
        self.fig = None

    def compute(self, bits: int, range_fraction: float = 1.0, *, rounding: str = "nearest") -> dict:
        import copy

        from .quantization import fake_quantize

        bits = check_int("bits", bits, minimum=2, maximum=8)
        if not 0 < range_fraction <= 1:
            raise ValueError(f"range_fraction == {range_fraction}, must be in (0, 1].")
        levels = 2 ** (bits - 1) - 1
        if self._copy is None:
            self._copy = copy.deepcopy(self.model)
        params = dict(self._copy.named_parameters())
        mse, total, scales = 0.0, 0, {}
        for name, w in self.weights.items():
            a = range_fraction * float(np.abs(w).max())
            scales[name] = a / levels
            wq = fake_quantize(w, bits=bits, scale=scales[name], rounding=rounding)
            mse += float(((wq - w) ** 2).sum())
            total += w.size
            with torch.no_grad():
                params[name].copy_(torch.from_numpy(wq))
        return {"bits": bits, "range_fraction": range_fraction, "scales": scales,
                "rmse": (mse / total) ** 0.5, "accuracy": self._test.accuracy(self._copy)}

    def update(self, bits: int, range_fraction: float = 1.0) -> dict:
        import matplotlib.pyplot as plt

        result = self.compute(bits, range_fraction)
        w = self.weights["fc1.weight"].ravel()
        lim = float(np.abs(w).max())
        if self.fig is None:
            with plt.ioff():
                self.fig = plt.figure(figsize=(8.5, 2.8))
            self._ax = self.fig.subplots()
            counts, edges = np.histogram(w, bins=200, range=(-lim, lim))
            self._ax.stairs(counts, edges, fill=True, color="#9bb7d4")
            self._ax.set_yscale("log")
            self._ax.set_xlabel("fc1 weight value")
            self._levels = None
            self._clips = [self._ax.axvline(0, color="#d62728", lw=1.5) for _ in range(2)]
            self.fig.tight_layout()
        if self._levels is not None:
            self._levels.remove()
        step = result["scales"]["fc1.weight"]
        k = 2 ** (bits - 1) - 1
        grid = np.arange(-k, k + 1) * step
        self._levels = self._ax.vlines(grid, 0, 1, transform=self._ax.get_xaxis_transform(), color="#2ca02c",
                                       lw=0.6 if len(grid) > 40 else 1.2, alpha=0.6)
        for line, x in zip(self._clips, (-k * step, k * step)):
            line.set_xdata([x, x])
        self._ax.set_title(f"{bits} bits: {len(grid)} levels (green), range ±{k * step:.3f} (red) · weight RMSE "
                           f"{result['rmse']:.2e} · accuracy {100 * result['accuracy']:.2f}%", fontsize=9)
        return result

    def widget(self, *, bits: int = 4):
        import ipywidgets as w

        b = w.IntSlider(value=bits, min=2, max=8, description="bits", continuous_update=False)
        r = w.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="a / max|w|",
                          continuous_update=False)

        def describe():
            res = self.update(b.value, r.value)
            return (f"{b.value}-bit weights, range a = {r.value:.2f}·max|w| per layer · size "
                    f"{b.value / 32:.0%} of float32 (codes only) · accuracy {100 * res['accuracy']:.2f}%")

        return _explorer_box([w.HBox([b, r])], [b, r], describe, self)
