"""The Tensor-Train explorer of notebook 08: TT-rank and number of modes -> compression, error, accuracy, latency."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from .._validation import check_bool, check_choice, check_int, check_model
from ..factorization.nn.tt import TTLinear
from ..factorization.tt import tt_round
from ..factorization.ttmatrix import TTMatrix, tt_matrix
from ..layers import set_submodule
from ..measure import latency
from ..timing import fixed_threads
from .base import Explorer
from .layout import check_dataset

__all__ = ["TTExplorer", "WIDE_MLP_MODES", "TT_RANKS"]

#: the wide MLP's two hidden layers as TT-matrices with d = 2, 4, 6 modes: (in_modes, out_modes) per layer
WIDE_MLP_MODES = {
    2: {"fc1": ((28, 28), (32, 32)), "fc2": ((32, 32), (32, 32))},
    4: {"fc1": ((4, 7, 7, 4), (4, 8, 8, 4)), "fc2": ((4, 8, 8, 4), (4, 8, 8, 4))},
    6: {"fc1": ((2, 2, 7, 7, 2, 2), (2, 4, 4, 4, 4, 2)), "fc2": ((2, 4, 4, 4, 4, 2), (2, 4, 4, 4, 4, 2))},
}
TT_RANKS = (1, 2, 4, 8, 16)


class TTExplorer(Explorer):
    """Pick a TT-rank and a number of modes ``d`` for the wide MLP's two hidden layers; see the compression, the
    relative reconstruction error of each weight, the test accuracy without retraining and the measured latency.

    Each layer is decomposed by TT-SVD at the largest rank, 16, once per ``d`` (seconds); a smaller rank is the
    TT-rounding of that train (a few small QRs and SVDs, milliseconds). Accuracy is measured with the
    reconstructed weights in dense layers (the same function as the TT layers up to float rounding, and a
    steadier cost), latency on the TT layers themselves, one image per call. By default every setting is
    measured at construction and remembered, so a control change only redraws.

    Parameters
    ----------
    model : torch.nn.Module
        The trained wide MLP (``load_pretrained("wide_mlp")``; never changed: a copy is modified).
    test : Dataset
        A fixed test subset where accuracy is measured (:attr:`TEST_IMAGES`, 300, keep updates fast).
    batch : int, keyword-only
        Images per call in the latency measurement (one thread, median of 5 calls).
    d : int, keyword-only
        The number of modes the widget starts with (2, 4 or 6).
    precompute : bool, keyword-only
        Measure every (TT-rank, ``d``) setting once at construction (a few seconds), so that moving a control
        only redraws (the 150 ms budget holds on a slow laptop too). Without it, a setting is measured the first
        time it is chosen (50-150 ms on an AVX2 CPU).

    Raises
    ------
    TypeError
        If ``model`` is not a Module, ``test`` not a Dataset, ``batch`` not an int or ``precompute`` not a bool.
    ValueError
        If ``test`` does not fit the model, the model has no 784 -> 1024 ``fc1`` and 1024 -> 1024 ``fc2``,
        ``d`` is not 2, 4 or 6, or ``batch < 1``.
    """

    #: the notebook's fixed test subset: the first 300 MNIST test images
    TEST_IMAGES = 300

    def __init__(self, model, test, *, d: int = 4, batch: int = 1, precompute: bool = True):  # noqa: D107
        check_model(model)
        check_dataset("test", test, model)
        precompute = check_bool("precompute", precompute)
        d = check_choice("d", d, tuple(WIDE_MLP_MODES))
        batch = check_int("batch", batch, minimum=1)  # every argument checked before the first decomposition
        linear = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
        for name, shape in (("fc1", (1024, 784)), ("fc2", (1024, 1024))):
            if name not in linear or tuple(linear[name].weight.shape) != shape:
                raise ValueError(f"model has no Linear {name} of weight shape {shape}, must be the wide MLP "
                                 f"(load_pretrained('wide_mlp')).")
        self._adopt(model, test)
        self.layers = ("fc1", "fc2")
        self._dense = {n: linear[n] for n in self.layers}
        self._weights = {n: linear[n].weight.detach().numpy().T for n in self.layers}  # in x out, float32
        self._top: dict[tuple, TTMatrix] = {}
        self._reconstructed = copy.deepcopy(self.model)  # dense layers holding W_TT: the accuracy
        self._tt = copy.deepcopy(self.model)  # TT layers: the latency
        self._x = self._test.x[:batch]
        self.base_accuracy = self._test.accuracy(self.model)
        dense, x = self.model, self._x
        self.base_latency_ms = latency(lambda: dense(x), warmup=1, repeats=5, threads=1).median_ms
        self._trains: dict[tuple, tuple[TTMatrix, np.ndarray, float]] = {}
        self._results: dict[tuple, tuple[float, float]] = {}
        self.visited: dict[tuple, tuple[float, float]] = {}
        self.prepare(d)
        if precompute:
            for dd in WIDE_MLP_MODES:
                for rank in TT_RANKS:
                    self._measure(rank, dd)

    def prepare(self, d: int) -> None:
        """Decompose both layers with ``d`` modes at the largest rank (done once per ``d``; seconds)."""
        d = check_choice("d", d, tuple(WIDE_MLP_MODES))
        for n in self.layers:
            if (d, n) not in self._top:
                self._top[(d, n)] = tt_matrix(self._weights[n], *WIDE_MLP_MODES[d][n], max(TT_RANKS))

    def train(self, name: str, rank: int, d: int) -> tuple[TTMatrix, np.ndarray, float]:
        """Layer ``name``'s TT-matrix at ``rank`` with ``d`` modes, its dense ``in x out`` matrix and its relative
        error ``||W - W_TT||_F / ||W||_F`` (cached).

        Raises
        ------
        TypeError, ValueError
            If ``name`` is not one of :attr:`layers`, ``rank`` not one of :data:`TT_RANKS` or ``d`` not 2, 4 or 6.
        """
        check_choice("name", name, self.layers)
        check_choice("rank", rank, TT_RANKS)
        key = (name, rank, d)
        if key not in self._trains:
            self.prepare(d)
            top = self._top[(d, name)]
            if rank >= max(top.ranks):
                tm = top
            else:
                merged = [c.reshape(c.shape[0], -1, c.shape[-1]) for c in top.cores]
                cores = tt_round(merged, rank).cores
                tm = TTMatrix([c.reshape(c.shape[0], t.shape[1], t.shape[2], c.shape[-1])
                               for c, t in zip(cores, top.cores)])
            dense = tm.to_dense()
            w = self._weights[name]
            self._trains[key] = (tm, dense, float(np.linalg.norm(w - dense) / np.linalg.norm(w)))
        return self._trains[key]

    def compute(self, rank: int, d: int = 4) -> dict:
        """The numbers for TT-rank ``rank`` and ``d`` modes (no drawing).

        Parameters
        ----------
        rank : one of :data:`TT_RANKS`
        d : one of 2, 4, 6
            The number of modes (``d = 2``: the TT-matrix is a rank-``r`` SVD of the reshuffled weight).

        Returns
        -------
        dict
            ``errors`` (layer -> ``||W - W_TT||_F / ||W||_F``), ``params`` and ``dense_params`` (weights of the two
            layers), ``compression``, ``accuracy``, ``base_accuracy``, ``latency_ms`` and ``base_latency_ms`` (the
            whole model on ``batch`` images, one thread), ``ranks`` (each layer's TT-ranks), ``rank``, ``d``.

        Raises
        ------
        TypeError, ValueError
            If ``rank`` or ``d`` is not one of the allowed values.
        """
        rank = check_choice("rank", rank, TT_RANKS)
        d = check_choice("d", d, tuple(WIDE_MLP_MODES))
        trains, accuracy, ms = self._measure(rank, d)
        key = (rank, d)
        errors = {n: trains[n][2] for n in self.layers}
        params = sum(t[0].params for t in trains.values())
        dense = sum(math.prod(w.shape) for w in self._weights.values())
        self.visited[key] = (dense / params, accuracy)
        return {"rank": rank, "d": d, "ranks": {n: t[0].ranks for n, t in trains.items()}, "errors": errors,
                "params": params, "dense_params": dense, "compression": dense / params, "accuracy": accuracy,
                "base_accuracy": self.base_accuracy, "latency_ms": ms, "base_latency_ms": self.base_latency_ms}

    def _measure(self, rank: int, d: int) -> tuple[dict, float, float]:
        """The trains, accuracy and latency of a setting (measured once, then remembered); ``self._tt`` is left
        holding that setting's TT layers."""
        with fixed_threads(1):  # small QRs and SVDs: waking a second BLAS thread costs more than it saves
            trains = {n: self.train(n, rank, d) for n in self.layers}
        key = (rank, d)
        if key not in self._results:
            layers = {}
            for name, (tm, dense, _) in trains.items():
                layer = TTLinear(tm.in_modes, tm.out_modes, tm.ranks)
                with torch.no_grad():
                    for p, c in zip(layer.cores, tm.cores):
                        p.copy_(torch.from_numpy(c))
                    layer.bias.copy_(self._dense[name].bias.detach())
                    getattr(self._reconstructed, name).weight.copy_(torch.from_numpy(dense.T))
                layers[name] = layer.eval()
                set_submodule(self._tt, name, layers[name])
            net, x = self._tt, self._x
            ms = latency(lambda: net(x), warmup=1, repeats=5, threads=1).median_ms
            self._results[key] = (self._test.accuracy(self._reconstructed), ms, layers)
        accuracy, ms, layers = self._results[key]
        for name, layer in layers.items():
            set_submodule(self._tt, name, layer)
        return trains, accuracy, ms

    def _create(self, result: dict) -> None:
        from matplotlib.ticker import NullLocator

        ax1, ax2 = self._axes = self.fig.subplots(1, 2)
        self._bars = ax1.bar(self.layers, [0.0, 0.0], color=["C0", "C1"])
        ax1.set_ylim(0, 100)
        ax1.set_yticks([0, 50, 100])  # few tick labels: text is most of the PNG's cost
        ax1.set_ylabel("‖W − W_TT‖ / ‖W‖, %")  # plain text: mathtext costs ~20 ms a PNG
        ax2.axhline(100 * self.base_accuracy, color="gray", ls="--", lw=1)
        self._seen = ax2.scatter([], [], color="C0", s=14)
        (self._now,) = ax2.plot([], [], "o", color="C3", ms=8)
        ax2.set_xscale("log")
        ax2.set_xlim(1, 1e4)
        ax2.set_xticks([1, 100, 10000], ["1", "100", "10000"])
        ax2.xaxis.set_minor_locator(NullLocator())  # minor log ticks cost a third of the PNG
        ax2.set_ylim(0, 100)
        ax2.set_yticks([0, 50, 100])
        ax2.set_xlabel("compression of fc1 + fc2")
        ax2.set_ylabel("test accuracy, %")
        self.fig.tight_layout()

    def _draw(self, result: dict, **params) -> None:
        """The error of each layer (left), accuracy against compression of every setting seen so far, the current
        one highlighted (right)."""
        for bar, name in zip(self._bars, self.layers):
            bar.set_height(100 * result["errors"][name])
        self._axes[0].set_title(f"TT-rank {result['rank']}, d = {result['d']}: reconstruction error", fontsize=9)
        pts = np.array([(c, 100 * a) for c, a in self.visited.values()])
        self._seen.set_offsets(pts)
        self._now.set_data([result["compression"]], [100 * result["accuracy"]])
        self._axes[1].set_title("no retraining; dashed: the dense model", fontsize=9)

    def _controls(self, *, rank: int = 4, d: int = 4) -> tuple:
        """A TT-rank slider and the number of modes, starting at ``rank`` and ``d``."""
        import ipywidgets as w

        rank_box = w.SelectionSlider(options=TT_RANKS, value=check_choice("rank", rank, TT_RANKS),
                                     description="TT-rank", continuous_update=False)
        d_box = w.Dropdown(options=tuple(WIDE_MLP_MODES), value=check_choice("d", d, tuple(WIDE_MLP_MODES)),
                           description="modes d")
        return [w.HBox([rank_box, d_box])], [rank_box, d_box], lambda: {"rank": rank_box.value, "d": d_box.value}

    def _status(self, res: dict, **params) -> str:
        from ..timing import cpu_capability

        return (f"accuracy {100 * res['accuracy']:.2f}% (dense {100 * res['base_accuracy']:.2f}%) · "
                f"{res['params']:,} weights in fc1 + fc2 ({res['compression']:.0f}x fewer) · "
                f"{res['latency_ms']:.2f} ms per {len(self._x)} images (dense {res['base_latency_ms']:.2f} ms), "
                f"1 thread, {cpu_capability()}")
