"""Truncated SVD of a weight matrix: one dense layer becomes two thinner ones. NumPy only.

A trained ``n x m`` weight ``W`` (``n`` outputs, ``m`` inputs) has the singular value
decomposition ``W = U diag(s) V^T``. Keeping the ``k`` largest singular values gives the
best rank-``k`` approximation (Eckart & Young 1936), stored as two factors

.. math:: W \\approx A B, \\qquad A = U_k \\operatorname{diag}(\\sqrt{s_k}) \\in \\mathbb{R}^{n \\times k},
          \\quad B = \\operatorname{diag}(\\sqrt{s_k}) V_k^T \\in \\mathbb{R}^{k \\times m},

``k (n + m)`` numbers instead of ``n m`` (:mod:`.lowrank`). The rank is chosen directly, by
the share of the energy ``sum s_i^2`` kept, or by a target compression ``n m / (k (n + m))``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_float, check_float_array, check_int, check_random_state
from ._checks import check_float_dtype, check_spectrum
from .lowrank import break_even_rank, check_rank

__all__ = ["TruncatedSVD", "truncated_svd", "choose_rank", "rank_for_energy", "rank_for_compression",
           "eckart_young_error", "stretched_spectrum", "matrix_with_spectrum"]


def _check_weight(weight, name: str = "weight") -> np.ndarray:
    return check_float_array(name, weight, ndim=2)


class TruncatedSVD(NamedTuple):
    """A rank-``k`` truncated SVD ``W ~ u @ diag(s) @ vt``.

    Parameters
    ----------
    u : ndarray, shape (n, k)
        The leading left singular vectors (orthonormal columns).
    s : ndarray, shape (k,)
        The ``k`` largest singular values, decreasing.
    vt : ndarray, shape (k, m)
        The leading right singular vectors (orthonormal rows).
    spectrum : ndarray, shape (min(n, m),)
        Every singular value of ``W`` (what was kept and what was dropped).
    """

    u: np.ndarray
    s: np.ndarray
    vt: np.ndarray
    spectrum: np.ndarray

    @property
    def rank(self) -> int:
        """``k``, the number of singular values kept."""
        return int(self.s.size)

    @property
    def error(self) -> float:
        """``||W - W_k||_F``: the norm of the dropped singular values (Eckart--Young)."""
        return eckart_young_error(self.spectrum, self.rank)

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A, B)`` with ``A @ B == u @ diag(s) @ vt``: ``A = u sqrt(s)`` (n x k), ``B = sqrt(s) vt`` (k x m).

        The square root is split between the factors so that both have the same scale
        (fine-tuning then moves them alike).
        """
        root = np.sqrt(self.s)
        return self.u * root, root[:, None] * self.vt

    def truncate(self, k: int) -> TruncatedSVD:
        """The leading ``k`` terms (``1 <= k <= rank``): a sweep over ranks decomposes once.

        Raises
        ------
        TypeError, ValueError
            If ``k`` is not an int in ``1 .. rank``.
        """
        k = check_int("k", k, minimum=1, maximum=self.rank)
        return TruncatedSVD(self.u[:, :k], self.s[:k], self.vt[:k], self.spectrum)

    def reconstruct(self) -> np.ndarray:
        """The rank-``k`` matrix ``u @ diag(s) @ vt``."""
        return (self.u * self.s) @ self.vt


def eckart_young_error(singular_values, k: int) -> float:
    """The smallest Frobenius error of a rank-``k`` approximation: ``sqrt(sum_{i > k} s_i^2)``.

    Parameters
    ----------
    singular_values : array_like, shape (r,)
        All singular values of the matrix, decreasing.
    k : int
        In ``0 .. r`` (``0``: the error of the zero matrix, ``||W||_F``).

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If ``singular_values`` is not a 1-D, finite, non-negative decreasing array, or ``k``
        is not an int in ``0 .. r``.

    References
    ----------
    .. [1] C. Eckart, G. Young, "The approximation of one matrix by another of lower rank",
       Psychometrika 1, 1936.
    """
    s = check_spectrum(singular_values)
    k = check_int("k", k, minimum=0, maximum=s.size)
    return float(np.sqrt(np.sum(s[k:].astype(np.float64) ** 2)))


