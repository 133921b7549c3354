"""The NumPy integer-only int8 network: fixed-point requantization, im2col convolution, its checks. No torch."""

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from course_lib.quantization.int8_reference import Int8Reference, im2col, quantize_multiplier, requantize

from helpers import raises

I32 = (-2 ** 31, 2 ** 31 - 1)


def test_module_never_imports_torch():
    code = ("import sys, course_lib.quantization.int8_reference as r; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_quantize_multiplier_is_a_31_bit_mantissa_and_a_shift():
    assert quantize_multiplier(0.5) == (2 ** 30, 31)
    assert quantize_multiplier(1.0) == (2 ** 30, 30)
    assert quantize_multiplier(1 - 2.0 ** -40) == (2 ** 30, 30)   # rounds up to 2**31: renormalised
    m0, shift = quantize_multiplier(1e-20)                       # beyond 62 bits of shift: a smaller M0
    assert shift == 62 and m0 == round(1e-20 * 2 ** 62)
    rng = np.random.default_rng(0)
    for m in 10.0 ** rng.uniform(-9, 3, 2000):
        m0, shift = quantize_multiplier(float(m))
        assert 2 ** 30 <= m0 < 2 ** 31 and 1 <= shift <= 62
        assert abs(Fraction(m0, 2 ** shift) - Fraction(float(m))) <= Fraction(float(m)) * Fraction(1, 2 ** 31)


def test_requantize_equals_exact_rational_arithmetic():
    """floor(acc * M0 / 2**shift + 1/2) computed with Python fractions, on many random cases."""
    rng = np.random.default_rng(1)
    n = 5000
    acc = rng.integers(-2 ** 31 + 1, 2 ** 31 - 1, n) // rng.choice([1, 2 ** 8, 2 ** 16, 2 ** 24], n)
    ms = 10.0 ** rng.uniform(-8, 0, n)
    pairs = [quantize_multiplier(float(m)) for m in ms]
    m0 = np.array([p[0] for p in pairs], np.int64)
    shift = np.array([p[1] for p in pairs], np.int64)
    got = requantize(acc, m0, shift, 0, *I32)
    for a, q, s, g, m in zip(acc.tolist(), m0.tolist(), shift.tolist(), got.tolist(), ms):
        exact = Fraction(a * q, 2 ** s)
        assert g == math.floor(exact + Fraction(1, 2)), (a, q, s)
        # and within half a code (plus the multiplier's 2**-31 relative error) of acc * M itself
        assert abs(g - Fraction(a) * Fraction(float(m))) <= Fraction(1, 2) + abs(a) * Fraction(float(m)) / 2 ** 31
    # ties go up (toward +inf); zero point and clamping
    half = quantize_multiplier(0.5)
    assert requantize([-3, -1, 1, 3], *half, 0, *I32).tolist() == [-1, 0, 1, 2]
    assert requantize([-3, -1, 1, 3], *half, 10, 10, 11).tolist() == [10, 10, 11, 11]


def test_im2col_convolution_equals_a_direct_loop():
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, (2, 3, 6, 5))
    w = rng.integers(-127, 128, (4, 3, 3, 3))
    for stride, padding, pad_value in ((1, 1, 7), (2, 0, 0), (1, 0, -3)):
        cols = im2col(x, 3, 3, stride, padding, pad_value)
        got = (w.reshape(4, -1) @ cols)
        xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=pad_value)
        ho, wo = (xp.shape[2] - 3) // stride + 1, (xp.shape[3] - 3) // stride + 1
        want = np.zeros((2, 4, ho, wo), np.int64)
        for i in range(ho):
            for j in range(wo):
                patch = xp[:, :, i * stride:i * stride + 3, j * stride:j * stride + 3]
                want[:, :, i, j] = np.einsum("ncij,ocij->no", patch, w)
        assert np.array_equal(got.reshape(2, 4, ho, wo), want)


