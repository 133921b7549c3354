"""The weight-pruning explorer of notebook 01: weights below a threshold C, or to a target sparsity, zeroed."""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_float, check_fraction
from .base import Explorer
from .layout import check_dataset, fc1_weights

__all__ = ["WeightPruningExplorer"]


class WeightPruningExplorer(Explorer):
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
        self._adopt(model, test)
        self.test = test
        self.weights = weights

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

    def _create(self, result: dict) -> None:
        names = list(result["layer_sparsity"])
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

    def _draw(self, result: dict, **params) -> None:
        """The threshold lines move, the per-layer bars change height."""
        C = result["C"]
        for line, c in zip(self._lines, (-(C or 0.0), C or 0.0)):
            line.set_xdata([c, c])
            line.set_visible(C is not None)
        self._ax_hist.set_title("fc1 weights (the removed ones lie between the red lines)" if C is not None
                                else "fc1 weights", fontsize=9)
        for bar, n in zip(self._bars, result["layer_sparsity"]):
            bar.set_height(100 * result["layer_sparsity"][n])
        self._ax_bar.set_title(f"accuracy {100 * result['accuracy']:.2f}%", fontsize=9)

    def _controls(self, *, C: float = 0.05) -> tuple:
        """Threshold or target-sparsity mode and two sliders; ``C``: the threshold slider's first value
        (it spans ``0 .. 0.3``)."""
        import ipywidgets as w

        from .layout import check_slider

        C = check_slider("C", C, 0.0, 0.3)

        mode = w.ToggleButtons(options=["threshold C", "target sparsity"], value="threshold C")
        c_slider = w.FloatSlider(value=C, min=0.0, max=0.3, step=0.005, readout_format=".3f",
                                 description="C", continuous_update=False)
        s_slider = w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="sparsity",
                                 continuous_update=False)

        def read():
            return {"C": c_slider.value} if mode.value == "threshold C" else {"sparsity": s_slider.value}

        return [mode, w.HBox([c_slider, s_slider])], [mode, c_slider, s_slider], read

    def _status(self, r: dict, **params) -> str:
        from ..report import format_bytes

        return (f"removed {100 * r['sparsity']:.1f}% of the weights · accuracy "
                f"{100 * r['accuracy']:.2f}% · stored dense {format_bytes(r['dense_bytes'])}, "
                f"CSR {format_bytes(r['csr_bytes'])}, bitmask {format_bytes(r['bitmask_bytes'])}"
                + (" (biases included)" if self.biases else ""))
