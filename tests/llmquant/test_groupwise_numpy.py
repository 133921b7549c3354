"""Group-wise RTN: error <= scale/2, scale and zero point by hand, exact bytes, bit packing, per-channel agreement."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.llmquant.groupwise import (
    dequantize_groups,
    group_quantize,
    pack_bits,
    rtn_dequantized,
    stored_bytes,
    unpack_bits,
)
from course_lib.quantization import quantize


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), bits=st.integers(2, 8), out=st.integers(1, 5), groups=st.integers(1, 4),
       group_size=st.sampled_from([1, 2, 3, 8, 32]), symmetric=st.booleans(),
       scale_dtype=st.sampled_from(["float16", "float32", "float64"]), spread=st.sampled_from([1e-3, 1.0, 300.0]))
def test_every_element_within_half_its_stored_scale(seed, bits, out, groups, group_size, symmetric, scale_dtype,
                                                    spread):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((out, groups * group_size)) * spread + rng.uniform(-1, 1) * spread
    q = group_quantize(w, bits, group_size, symmetric=symmetric, scale_dtype=scale_dtype)
    assert q.scales.dtype == np.dtype(scale_dtype) and q.scales.shape == (out, groups)
    deq = dequantize_groups(q.codes, q.scales, q.zero_points, group_size)
    per_element = np.repeat(q.scales.astype(np.float64), group_size, axis=1)
    assert np.all(np.abs(deq - w) <= per_element / 2 * (1 + 1e-12))
    half = 2 ** (bits - 1)
    if symmetric:
        assert q.codes.min() >= -(half - 1) and q.codes.max() <= half - 1 and not q.zero_points.any()
    else:
        assert q.codes.min() >= 0 and q.codes.max() <= 2**bits - 1
        assert q.zero_points.min() >= 0 and q.zero_points.max() <= 2**bits - 1


def test_scale_and_zero_point_by_hand():
    w = np.array([[0.5, -1.0, 0.2, 0.1, 3.0, 1.0]])
    sym = group_quantize(w, 3, 3, symmetric=True, scale_dtype="float64")
    assert sym.scales.tolist() == [[1.0 / 3, 3.0 / 3]]  # max|w| / (2^2 - 1)
    assert sym.codes.tolist() == [[2, -3, 1, 0, 3, 1]]
    asym = group_quantize(w, 3, 3, symmetric=False, scale_dtype="float64")
    np.testing.assert_allclose(asym.scales, [[1.5 / 7, 3.0 / 7]])  # (hi - lo) / (2^3 - 1), 0 inside [lo, hi]
    assert asym.zero_points.tolist() == [[round(1.0 / (1.5 / 7)), 0]]  # -round(lo / s); lo = 0 for the 2nd
    # float16 scales are rounded up, never down: the stored scale >= the exact one, by less than one float16 step
    f16 = group_quantize(w, 3, 3, symmetric=True).scales.astype(np.float64)
    exact = np.array([[1.0 / 3, 1.0]])
    assert np.all(f16 >= exact) and np.all(f16 - exact < np.spacing(exact.astype(np.float16)).astype(np.float64))


def test_constant_groups_are_exact_when_asymmetric():
    w = np.repeat(np.array([[0.37, -2.5, 0.0, 1e-3]]), 8, axis=1).reshape(2, 16)
    for bits in (2, 4, 8):
        q = group_quantize(w, bits, 4, symmetric=False, scale_dtype="float64")
        deq = dequantize_groups(q.codes, q.scales, q.zero_points, 4)
        np.testing.assert_allclose(deq, w, rtol=4 * np.finfo(float).eps, atol=0)
    # values on a float16 grid come back exactly, whatever the storage dtype
    grid = np.array([[-3.0, 0.0, 1.0, 4.0]]) * 0.25
    for dtype in ("float16", "float32", "float64"):
        q = group_quantize(grid, 3, 4, symmetric=False, scale_dtype=dtype)
        assert np.array_equal(dequantize_groups(q.codes, q.scales, q.zero_points, 4), grid)


def test_per_channel_agrees_with_the_course_quantizer():
    w = np.random.default_rng(1).standard_normal((16, 40))
    for group_size in (40, None):
        q = group_quantize(w, 4, group_size, scale_dtype="float64")
        ref = quantize(w, bits=4, scale=q.scales[:, 0], zero_point=0, axis=0)
        assert np.array_equal(q.codes, ref)
    # groups are independent per-channel quantizations of the column blocks
    g = group_quantize(w, 3, 8, symmetric=False)
    for k in range(5):
        one = group_quantize(w[:, 8 * k:8 * k + 8], 3, 8, symmetric=False)
        assert np.array_equal(one.codes, g.codes[:, 8 * k:8 * k + 8]) and np.array_equal(one.scales[:, 0],
                                                                                          g.scales[:, k])
    assert np.array_equal(rtn_dequantized(w, 3, 8, symmetric=False),
                          dequantize_groups(g.codes, g.scales, g.zero_points, 8))


@pytest.mark.parametrize("bits", range(2, 9))
def test_pack_unpack_round_trip(bits):
    v = np.random.default_rng(bits).integers(0, 2**bits, size=101)
    data = pack_bits(v, bits)
    assert len(data) == math.ceil(101 * bits / 8)
    assert np.array_equal(unpack_bits(data, bits, 101), v)
    # an independent encoding: the binary digits as text
    text = "".join(format(int(x), f"0{bits}b") for x in v)
    text += "0" * (-len(text) % 8)
    assert data == int(text, 2).to_bytes(len(text) // 8, "big")


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("bits,group_size,dtype", [(4, 8, "float16"), (3, 5, "float16"), (2, 40, "float32"),
                                                   (8, 1, "float64"), (3, None, "float16")])
def test_stored_bytes_is_the_packed_length(symmetric, bits, group_size, dtype):
    out, columns = 7, 40
    w = np.random.default_rng(0).standard_normal((out, columns))
    q = group_quantize(w, bits, group_size, symmetric=symmetric, scale_dtype=dtype)
    offset = 2 ** (bits - 1) if symmetric else 0
    packed = len(pack_bits(q.codes.astype(np.int64) + offset, bits)) + q.scales.nbytes
    if not symmetric:
        packed += len(pack_bits(q.zero_points.astype(np.int64), bits))
    assert stored_bytes(out, columns, bits, group_size, symmetric=symmetric, scale_dtype=dtype) == packed


def test_stored_bytes_counted_by_hand():
    # 3 x 10 weights, 3 bits, groups of 5: 90 code bits -> 12 bytes; 6 float16 scales = 12; 18 zero bits -> 3
    assert stored_bytes(3, 10, 3, 5) == 24
    assert stored_bytes(3, 10, 3, 5, symmetric=False) == 27
    assert stored_bytes(4096, 4096, 4, 128, symmetric=False) == 4096 * 4096 // 2 + 4096 * 32 * 2 + 4096 * 32 // 2
    # 4-bit with float16 scales per 128 columns: 4.125 bits per weight
    assert stored_bytes(128, 1024, 4, 128) * 8 / (128 * 1024) == 4.125
