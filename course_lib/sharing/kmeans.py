"""Weight sharing by k-means: one layer's weights become ``2**bits`` shared values and small indices. NumPy only.

Han, Mao & Dally's second stage: the weights of a layer are clustered in one dimension (their
values), each weight is replaced by its cluster's centroid, and the layer is stored as a
*codebook* of ``k = 2**bits`` float32 centroids plus one ``bits``-bit *index* per weight. In a
pruned layer only the kept weights are clustered: the pruned ones stay exactly zero and take no
part in the clustering (their index is 0 and means nothing; the mask says where they are).
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    check_choice,
    check_float,
    check_float_array,
    check_int,
    check_int_array,
    check_random_state,
    to_numpy,
)

__all__ = ["INITS", "initial_centroids", "lloyd_1d", "share_weights", "reconstruct", "centroid_gradient",
           "check_mask", "index_dtype"]

#: The centroid initialisations of Han et al. (sec. 3.1): evenly spaced values, quantiles, Forgy.
INITS = ("linear", "density", "random")


def index_dtype(k: int) -> np.dtype:
    """The smallest unsigned integer type that holds the indices ``0 .. k-1``: uint8 up to 256, else uint16.

    Examples
    --------
    >>> index_dtype(32), index_dtype(1024)
    (dtype('uint8'), dtype('uint16'))
    """
    k = check_int("k", k, minimum=1, maximum=2**16)
    return np.dtype(np.uint8) if k <= 256 else np.dtype(np.uint16)


def check_mask(mask, shape: tuple, name: str = "mask") -> np.ndarray | None:
    """``None`` or a boolean array of exactly ``shape`` (``True`` = the weight is kept)."""
    if mask is None:
        return None
    arr = to_numpy(mask)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a boolean array (True = kept), got dtype {arr.dtype}.")
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}, must have the weights' shape {tuple(shape)}.")
    return arr


def initial_centroids(values, k: int, init: str = "linear", *, rng=None) -> np.ndarray:
    """The ``k`` starting centroids of 1-D k-means, as Han et al. define them (ascending, float64).

    Parameters
    ----------
    values : array_like of real numbers
        The weights to cluster (any shape, read flat); finite, not empty.
    k : int
        Number of centroids (>= 1).
    init : {"linear", "density", "random"}
        ``"linear"``: evenly spaced between the smallest and the largest value,
        ``c_j = min + j (max - min) / (k - 1)``; ``"density"``: evenly spaced on the y-axis of the
        values' empirical CDF, ``c_j = F^{-1}((j + 1/2) / k)`` (the quantiles at the middles of
        ``k`` equal slices of probability, :func:`numpy.quantile`'s linear rule); ``"random"``
        (Forgy): ``k`` of the values drawn without replacement.
    rng : None, int or numpy.random.Generator, keyword-only
        Used by ``"random"`` only.

    Returns
    -------
    ndarray of float64, shape (k,)
        Sorted ascending.

    Raises
    ------
    TypeError, ValueError
        If ``values`` is not a finite, non-empty real array, ``k`` is not an int >= 1 (and, for
        ``"random"``, <= the number of values), or ``init`` is not one of the three.

    Notes
    -----
    With one centroid every rule gives a single value (min for linear, the median for density).
    Equal starting centroids can occur (many equal values, ``"density"``); the later ones of a
    tie then win no weight at first and are moved onto far values (:func:`lloyd_1d`).

    Examples
    --------
    >>> initial_centroids([0.0, 1.0, 2.0, 4.0], 3, "linear")
    array([0., 2., 4.])
    >>> initial_centroids([0.0, 1.0, 2.0, 4.0], 2, "density")
    array([0.75, 2.5 ])
    """
    x = check_float_array("values", values).astype(np.float64).ravel()
    k = check_int("k", k, minimum=1)
    init = check_choice("init", init, INITS)
    gen = check_random_state(rng)
    if init == "linear":
        return np.linspace(x.min(), x.max(), k) if k > 1 else np.array([x.min()])
    if init == "density":
        return np.quantile(x, (np.arange(k) + 0.5) / k)
    if k > x.size:
        raise ValueError(f"k == {k}, must be <= the number of values ({x.size}) for init='random'.")
    return np.sort(x[gen.choice(x.size, size=k, replace=False)])


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each value; a tie goes to the lowest index (like ``argmin``)."""
    order = np.argsort(centroids, kind="stable")
    c = centroids[order]
    # among equal centroids the lowest index wins: map each sorted slot to the first of its group
    first = np.searchsorted(c, c, side="left")
    right = np.clip(np.searchsorted(c, x, side="left"), 0, c.size - 1)
    left = np.clip(right - 1, 0, c.size - 1)
    right, left = first[right], first[left]
    d_left, d_right = np.abs(x - c[left]), np.abs(x - c[right])
    pick_left = (d_left < d_right) | ((d_left == d_right) & (order[left] < order[right]))
    return order[np.where(pick_left, left, right)]


