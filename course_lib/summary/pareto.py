"""The Pareto front of measured configurations, and the most accurate one under a budget (NumPy only)."""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_float_array

__all__ = ["check_table", "pareto_front", "best_under_budget"]


def check_table(accuracy, cost) -> tuple[np.ndarray, np.ndarray]:
    """Check a table of configurations: one accuracy and one cost per configuration.

    Parameters
    ----------
    accuracy : array_like of float, shape (n,)
        Finite (a fraction or a percentage: only the order matters).
    cost : array_like of float, shape (n,)
        Finite and ``>= 0`` (bytes, milliseconds, ...).

    Returns
    -------
    (ndarray, ndarray)
        Both as float64 arrays.

    Raises
    ------
    TypeError
        If either is not an array of real numbers.
    ValueError
        If either is empty, not 1-D or not finite, a cost is negative, or the lengths differ.
    """
    acc = check_float_array("accuracy", accuracy, ndim=1).astype(np.float64)
    cost = check_float_array("cost", cost, ndim=1).astype(np.float64)
    if acc.shape != cost.shape:
        raise ValueError(f"accuracy has {acc.size} entries and cost {cost.size}, must have one each per "
                         f"configuration.")
    if np.any(cost < 0):
        raise ValueError(f"cost holds {int(np.sum(cost < 0))} negative value(s), must be >= 0.")
    return acc, cost


def pareto_front(accuracy, cost) -> np.ndarray:
    """Indices of the Pareto-optimal configurations: none is both at least as accurate and as cheap.

    Configuration ``i`` is **dominated** when some ``j`` has ``accuracy[j] >= accuracy[i]`` and
    ``cost[j] <= cost[i]``, one of the two strictly. The front is every configuration that is not
    dominated.

    Parameters
    ----------
    accuracy, cost : array_like of float, shape (n,)
        As :func:`check_table`: higher accuracy is better, lower cost is better.

    Returns
    -------
    ndarray of int64
        The indices of the front, in increasing order of cost (equal costs: by index). Identical
        points dominate neither each other: both are on the front or neither is.

    Raises
    ------
    TypeError, ValueError
        As :func:`check_table`.

    Notes
    -----
    Sorting by cost (then by accuracy, best first) and sweeping once keeps a point when its accuracy
    beats every cheaper point's: :math:`O(n \\log n)`.

    Examples
    --------
    >>> pareto_front([0.9, 0.95, 0.8, 0.95], [10, 20, 30, 40]).tolist()
    [0, 1]
    """
    acc, cost = check_table(accuracy, cost)
    order = np.lexsort((np.arange(acc.size), -acc, cost))  # by cost, then best accuracy, then index
    front, best, best_cost = [], -np.inf, None
    for i in order:
        if acc[i] > best:
            front.append(i)
            best, best_cost = acc[i], cost[i]
        elif acc[i] == best and cost[i] == best_cost:  # an identical point: as good as the kept one
            front.append(i)
    return np.array(front, dtype=np.int64)


def best_under_budget(accuracy, cost, budget) -> int | None:
    """The most accurate configuration whose cost is at most ``budget``.

    Parameters
    ----------
    accuracy, cost : array_like of float, shape (n,)
        As :func:`check_table`.
    budget : float
        ``>= 0``, in the unit of ``cost``.

    Returns
    -------
    int or None
        Its index; among equally accurate ones the cheapest, then the first. ``None`` when no
        configuration fits the budget.

    Raises
    ------
    TypeError, ValueError
        As :func:`check_table`, or if ``budget`` is not a finite number ``>= 0``.

    Examples
    --------
    >>> best_under_budget([0.9, 0.95, 0.8], [10, 20, 5], 15)
    0
    >>> best_under_budget([0.9, 0.95, 0.8], [10, 20, 5], 1) is None
    True
    """
    acc, cost = check_table(accuracy, cost)
    budget = check_float("budget", budget, low=0.0)
    fits = np.flatnonzero(cost <= budget)
    if fits.size == 0:
        return None
    return int(fits[np.lexsort((fits, cost[fits], -acc[fits]))[0]])
