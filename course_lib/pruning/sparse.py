"""Sparse products: do the zeros save time? SciPy's CSR kernel against dense BLAS. NumPy and SciPy."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse

from .._validation import check_float_array, check_fraction, check_int, check_random_state, short_repr
from ..timing import latency
from .masks import magnitude_prune
from .storage import as_matrix

__all__ = ["to_csr", "sparse_linear", "dense_vs_sparse_times", "dense_vs_sparse_latencies", "alternating_latencies",
           "crossover_sparsity"]


def to_csr(weights) -> scipy.sparse.csr_array:
    """``weights`` as a SciPy CSR array (zeros not stored); N-D is reshaped to ``(shape[0], -1)``."""
    return scipy.sparse.csr_array(as_matrix(check_float_array("weights", weights)))


def sparse_linear(x, w_csr, bias=None) -> np.ndarray:
    """A fully connected layer with a sparse weight matrix: ``x @ W.T + b``.

    Parameters
    ----------
    x : array_like, shape (batch, in) or (in,)
    w_csr : scipy.sparse array or matrix, shape (out, in)
        For example from :func:`to_csr`.
    bias : array_like, shape (out,), optional

    Returns
    -------
    ndarray, shape (batch, out) or (out,)

    Raises
    ------
    TypeError, ValueError
        If ``x`` is not a finite 1-D/2-D real array, ``w_csr`` not a 2-D real scipy.sparse array, or the
        shapes of ``x``, ``w_csr`` and ``bias`` do not fit.

    Notes
    -----
    Computed as :math:`(W x^T)^T`: SciPy's CSR-times-dense kernel visits only the
    ``nnz`` stored weights, ``O(nnz * batch)`` operations instead of
    ``O(out * in * batch)`` -- but with indirect memory access, so it beats a dense
    BLAS product only at high sparsity (see :func:`dense_vs_sparse_times`).
    """
    x = check_float_array("x", x, ndim=(1, 2))
    if not scipy.sparse.issparse(w_csr) or w_csr.ndim != 2:
        raise TypeError(f"w_csr must be a 2-D scipy.sparse array (see to_csr), got {type(w_csr).__name__}.")
    if w_csr.dtype == bool or w_csr.dtype.kind not in "iuf":
        raise TypeError(f"w_csr must hold real numbers, got dtype {w_csr.dtype}.")
    out_features, in_features = w_csr.shape
    if x.shape[-1] != in_features:
        raise ValueError(f"x has {x.shape[-1]} features (shape {x.shape}), must have {in_features} "
                         f"to match w_csr of shape {w_csr.shape}.")
    y = (w_csr @ x.T).T
    if bias is not None:
        bias = check_float_array("bias", bias, ndim=1)
        if bias.shape != (out_features,):
            raise ValueError(f"bias has shape {bias.shape}, must be ({out_features},) to match w_csr.")
        y = y + bias
    return y


def _pruned_products(shape, sparsities, batch, repeats, rng):
    """The checked arguments of the dense-vs-sparse timings and, per sparsity, its two products.

    Returns ``(sparsities, repeats, products)``: ``products`` holds ``(sparsity, dense_call, csr_call)``, the
    same pruned float32 matrix multiplied densely (NumPy ``x @ W.T``) and as CSR (SciPy ``W x^T``).
    """
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a pair (out, in), got {short_repr(shape)}.")
    out_features = check_int("shape[0]", shape[0], minimum=1)
    in_features = check_int("shape[1]", shape[1], minimum=1)
    if isinstance(sparsities, (str, bytes)) or not hasattr(sparsities, "__iter__"):
        raise TypeError(f"sparsities must be a sequence of floats, got {type(sparsities).__name__}.")
    sparsities = [check_fraction(f"sparsities[{i}]", s, allow_one=False) for i, s in enumerate(sparsities)]
    if not sparsities:
        raise ValueError("sparsities is empty, must hold at least one value.")
    batch = check_int("batch", batch, minimum=1)
    repeats = check_int("repeats", repeats, minimum=1)
    gen = check_random_state(rng)
    weights = gen.standard_normal((out_features, in_features), dtype=np.float32)
    x = gen.standard_normal((batch, in_features), dtype=np.float32)
    xt = np.ascontiguousarray(x.T)
    products = []
    for s in sparsities:
        pruned, _ = magnitude_prune(weights, s)
        w_csr = to_csr(pruned)
        products.append((s, lambda w=pruned: x @ w.T, lambda w=w_csr: w @ xt))
    return sparsities, repeats, products


def dense_vs_sparse_times(shape=(1024, 1024), sparsities=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99), *,
                          batch: int = 1, repeats: int = 20, rng=None) -> list[dict]:
    """Time a dense and a CSR product of the same pruned matrix at several sparsities.

    Parameters
    ----------
    shape : (int, int)
        ``(out, in)`` of the weight matrix.
    sparsities : sequence of float in [0, 1)
        Fractions of the weights removed by :func:`magnitude_prune`.
    batch : int, keyword-only
        Rows of the input ``x`` (1: a single example, the latency case).
    repeats : int, keyword-only
        Timed calls per measurement (:func:`course_lib.measure.latency`, one thread).
    rng : None, int or numpy.random.Generator, keyword-only
        For the random Gaussian weights and input.

    Returns
    -------
    list of dict
        One row per sparsity: ``sparsity``, ``dense_ms`` (NumPy ``x @ W.T``),
        ``sparse_ms`` (SciPy CSR ``(W x^T)^T``), ``speedup = dense_ms / sparse_ms``.

    Notes
    -----
    Both products run single-threaded on the same pruned float32 matrix, so the
    only difference is the format. The dense time does not depend on the sparsity;
    the sparse one falls with ``nnz`` but starts much higher, so there is a
    crossover sparsity (:func:`crossover_sparsity`), typically around 90%.
    """
    _, repeats, products = _pruned_products(shape, sparsities, batch, repeats, rng)
    rows = []
    for s, dense_call, sparse_call in products:
        dense = latency(dense_call, repeats=repeats, threads=1)
        sparse = latency(sparse_call, repeats=repeats, threads=1)
        rows.append({"sparsity": s, "dense_ms": dense.median_ms, "sparse_ms": sparse.median_ms,
                     "speedup": dense.median_ms / sparse.median_ms if sparse.median_ms > 0 else math.inf})
    return rows


def dense_vs_sparse_latencies(shape=(1024, 1024), sparsities=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99), *,
                              batch: int = 1, repeats: int = 20, rng=None) -> list[dict]:
    """:func:`dense_vs_sparse_times` with each measurement's spread: the whole :class:`~course_lib.timing.Latency`.

    Same parameters and the same products. For :mod:`course_lib.verdicts` (``first_win``, ``compare``),
    which need the spread of every timing, not only its median.

    Returns
    -------
    list of dict
        One row per sparsity: ``sparsity``, ``dense`` and ``sparse`` (:class:`~course_lib.timing.Latency`,
        one thread). The two products of a sparsity are timed in alternating blocks (a few dense calls,
        a few sparse calls, five times over), so a change of the machine's load falls on both alike while
        each product still finds its own matrix in the cache.
    """
    _, repeats, products = _pruned_products(shape, sparsities, batch, repeats, rng)
    rows = []
    for s, dense_call, sparse_call in products:
        dense, sparse = alternating_latencies(dense_call, sparse_call, repeats=repeats,
                                              warmup=max(3, repeats // 4))   # a new matrix: caches, TLB, clock
        rows.append({"sparsity": s, "dense": dense, "sparse": sparse})
    return rows


def alternating_latencies(fn_a, fn_b, *, repeats: int = 20, rounds: int = 5, warmup: int = 3):
    """Time two calls side by side, in alternating blocks, on one thread: two :class:`~course_lib.timing.Latency`.

    ``rounds`` times: one untimed call of ``fn_a`` and a block of its timed calls, then the same for ``fn_b``
    (``repeats`` timed calls of each in all). Blocks, not single calls in turn: each call finds its own
    data in the cache, as in a loop of its own; alternating blocks: a change of the machine's load falls on
    both, so their comparison (:func:`course_lib.verdicts.compare`) is fair even on a busy machine.

    Parameters
    ----------
    fn_a, fn_b : callable
        Called with no arguments (under ``torch.inference_mode()`` when torch is loaded, as
        :func:`course_lib.timing.latency` does).
    repeats : int, keyword-only
        Timed calls of each (at least 1).
    rounds : int, keyword-only
        Blocks of each (at least 1; at most ``repeats`` are used).
    warmup : int, keyword-only
        Untimed calls of each first (at least 0).

    Returns
    -------
    (Latency, Latency)
        ``fn_a``'s and ``fn_b``'s: median, interquartile range, minimum (ms), ``repeats``, 1 thread.
    """
    import contextlib
    import statistics
    import sys
    import time

    from ..timing import Latency, fixed_threads

    if not callable(fn_a) or not callable(fn_b):
        raise TypeError(f"fn_a and fn_b must be callable, got {type(fn_a).__name__} and {type(fn_b).__name__}.")
    repeats = check_int("repeats", repeats, minimum=1)
    rounds = min(check_int("rounds", rounds, minimum=1), repeats)
    warmup = check_int("warmup", warmup, minimum=0)
    torch = sys.modules.get("torch")
    no_grad = torch.inference_mode() if torch is not None else contextlib.nullcontext()
    times = ([], [])
    with fixed_threads(1), no_grad:
        for _ in range(warmup):
            fn_a(), fn_b()
        for r in range(rounds):
            block = repeats // rounds + (r < repeats % rounds)
            for fn, out in zip((fn_a, fn_b), times):
                fn()
                for _ in range(block):
                    start = time.perf_counter()
                    fn()
                    out.append((time.perf_counter() - start) * 1e3)
    result = []
    for t in times:
        q = statistics.quantiles(t, n=4) if len(t) > 1 else [t[0]] * 3
        result.append(Latency(statistics.median(t), q[2] - q[0], min(t), len(t), 1))
    return tuple(result)


def crossover_sparsity(rows) -> float | None:
    """The smallest measured sparsity at which the sparse product was faster, or None.

    ``rows`` as returned by :func:`dense_vs_sparse_times`.
    """
    if not isinstance(rows, (list, tuple)):
        raise TypeError(f"rows must be a list of dicts from dense_vs_sparse_times, got {type(rows).__name__}.")
    faster = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not {"sparsity", "dense_ms", "sparse_ms"} <= set(row):
            raise ValueError(f"rows[{i}] must be a dict with keys 'sparsity', 'dense_ms', 'sparse_ms', "
                             f"got {short_repr(row)}.")
        for key in ("sparsity", "dense_ms", "sparse_ms"):
            v = row[key]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or v != v:
                raise TypeError(f"rows[{i}][{key!r}] must be a number, got {type(v).__name__} ({short_repr(v)}).")
        if row["sparse_ms"] < row["dense_ms"]:
            faster.append(row["sparsity"])
    return min(faster) if faster else None
