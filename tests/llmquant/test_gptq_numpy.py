"""GPTQ against an explicit-inverse OBQ re-implementation (eq. 3), blocked == unblocked, H ~ I gives RTN, beats RTN."""

import numpy as np
import pytest

from course_lib.llmquant.gptq import gptq_hessian, gptq_quantize
from course_lib.llmquant.groupwise import dequantize_groups, group_params, group_quantize, quantize_groups


def obq_reference(w, x, bits, group_size, *, symmetric=True, act_order=False, percdamp=0.01):
    """The paper's update with the inverse Hessian of the remaining columns kept explicitly (eq. 3)."""
    w = np.array(w, dtype=np.float64)
    h = 2 * x.T @ x / len(x)
    columns = w.shape[1]
    for j in range(columns):  # dead inputs, one at a time
        if h[j, j] == 0:
            h[j, j] = 1.0
            w[:, j] = 0.0
    order = sorted(range(columns), key=lambda j: -h[j, j]) if act_order else list(range(columns))
    w, h = w[:, order], h[np.ix_(order, order)]
    h = h + percdamp * np.trace(h) / columns * np.eye(columns)
    h_inv = np.linalg.inv(h)
    codes = np.zeros(w.shape, dtype=np.int64)
    deq = np.zeros(w.shape)
    for j in range(columns):
        if j % group_size == 0:
            scale, zero = group_params(w[:, j:j + group_size], bits, symmetric)
        codes[:, j] = quantize_groups(w[:, j:j + 1], scale, zero, bits, symmetric)[:, 0]
        deq[:, j] = (codes[:, j] - zero) * scale.astype(np.float64)
        # OBS: the remaining columns F = j+1.. compensate the error of column j
        w[:, j + 1:] -= np.outer((w[:, j] - deq[:, j]) / h_inv[j, j], h_inv[j, j + 1:])
        w[:, j] = deq[:, j]
        # eq. 3: the inverse Hessian of F without j, by one step of Gaussian elimination
        h_inv = h_inv - np.outer(h_inv[:, j], h_inv[j, :]) / h_inv[j, j]
        if j + 1 < columns and j < 6:  # checked against a fresh inverse of H restricted to F
            np.testing.assert_allclose(h_inv[j + 1:, j + 1:], np.linalg.inv(h[j + 1:, j + 1:]), rtol=1e-7,
                                       atol=1e-9 * np.abs(h_inv).max())
    back = np.argsort(order)
    return codes[:, back], deq[:, back]


def correlated_inputs(rng, n, columns, outliers=0):
    mix = rng.standard_normal((columns, columns)) / np.sqrt(columns) + np.eye(columns)
    x = rng.standard_normal((n, columns)) @ mix
    x[:, :outliers] *= 10
    return x


