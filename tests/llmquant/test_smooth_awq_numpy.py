"""SmoothQuant and AWQ: the scaling identity, the migration formula by hand, W8A8 and weight-only errors lowered."""

import numpy as np
import pytest

from course_lib.llmquant.groupwise import rtn_dequantized
from course_lib.llmquant.smooth import (
    activation_stats,
    apply_scales,
    awq_search,
    relative_error,
    smoothquant_scales,
    w8a8_output,
)


def outlier_layer(seed, n=512, columns=128, out=64, outliers=4, strength=50.0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, columns))
    x[:, rng.choice(columns, outliers, replace=False)] *= strength
    w = rng.standard_normal((out, columns)) / np.sqrt(columns)
    return x, w


def test_activation_stats_by_hand():
    x = np.array([[1.0, -2.0, 0.0, 40.0], [-3.0, 1.0, 0.0, 2.0]])
    stats = activation_stats(x)
    assert stats.max_abs.tolist() == [3.0, 2.0, 0.0, 40.0]
    assert stats.mean_abs.tolist() == [2.0, 1.5, 0.0, 21.0]
    assert stats.outlier_ratio == 40.0 / 2.5
    assert activation_stats(outlier_layer(0)[0]).outlier_ratio > 20


def test_smoothquant_scales_by_hand():
    x = np.array([[4.0, -1.0, 0.0], [1.0, 9.0, 0.0]])
    w = np.array([[1.0, 0.5, 2.0], [-0.25, 0.0, 1.0]])
    s = smoothquant_scales(x, w, alpha=0.5)
    np.testing.assert_allclose(s, [np.sqrt(4.0) / 1.0, np.sqrt(9.0) / np.sqrt(0.5), 1.0])
    np.testing.assert_allclose(smoothquant_scales(x, w, alpha=1.0), [4.0, 9.0, 1.0])
    np.testing.assert_allclose(smoothquant_scales(x, w, alpha=0.0), [1.0, 2.0, 1.0])
    # alpha 0.5 equalises the two ranges of every live channel
    xs, ws = apply_scales(x, w, s)
    np.testing.assert_allclose(np.abs(xs).max(0)[:2], np.abs(ws).max(0)[:2])


@pytest.mark.parametrize("seed", range(3))
def test_the_scaling_identity_holds_in_float(seed):
    x, w = outlier_layer(seed)
    y = x @ w.T
    for alpha in (0.0, 0.5, 0.85, 1.0):
        xs, ws = apply_scales(x, w, smoothquant_scales(x, w, alpha))
        assert np.abs(xs @ ws.T - y).max() <= 1e-12 * np.abs(y).max()
    r = awq_search(w, x, 4, 32)
    xs, ws = apply_scales(x, w, r.scales)
    assert np.abs(xs @ ws.T - y).max() <= 1e-12 * np.abs(y).max()
    # the effective weight Q(W s) / s is what (X / s) Q(W s)^T computes
    q = rtn_dequantized(w * r.scales, 4, 32, symmetric=False)
    np.testing.assert_allclose(x @ r.dequantized.T, (x / r.scales) @ q.T, atol=1e-12 * np.abs(y).max())


@pytest.mark.parametrize("seed", range(4))
def test_smoothing_lowers_the_w8a8_error_on_outlier_channels(seed):
    x, w = outlier_layer(seed)
    y = x @ w.T
    plain = relative_error(w8a8_output(x, w), y)
    smoothed = relative_error(w8a8_output(x, w, alpha=0.5), y)
    assert smoothed < 0.5 * plain
    # w8a8_output with alpha is W8A8 of the smoothed pair
    xs, ws = apply_scales(x, w, smoothquant_scales(x, w, 0.5))
    assert np.array_equal(w8a8_output(xs, ws), w8a8_output(x, w, alpha=0.5))


def test_w8a8_output_by_hand():
    x = np.array([[1.0, -0.5], [0.25, 0.0]])  # per-tensor scale 1/127
    w = np.array([[2.0, 1.0], [0.0, 0.0]])  # row scales 2/127 and EPS
    qx = np.round(x * 127) / 127
    qw = np.array([[2.0, np.round(127 / 2) * 2 / 127], [0.0, 0.0]])
    np.testing.assert_allclose(w8a8_output(x, w), qx @ qw.T, rtol=1e-15)


@pytest.mark.parametrize("bits,group_size,symmetric", [(4, 32, False), (3, 32, False), (4, 128, True),
                                                       (3, None, True)])
@pytest.mark.parametrize("seed", range(3))
def test_awq_never_loses_to_rtn_and_wins_on_outliers(bits, group_size, symmetric, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, 128)) * rng.uniform(0.1, 1.0, 128)  # ordinary inputs: no outlier channel
    w = rng.standard_normal((48, 128))
    for xs, strict in ((x, False), (outlier_layer(seed, n=256, out=48, strength=20.0)[0], True)):
        y = xs @ w.T
        rtn = relative_error(xs @ rtn_dequantized(w, bits, group_size, symmetric=symmetric).T, y)
        r = awq_search(w, xs, bits, group_size, symmetric=symmetric)
        assert r.alphas.tolist() == [k / 20 for k in range(20)]
        assert r.errors[0] == rtn  # alpha = 0 is plain RTN, bit for bit
        assert r.errors.min() == r.errors[round(r.alpha * 20)] <= rtn
        assert relative_error(xs @ r.dequantized.T, y) == pytest.approx(r.errors.min(), rel=1e-9)
        if strict:
            assert r.alpha > 0 and r.errors.min() < 0.9 * rtn