def rank_for_energy(singular_values, energy: float) -> int:
    """The smallest ``k`` whose singular values keep ``energy`` of ``sum s_i^2``.

    Parameters
    ----------
    singular_values : array_like, shape (r,)
        Decreasing, as from ``np.linalg.svd``.
    energy : float in (0, 1]
        The share of the squared Frobenius norm to keep: ``sum_{i<=k} s_i^2 >= energy sum s_i^2``.

    Returns
    -------
    int
        In ``1 .. r``; the relative error is then ``sqrt(1 - kept) <= sqrt(1 - energy)``.

    Raises
    ------
    TypeError, ValueError
        For a bad spectrum, or ``energy`` not a number in ``(0, 1]``.
    """
    s = check_spectrum(singular_values)
    energy = check_float("energy", energy, low=0.0, high=1.0, low_open=True)
    power = np.cumsum(s.astype(np.float64) ** 2)
    if power[-1] == 0:
        return 1
    kept = power / power[-1]
    return int(min(s.size, np.searchsorted(kept, energy * (1 - 1e-12)) + 1))


def rank_for_compression(n: int, m: int, compression: float) -> int:
    """The largest ``k`` whose factors compress an ``n x m`` matrix at least ``compression`` times.

    ``n m / (k (n + m)) >= c`` holds for ``k <= n m / (c (n + m))``.

    Parameters
    ----------
    n, m : int
        The matrix's shape.
    compression : float
        At least 1 (``1`` gives the break-even rank, the largest ``k`` that stores fewer numbers).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If a parameter has the wrong type.
    ValueError
        If ``compression < 1``, or not even rank 1 compresses that much.

    Examples
    --------
    >>> rank_for_compression(4096, 4096, 5.8)
    353
    """
    n = check_int("n", n, minimum=1)
    m = check_int("m", m, minimum=1)
    compression = check_float("compression", compression, low=1.0)
    if compression == 1.0:
        k = break_even_rank(n, m)
    else:
        k = min(int(np.floor(n * m / (compression * (n + m)) * (1 + 1e-12))), min(n, m))
    if k < 1:
        raise ValueError(f"compression == {compression:g} is out of reach for a {n}x{m} matrix: rank 1 compresses "
                         f"it {n * m / (n + m):.3g}x, must be <= that.")
    return k


