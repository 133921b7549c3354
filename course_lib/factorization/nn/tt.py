"""TT layers in PyTorch (Novikov et al. 2015): a Linear layer whose weight is a TT-matrix, trained with SGD/Adam.

:class:`TTLinear` stores the cores ``G_k`` of shape ``(r_{k-1}, m_k, n_k, r_k)`` as parameters and
computes ``y = x W + b`` in the contraction order of :func:`course_lib.factorization.tt_matmul` (one
matrix product per core, the dense ``W`` never formed); autograd differentiates the same products,
so its gradients are the hand-written NumPy ones (the tests check this). It starts either from a
trained ``nn.Linear`` (TT-SVD of its weight, :func:`tt_linear_from`) or at random with the variance
of the reconstructed weight set to the Glorot or He target -- not the product of ``d`` small
variances that makes tensorly-torch's TT layers start about 100 times too small.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_bool,
    check_choice,
    check_float_array,
    check_int,
    check_model,
    check_names,
    check_random_state,
)
from ...layers import set_submodule
from ..tt import check_cores, check_tt_ranks
from ..ttmatrix import TTMatrix, check_modes, random_tt_matrix, tt_matrix
from ._checks import check_weight_tensor

__all__ = ["TTLinear", "TT_INITS", "tt_linear_from", "tt_model", "tt_linear_layers", "init_std"]

TT_INITS = ("glorot", "he")


def init_std(in_features: int, out_features: int, init: str = "glorot") -> float:
    """The target standard deviation of a weight entry: Glorot ``sqrt(2 / (M + N))`` or He ``sqrt(2 / M)``."""
    init = check_choice("init", init, TT_INITS)
    m, n = check_int("in_features", in_features, minimum=1), check_int("out_features", out_features, minimum=1)
    return math.sqrt(2.0 / (m + n)) if init == "glorot" else math.sqrt(2.0 / m)


def _tt_forward(cores, x: torch.Tensor) -> torch.Tensor:
    z = x.t()  # (m_1 ... m_d, B)
    for c in cores:
        r0, m, n, r1 = c.shape
        z = z.reshape(m, -1, r0).permute(1, 2, 0).reshape(-1, r0 * m) @ c.reshape(r0 * m, n * r1)
    return z.reshape(x.shape[0], -1)


class TTLinear(nn.Module):
    """``y = x W + b`` with ``W`` (in x out) a TT-matrix of input modes ``m_k`` and output modes ``n_k``.

    Parameters
    ----------
    in_modes, out_modes : sequence of int
        Equal lengths ``d``; ``in_features = prod(in_modes)``, ``out_features = prod(out_modes)``.
    ranks : int or sequence of d + 1 ints
        TT-ranks (an int ``r``: ``(1, r, ..., r, 1)``).
    bias : bool, keyword-only
    init : {"glorot", "he"}, keyword-only
        The target variance of the reconstructed weight (:func:`init_std`).
    rng : None, int or numpy.random.Generator, keyword-only
        Draws the initial cores.

    Raises
    ------
    TypeError, ValueError
        If the modes, ranks, ``bias`` or ``init`` are invalid.
    """

    def __init__(self, in_modes, out_modes, ranks, *, bias: bool = True, init: str = "glorot", rng=None):
        super().__init__()
        self.in_modes, self.out_modes = check_modes(in_modes, out_modes)
        self.ranks = check_tt_ranks(ranks, self.in_modes)
        self.in_features, self.out_features = math.prod(self.in_modes), math.prod(self.out_modes)
        std = init_std(self.in_features, self.out_features, init)
        cores = random_tt_matrix(self.in_modes, self.out_modes, self.ranks, std=std, rng=check_random_state(rng),
                                 dtype=np.float32).cores
        self.cores = nn.ParameterList([nn.Parameter(torch.from_numpy(c)) for c in cores])
        self.bias = nn.Parameter(torch.zeros(self.out_features)) if check_bool("bias", bias) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x W + b`` for ``x`` of shape ``(B, in_features)``, core by core.

        Raises
        ------
        TypeError
            If ``x`` is not a floating-point tensor (a NumPy array included).
        ValueError
            If ``x`` is not 2-D with ``in_features`` columns, or not of the layer's dtype and device.
        """
        check_weight_tensor("x", x, x.dim() if isinstance(x, torch.Tensor) else 2)
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x has shape {tuple(x.shape)}, must be (batch, {self.in_features}).")
        if x.dtype != self.cores[0].dtype or x.device != self.cores[0].device:
            raise ValueError(f"x is {x.dtype} on {x.device}, must be {self.cores[0].dtype} on {self.cores[0].device} "
                             f"like the layer (convert with x.to(...)).")
        y = _tt_forward(list(self.cores), x)
        return y if self.bias is None else y + self.bias

    def weight(self) -> torch.Tensor:
        """The dense ``out x in`` weight, as ``nn.Linear`` stores it (for checks; never used in forward)."""
        return _tt_forward(list(self.cores), torch.eye(self.in_features, dtype=self.cores[0].dtype)).t()

    @classmethod
    def from_matrix(cls, matrix, bias=None) -> TTLinear:
        """A layer holding the cores of a :class:`~course_lib.factorization.TTMatrix` (copied) and ``bias``.

        Raises
        ------
        TypeError
            If ``matrix`` is not a TTMatrix, or ``bias`` not an array of real numbers.
        ValueError
            If ``bias`` does not have ``prod(out_modes)`` entries or holds NaN/inf.
        """
        if not isinstance(matrix, TTMatrix):
            raise TypeError(f"matrix must be a TTMatrix (from tt_matrix), got {type(matrix).__name__}.")
        check_cores(matrix.cores, "matrix.cores", ndim=4)
        if bias is not None:
            n_out = math.prod(matrix.out_modes)
            b = check_float_array("bias", bias)
            if b.size != n_out:
                raise ValueError(f"bias has {b.size} entries, must have {n_out}.")
        out = cls(matrix.in_modes, matrix.out_modes, matrix.ranks, bias=bias is not None)
        with torch.no_grad():
            for p, c in zip(out.cores, matrix.cores):
                p.copy_(torch.from_numpy(np.asarray(c)))
            if bias is not None:
                b = torch.as_tensor(bias).detach().reshape(-1)
                if b.numel() != out.out_features:
                    raise ValueError(f"bias has {b.numel()} entries, must have {out.out_features}.")
                out.bias.copy_(b)
        return out

    @property
    def params(self) -> int:
        """Numbers in the cores (the bias excluded)."""
        return int(sum(c.numel() for c in self.cores))

    def extra_repr(self) -> str:
        return (f"in_modes={self.in_modes}, out_modes={self.out_modes}, ranks={self.ranks}, "
                f"bias={self.bias is not None}")


