"""The flattened-convolution explorer of notebook 07: a rank per layer -> error, accuracy, parameters, time."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import torch

from .._validation import check_int, check_model, check_names
from ..timing import latency
from .base import Explorer
from .layout import check_dataset

__all__ = ["FlattenedExplorer"]


def _positions(model, layers) -> list[int]:
    """Where each layer sits in ``model.features`` (the CNN's layout: standardize, features, classifier)."""
    feats = getattr(model, "features", None)
    ok = (isinstance(feats, torch.nn.Sequential) and hasattr(model, "standardize") and hasattr(model, "classifier"))
    positions = [int(n.split(".")[1]) if ok and n.count(".") == 1 and n.startswith("features.")
                 and n.split(".")[1].isdigit() else -1 for n in layers]
    if not ok or min(positions) < 0 or positions != sorted(positions):
        raise ValueError(f"layers == {list(layers)!r}, must be convolutions of model.features in network order "
                         f"(the explorer reuses what precedes a changed layer; a model with standardize, features "
                         f"and classifier, as the course's CifarVGG).")
    return positions


class FlattenedExplorer(Explorer):
    """Choose the rank R of each convolution (0 keeps the 3-D layer); see what the decomposition costs.

    Every decomposition (each layer at each rank ``1 .. max_rank``) is computed and each layer's
    forward time measured once, when the explorer is built. An update runs the fixed test subset
    through the chosen filters -- as a 3-D convolution of the reconstructed weight, the same function
    (the tests check it) at the dense kernel's speed -- starting from the activations cached for the
    unchanged layers before it (what precedes the first chosen layer is computed once); a setting
    seen before answers from a cache.

    Parameters
    ----------
    model : torch.nn.Module
        The trained CNN (never changed).
    test : Dataset
        The fixed test subset (a few hundred images keep an update within the 150 ms budget).
    layers : sequence of str
        The Conv2d layers that get a rank slider: convolutions of ``model.features``, in network order.
    max_rank : int, keyword-only, default 4
        The largest rank offered.
    timing_batch : int, keyword-only, default 32
        Images per timed forward pass of each layer (one thread, the median of 5).

    Raises
    ------
    TypeError
        If ``model`` is not a Module, ``test`` not a Dataset, ``layers`` not a list of names (a single
        string is refused), or a named layer is not an ``nn.Conv2d``.
    ValueError
        If a name is not a layer, ``max_rank`` is < 1 or above the rank at which a filter is exact,
        ``timing_batch < 1``, or the test set does not fit the model.
    """

    figsize = (8.5, 2.6)

    def __init__(self, model, test, layers, *, max_rank: int = 4, timing_batch: int = 32):
        from ..factorization.nn.flattened import flatten_conv2d, flatten_model

        check_model(model)
        check_dataset("test", test, model)
        self.layers = check_names("layers", layers)
        self.max_rank = check_int("max_rank", max_rank, minimum=1)
        timing_batch = check_int("timing_batch", timing_batch, minimum=1)
        modules = dict(model.named_modules())
        convs = [n for n, m in modules.items() if isinstance(m, torch.nn.Conv2d)]
        for i, n in enumerate(self.layers):
            if not isinstance(modules.get(n), torch.nn.Conv2d):
                what = "is not a layer" if n not in modules else f"is a {type(modules[n]).__name__}"
                raise (ValueError if n not in modules else TypeError)(
                    f"layers[{i}] == {n!r} {what} of {type(model).__name__}, must be an nn.Conv2d of it "
                    f"({', '.join(convs) if convs else 'it has none: the explorer needs a CNN such as CifarVGG'}).")
        c, y, x = min((tuple(modules[n].weight.shape[1:]) for n in self.layers), key=lambda s: min(
            s[0] * s[1], s[0] * s[2], s[1] * s[2]))
        top = min(c * y, c * x, y * x)  # a c x y x x tensor has CP rank at most this: a larger one adds nothing
        if self.max_rank > top:
            raise ValueError(f"max_rank == {self.max_rank}, must be <= {top} (a {c}x{y}x{x} filter is exact at rank "
                             f"{top}; each rank is decomposed when the explorer is built).")
        flatten_model(model, self.layers, decompose=False)  # checks every name and layer, cheaply
        self._positions = _positions(model, self.layers)
        self._adopt(model, test)
        modules = dict(self.model.named_modules())
        self._dense = {n: modules[n] for n in self.layers}
        self.base_accuracy = self._test.accuracy(self.model)
        inputs = {}  # each layer's input on a timing batch, to time the layer alone
        hooks = [modules[n].register_forward_hook(lambda m, args, out, n=n: inputs.__setitem__(n, args[0]))
                 for n in self.layers]
        with torch.inference_mode():
            self.model(self._test.x[:timing_batch])
        for hook in hooks:
            hook.remove()
        # per layer and rank: the flattened layer (timed), its filters as a 3-D Conv2d (what the accuracy pass
        # runs: the same function, at the dense kernel's speed), the error, the weights and the time
        self._options: dict[str, dict[int, dict]] = {}
        for n in self.layers:
            dense = self._dense[n]
            options = {0: {"conv": dense, "error": 0.0, "params": dense.weight.numel(),
                           "ms": self._time(dense, inputs[n])}}
            for r in range(1, self.max_rank + 1):
                flat = flatten_conv2d(dense, r, name=n).eval()
                conv = copy.deepcopy(dense)
                with torch.no_grad():
                    conv.weight.copy_(flat.weight())
                w = dense.weight.detach()
                error = float((conv.weight.detach() - w).norm() / w.norm())
                options[r] = {"conv": conv, "error": error, "params": sum(p.numel() for p in flat.parameters()),
                              "ms": self._time(flat, inputs[n])}
            self._options[n] = options
        feats = self.model.features
        with torch.inference_mode():  # what comes before the first chosen layer never changes
            self._prefix = feats[:self._positions[0]](self.model.standardize(self._test.x))
        ends = [*self._positions[1:], len(feats)]
        self._after = [feats[p + 1:end] for p, end in zip(self._positions, ends)]  # each layer's BN, ReLU, pool
        self._acts: list[OrderedDict] = [OrderedDict() for _ in self.layers[:-1]]  # activations by rank prefix
        self._cache: dict[tuple, dict] = {}
        self.timing_batch = timing_batch

    @staticmethod
    def _time(layer, x) -> float:
        with torch.inference_mode():
            return latency(lambda: layer(x), warmup=1, repeats=5, threads=1).median_ms

    def _check_ranks(self, ranks) -> tuple:
        if not isinstance(ranks, (list, tuple)) or len(ranks) != len(self.layers):
            raise TypeError(f"ranks must be a list or tuple of {len(self.layers)} ints (one per layer of "
                            f"{self.layers}), got {type(ranks).__name__} ({ranks!r}).")
        return tuple(check_int(f"ranks[{i}]", r, minimum=0, maximum=self.max_rank) for i, r in enumerate(ranks))

    def compute(self, ranks) -> dict:
        """Error, accuracy, parameters and time of the CNN with the chosen ranks (no drawing).

        Parameters
        ----------
        ranks : sequence of int
            One per layer, in ``0 .. max_rank``; 0 keeps that layer's 3-D convolution.

        Returns
        -------
        dict
            ``{"ranks", "errors" (relative error of each layer's weight, 0 for a 3-D one), "params"
            (weights per layer), "dense_params", "accuracy" (on the test subset, before any
            fine-tuning), "base_accuracy", "ms" (the chosen layers' forward time on ``timing_batch``
            images, one thread, measured when the explorer was built), "dense_ms"}``.

        Raises
        ------
        TypeError, ValueError
            If ``ranks`` is not a sequence of one int per layer in ``0 .. max_rank``.
        """
        ranks = self._check_ranks(ranks)
        if ranks in self._cache:
            return self._cache[ranks]
        chosen = [self._options[n][r] for n, r in zip(self.layers, ranks)]
        result = {"ranks": ranks, "errors": [o["error"] for o in chosen], "params": [o["params"] for o in chosen],
                  "dense_params": [self._options[n][0]["params"] for n in self.layers],
                  "accuracy": self._accuracy(ranks, chosen), "base_accuracy": self.base_accuracy,
                  "ms": sum(o["ms"] for o in chosen), "dense_ms": sum(self._options[n][0]["ms"] for n in self.layers)}
        self._cache[ranks] = result
        return result

    def _accuracy(self, ranks: tuple, chosen: list) -> float:
        """Run the test subset from the last activation cached for a prefix of ``ranks`` (a slider moved
        at the end of the network recomputes only the end)."""
        with torch.inference_mode():
            act, start = self._prefix, 0
            for i in range(len(self._acts) - 1, -1, -1):
                if ranks[:i + 1] in self._acts[i]:
                    act, start = self._acts[i][ranks[:i + 1]], i + 1
                    self._acts[i].move_to_end(ranks[:i + 1])
                    break
            for i in range(start, len(self.layers)):
                act = self._after[i](chosen[i]["conv"](act))
                if i < len(self._acts):
                    self._acts[i][ranks[:i + 1]] = act
                    if len(self._acts[i]) > self.MAX_CACHED:
                        self._acts[i].popitem(last=False)
            logits = self.model.classifier(act)
        return float((logits.argmax(1) == self._test.y).float().mean())

    def _create(self, res: dict) -> None:
        # no legend, short labels: the PNG is what the notebook shows, and drawing it is most of an update
        k = np.arange(len(self.layers))
        ax1, ax2 = self._axes = self.fig.subplots(1, 2)
        self._err_bars = ax1.bar(k, res["errors"], color="C3")
        ax1.set_ylim(0, 1)
        ax1.set_ylabel("relative error of W")
        self._par_bars = ax2.bar(k, 100 * np.array(res["params"]) / np.array(res["dense_params"]), color="C0")
        ax2.set_ylim(0, 100)
        ax2.set_ylabel("weights, % of the 3-D layer")
        for ax in (ax1, ax2):
            ax.set_xticks(k, [n.split(".")[-1] for n in self.layers])
            ax.set_xlabel("layer (features.N)")
        self.fig.tight_layout()

    def _draw(self, res: dict, **params) -> None:
        """Relative error per layer (left), weights as a share of the 3-D layer's (right)."""
        for bar, e in zip(self._err_bars, res["errors"]):
            bar.set_height(e)
        for bar, p, d in zip(self._par_bars, res["params"], res["dense_params"]):
            bar.set_height(100 * p / d)
        self._axes[0].set_title("ranks " + ", ".join(str(r) if r else "3-D" for r in res["ranks"]), fontsize=9)

    def _controls(self, *, ranks=None) -> tuple:
        """A rank slider per layer (0 = keep the 3-D convolution); ``ranks``: their first values (default 1)."""
        import ipywidgets as w

        start = self._check_ranks(ranks if ranks is not None else [1] * len(self.layers))
        sliders = [w.IntSlider(value=r, min=0, max=self.max_rank, description=n, continuous_update=False)
                   for n, r in zip(self.layers, start)]
        return [w.HBox(sliders[:2]), w.HBox(sliders[2:])], sliders, lambda: {"ranks": [s.value for s in sliders]}

    def _status(self, res: dict, **params) -> str:
        from ..timing import cpu_capability

        total, dense = sum(res["params"]), sum(res["dense_params"])
        return (f"accuracy {100 * res['accuracy']:.1f}% (3-D: {100 * res['base_accuracy']:.1f}%, before any "
                f"fine-tuning) · weights of these layers {total:,} of {dense:,} ({dense / total:.1f}x fewer) · "
                f"their forward time {res['ms']:.1f} ms (3-D: {res['dense_ms']:.1f} ms) on {self.timing_batch} "
                f"images, 1 thread, {cpu_capability()}")

    #: The notebook's fixed test subset: the first 120 CIFAR-10 test images.
    TEST_IMAGES = 120
    #: Activations kept per layer (by the ranks up to that layer): a few MB each on 120 images.
    MAX_CACHED = 12