@pytest.mark.parametrize("case", [
    dict(out=3, columns=4, bits=2, group_size=4, symmetric=True, act_order=False),
    dict(out=3, columns=4, bits=2, group_size=2, symmetric=False, act_order=True),
    dict(out=8, columns=24, bits=3, group_size=8, symmetric=True, act_order=False),
    dict(out=8, columns=24, bits=3, group_size=6, symmetric=False, act_order=True),
    dict(out=5, columns=30, bits=4, group_size=30, symmetric=True, act_order=True),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gptq_equals_the_explicit_inverse_reference(case, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((case["out"], case["columns"]))
    x = correlated_inputs(rng, 64, case["columns"], outliers=1)
    codes, deq = obq_reference(w, x, case["bits"], case["group_size"], symmetric=case["symmetric"],
                               act_order=case["act_order"])
    for block_size in (1, 3, 128):
        r = gptq_quantize(w, x, case["bits"], case["group_size"], symmetric=case["symmetric"],
                          act_order=case["act_order"], block_size=block_size)
        assert np.array_equal(r.codes, codes)
        np.testing.assert_allclose(r.dequantized, deq, rtol=0, atol=1e-12)
        back = dequantize_groups(r.codes, r.scales, r.zero_points, group_index=r.group_index)
        assert np.array_equal(back, r.dequantized)


@pytest.mark.parametrize("group_size,act_order", [(8, False), (12, True), (None, False), (96, True)])
def test_blocked_equals_unblocked(group_size, act_order):
    rng = np.random.default_rng(3)
    w = rng.standard_normal((16, 96))
    x = correlated_inputs(rng, 300, 96, outliers=3)
    whole = gptq_quantize(w, x, 3, group_size, act_order=act_order, block_size=96)
    for block_size in (1, 5, 7, 32, 50):
        r = gptq_quantize(w, x, 3, group_size, act_order=act_order, block_size=block_size)
        assert np.array_equal(r.codes, whole.codes) and np.array_equal(r.scales, whole.scales)
        np.testing.assert_allclose(r.dequantized, whole.dequantized, rtol=0, atol=1e-12)


@pytest.mark.parametrize("symmetric", [True, False])
def test_uncorrelated_inputs_give_round_to_nearest(symmetric):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((10, 32))
    # X^T X exactly diagonal (scaled unit vectors): H^{-1} is diagonal, nothing is fed forward
    # (act_order keeps equal diagonals in place; unequal ones would regroup the columns)
    for x, act_order in ((3.0 * np.eye(32), True), (np.diag(rng.uniform(0.5, 2.0, 32)), False)):
        r = gptq_quantize(w, x, 3, 8, symmetric=symmetric, act_order=act_order, block_size=5)
        rtn = group_quantize(w, 3, 8, symmetric=symmetric)
        assert np.array_equal(r.codes, rtn.codes) and np.array_equal(r.scales, rtn.scales)
        assert np.array_equal(r.dequantized, dequantize_groups(rtn.codes, rtn.scales, rtn.zero_points, 8))
    # identity covariance up to rounding (orthonormal columns): the same codes
    q, _ = np.linalg.qr(rng.standard_normal((200, 32)))
    x = q * np.sqrt(100.0)
    np.testing.assert_allclose(gptq_hessian(x), np.eye(32), atol=1e-12)
    assert np.array_equal(gptq_quantize(w, x, 3, 8, symmetric=symmetric).codes,
                          group_quantize(w, 3, 8, symmetric=symmetric).codes)


@pytest.mark.parametrize("bits", [4, 3])
@pytest.mark.parametrize("seed", range(4))
def test_gptq_output_error_below_round_to_nearest(bits, seed):
    rng = np.random.default_rng(10 + seed)
    w = rng.standard_normal((32, 128))
    x = correlated_inputs(rng, 1000, 128, outliers=4)
    y = x @ w.T
    gptq = gptq_quantize(w, x, bits, 32).dequantized
    rtn = dequantize_groups(*group_quantize(w, bits, 32)[:3], 32)
    e_gptq, e_rtn = np.linalg.norm(x @ gptq.T - y), np.linalg.norm(x @ rtn.T - y)
    assert e_gptq < 0.8 * e_rtn


def test_dead_inputs_get_zero_weights():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 16))
    x = correlated_inputs(rng, 100, 16)
    x[:, [2, 9]] = 0.0
    for symmetric in (True, False):
        r = gptq_quantize(w, x, 4, 8, symmetric=symmetric, act_order=True)
        assert not r.dequantized[:, [2, 9]].any()
        # act_order puts the dead columns (diag H = 1 after the fix) in their place by decreasing diag H
        h = gptq_hessian(x)
        h[[2, 9], [2, 9]] = 1
        assert np.array_equal(r.permutation, np.argsort(-np.diag(h), kind="stable"))
        assert r.group_index[r.permutation].tolist() == [k // 8 for k in range(16)]


def test_damping_and_bits_move_the_result_the_expected_way():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((8, 32))
    x = correlated_inputs(rng, 200, 32)
    r8 = gptq_quantize(w, x, 8, None, scale_dtype="float64")
    assert np.abs(r8.dequantized - w).max() < 0.05
    # huge damping makes H^{-1} nearly diagonal: nearly RTN
    far = gptq_quantize(w, x, 3, 8, percdamp=1e6)
    assert np.mean(far.codes == group_quantize(w, 3, 8).codes) > 0.99


def reference_loop(w, x, bits, group_size, block_size, percdamp=0.01):
    """The reference's blocked loop as published: a group that starts inside a block is read from the weight
    without the block's pending updates (what gptq_quantize does differently)."""
    w = np.array(w, dtype=np.float64)
    columns = w.shape[1]
    h = 2 * x.T @ x / len(x) + 0.0
    h += percdamp * np.mean(np.diag(h)) * np.eye(columns)
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    codes = np.zeros(w.shape, dtype=np.int64)
    for i1 in range(0, columns, block_size):
        i2 = min(i1 + block_size, columns)
        w1, err1 = w[:, i1:i2].copy(), np.zeros((len(w), i2 - i1))
        for i in range(i2 - i1):
            if (i1 + i) % group_size == 0:
                scale, zero = group_params(w[:, i1 + i:i1 + i + group_size], bits, True)
            codes[:, i1 + i] = quantize_groups(w1[:, i:i + 1], scale, zero, bits, True)[:, 0]
            err = (w1[:, i] - codes[:, i1 + i] * scale.astype(np.float64)) / u[i1 + i, i1 + i]
            w1[:, i:] -= np.outer(err, u[i1 + i, i1:i2][i:])
            err1[:, i] = err
        w[:, i2:] -= err1 @ u[i1:i2, i2:]
    return codes


def test_the_published_loop_agrees_when_groups_start_blocks():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((12, 64))
    x = correlated_inputs(rng, 300, 64, outliers=2)
    for group_size, block_size in ((16, 16), (32, 16), (64, 32)):
        ours = gptq_quantize(w, x, 3, group_size, block_size=block_size)
        assert np.array_equal(reference_loop(w, x, 3, group_size, block_size), ours.codes)
    # groups starting inside a block: the published loop reads stale columns, the result differs from unblocked
    stale = reference_loop(w, x, 3, 8, 32)
    assert np.array_equal(gptq_quantize(w, x, 3, 8, block_size=32).codes, reference_loop(w, x, 3, 8, 1))
    assert not np.array_equal(stale, reference_loop(w, x, 3, 8, 1))
