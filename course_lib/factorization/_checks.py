"""Argument checks shared by the factorization modules (NumPy only): shapes, mode lists and float dtypes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_float_array, check_int, short_repr

__all__ = ["check_shape", "check_float_dtype", "check_spectrum", "refuse_train"]


def check_shape(name: str, shape, *, what: str = "mode") -> tuple[int, ...]:
    """A non-empty list, tuple or 1-D array of ints >= 1 (an int alone is refused: ``(64,)``, not ``64``).

    Raises
    ------
    TypeError
        ``shape must be a list or tuple of ints, got int (64) (write (64,) for one mode).``
    ValueError
        ``shape is empty, must hold at least one mode.`` or ``shape[1] == 0, must be >= 1.``
    """
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (Sequence, np.ndarray)) \
            or (isinstance(shape, np.ndarray) and shape.ndim != 1):
        hint = f" (write ({shape},) for one {what})" if isinstance(shape, (int, np.integer)) else ""
        raise TypeError(f"{name} must be a list or tuple of ints, got {type(shape).__name__} "
                        f"({short_repr(shape)}){hint}.")
    if len(shape) == 0:
        raise ValueError(f"{name} is empty, must hold at least one {what}.")
    return tuple(check_int(f"{name}[{k}]", n, minimum=1) for k, n in enumerate(shape))


def check_float_dtype(name: str, dtype) -> np.dtype:
    """A NumPy floating-point dtype (``np.float32``, ``"float64"``); integer or complex dtypes are refused.

    Raises
    ------
    TypeError
        If ``dtype`` is not a NumPy dtype at all.
    ValueError
        ``dtype == int64, must be a floating-point dtype (np.float32 or np.float64): ...``
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be a NumPy dtype such as np.float32, got {type(dtype).__name__} "
                        f"({short_repr(dtype)}).") from None
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"{name} == {dt}, must be a floating-point dtype (np.float32 or np.float64): "
                         f"standard normal values would be truncated or changed.")
    return dt


def refuse_train(name: str, value, kind: str) -> None:
    """A :class:`TensorTrain` or :class:`TTMatrix` passed where its list of cores goes: say so."""
    if isinstance(value, tuple) and hasattr(value, "cores"):
        raise TypeError(f"{name} must be a list or tuple of {kind}, got a {type(value).__name__}: pass its "
                        f".cores.")


def check_spectrum(singular_values) -> np.ndarray:
    """Singular values as ``np.linalg.svd`` returns them: a finite, non-empty 1-D array, >= 0 and decreasing."""
    s = check_float_array("singular_values", singular_values, ndim=1)
    if s.min() < 0 or np.any(np.diff(s) > 0):
        raise ValueError("singular_values must be >= 0 and sorted in decreasing order (as np.linalg.svd returns "
                         "them).")
    return s
