"""The weight-sharing explorer of notebook 10: kept fraction and bits per layer -> accuracy and bytes by stage."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import torch

from .._validation import check_float, check_int, short_repr
from ..models import LeNet300100
from .base import Explorer
from .layout import check_dataset

__all__ = ["SharingExplorer"]

LAYERS = ("fc1", "fc2", "fc3")


class SharingExplorer(Explorer):
    """Prune LeNet-300-100 by magnitude, share each layer's kept weights in ``2**bits`` centroids, code the indices.

    An update keeps the fraction ``kept`` of each layer's weights (largest magnitudes), clusters
    them by k-means (linear init, at most :attr:`ITERS` Lloyd iterations), and measures the accuracy
    of the shared network on the test subset -- no fine-tuning, neither of the pruned weights nor of
    the centroids -- and the bytes of each stage: dense float32, pruned as CSR (float32 values,
    int32 column indices and row pointers), shared with fixed-width streams, and shared with
    Huffman-coded streams (exactly the size of :func:`course_lib.sharing.nn.save_shared_model`'s
    file; the biases are float32 in every stage). Each layer's masks, clustering and encoded sizes
    are cached per ``(layer, kept, bits)``: a slider moved recomputes one layer.

    Parameters
    ----------
    model : LeNet300100
        The trained network (put in eval mode, never changed).
    test : Dataset
        The fixed test subset (:attr:`TEST_IMAGES` MNIST test images).

    Raises
    ------
    TypeError
        If ``model`` is not a ``LeNet300100`` or ``test`` is not a Dataset of uint8 images and integer labels.
    ValueError
        If ``test`` is empty or not MNIST-shaped.
    """

    figsize = (6, 2.6)
    #: the notebook's fixed test subset: the first 1,000 MNIST test images
    TEST_IMAGES = 1000
    #: the most Lloyd iterations of an update's k-means
    ITERS = 100
    #: the slider ranges: kept fraction and bits
    KEPT_RANGE, BITS_RANGE = (0.02, 0.5), (1, 8)
    STAGES = ("dense float32", "pruned (CSR)", "shared, fixed-width", "shared + Huffman")

    def __init__(self, model, test):
        if not isinstance(model, LeNet300100):
            raise TypeError(f"model must be a LeNet300100 (cl.load_pretrained('lenet300')), "
                            f"got {type(model).__name__}.")
        check_dataset("test", test, model)
        self._adopt(model, test)
        self.test = test
        self.weights = {n: getattr(model, n).weight.detach().numpy().astype(np.float32) for n in LAYERS}
        self.params = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self._bias_bytes = 4 * sum(self.params[f"{n}.bias"].numel() for n in LAYERS)
        self._layers: dict = {}
        self.dense_accuracy = self._test.accuracy(self.model)

    def _check_bits(self, bits) -> dict:
        if isinstance(bits, Mapping):
            for name in bits:
                if name not in LAYERS:
                    raise ValueError(f"bits has layer {name!r}, must be among {', '.join(map(repr, LAYERS))}.")
            values = {n: (f"bits[{n!r}]", bits.get(n, 5)) for n in LAYERS}
        elif isinstance(bits, numbers.Integral) and not isinstance(bits, (bool, np.bool_)):
            values = {n: ("bits", bits) for n in LAYERS}
        else:
            raise TypeError(f"bits must be an int (every layer's index width) or a dict layer -> int, got "
                            f"{type(bits).__name__} ({short_repr(bits)}).")
        low, high = self.BITS_RANGE
        return {n: check_int(label, v, minimum=low, maximum=high) for n, (label, v) in values.items()}

    def _layer(self, name: str, kept: float, bits: int) -> dict:
        """The cached clustering and encoded sizes of one layer (a few tens of ms for a new one)."""
        from ..pruning import csr_bytes, magnitude_mask
        from ..sharing import encode_layer, reconstruct, share_weights

        key = (name, kept, bits)
        if key not in self._layers:
            w = self.weights[name]
            mask = magnitude_mask(w, 1.0 - kept)
            codebook, indices = share_weights(w, bits, mask=mask, iters=self.ITERS)
            self._layers[key] = {
                "weight": torch.from_numpy(reconstruct(codebook, indices, mask).astype(np.float32)),
                "csr": csr_bytes(np.where(mask, w, 0)),
                "fixed": len(encode_layer(codebook, indices, mask, coding="fixed")),
                "huffman": len(encode_layer(codebook, indices, mask)), "kept": int(mask.sum())}
        return self._layers[key]

    def _file_bytes(self, sections: dict) -> int:
        """The size of :func:`course_lib.sharing.storage.write_layers`' file: its framing around the sections."""
        size = 4 + 4 + sum(2 + len(n) + 8 + s for n, s in sections.items()) + 4
        return size + sum(2 + len(f"{n}.bias") + 1 + 4 + 4 * self.params[f"{n}.bias"].numel() for n in LAYERS)

    def compute(self, bits=5, kept: float = 0.1) -> dict:
        """Prune, share and code; measure accuracy and bytes by stage (no drawing, no fine-tuning).

        Parameters
        ----------
        bits : int or dict of str -> int
            The index width, 1 to 8: one for every layer, or per layer (``{"fc1": 4, ...}``; a layer not
            named gets 5).
        kept : float
            The fraction of each layer's weights kept, in ``[0.02, 0.5]`` (the largest in magnitude).

        Returns
        -------
        dict
            ``{"bits": {layer: int}, "kept", "nonzero" (weights kept), "accuracy" (test subset),
            "images", "bytes": {stage: int} (:attr:`STAGES`), "ratio" (dense / Huffman bytes)}``.

        Raises
        ------
        TypeError
            If ``bits`` is not an int or a dict of ints, or ``kept`` is not a real number.
        ValueError
            If a layer name is unknown, a width is outside 1..8, or ``kept`` outside ``[0.02, 0.5]``.
        """
        bits = self._check_bits(bits)
        kept = check_float("kept", kept, low=self.KEPT_RANGE[0], high=self.KEPT_RANGE[1])
        layers = {n: self._layer(n, kept, bits[n]) for n in LAYERS}
        params = dict(self.params, **{f"{n}.weight": layers[n]["weight"] for n in LAYERS})
        with torch.inference_mode():
            logits = torch.func.functional_call(self.model, params, (self._test.x,))
        accuracy = int((logits.argmax(1) == self._test.y).sum()) / len(self._test.y)
        dense = 4 * sum(v.numel() for v in self.params.values())
        by_stage = {self.STAGES[0]: dense,
                    self.STAGES[1]: self._bias_bytes + sum(layers[n]["csr"] for n in LAYERS),
                    self.STAGES[2]: self._file_bytes({n: layers[n]["fixed"] for n in LAYERS}),
                    self.STAGES[3]: self._file_bytes({n: layers[n]["huffman"] for n in LAYERS})}
        return {"bits": bits, "kept": kept, "nonzero": sum(layers[n]["kept"] for n in LAYERS), "accuracy": accuracy,
                "images": len(self._test.y), "bytes": by_stage, "ratio": dense / by_stage[self.STAGES[3]]}

    def _create(self, r: dict) -> None:
        from matplotlib.ticker import NullLocator

        ax = self.fig.subplots()
        k = np.arange(len(self.STAGES))
        self._bars = ax.bar(k, np.ones(len(k)), color=["#999999", "C0", "C1", "C2"])
        ax.set_yscale("log")
        ax.set_ylim(5e3, 2e6)
        ax.set_yticks([1e4, 1e5, 1e6], ["10 kB", "100 kB", "1 MB"])
        ax.yaxis.set_minor_locator(NullLocator())  # minor ticks of a log axis are most of a redraw
        ax.set_xticks(k, ["dense", "pruned CSR", "shared", "+ Huffman"])
        self._labels = [ax.text(i, 1, "", ha="center", va="bottom", fontsize=8) for i in k]
        self._title = ax.text(0.5, 1.04, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=9)
        self.fig.tight_layout(rect=(0, 0, 1, 0.88))

    def _draw(self, r: dict, **params) -> None:
        """Bytes of each stage (log scale) with their value; above them the accuracy."""
        for bar, label, stage in zip(self._bars, self._labels, self.STAGES):
            bar.set_height(r["bytes"][stage])
            label.set_position((label.get_position()[0], r["bytes"][stage]))
            label.set_text(f"{r['bytes'][stage] / 1000:,.1f} kB")
        b = r["bits"]
        self._title.set_text(f"{100 * r['kept']:.0f}% kept, bits fc1/fc2/fc3 = {b['fc1']}/{b['fc2']}/{b['fc3']}: "
                             f"{r['ratio']:.0f}x smaller\naccuracy {100 * r['accuracy']:.2f}% (dense "
                             f"{100 * self.dense_accuracy:.2f}%), no fine-tuning")

    def _controls(self, *, bits=5, kept: float = 0.1) -> tuple:
        """A bits slider per layer (1 to 8) and the kept fraction (0.02 to 0.5); their first values as
        :meth:`compute`'s arguments."""
        import ipywidgets as w

        from .layout import check_slider

        start = self._check_bits(bits)
        kept = check_slider("kept", kept, *self.KEPT_RANGE)
        sliders = [w.IntSlider(value=start[n], min=self.BITS_RANGE[0], max=self.BITS_RANGE[1], description=f"{n} bits",
                               continuous_update=False) for n in LAYERS]
        fraction = w.FloatSlider(value=kept, min=self.KEPT_RANGE[0], max=self.KEPT_RANGE[1], step=0.01,
                                 readout_format=".2f", description="kept", continuous_update=False)

        def read():
            return {"bits": {n: s.value for n, s in zip(LAYERS, sliders)}, "kept": round(fraction.value, 2)}

        return [w.HBox(sliders), w.HBox([fraction])], [*sliders, fraction], read

    def _status(self, r: dict, **params) -> str:
        from ..report import format_bytes

        sizes = " · ".join(f"{stage} {format_bytes(v)}" for stage, v in r["bytes"].items())
        return (f"accuracy {100 * r['accuracy']:.2f}% (dense {100 * self.dense_accuracy:.2f}%) on {r['images']:,} "
                f"test images, no fine-tuning · {r['nonzero']:,} weights kept · {sizes} · {r['ratio']:.1f}x")
