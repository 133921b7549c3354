"""Flattened convolutions: each 3-D filter as a sum of outer products of three 1-D filters. NumPy only.

A convolution layer with weight ``W`` of shape ``(F, C, Y, X)`` (F filters, C input channels, a
Y x X kernel) computes, for output position ``(i, j)`` of filter ``f``,

.. math::  O[f, i, j] = \\sum_{c, y, x} W[f, c, y, x] \\, I[c, i + y, j + x].

Jin, Dundar & Culurciello (2014) replace each 3-D filter by a rank-1 tensor
``W[f] = z_f (x) v_f (x) h_f`` -- a *lateral* vector over channels, a *vertical* one over rows and a
*horizontal* one over columns -- so the layer becomes a 1x1 convolution across channels, then a
Y x 1 and a 1 x X convolution per channel. A sum of ``R`` such terms (a CP decomposition of each
filter) is the generalisation this module computes, by alternating least squares (ALS).

Per filter the parameters drop from ``C Y X`` to ``R (C + Y + X)``; on an ``m x n`` output the
multiply-adds drop from ``m n C Y X`` to ``m n R (C + Y + X)`` (stride 1) -- the seed's
``O(XYC) -> O(X + Y + C)`` and ``O(mnCXY) -> O(mn(C + X + Y))`` at ``R = 1``.

The PyTorch layer that runs the three 1-D convolutions is :mod:`course_lib.factorization.nn.flattened`.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from .._validation import check_float, check_float_array, check_int, check_random_state

__all__ = ["FlattenConvergenceWarning", "FlattenedFilters", "flatten_filters", "reconstruct_filters",
           "rank1_filter", "flattened_params", "conv_params", "flattened_macs", "conv_macs"]


class FlattenConvergenceWarning(UserWarning):
    """ALS stopped at ``max_iter`` before the relative error settled to within ``tol``."""


class FlattenedFilters(NamedTuple):
    """The 1-D factors of ``F`` filters, ``R`` rank-1 terms each.

    Attributes
    ----------
    lateral : ndarray, shape (F, R, C)
        ``z``: the channel vectors.
    vertical : ndarray, shape (F, R, Y)
        ``v``: the vertical (row) vectors.
    horizontal : ndarray, shape (F, R, X)
        ``h``: the horizontal (column) vectors.
    errors : ndarray, shape (F,)
        The relative error ``||W_f - W^_f|| / ||W_f||`` of each filter (0 for an all-zero filter).
    layer_error : float
        The relative error of the whole weight, ``||W - W^|| / ||W||``.
    n_iter : int
        ALS sweeps run.
    converged : bool
        Whether the errors settled within ``tol`` before ``max_iter``.
    """

    lateral: np.ndarray
    vertical: np.ndarray
    horizontal: np.ndarray
    errors: np.ndarray
    layer_error: float
    n_iter: int
    converged: bool


def _check_weight(weight, name: str = "weight") -> np.ndarray:
    w = check_float_array(name, weight)
    if w.ndim != 4:
        raise ValueError(f"{name} has {w.ndim} dimension(s) (shape {w.shape}), must have 4: a convolution "
                         f"weight (filters F, channels C, rows Y, columns X).")
    return w.astype(np.float64)


def _check_factors(lateral, vertical, horizontal):
    arrays = [check_float_array(n, a, ndim=3) for n, a in
              (("lateral", lateral), ("vertical", vertical), ("horizontal", horizontal))]
    if len({a.shape[:2] for a in arrays}) != 1:
        raise ValueError(f"lateral, vertical and horizontal have shapes {[a.shape for a in arrays]}, must share "
                         f"their first two sizes (filters F, terms R).")
    return arrays


def reconstruct_filters(lateral, vertical, horizontal) -> np.ndarray:
    """The filters ``W[f] = sum_r z[f, r] (x) v[f, r] (x) h[f, r]`` of the given factors.

    Parameters
    ----------
    lateral : array_like, shape (F, R, C)
    vertical : array_like, shape (F, R, Y)
    horizontal : array_like, shape (F, R, X)

    Returns
    -------
    ndarray, shape (F, C, Y, X)
        ``W[f, c, y, x] = sum_r lateral[f, r, c] vertical[f, r, y] horizontal[f, r, x]``.

    Raises
    ------
    TypeError
        If a factor is not an array of real numbers.
    ValueError
        If a factor is not 3-D, is empty or not finite, or the factors disagree on F or R.
    """
    z, v, h = _check_factors(lateral, vertical, horizontal)
    return np.einsum("frc,fry,frx->fcyx", z, v, h)


def rank1_filter(z, v, h) -> np.ndarray:
    """One rank-1 filter ``W[c, y, x] = z[c] v[y] h[x]`` (the seed's flattened filter).

    Parameters
    ----------
    z, v, h : array_like, 1-D
        The lateral (channel), vertical and horizontal vectors.

    Returns
    -------
    ndarray, shape (len(z), len(v), len(h))

    Raises
    ------
    TypeError, ValueError
        If a vector is not a finite, non-empty 1-D array of real numbers.
    """
    z, v, h = (check_float_array(n, a, ndim=1) for n, a in (("z", z), ("v", v), ("h", h)))
    return reconstruct_filters(z[None, None], v[None, None], h[None, None])[0]


def _init(w: np.ndarray, rank: int, rng: np.random.Generator):
    """Leading singular vectors of each unfolding (HOSVD), random columns where a mode is smaller than R."""
    f, c, y, x = w.shape
    unfoldings = (w.reshape(f, c, y * x), w.transpose(0, 2, 1, 3).reshape(f, y, c * x),
                  w.transpose(0, 3, 1, 2).reshape(f, x, c * y))
    factors = []
    for unfolding in unfoldings:
        u = np.linalg.svd(unfolding, full_matrices=False)[0]  # (F, dim, min(dim, rest))
        k = min(rank, u.shape[2])
        extra = rng.standard_normal((f, rank - k, unfolding.shape[1]))
        factors.append(np.concatenate([u[:, :, :k].transpose(0, 2, 1), extra], axis=1))
    return factors


def _khatri_rao(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise Kronecker product per filter: ``(F, I, R), (F, J, R) -> (F, I J, R)``."""
    return (a[:, :, None, :] * b[:, None, :, :]).reshape(a.shape[0], -1, a.shape[2])


def _update(unfolding: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One ALS step: ``unfolding (a (.) b) ((a^T a) * (b^T b))^-1`` per filter.

    A ridge of one machine epsilon of the Gram matrix's trace keeps it solvable when a factor
    is zero (an all-zero filter gets zero factors).
    """
    gram = (a.transpose(0, 2, 1) @ a) * (b.transpose(0, 2, 1) @ b)  # (F, R, R), symmetric
    rhs = unfolding @ _khatri_rao(a, b)  # (F, dim, R)
    r = gram.shape[-1]
    ridge = np.finfo(np.float64).eps * np.trace(gram, axis1=1, axis2=2)[:, None, None] + 1e-300
    return np.linalg.solve(gram + ridge * np.eye(r), rhs.transpose(0, 2, 1)).transpose(0, 2, 1)


def _balance(z, v, h):
    """Give the three vectors of each term the same norm (the product is unchanged)."""
    norms = [np.linalg.norm(a, axis=1, keepdims=True) for a in (z, v, h)]
    total = np.cbrt(norms[0] * norms[1] * norms[2])
    return [np.where(n > 0, a * total / np.where(n > 0, n, 1), 0.0) for a, n in zip((z, v, h), norms)]


def flatten_filters(weight, rank: int = 1, *, max_iter: int = 200, tol: float = 1e-4,
                    rng=0) -> FlattenedFilters:
    """Decompose each filter of a convolution weight into ``rank`` rank-1 terms by ALS.

    Each filter ``W_f`` (C x Y x X) is approximated by
    ``sum_{r=1}^R z_{fr} (x) v_{fr} (x) h_{fr}``, minimising ``||W_f - W^_f||_F`` by alternating
    least squares: with two of the factor matrices fixed, the third has a closed form, e.g.

    .. math::  Z_f = W_{f(1)} (H_f \\odot V_f) \\, \\left( (V_f^T V_f) * (H_f^T H_f) \\right)^{-1}

    (``W_{f(1)}`` the channel unfolding, ``\\odot`` the Khatri-Rao product, ``*`` the element-wise
    one), and likewise for ``V_f`` and ``H_f``. All F filters are solved at once (batched). Each
    sweep cannot increase the error; it stops when no filter's relative error changes by more
    than ``tol`` in a sweep.

    Parameters
    ----------
    weight : array_like, shape (F, C, Y, X)
        A convolution weight (a tensor is converted), finite.
    rank : int, default 1
        ``R``, the rank-1 terms per filter; 1 is the seed's (and Jin et al.'s) flattened layer.
    max_iter : int, keyword-only, default 200
        ALS sweeps at most.
    tol : float, keyword-only, default 1e-4
        Stop when the largest change of a filter's relative error in one sweep is below this.
    rng : None, int or numpy.random.Generator, keyword-only, default 0
        Only used where ``R`` exceeds a filter dimension (C, Y or X): those starting columns are
        random. Otherwise the start is the leading singular vectors of each unfolding (HOSVD),
        deterministic.

    Returns
    -------
    FlattenedFilters
        The factors, each term's three vectors of equal norm, and the achieved errors.

    Raises
    ------
    TypeError
        If ``weight`` is not an array of real numbers or an option has the wrong type.
    ValueError
        If ``weight`` is not 4-D, empty or holds NaN/inf; if ``rank < 1``, ``max_iter < 1`` or
        ``tol <= 0``.

    Warns
    -----
    FlattenConvergenceWarning
        If the errors are still changing by more than ``tol`` after ``max_iter`` sweeps (the result
        is returned anyway, with ``converged=False``).

    Notes
    -----
    An exactly rank-1 filter is recovered exactly at ``R = 1``: the leading singular vectors of
    its unfoldings are its own vectors. For ``R >= 2`` the best rank-R approximation may not exist
    (CP degeneracy); ALS then creeps, and the warning says so.

    References
    ----------
    J. Jin, A. Dundar, E. Culurciello, *Flattened Convolutional Neural Networks for Feedforward
    Acceleration*, ICLR 2015 workshop, arXiv:1412.5474. T. G. Kolda, B. W. Bader, *Tensor
    Decompositions and Applications*, SIAM Review 51(3), 2009 (CP-ALS).

    Examples
    --------
    >>> z, v, h = np.array([1.0, -2.0]), np.array([0.5, 1.0, 0.5]), np.array([1.0, 0.0, -1.0])
    >>> w = rank1_filter(z, v, h)[None]
    >>> res = flatten_filters(w)
    >>> bool(np.allclose(reconstruct_filters(res.lateral, res.vertical, res.horizontal), w)), res.errors.round(9)
    (True, array([0.]))
    """
    w = _check_weight(weight)
    rank = check_int("rank", rank, minimum=1)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    tol = check_float("tol", tol, low=0.0, low_open=True)
    gen = check_random_state(rng)
    f, c, y, x = w.shape
    w1 = w.reshape(f, c, y * x)  # the channel, row and column unfoldings
    w2 = w.transpose(0, 2, 1, 3).reshape(f, y, c * x)
    w3 = w.transpose(0, 3, 1, 2).reshape(f, x, c * y)
    z, v, h = (a.transpose(0, 2, 1) for a in _init(w, rank, gen))  # (F, dim, R): columns are the vectors
    norms = np.linalg.norm(w1.reshape(f, -1), axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    errors, converged, n_iter, change = np.full(f, np.inf), False, 0, np.inf
    while n_iter < max_iter:
        n_iter += 1
        z = _update(w1, v, h)
        v = _update(w2, z, h)
        h = _update(w3, z, v)
        z, v, h = _balance(z, v, h)
        residual = w1 - z @ _khatri_rao(v, h).transpose(0, 2, 1)
        new = np.linalg.norm(residual.reshape(f, -1), axis=1) / safe
        change = float(np.max(np.abs(errors - new)))
        errors = new
        if change < tol:
            converged = True
            break
    z, v, h = (a.transpose(0, 2, 1) for a in (z, v, h))
    if not converged:
        warnings.warn(f"flatten_filters did not converge in max_iter == {max_iter} ALS sweeps (the largest "
                      f"change of a relative error in the last sweep was {change:.2g}, tol == {tol:g}); "
                      f"raise max_iter or tol.", FlattenConvergenceWarning, stacklevel=2)
    layer_error = float(np.sqrt(np.sum((errors * norms) ** 2)) / max(np.linalg.norm(norms), 1e-300))
    return FlattenedFilters(z, v, h, errors, layer_error, n_iter, converged)


def _check_shape(c, f, y, x, rank):
    return (check_int("C", c, minimum=1), check_int("F", f, minimum=1), check_int("Y", y, minimum=1),
            check_int("X", x, minimum=1), check_int("rank", rank, minimum=1))


def conv_params(C: int, F: int, Y: int, X: int) -> int:
    """Weights of a dense convolution: ``F C Y X`` (no bias).

    Raises
    ------
    TypeError, ValueError
        If a size is not an int >= 1.
    """
    c, f, y, x, _ = _check_shape(C, F, Y, X, 1)
    return f * c * y * x


def flattened_params(C: int, F: int, Y: int, X: int, rank: int = 1) -> int:
    """Weights of a flattened convolution: ``F R (C + Y + X)`` (no bias).

    The lateral 1x1 convolution holds ``F R C``, the vertical ``F R Y``, the horizontal ``F R X``.

    Raises
    ------
    TypeError, ValueError
        If a size or ``rank`` is not an int >= 1.

    Examples
    --------
    >>> conv_params(128, 128, 3, 3), flattened_params(128, 128, 3, 3)
    (147456, 17152)
    """
    c, f, y, x, r = _check_shape(C, F, Y, X, rank)
    return f * r * (c + y + x)


def conv_macs(C: int, F: int, Y: int, X: int, out_h: int, out_w: int) -> int:
    """Multiply-adds of a dense convolution on an ``out_h x out_w`` output: ``m n F C Y X``.

    Raises
    ------
    TypeError, ValueError
        If a size is not an int >= 1.
    """
    m, n = check_int("out_h", out_h, minimum=1), check_int("out_w", out_w, minimum=1)
    return m * n * conv_params(C, F, Y, X)


def flattened_macs(C: int, F: int, Y: int, X: int, out_h: int, out_w: int, rank: int = 1) -> int:
    """Multiply-adds of a flattened convolution on an ``out_h x out_w`` output (stride 1, "same" size).

    ``m n F R (C + Y + X)``: the lateral stage computes ``F R`` maps from ``C`` channels, the
    vertical and horizontal stages ``Y`` and ``X`` products per output of each of those maps. (With
    padding smaller than "same", the first two stages run on a slightly larger map; the count is
    then a lower bound.)

    Raises
    ------
    TypeError, ValueError
        If a size or ``rank`` is not an int >= 1.

    Examples
    --------
    >>> conv_macs(128, 128, 3, 3, 16, 16) / flattened_macs(128, 128, 3, 3, 16, 16)  # doctest: +ELLIPSIS
    8.597...
    """
    m, n = check_int("out_h", out_h, minimum=1), check_int("out_w", out_w, minimum=1)
    return m * n * flattened_params(C, F, Y, X, rank)
