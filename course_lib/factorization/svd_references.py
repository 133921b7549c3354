"""The SVD chapter's comparisons: randomized SVD (ours, scikit-learn, torch) against the exact SVD
(notebook 06; ``python -m course_lib.bench svd`` reports them).

Every method gets the same matrix, the same rank ``k``, oversampling ``p`` and power iterations
``q``; errors are reported as a multiple of the optimal rank-``k`` error (Eckart--Young,
``sqrt(sum_{i>k} s_i^2)`` from the exact spectrum), times as the median of repeated runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from .._validation import check_float, check_float_array, check_int
from ..timing import fixed_threads, latency
from ._checks import check_shape
from .lowrank import check_rank
from .randomized import randomized_svd
from .svd import eckart_young_error, matrix_with_spectrum, stretched_spectrum

__all__ = ["RANDOMIZED_METHODS", "randomized_methods", "error_ratio", "randomized_vs_references",
           "trained_like_matrix"]

RANDOMIZED_METHODS = ("ours", "sklearn", "torch")


def randomized_methods(rank: int, oversamples: int, power_iterations: int, seed: int = 0) -> dict:
    """``name -> fn(matrix) -> (U, s, Vt)`` for our randomized SVD and the two references, at equal ``k, p, q``.

    scikit-learn runs with ``power_iteration_normalizer="QR"`` (the re-orthonormalisation ours
    does; its default skips it for ``q <= 2``) and ``flip_sign=False``; ``torch.svd_lowrank``
    takes the sketch size ``k + p`` as its ``q`` and the power iterations as ``niter``.

    Raises
    ------
    TypeError, ValueError
        For counts that are not ints >= 0 (``rank`` >= 1), or a ``seed`` that is not an int >= 0.
    """
    rank = check_int("rank", rank, minimum=1)
    p = check_int("oversamples", oversamples, minimum=0)
    q = check_int("power_iterations", power_iterations, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    import torch  # the references, once the arguments are checked
    from sklearn.utils.extmath import randomized_svd as sklearn_randomized_svd

    def ours(a):
        return randomized_svd(a, rank, oversamples=p, power_iterations=q, random_state=seed)

    def sklearn(a):
        return sklearn_randomized_svd(a, rank, n_oversamples=p, n_iter=q, power_iteration_normalizer="QR",
                                      flip_sign=False, random_state=seed)

    def torch_lowrank(a):
        torch.manual_seed(seed)
        u, s, v = torch.svd_lowrank(torch.from_numpy(a), q=min(rank + p, min(a.shape)), niter=q)
        return u[:, :rank].numpy(), s[:rank].numpy(), v[:, :rank].T.numpy()

    return {"ours": ours, "sklearn": sklearn, "torch": torch_lowrank}


def error_ratio(matrix, u, s, vt, spectrum) -> float:
    """``||A - U diag(s) Vt||_F`` divided by the optimal rank-``k`` error (``k = len(s)``).

    Raises
    ------
    TypeError, ValueError
        For arrays that are not finite or of the wrong dimensions, factors whose shapes do not fit ``matrix``
        (``u`` is ``(n, k)``, ``vt`` ``(k, m)``), or a ``spectrum`` shorter than ``k``.
    """
    a = check_float_array("matrix", matrix, ndim=2).astype(np.float64)
    s = check_float_array("s", s, ndim=1).astype(np.float64)
    k = check_rank(s.size, *a.shape, "len(s)")
    u = check_float_array("u", u, ndim=2).astype(np.float64)
    vt = check_float_array("vt", vt, ndim=2).astype(np.float64)
    for label, arr, want in (("u", u, (a.shape[0], k)), ("vt", vt, (k, a.shape[1]))):
        if arr.shape != want:
            raise ValueError(f"{label} has shape {arr.shape}, must be {want} for a {a.shape[0]}x{a.shape[1]} matrix "
                             f"and {k} singular values.")
    spectrum = check_float_array("spectrum", spectrum, ndim=1)
    if spectrum.size < k:
        raise ValueError(f"spectrum has {spectrum.size} values, must have at least len(s) == {k} (every singular "
                         f"value of matrix).")
    optimal = eckart_young_error(spectrum, k)
    residual = np.linalg.norm(a - (u * s) @ vt)
    if optimal == 0:  # an exactly rank-k matrix: any residual is infinitely worse than the optimum
        return 1.0 if residual == 0 else float("inf")
    return float(residual / optimal)


def randomized_vs_references(matrix, rank: int, *, oversamples: int = 10, power_iterations=(0, 1, 2),
                             repeats: int = 3, threads: int = 1, seed: int = 0, exact=None) -> list[dict]:
    """Error (as a multiple of the optimal) and median time of each randomized SVD, and the exact SVD's time.

    Parameters
    ----------
    matrix : array_like, shape (n, m)
    rank : int
    oversamples : int, keyword-only
    power_iterations : sequence of int, keyword-only
        The ``q`` values to run.
    repeats, threads : int, keyword-only
        Timed runs per method (the median is kept) and the BLAS/torch thread count.
    seed : int, keyword-only
    exact : tuple (spectrum, ms) or None, keyword-only
        The exact SVD's singular values and time, when already measured (large matrices).

    Returns
    -------
    list of dict
        One row per method and ``q``: ``method``, ``q``, ``error_ratio``, ``ms``; first the row of
        ``"exact"`` (``error_ratio`` 1, ``q`` None).

    Raises
    ------
    TypeError, ValueError
        For a bad matrix, rank or count, ``power_iterations`` that is not a list of ints >= 0, or an ``exact``
        that is not a pair ``(spectrum, ms)``.
    """
    a = check_float_array("matrix", matrix, ndim=2).astype(np.float32)
    rank = check_rank(rank, *a.shape, "rank")
    repeats = check_int("repeats", repeats, minimum=1)
    check_int("oversamples", oversamples, minimum=0)
    check_int("threads", threads, minimum=1)
    check_int("seed", seed, minimum=0)
    if isinstance(power_iterations, str) or not isinstance(power_iterations, (Sequence, np.ndarray)):
        raise TypeError(f"power_iterations must be a list or tuple of ints, got {type(power_iterations).__name__} "
                        f"({power_iterations!r}) (write ({power_iterations!r},) for one).")
    power_iterations = [check_int(f"power_iterations[{i}]", q, minimum=0) for i, q in enumerate(power_iterations)]
    if exact is not None:
        if not isinstance(exact, (tuple, list)) or len(exact) != 2:
            raise TypeError(f"exact must be None or a pair (spectrum, ms), got {type(exact).__name__}.")
        exact = (check_float_array("exact[0]", exact[0], ndim=1), check_float("exact[1]", exact[1], low=0.0))
    if exact is None:
        with fixed_threads(threads):
            start = time.perf_counter()
            spectrum = np.linalg.svd(a, full_matrices=False)[1].astype(np.float64)
            exact = (spectrum, (time.perf_counter() - start) * 1e3)
    spectrum, exact_ms = exact
    rows = [{"method": "exact", "q": None, "error_ratio": 1.0, "ms": float(exact_ms)}]
    for q in power_iterations:
        for name, fn in randomized_methods(rank, oversamples, q, seed).items():
            with fixed_threads(threads):  # the untimed run too: oversubscribed BLAS threads are very slow
                result = fn(a)
                ratio = error_ratio(a, *result, spectrum)
            ms = latency(lambda fn=fn: fn(a), warmup=0, repeats=repeats, threads=threads).median_ms
            rows.append({"method": name, "q": int(q), "error_ratio": ratio, "ms": ms})
    return rows


def trained_like_matrix(singular_values, shape, *, rng=0) -> np.ndarray:
    """A float32 matrix of ``shape`` whose spectrum is a trained layer's, stretched (extrapolated) to its size,
    with random singular vectors (:func:`~course_lib.factorization.svd.matrix_with_spectrum`).

    Raises
    ------
    TypeError, ValueError
        As :func:`~course_lib.factorization.svd.stretched_spectrum`, or a ``shape`` that is not two ints.
    """
    shape = check_shape("shape", shape, what="size")
    if len(shape) != 2:
        raise ValueError(f"shape == {shape!r}, must be two ints (n, m).")
    return matrix_with_spectrum(stretched_spectrum(singular_values, min(shape)), shape, rng=rng)