def tt_linear_from(layer, in_modes, out_modes, rank=None, *, eps=None) -> TTLinear:
    """A :class:`TTLinear` holding the TT-SVD of a trained ``nn.Linear``'s weight (and its bias).

    Parameters
    ----------
    layer : torch.nn.Linear
    in_modes, out_modes : sequence of int
        ``prod(in_modes) == in_features``, ``prod(out_modes) == out_features``.
    rank, eps
        As for :func:`course_lib.factorization.tt_matrix`.

    Raises
    ------
    TypeError
        If ``layer`` is not an ``nn.Linear``.
    ValueError
        If the modes do not multiply to the layer's sizes or the rank rule is broken.
    """
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"layer must be a torch.nn.Linear, got {type(layer).__name__}.")
    in_modes, out_modes = check_modes(in_modes, out_modes, layer.in_features, layer.out_features)
    tm = tt_matrix(layer.weight.detach().double().numpy().T, in_modes, out_modes, rank, eps=eps)
    return TTLinear.from_matrix(tm, layer.bias)


def tt_linear_layers(model) -> dict[str, nn.Linear]:
    """The ``nn.Linear`` layers of ``model`` by name (the candidates for :func:`tt_model`)."""
    check_model(model)
    return {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}


def tt_model(model, layers: dict, rank=None, *, eps=None, decompose: bool = True, seed: int = 0):
    """A copy of ``model`` with the named Linear layers replaced by TT layers.

    Parameters
    ----------
    model : torch.nn.Module
        Not changed.
    layers : dict of str -> (in_modes, out_modes)
        The layers to replace and their modes.
    rank, eps
        The TT-ranks (or the accuracy of the TT-SVD, with ``decompose``).
    decompose : bool, keyword-only
        True: TT-SVD of the trained weights (:func:`tt_linear_from`); False: random Glorot cores and a
        zero bias (training from scratch; ``eps`` is not allowed).
    seed : int, keyword-only
        Seeds the random cores.

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a Module, ``layers`` names something that is not a Linear layer, the modes or
        ranks are invalid, or ``seed`` is not an int >= 0.
    """
    linear = tt_linear_layers(model)
    if not isinstance(layers, dict):
        raise TypeError(f"layers must be a dict of name -> (in_modes, out_modes), got {type(layers).__name__}.")
    check_names("layers", list(layers), allowed=list(linear))
    decompose = check_bool("decompose", decompose)
    seed = check_int("seed", seed, minimum=0)
    if not decompose and (eps is not None or rank is None):
        raise ValueError("decompose=False draws random cores: give rank (an int or d + 1 ints), not eps.")
    out = copy.deepcopy(model)
    for k, (name, modes) in enumerate(layers.items()):
        if not isinstance(modes, (tuple, list)) or len(modes) != 2:
            raise ValueError(f"layers[{name!r}] == {modes!r}, must be a pair (in_modes, out_modes).")
        lin = linear[name]
        in_modes, _ = check_modes(*modes, lin.in_features, lin.out_features)
        if rank is not None:
            check_tt_ranks(rank, in_modes, "rank")
        new = (tt_linear_from(lin, *modes, rank, eps=eps) if decompose
               else TTLinear(*modes, rank, bias=lin.bias is not None, rng=seed + k))
        set_submodule(out, name, new)
    return out.eval()
