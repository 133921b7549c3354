"""The general uniform quantizer of PyTorch and every int8 runtime.

``q = clip(round(x / scale) + zero_point)``, 2 to 8 bits, symmetric or affine, per
tensor or per channel: :func:`quantize`, :func:`dequantize`, :func:`fake_quantize`
and the observer formula :func:`qparams`. Pure NumPy.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    check_axis,
    check_bits,
    check_bool,
    check_choice,
    check_float_array,
    check_float_values,
    check_int_array,
    to_numpy,
)
from .grid import ROUNDINGS, along, check_scale, check_zero_point, qrange, quantize_codes, scale_zero_point

__all__ = ["qrange", "quantize", "dequantize", "fake_quantize", "qparams"]


def quantize(x, *, bits=8, scale, zero_point=0, rounding="nearest", axis=None) -> np.ndarray:
    """Uniform quantization: ``q = clip(round(x / scale) + zero_point, qmin, qmax)``.

    Parameters
    ----------
    x : array_like of floats
        Any shape; finite, not empty. Integer arrays are rejected (they look like codes).
    bits : int, keyword-only
        Code width, 2 to 8; the codes are signed, ``[qmin, qmax] = [-2^{b-1}, 2^{b-1} - 1]``.
    scale : float or array_like, keyword-only
        The step between neighbouring values, finite and ``> 0``; with ``axis``, a
        scalar or one per channel (``x.shape[axis]`` values).
    zero_point : int or array_like of int, keyword-only
        The code of 0.0, within ``[qmin, qmax]`` (0: symmetric); per channel with ``axis``.
    rounding : {"nearest", "floor"}, keyword-only
        ``"nearest"`` rounds half to even (``np.rint``, as ``torch.round``);
        ``"floor"`` is the seed lecture's rule.
    axis : int or None, keyword-only
        Per-channel quantization along this axis (e.g. 0: per output channel of a weight).

    Returns
    -------
    ndarray of int8, same shape as ``x``
        Every width 2..8 is stored in int8 (one byte per code; no bit packing).

    Raises
    ------
    TypeError
        If ``x`` is not floating-point, or ``bits``, ``scale``, ``zero_point``,
        ``rounding`` or ``axis`` has the wrong type.
    ValueError
        If ``x`` is empty or not finite, ``bits`` is outside 2..8, a scale is
        ``<= 0`` or not finite, a zero point is outside the code range,
        ``rounding`` is unknown, or ``axis``/per-channel shapes do not fit ``x``.

    Notes
    -----
    .. math:: q = \\operatorname{clip}\\left(\\operatorname{round}(x / s) + z,\\; q_{\\min},\\; q_{\\max}\\right),
              \\qquad \\hat x = (q - z)\\, s

    Within the representable range ``[(q_min - z) s, (q_max - z) s]`` nearest
    rounding errs by at most ``s / 2`` and floor rounding by less than ``s`` (always
    downwards); outside it values are clipped. ``x`` is divided in float64; PyTorch
    multiplies by ``1 / s`` in float32, so codes can differ from torch's for values
    within about ``1e-5`` steps of a rounding boundary.

    References
    ----------
    .. [1] Jacob et al., CVPR 2018, eq. (1).
    .. [2] ``torch.quantize_per_tensor``, ``torch.fake_quantize_per_tensor_affine``.

    Examples
    --------
    >>> quantize([0.25, 0.75, 1.25, 100.0], scale=0.5)  # 0.5, 1.5, 2.5 steps: half to even
    array([  0,   2,   2, 127], dtype=int8)
    """
    x = check_float_values("x", x).astype(np.float64)
    bits = check_bits(bits)
    qmin, qmax = qrange(bits)
    axis = check_axis(axis, x.ndim)
    channels = None if axis is None else x.shape[axis]
    scale = check_scale(scale, axis, channels)
    zero_point = check_zero_point(zero_point, axis, channels, qmin, qmax)
    rounding = check_choice("rounding", rounding, ROUNDINGS)
    return quantize_codes(x, along(scale, axis, x.ndim), along(zero_point, axis, x.ndim), qmin, qmax, rounding)


def dequantize(q, *, scale, zero_point=0, axis=None) -> np.ndarray:
    """The values of uniform codes: ``(q - zero_point) * scale`` (float64).

    Parameters
    ----------
    q : array_like of integers
        Codes, e.g. from :func:`quantize`; not empty.
    scale, zero_point, axis : keyword-only
        As given to :func:`quantize` (the zero point is not range-checked here:
        the code width is not known).

    Returns
    -------
    ndarray of float64, same shape as ``q``

    Raises
    ------
    TypeError
        If ``q`` is not an integer array, or ``scale``/``zero_point``/``axis`` has the wrong type.
    ValueError
        If ``q`` is empty or holds a code outside int8 (``[-128, 127]``: every width is stored in
        int8), a scale is ``<= 0`` or not finite, or the per-channel shapes do not fit.

    Notes
    -----
    .. math:: \\hat x = (q - z)\\, s

    computed in float64 after casting the codes, so ``q - z`` cannot overflow int8.
    ``quantize(dequantize(q)) == q`` for every code ``q`` in range: the grid is fixed.

    Examples
    --------
    >>> dequantize(np.array([0, 2, 127], dtype=np.int8), scale=0.5)
    array([ 0. ,  1. , 63.5])
    """
    q = check_int_array("q", q, low=-128, high=127)
    axis = check_axis(axis, q.ndim)
    channels = None if axis is None else q.shape[axis]
    scale = check_scale(scale, axis, channels)
    zero_point = check_zero_point(zero_point, axis, channels)
    return (q.astype(np.float64) - along(zero_point, axis, q.ndim)) * along(scale, axis, q.ndim)


def fake_quantize(x, *, bits=8, scale, zero_point=0, rounding="nearest", axis=None) -> np.ndarray:
    """Quantize and dequantize at once: the float values the codes stand for.

    Same parameters as :func:`quantize`. Returns a new array of the floating dtype
    of ``x`` (as ``torch.fake_quantize_per_tensor_affine``), each value replaced by
    the nearest (or, with ``rounding="floor"``, the next lower) grid point
    ``(q - z) s``, clipped to the grid's ends. This is what quantization-aware
    training inserts in the forward pass.

    Notes
    -----
    .. math:: \\tilde x = \\left(\\operatorname{clip}(\\operatorname{round}(x/s) + z,
              q_{\\min}, q_{\\max}) - z\\right) s

    Idempotent: ``fake_quantize(fake_quantize(x)) == fake_quantize(x)``.

    References
    ----------
    .. [1] Jacob et al., CVPR 2018, sec. 3 (simulated quantization).
    .. [2] ``torch.fake_quantize_per_tensor_affine``, ``torch.fake_quantize_per_channel_affine``.

    Examples
    --------
    >>> fake_quantize([0.3, -1.0, 9.0], bits=4, scale=0.5)
    array([ 0.5, -1. ,  3.5])
    """
    arr = check_float_values("x", x)
    q = quantize(arr, bits=bits, scale=scale, zero_point=zero_point, rounding=rounding, axis=axis)
    return dequantize(q, scale=scale, zero_point=zero_point, axis=axis).astype(arr.dtype)

def qparams(x_min, x_max, *, bits=8, symmetric=True):
    """Scale and zero point for the observed range ``[x_min, x_max]``, as PyTorch's observers.

    Parameters
    ----------
    x_min, x_max : float or array_like of floats
        The smallest and largest value seen (one per channel for arrays of the same
        shape); finite, ``x_min <= x_max``.
    bits : int, keyword-only
        2 to 8; signed codes ``[qmin, qmax] = [-2^{b-1}, 2^{b-1} - 1]``.
    symmetric : bool, keyword-only
        Symmetric (zero point 0) or affine (asymmetric).

    Returns
    -------
    (scale, zero_point)
        ``float, int`` for scalar inputs; float64 and int64 arrays otherwise.

    Raises
    ------
    TypeError
        If ``x_min``/``x_max`` are not real numbers, ``bits`` not an int, ``symmetric`` not a bool.
    ValueError
        If they are not finite, differ in shape, or ``x_min > x_max``; or ``bits`` is outside 2..8.

    Notes
    -----
    The range is first widened to contain 0, ``m = min(x_min, 0)``, ``M = max(x_max, 0)``,
    so that 0.0 (zero padding, ReLU outputs, pruned weights) is represented exactly.

    .. math:: \\text{symmetric:}\\quad s = \\frac{\\max(-m, M)}{2^{b-1} - 1}, \\quad z = 0

    .. math:: \\text{affine:}\\quad s = \\frac{M - m}{2^b - 1}, \\quad
              z = \\operatorname{clip}\\left(q_{\\min} - \\operatorname{round}(m / s), q_{\\min}, q_{\\max}\\right)

    Degenerate range ``m = M = 0`` (all zeros): ``s`` would be 0; like torch's
    observers ``s`` is raised to ``eps = 2^{-23}`` (float32 machine epsilon), with
    ``z = 0`` (symmetric) or ``q_min`` (affine). The affine formula is torch's
    ``MinMaxObserver`` with ``dtype=torch.qint8``; for ``torch.quint8`` (codes
    ``0..255``) torch's zero point is ours ``+ 2^{b-1}``, the scale the same.

    The symmetric scale divides by ``2^{b-1} - 1 = 127``, so ``±max`` map exactly
    to ``±127`` (the "restricted range" of TensorRT and ONNX; torch's observer with
    ``quant_min=-127, quant_max=127``). Torch's default ``qint8`` observer divides by
    ``(q_max - q_min) / 2 = 127.5`` instead, so its largest value lands at 127.5 and
    is clipped to 127.

    References
    ----------
    .. [1] ``torch.ao.quantization.observer.MinMaxObserver`` (``_calculate_qparams``).
    .. [2] Krishnamoorthi, arXiv:1806.08342, sec. 2.1 and 2.2.

    Examples
    --------
    >>> qparams(-1.0, 2.0, bits=8)
    (0.015748031496062992, 0)
    >>> qparams(-1.0, 2.0, bits=8, symmetric=False)
    (0.011764705882352941, -43)
    """
    lo = check_float_array("x_min", to_numpy(x_min), ndim=None)
    hi = check_float_array("x_max", to_numpy(x_max), ndim=None)
    if lo.shape != hi.shape:
        raise ValueError(f"x_min has shape {lo.shape} and x_max has shape {hi.shape}, must be the same.")
    if np.any(lo > hi):
        if lo.ndim == 0:
            raise ValueError(f"x_min == {float(lo)}, must be <= x_max == {float(hi)}.")
        raise ValueError(f"x_min > x_max at {int(np.count_nonzero(lo > hi))} position(s), must be x_min <= x_max.")
    bits = check_bits(bits)
    symmetric = check_bool("symmetric", symmetric)
    scale, zero_point = scale_zero_point(lo.astype(np.float64), hi.astype(np.float64), bits, bool(symmetric))
    if lo.ndim == 0:
        return float(scale), int(zero_point)
    return scale, zero_point
