"""Group-wise weight-only quantization of a 2-D weight along its input dimension (GPTQ/AWQ's int4 format).

A Linear weight ``W`` of shape ``(out, in)`` is cut, row by row, into groups of ``group_size``
consecutive input columns; each (row, group) gets its own scale (and, asymmetric, its own integer
zero point) from :func:`course_lib.quantization.grid.scale_zero_point`, the course's one formula:

* symmetric: ``s = max|w| / (2^{b-1} - 1)``, ``z = 0``; the codes lie in the *restricted* symmetric range
  ``[-(2^{b-1}-1), 2^{b-1}-1]`` (the code ``-2^{b-1}`` is never produced), stored with the offset
  ``2^{b-1}`` as ``b`` unsigned bits;
* asymmetric: the group's range ``[lo, hi]`` is widened to contain 0 (as GPTQ's quantizer and PyTorch's
  observers do), ``s = (hi - lo) / (2^b - 1)``, ``z = -round(lo / s)``; codes and zero points lie in
  ``[0, 2^b - 1]`` (the unsigned form of the grid's signed codes: both shifted by ``2^{b-1}``).

Dequantization is ``(q - z) * s``. The scales are stored in ``scale_dtype`` (float16 by default, as
GPTQ's and AWQ's checkpoints store them) and are rounded *up* to that dtype before the codes are
computed, so the group's range still fits the code range: every element's error is at most half its
stored scale (:func:`group_quantize`'s guarantee, tested).

Storage (:func:`stored_bytes`, equal to the length of :func:`pack_bits`' output, tested): the codes as one
bit stream of ``out * in * b`` bits rounded up to whole bytes *in total* (not per row), the scales at
``itemsize`` bytes each, and, asymmetric only, the zero points as a second ``b``-bit stream.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_bits, check_bool, check_choice, check_float_array, check_int, check_int_array
from ..quantization.grid import qrange, quantize_codes, scale_zero_point

__all__ = ["SCALE_DTYPES", "GroupQuant", "check_group_size", "group_params", "quantize_groups", "group_quantize",
           "dequantize_groups", "rtn_dequantized", "pack_bits", "unpack_bits", "stored_bytes"]

#: the storage dtypes of the scales
SCALE_DTYPES = ("float16", "float32", "float64")


class GroupQuant(NamedTuple):
    """A group-wise quantized weight.

    ``codes`` (out, in) int16; ``scales`` and ``zero_points`` (out, n_groups), the scales in their storage
    dtype, the zero points int16 (all 0 when symmetric); ``group_size``, ``bits``, ``symmetric``.
    """

    codes: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray
    group_size: int
    bits: int
    symmetric: bool


def check_group_size(group_size, columns: int) -> int:
    """``group_size``: an int >= 1 that divides ``columns``; None means ``columns`` (one group per row)."""
    group_size = check_int("group_size", group_size, minimum=1, allow_none=True)
    if group_size is None:
        return columns
    if columns % group_size:
        raise ValueError(f"group_size == {group_size} does not divide the {columns} input columns, must divide them "
                         f"(pass {columns} for one group per row, i.e. per-channel).")
    return group_size


def _round_up(scale: np.ndarray, scale_dtype: str) -> np.ndarray:
    """``scale`` in ``scale_dtype``, rounded up (never down) so that ``stored >= scale``."""
    with np.errstate(over="ignore"):  # an overflow becomes inf: refused below
        stored = scale.astype(scale_dtype)
    low = stored.astype(np.float64) < scale
    stored[low] = np.nextafter(stored[low], np.asarray(np.inf, dtype=scale_dtype))
    if not np.all(np.isfinite(stored)):
        raise ValueError(f"a group's scale (max {float(scale.max()):.4g}) overflows {scale_dtype}, must fit it: "
                         f"pass scale_dtype='float32' or smaller weights.")
    return stored


def group_params(columns, bits: int, symmetric: bool, scale_dtype: str = "float16"):
    """Scale and zero point of each row of ``columns`` (out, k): one group per row.

    Parameters
    ----------
    columns : 2-D float array
        The group's weights, one row per output channel.
    bits : int
        Code width, 2..8.
    symmetric : bool
        Symmetric (``z = 0``, signed codes) or asymmetric (unsigned codes and zero point).
    scale_dtype : {"float16", "float32", "float64"}
        The scales' storage dtype; the scale is rounded up to it.

    Returns
    -------
    scale : ndarray (out,) of ``scale_dtype``
    zero_point : ndarray (out,) int16
        0 when symmetric, in ``[0, 2^b - 1]`` when asymmetric.
    """
    w = check_float_array("columns", columns, ndim=2).astype(np.float64)
    bits = check_bits(bits)
    symmetric = check_bool("symmetric", symmetric)
    scale_dtype = check_choice("scale_dtype", scale_dtype, SCALE_DTYPES)
    qmin, qmax = qrange(bits)
    scale, _ = scale_zero_point(w.min(axis=1), w.max(axis=1), bits, symmetric)
    stored = _round_up(scale, scale_dtype)
    if symmetric:
        return stored, np.zeros(len(w), dtype=np.int16)
    # the grid's zero point, z = clip(qmin - round(lo / s)), on the stored scale; shifted to unsigned
    lo = w.min(axis=1).clip(max=0.0)
    zero = np.clip(qmin - np.rint(lo / stored.astype(np.float64)), qmin, qmax) - qmin
    return stored, zero.astype(np.int16)


def quantize_groups(columns, scale, zero_point, bits: int, symmetric: bool) -> np.ndarray:
    """Codes of ``columns`` (out, k) with one scale and zero point per row: int16 (out, k).

    Symmetric codes in ``[-(2^{b-1}-1), 2^{b-1}-1]``, asymmetric ones in ``[0, 2^b - 1]``; ``scale`` and
    ``zero_point`` (out,) as :func:`group_params` returns them.
    """
    w = check_float_array("columns", columns, ndim=2).astype(np.float64)
    bits = check_bits(bits)
    symmetric = check_bool("symmetric", symmetric)
    qmin, qmax = qrange(bits)
    s = check_float_array("scale", scale, ndim=1).astype(np.float64)
    z = check_int_array("zero_point", zero_point, ndim=1, low=0, high=0 if symmetric else 2**bits - 1)
    if s.shape != (len(w),) or z.shape != (len(w),) or np.any(s <= 0):
        raise ValueError(f"scale {s.shape} and zero_point {z.shape} must be ({len(w)},), one per row of columns, "
                         f"and scale > 0.")
    if symmetric:
        return quantize_codes(w, s[:, None], 0, -qmax, qmax, "nearest").astype(np.int16)
    codes = quantize_codes(w, s[:, None], z.astype(np.int64)[:, None] + qmin, qmin, qmax, "nearest")
    return (codes.astype(np.int16) - qmin).astype(np.int16)


def _check_weight(weight) -> np.ndarray:
    return check_float_array("weight", weight, ndim=2).astype(np.float64)


def group_quantize(weight, bits: int = 4, group_size: int | None = 128, *, symmetric: bool = True,
                   scale_dtype: str = "float16") -> GroupQuant:
    """Round-to-nearest group-wise quantization of ``weight`` (out, in) along the input dimension.

    Parameters
    ----------
    weight : 2-D float array (out, in)
    bits : int
        Code width, 2..8.
    group_size : int or None
        Input columns per group; must divide ``in`` (``in`` itself or None: one scale per output channel).
    symmetric : bool, keyword-only
        See the module docstring for the two code ranges.
    scale_dtype : {"float16", "float32", "float64"}, keyword-only
        The scales' storage dtype.

    Returns
    -------
    GroupQuant

    Examples
    --------
    >>> q = group_quantize([[0.5, -1.0, 0.25, 0.0]], bits=2, group_size=2)
    >>> q.codes.tolist(), q.scales.tolist()
    ([[0, -1, 1, 0]], [[1.0, 0.25]])
    """
    w = _check_weight(weight)
    bits = check_bits(bits)
    group_size = check_group_size(group_size, w.shape[1])
    symmetric = check_bool("symmetric", symmetric)
    scale_dtype = check_choice("scale_dtype", scale_dtype, SCALE_DTYPES)
    out, columns = w.shape
    groups = w.reshape(out, columns // group_size, group_size).transpose(1, 0, 2)  # (n_groups, out, gs)
    flat = groups.reshape(-1, group_size)
    scale, zero = group_params(flat, bits, symmetric, scale_dtype)
    codes = quantize_groups(flat, scale, zero, bits, symmetric)
    n_groups = columns // group_size
    codes = codes.reshape(n_groups, out, group_size).transpose(1, 0, 2).reshape(out, columns)
    return GroupQuant(codes, scale.reshape(n_groups, out).T.copy(), zero.reshape(n_groups, out).T.copy(),
                      group_size, bits, symmetric)


def dequantize_groups(codes, scales, zero_points, group_size: int | None = None, *, group_index=None) -> np.ndarray:
    """``(q - z) * s`` per element, float64 (out, in).

    Parameters
    ----------
    codes : 2-D integer array (out, in)
    scales : 2-D float array (out, n_groups)
    zero_points : 2-D integer array (out, n_groups)
    group_size : int, optional
        Consecutive columns per group (column ``j`` belongs to group ``j // group_size``); None (and no
        ``group_index``): one group per row.
    group_index : 1-D integer array (in,), keyword-only, optional
        The group of each column instead (GPTQ with ``act_order`` forms groups in its column order).
        At most one of ``group_size`` and ``group_index`` is given.
    """
    q = check_int_array("codes", codes, ndim=2).astype(np.int64)
    s = check_float_array("scales", scales, ndim=2).astype(np.float64)
    z = check_int_array("zero_points", zero_points, ndim=2).astype(np.int64)
    out, columns = q.shape
    if s.shape[0] != out or z.shape != s.shape:
        raise ValueError(f"scales {s.shape} and zero_points {z.shape} must both be ({out}, n_groups) for codes "
                         f"of shape {q.shape}.")
    if group_size is not None and group_index is not None:
        raise ValueError("group_size and group_index: give at most one of them.")
    if group_index is None:
        group_size = check_group_size(group_size, columns)
        if columns // group_size != s.shape[1]:
            raise ValueError(f"scales has {s.shape[1]} groups, must have {columns // group_size} "
                             f"(= {columns} / group_size {group_size}).")
        index = np.arange(columns) // group_size
    else:
        index = check_int_array("group_index", group_index, ndim=1, low=0, high=s.shape[1] - 1)
        if index.shape != (columns,):
            raise ValueError(f"group_index has shape {index.shape}, must be ({columns},): one group per column.")
    return (q - z[:, index]) * s[:, index]


def rtn_dequantized(weight, bits: int = 4, group_size: int | None = 128, *, symmetric: bool = True,
                    scale_dtype: str = "float16") -> np.ndarray:
    """The weight after round-to-nearest group-wise quantization and dequantization (out, in), float64."""
    q = group_quantize(weight, bits, group_size, symmetric=symmetric, scale_dtype=scale_dtype)
    return dequantize_groups(q.codes, q.scales, q.zero_points, q.group_size)


def pack_bits(values, bits: int) -> bytes:
    """Unsigned ``values`` (each in ``[0, 2^b - 1]``), ``b`` bits each, as one big-endian bit stream.

    The stream is padded with zero bits to a whole number of bytes: ``ceil(values.size * b / 8)`` bytes.

    Examples
    --------
    >>> pack_bits([1, 2, 3], 2).hex()
    '6c'
    """
    bits = check_bits(bits)
    v = check_int_array("values", values, low=0, high=2**bits - 1).astype(np.uint16).ravel()
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint16)
    stream = ((v[:, None] >> shifts) & 1).astype(np.uint8).ravel()
    return np.packbits(stream).tobytes()


def unpack_bits(data: bytes, bits: int, count: int) -> np.ndarray:
    """The ``count`` values of :func:`pack_bits`' stream ``data``: int64 (count,)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}.")
    bits = check_bits(bits)
    count = check_int("count", count, minimum=0)
    if len(data) != -(-count * bits // 8):
        raise ValueError(f"data holds {len(data)} bytes, must hold ceil({count} * {bits} / 8) = "
                         f"{-(-count * bits // 8)} for count {count}.")
    stream = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))[:count * bits].reshape(count, bits)
    return stream.astype(np.int64) @ (1 << np.arange(bits - 1, -1, -1, dtype=np.int64))


