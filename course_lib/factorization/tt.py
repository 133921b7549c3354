"""The Tensor Train: a d-way tensor as a chain of 3-way cores (Oseledets 2011). NumPy only.

A tensor ``A`` of shape ``n_1 x ... x n_d`` is stored as cores ``G_k`` of shape
``(r_{k-1}, n_k, r_k)`` with ``r_0 = r_d = 1``; an entry is a product of matrices

.. math:: A[i_1, \\dots, i_d] = G_1[:, i_1, :]\\, G_2[:, i_2, :] \\cdots G_d[:, i_d, :],

``sum_k r_{k-1} n_k r_k`` numbers instead of ``prod_k n_k``. For ``d = 2`` this is a
rank-``r_1`` factorization of a matrix, and TT-SVD is the truncated SVD.

**TT-SVD** (Oseledets 2011, algorithm 1) sweeps left to right: unfold what is left into a
``(r_{k-1} n_k) x (n_{k+1} ... n_d)`` matrix, keep its truncated SVD, carry ``S V^T`` on.
Truncating every step at Frobenius error ``delta = eps ||A||_F / sqrt(d - 1)`` guarantees

.. math:: \\lVert A - \\mathrm{TT}(A) \\rVert_F \\le \\varepsilon\\, \\lVert A \\rVert_F ,

because the ``d - 1`` errors are orthogonal and add in squares. **TT-rounding**
(algorithm 2) re-compresses an existing train: orthogonalize right to left by QR, then
truncate left to right with the same ``delta``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validation import check_float, check_float_array, check_int, check_random_state
from ._checks import check_float_dtype, check_shape, check_spectrum, refuse_train
from .svd import truncated_svd

__all__ = ["TensorTrain", "tt_svd", "tt_round", "tt_reconstruct", "tt_entry", "tt_ranks", "tt_params",
           "check_cores", "check_tt_ranks", "random_tt", "delta_rank", "tt_norm"]


class TensorTrain(NamedTuple):
    """A tensor train: ``cores[k]`` has shape ``(r_{k-1}, n_k, r_k)``, ``r_0 = r_d = 1``."""

    cores: list

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n_1, ..., n_d)``."""
        return tuple(int(c.shape[1]) for c in self.cores)

    @property
    def ranks(self) -> tuple[int, ...]:
        """``(r_0, r_1, ..., r_d)`` with ``r_0 = r_d = 1``."""
        return tt_ranks(self.cores)

    @property
    def params(self) -> int:
        """Numbers stored: ``sum_k r_{k-1} n_k r_k``."""
        return int(sum(c.size for c in self.cores))

    def reconstruct(self) -> np.ndarray:
        """The full tensor (:func:`tt_reconstruct`)."""
        return tt_reconstruct(self.cores)


def check_cores(cores, name: str = "cores", *, ndim: int = 3) -> list:
    """Cores of a train: a non-empty list of finite ``ndim``-D float arrays whose ranks chain, ``r_0 = r_d = 1``.

    ``ndim = 4`` checks the cores of a TT-matrix, ``(r_{k-1}, m_k, n_k, r_k)``.

    Raises
    ------
    TypeError
        If ``cores`` is not a list or tuple (a :class:`TensorTrain` or ``TTMatrix`` itself is refused with a hint:
        pass its ``.cores``), or a core is not an array of real numbers.
    ValueError
        ``cores[2] has 2 dimension(s) ...``, ``cores[0].shape[0] == 2, must be 1 (the boundary ranks of a train
        are 1).`` or ``cores[1].shape[0] == 3, must equal cores[0].shape[-1] == 4 (ranks must chain).``
    """
    if ndim not in (3, 4, (3, 4)):
        raise ValueError(f"ndim == {ndim!r}, must be 3 (a train), 4 (a TT-matrix) or (3, 4).")
    refuse_train(name, cores, "arrays")
    if isinstance(cores, np.ndarray) or not isinstance(cores, Sequence) or isinstance(cores, str):
        raise TypeError(f"{name} must be a list or tuple of arrays, got {type(cores).__name__}.")
    if len(cores) == 0:
        raise ValueError(f"{name} is empty, must hold at least one core.")
    out = [check_float_array(f"{name}[{k}]", c, ndim=ndim) for k, c in enumerate(cores)]
    if out[0].shape[0] != 1:
        raise ValueError(f"{name}[0].shape[0] == {out[0].shape[0]}, must be 1 (the boundary ranks of a train are 1).")
    if out[-1].shape[-1] != 1:
        raise ValueError(f"{name}[{len(out) - 1}].shape[-1] == {out[-1].shape[-1]}, must be 1 (the boundary ranks "
                         f"of a train are 1).")
    for k in range(1, len(out)):
        if out[k].shape[0] != out[k - 1].shape[-1]:
            raise ValueError(f"{name}[{k}].shape[0] == {out[k].shape[0]}, must equal {name}[{k - 1}].shape[-1] == "
                             f"{out[k - 1].shape[-1]} (ranks must chain).")
    return out


