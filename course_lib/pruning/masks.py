"""Pruning masks: drop weights below a threshold or the smallest ones, per layer or globally. Pure NumPy.

The mask is computed first (``True`` = kept) and applied second, as in
``torch.nn.utils.prune``: every ``*_prune`` function is ``weights * *_mask(...)``,
returns ``(pruned, mask)`` and never touches its input.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validation import check_float_array, check_positive_float, short_repr

__all__ = ["threshold_mask", "threshold_prune", "magnitude_mask", "magnitude_prune", "global_magnitude_prune",
           "sparsity", "check_amount", "magnitude_ranks"]


def check_amount(amount, size: int) -> int:
    """``amount`` (int = count, float = fraction) -> the number of weights to remove."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"amount must be an int (a count) or a float (a fraction), "
                        f"got {type(amount).__name__} ({short_repr(amount)}).")
    if isinstance(amount, numbers.Integral):
        amount = int(amount)
        if amount < 0:
            raise ValueError(f"amount == {amount}, must be >= 0.")
        if amount > size:
            raise ValueError(f"amount == {amount}, must be <= {size} (the number of weights) "
                             f"when an int (a count).")
        return amount
    amount = float(amount)
    if not math.isfinite(amount):
        raise ValueError(f"amount == {amount}, must be finite.")
    if amount < 0:
        raise ValueError(f"amount == {amount}, must be >= 0.")
    if amount > 1:
        raise ValueError(f"amount == {amount}, must be <= 1 when a float (a fraction).")
    return round(amount * size)  # Python's round, as torch.nn.utils.prune does



def _prune_with(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, arr, 0).astype(arr.dtype, copy=False)


def magnitude_ranks(magnitudes) -> np.ndarray:
    """The rank of each magnitude in the pruning order: 0 goes first; ties: lower index first.

    Parameters
    ----------
    magnitudes : array_like of floats, 1-D
        E.g. ``np.abs(w).ravel()``, or the concatenated layers of a global ranking.

    Returns
    -------
    ndarray of int64, same shape
        ``ranks >= k`` is the keep-mask that removes exactly the ``k`` smallest (the count
        rule of :func:`magnitude_mask`), for any ``k``: compute the ranks once, and every
        sparsity is one comparison (the pruning explorers do this).

    Raises
    ------
    TypeError, ValueError
        If ``magnitudes`` is not a 1-D, non-empty, finite array of real numbers ``>= 0``.

    Examples
    --------
    >>> magnitude_ranks([0.3, 0.1, 0.3, 0.2])
    array([2, 0, 3, 1])
    """
    m = check_float_array("magnitudes", magnitudes, ndim=1)
    if m.size and m.min() < 0:
        raise ValueError(f"magnitudes holds {int(np.count_nonzero(m < 0))} negative value(s) (min {m.min():.3g}), "
                         f"must be >= 0: pass np.abs(w).ravel().")
    ranks = np.empty(m.size, dtype=np.int64)
    ranks[np.argsort(m, kind="stable")] = np.arange(m.size)
    return ranks


def _smallest_removed(magnitudes: np.ndarray, k: int) -> np.ndarray:
    """1-D keep-mask without the ``k`` smallest ``magnitudes``; ties: lower index first (stable sort).

    The same mask as ``magnitude_ranks(magnitudes) >= k``, in linear time: ``np.partition``
    finds the ``k``-th smallest value ``t``; everything below ``t`` goes, and of the entries
    equal to ``t`` the first ones (by index) go until ``k`` are gone.
    """
    if k == 0:
        return np.ones(magnitudes.size, dtype=bool)
    if k >= magnitudes.size:
        return np.zeros(magnitudes.size, dtype=bool)
    t = np.partition(magnitudes, k - 1)[k - 1]
    keep = magnitudes > t
    ties = np.flatnonzero(magnitudes == t)
    keep[ties[k - int(np.count_nonzero(magnitudes < t)):]] = True
    return keep



