"""The quantization grid, written once: code ranges, scale and zero point, rounding to codes.

Every quantizer of the course -- the NumPy functions of :mod:`course_lib.quantization`,
the PyTorch layers of :mod:`course_lib.quantization.nn` and the explorer -- computes
its scale and zero point with :func:`scale_zero_point` (NumPy arrays or torch tensors
alike) and its codes with :func:`quantize_codes`, so the formulas and the degenerate
case ``min == max`` are handled the same way everywhere, as PyTorch's observers do.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_bits, check_float_array, check_int, check_positive_float, is_tensor, to_numpy

__all__ = ["EPS", "ROUNDINGS", "qrange", "scale_zero_point", "quantize_codes", "check_scale",
           "check_zero_point", "along", "channel_rows"]

#: The smallest scale :func:`scale_zero_point` returns, as torch's observers (float32 machine epsilon).
EPS = float(np.finfo(np.float32).eps)
ROUNDINGS = ("nearest", "floor")


def qrange(bits) -> tuple[int, int]:
    """The signed code range ``(-2**(bits-1), 2**(bits-1) - 1)`` for ``bits`` in 2..8.

    Examples
    --------
    >>> qrange(8), qrange(4)
    ((-128, 127), (-8, 7))
    """
    bits = check_bits(bits)
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def scale_zero_point(lo, hi, bits: int, symmetric: bool):
    """Scale and zero point of the range ``[lo, hi]`` (checked arrays or tensors, ``lo <= hi``).

    The one formula of the course (see :func:`course_lib.quantization.qparams` for the
    math): the range is widened to contain 0; symmetric ``s = max(-lo, hi) / (2^{b-1}-1)``,
    ``z = 0``; affine ``s = (hi - lo) / (2^b - 1)``, ``z = clip(qmin - round(lo / s))``.
    A zero range gives ``s = EPS`` (never 0), as ``torch.ao``'s observers.

    Works on NumPy arrays (float64 scale, int64 zero point) and on torch tensors
    (float32 scale, zero point as a float tensor holding integers), elementwise.
    """
    qmin, qmax = qrange(bits)
    if is_tensor(lo):
        import torch as xp  # the caller works with tensors: torch is loaded already
    else:
        xp = np
    lo, hi = lo.clip(max=0.0), hi.clip(min=0.0)
    if symmetric:
        scale = (xp.maximum(-lo, hi) / qmax).clip(min=EPS)
        zero_point = scale * 0
    else:
        scale = ((hi - lo) / float(qmax - qmin)).clip(min=EPS)
        zero_point = (qmin - (lo / scale).round()).clip(qmin, qmax)
    if xp is np:
        zero_point = np.asarray(zero_point).astype(np.int64)
    return scale, zero_point


def quantize_codes(x, scale, zero_point, qmin, qmax, rounding):
    """``clip(round(x / scale) + zero_point, qmin, qmax)`` as int8, on checked float64 arrays."""
    with np.errstate(over="ignore"):  # a huge x over a tiny scale is inf: clipped below
        v = x / scale
    v = np.rint(v) if rounding == "nearest" else np.floor(v)
    return np.clip(v + zero_point, qmin, qmax).astype(np.int8)


def check_scale(scale, axis: int | None, channels: int | None):
    """A positive finite float (axis None) or one per channel: float64 array of shape (channels,)."""
    if axis is None:
        return check_positive_float("scale", scale)
    arr = check_float_array("scale", scale, ndim=(0, 1))
    if arr.ndim == 1 and arr.shape != (channels,):
        raise ValueError(f"scale has shape {arr.shape}, must be ({channels},): one per channel along axis {axis}.")
    if np.any(arr <= 0):
        raise ValueError(f"scale holds {int(np.count_nonzero(arr <= 0))} value(s) <= 0, must be > 0.")
    return np.broadcast_to(arr.astype(np.float64), (channels,)).copy()


def check_zero_point(zero_point, axis: int | None, channels: int | None, qmin=None, qmax=None):
    """An int (axis None) or one per channel: int64 array of shape (channels,), within [qmin, qmax]."""
    if axis is None:
        return check_int("zero_point", zero_point, minimum=qmin, maximum=qmax)
    arr = to_numpy(zero_point)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"zero_point must be an int or an array of integers, got dtype {arr.dtype}.")
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape != (channels,)):
        raise ValueError(f"zero_point has shape {arr.shape}, must be () or ({channels},): "
                         f"one per channel along axis {axis}.")
    if qmin is not None and np.any((arr < qmin) | (arr > qmax)):
        bad = int(np.count_nonzero((arr < qmin) | (arr > qmax)))
        raise ValueError(f"zero_point holds {bad} value(s) outside [{qmin}, {qmax}], must be within the code range.")
    return np.broadcast_to(arr.astype(np.int64), (channels,)).copy()


def along(values, axis: int | None, ndim: int):
    """Per-channel ``values`` reshaped to broadcast along ``axis`` of an ``ndim``-D array."""
    if axis is None:
        return values
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(values, shape)


def channel_rows(x: np.ndarray, axis: int | None) -> np.ndarray:
    """``x`` as (channels, values): one row per index along ``axis`` (one row for axis None)."""
    if axis is None:
        return x.reshape(1, -1)
    return np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