def _relocate_empty(x: np.ndarray, c: np.ndarray, labels: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> None:
    """Give each empty cluster the value farthest from its own centroid (scikit-learn's rule), in place."""
    empty = np.flatnonzero(counts == 0)[:x.size]
    if empty.size == 0:
        return
    distances = (x - c[labels]) ** 2
    far = np.argpartition(distances, -empty.size)[:-empty.size - 1:-1]  # the same call as sklearn's: same order
    for cluster, i in zip(empty.tolist(), far.tolist()):
        old = labels[i]
        sums[old] -= x[i]
        counts[old] -= 1
        sums[cluster], counts[cluster] = x[i], 1


def lloyd_1d(values, centroids, *, iters: int = 300, tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray, int]:
    """Lloyd's k-means iterations on 1-D data from given starting centroids.

    Parameters
    ----------
    values : array_like of real numbers
        The data (read flat); finite, not empty.
    centroids : array_like of real numbers, shape (k,)
        The starting centroids (:func:`initial_centroids`).
    iters : int, keyword-only
        At most this many iterations (>= 1).
    tol : float, keyword-only
        Relative tolerance (>= 0): stop once the centroids moved, in total squared distance, by at
        most ``tol * var(values)`` in one iteration (scikit-learn's rule), or as soon as no value
        changed cluster. ``tol=0`` runs until the assignment is stable (or ``iters``).

    Returns
    -------
    centroids : ndarray of float64, shape (k,)
        The final centroids: each is the mean of the values assigned to it (empty: see Notes).
    labels : ndarray of intp, shape (n,)
        The index of each value's nearest final centroid.
    n_iter : int
        Iterations run.

    Raises
    ------
    TypeError, ValueError
        On a non-real or non-finite array, an empty one, or a bad ``iters``/``tol``.

    Notes
    -----
    Each iteration assigns every value to its nearest centroid (ties: the lowest index) and
    moves each centroid to the mean of its values. An **empty cluster** (no value nearest to it:
    common in a pruned layer, whose weights leave a hole around zero where linear initialisation
    puts centroids) would waste a codebook entry; as in scikit-learn's ``KMeans``, it takes the
    value farthest from its own centroid instead (the farthest values go to the empty clusters in
    :func:`numpy.argpartition`'s order), and that value leaves its cluster for this update. A
    cluster left with no value even so (more empty clusters than values, or a relocation that
    emptied another) keeps its centroid. The labels returned are recomputed from the final
    centroids, so ``labels`` and ``centroids`` always agree.

    Examples
    --------
    >>> c, labels, n = lloyd_1d([0.0, 0.2, 1.0, 1.2], [0.0, 1.0])
    >>> c, labels
    (array([0.1, 1.1]), array([0, 0, 1, 1]))
    """
    x = check_float_array("values", values).astype(np.float64).ravel()
    c = check_float_array("centroids", centroids, ndim=1).astype(np.float64).copy()
    iters = check_int("iters", iters, minimum=1)
    tol = check_float("tol", tol, low=0.0)
    threshold = tol * float(np.var(x))
    k = c.size
    labels = _nearest(x, c)
    n_iter = 0
    while n_iter < iters:
        n_iter += 1
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=x, minlength=k)
        _relocate_empty(x, c, labels, counts, sums)
        new = np.where(counts > 0, sums / np.maximum(counts, 1), c)
        shift = float(np.sum((new - c) ** 2))
        c = new
        new_labels = _nearest(x, c)
        if np.array_equal(new_labels, labels) or shift <= threshold:
            labels = new_labels
            break
        labels = new_labels
    return c, labels, n_iter