def threshold_mask(weights, C) -> np.ndarray:
    """Mask of the weights whose magnitude reaches the threshold: ``|w| >= C``.

    Parameters
    ----------
    weights : array_like of real numbers
        Any shape; finite, not empty.
    C : float
        The threshold, a finite real number ``>= 0``.

    Returns
    -------
    mask : ndarray of bool, same shape as ``weights``
        ``True`` where the weight is kept.

    Raises
    ------
    TypeError
        If ``weights`` is not real-valued (bool, complex, strings) or ``C`` is not a real number.
    ValueError
        If ``weights`` is empty or holds NaN/inf, or ``C`` is negative, NaN or infinite.

    Notes
    -----
    .. math:: m_i = [\\,|w_i| \\ge C\\,]

    The seed lecture writes ``w < C``; without the absolute value every negative
    weight would be removed, however large. ``C == 0`` keeps everything (zeros
    included); a ``C`` above every ``|w|`` removes everything. The number removed
    depends on the weights -- use :func:`magnitude_mask` for an exact count.

    References
    ----------
    .. [1] Han et al., "Learning both Weights and Connections for Efficient Neural
       Networks", NeurIPS 2015.

    Examples
    --------
    >>> threshold_mask([0.5, -2.0, 0.1, 1.0], 1.0)
    array([False,  True, False,  True])
    """
    arr = check_float_array("weights", weights)
    C = check_positive_float("C", C, allow_zero=True)
    return np.abs(arr) >= C


def threshold_prune(weights, C) -> tuple[np.ndarray, np.ndarray]:
    """Zero every weight with ``|w| < C``; returns ``(pruned, mask)``.

    See :func:`threshold_mask` for the parameters, the rule and the degenerate cases.
    ``pruned`` is a new array of the (floating) dtype of ``weights``.

    Examples
    --------
    >>> pruned, mask = threshold_prune([0.5, -2.0, 0.1, 1.0], 1.0)
    >>> pruned
    array([ 0., -2.,  0.,  1.])
    """
    arr = check_float_array("weights", weights)
    mask = threshold_mask(arr, C)  # compute the mask, then apply it (torch.nn.utils.prune's split)
    return _prune_with(arr, mask), mask


def magnitude_mask(weights, amount) -> np.ndarray:
    """Mask that removes exactly ``amount`` weights, those of smallest magnitude.

    Parameters
    ----------
    weights : array_like of real numbers
        Any shape; finite, not empty.
    amount : int or float
        An int is a count (``0 .. weights.size``); a float is a fraction in ``[0, 1]``,
        turned into the count ``round(amount * weights.size)`` (Python's rounding, as
        ``torch.nn.utils.prune`` does).

    Returns
    -------
    mask : ndarray of bool, same shape as ``weights``
        ``True`` where the weight is kept; exactly ``k`` entries are ``False``.

    Raises
    ------
    TypeError
        If ``weights`` is not real-valued, or ``amount`` is not an int or a float (bool included).
    ValueError
        If ``weights`` is empty or not finite, or ``amount`` is out of range.

    Notes
    -----
    Sort the magnitudes ``|w|`` of the flattened (C-order) array with a *stable*
    sort and remove the first ``k``:

    .. math:: m_{\\pi(j)} = [\\, j \\ge k \\,], \\quad |w_{\\pi(0)}| \\le |w_{\\pi(1)}| \\le \\dots

    Ties are broken by position: among equal magnitudes the lower flat index goes
    first. So exactly ``k`` weights go even when many share the threshold
    magnitude (all-equal weights included) -- never "everything at the threshold".

    References
    ----------
    .. [1] Han et al., NeurIPS 2015.
    .. [2] ``torch.nn.utils.prune.l1_unstructured`` (same count rule).

    Examples
    --------
    >>> magnitude_mask([1.0, 1.0, 1.0, 1.0], 0.5)
    array([False, False,  True,  True])
    """
    arr = check_float_array("weights", weights)
    return _smallest_removed(np.abs(arr).ravel(), check_amount(amount, arr.size)).reshape(arr.shape)


def magnitude_prune(weights, amount) -> tuple[np.ndarray, np.ndarray]:
    """Zero the ``amount`` weights of smallest magnitude; returns ``(pruned, mask)``.

    See :func:`magnitude_mask` for the parameters, the count rule and the ties.

    Examples
    --------
    >>> pruned, mask = magnitude_prune([[0.3, -0.1], [-0.5, 0.2]], 2)
    >>> pruned
    array([[ 0.3,  0. ],
           [-0.5,  0. ]])
    """
    arr = check_float_array("weights", weights)
    mask = magnitude_mask(arr, amount)
    return _prune_with(arr, mask), mask