def stored_bytes(out_features: int, in_features: int, bits: int, group_size: int | None, *, symmetric: bool = True,
                 scale_dtype: str = "float16") -> int:
    """Exact bytes of a group-wise quantized ``(out, in)`` weight: codes + scales (+ zero points).

    ``ceil(out * in * b / 8)`` for the codes (one stream, padded once), ``out * in / group_size`` scales
    of ``scale_dtype``'s itemsize and, asymmetric, ``ceil(out * in / group_size * b / 8)`` for the zero
    points. (GPTQ's ``act_order`` group index is not counted: see :func:`course_lib.llmquant.gptq.gptq_quantize`.)

    Examples
    --------
    >>> stored_bytes(4096, 4096, 4, 128)  # 8 MiB of codes + 256 KiB of float16 scales
    8650752
    """
    out_features = check_int("out_features", out_features, minimum=1)
    in_features = check_int("in_features", in_features, minimum=1)
    bits = check_bits(bits)
    group_size = check_group_size(group_size, in_features)
    symmetric = check_bool("symmetric", symmetric)
    scale_dtype = check_choice("scale_dtype", scale_dtype, SCALE_DTYPES)
    n_scales = out_features * (in_features // group_size)
    total = -(-out_features * in_features * bits // 8) + n_scales * np.dtype(scale_dtype).itemsize
    if not symmetric:
        total += -(-n_scales * bits // 8)
    return int(total)
