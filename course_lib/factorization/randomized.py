"""Randomized SVD from scratch (Halko, Martinsson & Tropp 2011). NumPy only.

The exact SVD of an ``n x m`` matrix costs ``O(n m min(n, m))`` however few singular values
are wanted. The randomized SVD finds the range of ``A`` first with a few products by a
random matrix, then takes the exact SVD of a small ``l x m`` matrix (``l = k + p``):

1. **range finder**: ``Y = A Omega`` with a Gaussian ``Omega`` of shape ``(m, l)``, ``Q = qr(Y)``;
2. **power (subspace) iterations**, ``q`` times: ``Q <- qr(A qr(A^T Q))`` -- each pass raises
   the singular values to a higher power (``(A A^T)^q A Omega``), so the leading directions
   dominate the sketch;
3. ``B = Q^T A`` (``l x m``), ``B = U_B diag(s) V^T``, ``U = Q U_B``; keep ``k``.

Costs: ``(2 q + 2) n m l`` multiply-adds for the products, ``O((n + m) l^2)`` for the QRs and
the small SVD. With ``q = 0`` the error is at most a modest multiple of the optimal
``sqrt(sum_{i>k} s_i^2)`` when the spectrum decays fast; slowly decaying spectra (trained
layers) need ``q = 1 .. 2``.

Why re-orthonormalise between the passes: in floating point, ``(A A^T)^q A Omega``
computed without QR loses every direction whose singular value is below about
``s_1 eps^(1/(2q+1))`` (``eps`` the machine precision) -- they drown in the rounding errors
of the dominant ones (HMT 2011, sec. 4.5). ``reorthonormalize=False`` shows it.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_float_array, check_int, check_random_state
from .lowrank import check_rank

__all__ = ["randomized_svd", "randomized_range_finder"]


def _orthonormal_basis(y: np.ndarray) -> np.ndarray:
    return np.linalg.qr(y)[0]


def randomized_range_finder(matrix, size: int, *, power_iterations: int = 2, reorthonormalize: bool = True,
                            random_state=None) -> np.ndarray:
    """An ``n x size`` matrix ``Q`` with orthonormal columns whose span approximates the range of ``matrix``.

    Parameters
    ----------
    matrix : array_like, shape (n, m)
        Finite, 2-D.
    size : int
        Columns of the sketch ``l = k + p``, in ``1 .. min(n, m)``.
    power_iterations : int, keyword-only
        ``q >= 0`` passes of ``A A^T``.
    reorthonormalize : bool, keyword-only
        QR after every product (HMT's Algorithm 4.4); ``False``: only at the end (Algorithm 4.3).
    random_state : None, int or numpy.random.Generator, keyword-only
        Seeds the Gaussian test matrix; equal seeds give equal results.

    Returns
    -------
    ndarray, shape (n, size)

    Raises
    ------
    TypeError, ValueError
        For a matrix that is not 2-D and finite, a ``size`` outside ``1 .. min(n, m)``,
        ``power_iterations < 0``, a non-bool ``reorthonormalize`` or a bad ``random_state``.
    """
    a = check_float_array("matrix", matrix, ndim=2)
    n, m = a.shape
    size = check_rank(size, n, m, "size")
    q = check_int("power_iterations", power_iterations, minimum=0)
    reorthonormalize = check_bool("reorthonormalize", reorthonormalize)
    gen = check_random_state(random_state, "random_state")
    omega = gen.standard_normal((m, size)).astype(a.dtype, copy=False)
    y = a @ omega
    for _ in range(q):
        if reorthonormalize:
            y = _orthonormal_basis(y)
            y = a @ _orthonormal_basis(a.T @ y)
        else:
            y = a @ (a.T @ y)
    return _orthonormal_basis(y)


def randomized_svd(matrix, rank: int, *, oversamples: int = 10, power_iterations: int = 2,
                   reorthonormalize: bool = True, random_state=None):
    """The rank-``k`` SVD of ``matrix`` by random projection: ``(U, s, Vt)``.

    Parameters
    ----------
    matrix : array_like, shape (n, m)
        Finite, 2-D; float32 stays float32 (faster), anything else is computed in float64.
    rank : int
        ``k`` in ``1 .. min(n, m)``.
    oversamples : int, keyword-only
        ``p >= 0`` extra columns in the sketch (``l = min(k + p, min(n, m))``); 5--10 is usual.
    power_iterations : int, keyword-only
        ``q >= 0`` power iterations (sklearn's ``n_iter``, torch's ``niter``).
    reorthonormalize : bool, keyword-only
        QR between the passes (default; see the module's notes).
    random_state : None, int or numpy.random.Generator, keyword-only
        As in scikit-learn: an int seed makes the result repeatable.

    Returns
    -------
    U : ndarray, shape (n, k)
    s : ndarray, shape (k,)
        Decreasing.
    Vt : ndarray, shape (k, m)

    Raises
    ------
    TypeError
        If ``matrix`` is not an array of real numbers, or a count is not an int.
    ValueError
        If ``matrix`` is not 2-D or holds NaN/inf, ``rank`` is outside ``1 .. min(n, m)``,
        ``oversamples < 0`` or ``power_iterations < 0``.

    Notes
    -----
    With ``Q`` from :func:`randomized_range_finder`, ``A ~ Q Q^T A``; the SVD of the small
    ``B = Q^T A`` gives ``A ~ (Q U_B) diag(s) V^T``. HMT's bound for the power scheme
    (Corollary 10.10, spectral norm, ``p >= 2``):

    .. math:: \\mathbb{E}\\,\\|A - Q Q^T A\\| \\le \\Big[1 + \\sqrt{\\tfrac{k}{p-1}}
              + \\tfrac{e\\sqrt{k+p}}{p}\\sqrt{\\min(n,m)-k}\\Big]^{1/(2q+1)} \\sigma_{k+1}

    -- the factor in front of the optimal error goes to 1 as ``q`` grows.

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness:
       Probabilistic algorithms for constructing approximate matrix decompositions",
       SIAM Review 53(2), 2011, Algorithms 4.3, 4.4 and 5.1.
    .. [2] ``sklearn.utils.extmath.randomized_svd``; ``torch.svd_lowrank``.
    """
    a = check_float_array("matrix", matrix, ndim=2)
    if a.dtype != np.float32:
        a = a.astype(np.float64, copy=False)
    n, m = a.shape
    k = check_rank(rank, n, m, "rank")
    p = check_int("oversamples", oversamples, minimum=0)
    q = check_int("power_iterations", power_iterations, minimum=0)
    size = min(k + p, min(n, m))
    basis = randomized_range_finder(a, size, power_iterations=q, reorthonormalize=reorthonormalize,
                                    random_state=random_state)
    u_small, s, vt = np.linalg.svd(basis.T @ a, full_matrices=False)
    return (basis @ u_small[:, :k]), s[:k], vt[:k]
