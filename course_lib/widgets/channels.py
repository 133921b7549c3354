"""The channel-pruning explorer of notebook 02: a fraction of filters kept per convolution -> accuracy, MACs, bytes."""

from __future__ import annotations

import numbers
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import torch

from .._validation import check_choice, check_float, short_repr
from ..models import CifarVGG, to_tensor
from .base import Explorer
from .layout import check_dataset

__all__ = ["ChannelPruningExplorer"]


class ChannelPruningExplorer(Explorer):
    """Keep a fraction of the filters of each convolution of the CIFAR-10 CNN; see what it costs and saves.

    The filter scores of every method are computed once, when the explorer is built. An update
    picks the highest-scored filters of each convolution, builds the physically smaller network
    (:func:`course_lib.pruning.nn.prune_channels`), and measures its accuracy on the test subset
    (no fine-tuning), its multiply-adds (:func:`course_lib.pruning.nn.count_macs`), its float32
    parameters (:func:`course_lib.storage_bytes`, batch norm included) and its latency on one image
    (one thread, the median of 3). The test subset's activations after each convolution block are
    kept for recent settings: a slider moved further down the network recomputes only what follows
    it, with the same numbers as a full pass of the pruned network; a setting seen before answers
    from a cache.

    Parameters
    ----------
    model : CifarVGG
        The trained CNN (put in eval mode, never changed).
    test : Dataset
        The fixed test subset (:attr:`TEST_IMAGES` CIFAR-10 test images keep an update within the
        150 ms budget).
    images : uint8 ndarray or None, keyword-only
        Images to measure APoZ on (e.g. a few hundred training images), once; ``"apoz"`` is a
        method only when they are given.

    Raises
    ------
    TypeError
        If ``model`` is not a ``CifarVGG``, ``test`` is not a Dataset of uint8 images and integer
        labels, or ``images`` is not an array of uint8 images.
    ValueError
        If ``test`` is empty or not CIFAR-10-shaped, or ``images`` is empty or not CIFAR-10-shaped.
    """

    figsize = (6, 2.8)
    #: The notebook's fixed test subset: the first 120 CIFAR-10 test images (as notebook 07's explorer).
    TEST_IMAGES = 120
    #: Activations kept per convolution block (by the settings up to it): a few MB each on 120 images.
    MAX_CACHED = 6
    #: Results kept (settings seen before).
    MAX_RESULTS = 16

    def __init__(self, model, test, *, images=None):
        from ..pruning.nn import channel_scores, conv_chain

        if not isinstance(model, CifarVGG):
            raise TypeError(f"model must be a CifarVGG (the CIFAR-10 CNN, cl.load_pretrained('cifar_vgg')), "
                            f"got {type(model).__name__}.")
        convs, _ = conv_chain(model)
        check_dataset("test", test, model)
        methods = ("l1", "l2", "bn") if images is None else ("l1", "l2", "apoz", "bn")
        scores = {m: channel_scores(model, m, images=images if m == "apoz" else None) for m in methods}
        self._adopt(model, test)
        self.test = test
        self.methods = methods
        self.scores = scores
        self.layers = tuple(c["conv"] for c in convs)
        modules = dict(self.model.named_modules())
        self.sizes = {n: modules[n].out_channels for n in self.layers}
        feats = self.model.features
        positions = [int(n.split(".")[1]) for n in self.layers]
        self._bounds = [*positions, len(feats)]  # block i: features[bounds[i]:bounds[i + 1]] (conv, BN, ReLU, pool)
        with torch.inference_mode():  # what precedes the first convolution never changes
            self._x0 = feats[:positions[0]](self.model.standardize(self._test.x))
        self._x1 = to_tensor(test.images[:1])
        self._acts: list[OrderedDict] = [OrderedDict() for _ in self.layers[:-1]]
        self._results: OrderedDict = OrderedDict()
        self.dense = self.compute(1.0)

    def _check_keep(self, keep) -> dict:
        """``keep`` as ``{conv name: fraction}`` for every convolution (1.0 for the ones not named)."""
        if isinstance(keep, Mapping):
            for name in keep:
                if name not in self.layers:
                    raise ValueError(f"keep has layer {name!r}, must be among "
                                     f"{', '.join(repr(n) for n in self.layers)}.")
            values = {n: (f"keep[{n!r}]", keep.get(n, 1.0)) for n in self.layers}
        elif isinstance(keep, numbers.Real) and not isinstance(keep, (bool, np.bool_)):
            values = {n: ("keep", keep) for n in self.layers}
        else:
            raise TypeError(f"keep must be a float (the fraction of filters kept in every convolution) or a dict "
                            f"conv name -> fraction, got {type(keep).__name__} ({short_repr(keep)}).")
        out = {}
        for n, (label, v) in values.items():
            if isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{label} must be a float (a fraction of the filters), got int ({v}): "
                                f"prune_channels reads an int as a count of filters.")
            out[n] = check_float(label, v, low=0.0, high=1.0, low_open=True)
        return out

    def compute(self, keep, method: str = "l1") -> dict:
        """Prune, then measure accuracy, MACs, bytes and latency (no drawing).

        Parameters
        ----------
        keep : float or dict of str -> float
            The fraction of filters kept, in (0, 1]: one for every convolution, or per convolution
            (``{"features.0": 0.5, ...}``; a convolution not named keeps all its filters). A fraction
            keeps ``max(1, round(keep * filters))`` filters, as :func:`course_lib.pruning.nn.prune_channels`.
        method : str
            The filter score: ``"l1"``, ``"l2"``, ``"bn"`` (and ``"apoz"`` when the explorer was given
            images), as :func:`course_lib.pruning.nn.channel_scores`.

        Returns
        -------
        dict
            ``{"keep": {conv: fraction}, "method", "kept": {conv: int}, "filters": {conv: int},
            "accuracy" (on the test subset, before any fine-tuning), "macs" (one image),
            "bytes" (float32 parameters), "latency_ms" (one image, one thread, the median of 3),
            "images" (test images), "model" (the pruned CifarVGG, kept in the explorer's cache: copy it
            before training it)}``; ``self.dense`` holds the unpruned network's.

        Raises
        ------
        TypeError
            If ``keep`` is not a float or a dict of floats (an int is refused: ``prune_channels``
            reads it as a count), or ``method`` is not a str.
        ValueError
            If ``keep`` names a layer that is not a convolution of the model, a fraction is outside
            (0, 1], or ``method`` is not one of ``self.methods``.
        """
        from ..pruning.channels import channels_to_keep, keep_count

        keep = self._check_keep(keep)
        method = check_choice("method", method, self.methods)
        kept = {n: keep_count(keep[n], self.sizes[n]) for n in self.layers}
        # one token per layer: a layer that keeps every filter is the same whatever the scores
        tokens = tuple("all" if kept[n] == self.sizes[n] else (method, kept[n]) for n in self.layers)
        if tokens in self._results:
            self._results.move_to_end(tokens)
            result = self._results[tokens]
        else:
            result = self._measure({n: channels_to_keep(self.scores[method][n], kept[n]) for n in self.layers},
                                   tokens)
            self._results[tokens] = result
            if len(self._results) > self.MAX_RESULTS:
                self._results.popitem(last=False)
        return {"keep": keep, "method": method, **result}

    def _measure(self, indices: dict, tokens: tuple) -> dict:
        from ..formats import storage_bytes
        from ..pruning.nn import count_macs, prune_channels
        from ..timing import latency

        small = prune_channels(self.model, indices)
        with torch.inference_mode():
            logits = small.classifier(self._features(small, tokens))
        x1 = self._x1
        return {"kept": {n: len(i) for n, i in indices.items()}, "filters": dict(self.sizes),
                "accuracy": int((logits.argmax(1) == self._test.y).sum()) / len(self._test.y),
                "macs": count_macs(small)["total"], "bytes": storage_bytes(small),
                "latency_ms": latency(lambda: small(x1), warmup=1, repeats=3, threads=1).median_ms,
                "images": len(self._test.y), "model": small}

    def _features(self, small, tokens: tuple) -> torch.Tensor:
        """The test subset through ``small.features``, from the last activation cached for a prefix of
        ``tokens`` (block ``i``'s output depends only on the filters kept up to convolution ``i``)."""
        act, start = self._x0, 0
        for i in range(len(self._acts) - 1, -1, -1):
            if tokens[:i + 1] in self._acts[i]:
                act, start = self._acts[i][tokens[:i + 1]], i + 1
                self._acts[i].move_to_end(tokens[:i + 1])
                break
        for i in range(start, len(self.layers)):
            act = small.features[self._bounds[i]:self._bounds[i + 1]](act)
            if i < len(self._acts):
                self._acts[i][tokens[:i + 1]] = act
                if len(self._acts[i]) > self.MAX_CACHED:
                    self._acts[i].popitem(last=False)
        return act

    def _create(self, r: dict) -> None:
        # one axes, short labels, no legend: the PNG is what the notebook shows, and drawing its text is most of an
        # update (accuracy, MACs and bytes are written above the bars and in the status line)
        k = np.arange(len(self.layers))
        sizes = np.array([self.sizes[n] for n in self.layers])
        ax = self.fig.subplots()
        self._kept_bars = ax.bar(k, sizes, color="C0")
        self._gone_bars = ax.bar(k, np.zeros(len(k)), bottom=sizes, color="#d9d9d9")
        ax.set_xticks(k, [n.split(".")[-1] for n in self.layers])
        ax.set_xlabel("convolution (features.N)")
        ax.set_ylim(0, 1.05 * sizes.max())
        ax.set_yticks([0, sizes.max() // 2, sizes.max()])
        # a text, not a title: matplotlib places a title by measuring the axes' other text at every draw
        self._title = ax.text(0.5, 1.04, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=9)
        self.fig.tight_layout(rect=(0, 0, 1, 0.86))

    def _draw(self, r: dict, **params) -> None:
        """Kept (blue) and removed (grey) filters per convolution; above them the filters kept, the accuracy and
        the MACs and bytes as fractions of the dense CNN's."""
        for kept_bar, gone_bar, n in zip(self._kept_bars, self._gone_bars, self.layers):
            kept_bar.set_height(r["kept"][n])
            gone_bar.set_y(r["kept"][n])
            gone_bar.set_height(self.sizes[n] - r["kept"][n])
        d = self.dense
        self._title.set_text(f"{r['method']} scores: {sum(r['kept'].values())} of {sum(self.sizes.values())} filters "
                             f"kept (grey: removed)\naccuracy {100 * r['accuracy']:.1f}% (dense "
                             f"{100 * d['accuracy']:.1f}%) · MACs {r['macs'] / d['macs']:.0%} · bytes "
                             f"{r['bytes'] / d['bytes']:.0%} of dense")

    def _controls(self, *, keep=0.5, method: str = "l1") -> tuple:
        """A slider per convolution (the fraction of its filters kept, ``0.1 .. 1``) and the score; ``keep``: the
        sliders' first values (one float, or a dict as :meth:`compute`), ``method``: the first score."""
        import ipywidgets as w

        from .layout import check_slider

        start = {n: check_slider(f"keep[{n!r}]" if isinstance(keep, Mapping) else "keep", v, 0.1, 1.0)
                 for n, v in self._check_keep(keep).items()}
        method = check_choice("method", method, self.methods)
        sliders = [w.FloatSlider(value=start[n], min=0.1, max=1.0, step=0.05, readout_format=".2f",
                                 description=f"{n} ({self.sizes[n]})", continuous_update=False,
                                 style={"description_width": "initial"}) for n in self.layers]
        scores = w.ToggleButtons(options=list(self.methods), value=method, description="score")

        def read():
            return {"keep": {n: s.value for n, s in zip(self.layers, sliders)}, "method": scores.value}

        return [w.HBox(sliders[:3]), w.HBox([*sliders[3:], scores])], [*sliders, scores], read

    def _status(self, r: dict, **params) -> str:
        from ..report import format_bytes
        from ..timing import cpu_capability

        d = self.dense
        return (f"accuracy {100 * r['accuracy']:.1f}% (dense {100 * d['accuracy']:.1f}%) on {r['images']} test "
                f"images, no fine-tuning · MACs {r['macs']:,} ({r['macs'] / d['macs']:.2f} of dense) · "
                f"float32 parameters {format_bytes(r['bytes'])} (dense {format_bytes(d['bytes'])}) · "
                f"1 image {r['latency_ms']:.2f} ms (dense {d['latency_ms']:.2f} ms), 1 thread, {cpu_capability()}")
