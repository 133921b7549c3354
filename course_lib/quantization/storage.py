"""Half precision and the bytes of each quantized storage format. Pure NumPy.

Importing this module registers the storage formats ``"int8"``, ``"int8_per_channel"``
and ``"float16"`` with :func:`course_lib.formats.storage_bytes`. The rule for what
stays float32, said once for the whole course: **only weights (arrays of 2 or more
dimensions) are quantized; biases and other 1-D or 0-D arrays stay float32** -- they
are few, and int8 runtimes keep them in 32 bits. :func:`course_lib.quantization.nn.model_bytes`
follows the same rule.

Below 8 bits, codes are counted **packed**: ``n`` codes of ``b`` bits take ``ceil(n b / 8)``
bytes (:func:`code_bytes`; two 4-bit codes per byte), plus the float32 scales (and zero points)
and the float32 biases -- the one convention for the bytes of a model with fewer than 8 bits
(notebook 04's explorer and notebook 05's tables). The arrays in memory still hold one code per
byte (:class:`course_lib.quantization.QuantizedTensor`); packing is how such a model is stored.
"""

from __future__ import annotations

import numpy as np

from .. import formats
from .._validation import check_axis, check_bool, check_float_array, check_float_values, to_numpy

__all__ = ["to_float16", "int8_bytes", "float16_bytes", "code_bytes", "FLOAT16_MAX"]

#: Largest finite float16.
FLOAT16_MAX = 65504.0


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
    x = check_float_values("x", x)
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
    Registered with :func:`course_lib.formats.storage_bytes` as ``"int8"`` (per
    tensor, symmetric: ``n + 4``) and ``"int8_per_channel"`` (symmetric, one scale
    per output channel, ``axis=0``: ``n + 4 shape[0]``) for arrays of 2 or more
    dimensions; biases and other 0-D/1-D arrays stay float32 in both (``4 n``), the
    course's one rule (:mod:`course_lib.formats`). Against float32 that is close to 4x smaller.

    Examples
    --------
    >>> int8_bytes(np.zeros((300, 784))), int8_bytes(np.zeros((300, 784)), per_channel_axis=0)
    (235204, 236400)
    """
    arr = check_float_array("weights", to_numpy(weights), allow_empty=True, finite=False)
    axis = check_axis(per_channel_axis, arr.ndim, "per_channel_axis")
    affine = check_bool("affine", affine)
    channels = 1 if axis is None else arr.shape[axis]
    return int(arr.size) + 4 * channels * (2 if affine else 1)


def code_bytes(count: int, bits: int) -> int:
    """Bytes of ``count`` integer codes of ``bits`` bits each, packed: ``ceil(count * bits / 8)``.

    The course's convention for stored codes (one byte each at 8 bits, two per byte at 4 bits);
    scales, zero points and biases are counted apart (4 bytes each).

    Parameters
    ----------
    count : int >= 0
    bits : int in 2 .. 8

    Examples
    --------
    >>> code_bytes(266_200, 8), code_bytes(266_200, 4), code_bytes(3, 3)
    (266200, 133100, 2)
    """
    from .._validation import check_bits, check_int

    count = check_int("count", count, minimum=0)
    bits = check_bits(bits)
    return -(-count * bits // 8)


def float16_bytes(weights) -> int:
    """Bytes of ``weights`` stored in float16: ``2 n``. Registered as ``"float16"``."""
    return 2 * int(check_float_array("weights", to_numpy(weights), allow_empty=True, finite=False).size)


def _weights_only(per_channel: bool):
    """A registered int8 format: weights (2+ dimensions) as int8 codes, biases float32."""
    def size(arr) -> int:
        if np.ndim(arr) < 2:
            return 4 * int(np.size(arr))
        return int8_bytes(arr, per_channel_axis=0 if per_channel else None)
    return size


formats.register_format("int8", _weights_only(False))
formats.register_format("int8_per_channel", _weights_only(True))
formats.register_format("float16", float16_bytes)
