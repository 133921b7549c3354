"""Quantized tensors: :class:`QTensor`, :func:`quantize_tensor` and what was lost. Pure NumPy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_axis, check_bits, check_bool, check_choice, check_float_values, check_int_array
from .grid import (
    ROUNDINGS,
    along,
    channel_rows,
    check_scale,
    check_zero_point,
    qrange,
    quantize_codes,
    scale_zero_point,
)
from .ranges import RANGE_METHODS, observed_range
from .storage import int8_bytes
from .uniform import dequantize

__all__ = ["QTensor", "quantize_tensor", "quantization_error"]


@dataclass(frozen=True, eq=False)
class QTensor:
    """A quantized tensor: int8 codes and what it takes to read them back.

    Built by :func:`quantize_tensor`. ``scale`` and ``zero_point`` are a float and
    an int (per tensor, ``axis is None``) or arrays of ``q.shape[axis]`` values.
    """

    q: np.ndarray
    scale: float | np.ndarray
    zero_point: int | np.ndarray
    bits: int
    axis: int | None

    def __post_init__(self):
        q = check_int_array("q", self.q, dtype=np.int8, allow_empty=True)
        bits = check_bits(self.bits)
        qmin, qmax = qrange(bits)
        if q.size and (q.min() < qmin or q.max() > qmax):
            raise ValueError(f"q holds codes in [{int(q.min())}, {int(q.max())}], must be within [{qmin}, {qmax}] "
                             f"for bits == {bits}.")
        axis = check_axis(self.axis, q.ndim)
        channels = None if axis is None else q.shape[axis]
        check_scale(self.scale, axis, channels)
        check_zero_point(self.zero_point, axis, channels, qmin, qmax)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.q.shape

    def dequantize(self) -> np.ndarray:
        """The float64 values the codes stand for, ``(q - z) s`` (:func:`dequantize`)."""
        return dequantize(self.q, scale=self.scale, zero_point=self.zero_point, axis=self.axis)

    @property
    def nbytes(self) -> int:
        """Storage: one byte per code, 4 per scale, and 4 per zero point if any is non-zero.

        .. math:: B = \\operatorname{size}(q) + 4 c\\,(1 + [\\,z \\ne 0\\,]), \\quad
                  c = 1 \\text{ (per tensor) or } q.\\text{shape}[axis]

        Codes of fewer than 8 bits still take a byte each (int8 storage; packing
        two 4-bit codes per byte would halve that). A symmetric tensor stores no
        zero points: they are all 0.
        """
        return int8_bytes(self.q, per_channel_axis=self.axis,
                          affine=bool(np.any(np.asarray(self.zero_point) != 0)))


def quantize_tensor(x, *, bits=8, per_channel_axis=None, method="maxabs", symmetric=True,
                    rounding="nearest") -> QTensor:
    """Quantize ``x``: choose the range, compute scale and zero point, round to codes.

    Parameters
    ----------
    x : array_like of floats
        Finite, not empty.
    bits : int, keyword-only
        2 to 8.
    per_channel_axis : int or None, keyword-only
        ``None``: one scale for the tensor; an axis: one scale (and zero point) per
        index along it (0 for the output channels of a weight).
    method : {"maxabs", "percentile", "mse"}, keyword-only
        How the range is chosen (:func:`choose_range`); the percentile is 99.99. For
        an affine quantizer ``"maxabs"`` uses ``[min, max]``, ``"percentile"`` the
        0.01th and 99.99th percentiles of ``x``, and ``"mse"`` shrinks ``[min, max]``.
    symmetric : bool, keyword-only
        Zero point 0 (default) or affine.
    rounding : {"nearest", "floor"}, keyword-only

    Returns
    -------
    QTensor

    Raises
    ------
    TypeError, ValueError
        As for :func:`choose_range`, :func:`qparams` and :func:`quantize`.

    Notes
    -----
    ``(s, z) = qparams(lo, hi)`` with ``[lo, hi]`` the chosen range, then
    ``q = quantize(x, s, z)``. With max-abs and nearest rounding every value is
    within ``s / 2`` of its dequantized value; per-channel scales ``s_c <= s``
    make every channel's error at most that of the per-tensor quantizer's bound.

    References
    ----------
    .. [1] Krishnamoorthi, arXiv:1806.08342, sec. 2.3 (per-channel quantization).

    Examples
    --------
    >>> qt = quantize_tensor([[3.0, -0.5], [1.0, 2.0]], bits=8)
    >>> qt.q, qt.nbytes
    (array([[127, -21],
           [ 42,  85]], dtype=int8), 8)
    """
    x = check_float_values("x", x).astype(np.float64)
    bits = check_bits(bits)
    axis = check_axis(per_channel_axis, x.ndim, "per_channel_axis")
    method = check_choice("method", method, RANGE_METHODS)
    symmetric = check_bool("symmetric", symmetric)
    rounding = check_choice("rounding", rounding, ROUNDINGS)
    lo, hi = observed_range(channel_rows(x, axis), method, 99.99, bits, bool(symmetric))
    scale, zero_point = scale_zero_point(lo, hi, bits, bool(symmetric))
    if axis is None:
        scale, zero_point = float(scale[0]), int(zero_point[0])
    qmin, qmax = qrange(bits)
    q = quantize_codes(x, along(scale, axis, x.ndim), along(zero_point, axis, x.ndim), qmin, qmax, rounding)
    return QTensor(q, scale, zero_point, bits, axis)


def quantization_error(x, qt) -> dict:
    """How far the quantized tensor ``qt`` is from the original ``x``.

    Parameters
    ----------
    x : array_like of floats
        The values that were quantized, same shape as ``qt.q``.
    qt : QTensor

    Returns
    -------
    dict
        ``max_abs = max |x - x̂|``, ``mse = mean (x - x̂)^2`` and ``step``, the largest
        scale (the per-tensor step, or the coarsest channel's).

    Raises
    ------
    TypeError
        If ``qt`` is not a :class:`QTensor` or ``x`` is not floating-point.
    ValueError
        If ``x`` is empty, not finite, or differs in shape from ``qt.q``.

    Notes
    -----
    With round to nearest and no clipping, ``max_abs <= step / 2`` and, for errors
    spread evenly over a step, ``mse ≈ step^2 / 12``.
    """
    if not isinstance(qt, QTensor):
        raise TypeError(f"qt must be a QTensor (see quantize_tensor), got {type(qt).__name__}.")
    x = check_float_values("x", x).astype(np.float64)
    if x.shape != qt.q.shape:
        raise ValueError(f"x has shape {x.shape}, must be {qt.q.shape} (the shape of qt.q).")
    err = x - qt.dequantize()
    return {"max_abs": float(np.max(np.abs(err))), "mse": float(np.mean(err**2)),
            "step": float(np.max(qt.scale))}
