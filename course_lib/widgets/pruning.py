"""Pruning explorers: weights below C (notebook 01) and rarely firing neurons (notebook 02)."""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_float, check_fraction
from ..models import LeNet300100, to_tensor
from .layout import TestSet, check_dataset, explorer_box, fc1_weights

__all__ = ["NeuronPruningExplorer", "WeightPruningExplorer"]


class NeuronPruningExplorer:
    """Remove LeNet-300-100's rarely firing neurons (and merge similar neurons) with a slider.

    Statistics and duplicate pairs are computed once, on the data given; an
    update only chooses neurons, builds the physically smaller model, and
    measures its accuracy, parameters and latency.

    Parameters
    ----------
    model : LeNet300100
        The trained model (put in eval mode).
    acts : dict of str -> ndarray
        ``{"fc1": (N, 300), "fc2": (N, 100)}`` activations of the model's hidden layers
        (from ``course_lib.pruning.nn.collect_activations``).
    test : Dataset
        Where accuracy is measured (a few thousand images keep updates fast).
    dup_tol : float, keyword-only
        Relative distance (``>= 0``) under which two neurons count as duplicates.

    Raises
    ------
    TypeError
        If ``model`` is not a ``LeNet300100``, ``acts`` is not a dict of real arrays,
        ``test`` is not a Dataset of uint8 images and integer labels, or ``dup_tol`` is
        not a real number.
    ValueError
        If ``acts`` lacks a hidden layer or its units differ from the model's, ``test``
        is empty or not MNIST-shaped, or ``dup_tol`` is negative or not finite.
    """

    layers = ("fc1", "fc2")

    def __init__(self, model, acts: dict, test, *, dup_tol: float = 0.45):
        from ..pruning import neurons

        if not isinstance(model, LeNet300100):
            raise TypeError(f"model must be a LeNet300100, got {type(model).__name__}.")
        if not isinstance(acts, dict):
            raise TypeError(f"acts must be a dict layer -> (N, units) activations, got {type(acts).__name__}.")
        for k in self.layers:
            if k not in acts:
                raise ValueError(f"acts has no {k!r} (keys {sorted(map(str, acts))}), must hold the "
                                 f"activations of 'fc1' and 'fc2' (from collect_activations).")
            units = getattr(model, k).out_features
            shape = np.shape(acts[k])
            if len(shape) != 2 or shape[1] != units:
                raise ValueError(f"acts[{k!r}] has shape {shape}, must be (N, {units}): one column per "
                                 f"neuron of model.{k}.")
        check_dataset("test", test, model)
        dup_tol = check_float("dup_tol", dup_tol, low=0.0)
        self.model = model.eval()
        self.test = test
        self.stats = {k: neurons.activation_stats(acts[k]) for k in self.layers}
        self.duplicates = {k: neurons.find_duplicates(acts[k], tol=dup_tol) for k in self.layers}
        self.x100 = to_tensor(test.images[:100])
        self._test = TestSet(test)
        self.fig = None

    def plan(self, max_fire_rate: float, merge: bool) -> tuple[dict, dict]:
        """Neurons to drop (fire rate <= max_fire_rate) and pairs to merge, without conflicts.

        Parameters
        ----------
        max_fire_rate : float
            A fraction in ``[0, 1]``: neurons that fire on at most this fraction of the images go.
        merge : bool
            Also merge the similar pairs (within the explorer's tolerance) whose neurons both stay.

        Returns
        -------
        drop : dict of str -> ndarray of int
            Per hidden layer, the neurons to remove.
        pairs : dict of str -> list of (int, int)
            Per hidden layer, the ``(keep, drop)`` pairs to merge (empty lists without ``merge``).

        Raises
        ------
        TypeError
            If ``max_fire_rate`` is not a real number or ``merge`` not a bool.
        ValueError
            If ``max_fire_rate`` is outside ``[0, 1]``.
        """
        from ..pruning import neurons

        max_fire_rate = check_fraction("max_fire_rate", max_fire_rate)
        merge = check_bool("merge", merge)

        drop = {k: neurons.rarely_active(self.stats[k], max_fire_rate=max_fire_rate) for k in self.layers}
        pairs = {}
        for k in self.layers:
            gone = set(drop[k].tolist())
            pairs[k] = [(a, b) for a, b in self.duplicates[k] if a not in gone and b not in gone] if merge else []
        return drop, pairs

    def compute(self, max_fire_rate: float, merge: bool = False) -> dict:
        """Build the smaller model and measure it.

        Parameters
        ----------
        max_fire_rate : float
            A fraction in ``[0, 1]`` (see :meth:`plan`).
        merge : bool
            Also merge similar neurons.

        Returns
        -------
        dict
            ``{"max_fire_rate", "hidden": (h1, h2), "removed": {layer: int}, "parameters": int,
            "accuracy": float, "latency_ms": float, "model": LeNet300100}``; the latency is the
            median time of the smaller model on 100 test images.

        Raises
        ------
        TypeError
            If ``max_fire_rate`` is not a real number or ``merge`` not a bool.
        ValueError
            If ``max_fire_rate`` is outside ``[0, 1]``.
        """
        from ..measure import count_parameters, latency
        from ..pruning.nn import shrink_mlp

        max_fire_rate = check_fraction("max_fire_rate", max_fire_rate)
        merge = check_bool("merge", merge)

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
        """Compute and redraw: the cut moves on the (fixed) fire-rate histograms.

        Parameters
        ----------
        max_fire_rate, merge
            As for :meth:`compute`.

        Returns
        -------
        dict
            What :meth:`compute` returns; the figure is ``self.fig``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`compute`.
        """
        from matplotlib.figure import Figure

        result = self.compute(max_fire_rate, merge)
        max_fire_rate = result["max_fire_rate"]
        if self.fig is None:
            self.fig = Figure(figsize=(8, 2.8))  # not pyplot's: no plt.show() or cell end shows it again
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
        """The ipywidgets UI: a fire-rate slider, a merge checkbox, the histograms.

        Parameters
        ----------
        max_fire_rate : float, keyword-only
            The slider's first value (the slider spans ``0 .. 0.2``).

        Returns
        -------
        ipywidgets.VBox
            The controls, the status line and the figure (see :func:`.layout.explorer_box`).
        """
        import ipywidgets as w

        slider = w.FloatSlider(value=max_fire_rate, min=0.0, max=0.2, step=0.005, readout_format=".3f",
                               description="max fire rate", continuous_update=False)
        merge = w.Checkbox(value=False, description="merge similar neurons")
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

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (put in eval mode), with an ``fc1`` layer whose weights are drawn
        (LeNet-300-100, LeNet-5).
    test : Dataset
        Where accuracy is measured (a few thousand images keep updates fast).
    biases : bool, keyword-only
        Add the biases, stored dense as float32, to every byte count (the convention of notebooks 01
        and 02, :func:`course_lib.pruning.storage.stored_bytes`). Default: the weights only.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module`` or ``test`` is not a Dataset of uint8
        images and integer labels, or ``biases`` is not a bool.
    ValueError
        If ``model`` has no ``fc1`` weight, or ``test`` is empty or not the model's data set.
    """

    def __init__(self, model, test, *, biases: bool = False):
        weights = fc1_weights(model)
        check_dataset("test", test, model)
        self.biases = check_bool("biases", biases)
        self._bias_bytes = (4 * sum(int(p.numel()) for p in model.parameters() if p.ndim < 2)) if self.biases else 0
        self.model = model.eval()
        self.test = test
        self.weights = weights
        self._test = TestSet(test)
        self.fig = None

    def compute(self, *, C: float | None = None, sparsity: float | None = None) -> dict:
        """Masks by threshold ``C`` or by global ``sparsity`` (exactly one), and their cost.

        Parameters
        ----------
        C : float or None, keyword-only
            Keep the weights with ``|w| >= C`` (``C >= 0``) in every layer.
        sparsity : float or None, keyword-only
            Remove this fraction (``[0, 1)``) of all the weights, the smallest in magnitude
            over the whole model.

        Returns
        -------
        dict
            ``{"layer_sparsity": {name: float}, "sparsity": float, "accuracy": float,
            "dense_bytes": int, "csr_bytes": int, "bitmask_bytes": int, "C": float or None}``; the bytes
            include the biases (float32) when the explorer was built with ``biases=True``.

        Raises
        ------
        TypeError
            If ``C`` or ``sparsity`` is not a real number.
        ValueError
            If neither or both are given, ``C`` is negative or not finite, or ``sparsity``
            is outside ``[0, 1)``.
        """
        from .. import pruning
        from ..pruning.nn import apply_masks, masks_for

        if (C is None) == (sparsity is None):
            raise ValueError(f"C == {C!r} and sparsity == {sparsity!r}, must give exactly one of C and sparsity.")
        C = check_float("C", C, low=0.0, allow_none=True)
        sparsity = check_fraction("sparsity", sparsity, allow_one=False) if sparsity is not None else None
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
            "dense_bytes": sum(4 * w.size for w in pruned.values()) + self._bias_bytes,
            "csr_bytes": sum(pruning.csr_bytes(w) for w in pruned.values()) + self._bias_bytes,
            "bitmask_bytes": sum(pruning.bitmask_bytes(w) for w in pruned.values()) + self._bias_bytes,
            "C": C,
        }

    def update(self, *, C: float | None = None, sparsity: float | None = None) -> dict:
        """Compute and redraw: the threshold lines move, the per-layer bars change height.

        Parameters
        ----------
        C, sparsity : float or None, keyword-only
            Exactly one, as for :meth:`compute`.

        Returns
        -------
        dict
            What :meth:`compute` returns; the figure is ``self.fig``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`compute`.
        """
        from matplotlib.figure import Figure

        result = self.compute(C=C, sparsity=sparsity)
        C = result["C"]
        names = list(result["layer_sparsity"])
        if self.fig is None:
            self.fig = Figure(figsize=(8.5, 2.8))  # not pyplot's: no plt.show() or cell end shows it again
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
        """The ipywidgets UI: threshold or target-sparsity mode, two sliders, the figure.

        Parameters
        ----------
        C : float, keyword-only
            The threshold slider's first value (the slider spans ``0 .. 0.3``).

        Returns
        -------
        ipywidgets.VBox
            The controls, the status line and the figure (see :func:`.layout.explorer_box`).
        """
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
                    f"CSR {format_bytes(r['csr_bytes'])}, bitmask {format_bytes(r['bitmask_bytes'])}"
                    + (" (biases included)" if self.biases else ""))

        return explorer_box([mode, w.HBox([c_slider, s_slider])], [mode, c_slider, s_slider], describe, self)