def choose_rank(singular_values, n: int, m: int, rank=None, *, energy=None, compression=None) -> int:
    """The rank from exactly one rule: ``rank``, ``energy`` or ``compression``.

    Parameters
    ----------
    singular_values : array_like or None
        The spectrum (needed for ``energy`` only).
    n, m : int
        The matrix's shape.
    rank : int or None
        In ``1 .. min(n, m)`` (:func:`~course_lib.factorization.lowrank.check_rank`).
    energy : float in (0, 1] or None, keyword-only
        See :func:`rank_for_energy`.
    compression : float >= 1 or None, keyword-only
        See :func:`rank_for_compression`.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If none or more than one rule is given, or the rule's own check fails.
    """
    given = [label for label, v in (("rank", rank), ("energy", energy), ("compression", compression))
             if v is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of rank, energy, compression; got {', '.join(given) or 'none'}.")
    if rank is not None:
        return check_rank(rank, n, m, "rank")
    if energy is not None:
        return rank_for_energy(singular_values, energy)
    return rank_for_compression(n, m, compression)


def truncated_svd(weight, rank=None, *, energy=None, compression=None) -> TruncatedSVD:
    """The best rank-``k`` approximation of ``weight`` by its truncated SVD.

    Parameters
    ----------
    weight : array_like, shape (n, m)
        A finite 2-D matrix (a Linear layer's ``weight``: outputs x inputs).
    rank : int or None
        ``k`` in ``1 .. min(n, m)``.
    energy : float in (0, 1] or None, keyword-only
        Keep the smallest ``k`` holding this share of ``sum s_i^2``.
    compression : float >= 1 or None, keyword-only
        Keep the largest ``k`` with ``n m / (k (n + m)) >= compression``.

    Returns
    -------
    TruncatedSVD
        ``u``, ``s``, ``vt`` of rank ``k`` and the whole ``spectrum``; ``.factors()`` gives
        the two layers' weights, ``.error`` the Frobenius error, equal to
        ``sqrt(sum_{i>k} s_i^2)``.

    Raises
    ------
    TypeError
        If ``weight`` is not an array of real numbers, or ``rank`` not an int.
    ValueError
        If ``weight`` is not 2-D or holds NaN/inf; if not exactly one of ``rank``, ``energy``,
        ``compression`` is given, or it breaks its rule (``rank == 0, must be >= 1.``).

    Notes
    -----
    ``np.linalg.svd(full_matrices=False)`` costs ``O(n m min(n, m))``; for a large matrix and
    a small ``k`` the randomized SVD (:mod:`.randomized`) is far cheaper.

    References
    ----------
    .. [1] E. Denton, W. Zaremba, J. Bruna, Y. LeCun, R. Fergus, "Exploiting Linear Structure
       Within Convolutional Networks for Efficient Evaluation", NeurIPS 2014.
    """
    w = _check_weight(weight)
    n, m = w.shape
    if rank is not None and energy is None and compression is None:
        check_rank(rank, n, m, "rank")  # before the SVD: a bad rank fails fast
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    k = choose_rank(s, n, m, rank, energy=energy, compression=compression)
    return TruncatedSVD(u[:, :k], s[:k], vt[:k], s)


def stretched_spectrum(singular_values, length: int) -> np.ndarray:
    """A trained layer's spectrum resampled to ``length`` values, for a matrix larger than any trained here.

    The value at relative position ``j / length`` is interpolated (in ``log s``) from the
    trained spectrum at the same relative position, and scaled by ``sqrt(length / r)`` so
    that entries keep their size when the matrix grows. It is an *extrapolation*: a model
    of how a wider trained layer might decay, not a measurement of one.

    Parameters
    ----------
    singular_values : array_like, shape (r,)
        Decreasing, positive.
    length : int
        At least 1.

    Returns
    -------
    ndarray, shape (length,)

    Raises
    ------
    TypeError, ValueError
        For a bad spectrum (or one with zeros) or ``length``.
    """
    s = check_spectrum(singular_values)
    length = check_int("length", length, minimum=1)
    if s.min() <= 0:
        raise ValueError("singular_values must be > 0 to be stretched (the interpolation is in log s).")
    x_old = (np.arange(s.size) + 0.5) / s.size
    x_new = (np.arange(length) + 0.5) / length
    return np.exp(np.interp(x_new, x_old, np.log(s))) * np.sqrt(length / s.size)


def matrix_with_spectrum(singular_values, shape, *, rng=None, dtype=np.float32) -> np.ndarray:
    """``U diag(s) V^T`` with Haar-random orthonormal ``U`` and ``V``: a test matrix of known spectrum.

    Parameters
    ----------
    singular_values : array_like, shape (r,)
        Decreasing, ``r == min(shape)``.
    shape : tuple of two ints
        ``(n, m)``.
    rng : None, int or numpy.random.Generator, keyword-only
    dtype : numpy floating-point dtype, keyword-only

    Returns
    -------
    ndarray, shape (n, m)

    Raises
    ------
    TypeError, ValueError
        For a bad spectrum or shape, ``len(singular_values) != min(shape)``, a bad ``rng``, or a ``dtype`` that is
        not floating-point (an integer matrix would not have the spectrum asked for).
    """
    s = check_spectrum(singular_values)
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise TypeError(f"shape must be a tuple (n, m), got {shape!r}.")
    n, m = (check_int(f"shape[{i}]", v, minimum=1) for i, v in enumerate(shape))
    if s.size != min(n, m):
        raise ValueError(f"singular_values has {s.size} values, must have min(n, m) == {min(n, m)}.")
    dtype = check_float_dtype("dtype", dtype)
    gen = check_random_state(rng)
    work = np.float64 if np.dtype(dtype) == np.float64 else np.float32  # float32 is twice as fast for big ones

    def orthonormal(rows):
        q, r = np.linalg.qr(gen.standard_normal((rows, s.size), dtype=work))
        return q * np.sign(np.diag(r))  # the sign fix makes Q Haar-distributed

    return ((orthonormal(n) * s.astype(work)) @ orthonormal(m).T).astype(dtype)