def tt_ranks(cores) -> tuple[int, ...]:
    """``(r_0, ..., r_d)`` of a train (its cores are checked by :func:`check_cores`)."""
    cores = check_cores(cores, ndim=(3, 4))
    return (1, *(int(c.shape[-1]) for c in cores))


def check_tt_ranks(ranks, shape, name: str = "ranks") -> tuple[int, ...]:
    """TT-ranks for a tensor of ``shape``: one int (the same bound for every ``r_k``) or ``d + 1`` ints.

    A list must start and end with 1; each inner ``r_k`` is an int >= 1. Returns ``(1, r_1, ..., r_{d-1}, 1)``
    (an int ``r`` becomes ``(1, r, ..., r, 1)``).

    Raises
    ------
    TypeError
        If ``ranks`` is neither an int nor a sequence of ints, or ``shape`` is not a list of ints.
    ValueError
        ``ranks == 0, must be >= 1.``, ``ranks has 4 entries, must have d + 1 == 7 (r_0 .. r_d).``,
        ``ranks[0] == 2, must be 1 (the boundary ranks of a train are 1).``
    """
    d = len(check_shape("shape", shape))
    if isinstance(ranks, Sequence) and not isinstance(ranks, str):
        ranks = [check_int(f"{name}[{k}]", r, minimum=1) for k, r in enumerate(ranks)]
        if len(ranks) != d + 1:
            raise ValueError(f"{name} has {len(ranks)} entries, must have d + 1 == {d + 1} (r_0 .. r_d).")
        for k in (0, d):
            if ranks[k] != 1:
                raise ValueError(f"{name}[{k}] == {ranks[k]}, must be 1 (the boundary ranks of a train are 1).")
        return tuple(ranks)
    if not isinstance(ranks, (int, np.integer)) or isinstance(ranks, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int or a list of d + 1 ints, got {type(ranks).__name__} ({ranks!r}).")
    r = check_int(name, ranks, minimum=1)
    return (1, *([r] * (d - 1)), 1)


def tt_params(shape, ranks) -> int:
    """Numbers in the cores of a train of ``shape`` with ``ranks``: ``sum_k r_{k-1} n_k r_k``.

    Examples
    --------
    >>> tt_params((8, 8, 8, 8, 8, 8), 3)
    336

    Raises
    ------
    TypeError, ValueError
        If ``shape`` is not a non-empty list of ints >= 1 (``64`` alone is refused: write ``(64,)``) or ``ranks``
        breaks :func:`check_tt_ranks`.
    """
    shape = list(check_shape("shape", shape))
    r = check_tt_ranks(ranks, shape)
    return int(sum(r[k] * shape[k] * r[k + 1] for k in range(len(shape))))


def delta_rank(singular_values: np.ndarray, delta: float) -> int:
    """The smallest ``k >= 1`` with ``sqrt(sum_{i >= k} s_i^2) <= delta``: the rank of a delta-truncated SVD.

    Raises
    ------
    TypeError, ValueError
        If ``singular_values`` is not a finite, non-negative, decreasing 1-D array, or ``delta`` is not a finite
        number >= 0 (``delta == nan, must be finite.``).
    """
    s = check_spectrum(singular_values)
    delta = check_float("delta", delta, low=0.0)
    tails = np.sqrt(np.cumsum((s.astype(np.float64) ** 2)[::-1]))[::-1]  # tails[k] = ||s[k:]||
    fits = np.nonzero(tails <= delta)[0]
    return max(1, int(fits[0]) if fits.size else s.size)


def _truncation(rank, eps, shape):
    if (rank is None) == (eps is None):
        raise ValueError("give exactly one of rank (maximal TT-ranks) and eps (relative accuracy).")
    if eps is not None:
        return None, check_float("eps", eps, low=0.0, high=1.0, high_open=True)
    return check_tt_ranks(rank, shape, "rank"), None


def tt_svd(tensor, rank=None, *, eps=None) -> TensorTrain:
    """The TT decomposition of ``tensor`` by TT-SVD, at given maximal ranks or a relative accuracy.

    Parameters
    ----------
    tensor : array_like, shape (n_1, ..., n_d)
        A finite real tensor, ``d >= 1``.
    rank : int or sequence of d + 1 ints, optional
        Upper bounds of the TT-ranks (:func:`check_tt_ranks`); each ``r_k`` is also capped by the
        unfolding's size ``min(r_{k-1} n_k, n_{k+1} ... n_d)``, as in TensorLy's ``tensor_train``.
    eps : float in [0, 1), keyword-only
        Relative accuracy: every step truncates at ``delta = eps ||A||_F / sqrt(d - 1)``, so that
        ``||A - TT(A)||_F <= eps ||A||_F``; the ranks are the smallest that meet it.

    Returns
    -------
    TensorTrain

    Raises
    ------
    TypeError
        If ``tensor`` is not an array of real numbers or a rank not an int.
    ValueError
        If ``tensor`` is empty or not finite, not exactly one of ``rank`` and ``eps`` is given,
        ``eps`` is outside ``[0, 1)`` or a rank breaks :func:`check_tt_ranks`.

    References
    ----------
    .. [1] I. V. Oseledets, "Tensor-Train Decomposition", SIAM J. Sci. Comput. 33(5), 2011.
    """
    a = check_float_array("tensor", tensor)
    if a.ndim == 0:
        raise ValueError("tensor has 0 dimension(s) (shape ()), must have at least 1.")
    shape = a.shape
    ranks, eps = _truncation(rank, eps, shape)
    d = len(shape)
    delta = eps * float(np.linalg.norm(a)) / math.sqrt(d - 1) if eps is not None and d > 1 else 0.0
    cores, c, r_prev = [], a, 1
    for k in range(d - 1):
        c = c.reshape(r_prev * shape[k], -1)
        full = truncated_svd(c, min(c.shape))
        r = delta_rank(full.s, delta) if ranks is None else min(ranks[k + 1], min(c.shape))
        svd = full.truncate(r)
        cores.append(svd.u.reshape(r_prev, shape[k], r))
        c = svd.s[:, None] * svd.vt
        r_prev = r
    cores.append(c.reshape(r_prev, shape[-1], 1))
    return TensorTrain(cores)


def tt_reconstruct(cores) -> np.ndarray:
    """The full tensor of a train: contract ``G_1 G_2 ... G_d`` over the ranks.

    Raises
    ------
    TypeError, ValueError
        If ``cores`` breaks :func:`check_cores`.
    """
    cores = check_cores(cores)
    full = cores[0].reshape(cores[0].shape[1], -1)
    for core in cores[1:]:
        full = (full @ core.reshape(core.shape[0], -1)).reshape(-1, core.shape[-1])
    return full.reshape([c.shape[1] for c in cores])


def tt_norm(cores) -> float:
    """``||A||_F`` of a train (3-D cores) or a TT-matrix (4-D cores) without the full tensor.

    ``Gamma_k = sum_i G_k[:, i, :]^T Gamma_{k-1} G_k[:, i, :]`` from ``Gamma_0 = 1``; ``||A||_F^2 = Gamma_d``.

    Raises
    ------
    TypeError, ValueError
        If ``cores`` breaks :func:`check_cores`.
    """
    cores = check_cores(cores, ndim=(3, 4))
    gram = np.ones((1, 1))
    for c in cores:
        c = c.reshape(c.shape[0], -1, c.shape[-1]).astype(np.float64)
        gram = np.tensordot(np.tensordot(gram, c, axes=(0, 0)), c, axes=((0, 1), (0, 1)))  # two matrix products
    return float(np.sqrt(max(gram[0, 0], 0.0)))


def tt_entry(cores, index) -> float:
    """One entry ``A[i_1, ..., i_d] = G_1[:, i_1, :] ... G_d[:, i_d, :]`` without the full tensor.

    Raises
    ------
    TypeError, ValueError
        If ``cores`` breaks :func:`check_cores`, or ``index`` is not ``d`` ints in range.
    """
    cores = check_cores(cores)
    if isinstance(index, str) or not isinstance(index, (Sequence, np.ndarray)):
        raise TypeError(f"index must be a tuple of {len(cores)} ints (one per core), got {type(index).__name__} "
                        f"({index!r}).")
    if len(index) != len(cores):
        raise ValueError(f"index == {index!r}, must be a sequence of {len(cores)} ints (one per core).")
    v = np.ones((1,))
    for k, (core, i) in enumerate(zip(cores, index)):
        i = check_int(f"index[{k}]", i, minimum=0, maximum=core.shape[1] - 1)
        v = v @ core[:, i, :]
    return float(v[0])


def tt_round(cores, rank=None, *, eps=None) -> TensorTrain:
    """Re-compress a train to smaller ranks without forming the full tensor (TT-rounding).

    Parameters
    ----------
    cores : list of arrays
        A train (:func:`check_cores`).
    rank, eps
        As for :func:`tt_svd`; with ``eps`` the result is within ``eps ||A||_F`` of the input train ``A``.

    Returns
    -------
    TensorTrain

    Raises
    ------
    TypeError, ValueError
        As :func:`check_cores` and :func:`tt_svd`.

    Notes
    -----
    Right to left, ``G_k`` unfolded as ``r_{k-1} x (n_k r_k)`` is QR-factorised and its R factor moved into
    ``G_{k-1}``; then every core right of the current one is orthonormal, the norm of the train is the norm of
    the first core, and a left-to-right sweep of delta-truncated SVDs is TT-SVD without the full tensor, at
    ``O(d n r^3)``.
    """
    cores = [c.copy() for c in check_cores(cores)]
    shape = tuple(c.shape[1] for c in cores)
    ranks, eps = _truncation(rank, eps, shape)
    d = len(cores)
    for k in range(d - 1, 0, -1):
        r0, n, r1 = cores[k].shape
        q, r = np.linalg.qr(cores[k].reshape(r0, n * r1).T)
        cores[k] = q.T.reshape(-1, n, r1)
        cores[k - 1] = np.einsum("anb,cb->anc", cores[k - 1], r)
    delta = eps * float(np.linalg.norm(cores[0])) / math.sqrt(d - 1) if eps is not None and d > 1 else 0.0
    for k in range(d - 1):
        r0, n, r1 = cores[k].shape
        full = truncated_svd(cores[k].reshape(r0 * n, r1), min(r0 * n, r1))
        r = delta_rank(full.s, delta) if ranks is None else min(ranks[k + 1], full.rank)
        svd = full.truncate(r)
        cores[k] = svd.u.reshape(r0, n, r)
        cores[k + 1] = np.einsum("ab,bnc->anc", svd.s[:, None] * svd.vt, cores[k + 1])
    return TensorTrain(cores)


def random_tt(shape, ranks, *, rng=None, dtype=np.float64) -> TensorTrain:
    """A train of ``shape`` with exactly ``ranks`` and standard normal cores (test inputs of known rank).

    Raises
    ------
    TypeError, ValueError
        If ``shape`` is not a non-empty list of ints >= 1, ``ranks`` breaks :func:`check_tt_ranks`, ``rng`` is not
        a seed or Generator, or ``dtype`` is not a floating-point dtype (an integer dtype would truncate the
        standard normal values to mostly zeros).
    """
    shape = list(check_shape("shape", shape))
    r = check_tt_ranks(ranks, shape)
    dtype = check_float_dtype("dtype", dtype)
    gen = check_random_state(rng)
    return TensorTrain([gen.standard_normal((r[k], n, r[k + 1])).astype(dtype) for k, n in enumerate(shape)])
