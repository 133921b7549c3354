"""The flattened-convolution explorer of notebook 07: a rank per layer -> error, accuracy, parameters, time."""

from __future__ import annotations

import copy

import numpy as np
import torch

from .._validation import check_int, check_model, check_names
from ..layers import set_submodule
from ..timing import latency
from .layout import TestSet, check_dataset, explorer_box

__all__ = ["FlattenedExplorer"]


class FlattenedExplorer:
    """Choose the rank R of each convolution (0 keeps the 3-D layer); see what the decomposition costs.

    Every decomposition (each layer at each rank ``1 .. max_rank``) is computed and each layer's
    forward time measured once, when the explorer is built. An update swaps the chosen filters into a
    working copy of the model and runs it on the fixed test subset: the flattened filters run as a
    3-D convolution of the reconstructed weight -- the same function (the tests check the equality),
    at the dense kernel's speed -- and a setting seen before answers from a cache.

    Parameters
    ----------
    model : torch.nn.Module
        The trained CNN (never changed).
    test : Dataset
        The fixed test subset (a few hundred images keep an update within the 150 ms budget).
    layers : sequence of str
        The Conv2d layers that get a rank slider.
    max_rank : int, keyword-only, default 4
        The largest rank offered.
    timing_batch : int, keyword-only, default 32
        Images per timed forward pass of each layer (one thread, the median of 5).

    Raises
    ------
    TypeError
        If ``model`` is not a Module, ``test`` not a Dataset, ``layers`` not a list of names, or a
        named layer is not an ``nn.Conv2d``.
    ValueError
        If a name is not a layer, ``max_rank < 1`` or ``timing_batch < 1``, or the test set does
        not fit the model.
    """

    def __init__(self, model, test, layers, *, max_rank: int = 4, timing_batch: int = 32):
        from ..factorization.nn.flattened import flatten_conv2d, flatten_model

        check_model(model)
        check_dataset("test", test, model)
        self.layers = check_names("layers", list(layers))
        self.max_rank = check_int("max_rank", max_rank, minimum=1)
        timing_batch = check_int("timing_batch", timing_batch, minimum=1)
        flatten_model(model, self.layers, decompose=False)  # checks every name and layer, cheaply
        self.model = model.eval()
        modules = dict(self.model.named_modules())
        self._dense = {n: modules[n] for n in self.layers}
        self._test = TestSet(test)
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
        self._work = copy.deepcopy(self.model)
        self._cache: dict[tuple, dict] = {}
        self.timing_batch = timing_batch
        self.fig = None

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
        for name, option in zip(self.layers, chosen):
            set_submodule(self._work, name, option["conv"])
        result = {"ranks": ranks, "errors": [o["error"] for o in chosen], "params": [o["params"] for o in chosen],
                  "dense_params": [self._options[n][0]["params"] for n in self.layers],
                  "accuracy": self._test.accuracy(self._work), "base_accuracy": self.base_accuracy,
                  "ms": sum(o["ms"] for o in chosen), "dense_ms": sum(self._options[n][0]["ms"] for n in self.layers)}
        self._cache[ranks] = result
        return result

    def update(self, ranks) -> dict:
        """Compute and redraw: relative error per layer (left), weights per layer, dense vs chosen (right).

        Parameters
        ----------
        ranks : sequence of int
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
        import matplotlib.pyplot as plt

        res = self.compute(ranks)
        k = np.arange(len(self.layers))
        if self.fig is None:  # artists made once; an update only changes their heights
            with plt.ioff():
                self.fig = plt.figure(figsize=(8.5, 2.8))
            ax1, ax2 = self._axes = self.fig.subplots(1, 2)
            self._err_bars = ax1.bar(k, res["errors"], color="C3")
            ax1.set_ylim(0, 1)
            ax1.set_ylabel("relative error ||W - W^|| / ||W||")
            ax2.bar(k - 0.2, res["dense_params"], width=0.4, color="gray", label="3-D")
            self._par_bars = ax2.bar(k + 0.2, res["params"], width=0.4, color="C0", label="chosen")
            ax2.set_yscale("log")
            ax2.set_ylabel("weights")
            ax2.legend(fontsize=8)
            for ax in (ax1, ax2):
                ax.set_xticks(k, self.layers, fontsize=8)
            self.fig.tight_layout()
        for bar, e in zip(self._err_bars, res["errors"]):
            bar.set_height(e)
        for bar, p in zip(self._par_bars, res["params"]):
            bar.set_height(p)
        self._axes[0].set_title("ranks " + ", ".join(str(r) if r else "3-D" for r in res["ranks"]), fontsize=9)
        return res

    def widget(self, *, ranks=None):
        """The ipywidgets UI: a rank slider per layer (0 = keep the 3-D convolution), the two plots.

        Parameters
        ----------
        ranks : sequence of int or None, keyword-only
            The sliders' first values (default rank 1 everywhere).

        Returns
        -------
        ipywidgets.VBox
        """
        import ipywidgets as w

        from ..timing import cpu_capability

        start = self._check_ranks(ranks if ranks is not None else [1] * len(self.layers))
        sliders = [w.IntSlider(value=r, min=0, max=self.max_rank, description=n, continuous_update=False)
                   for n, r in zip(self.layers, start)]

        def describe():
            res = self.update([s.value for s in sliders])
            total, dense = sum(res["params"]), sum(res["dense_params"])
            return (f"accuracy {100 * res['accuracy']:.1f}% (3-D: {100 * res['base_accuracy']:.1f}%, before any "
                    f"fine-tuning) · weights of these layers {total:,} of {dense:,} ({dense / total:.1f}x fewer) · "
                    f"their forward time {res['ms']:.1f} ms (3-D: {res['dense_ms']:.1f} ms) on {self.timing_batch} "
                    f"images, 1 thread, {cpu_capability()}")

        return explorer_box([w.HBox(sliders[:2]), w.HBox(sliders[2:])], sliders, describe, self)

    #: The settings the widget benchmark (``python -m course_lib.bench widgets``) times: one slider moved at a time.
    BENCH_CALLS = ((1, 1, 1, 1), (1, 2, 1, 1), (1, 2, 3, 1), (0, 2, 3, 4), (4, 4, 4, 4))
    #: The notebook's fixed test subset: the first 150 CIFAR-10 test images.
    TEST_IMAGES = 150

    @classmethod
    def bench_case(cls) -> tuple:
        """``(label, explorer, calls)`` for the widget benchmark: notebook 07's explorer on its subset.

        Returns
        -------
        tuple
            The benchmark's label, the explorer on the trained CNN and :data:`FLATTENED_LAYERS`, and the
            keyword arguments of :meth:`update` for each timed call.
        """
        from ..checkpoints import load_pretrained
        from ..data import load_cifar10
        from ..factorization.nn.flattened_train import FLATTENED_LAYERS

        explorer = cls(load_pretrained("cifar_vgg"), load_cifar10("test", limit=cls.TEST_IMAGES), FLATTENED_LAYERS)
        return "07 flattened, rank per layer", explorer, [dict(ranks=list(r)) for r in cls.BENCH_CALLS]