def share_weights(weights, bits: int, *, init: str = "linear", mask=None, iters: int = 300, tol: float = 1e-4,
                  rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Cluster a layer's weights into ``2**bits`` shared values; returns ``(codebook, indices)``.

    Parameters
    ----------
    weights : array_like of real numbers
        One layer's weights, any shape; finite, not empty.
    bits : int
        Index width, 1 to 16: ``k = 2**bits`` centroids (Han et al.: 8 for convolutions, 5 for
        fully connected layers).
    init : {"linear", "density", "random"}, keyword-only
        The starting centroids (:func:`initial_centroids`); Han et al. found linear best, since it
        keeps centroids on the few large weights that matter most.
    mask : bool array or None, keyword-only
        ``True`` where the weight is kept. Only those weights are clustered; the others (pruned)
        are ignored, stay exactly zero in :func:`reconstruct` and get index 0. ``None``: every
        weight is clustered (an unpruned layer). A pruned layer passes its mask, or ``weights != 0``.
    iters, tol : keyword-only
        Lloyd's iterations, to convergence (:func:`lloyd_1d`).
    rng : None, int or numpy.random.Generator, keyword-only
        For ``init="random"``.

    Returns
    -------
    codebook : ndarray of float32, shape (2**bits,)
        The centroids.
    indices : ndarray of uint8 (bits <= 8) or uint16, shape of ``weights``
        The centroid of each weight (0 where ``mask`` is False).

    Raises
    ------
    TypeError, ValueError
        On bad arguments (checked before any work): non-finite weights, ``bits`` outside 1..16, an
        unknown ``init``, a mask that is not boolean or not of the weights' shape, a mask that keeps
        no weight, or ``init="random"`` with fewer kept weights than centroids.

    Examples
    --------
    >>> codebook, indices = share_weights([[0.1, -0.5], [0.12, 0.0]], 1, mask=[[True, True], [True, False]])
    >>> codebook, indices
    (array([-0.5 ,  0.11], dtype=float32), array([[1, 0],
           [1, 0]], dtype=uint8))
    """
    w = check_float_array("weights", weights)
    bits = check_int("bits", bits, minimum=1, maximum=16)
    init = check_choice("init", init, INITS)
    mask = check_mask(mask, w.shape)
    iters = check_int("iters", iters, minimum=1)
    tol = check_float("tol", tol, low=0.0)
    gen = check_random_state(rng)
    k = 2**bits
    kept = w.astype(np.float64).ravel() if mask is None else w.astype(np.float64)[mask]
    if kept.size == 0:
        raise ValueError("mask keeps no weight, must keep at least one to cluster.")
    if init == "random" and kept.size < k:
        raise ValueError(f"bits == {bits} asks for {k} centroids, must be <= the {kept.size} kept weights "
                         f"for init='random' (or use init='linear').")
    start = initial_centroids(kept, k, init, rng=gen)
    centroids, labels, _ = lloyd_1d(kept, start, iters=iters, tol=tol)
    indices = np.zeros(w.shape, dtype=index_dtype(k))
    if mask is None:
        indices[...] = labels.reshape(w.shape)
    else:
        indices[mask] = labels
    return centroids.astype(np.float32), indices


def _check_codes(codebook, indices, mask):
    book = check_float_array("codebook", codebook, ndim=1)
    idx = check_int_array("indices", indices, low=0, high=book.size - 1, allow_empty=False)
    return book, idx, check_mask(mask, idx.shape)


def reconstruct(codebook, indices, mask=None) -> np.ndarray:
    """The shared-weight layer: ``codebook[indices]``, zero where ``mask`` is False.

    Parameters
    ----------
    codebook : array_like of real numbers, shape (k,)
    indices : array_like of ints in ``[0, k)``
        Any shape.
    mask : bool array of the indices' shape, or None
        ``None``: every weight is kept.

    Returns
    -------
    ndarray, shape of ``indices``, dtype of ``codebook``

    Raises
    ------
    TypeError, ValueError
        If an index is out of range, or the mask is not boolean or has another shape.

    Examples
    --------
    >>> reconstruct(np.array([-1.0, 2.0], dtype=np.float32), [[0, 1], [1, 1]], [[True, True], [False, True]])
    array([[-1.,  2.],
           [ 0.,  2.]], dtype=float32)
    """
    book, idx, mask = _check_codes(codebook, indices, mask)
    out = book[idx]
    if mask is not None:
        out[~mask] = 0
    return out


def centroid_gradient(grad, indices, k: int, mask=None) -> np.ndarray:
    """Each centroid's gradient: the sum of the gradients of the weights that share it (Han et al., eq. 3).

    Parameters
    ----------
    grad : array_like of real numbers
        The loss's gradient with respect to each weight, of the indices' shape.
    indices : array_like of ints in ``[0, k)``
    k : int
        Codebook size (>= 1).
    mask : bool array or None
        ``True`` where the weight is kept; pruned weights (False) contribute nothing.

    Returns
    -------
    ndarray, shape (k,), dtype of ``grad``
        ``dL/dc_j = sum_i [I_i = j] m_i dL/dw_i``, accumulated in float64.

    Raises
    ------
    TypeError, ValueError
        On a shape mismatch, an index out of range or non-finite gradients.

    Notes
    -----
    Since ``w_i = c_{I_i}``, the chain rule gives ``dL/dc_j = sum_i dL/dw_i dw_i/dc_j`` and
    ``dw_i/dc_j = 1`` exactly when weight ``i`` uses centroid ``j``: a grouped sum
    (:func:`numpy.bincount` with weights). Autograd computes the same through ``codebook[indices]``.

    Examples
    --------
    >>> centroid_gradient([[0.5, 1.0], [2.0, -1.0]], [[0, 1], [1, 1]], 3)
    array([0.5, 2. , 0. ])
    """
    g = check_float_array("grad", grad)
    k = check_int("k", k, minimum=1)
    idx = check_int_array("indices", indices, low=0, high=k - 1)
    if idx.shape != g.shape:
        raise ValueError(f"indices has shape {idx.shape}, must have the shape of grad {g.shape}.")
    mask = check_mask(mask, g.shape)
    if mask is None:
        mask = np.ones(g.shape, dtype=bool)
    return np.bincount(idx[mask].astype(np.intp), weights=g[mask].astype(np.float64), minlength=k).astype(g.dtype)
