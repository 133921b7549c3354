"""Channel pruning on arrays (course_lib.pruning.channels): hand-worked scores, ties, MACs, bad input."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.pruning.channels import (
    apoz,
    bn_scores,
    channels_to_keep,
    conv_macs,
    conv_output_size,
    filter_norms,
    keep_count,
    linear_macs,
)

FAST = settings(max_examples=40, deadline=None)


def test_filter_norms_by_hand():
    w = np.zeros((3, 2, 2, 2))
    w[0, 0, 0, 0], w[0, 1, 1, 1] = 3.0, -4.0   # L1 7, L2 5
    w[1] = 0.5                                  # L1 4, L2 sqrt(8 * 0.25)
    assert filter_norms(w).tolist() == [7.0, 4.0, 0.0]
    np.testing.assert_allclose(filter_norms(w, norm="l2"), [5.0, np.sqrt(2.0), 0.0])
    np.testing.assert_allclose(filter_norms(w[:, :, 0, 0]), [3.0, 1.0, 0.0])  # a Linear's (out, in) weight


def test_apoz_by_hand_and_against_a_direct_count():
    acts = np.zeros((2, 3, 2, 2))
    acts[0, 0] = 1.0                   # channel 0: 4 of 8 zeros
    acts[:, 1, 0, 0] = 2.0             # channel 1: 6 of 8
    acts[:, 2] = 0.1                   # channel 2: never zero
    np.testing.assert_allclose(apoz(acts), [0.5, 0.75, 0.0])
    rng = np.random.default_rng(0)
    big = np.maximum(rng.standard_normal((7, 5, 3, 4)), 0)
    direct = [np.count_nonzero(big[:, c] == 0) / big[:, c].size for c in range(5)]
    np.testing.assert_allclose(apoz(big), direct)
    np.testing.assert_allclose(apoz(big.transpose(0, 2, 3, 1).reshape(-1, 5)), direct)  # (N, C) form


def test_bn_scores_are_magnitudes():
    assert bn_scores(np.array([-1.5, 0.0, 2.0], dtype=np.float32)).tolist() == [1.5, 0.0, 2.0]


def test_channels_to_keep_ties_counts_and_fractions():
    assert channels_to_keep([0.3, 0.1, 0.3, 0.2], 2).tolist() == [0, 2]
    assert channels_to_keep([0.3, 0.1, 0.3, 0.2], 3).tolist() == [0, 2, 3]
    assert channels_to_keep([5.0, 5.0, 5.0], 1).tolist() == [0]        # ties: lower index kept
    assert channels_to_keep([1.0, 2.0, 2.0, 1.0], 3).tolist() == [0, 1, 2]
    assert channels_to_keep([1.0, 2.0, 3.0], 1.0).tolist() == [0, 1, 2]
    assert channels_to_keep([1.0, 2.0, 3.0], 0.01).tolist() == [2]     # at least one stays
    assert channels_to_keep(np.arange(32.0), 0.25).tolist() == list(range(24, 32))
    assert channels_to_keep(np.arange(4.0), 0.5).dtype == np.int64


def test_keep_count_rounds_like_torch():
    assert [keep_count(f, 32) for f in (1.0, 0.75, 0.5, 0.35, 0.25)] == [32, 24, 16, 11, 8]
    assert keep_count(0.5, 5) == 2 and keep_count(0.7, 5) == 4   # Python's round: 2.5 -> 2, 3.5 -> 4
    assert keep_count(7, 32) == 7


@FAST
@given(hnp.arrays(np.float64, st.integers(1, 30), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])),
       st.floats(0.01, 1.0))
def test_channels_to_keep_properties(scores, keep):
    idx = channels_to_keep(scores, keep)
    k = max(1, round(keep * scores.size))
    assert len(idx) == k and np.all(np.diff(idx) > 0)
    dropped = np.setdiff1d(np.arange(scores.size), idx)
    if dropped.size:  # every kept score >= every dropped one; at equal scores the kept index is lower
        assert scores[idx].min() >= scores[dropped].max()
        t = scores[idx].min()
        if np.any(scores[dropped] == t):
            assert idx[scores[idx] == t].max() < dropped[scores[dropped] == t].min()


def test_conv_output_size_and_macs():
    assert conv_output_size(32, 3, padding=1) == 32
    assert conv_output_size(32, 3) == 30
    assert conv_output_size(32, 3, stride=2, padding=1) == 16
    assert conv_output_size(7, 3, dilation=2) == 3
    assert conv_macs(3, 32, 3, 32, padding=1) == 32 * 32 * 32 * 3 * 9
    assert conv_macs(64, 128, (3, 1), (8, 6), stride=(2, 1), padding=(1, 0)) == 128 * 4 * 6 * 64 * 3
    assert conv_macs(8, 8, 3, 10, groups=4) == 8 * 8 * 8 * 2 * 9
    assert linear_macs(2048, 512) == 2048 * 512


def test_conv_macs_match_torch_conv_shapes():
    torch = pytest.importorskip("torch")
    for c_in, c_out, k, size, stride, pad in [(3, 5, 3, 11, 2, 1), (4, 6, (3, 5), (9, 12), (1, 2), (0, 2))]:
        conv = torch.nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad, bias=False)
        out = conv(torch.zeros(1, c_in, *((size, size) if isinstance(size, int) else size)))
        kh, kw = conv.kernel_size
        assert conv_macs(c_in, c_out, k, size, stride=stride, padding=pad) == out[0].numel() * c_in * kh * kw


BAD = [
    (filter_norms, (np.ones((2, 3, 3)),), {}, ValueError, "weight has 3 dimension(s)"),
    (filter_norms, (np.ones((2, 3)),), {"norm": "l3"}, ValueError, "norm == 'l3', must be one of 'l1', 'l2'."),
    (filter_norms, (np.array([[True]]),), {}, TypeError, "weight must be an array of real numbers"),
    (filter_norms, (np.full((2, 2), np.nan),), {}, ValueError, "weight contains 4 NaN"),
    (apoz, (-np.ones((2, 3)),), {}, ValueError, "acts has negative values"),
    (apoz, (np.ones((2, 3, 4)),), {}, ValueError, "acts has 3 dimension(s)"),
    (apoz, (np.zeros((0, 3)),), {}, ValueError, "acts is empty"),
    (bn_scores, (np.ones((2, 2)),), {}, ValueError, "gamma has 2 dimension(s)"),
    (bn_scores, ("abc",), {}, TypeError, "gamma must be an array of real numbers"),
    (channels_to_keep, ([1.0, 2.0], 0.0), {}, ValueError, "keep == 0.0, must be in (0, 1]"),
    (channels_to_keep, ([1.0, 2.0], 1.5), {}, ValueError, "keep == 1.5, must be in (0, 1]"),
    (channels_to_keep, ([1.0, 2.0], 3), {}, ValueError, "keep == 3, must be <= 2."),
    (channels_to_keep, ([1.0, 2.0], 0), {}, ValueError, "keep == 0, must be >= 1."),
    (channels_to_keep, ([1.0, 2.0], True), {}, TypeError, "keep must be an int (a count) or a float"),
    (channels_to_keep, ([1.0, 2.0], "half"), {}, TypeError, "keep must be an int (a count) or a float"),
    (channels_to_keep, ([1.0, 2.0], float("nan")), {}, ValueError, "keep == nan"),
    (channels_to_keep, ([], 1), {}, ValueError, "scores is empty"),
    (channels_to_keep, ([[1.0]], 1), {}, ValueError, "scores has 2 dimension(s)"),
    (conv_output_size, (3, 5), {}, ValueError, "kernel == 5 (span 5) does not fit"),
    (conv_output_size, (3, 3), {"stride": 0}, ValueError, "stride == 0, must be >= 1."),
    (conv_output_size, (3, 3), {"padding": -1}, ValueError, "padding == -1, must be >= 0."),
    (conv_macs, (3, 32, 3, 32), {"groups": 2}, ValueError, "groups == 2 does not divide"),
    (conv_macs, (3, 32, (3, 3, 3), 32), {}, ValueError, "kernel_size == (3, 3, 3), must be an int or a pair"),
    (conv_macs, (3, 32, 3.0, 32), {}, TypeError, "kernel_size must be an int"),
    (conv_macs, (3, 32, 3, (32, "a")), {}, TypeError, "input_size[1] must be an int"),
    (conv_macs, (0, 32, 3, 32), {}, ValueError, "in_channels == 0, must be >= 1."),
    (linear_macs, (2048, 0), {}, ValueError, "out_features == 0, must be >= 1."),
    (linear_macs, (2048.0, 2), {}, TypeError, "in_features must be an int"),
    (keep_count, (0.5, 0), {}, ValueError, "size == 0, must be >= 1."),
]


@pytest.mark.parametrize("fn,args,kwargs,exc,message", BAD, ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_refused_with_the_parameter_named(fn, args, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        fn(*args, **kwargs)
