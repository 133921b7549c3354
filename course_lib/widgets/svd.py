"""The SVD explorer of notebook 06: a rank per fully connected layer -> error, accuracy, parameters, latency."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .._validation import check_choice, check_int, check_model, check_names
from ..factorization.lowrank import check_rank
from ..factorization.randomized import randomized_svd
from ..layers import set_submodule
from ..measure import latency
from ..timing import fixed_threads
from .base import Explorer
from .layout import check_dataset

__all__ = ["SVDExplorer", "SVD_CHOICES"]

SVD_CHOICES = ("exact", "randomized q=0", "randomized q=1", "randomized q=2")


class SVDExplorer(Explorer):
    """Pick a rank ``K`` for each fully connected layer and the SVD that computes it; see the relative
    reconstruction error of each weight, the test accuracy, the parameters and the measured latency.

    The exact SVD of every layer is computed once, here; a randomized SVD (``p = 10``, ``q`` power
    iterations, seed 0) once per layer, rank and ``q`` when first asked for. The factorized
    layers, the accuracies and the latencies are remembered, so a slider position seen before
    answers at once.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (never changed: a copy is factorized).
    test : Dataset
        A fixed test subset where accuracy is measured (1,000 images keep updates fast).
    layers : sequence of str or None, keyword-only
        The Linear layers with a slider (default: every Linear layer but the last, the classifier).
    batch : int, keyword-only
        Images per call in the latency measurement (one thread, median of 3 calls after one warm-up).

    Raises
    ------
    TypeError
        If ``model`` is not a Module, ``test`` not a Dataset, or a named layer not a Linear.
    ValueError
        If ``test`` does not fit the model, ``layers`` names no layer of the model, or ``batch < 1``.
    """

    def __init__(self, model, test, *, layers=None, batch: int = 100):
        check_model(model)
        check_dataset("test", test, model)
        batch = check_int("batch", batch, minimum=1)
        linear = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
        names = list(linear)[:-1] if layers is None else check_names("layers", layers, allowed=list(linear))
        if not names:
            raise ValueError("model has a single Linear layer, must have one besides the classifier "
                             "(or pass layers=[...]).")
        self._adopt(model, test)
        self.layers = names
        self._copy = copy.deepcopy(self.model)
        self._dense = {n: linear[n] for n in names}
        self._weights = {n: linear[n].weight.detach().float().numpy() for n in names}
        with fixed_threads(1):  # LAPACK gains little from threads here and loses much on a busy machine
            self._exact = {n: np.linalg.svd(w, full_matrices=False) for n, w in self._weights.items()}
        self.spectra = {n: svd[1] for n, svd in self._exact.items()}
        self._x = self._test.x[:batch]
        self.base_accuracy = self._test.accuracy(self.model)
        self._layers: dict[tuple, tuple[nn.Module, float]] = {}
        self._results: dict[tuple, tuple[float, float]] = {}

    def shape(self, name: str) -> tuple[int, int]:
        """``(n, m)``: outputs x inputs of layer ``name`` (one of :attr:`layers`)."""
        check_choice("name", name, self.layers)
        return self._weights[name].shape

    def _factorized(self, name: str, k: int, method: str) -> tuple[nn.Module, float]:
        key = (name, k, method)
        if key not in self._layers:
            n, m = self.shape(name)
            w = self._weights[name]
            if k == min(n, m):  # full rank: the dense layer itself
                self._layers[key] = (self._dense[name], 0.0)
                return self._layers[key]
            if method == "exact":
                u, s, vt = self._exact[name]
                u, s, vt = u[:, :k], s[:k], vt[:k]
            else:
                with fixed_threads(1):
                    u, s, vt = randomized_svd(w, k, oversamples=10, power_iterations=int(method[-1]),
                                              random_state=0)
            error = float(np.linalg.norm(w - (u * s) @ vt) / np.linalg.norm(w))  # measured, not Eckart-Young
            root = np.sqrt(s)
            first = nn.Linear(m, k, bias=False)
            second = nn.Linear(k, n)
            with torch.no_grad():
                first.weight.copy_(torch.from_numpy(root[:, None] * vt))
                second.weight.copy_(torch.from_numpy(u * root))
                second.bias.copy_(self._dense[name].bias.detach())
            self._layers[key] = (nn.Sequential(first, second).eval(), error)
        return self._layers[key]

    def _check(self, ranks, method):
        method = check_choice("method", method, SVD_CHOICES)
        if not isinstance(ranks, dict) or set(ranks) != set(self.layers):
            raise ValueError(f"ranks == {ranks!r}, must be a dict with a rank for each of {', '.join(self.layers)}.")
        return {n: check_rank(ranks[n], *self.shape(n), f"ranks[{n!r}]") for n in self.layers}, method

    def compute(self, ranks: dict, method: str = "exact") -> dict:
        """The numbers for ``ranks`` (no drawing).

        Parameters
        ----------
        ranks : dict of str -> int
            A rank for each layer of :attr:`layers`, in ``1 .. min(n, m)`` (``min(n, m)``: dense).
        method : one of :data:`SVD_CHOICES`
            The exact SVD or a randomized one with ``q`` = 0, 1 or 2 power iterations.

        Returns
        -------
        dict
            ``errors`` (layer -> ``||W - W_K||_F / ||W||_F``), ``params`` and ``dense_params``
            (weights of the chosen layers), ``accuracy``, ``base_accuracy``, ``latency_ms`` (the
            whole model on ``batch`` images, one thread) and the ``ranks`` and ``method``.

        Raises
        ------
        TypeError, ValueError
            For an unknown method, missing layers or a rank out of range.
        """
        ranks, method = self._check(ranks, method)
        parts = {n: self._factorized(n, k, method) for n, k in ranks.items()}
        key = (method, *(ranks[n] for n in self.layers))
        if key not in self._results:
            for name, (layer, _) in parts.items():
                set_submodule(self._copy, name, layer)
            x, net = self._x, self._copy
            ms = latency(lambda: net(x), warmup=1, repeats=3, threads=1).median_ms
            self._results[key] = (self._test.accuracy(self._copy), ms)
        accuracy, ms = self._results[key]
        params = sum(k * sum(self.shape(n)) if k < min(self.shape(n)) else int(np.prod(self.shape(n)))
                     for n, k in ranks.items())
        return {"ranks": ranks, "method": method, "errors": {n: parts[n][1] for n in self.layers},
                "params": params, "dense_params": int(sum(np.prod(self.shape(n)) for n in self.layers)),
                "accuracy": accuracy, "base_accuracy": self.base_accuracy, "latency_ms": ms}

    def _create(self, result: dict) -> None:
        ax1, ax2 = self._axes = self.fig.subplots(1, 2)
        self._cuts = {}
        for i, name in enumerate(self.layers):
            s = self.spectra[name]
            ax1.plot(np.arange(1, s.size + 1), s / s[0], color=f"C{i}", label=f"{name} {self.shape(name)}")
            self._cuts[name] = ax1.axvline(1, color=f"C{i}", ls="--")
        ax1.set_xlabel("index i")
        ax1.set_ylabel("σᵢ / σ₁")  # plain text (mathtext costs ~20 ms a PNG); linear axes: log doubles it
        ax1.set_ylim(0, 1)
        ax1.set_yticks([0, 0.5, 1])  # few tick labels: text is most of the PNG's cost
        ax1.legend(fontsize=8)
        self._bars = ax2.bar(self.layers, [0.0] * len(self.layers), color=[f"C{i}" for i in range(len(self.layers))])
        ax2.set_ylim(0, 100)
        ax2.set_yticks([0, 50, 100])
        ax2.set_ylabel("‖W − W_K‖ / ‖W‖, %")
        self.fig.tight_layout()

    def _draw(self, result: dict, **params) -> None:
        """Each layer's spectrum with its cut (left), error per layer (right)."""
        for name, k in result["ranks"].items():
            self._cuts[name].set_xdata([k, k])
        for bar, name in zip(self._bars, self.layers):
            bar.set_height(100 * result["errors"][name])
        self._axes[1].set_title(f"{result['method']}: reconstruction error", fontsize=9)

    def _controls(self, *, ranks: dict | None = None) -> tuple:
        """A rank slider per layer (``ranks``: their first values, default a tenth of each layer's full rank)
        and the SVD method."""
        import ipywidgets as w

        if ranks is None:
            ranks = {n: max(1, min(self.shape(n)) // 10) for n in self.layers}
        ranks, _ = self._check(ranks, "exact")
        sliders = {n: w.IntSlider(value=ranks[n], min=1, max=min(self.shape(n)), description=f"K {n}",
                                  continuous_update=False) for n in self.layers}
        method = w.Dropdown(options=SVD_CHOICES, value="exact", description="SVD")
        controls = [*sliders.values(), method]
        return ([w.HBox(list(sliders.values())), method], controls,
                lambda: {"ranks": {n: s.value for n, s in sliders.items()}, "method": method.value})

    def _status(self, res: dict, **params) -> str:
        return (f"accuracy {100 * res['accuracy']:.2f}% (dense {100 * res['base_accuracy']:.2f}%) · "
                f"{res['params']:,} weights in these layers ({res['dense_params'] / res['params']:.1f}x fewer) · "
                f"{res['latency_ms']:.2f} ms per {len(self._x)} images, 1 thread")
