"""An integer-only int8 network in NumPy: the reference the PyTorch int8 runtime is checked against.

The model is a plain ``spec`` (a dict of NumPy arrays and numbers, no torch), built by
:func:`course_lib.quantization.nn.int8_runtime.build_int8_model` (``Int8Model.spec``):

* ``spec["input"]``: ``mean``, ``std`` (per channel), ``scale``, ``zero_point`` of the input;
* ``spec["qmin"], spec["qmax"]``: the signed range every activation code is clamped to, 256 codes
  (``-128..127``; with the engine's ``reduce_range``, ``-64..191``: the calibrated range fills the 7-bit
  grid ``-64..63``, outliers keep codes up to ``quint8``'s end); PyTorch's ``quint8`` codes are the
  signed codes plus ``-qmin``;
* ``spec["steps"]``: ``{"op": "conv" | "linear", "weight": int8, "bias": int32, "multiplier": int64,
  "shift": int64, "in_zero_point", "out_zero_point", "relu", "stride", "padding"}``,
  ``{"op": "maxpool", "kernel": k}``, ``{"op": "flatten"}``;
* ``spec["output"]``: ``scale``, ``zero_point`` of the logits' codes.

Every layer is integer arithmetic only: ``acc = sum (q_x - z_x) W_q + b_q`` (int32 accumulator, the
bias quantized with scale ``s_x s_w``), then the fixed-point requantization :func:`requantize`
(an integer multiplier ``M0`` and a right shift), ReLU as clamping at the output zero point, max
pooling on codes. Only the input (standardised in float32, then quantized) and the logits
(dequantized) touch floats. Torch-free.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_int_array, check_positive_float

__all__ = ["quantize_multiplier", "requantize", "im2col", "Int8Reference"]

_EXACT_FLOAT64 = 2 ** 53  # integer sums below this are exact in float64


def quantize_multiplier(multiplier) -> tuple[int, int]:
    r"""A real multiplier ``M > 0`` as a 31-bit integer ``M0`` and a right shift: ``M ~ M0 / 2**shift``.

    Parameters
    ----------
    multiplier : float
        ``M = s_x s_w / s_out``, finite and ``> 0``, below ``2**30``.

    Returns
    -------
    (int, int)
        ``M0`` in ``[2**30, 2**31)`` and ``shift`` in ``1..62`` (a tiny ``M`` gets ``shift = 62`` and a
        smaller ``M0``, possibly 0). The relative error of ``M0 / 2**shift`` is at most ``2**-31``.

    Raises
    ------
    TypeError, ValueError
        If ``multiplier`` is not a finite real number in ``(0, 2**30)``.

    Examples
    --------
    >>> quantize_multiplier(0.5)
    (1073741824, 31)
    """
    m = check_positive_float("multiplier", multiplier)
    if m >= 2.0 ** 30:
        raise ValueError(f"multiplier == {m!r}, must be < 2**30.")
    frac, exp = math.frexp(m)  # m = frac * 2**exp, frac in [0.5, 1)
    m0, shift = round(frac * 2 ** 31), 31 - exp
    if m0 == 2 ** 31:
        m0, shift = m0 // 2, shift - 1
    if shift > 62:
        m0, shift = (m0 + (1 << (shift - 63))) >> (shift - 62), 62
    return int(m0), int(shift)


def requantize(acc, m0, shift, zero_point: int, qmin: int, qmax: int) -> np.ndarray:
    r"""int32 accumulators to output codes: ``clip(floor((acc * M0 + 2**(shift-1)) / 2**shift) + z)``.

    Parameters
    ----------
    acc : int array
        The accumulators (any shape; int32 range).
    m0, shift : int or int arrays broadcasting against ``acc``
        From :func:`quantize_multiplier` (per output channel: shape them to broadcast).
    zero_point, qmin, qmax : int
        The output's zero point and code range; ReLU is ``qmin = zero_point``.

    Returns
    -------
    ndarray of int32

    Notes
    -----
    The rounding is **round half up** (ties toward ``+inf``): ``floor(v + 1/2)`` with
    ``v = acc M0 / 2^{shift}``, done exactly in int64 (``|acc M0| < 2^{62}``) with an arithmetic
    right shift. PyTorch's engines round ``acc * M`` in float32 to nearest, ties to even: they differ
    on exact ties and where float32 rounding crosses a half, by one code at most.

    Examples
    --------
    >>> requantize(np.array([-3, -1, 1, 3]), 1 << 30, 31, 0, -128, 127)  # M = 1/2: -1.5 -0.5 0.5 1.5
    array([-1,  0,  1,  2], dtype=int32)
    """
    acc = np.asarray(acc, dtype=np.int64)
    m0 = np.asarray(m0, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    v = (acc * m0 + (np.int64(1) << (shift - 1))) >> shift
    return np.clip(v + zero_point, qmin, qmax).astype(np.int32)


def im2col(x: np.ndarray, kh: int, kw: int, stride: int, padding: int, pad_value: int) -> np.ndarray:
    """Columns ``(N, C*kh*kw, Ho*Wo)`` of an ``(N, C, H, W)`` integer array, padded with ``pad_value``.

    The row order is ``(c, i, j)``, that of a PyTorch weight ``(O, C, kh, kw)`` reshaped to ``(O, -1)``.
    """
    n, c, h, w = x.shape
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=pad_value)
    ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    sn, sc, sh, sw = x.strides
    view = np.lib.stride_tricks.as_strided(x, (n, c, kh, kw, ho, wo), (sn, sc, sh, sw, sh * stride, sw * stride))
    return view.reshape(n, c * kh * kw, ho * wo)


def _int_matmul(w: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``w @ cols`` of integer arrays, exactly, as int64.

    Through float64 BLAS when every partial sum is an integer below ``2**53`` (exact, and fast: NumPy
    has no integer BLAS); otherwise in int64.
    """
    worst = int(np.abs(w).astype(np.int64).sum(-1).max()) * int(np.abs(cols).max(initial=0))
    if worst < _EXACT_FLOAT64:
        return np.rint(np.matmul(w.astype(np.float64), cols.astype(np.float64))).astype(np.int64)
    return np.matmul(w.astype(np.int64), cols.astype(np.int64))


