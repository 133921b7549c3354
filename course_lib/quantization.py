"""Quantization from scratch: int8 codes, integer products, ranges and float16.

Quantization stores each weight (or activation) as a small integer *code*
instead of a 32-bit float and computes with integers.

* The seed lecture's scheme (:func:`quantize_seed`, :func:`int8_matmul`,
  :func:`dequantize_product`, :func:`seed_matvec`): values in ``[-a, a)`` become
  ``floor(128 x / a)`` in int8, the product accumulates in int32, and the result
  is scaled back by ``a_w a_x / 16384``.
* The general uniform quantizer used by PyTorch and every int8 runtime
  (:func:`quantize`, :func:`dequantize`, :func:`fake_quantize`, :func:`qparams`):
  ``q = clip(round(x / scale) + zero_point)``, 2 to 8 bits, symmetric or affine,
  per tensor or per channel.
* Choosing the range (:func:`choose_range`): max-abs, a percentile, or the range
  of least mean squared error; :func:`quantize_tensor` puts it all together in a
  :class:`QTensor`, and :func:`quantization_error` measures what was lost.
* Half precision (:func:`to_float16`).

Importing this module registers the storage formats ``"int8"``,
``"int8_per_channel"`` and ``"float16"`` with
:func:`course_lib.measure.storage_bytes` (see :func:`int8_bytes`, :func:`float16_bytes`).
Pure NumPy: PyTorch appears only in the tests, as the reference.

References
----------
.. [1] B. Jacob et al., "Quantization and Training of Neural Networks for Efficient
   Integer-Arithmetic-Only Inference", CVPR 2018.
.. [2] R. Krishnamoorthi, "Quantizing deep convolutional networks for efficient
   inference: A whitepaper", arXiv:1806.08342, 2018.
.. [3] M. Nagel et al., "A White Paper on Neural Network Quantization",
   arXiv:2106.08295, 2021.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from . import measure
from ._validation import _short, check_choice, check_float_array, check_int, check_positive_float

__all__ = [
    "quantize_seed",
    "dequantize_seed",
    "int8_matmul",
    "dequantize_product",
    "seed_matvec",
    "qrange",
    "quantize",
    "dequantize",
    "fake_quantize",
    "qparams",
    "choose_range",
    "QTensor",
    "quantize_tensor",
    "quantization_error",
    "to_float16",
    "int8_bytes",
    "float16_bytes",
    "MAX_INT8_DOT_LENGTH",
    "FLOAT16_MAX",
]

#: Longest int8 dot product whose int32 sum cannot overflow: (2**31 - 1) // 128**2.
MAX_INT8_DOT_LENGTH = (2**31 - 1) // (128 * 128)  # 131071
#: Largest finite float16.
FLOAT16_MAX = 65504.0
#: The smallest scale qparams returns, as torch's observers (float32 machine epsilon).
_EPS = float(np.finfo(np.float32).eps)
_ROUNDINGS = ("nearest", "floor")
_METHODS = ("maxabs", "percentile", "mse")
_MSE_GRID = 100


# --------------------------------------------------------------------------- private checks

def _as_array(value) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _check_floats(name: str, value, *, ndim=None) -> np.ndarray:
    """A finite, non-empty array of floating-point numbers (integers are codes, not values)."""
    arr = _as_array(value)
    if arr.dtype != bool and np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an array of floating-point numbers, got dtype {arr.dtype}.")
    return check_float_array(name, arr, ndim=ndim)


def _check_codes(name: str, value, *, ndim=None, int8: bool = False) -> np.ndarray:
    """A non-empty array of integer codes (int8 exactly when ``int8``)."""
    arr = _as_array(value)
    if int8 and arr.dtype != np.int8:
        raise TypeError(f"{name} must be an int8 array, got dtype {arr.dtype}.")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an array of integers, got dtype {arr.dtype}.")
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            want = " or ".join(str(d) for d in dims)
            raise ValueError(f"{name} has {arr.ndim} dimension(s) (shape {arr.shape}), must have {want}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}), must have at least one element.")
    return arr


def _check_bits(bits) -> int:
    return check_int("bits", bits, minimum=2, maximum=8)


def _check_axis(axis, ndim: int, name: str = "axis") -> int | None:
    axis = check_int(name, axis, allow_none=True)
    if axis is None:
        return None
    if ndim == 0:
        raise ValueError(f"{name} == {axis}, must be None for a 0-dimensional array.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name} == {axis}, must be in [{-ndim}, {ndim - 1}] for an array with {ndim} dimension(s).")
    return axis % ndim


def _check_percentile(percentile) -> float:
    if isinstance(percentile, bool) or not isinstance(percentile, numbers.Real):
        raise TypeError(f"percentile must be a real number, got {type(percentile).__name__} ({_short(percentile)}).")
    percentile = float(percentile)
    if not 0.0 < percentile <= 100.0:  # NaN fails this too
        raise ValueError(f"percentile == {percentile}, must be in (0, 100].")
    return percentile


def _check_scale(scale, axis: int | None, channels: int | None):
    """A positive finite float (axis None) or one per channel: float64 array of shape (channels,)."""
    if axis is None:
        return check_positive_float("scale", scale)
    arr = check_float_array("scale", scale, ndim=(0, 1))
    if arr.ndim == 1 and arr.shape != (channels,):
        raise ValueError(f"scale has shape {arr.shape}, must be ({channels},): one per channel along axis {axis}.")
    if np.any(arr <= 0):
        raise ValueError(f"scale holds {int(np.count_nonzero(arr <= 0))} value(s) <= 0, must be > 0.")
    return np.broadcast_to(arr.astype(np.float64), (channels,)).copy()


def _check_zero_point(zero_point, axis: int | None, channels: int | None, qmin=None, qmax=None):
    """An int (axis None) or one per channel: int64 array of shape (channels,), within [qmin, qmax]."""
    if axis is None:
        return check_int("zero_point", zero_point, minimum=qmin, maximum=qmax)
    arr = _as_array(zero_point)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"zero_point must be an int or an array of integers, got dtype {arr.dtype}.")
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape != (channels,)):
        raise ValueError(f"zero_point has shape {arr.shape}, must be () or ({channels},): "
                         f"one per channel along axis {axis}.")
    if qmin is not None and np.any((arr < qmin) | (arr > qmax)):
        bad = int(np.count_nonzero((arr < qmin) | (arr > qmax)))
        raise ValueError(f"zero_point holds {bad} value(s) outside [{qmin}, {qmax}], must be within the code range.")
    return np.broadcast_to(arr.astype(np.int64), (channels,)).copy()


def _along(values, axis: int | None, ndim: int):
    """Per-channel ``values`` reshaped to broadcast along ``axis`` of an ``ndim``-D array."""
    if axis is None:
        return values
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(values, shape)


def _rows(x: np.ndarray, axis: int | None) -> np.ndarray:
    """``x`` as (channels, values): one row per index along ``axis`` (one row for axis None)."""
    if axis is None:
        return x.reshape(1, -1)
    return np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)


# --------------------------------------------------------------------------- the seed lecture's scheme

def quantize_seed(x, a) -> np.ndarray:
    """The seed lecture's int8 code of each value: ``floor(128 x / a)``, clipped to int8.

    Parameters
    ----------
    x : array_like of floats
        Any shape; finite, not empty. Integer arrays are rejected (they look like codes).
    a : float
        The range: values in ``[-a, a)`` are represented; finite and ``> 0``.

    Returns
    -------
    ndarray of int8, same shape as ``x``

    Raises
    ------
    TypeError
        If ``x`` is not floating-point (integer, bool, complex) or ``a`` is not a real number.
    ValueError
        If ``x`` is empty or holds NaN/inf, or ``a`` is ``<= 0``, NaN or infinite.

    Notes
    -----
    .. math:: q = \\operatorname{clip}\\left(\\left\\lfloor \\frac{128\\,x}{a} \\right\\rfloor, -128, 127\\right)

    The step is ``a / 128``, and for ``-a <= x < a`` the code is exact up to the
    floor: ``0 <= x - q a / 128 < a / 128`` (up to one rounding of the float
    division, about ``1e-16 a``). ``x = a`` would give 128, which int8 cannot hold:
    it is clipped to 127 (error exactly one step). Values outside ``[-a, a)`` are
    clipped too, to -128 or 127 -- their error grows without bound, which is why
    ``a`` is usually the max-abs of the data (:func:`choose_range`).

    References
    ----------
    .. [1] The seed lecture, "values in [-a; a) map to floor(128 x / a)".

    Examples
    --------
    >>> quantize_seed([[3.0, -0.5], [1.0, 2.0]], 3.0)
    array([[127, -22],
           [ 42,  85]], dtype=int8)
    """
    x = _check_floats("x", x).astype(np.float64)
    a = check_positive_float("a", a)
    return np.clip(np.floor(128.0 * x / a), -128, 127).astype(np.int8)


def dequantize_seed(q, a) -> np.ndarray:
    """The value of seed-lecture codes: ``q a / 128`` (float64).

    Parameters
    ----------
    q : array_like of integers
        Codes, e.g. from :func:`quantize_seed`; not empty.
    a : float
        The range they were quantized with; finite and ``> 0``.

    Returns
    -------
    ndarray of float64, same shape as ``q``

    Raises
    ------
    TypeError
        If ``q`` is not an integer array (floats, bools) or ``a`` is not a real number.
    ValueError
        If ``q`` is empty, or ``a`` is ``<= 0``, NaN or infinite.

    Notes
    -----
    .. math:: \\hat x = q \\cdot \\frac{a}{128}

    the lower end of the code's interval ``[q a / 128, (q + 1) a / 128)``.

    Examples
    --------
    >>> dequantize_seed([99, 63], 1.0)
    array([0.7734375, 0.4921875])
    """
    q = _check_codes("q", q)
    a = check_positive_float("a", a)
    return q.astype(np.float64) * (a / 128.0)


def int8_matmul(w_q, x_q) -> np.ndarray:
    """Integer product of int8 codes, accumulated exactly in int32.

    Parameters
    ----------
    w_q : ndarray of int8, shape (out, in)
        The weight codes; ``1 <= in <= MAX_INT8_DOT_LENGTH`` (131071).
    x_q : ndarray of int8, shape (in,) or (in, batch)
        The input codes: a vector or one column per example.

    Returns
    -------
    ndarray of int32, shape (out,) or (out, batch)

    Raises
    ------
    TypeError
        If ``w_q`` or ``x_q`` is not an int8 array.
    ValueError
        If ``w_q`` is not 2-D or ``x_q`` not 1-D/2-D, either is empty, their inner
        dimensions differ, or ``in > 131071`` (the int32 sum could overflow).

    Notes
    -----
    .. math:: \\mathrm{acc}_i = \\sum_{j=1}^{n} w_{ij}\\, x_j \\quad \\text{in int32}

    Each product of two int8 codes has ``|w x| <= 128 * 128 = 2^14`` (reached only by
    ``(-128)(-128)``), so a sum of ``n`` of them stays within int32 when
    ``n 2^14 <= 2^31 - 1``, that is ``n <= 131071 = 2^17 - 1``. (The round figure
    ``2^31 / 2^14 = 131072`` is one too many: 131072 products of ``(-128)(-128)`` sum to
    exactly ``2^31``, one more than the largest int32.) Longer rows are refused
    rather than left to wrap around silently.

    The codes are cast to int32 *before* the product: an int8 product would
    overflow at once. NumPy has no int8 (or any integer) BLAS -- integer ``matmul``
    is a plain loop -- so this is the correctness reference, not a fast path; real
    int8 kernels (fbgemm, oneDNN, cuBLASLt) multiply int8 pairs and accumulate in
    int32 in hardware.

    References
    ----------
    .. [1] Jacob et al., CVPR 2018, sec. 2.3 (int32 accumulators).

    Examples
    --------
    >>> int8_matmul(np.array([[-24, -38], [63, 28]], dtype=np.int8), np.array([99, 63], dtype=np.int8))
    array([-4770,  8001], dtype=int32)
    """
    w_q = _check_codes("w_q", w_q, ndim=2, int8=True)
    x_q = _check_codes("x_q", x_q, ndim=(1, 2), int8=True)
    if w_q.shape[1] != x_q.shape[0]:
        raise ValueError(f"w_q of shape {w_q.shape} and x_q of shape {x_q.shape} do not match: "
                         f"w_q.shape[1] == {w_q.shape[1]}, must equal x_q.shape[0] == {x_q.shape[0]}.")
    if w_q.shape[1] > MAX_INT8_DOT_LENGTH:
        raise ValueError(f"in == {w_q.shape[1]} (w_q.shape[1]), must be <= {MAX_INT8_DOT_LENGTH} "
                         f"so that the int32 sum cannot overflow.")
    return np.matmul(w_q.astype(np.int32), x_q.astype(np.int32))


def dequantize_product(acc, a_w, a_x) -> np.ndarray:
    """Scale an int32 accumulator of seed-lecture codes back to floats: ``acc a_w a_x / 16384``.

    Parameters
    ----------
    acc : array_like of integers
        From :func:`int8_matmul`; not empty.
    a_w, a_x : float
        The ranges the weights and the inputs were quantized with; finite and ``> 0``.

    Returns
    -------
    ndarray of float64, same shape as ``acc``

    Raises
    ------
    TypeError
        If ``acc`` is not an integer array or a range is not a real number.
    ValueError
        If ``acc`` is empty or a range is ``<= 0``, NaN or infinite.

    Notes
    -----
    With ``w = q_w a_w / 128`` and ``x = q_x a_x / 128``,

    .. math:: \\sum_j w_{ij} x_j \\approx \\frac{a_w}{128}\\frac{a_x}{128}\\sum_j q_{w,ij}\\, q_{x,j}
              = \\mathrm{acc}_i\\,\\frac{a_w a_x}{16384}

    so one float multiplication per output undoes both scales (the seed lecture's
    ``x a / 16384`` is the case ``a_w = a_x = 1``, ``a = a_w a_x``).

    Examples
    --------
    >>> dequantize_product(np.array([-4770, 8001]), 1.0, 1.0)
    array([-0.2911377 ,  0.48834229])
    """
    acc = _check_codes("acc", acc)
    a_w = check_positive_float("a_w", a_w)
    a_x = check_positive_float("a_x", a_x)
    return acc.astype(np.float64) * (a_w * a_x / 16384.0)


def seed_matvec(w, x, *, a_w=1.0, a_x=1.0) -> dict:
    """The seed lecture's whole int8 pipeline for ``y = W x``, with every intermediate value.

    Parameters
    ----------
    w : array_like of floats, shape (out, in)
    x : array_like of floats, shape (in,) or (in, batch)
    a_w, a_x : float, keyword-only
        Ranges of ``w`` and ``x`` (default 1, as in the lecture); finite and ``> 0``.

    Returns
    -------
    dict
        ``w_q``, ``x_q`` (int8 codes, :func:`quantize_seed`), ``acc`` (int32,
        :func:`int8_matmul`), ``y`` (:func:`dequantize_product`), ``y_float`` (the
        float64 product ``W x``), ``error = y - y_float`` and ``error_bound`` (below).

    Raises
    ------
    TypeError, ValueError
        As for the functions above; also when ``w`` and ``x`` do not match in shape.

    Notes
    -----
    With ``w = \\hat w + \\varepsilon_w``, ``x = \\hat x + \\varepsilon_x`` and
    ``0 <= \\varepsilon < s`` (steps ``s_w = a_w / 128``, ``s_x = a_x / 128``),
    ``w x - \\hat w \\hat x = w \\varepsilon_x + x \\varepsilon_w - \\varepsilon_w \\varepsilon_x``, so

    .. math:: |y_i - y^{\\text{float}}_i| \\le \\sum_j \\left(|w_{ij}|\\, s_x + |x_j|\\, s_w + s_w s_x\\right)
              = \\texttt{error\\_bound}_i

    The bound holds when ``|w| <= a_w`` and ``|x| <= a_x``; values outside the
    ranges are clipped and their error is unbounded. The integer part (``acc``) is
    exact: the only errors are the two floors.

    References
    ----------
    .. [1] The seed lecture's 2x2 example (its slide prints 4770 for -4770).

    Examples
    --------
    >>> r = seed_matvec([[-0.18120981, -0.29043840], [0.49722983, 0.22141714]], [0.77412377, 0.49299395])
    >>> r["acc"]
    array([-4770,  8001], dtype=int32)
    """
    w = _check_floats("w", w, ndim=2).astype(np.float64)
    x = _check_floats("x", x, ndim=(1, 2)).astype(np.float64)
    if w.shape[1] != x.shape[0]:
        raise ValueError(f"w of shape {w.shape} and x of shape {x.shape} do not match: "
                         f"w.shape[1] == {w.shape[1]}, must equal x.shape[0] == {x.shape[0]}.")
    a_w = check_positive_float("a_w", a_w)
    a_x = check_positive_float("a_x", a_x)
    w_q, x_q = quantize_seed(w, a_w), quantize_seed(x, a_x)
    acc = int8_matmul(w_q, x_q)
    y = dequantize_product(acc, a_w, a_x)
    y_float = w @ x
    s_w, s_x = a_w / 128.0, a_x / 128.0
    row = np.abs(w).sum(axis=1)
    col = np.abs(x).sum(axis=0)
    bound = (row[:, None] if x.ndim == 2 else row) * s_x + col * s_w + w.shape[1] * s_w * s_x
    return {"w_q": w_q, "x_q": x_q, "acc": acc, "y": y, "y_float": y_float,
            "error": y - y_float, "error_bound": bound}


# --------------------------------------------------------------------------- the general uniform quantizer

def qrange(bits) -> tuple[int, int]:
    """The signed code range ``(-2**(bits-1), 2**(bits-1) - 1)`` for ``bits`` in 2..8.

    Examples
    --------
    >>> qrange(8), qrange(4)
    ((-128, 127), (-8, 7))
    """
    bits = _check_bits(bits)
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _quantize(x, scale, zero_point, qmin, qmax, rounding):
    with np.errstate(over="ignore"):  # a huge x over a tiny scale is inf: clipped below
        v = x / scale
    v = np.rint(v) if rounding == "nearest" else np.floor(v)
    return np.clip(v + zero_point, qmin, qmax).astype(np.int8)


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
    x = _check_floats("x", x).astype(np.float64)
    bits = _check_bits(bits)
    qmin, qmax = qrange(bits)
    axis = _check_axis(axis, x.ndim)
    channels = None if axis is None else x.shape[axis]
    scale = _check_scale(scale, axis, channels)
    zero_point = _check_zero_point(zero_point, axis, channels, qmin, qmax)
    rounding = check_choice("rounding", rounding, _ROUNDINGS)
    return _quantize(x, _along(scale, axis, x.ndim), _along(zero_point, axis, x.ndim), qmin, qmax, rounding)


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
        If ``q`` is empty, a scale is ``<= 0`` or not finite, or the per-channel shapes do not fit.

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
    q = _check_codes("q", q)
    axis = _check_axis(axis, q.ndim)
    channels = None if axis is None else q.shape[axis]
    scale = _check_scale(scale, axis, channels)
    zero_point = _check_zero_point(zero_point, axis, channels)
    return (q.astype(np.float64) - _along(zero_point, axis, q.ndim)) * _along(scale, axis, q.ndim)


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
    arr = _check_floats("x", x)
    q = quantize(arr, bits=bits, scale=scale, zero_point=zero_point, rounding=rounding, axis=axis)
    return dequantize(q, scale=scale, zero_point=zero_point, axis=axis).astype(arr.dtype)


def _qparams(lo, hi, bits: int, symmetric: bool):
    """Vectorised qparams on checked float64 arrays ``lo <= hi``."""
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    if symmetric:
        scale = np.maximum(np.maximum(-lo, hi) / qmax, _EPS)
        zero_point = np.zeros(np.shape(scale), dtype=np.int64)
    else:
        scale = np.maximum((hi - lo) / (qmax - qmin), _EPS)
        zero_point = np.clip(qmin - np.rint(lo / scale), qmin, qmax).astype(np.int64)
    return scale, zero_point


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
    lo = check_float_array("x_min", _as_array(x_min), ndim=None)
    hi = check_float_array("x_max", _as_array(x_max), ndim=None)
    if lo.shape != hi.shape:
        raise ValueError(f"x_min has shape {lo.shape} and x_max has shape {hi.shape}, must be the same.")
    if np.any(lo > hi):
        if lo.ndim == 0:
            raise ValueError(f"x_min == {float(lo)}, must be <= x_max == {float(hi)}.")
        raise ValueError(f"x_min > x_max at {int(np.count_nonzero(lo > hi))} position(s), must be x_min <= x_max.")
    bits = _check_bits(bits)
    if not isinstance(symmetric, (bool, np.bool_)):
        raise TypeError(f"symmetric must be a bool, got {type(symmetric).__name__} ({_short(symmetric)}).")
    scale, zero_point = _qparams(lo.astype(np.float64), hi.astype(np.float64), bits, bool(symmetric))
    if lo.ndim == 0:
        return float(scale), int(zero_point)
    return scale, zero_point


# --------------------------------------------------------------------------- choosing the range

def _observed_range(rows, method, percentile, bits, symmetric):
    """Per-row clipping range ``(lo, hi)`` of a (channels, values) float64 array."""
    if method == "maxabs":
        if symmetric:
            a = np.abs(rows).max(axis=1)
            return -a, a
        return rows.min(axis=1), rows.max(axis=1)
    if method == "percentile":
        if symmetric:
            a = np.percentile(np.abs(rows), percentile, axis=1)
            return -a, a
        return np.percentile(rows, 100.0 - percentile, axis=1), np.percentile(rows, percentile, axis=1)
    # "mse": shrink the max-abs (or min/max) range by k/100, k = 100 .. 1, keep the best per row
    lo0, hi0 = _observed_range(rows, "maxabs", percentile, bits, symmetric)
    lo0, hi0 = np.minimum(lo0, 0.0), np.maximum(hi0, 0.0)
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    best = np.full(rows.shape[0], np.inf)
    best_f = np.ones(rows.shape[0])
    for k in range(_MSE_GRID, 0, -1):  # largest first: ties keep the wider range
        f = k / _MSE_GRID
        scale, zp = _qparams(f * lo0, f * hi0, bits, symmetric)
        scale, zp = scale[:, None], zp[:, None]
        err = np.mean((rows - (_quantize(rows, scale, zp, qmin, qmax, "nearest") - zp) * scale) ** 2, axis=1)
        better = err < best
        best[better], best_f[better] = err[better], f
    return best_f * lo0, best_f * hi0


def choose_range(x, *, method="maxabs", percentile=99.99, bits=8, axis=None):
    """The symmetric range ``a`` to quantize ``x`` with: values in ``[-a, a]`` are kept.

    Parameters
    ----------
    x : array_like of floats
        Weights or a batch of activations; finite, not empty.
    method : {"maxabs", "percentile", "mse"}, keyword-only
        ``"maxabs"``: ``max |x|`` (nothing is clipped); ``"percentile"``: the
        ``percentile``-th percentile of ``|x|`` (outliers are clipped); ``"mse"``: the
        fraction of max-abs that minimises the mean squared quantization error.
    percentile : float in (0, 100], keyword-only
        For ``"percentile"`` (``np.percentile``, linear interpolation); 100 is max-abs.
    bits : int, keyword-only
        2 to 8; the code width ``"mse"`` evaluates the error for.
    axis : int or None, keyword-only
        ``None``: one range for the whole tensor; an axis: one per index along it
        (``axis=0``: per output channel of a weight matrix ``(out, in)``).

    Returns
    -------
    float, or ndarray of float64 of shape ``(x.shape[axis],)``

    Raises
    ------
    TypeError
        If ``x`` is not floating-point, or an option has the wrong type.
    ValueError
        If ``x`` is empty or not finite, ``method`` is unknown, ``percentile`` is
        outside (0, 100], ``bits`` outside 2..8, or ``axis`` out of range.

    Notes
    -----
    ``"mse"`` searches the grid ``a_k = (k / 100) max|x|``, ``k = 1 .. 100``:

    .. math:: a^* = \\arg\\min_{a_k} \\frac{1}{n}\\sum_i \\left(x_i - \\tilde x_i(a_k)\\right)^2,
              \\qquad s_k = \\frac{a_k}{2^{b-1} - 1}

    with ``\\tilde x`` the symmetric round-to-nearest :func:`fake_quantize`. A smaller
    range clips the outliers but makes the step finer for everything else; with few
    bits the optimum moves well below max-abs. Ties keep the larger range. An
    all-zero ``x`` (or channel) gives ``a = 0``: :func:`qparams` then uses the
    smallest scale ``eps`` (:func:`quantize_seed` needs ``a > 0``).

    References
    ----------
    .. [1] H. Wu et al., "Integer Quantization for Deep Learning Inference: Principles
       and Empirical Evaluation", arXiv:2004.09602, 2020 (max, percentile, MSE calibration).
    .. [2] Nagel et al., arXiv:2106.08295, sec. 3.1 (range setting).

    Examples
    --------
    >>> choose_range([[3.0, -0.5], [1.0, 2.0]])
    3.0
    >>> choose_range([[3.0, -0.5], [1.0, 2.0]], axis=0)
    array([3., 2.])
    """
    x = _check_floats("x", x).astype(np.float64)
    method = check_choice("method", method, _METHODS)
    percentile = _check_percentile(percentile)
    bits = _check_bits(bits)
    axis = _check_axis(axis, x.ndim)
    _, hi = _observed_range(_rows(x, axis), method, percentile, bits, True)
    return float(hi[0]) if axis is None else hi


# --------------------------------------------------------------------------- quantized tensors

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
    x = _check_floats("x", x).astype(np.float64)
    bits = _check_bits(bits)
    axis = _check_axis(per_channel_axis, x.ndim, "per_channel_axis")
    method = check_choice("method", method, _METHODS)
    if not isinstance(symmetric, (bool, np.bool_)):
        raise TypeError(f"symmetric must be a bool, got {type(symmetric).__name__} ({_short(symmetric)}).")
    rounding = check_choice("rounding", rounding, _ROUNDINGS)
    lo, hi = _observed_range(_rows(x, axis), method, 99.99, bits, bool(symmetric))
    scale, zero_point = _qparams(lo, hi, bits, bool(symmetric))
    if axis is None:
        scale, zero_point = float(scale[0]), int(zero_point[0])
    qmin, qmax = qrange(bits)
    q = _quantize(x, _along(scale, axis, x.ndim), _along(zero_point, axis, x.ndim), qmin, qmax, rounding)
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
    x = _check_floats("x", x).astype(np.float64)
    if x.shape != qt.q.shape:
        raise ValueError(f"x has shape {x.shape}, must be {qt.q.shape} (the shape of qt.q).")
    err = x - qt.dequantize()
    return {"max_abs": float(np.max(np.abs(err))), "mse": float(np.mean(err**2)),
            "step": float(np.max(qt.scale))}


# --------------------------------------------------------------------------- float16

def to_float16(x) -> np.ndarray:
    """``x`` rounded to half precision (IEEE 754 binary16), refusing to overflow.

    Parameters
    ----------
    x : array_like of floats
        Finite, not empty; every ``|x| < 65520``.

    Returns
    -------
    ndarray of float16, same shape as ``x``

    Raises
    ------
    TypeError
        If ``x`` is not floating-point.
    ValueError
        If ``x`` is empty, holds NaN/inf, or holds values that would round to inf.

    Notes
    -----
    float16 has 1 sign bit, 5 exponent bits and 10 fraction bits; rounding to
    nearest (ties to even) gives, for normal values ``2^{-14} <= |x| <= 65504``,

    .. math:: |\\operatorname{fl}(x) - x| \\le 2^{-11} |x|

    (unit roundoff ``u = 2^{-11}``, about 3 decimal digits). Below ``2^{-14}``
    (subnormals) the error is absolute, ``<= 2^{-25}``; values under ``2^{-25}``
    become 0. The largest finite value is 65504; values from 65520 up would round
    to ``inf`` (NumPy and PyTorch do so silently) and raise here instead.

    References
    ----------
    .. [1] IEEE Std 754-2008, binary16.
    .. [2] N. J. Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., SIAM 2002, sec. 2.1.
    .. [3] P. Micikevicius et al., "Mixed Precision Training", ICLR 2018.

    Examples
    --------
    >>> to_float16([1.0, 1.0 + 2.0**-11, 65504.0])  # 1 + u is a tie: rounds to even, 1.0
    array([1.00e+00, 1.00e+00, 6.55e+04], dtype=float16)
    """
    x = _check_floats("x", x)
    with np.errstate(over="ignore"):
        y = x.astype(np.float16)
    overflow = np.isinf(y)
    if np.any(overflow):
        largest = float(np.max(np.abs(x[overflow])))
        raise ValueError(f"x holds {int(np.count_nonzero(overflow))} value(s) that overflow float16 "
                         f"(largest |x| == {largest:g}), must be < 65520 (the largest float16 is 65504).")
    return y


# --------------------------------------------------------------------------- storage formats

def int8_bytes(weights, *, per_channel_axis=None, affine=False) -> int:
    """Bytes of ``weights`` stored as int8 codes with float32 scales (and zero points).

    Parameters
    ----------
    weights : array_like of real numbers
        Only its shape matters.
    per_channel_axis : int or None, keyword-only
        ``None``: one scale; an axis: ``weights.shape[axis]`` scales.
    affine : bool, keyword-only
        Whether a 4-byte zero point is stored with each scale.

    Returns
    -------
    int

    Notes
    -----
    .. math:: B = n + 4c\\,(1 + [\\text{affine}]), \\qquad c = 1 \\text{ or } \\text{shape}[axis]

    with ``n`` values at one byte each (also for fewer than 8 bits: no packing).
    Registered with :func:`course_lib.measure.storage_bytes` as ``"int8"`` (per
    tensor, symmetric: ``n + 4``) and ``"int8_per_channel"`` (symmetric, one scale
    per output channel, ``axis=0``, for arrays of 2 or more dimensions:
    ``n + 4 shape[0]``; biases and other 0-D/1-D arrays: ``n + 4``). Against float32
    that is close to 4x smaller.

    Examples
    --------
    >>> int8_bytes(np.zeros((300, 784))), int8_bytes(np.zeros((300, 784)), per_channel_axis=0)
    (235204, 236400)
    """
    arr = check_float_array("weights", _as_array(weights), allow_empty=True, finite=False)
    axis = _check_axis(per_channel_axis, arr.ndim, "per_channel_axis")
    if not isinstance(affine, (bool, np.bool_)):
        raise TypeError(f"affine must be a bool, got {type(affine).__name__} ({_short(affine)}).")
    channels = 1 if axis is None else arr.shape[axis]
    return int(arr.size) + 4 * channels * (2 if affine else 1)


def float16_bytes(weights) -> int:
    """Bytes of ``weights`` stored in float16: ``2 n``. Registered as ``"float16"``."""
    return 2 * int(check_float_array("weights", _as_array(weights), allow_empty=True, finite=False).size)


measure.register_format("int8", int8_bytes)
measure.register_format("int8_per_channel", lambda a: int8_bytes(a, per_channel_axis=0 if np.ndim(a) >= 2 else None))
measure.register_format("float16", float16_bytes)