def _tiny_spec():
    """A 1-channel 4x4 image -> conv 2@3x3 (pad 1, ReLU) -> maxpool 2 -> flatten -> linear 3 outputs."""
    rng = np.random.default_rng(3)
    conv_mult = [quantize_multiplier(m) for m in (0.01, 0.02)]
    lin_mult = [quantize_multiplier(m) for m in (0.03, 0.04, 0.05)]
    conv = {"op": "conv", "weight": rng.integers(-127, 128, (2, 1, 3, 3)).astype(np.int8),
            "bias": np.array([100, -50], np.int32), "stride": 1, "padding": 1, "in_zero_point": -10,
            "out_zero_point": -128, "relu": True, "multiplier": np.array([m for m, _ in conv_mult]),
            "shift": np.array([s for _, s in conv_mult])}
    lin = {"op": "linear", "weight": rng.integers(-127, 128, (3, 8)).astype(np.int8), "bias": np.zeros(3, np.int32),
           "in_zero_point": -128, "out_zero_point": 5, "relu": False, "multiplier": np.array([m for m, _ in lin_mult]),
           "shift": np.array([s for _, s in lin_mult])}
    return {"input": {"mean": [0.5], "std": [0.25], "scale": 0.02, "zero_point": -10}, "qmin": -128, "qmax": 127,
            "steps": [conv, {"op": "maxpool", "kernel": 2}, {"op": "flatten"}, lin],
            "output": {"scale": 0.1, "zero_point": 5}}


def test_reference_on_a_tiny_network_step_by_step():
    spec = _tiny_spec()
    ref = Int8Reference(spec)
    images = np.random.default_rng(4).integers(0, 256, (3, 4, 4)).astype(np.uint8)
    codes = ref.codes(images)
    x = (images[:, None].astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.25)
    assert np.array_equal(codes[0], np.clip(np.rint(x * np.float32(1 / 0.02)) - 10, -128, 127))
    conv = spec["steps"][0]
    xp = np.pad(codes[0], ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-10) + 10   # padding is 0.0
    acc = np.zeros((3, 2, 4, 4), np.int64)
    for i in range(4):
        for j in range(4):
            acc[:, :, i, j] = np.einsum("ncij,ocij->no", xp[:, :, i:i + 3, j:j + 3], conv["weight"].astype(np.int64))
    acc += conv["bias"][None, :, None, None]
    want = np.stack([requantize(acc[:, o], conv["multiplier"][o], conv["shift"][o], -128, -128, 127) for o in range(2)],
                    1)
    assert np.array_equal(codes[1], want) and codes[1].min() >= -128                    # ReLU: clamped at z
    assert np.array_equal(codes[2], want.reshape(3, 2, 2, 2, 2, 2).max(axis=(3, 5)))
    assert np.array_equal(codes[3], codes[2].reshape(3, 8))
    lin = spec["steps"][3]
    acc = (codes[3].astype(np.int64) + 128) @ lin["weight"].T.astype(np.int64)
    assert np.array_equal(codes[4], requantize(acc, lin["multiplier"], lin["shift"], 5, -128, 127))
    assert np.allclose(ref.logits(images), (codes[4] - 5) * 0.1)
    assert np.array_equal(ref.predict(images), ref.logits(images).argmax(1))


def test_bad_input_is_refused_naming_the_parameter():
    raises(TypeError, "spec must be a dict (Int8Model.spec), got list.", Int8Reference, [])
    raises(ValueError, "spec lacks ['output', 'qmin', 'qmax'], must be an Int8Model.spec.", Int8Reference,
           {"input": {}, "steps": []})
    raises(ValueError, "multiplier == 0.0, must be > 0.", quantize_multiplier, 0.0)
    raises(ValueError, "multiplier == 1073741824.0, must be < 2**30.", quantize_multiplier, 2.0 ** 30)
    with pytest.raises(TypeError, match="multiplier"):
        quantize_multiplier("0.5")
    with pytest.raises(ValueError, match="multiplier"):
        quantize_multiplier(float("nan"))
    ref = Int8Reference(_tiny_spec())
    raises(TypeError, "images must be a uint8 array as returned by course_lib.data, got dtype float64.",
           ref.input_codes, np.zeros((1, 4, 4)))
    raises(ValueError, "images have 3 channel(s), the model expects 1.", ref.input_codes,
           np.zeros((1, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="^i == 9"):
        ref.step(9, np.zeros((1, 1, 4, 4), np.int32))
    with pytest.raises(TypeError, match="^codes "):
        ref.step(0, np.zeros((1, 1, 4, 4)))