def _named_arrays(weights) -> list[tuple[object, np.ndarray]]:
    """(key, checked array) pairs of a dict or a list/tuple of arrays."""
    if isinstance(weights, dict):
        items = list(weights.items())
        label = "weights[{!r}]"
    elif isinstance(weights, (list, tuple)):
        items = list(enumerate(weights))
        label = "weights[{}]"
    else:
        raise TypeError(f"weights must be a dict or a list of arrays, got {type(weights).__name__}.")
    if not items:
        raise ValueError("weights is empty, must hold at least one array.")
    return [(key, check_float_array(label.format(key), value)) for key, value in items]


def global_magnitude_prune(weights, amount):
    """Magnitude pruning with one ranking over several layers; returns ``(pruned, masks)``.

    Parameters
    ----------
    weights : dict of name -> array, or list (tuple) of arrays
        The layers, each finite and not empty.
    amount : int or float
        Count or fraction of *all* the weights together (see :func:`magnitude_mask`).

    Returns
    -------
    pruned, masks
        Same container type and keys as ``weights``: new arrays and bool masks.

    Raises
    ------
    TypeError, ValueError
        For a bad container, a bad layer (named ``weights['fc1']`` or ``weights[0]``)
        or a bad ``amount``.

    Notes
    -----
    The layers are flattened and concatenated in the container's order, and
    :func:`magnitude_mask` is applied to the result: the weights removed are the
    ``k`` smallest ``|w|`` of the whole network, so layers of small weights lose
    more than others. Ties go to the earlier layer, then to the lower index. With a
    single layer this is exactly :func:`magnitude_prune`.

    References
    ----------
    .. [1] ``torch.nn.utils.prune.global_unstructured``.
    .. [2] Han et al., NeurIPS 2015.
    """
    items = _named_arrays(weights)
    flat = np.concatenate([np.abs(arr).ravel() for _, arr in items])
    keep = _smallest_removed(flat, check_amount(amount, flat.size))
    pruned, masks, start = [], [], 0
    for _, arr in items:
        mask = keep[start:start + arr.size].reshape(arr.shape)
        start += arr.size
        masks.append(mask)
        pruned.append(_prune_with(arr, mask))
    if isinstance(weights, dict):
        keys = [key for key, _ in items]
        return dict(zip(keys, pruned)), dict(zip(keys, masks))
    kind = type(weights) if type(weights) in (list, tuple) else list
    return kind(pruned), kind(masks)


def sparsity(x) -> float:
    """Fraction of zeros in ``x``; for a bool mask, the fraction of ``False`` (removed).

    Parameters
    ----------
    x : array_like (numbers or bool), or a dict / list of them
        For a container, the fraction over all entries together.

    Returns
    -------
    float
        ``1 - nnz / size`` in ``[0, 1]``.

    Raises
    ------
    TypeError
        If ``x`` is not numeric (strings, objects, complex).
    ValueError
        If ``x`` is empty.

    Notes
    -----
    .. math:: s = 1 - \\frac{\\operatorname{nnz}(x)}{\\operatorname{size}(x)}

    A mask and the weights it pruned have the same sparsity unless the weights
    already held zeros (``threshold_mask(w, 0)`` keeps zeros: sparsity 0).

    Examples
    --------
    >>> sparsity([[0.0, 1.0], [0.0, 0.0]])
    0.75
    """
    if isinstance(x, dict):
        parts = list(x.values())
    elif isinstance(x, (list, tuple)) and x and not np.isscalar(x[0]):
        parts = list(x)
    else:
        parts = [x]
    zeros = size = 0
    for part in parts:
        if hasattr(part, "detach") and hasattr(part, "cpu"):  # a torch tensor
            part = part.detach().cpu().numpy()
        arr = np.asarray(part)
        if not (arr.dtype == bool or np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise TypeError(f"x must be an array of real numbers or bools, got dtype {arr.dtype}.")
        size += arr.size
        zeros += arr.size - np.count_nonzero(arr)
    if size == 0:
        raise ValueError("x is empty, must have at least one element.")
    return float(zeros / size)
