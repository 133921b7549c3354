"""Pruning explorers: weights below C (notebook 01) and rarely firing neurons (notebook 02)."""

from __future__ import annotations

from .._validation import check_bool, check_float, check_float_array, check_fraction
from ..models import LeNet300100, to_tensor
from .base import Explorer
from .layout import check_dataset
from .weight_pruning import WeightPruningExplorer  # noqa: F401  (its home before the split)

__all__ = ["NeuronPruningExplorer", "WeightPruningExplorer"]


class NeuronPruningExplorer(Explorer):
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
        If ``acts`` lacks a hidden layer, holds NaN, no row, or its units differ from the model's, ``test``
        is empty or not MNIST-shaped, or ``dup_tol`` is negative or not finite.
    """

    layers = ("fc1", "fc2")
    figsize = (8, 2.8)

    def __init__(self, model, acts: dict, test, *, dup_tol: float = 0.45):
        from ..pruning import neurons

        if not isinstance(model, LeNet300100):
            raise TypeError(f"model must be a LeNet300100, got {type(model).__name__}.")
        if not isinstance(acts, dict):
            raise TypeError(f"acts must be a dict layer -> (N, units) activations, got {type(acts).__name__}.")
        arrays = {}
        for k in self.layers:
            if k not in acts:
                raise ValueError(f"acts has no {k!r} (keys {sorted(map(str, acts))}), must hold the "
                                 f"activations of 'fc1' and 'fc2' (from collect_activations).")
            units = getattr(model, k).out_features
            arrays[k] = check_float_array(f"acts[{k!r}]", acts[k], allow_empty=True)
            shape = arrays[k].shape
            if len(shape) != 2 or shape[1] != units:
                raise ValueError(f"acts[{k!r}] has shape {shape}, must be (N, {units}): one column per "
                                 f"neuron of model.{k}.")
            if shape[0] == 0:
                raise ValueError(f"acts[{k!r}] has no row (shape {shape}), must hold the activations of at least "
                                 f"one image.")
        acts = arrays
        check_dataset("test", test, model)
        dup_tol = check_float("dup_tol", dup_tol, low=0.0)
        self._adopt(model, test)
        self.test = test
        self.stats = {k: neurons.activation_stats(acts[k]) for k in self.layers}
        self.duplicates = {k: neurons.find_duplicates(acts[k], tol=dup_tol) for k in self.layers}
        self.x100 = to_tensor(test.images[:100])

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
        TypeError, ValueError
            As :meth:`plan`, for a bad ``max_fire_rate`` or ``merge``.
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

    def _create(self, result: dict) -> None:
        axes = self.fig.subplots(1, 2)
        self._cuts = []
        for ax, k in zip(axes, self.layers):
            ax.hist(self.stats[k]["fire_rate"], bins=40, color="#9bb7d4")
            ax.set_xlabel("fire rate (fraction of images with a large output)")
            self._cuts.append(ax.axvline(0, color="#d62728", lw=2))
        axes[0].set_ylabel("neurons")
        self.fig.tight_layout()

    def _draw(self, result: dict, **params) -> None:
        """The cut moves on the (fixed) fire-rate histograms."""
        max_fire_rate = result["max_fire_rate"]
        for ax, cut, k in zip(self.fig.axes, self._cuts, self.layers):
            cut.set_xdata([max_fire_rate, max_fire_rate])
            ax.set_title(f"{k}: {result['removed'][k]} of {len(self.stats[k]['fire_rate'])} neurons removed",
                         fontsize=9)

    def _controls(self, *, max_fire_rate: float = 0.02) -> tuple:
        """A fire-rate slider (``0 .. 0.2``, starting at ``max_fire_rate``) and a merge checkbox."""
        import ipywidgets as w

        from .layout import check_slider

        max_fire_rate = check_slider("max_fire_rate", max_fire_rate, 0.0, 0.2)
        slider = w.FloatSlider(value=max_fire_rate, min=0.0, max=0.2, step=0.005, readout_format=".3f",
                               description="max fire rate", continuous_update=False)
        merge = w.Checkbox(value=False, description="merge similar neurons")
        self._start = self.compute(0.0, False)  # the unpruned model, which the status line compares with
        return [w.HBox([slider, merge])], [slider, merge], lambda: {"max_fire_rate": slider.value,
                                                                     "merge": merge.value}

    def _status(self, r: dict, **params) -> str:
        base = self._start
        return (f"hidden layers {r['hidden'][0]}-{r['hidden'][1]} (was 300-100) · parameters "
                f"{r['parameters']:,} ({r['parameters'] / base['parameters']:.0%}) · accuracy "
                f"{100 * r['accuracy']:.2f}% (was {100 * base['accuracy']:.2f}%) · 100 images "
                f"{r['latency_ms']:.2f} ms (was {base['latency_ms']:.2f} ms)")
