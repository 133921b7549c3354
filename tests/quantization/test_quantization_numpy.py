"""Quantization in NumPy: the seed's scheme, the uniform quantizer, ranges, tensors, storage. No torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.quantization import (
    FLOAT16_MAX,
    MAX_INT8_DOT_LENGTH,
    QTensor,
    choose_range,
    dequantize,
    dequantize_product,
    dequantize_seed,
    fake_quantize,
    int8_bytes,
    int8_matmul,
    qparams,
    qrange,
    quantization_error,
    quantize,
    quantize_seed,
    quantize_tensor,
    seed_matvec,
    to_float16,
)

from helpers import raises

SEED_W = [[-0.18120981, -0.29043840], [0.49722983, 0.22141714]]


SEED_X = [0.77412377, 0.49299395]


QUESTION_4 = [[3.0, -0.5], [1.0, 2.0]]


EPS32 = float(np.finfo(np.float32).eps)


def test_seed_example_number_for_number():
    r = seed_matvec(SEED_W, SEED_X)
    assert r["w_q"].dtype == np.int8 and r["x_q"].dtype == np.int8 and r["acc"].dtype == np.int32
    np.testing.assert_array_equal(r["w_q"], [[-24, -38], [63, 28]])
    np.testing.assert_array_equal(r["x_q"], [99, 63])
    # -24*99 - 38*63 = -2376 - 2394 = -4770 (the slide lost the minus sign); 63*99 + 28*63 = 6237 + 1764 = 8001
    np.testing.assert_array_equal(r["acc"], [-4770, 8001])
    np.testing.assert_array_equal(r["y"], [-4770 / 16384, 8001 / 16384])  # a = 1: 16384 = 128 * 128
    np.testing.assert_allclose(r["y"], [-0.2911377, 0.48834229], atol=1e-7)
    np.testing.assert_allclose(r["y_float"], [-0.28346319, 0.49407474], atol=1e-7)
    # the documented error: y - y_float, within sum_j (|w_ij| s + |x_j| s + s^2), s = 1/128
    np.testing.assert_allclose(r["error"], [-0.2911377 + 0.28346319, 0.48834229 - 0.49407474], atol=2e-7)
    s = 1 / 128
    bound = np.array([(0.18120981 + 0.29043840) * s, (0.49722983 + 0.22141714) * s])
    bound += (0.77412377 + 0.49299395) * s + 2 * s * s
    np.testing.assert_allclose(r["error_bound"], bound)
    assert np.all(np.abs(r["error"]) <= r["error_bound"])


def test_seed_steps_separately():
    np.testing.assert_array_equal(quantize_seed(SEED_W, 1.0), [[-24, -38], [63, 28]])
    w_q, x_q = quantize_seed(SEED_W, 1.0), quantize_seed(SEED_X, 1.0)
    np.testing.assert_array_equal(int8_matmul(w_q, x_q), [-4770, 8001])
    np.testing.assert_array_equal(dequantize_seed(x_q, 1.0), [99 / 128, 63 / 128])
    np.testing.assert_array_equal(dequantize_product(np.array([-4770, 8001], dtype=np.int32), 1.0, 1.0),
                                  [-4770 / 16384, 8001 / 16384])
    # general ranges: acc * a_w * a_x / 16384
    np.testing.assert_array_equal(dequantize_product([16384], 2.0, 0.5), [1.0])
    r = seed_matvec(np.array(SEED_W) * 4, np.array(SEED_X) * 0.5, a_w=4.0, a_x=0.5)
    np.testing.assert_array_equal(r["acc"], [-4770, 8001])  # same codes: the ranges scaled with the data
    np.testing.assert_allclose(r["y"], np.array([-4770, 8001]) * 2.0 / 16384)


def test_question_4_max_abs_floor_codes():
    x = np.array(QUESTION_4)
    a = choose_range(x)  # max-abs
    assert a == 3.0
    # by hand: 128*3/3 = 128 (too big for int8), 128*(-0.5)/3 = -21.33 -> -22, 128/3 = 42.67 -> 42, 256/3 = 85.33 -> 85
    np.testing.assert_array_equal(np.floor(128 * x / a), [[128, -22], [42, 85]])
    q = quantize_seed(x, a)
    np.testing.assert_array_equal(q, [[127, -22], [42, 85]])  # 128 clipped to 127
    assert q.dtype == np.int8
    # values outside [-a, a) are clipped to the ends too
    np.testing.assert_array_equal(quantize_seed([-7.0, 7.0, -3.0], 3.0), [-128, 127, -128])


def test_seed_matvec_batch_of_columns_matches_vectors():
    rng = np.random.default_rng(0)
    w, x = rng.uniform(-1, 1, (3, 5)), rng.uniform(-1, 1, (5, 4))
    r = seed_matvec(w, x)
    assert r["acc"].shape == (3, 4) and r["error_bound"].shape == (3, 4)
    for b in range(4):
        rb = seed_matvec(w, x[:, b])
        np.testing.assert_array_equal(r["acc"][:, b], rb["acc"])
        np.testing.assert_allclose(r["error_bound"][:, b], rb["error_bound"])


def test_int8_matmul_matrix_by_hand_and_against_int64():
    w_q = np.array([[1, -2, 3], [-128, 127, 0]], dtype=np.int8)
    x_q = np.array([[1, 2], [3, 4], [5, -128]], dtype=np.int8)
    acc = int8_matmul(w_q, x_q)
    assert acc.dtype == np.int32
    np.testing.assert_array_equal(acc, [[1 - 6 + 15, 2 - 8 - 384], [-128 + 381, -256 + 508]])
    rng = np.random.default_rng(1)
    w_q = rng.integers(-128, 128, (7, 300), dtype=np.int8)
    x_q = rng.integers(-128, 128, (300, 5), dtype=np.int8)
    np.testing.assert_array_equal(int8_matmul(w_q, x_q), w_q.astype(np.int64) @ x_q.astype(np.int64))


def test_int32_accumulator_does_not_overflow_up_to_the_documented_length():
    assert MAX_INT8_DOT_LENGTH == 131071 == (2**31 - 1) // 16384
    row = np.full((1, 4096), -128, dtype=np.int8)
    np.testing.assert_array_equal(int8_matmul(row, row[0]), [4096 * 16384])
    assert int(int8_matmul(row, row[0])[0]) == 67108864
    row = np.full((1, MAX_INT8_DOT_LENGTH), -128, dtype=np.int8)
    assert int(int8_matmul(row, row[0])[0]) == 131071 * 16384 == 2147467264 <= np.iinfo(np.int32).max
    # one more would reach 2^31, which int32 cannot hold: it would wrap to -2^31, so it is refused
    longer = np.full((1, 131072), -128, dtype=np.int8)
    assert np.sum(np.full(131072, 16384, dtype=np.int32), dtype=np.int32) == -(2**31)
    raises(ValueError, "in == 131072 (w_q.shape[1]), must be <= 131071 so that the int32 sum cannot overflow.",
           int8_matmul, longer, longer[0])


def test_quantize_by_hand_ties_to_even_floor_and_clipping():
    x = [0.25, 0.75, 1.25, -0.25, -0.75, 100.0, -100.0]  # 0.5, 1.5, 2.5, -0.5, -1.5 steps, then far out
    np.testing.assert_array_equal(quantize(x, scale=0.5), [0, 2, 2, 0, -2, 127, -128])
    np.testing.assert_array_equal(quantize(x, scale=0.5, rounding="floor"), [0, 1, 2, -1, -2, 127, -128])
    np.testing.assert_array_equal(quantize(x, bits=4, scale=0.5, zero_point=3), [3, 5, 5, 3, 1, 7, -8])
    assert quantize(x, scale=0.5).dtype == np.int8
    assert qrange(2) == (-2, 1) and qrange(8) == (-128, 127)


def test_dequantize_and_fake_quantize_by_hand():
    np.testing.assert_array_equal(dequantize(np.array([0, 2, 127], dtype=np.int8), scale=0.5), [0.0, 1.0, 63.5])
    np.testing.assert_array_equal(dequantize(np.array([-128, 127], dtype=np.int8), scale=1.0, zero_point=-128),
                                  [0.0, 255.0])  # computed after casting: no int8 overflow
    np.testing.assert_array_equal(fake_quantize([0.3, -1.0, 9.0], bits=4, scale=0.5), [0.5, -1.0, 3.5])
    y = fake_quantize(np.array([0.3, 0.7], dtype=np.float32), scale=0.25)
    assert y.dtype == np.float32 and y.tolist() == [0.25, 0.75]


def test_per_channel_quantize_by_hand():
    x = np.array(QUESTION_4)
    q = quantize(x, scale=[3 / 127, 2 / 127], axis=0)
    np.testing.assert_array_equal(q, [[127, -21], [64, 127]])  # row 1: 127/2 = 63.5 -> 64 (half to even)
    q = quantize(x, scale=[1.0, 0.5], zero_point=[0, 1], axis=1)  # columns
    np.testing.assert_array_equal(q, [[3, 0], [1, 5]])
    np.testing.assert_array_equal(dequantize(q, scale=[1.0, 0.5], zero_point=[0, 1], axis=-1), [[3, -0.5], [1, 2]])


def test_choose_range_by_hand():
    x = np.array(QUESTION_4)
    assert choose_range(x) == 3.0
    np.testing.assert_array_equal(choose_range(x, axis=0), [3.0, 2.0])
    np.testing.assert_array_equal(choose_range(x, axis=1), [3.0, 2.0])
    assert choose_range(x, method="percentile", percentile=100) == 3.0
    assert choose_range(x, method="percentile", percentile=50) == 1.5  # median of |x| = 0.5, 1, 2, 3
    assert choose_range(np.zeros((2, 3)), method="mse") == 0.0
    np.testing.assert_array_equal(choose_range(np.array([[0.0, 0.0], [1.0, -4.0]]), method="mse", axis=0),
                                  [0.0, 4.0])  # values on the grid of max-abs: no smaller range does better


def test_mse_range_clips_an_outlier_and_never_loses_to_max_abs():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(2000), [40.0]])
    for bits in (4, 8):
        a_mse, a_max = choose_range(x, method="mse", bits=bits), choose_range(x, bits=bits)
        assert a_max == 40.0 and a_mse < a_max
        errors = {}
        for name, a in (("mse", a_mse), ("max", a_max)):
            qmax = 2 ** (bits - 1) - 1
            errors[name] = np.mean((x - fake_quantize(x, bits=bits, scale=a / qmax)) ** 2)
        assert errors["mse"] < errors["max"]
    assert choose_range(x, method="mse", bits=4) < choose_range(x, method="mse", bits=8)  # fewer bits, tighter
    assert choose_range(x, method="percentile", percentile=99.9) < 5.0


def test_quantize_tensor_by_hand_and_storage():
    x = np.array(QUESTION_4)
    qt = quantize_tensor(x)
    assert isinstance(qt, QTensor) and qt.bits == 8 and qt.axis is None and qt.shape == (2, 2)
    assert qt.scale == 3 / 127 and qt.zero_point == 0
    np.testing.assert_array_equal(qt.q, [[127, -21], [42, 85]])  # -63.5/3 = -21.17, 42.33, 84.67
    np.testing.assert_allclose(qt.dequantize(), qt.q.astype(np.float64) * 3 / 127)  # cast first: int8 * 3 wraps
    assert qt.nbytes == 4 + 4  # 4 one-byte codes + one float32 scale
    qc = quantize_tensor(x, per_channel_axis=0)
    np.testing.assert_array_equal(qc.scale, [3 / 127, 2 / 127])
    np.testing.assert_array_equal(qc.q, [[127, -21], [64, 127]])
    assert qc.nbytes == 4 + 2 * 4
    qa = quantize_tensor(x, symmetric=False)  # [-0.5, 3]: scale 3.5/255, zero point -128 + 36
    assert qa.scale == 3.5 / 255 and qa.zero_point == -92
    assert qa.nbytes == 4 + 4 + 4  # a scale and a zero point
    q4 = quantize_tensor(x, bits=4)
    assert q4.q.dtype == np.int8 and q4.nbytes == 8 and q4.q.max() == 7  # no bit packing
    np.testing.assert_array_equal(quantize_tensor(x, rounding="floor").q, [[127, -22], [42, 84]])


def test_quantization_error_by_hand():
    x = np.array([1.0, -0.3])
    qt = quantize_tensor(x)  # scale 1/127; -0.3 * 127 = -38.1 -> -38
    err = quantization_error(x, qt)
    assert err["step"] == 1 / 127
    assert err["max_abs"] == pytest.approx(0.3 - 38 / 127)
    assert err["mse"] == pytest.approx((0.3 - 38 / 127) ** 2 / 2)


def test_to_float16_by_hand_and_overflow():
    y = to_float16([1.0, 1.0 + 2.0**-11, 1.0 + 2.0**-10, 65504.0, 65519.0, -65519.0])
    assert y.dtype == np.float16
    assert y.tolist() == [1.0, 1.0, 1.0 + 2.0**-10, 65504.0, 65504.0, -65504.0]  # 1 + u: tie to even
    assert FLOAT16_MAX == float(np.finfo(np.float16).max)
    raises(ValueError, "x holds 2 value(s) that overflow float16 (largest |x| == 70000), "
           "must be < 65520 (the largest float16 is 65504).", to_float16, [1.0, 65520.0, -70000.0])
    assert to_float16([2.0**-26]).tolist() == [0.0]  # below half the smallest subnormal


ranges = st.floats(1e-3, 1e3)


fractions = hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-1, 1, exclude_max=True))


@settings(max_examples=100, deadline=None)
@given(fractions, ranges)
def test_floor_error_is_within_one_step_from_below(u, a):
    x = u * a  # in [-a, a)
    err = x - dequantize_seed(quantize_seed(x, a), a)
    tiny = 1e-12 * a  # one rounding of the float division
    assert np.all(err >= -tiny) and np.all(err < a / 128 + tiny)


@settings(max_examples=100, deadline=None)
@given(fractions, st.integers(2, 8), st.floats(1e-4, 1e2), st.data())
def test_nearest_error_is_at_most_half_a_step_within_range(u, bits, scale, data):
    qmin, qmax = qrange(bits)
    zero_point = data.draw(st.integers(qmin, qmax))
    lo, hi = (qmin - zero_point) * scale, (qmax - zero_point) * scale
    x = lo + (u + 1) / 2 * (hi - lo)  # within the representable range
    err = np.abs(x - fake_quantize(x, bits=bits, scale=scale, zero_point=zero_point))
    assert np.all(err <= scale / 2 * (1 + 1e-9))
    err = x - fake_quantize(x, bits=bits, scale=scale, zero_point=zero_point, rounding="floor")
    assert np.all(err >= -1e-9 * scale) and np.all(err < scale * (1 + 1e-9))


@settings(max_examples=100, deadline=None)
@given(fractions, st.integers(2, 8), st.floats(1e-4, 1e2), st.data())
def test_quantize_dequantize_is_idempotent_on_the_grid(u, bits, scale, data):
    qmin, qmax = qrange(bits)
    zero_point = data.draw(st.integers(qmin, qmax))
    x = u * 200 * scale  # also beyond the range
    once = fake_quantize(x, bits=bits, scale=scale, zero_point=zero_point)
    np.testing.assert_array_equal(fake_quantize(once, bits=bits, scale=scale, zero_point=zero_point), once)
    codes = data.draw(hnp.arrays(np.int8, 8, elements=st.integers(qmin, qmax)))
    back = quantize(dequantize(codes, scale=scale, zero_point=zero_point), bits=bits, scale=scale,
                    zero_point=zero_point)
    np.testing.assert_array_equal(back, codes)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, (4, 6), elements=st.floats(-1, 1)),
       hnp.arrays(np.float64, 4, elements=st.floats(1e-3, 1e3)), st.integers(2, 8))
def test_per_channel_error_is_within_the_per_tensor_bound(w, row_scales, bits):
    w = w * row_scales[:, None]  # rows of very different sizes
    per_tensor = quantize_tensor(w, bits=bits)
    per_channel = quantize_tensor(w, bits=bits, per_channel_axis=0)
    assert np.all(per_channel.scale <= per_tensor.scale)
    err_c = np.abs(w - per_channel.dequantize())
    assert np.all(err_c <= per_channel.scale[:, None] / 2 * (1 + 1e-9) + 1e-300)  # each row: half its step
    assert quantization_error(w, per_channel)["max_abs"] <= per_tensor.scale / 2 * (1 + 1e-9)


def test_per_channel_error_is_smaller_on_weights_with_different_row_scales():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((16, 64)) * np.logspace(-2, 0, 16)[:, None]
    e_t = quantization_error(w, quantize_tensor(w))
    e_c = quantization_error(w, quantize_tensor(w, per_channel_axis=0))
    assert e_c["max_abs"] <= e_t["max_abs"] and e_c["mse"] < e_t["mse"] / 5


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.integers(2, 40), elements=st.floats(-100, 100)), st.integers(2, 8))
def test_mse_range_never_loses_to_max_abs(x, bits):
    qmax = 2 ** (bits - 1) - 1
    mse = {}
    for method in ("mse", "maxabs"):
        a = choose_range(x, method=method, bits=bits)
        mse[method] = np.mean((x - fake_quantize(x, bits=bits, scale=max(a / qmax, EPS32))) ** 2)
    assert mse["mse"] <= mse["maxabs"] * (1 + 1e-9) + 1e-300


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, (3, 4), elements=st.floats(-1, 1)), hnp.arrays(np.float64, 4, elements=st.floats(-1, 1)),
       st.floats(0.1, 10), st.floats(0.1, 10))
def test_seed_matvec_error_within_documented_bound(w, x, a_w, a_x):
    r = seed_matvec(w * a_w, x * a_x, a_w=a_w, a_x=a_x)
    np.testing.assert_array_equal(r["acc"], r["w_q"].astype(np.int64) @ r["x_q"].astype(np.int64))
    assert np.all(np.abs(r["error"]) <= r["error_bound"] * (1 + 1e-9))


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 20),
                  elements=st.floats(2.0**-14, 65504.0) | st.floats(-65504.0, -(2.0**-14))))
def test_float16_relative_error_of_normal_values(x):
    assert np.all(np.abs(to_float16(x).astype(np.float64) - x) <= 2.0**-11 * np.abs(x))


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-(2.0**-14), 2.0**-14)))
def test_float16_absolute_error_of_subnormal_values(x):
    assert np.all(np.abs(to_float16(x).astype(np.float64) - x) <= 2.0**-25)


I8 = np.array([[1, 2]], dtype=np.int8)


BAD_INPUT = [
    # ranges
    (ValueError, "a == 0.0, must be > 0.", quantize_seed, ([1.0], 0.0), {}),
    (ValueError, "a == -1.0, must be > 0.", quantize_seed, ([1.0], -1), {}),
    (ValueError, "a == nan, must be finite.", quantize_seed, ([1.0], float("nan")), {}),
    (ValueError, "a == inf, must be finite.", dequantize_seed, ([1], float("inf")), {}),
    (TypeError, "a must be a real number, got bool (True).", quantize_seed, ([1.0], True), {}),
    (TypeError, "a must be a real number, got str ('1').", quantize_seed, ([1.0], "1"), {}),
    (ValueError, "a_w == 0.0, must be > 0.", dequantize_product, ([1], 0.0, 1.0), {}),
    (ValueError, "a_x == -2.0, must be > 0.", seed_matvec, (SEED_W, SEED_X), {"a_x": -2.0}),
    # float inputs
    (ValueError, "x contains 1 NaN or infinite value(s), must be finite.", quantize_seed, ([1.0, np.nan], 1.0), {}),
    (ValueError, "x contains 2 NaN or infinite value(s), must be finite.", quantize,
     ([np.inf, -np.inf],), {"scale": 1.0}),
    (ValueError, "x contains 1 NaN or infinite value(s), must be finite.", to_float16, ([np.inf],), {}),
    (TypeError, "x must be an array of floating-point numbers, got dtype int8.", quantize, (I8,), {"scale": 1.0}),
    (TypeError, "x must be an array of floating-point numbers, got dtype int64.", quantize_seed, ([1, 2], 1.0), {}),
    (TypeError, "x must be an array of floating-point numbers, got dtype int64.", to_float16, ([1, 2],), {}),
    (TypeError, "x must be an array of real numbers, got dtype complex128.", fake_quantize, ([1j],), {"scale": 1.0}),
    (TypeError, "x must be an array of real numbers, got dtype bool.", choose_range, ([True, False],), {}),
    (TypeError, "w must be an array of floating-point numbers, got dtype int64.", seed_matvec, ([[1, 2]], [1.0, 2.0]),
     {}),
    (ValueError, "x is empty (shape (0,)), must have at least one element.", quantize, ([],), {"scale": 1.0}),
    (ValueError, "x is empty (shape (2, 0)), must have at least one element.", quantize_tensor, (np.zeros((2, 0)),),
     {}),
    (ValueError, "x is empty (shape (0,)), must have at least one element.", to_float16, (np.zeros(0),), {}),
    # integer codes
    (TypeError, "q must be an array of integers, got dtype float64.", dequantize, ([1.0],), {"scale": 1.0}),
    (TypeError, "q must be an array of integers, got dtype bool.", dequantize_seed, ([True], 1.0), {}),
    (TypeError, "acc must be an array of integers, got dtype float64.", dequantize_product, ([1.5], 1.0, 1.0), {}),
    (ValueError, "q is empty (shape (0,)), must have at least one element.", dequantize,
     (np.zeros(0, dtype=np.int8),), {"scale": 1.0}),
    # int8_matmul
    (TypeError, "w_q must be an int8 array, got dtype int32.", int8_matmul, (I8.astype(np.int32), I8[0]), {}),
    (TypeError, "x_q must be an int8 array, got dtype float64.", int8_matmul, (I8, np.ones(2)), {}),
    (TypeError, "x_q must be an int8 array, got dtype uint8.", int8_matmul, (I8, np.ones(2, dtype=np.uint8)), {}),
    (ValueError, "w_q of shape (1, 2) and x_q of shape (3,) do not match: w_q.shape[1] == 2, must equal "
     "x_q.shape[0] == 3.", int8_matmul, (I8, np.ones(3, dtype=np.int8)), {}),
    (ValueError, "w_q has 1 dimension(s) (shape (2,)), must have 2.", int8_matmul, (I8[0], I8[0]), {}),
    (ValueError, "x_q has 3 dimension(s) (shape (2, 1, 1)), must have 1 or 2.", int8_matmul,
     (I8, np.ones((2, 1, 1), dtype=np.int8)), {}),
    (ValueError, "w_q is empty (shape (0, 2)), must have at least one element.", int8_matmul,
     (np.zeros((0, 2), dtype=np.int8), I8[0]), {}),
    (ValueError, "w of shape (2, 2) and x of shape (3,) do not match: w.shape[1] == 2, must equal x.shape[0] == 3.",
     seed_matvec, (SEED_W, [1.0, 2.0, 3.0]), {}),
    # bits, rounding, method, percentile, axis
    (ValueError, "bits == 9, must be <= 8.", quantize, ([1.0],), {"scale": 1.0, "bits": 9}),
    (ValueError, "bits == 1, must be >= 2.", quantize_tensor, ([1.0],), {"bits": 1}),
    (TypeError, "bits must be an int, got float (8.0).", qparams, (0.0, 1.0), {"bits": 8.0}),
    (TypeError, "bits must be an int, got bool (True).", choose_range, ([1.0],), {"bits": True}),
    (ValueError, "bits == 16, must be <= 8.", qrange, (16,), {}),
    (ValueError, "rounding == 'ceil', must be one of 'nearest', 'floor'.", quantize, ([1.0],),
     {"scale": 1.0, "rounding": "ceil"}),
    (TypeError, "rounding must be a str, got NoneType (None).", fake_quantize, ([1.0],), {"scale": 1.0,
                                                                                        "rounding": None}),
    (ValueError, "method == 'minmax', must be one of 'maxabs', 'percentile', 'mse'.", choose_range, ([1.0],),
     {"method": "minmax"}),
    (ValueError, "method == 'max', must be one of 'maxabs', 'percentile', 'mse'.", quantize_tensor, ([1.0],),
     {"method": "max"}),
    (ValueError, "percentile == 0.0, must be in (0, 100].", choose_range, ([1.0],), {"percentile": 0}),
    (ValueError, "percentile == 100.5, must be in (0, 100].", choose_range, ([1.0],), {"percentile": 100.5}),
    (ValueError, "percentile == nan, must be finite.", choose_range, ([1.0],), {"percentile": float("nan")}),
    (TypeError, "percentile must be a real number, got str ('99').", choose_range, ([1.0],), {"percentile": "99"}),
    (ValueError, "axis == 2, must be in [-2, 1] for an array with 2 dimension(s).", choose_range, (SEED_W,),
     {"axis": 2}),
    (ValueError, "axis == 0, must be None for a 0-dimensional array.", quantize, (1.0,),
     {"scale": 1.0, "axis": 0}),
    (TypeError, "axis must be an int or None, got float (0.0).", quantize, ([1.0],), {"scale": 1.0, "axis": 0.0}),
    (ValueError, "per_channel_axis == -3, must be in [-2, 1] for an array with 2 dimension(s).", quantize_tensor,
     (SEED_W,), {"per_channel_axis": -3}),
    (TypeError, "per_channel_axis must be an int or None, got bool (True).", quantize_tensor, (SEED_W,),
     {"per_channel_axis": True}),
    # scale and zero point
    (ValueError, "scale == 0.0, must be > 0.", quantize, ([1.0],), {"scale": 0.0}),
    (ValueError, "scale == nan, must be finite.", dequantize, ([1],), {"scale": float("nan")}),
    (TypeError, "scale must be a real number, got list ([0.1, 0.2]).", quantize, ([1.0, 2.0],), {"scale": [0.1, 0.2]}),
    (ValueError, "scale has shape (3,), must be (2,): one per channel along axis 0.", quantize, (SEED_W,),
     {"scale": [1.0, 1.0, 1.0], "axis": 0}),
    (ValueError, "scale holds 1 value(s) <= 0, must be > 0.", fake_quantize, (SEED_W,),
     {"scale": [1.0, 0.0], "axis": 1}),
    (ValueError, "zero_point == 128, must be <= 127.", quantize, ([1.0],), {"scale": 1.0, "zero_point": 128}),
    (ValueError, "zero_point == -9, must be >= -8.", quantize, ([1.0],), {"scale": 1.0, "zero_point": -9, "bits": 4}),
    (TypeError, "zero_point must be an int, got float (0.5).", quantize, ([1.0],), {"scale": 1.0, "zero_point": 0.5}),
    (TypeError, "zero_point must be an int or an array of integers, got dtype float64.", quantize, (SEED_W,),
     {"scale": 1.0, "zero_point": [0.0, 1.0], "axis": 0}),
    (ValueError, "zero_point holds 1 value(s) outside [-2, 1], must be within the code range.", quantize, (SEED_W,),
     {"scale": 1.0, "zero_point": [0, 2], "axis": 0, "bits": 2}),
    (ValueError, "zero_point has shape (3,), must be () or (2,): one per channel along axis 1.", dequantize,
     (I8,), {"scale": 1.0, "zero_point": [0, 0, 0], "axis": 1}),
    # qparams
    (ValueError, "x_min == 2.0, must be <= x_max == 1.0.", qparams, (2.0, 1.0), {}),
    (ValueError, "x_min > x_max at 1 position(s), must be x_min <= x_max.", qparams, ([0.0, 2.0], [1.0, 1.0]), {}),
    (ValueError, "x_min has shape (2,) and x_max has shape (3,), must be the same.", qparams, ([0.0, 0.0], [1.0] * 3),
     {}),
    (ValueError, "x_max contains 1 NaN or infinite value(s), must be finite.", qparams, (0.0, float("inf")), {}),
    (TypeError, "x_min must be an array of real numbers, got dtype bool.", qparams, (False, 1.0), {}),
    (TypeError, "symmetric must be True or False, got str ('yes').", qparams, (0.0, 1.0), {"symmetric": "yes"}),
    (TypeError, "symmetric must be True or False, got int (1).", quantize_tensor, ([1.0],), {"symmetric": 1}),
    # quantization_error, float16, storage
    (TypeError, "qt must be a QTensor (see quantize_tensor), got ndarray.", quantization_error, ([1.0], I8), {}),
    (ValueError, "x holds 1 value(s) that overflow float16 (largest |x| == 1e+06), must be < 65520 "
     "(the largest float16 is 65504).", to_float16, ([1e6],), {}),
    (TypeError, "affine must be True or False, got str ('no').", int8_bytes, (SEED_W,), {"affine": "no"}),
]


@pytest.mark.parametrize("exc, message, fn, args, kwargs", BAD_INPUT,
                         ids=[f"{case[2].__name__}-{i}" for i, case in enumerate(BAD_INPUT)])
def test_bad_input_exact_messages(exc, message, fn, args, kwargs):
    raises(exc, message, fn, *args, **kwargs)


def test_quantization_error_shape_mismatch_and_long_rows():
    qt = quantize_tensor(np.array(QUESTION_4))
    raises(ValueError, "x has shape (4,), must be (2, 2) (the shape of qt.q).", quantization_error, np.zeros(4), qt)
    w_q = np.zeros((1, 131072), dtype=np.int8)
    raises(ValueError, "in == 131072 (w_q.shape[1]), must be <= 131071 so that the int32 sum cannot overflow.",
           int8_matmul, w_q, np.zeros(131072, dtype=np.int8))


@pytest.mark.parametrize("n", [1, 2, 3, 784, 4096, 131071, 131072, 10**6])
def test_accumulator_bits_is_the_narrowest_safe_width(n):
    from course_lib.quantization import accumulator_bits

    b = accumulator_bits(n)
    worst = n * (-128) * (-128)  # the largest sum; the most negative, n * -128 * 127, is smaller in magnitude
    assert worst <= 2 ** (b - 1) - 1 and worst > 2 ** (b - 2) - 1


def test_accumulator_bits_bad_input():
    from course_lib.quantization import accumulator_bits

    with pytest.raises(ValueError, match="n_terms == 0, must be >= 1"):
        accumulator_bits(0)
    with pytest.raises(TypeError, match="n_terms"):
        accumulator_bits(3.0)
