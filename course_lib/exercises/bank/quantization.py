"""Exercises of notebook 04: integer-only requantization, an asymmetric int8 product, a 2-bit LeNet-300-100.

The checks here are properties a right answer has (never a reference solution): the grader's
references and hidden cases are the instructor's (``hidden_tests/ch04_quantization_from_scratch.py``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["requant_case", "zero_point_case", "LOW_BIT_BITS", "LOW_BIT_LAYERS", "LOW_BIT_TARGETS", "low_bit_case",
           "low_bit_form"]


def _int_of(value, name: str):
    """``value`` as a Python int, or a problem (str)."""
    arr = np.asarray(value) if isinstance(value, (int, np.integer, np.ndarray)) and not isinstance(value, bool) \
        else None
    if arr is None or arr.shape != () or arr.dtype.kind not in "iu":
        return f"{name} must be an integer, got a {type(value).__name__}"
    return int(arr)


def _array_of(value, name: str, shape: tuple, dtype) -> np.ndarray | str:
    """``value`` as an array of exactly ``dtype`` and ``shape``, or a problem (str)."""
    if not isinstance(value, np.ndarray):
        return f"{name} is a {type(value).__name__}, expected a NumPy array of dtype {np.dtype(dtype).name}"
    if value.shape != shape:
        return f"{name} has shape {value.shape}, expected {shape}"
    if value.dtype != np.dtype(dtype):
        return f"{name} has dtype {value.dtype}, expected {np.dtype(dtype).name}"
    return value


def _fields(got, name: str, keys: tuple) -> list[str]:
    if not isinstance(got, dict):
        return [f"{name} returned a {type(got).__name__}, expected a dict with keys {list(keys)}"]
    missing = [k for k in keys if k not in got]
    return [f"{name} has no key {missing}: expected the keys {list(keys)}"] if missing else []


# --- 04-fixed-point-requant ----------------------------------------------------------------------------------------

def _requant_check(got, acc, multiplier, z_out):
    name = f"requantize(acc of shape {acc.shape}, M = {multiplier:.6g}, z = {z_out})"
    problems = _fields(got, name, ("M0", "n", "q"))
    if problems:
        return problems
    m0, n = _int_of(got["M0"], "M0"), _int_of(got["n"], "n")
    for v in (m0, n):
        if isinstance(v, str):
            return [v]
    if not 2**30 <= m0 < 2**31:
        return [f"{name}: M0 must lie in [2^30, 2^31): it is an int32 with its top bit set"]
    if not -1 <= n <= 62:
        return [f"{name}: the shift n is out of any sensible range"]
    if abs(Fraction(multiplier) * 2 ** (31 + n) - m0) > Fraction(1, 2):
        return [f"{name}: M0 * 2^-(31+n) is not M rounded to 31 bits (M0 must be M * 2^(31+n) rounded)"]
    q = _array_of(got["q"], f"{name}['q']", acc.shape, np.int8)
    if isinstance(q, str):
        return [q]
    step = 2 ** (31 + n)
    # Exact integer arithmetic (Python ints): 2 t D - 2 acc M0 must lie in (-D, D] -- t is acc M0 / D rounded,
    # ties upward -- unless the output saturated, where only the side is fixed.
    t = [int(v) - z_out for v in q.ravel()]
    r = [int(a) * m0 for a in acc.ravel()]
    bad = []
    for i, (ti, ri, qi) in enumerate(zip(t, r, q.ravel())):
        low_ok = 2 * ti * step - 2 * ri > -step or qi == 127    # t is not below the rounded value (or saturated)
        high_ok = 2 * ti * step - 2 * ri <= step or qi == -128  # t is not above it (or saturated)
        if not (low_ok and high_ok):
            bad.append(i)
    if bad:
        return [f"{name}['q'] is wrong in {len(bad)} of {len(t)} entries (first at flat index {bad[0]}): "
                f"q - z must be acc * M0 / 2^(31+n) rounded half up, saturated to [-128, 127]"]
    return []


def requant_case(multiplier, z_out, ties=(), *, seed=0, size=0, spread=3000):
    """A case for ``requantize(acc, M, z_out) -> {"M0", "n", "q"}``.

    ``acc`` holds the int32 accumulators ``ties`` (chosen where ``acc * M`` is a half-integer, so that the rounding
    rule and the 31 bits of ``M0`` decide) followed by ``size`` random ones of spread ``spread``.
    """
    def inputs():
        rng = np.random.default_rng(seed)
        extra = rng.normal(0, spread, size=size).round()
        return np.concatenate([np.asarray(ties, dtype=np.float64), extra]).astype(np.int32), float(multiplier), \
            int(z_out)
    return Case(inputs, _requant_check)


# Ties: acc * M is a half-integer for these acc (M's decimal digits), so the rounding rule decides; and M0 holds M to
# 31 bits only, so M0 * 2^-(31+n) falls on one side of M and the integer product on one side of the tie, where the
# float product acc * M lands on the tie itself.
_ODD = np.array([1, 3, 5, 7, 9, 11, 21, -1, -3, -5, -7, -9, -11, -21])

exercise("04-fixed-point-requant", "Requantize int32 accumulators with a fixed-point multiplier",
         kind="variant").cases.extend([
    ("M = 0.3: near-ties", requant_case(0.3, 0, [*(5 * _ODD), 1, 2, 3, 4, -1, -2])),
    ("M = 0.1, z = -3: more bits than M0 holds", requant_case(0.1, -3, [*(5 * _ODD), 1234, 7])),
    ("M = 0.013, z = 10: saturation", requant_case(0.013, 10, 500 * _ODD, seed=1, size=40, spread=12000)),
    ("a layer's accumulators, M = 0.01375, z = -128", requant_case(0.01375, -128, 400 * _ODD, seed=2, size=300,
                                                                    spread=9000)),
])


# --- 04-zero-point-matvec ------------------------------------------------------------------------------------------

def _zero_point_check(got, w, x, x_low, x_high):
    name = f"asym_matvec(W {w.shape}, x, {x_low:g}, {x_high:g})"
    problems = _fields(got, name, ("w_q", "x_q", "z", "acc", "y"))
    if problems:
        return problems
    out, inp = w.shape
    w_q = _array_of(got["w_q"], f"{name}['w_q']", w.shape, np.int8)
    x_q = _array_of(got["x_q"], f"{name}['x_q']", (inp,), np.uint8)
    acc = _array_of(got["acc"], f"{name}['acc']", (out,), np.int32)
    z = _int_of(got["z"], f"{name}['z']")
    for v in (w_q, x_q, acc, z):
        if isinstance(v, str):
            return [v]
    y = got["y"]
    if not isinstance(y, np.ndarray) or y.shape != (out,) or y.dtype.kind != "f" or not np.all(np.isfinite(y)):
        return [f"{name}['y'] must be a finite float array of shape {(out,)}"]
    s_w = np.abs(w).max(axis=1) / 127
    if np.any(np.abs(w_q) > 127) or np.any(np.abs(w_q * s_w[:, None] - w) > s_w[:, None] * (0.5 + 1e-9)):
        return [f"{name}['w_q'] is not W on the symmetric per-row grid s_w = max|W_r| / 127 (nearest code)"]
    s_x = (x_high - x_low) / 255
    if not 0 <= z <= 255 or abs(z + x_low / s_x) > 0.5 + 1e-9:
        return [f"{name}['z'] is not the uint8 code of 0.0 (the nearest code to -x_low / s_x)"]
    deq = s_x * (x_q.astype(np.float64) - z)
    inside = (x > x_low) & (x < x_high)
    near = np.abs(deq - x) <= s_x * (0.5 + 1e-9)
    clipped = np.where(x >= x_high, x_q == 255, x_q == 0)
    if not np.all(np.where(inside, near, clipped)):
        return [f"{name}['x_q'] are not the nearest uint8 codes of x (scale s_x = (x_high - x_low) / 255, zero "
                "point z, clipped to [0, 255])"]
    if not np.array_equal(acc.astype(np.int64), w_q.astype(np.int64) @ (x_q.astype(np.int64) - z)):
        return [f"{name}['acc'] is not the integer sum of w_q (x_q - z) of each row"]
    if not np.allclose(y, s_w * s_x * acc, rtol=1e-9, atol=1e-12):
        return [f"{name}['y'] is not the accumulator rescaled by s_w s_x"]
    return []


def zero_point_case(seed, out, inp, x_low, x_high, outliers=0):
    """A case for ``asym_matvec(W, x, x_low, x_high)``: ReLU-like inputs in the range (``outliers`` beyond it)."""
    def inputs():
        rng = np.random.default_rng(seed)
        w = rng.normal(0, 0.3, size=(out, inp)) * rng.uniform(0.2, 2.0, size=(out, 1))
        x = rng.uniform(x_low, x_high, size=inp) * 0.98 + 0.01 * (x_high - x_low)
        if outliers:
            x[:outliers] = x_high * 1.5
        return w, x, float(x_low), float(x_high)
    return Case(inputs, _zero_point_check)


exercise("04-zero-point-matvec", "An asymmetric (uint8 x int8) product with its zero-point correction",
         kind="variant").cases.extend([
    ("a 3x5 layer, x in [-0.5, 6]", zero_point_case(0, 3, 5, -0.5, 6.0)),
    ("a 16x40 layer, x in [-1, 3]", zero_point_case(1, 16, 40, -1.0, 3.0)),
    ("a 64x300 layer, x in [-0.2, 4], two inputs clipped", zero_point_case(2, 64, 300, -0.2, 4.0, outliers=2)),
])


# --- 04-outcome-low-bit --------------------------------------------------------------------------------------------

LOW_BIT_BITS = 2
LOW_BIT_LAYERS = {"fc1": (300, 784), "fc2": (100, 300), "fc3": (10, 100)}
LOW_BIT_TARGETS = [Target("accuracy drop (float32 minus 2-bit, MNIST test set)", goal=0.018, zero_at=0.03, higher=False,
                          unit="points")]


def low_bit_form(got) -> list[str]:
    """The problems of the form of a ``low_bit_lenet()`` answer (codes and scales per layer)."""
    name = "low_bit_lenet()"
    problems = _fields(got, name, tuple(LOW_BIT_LAYERS))
    if problems:
        return problems
    lo, hi = -(2 ** (LOW_BIT_BITS - 1)), 2 ** (LOW_BIT_BITS - 1) - 1
    for layer, shape in LOW_BIT_LAYERS.items():
        part = got[layer]
        problems = _fields(part, f"{name}[{layer!r}]", ("codes", "scales"))
        if problems:
            return problems
        codes = _array_of(part["codes"], f"{name}[{layer!r}]['codes']", shape, np.int8)
        if isinstance(codes, str):
            return [codes]
        if codes.min() < lo or codes.max() > hi:
            return [f"{name}[{layer!r}]['codes'] must be {LOW_BIT_BITS}-bit codes, within [{lo}, {hi}]"]
        scales = part["scales"]
        if (not isinstance(scales, np.ndarray) or scales.shape != (shape[0],) or scales.dtype.kind != "f"
                or not np.all(np.isfinite(scales)) or np.any(scales <= 0)):
            return [f"{name}[{layer!r}]['scales'] must be {shape[0]} positive finite floats (one per row)"]
    return []


def low_bit_case():
    """The case of ``low_bit_lenet()``: no inputs; the checks made here are the answer's form."""
    return Case(lambda: (), lambda got: low_bit_form(got))


exercise("04-outcome-low-bit", "A 2-bit LeNet-300-100 within 3 points of float32", kind="outcome",
         checked_here="form").cases.append(("LeNet-300-100's three weight matrices", low_bit_case()))
