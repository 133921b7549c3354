"""Shared argument checks for the public API.

Every public function validates its arguments here, at the boundary, so that a
wrong call fails with a message that names the parameter, the value it got and
the rule it broke -- in the style of ``sklearn.utils.validation``::

    TypeError: limit must be an int or None, got str ('10').
    ValueError: limit == -1, must be >= 0.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_choice",
    "check_int",
    "check_positive_float",
    "check_float_array",
]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_choice(name: str, value, allowed) -> object:
    """Return ``value`` if it is one of ``allowed``, else raise.

    Raises
    ------
    TypeError
        If ``value`` is not a string while every allowed value is.
    ValueError
        If ``value`` is not in ``allowed``.
    """
    allowed = tuple(allowed)
    if all(isinstance(a, str) for a in allowed) and not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} ({_short(value)}).")
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} == {value!r}, must be one of {options}.")
    return value


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """Return ``value`` as an ``int`` after checking its type and range.

    ``bool`` is rejected although it is an ``int`` subclass: ``limit=True`` is
    always a mistake.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__} ({_short(value)}).")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} == {value}, must be >= {minimum}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} == {value}, must be <= {maximum}.")
    return value


def check_positive_float(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite ``float`` that is > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} ({_short(value)}).")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} == {value}, must be finite.")
    if allow_zero and value < 0:
        raise ValueError(f"{name} == {value}, must be >= 0.")
    if not allow_zero and value <= 0:
        raise ValueError(f"{name} == {value}, must be > 0.")
    return value


def check_float_array(name: str, value, *, ndim: int | tuple[int, ...] | None = None,
                      allow_empty: bool = False, finite: bool = True) -> np.ndarray:
    """Return ``value`` as a floating-point NumPy array after checking it.

    Integer arrays are accepted and converted to float64; booleans, complex
    numbers, strings and objects are rejected with a ``TypeError``.
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating)
                                 or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}.")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            want = " or ".join(str(d) for d in dims)
            raise ValueError(f"{name} has {arr.ndim} dimension(s) (shape {arr.shape}), must have {want}.")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}), must have at least one element.")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s), must be finite.")
    return arr