class Int8Reference:
    """The integer-only network of a ``spec`` (see the module), in NumPy.

    Parameters
    ----------
    spec : dict
        ``Int8Model.spec`` from :func:`course_lib.quantization.nn.int8_runtime.build_int8_model`.

    Raises
    ------
    TypeError
        If ``spec`` is not a dict.
    ValueError
        If it lacks ``"input"``, ``"steps"``, ``"output"``, ``"qmin"`` or ``"qmax"``.
    """

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise TypeError(f"spec must be a dict (Int8Model.spec), got {type(spec).__name__}.")
        missing = [k for k in ("input", "steps", "output", "qmin", "qmax") if k not in spec]
        if missing:
            raise ValueError(f"spec lacks {missing}, must be an Int8Model.spec.")
        self.spec = spec
        self.qmin, self.qmax = int(spec["qmin"]), int(spec["qmax"])

    def input_codes(self, images) -> np.ndarray:
        """Signed input codes ``(N, C, H, W)`` of uint8 images (``(N, H, W)`` or ``(N, H, W, 3)``).

        Standardised in float32, then ``clip(rint(x * float32(1/s)) + z)`` as PyTorch's quantizer.
        """
        arr = np.asarray(images)
        if arr.dtype != np.uint8:
            raise TypeError(f"images must be a uint8 array as returned by course_lib.data, got dtype {arr.dtype}.")
        if arr.ndim not in (3, 4) or arr.size == 0:
            raise ValueError(f"images has shape {arr.shape}, must be a non-empty (N, H, W) or (N, H, W, 3).")
        x = arr[:, None] if arr.ndim == 3 else arr.transpose(0, 3, 1, 2)
        inp = self.spec["input"]
        mean = np.asarray(inp["mean"], np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(inp["std"], np.float32).reshape(1, -1, 1, 1)
        if x.shape[1] != mean.shape[1]:
            raise ValueError(f"images have {x.shape[1]} channel(s), the model expects {mean.shape[1]}.")
        x = (x.astype(np.float32) / np.float32(255.0) - mean) / std
        q = np.rint(x * np.float32(1.0 / np.float32(inp["scale"]))) + inp["zero_point"]
        return np.clip(q, self.qmin, self.qmax).astype(np.int32)

    def step(self, i: int, codes) -> np.ndarray:
        """Run step ``i`` of ``spec["steps"]`` on the codes it gets (signed ints), return its output codes."""
        i = check_int("i", i, minimum=0, maximum=len(self.spec["steps"]) - 1)
        s = self.spec["steps"][i]
        x = check_int_array("codes", codes).astype(np.int32)
        if s["op"] == "flatten":
            return x.reshape(len(x), -1)
        if s["op"] == "maxpool":
            k = int(s["kernel"])
            n, c, h, w = x.shape
            x = x[:, :, :h - h % k, :w - w % k].reshape(n, c, h // k, k, w // k, k)
            return x.max(axis=(3, 5))
        zin, zout = int(s["in_zero_point"]), int(s["out_zero_point"])
        weight = s["weight"].reshape(len(s["weight"]), -1).astype(np.int32)
        if s["op"] == "linear":
            acc = _int_matmul(x - zin, weight.T) + s["bias"]                        # (N, O)
            m0, sh = s["multiplier"], s["shift"]
        else:
            _, _, kh, kw = s["weight"].shape
            cols = im2col(x, kh, kw, int(s["stride"]), int(s["padding"]), zin) - zin  # padding is 0.0
            acc = _int_matmul(weight, cols) + s["bias"][:, None]                   # (N, O, Ho*Wo)
            m0, sh = s["multiplier"][:, None], s["shift"][:, None]
            n, _, h, w = x.shape
            ho = (h + 2 * int(s["padding"]) - kh) // int(s["stride"]) + 1
            acc = acc.reshape(n, len(weight), ho, -1)
            m0, sh = m0[..., None], sh[..., None]
        if np.abs(acc).max() >= 2 ** 31:
            raise OverflowError(f"step {i}: an accumulator overflows int32.")
        lo = zout if s["relu"] else self.qmin
        return requantize(acc.astype(np.int32), m0, sh, zout, lo, self.qmax)

    def codes(self, images) -> list[np.ndarray]:
        """The input codes and every step's output codes (signed int32), in order."""
        out = [self.input_codes(images)]
        for i in range(len(self.spec["steps"])):
            out.append(self.step(i, out[-1]))
        return out

    def logits(self, images) -> np.ndarray:
        """float64 logits ``(N, classes)``: the last codes dequantized, ``(q - z) s``."""
        q = self.codes(images)[-1]
        return (q - self.spec["output"]["zero_point"]) * float(self.spec["output"]["scale"])

    def predict(self, images) -> np.ndarray:
        """Predicted class of each image (int64)."""
        return self.logits(images).argmax(1)
