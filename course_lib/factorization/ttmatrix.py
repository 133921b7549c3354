"""TT-matrices: an M x N weight as a tensor train, and its product with a batch (Novikov et al. 2015). NumPy only.

With ``M = m_1 ... m_d`` (input modes) and ``N = n_1 ... n_d`` (output modes), the weight
``W`` (inputs x outputs, ``y = x W``) is stored as cores ``G_k`` of shape ``(r_{k-1}, m_k, n_k, r_k)``:

.. math:: W[(i_1, \\dots, i_d), (j_1, \\dots, j_d)] = G_1[:, i_1, j_1, :] \\cdots G_d[:, i_d, j_d, :],

``sum_k r_{k-1} m_k n_k r_k`` numbers. :func:`tt_matmul` computes ``y = x W`` for a batch
``x`` of shape ``(B, M)`` **core by core**, never forming ``W``. Its state after ``k`` cores is

.. math:: Z_k[i_{k+1}, \\dots, i_d, b, j_1, \\dots, j_k, \\alpha_k]
          = \\sum x[b, i] \\, G_1[1, i_1, j_1, \\alpha_1] \\cdots G_k[\\alpha_{k-1}, i_k, j_k, \\alpha_k],

and step ``k`` is one matrix product: ``Z_{k-1}`` viewed as ``(X_k, r_{k-1} m_k)`` (one copy moves
``i_k`` next to ``alpha_{k-1}``) times ``G_k`` viewed as ``(r_{k-1} m_k, n_k r_k)``. The cost of step ``k``
is ``X_k r_{k-1} m_k n_k r_k`` multiply-adds with ``X_k = B (m_{k+1} ... m_d)(n_1 ... n_{k-1})`` --
``O(d r^2 m max(M, N))`` per image, the seed's forward row. :func:`tt_matmul_backward` runs the same
products backwards (for ``O = A G``: ``dG = A^T dO`` and ``dA = dO G^T``), by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validation import check_bool, check_choice, check_float_array, check_int, check_random_state
from ._checks import check_float_dtype
from .tt import check_cores, check_tt_ranks, tt_norm, tt_svd

__all__ = ["TTMatrix", "check_modes", "tt_matrix", "tt_matrix_dense", "tt_matrix_params", "random_tt_matrix",
           "tt_matmul", "tt_matmul_forward", "tt_matmul_backward", "tt_matmul_einsum", "tt_intermediate_sizes",
           "tt_matmul_macs", "mode_spread", "balanced_modes"]


class TTMatrix(NamedTuple):
    """A TT-matrix: ``cores[k]`` of shape ``(r_{k-1}, m_k, n_k, r_k)``, ``r_0 = r_d = 1``."""

    cores: list

    @property
    def in_modes(self) -> tuple[int, ...]:
        return tuple(int(c.shape[1]) for c in self.cores)

    @property
    def out_modes(self) -> tuple[int, ...]:
        return tuple(int(c.shape[2]) for c in self.cores)

    @property
    def ranks(self) -> tuple[int, ...]:
        return (1, *(int(c.shape[-1]) for c in self.cores))

    @property
    def shape(self) -> tuple[int, int]:
        """``(M, N)``: inputs x outputs."""
        return math.prod(self.in_modes), math.prod(self.out_modes)

    @property
    def params(self) -> int:
        return int(sum(c.size for c in self.cores))

    def to_dense(self) -> np.ndarray:
        """The ``M x N`` matrix (:func:`tt_matrix_dense`)."""
        return tt_matrix_dense(self.cores)


def _modes(name: str, modes) -> tuple[int, ...]:
    if isinstance(modes, (str, bytes)) or not isinstance(modes, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a list or tuple of ints, got {type(modes).__name__} ({modes!r}).")
    if len(modes) == 0:
        raise ValueError(f"{name} is empty, must hold at least one mode.")
    return tuple(check_int(f"{name}[{k}]", m, minimum=1) for k, m in enumerate(modes))


def check_modes(in_modes, out_modes, in_features: int | None = None, out_features: int | None = None):
    """``(in_modes, out_modes)`` as tuples of ints, of equal length, multiplying to the layer's sizes.

    Raises
    ------
    TypeError
        If a mode list is not a list of ints, or a feature count not an int.
    ValueError
        ``in_modes has 6 modes and out_modes 5, must have the same number (one core per pair).`` or
        ``prod(in_modes) == 25087, must equal the number of input features 25088.``
    """
    in_modes, out_modes = _modes("in_modes", in_modes), _modes("out_modes", out_modes)
    in_features = check_int("in_features", in_features, minimum=1, allow_none=True)
    out_features = check_int("out_features", out_features, minimum=1, allow_none=True)
    if len(in_modes) != len(out_modes):
        raise ValueError(f"in_modes has {len(in_modes)} modes and out_modes {len(out_modes)}, must have the same "
                         f"number (one core per pair).")
    for label, modes, size in (("in", in_modes, in_features), ("out", out_modes, out_features)):
        if size is not None and math.prod(modes) != size:
            kind = "input" if label == "in" else "output"
            raise ValueError(f"prod({label}_modes) == {math.prod(modes)}, must equal the number of {kind} "
                             f"features {size}.")
    return in_modes, out_modes


def tt_matrix_params(in_modes, out_modes, ranks) -> int:
    """Numbers in the cores: ``sum_k r_{k-1} m_k n_k r_k`` (``ranks``: an int or ``d + 1`` ints).

    Examples
    --------
    >>> tt_matrix_params((2, 7, 8, 8, 7, 4), (4,) * 6, 4)
    2016
    """
    in_modes, out_modes = check_modes(in_modes, out_modes)
    r = check_tt_ranks(ranks, in_modes)
    return int(sum(r[k] * m * n * r[k + 1] for k, (m, n) in enumerate(zip(in_modes, out_modes))))


def tt_matrix(weight, in_modes, out_modes, rank=None, *, eps=None) -> TTMatrix:
    """The TT-matrix of a dense ``M x N`` weight (inputs x outputs) by TT-SVD of its ``(m_k n_k)``-mode tensor.

    Parameters
    ----------
    weight : array_like, shape (M, N)
        Finite; for a ``torch.nn.Linear`` pass ``weight.T`` (``y = x W``).
    in_modes, out_modes : sequence of int
        ``prod(in_modes) == M``, ``prod(out_modes) == N``, equal lengths.
    rank, eps
        As for :func:`course_lib.factorization.tt_svd` (``eps``: ``||W - TT(W)||_F <= eps ||W||_F``).

    Returns
    -------
    TTMatrix

    Raises
    ------
    TypeError, ValueError
        If ``weight`` is not a finite 2-D array, the modes break :func:`check_modes`, or the rank rule breaks
        :func:`~course_lib.factorization.tt_svd`'s.
    """
    w = check_float_array("weight", weight, ndim=2)
    in_modes, out_modes = check_modes(in_modes, out_modes, *w.shape)
    d = len(in_modes)
    t = w.reshape(in_modes + out_modes).transpose([i for k in range(d) for i in (k, d + k)])
    train = tt_svd(t.reshape([m * n for m, n in zip(in_modes, out_modes)]), rank, eps=eps)
    return TTMatrix([c.reshape(c.shape[0], m, n, c.shape[-1]) for c, m, n in zip(train.cores, in_modes, out_modes)])


def tt_matrix_dense(cores) -> np.ndarray:
    """The ``M x N`` matrix of TT-matrix cores (``(r_{k-1}, m_k, n_k, r_k)`` each).

    Raises
    ------
    TypeError, ValueError
        If ``cores`` breaks :func:`~course_lib.factorization.check_cores` (4-D cores).
    """
    cores = check_cores(cores, ndim=4)
    full = np.ones((1, 1))  # (m_1 n_1 ... m_k n_k, r_k): one product per core, no copy in between
    for c in cores:
        r0, m, n, r1 = c.shape
        full = full.reshape(-1, r0) @ c.reshape(r0, m * n * r1)
    ms, ns = [c.shape[1] for c in cores], [c.shape[2] for c in cores]
    d = len(cores)
    full = full.reshape([x for pair in zip(ms, ns) for x in pair])  # (m_1, n_1, ..., m_d, n_d), r_d = 1
    return full.transpose([*range(0, 2 * d, 2), *range(1, 2 * d, 2)]).reshape(math.prod(ms), math.prod(ns))


def random_tt_matrix(in_modes, out_modes, ranks, *, std: float, rng=None, dtype=np.float64) -> TTMatrix:
    """Random cores whose reconstructed weight has entries of standard deviation ``std``.

    An entry of ``W`` is a sum of ``r_1 ... r_{d-1}`` products of ``d`` independent core entries; with core
    entries of variance ``s^2`` its variance is ``r_1 ... r_{d-1} s^{2d}``, so
    ``s = (std^2 / (r_1 ... r_{d-1}))^{1/(2d)}`` gives ``E[W_ij^2] = std^2`` (Glorot: ``std^2 = 2/(M+N)``;
    He: ``2/M``). One draw of a product of ``d`` small Gaussian cores fluctuates by tens of percent around
    that (a 4 x 4 core's squared norm alone has a relative spread of 35 %), so the cores are then scaled by
    a common factor that makes the realised root mean square of ``W``, ``||W||_F / sqrt(M N)`` (computed by
    :func:`~course_lib.factorization.tt_norm`, without ``W``), exactly ``std``.

    Raises
    ------
    TypeError, ValueError
        If the modes or ranks are invalid, ``std`` is not a positive float, or ``dtype`` is not floating-point.
    """
    from .._validation import check_positive_float

    in_modes, out_modes = check_modes(in_modes, out_modes)
    r = check_tt_ranks(ranks, in_modes)
    std = check_positive_float("std", std)
    dtype = check_float_dtype("dtype", dtype)
    s = (std ** 2 / math.prod(r)) ** (1 / (2 * len(in_modes)))
    gen = check_random_state(rng)
    cores = [s * gen.standard_normal((r[k], m, n, r[k + 1])) for k, (m, n) in enumerate(zip(in_modes, out_modes))]
    rms = tt_norm(cores) / math.sqrt(math.prod(in_modes) * math.prod(out_modes))
    scale = (std / rms) ** (1 / len(cores))
    return TTMatrix([(scale * c).astype(dtype) for c in cores])


def _check_batch(cores, x):
    cores = check_cores(cores, ndim=4)
    x = check_float_array("x", x, ndim=2)
    m = math.prod(c.shape[1] for c in cores)
    if x.shape[1] != m:
        raise ValueError(f"x has {x.shape[1]} features (shape {x.shape}), must have prod(in_modes) == {m}.")
    return cores, x


def tt_matmul_forward(cores, x) -> tuple[np.ndarray, list]:
    """``y = x W`` core by core, and the cache :func:`tt_matmul_backward` needs.

    Parameters
    ----------
    cores : list of arrays, shapes (r_{k-1}, m_k, n_k, r_k)
    x : array_like, shape (B, M)
        A 2-D batch (a single vector must be passed as ``x[None]``).

    Returns
    -------
    y : ndarray, shape (B, N)
    cache : list of ndarray
        The left operand ``A_k`` of every step's product, shape ``(X_k, r_{k-1} m_k)``.

    Raises
    ------
    TypeError, ValueError
        If ``cores`` breaks :func:`~course_lib.factorization.check_cores` or ``x`` is not a finite 2-D array
        with ``M`` columns.
    """
    cores, x = _check_batch(cores, x)
    z, cache = x.T, []  # (m_1 ... m_d, B) = (m_1, X_1, r_0)
    for c in cores:
        r0, m, n, r1 = c.shape
        a = np.ascontiguousarray(z.reshape(m, -1, r0).transpose(1, 2, 0)).reshape(-1, r0 * m)
        cache.append(a)
        z = a @ c.reshape(r0 * m, n * r1)
    return z.reshape(x.shape[0], -1), cache


def tt_matmul(cores, x) -> np.ndarray:
    """``y = x W`` for a TT-matrix ``W``, core by core (:func:`tt_matmul_forward` without the cache)."""
    return tt_matmul_forward(cores, x)[0]


def tt_matmul_backward(cores, cache, grad_y) -> tuple[list, np.ndarray]:
    """Gradients of every core and of the input from ``dL/dy``, by hand: the forward's products reversed.

    For step ``k``, ``O_k = A_k G_k``: ``dG_k = A_k^T dO_k`` and ``dA_k = dO_k G_k^T``; un-permuting ``dA_k``
    gives ``dO_{k-1}``, and after the first core ``dx``.

    Parameters
    ----------
    cores : list of arrays
        The cores of the forward pass.
    cache : list of ndarray
        From :func:`tt_matmul_forward`.
    grad_y : array_like, shape (B, N)

    Returns
    -------
    grad_cores : list of ndarray
        Same shapes as ``cores``.
    grad_x : ndarray, shape (B, M)

    Raises
    ------
    TypeError, ValueError
        If the cores, the cache or ``grad_y`` do not match.
    """
    cores = check_cores(cores, ndim=4)
    g = check_float_array("grad_y", grad_y, ndim=2)
    if not isinstance(cache, list):
        raise TypeError(f"cache must be the list of {len(cores)} arrays tt_matmul_forward returned, got "
                        f"{type(cache).__name__}.")
    if len(cache) != len(cores):
        raise ValueError(f"cache must be the list of {len(cores)} arrays tt_matmul_forward returned.")
    cache = [check_float_array(f"cache[{k}]", a, ndim=2) for k, a in enumerate(cache)]
    for k, (a, c) in enumerate(zip(cache, cores)):
        if a.shape[1] != c.shape[0] * c.shape[1]:
            raise ValueError(f"cache[{k}] has {a.shape[1]} columns, must have r_{k} m_{k + 1} == "
                             f"{c.shape[0] * c.shape[1]}: use the cache of the same forward pass.")
    n_out = math.prod(c.shape[2] for c in cores)
    if g.shape[1] != n_out:
        raise ValueError(f"grad_y has {g.shape[1]} columns, must have prod(out_modes) == {n_out}.")
    batch = g.shape[0]
    grads = [None] * len(cores)
    g = g.reshape(-1, cores[-1].shape[2])  # dO_d: (X_d, n_d r_d)
    for k in range(len(cores) - 1, -1, -1):
        r0, m, n, r1 = cores[k].shape
        a = cache[k]
        if a.shape[0] != g.shape[0]:
            raise ValueError(f"cache[{k}] has {a.shape[0]} rows, grad_y implies {g.shape[0]}: use the cache of the "
                             f"same forward pass.")
        grads[k] = (a.T @ g).reshape(r0, m, n, r1)
        da = g @ cores[k].reshape(r0 * m, n * r1).T  # (X_k, r0 m)
        g = da.reshape(-1, r0, m).transpose(2, 0, 1).reshape(-1, (cores[k - 1].shape[2] * r0) if k else 1)
    return grads, g.reshape(-1, batch).T


def tt_matmul_einsum(cores, x, *, optimize=True) -> np.ndarray:
    """``y = x W`` as a single ``np.einsum`` call over ``x`` and every core (the contraction order left to NumPy).

    The reference for :func:`tt_matmul`: with ``optimize=False`` NumPy loops over every index at once.

    Raises
    ------
    TypeError, ValueError
        As :func:`tt_matmul_forward`; ``optimize`` must be a bool, ``"greedy"`` or ``"optimal"``.
    """
    cores, x = _check_batch(cores, x)
    if isinstance(optimize, str):
        check_choice("optimize", optimize, ("greedy", "optimal"))
    else:
        check_bool("optimize", optimize)
    d = len(cores)
    b, i, j, a = 0, list(range(1, d + 1)), list(range(d + 1, 2 * d + 1)), list(range(2 * d + 1, 3 * d + 2))
    operands = [x.reshape(x.shape[0], *(c.shape[1] for c in cores)), [b, *i]]
    for k, c in enumerate(cores):
        operands += [c, [a[k], i[k], j[k], a[k + 1]]]
    return np.einsum(*operands, [b, *j], optimize=optimize).reshape(x.shape[0], -1)


def tt_intermediate_sizes(in_modes, out_modes, ranks, batch: int = 1) -> list[int]:
    """Numbers in the result of each of :func:`tt_matmul`'s ``d`` products: ``X_k n_k r_k``.

    Examples
    --------
    >>> max(tt_intermediate_sizes((2, 7, 8, 8, 7, 4), (4,) * 6, 4))  # the seed's VGG layer, one image
    200704
    """
    in_modes, out_modes = check_modes(in_modes, out_modes)
    r = check_tt_ranks(ranks, in_modes)
    batch = check_int("batch", batch, minimum=1)
    return [batch * math.prod(in_modes[k + 1:]) * math.prod(out_modes[:k + 1]) * r[k + 1]
            for k in range(len(in_modes))]


def tt_matmul_macs(in_modes, out_modes, ranks, batch: int = 1) -> int:
    """Multiply-adds of :func:`tt_matmul`: ``sum_k X_k r_{k-1} m_k n_k r_k``, ``X_k = B m_{>k} n_{<k}``.

    Examples
    --------
    >>> tt_matmul_macs((2, 7, 8, 8, 7, 4), (4,) * 6, 4)  # vs 102,760,448 for the dense layer
    6889472
    """
    in_modes, out_modes = check_modes(in_modes, out_modes)
    r = check_tt_ranks(ranks, in_modes)
    batch = check_int("batch", batch, minimum=1)
    return int(sum(batch * math.prod(in_modes[k + 1:]) * math.prod(out_modes[:k]) * r[k] * m * n * r[k + 1]
                   for k, (m, n) in enumerate(zip(in_modes, out_modes))))


def mode_spread(modes) -> float:
    """``max(modes) / min(modes)``: 1 for perfectly balanced modes."""
    modes = _modes("modes", modes)
    return max(modes) / min(modes)


def _factorizations(n: int, d: int, smallest: int = 1):
    """Every non-decreasing ``d``-tuple of ints >= ``smallest`` multiplying to ``n``."""
    if d == 1:
        if n >= smallest:
            yield (n,)
        return
    f = smallest
    while f ** d <= n:
        if n % f == 0:
            for rest in _factorizations(n // f, d - 1, f):
                yield (f, *rest)
        f += 1


def balanced_modes(n: int, d: int) -> tuple[int, ...]:
    """``d`` modes multiplying to ``n`` with the smallest :func:`mode_spread` (ties: the first found).

    Examples
    --------
    >>> balanced_modes(4096, 6), balanced_modes(784, 4)
    ((4, 4, 4, 4, 4, 4), (4, 4, 7, 7))
    """
    n, d = check_int("n", n, minimum=1), check_int("d", d, minimum=1)
    best = min(_factorizations(n, d), key=lambda t: (t[-1] / t[0], t))
    return best
