"""TT-SVD and TT-rounding: exact at full rank, the eps bound as a property, known ranks recovered, messages."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.factorization import (
    delta_rank,
    random_tt,
    truncated_svd,
    tt_entry,
    tt_norm,
    tt_params,
    tt_ranks,
    tt_reconstruct,
    tt_round,
    tt_svd,
)
from course_lib.factorization.tt_references import smooth_tensor

from helpers import raises

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=5)


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), shapes)
def test_full_rank_tt_svd_is_exact(seed, shape):
    a = np.random.default_rng(seed).standard_normal(shape)
    t = tt_svd(a, max(1, math.prod(shape)))
    assert t.shape == tuple(shape) and t.ranks[0] == t.ranks[-1] == 1
    np.testing.assert_allclose(t.reconstruct(), a, atol=1e-12 * max(1.0, np.abs(a).max()))
    np.testing.assert_allclose(tt_svd(a, eps=0.0).reconstruct(), a, atol=1e-12 * max(1.0, np.abs(a).max()))


def _structured(kind, seed, shape):
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.standard_normal(shape)
    if kind == "low rank + noise":
        return random_tt(shape, 2, rng=rng).reconstruct() + 1e-3 * rng.standard_normal(shape)
    grids = np.meshgrid(*[np.linspace(0, 1, n) for n in shape], indexing="ij", sparse=True)
    return 1.0 / (1.0 + sum(grids))  # smooth


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["random", "low rank + noise", "smooth"]), st.integers(0, 10_000),
       st.lists(st.integers(2, 5), min_size=2, max_size=5), st.floats(0.0, 0.99))
def test_eps_bound_holds(kind, seed, shape, eps):
    a = _structured(kind, seed, shape)
    t = tt_svd(a, eps=eps)
    assert np.linalg.norm(a - t.reconstruct()) <= eps * np.linalg.norm(a) * (1 + 1e-10) + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(2, 5), min_size=2, max_size=5), st.integers(1, 3))
def test_random_train_of_known_ranks_is_recovered(seed, shape, r):
    true = random_tt(shape, r, rng=seed)
    a = true.reconstruct()
    t = tt_svd(a, eps=1e-10)
    assert _rel(t.reconstruct(), a) < 1e-9
    # the recovered ranks never exceed the true ones (they may be smaller: r_k <= min of the unfolding sizes)
    assert all(got <= want for got, want in zip(t.ranks, true.ranks))
    again = tt_svd(a, list(true.ranks))
    assert _rel(again.reconstruct(), a) < 1e-9


def test_d2_is_the_truncated_svd():
    w = np.random.default_rng(0).standard_normal((30, 20))
    for k in (1, 5, 20):
        t = tt_svd(w, k)
        svd = truncated_svd(w, k)
        assert t.ranks == (1, k, 1)
        np.testing.assert_allclose(t.reconstruct(), svd.reconstruct(), atol=1e-10)
        assert np.linalg.norm(w - t.reconstruct()) == pytest.approx(svd.error, rel=1e-10)


def test_eps_ranks_follow_the_delta_rule_by_hand():
    # one step (d = 2): delta = eps ||A||; the smallest k with ||s[k:]|| <= delta
    s = np.array([4.0, 2.0, 1.0, 0.5])
    assert delta_rank(s, 0.5) == 3 and delta_rank(s, 0.56) == 3 and delta_rank(s, 1.12) == 2
    assert delta_rank(s, 0.0) == 4 and delta_rank(s, 100.0) == 1


def test_noise_floor_makes_the_ranks_explode():
    rng = np.random.default_rng(0)
    a = random_tt((6,) * 5, 2, rng=rng).reconstruct()
    a = a + 1e-4 * np.linalg.norm(a) / math.sqrt(a.size) * rng.standard_normal(a.shape)
    above = tt_svd(a, eps=1e-2)
    below = tt_svd(a, eps=1e-6)
    assert max(above.ranks) == 2
    assert max(below.ranks) >= 30  # fitting the noise: the ranks of a random tensor


def test_smooth_function_has_small_ranks():
    a = smooth_tensor(8, 6)
    t = tt_svd(a, eps=1e-6)
    assert max(t.ranks) <= 8 and _rel(t.reconstruct(), a) <= 1e-6
    assert t.params < a.size / 50


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(2, 4), min_size=2, max_size=5), st.floats(0.0, 0.9))
def test_rounding_meets_eps_and_recovers_known_ranks(seed, shape, eps):
    rng = np.random.default_rng(seed)
    low = random_tt(shape, 2, rng=rng)
    # the same tensor written with needlessly large ranks: the sum of the train and 0 * another train
    padded = tt_svd(low.reconstruct(), 100)
    rounded = tt_round(padded.cores, eps=1e-10)
    assert _rel(rounded.reconstruct(), low.reconstruct()) < 1e-9
    assert all(r <= 2 for r in rounded.ranks)
    a = rng.standard_normal(shape)
    full = tt_svd(a, 100)
    r = tt_round(full.cores, eps=eps)
    assert np.linalg.norm(a - r.reconstruct()) <= eps * np.linalg.norm(a) * (1 + 1e-10) + 1e-12
    assert tt_round(full.cores, 1).ranks == (1,) + (1,) * (len(shape) - 1) + (1,)


def test_entry_norm_params_and_ranks():
    t = random_tt((3, 4, 5), (1, 2, 3, 1), rng=0)
    a = t.reconstruct()
    for idx in [(0, 0, 0), (2, 3, 4), (1, 2, 0)]:
        assert tt_entry(t.cores, idx) == pytest.approx(a[idx], rel=1e-12)
    assert tt_norm(t.cores) == pytest.approx(np.linalg.norm(a), rel=1e-12)
    assert tt_params((3, 4, 5), (1, 2, 3, 1)) == 3 * 2 + 2 * 4 * 3 + 3 * 5 == t.params
    assert tt_ranks(t.cores) == (1, 2, 3, 1)
    assert tt_params((8,) * 6, 3) == 8 * 3 * 2 + 4 * 9 * 8 == 336


G = [np.ones((1, 2, 2)), np.ones((2, 3, 1))]
A = np.ones((2, 3))


@pytest.mark.parametrize("call,exc,message", [
    (lambda: tt_svd(A, 0), ValueError, "rank == 0, must be >= 1."),
    (lambda: tt_svd(A, 2.0), TypeError, "rank must be an int or a list of d + 1 ints, got float (2.0)."),
    (lambda: tt_svd(A, [1, 2]), ValueError, "rank has 2 entries, must have d + 1 == 3 (r_0 .. r_d)."),
    (lambda: tt_svd(A, [2, 2, 1]), ValueError, "rank[0] == 2, must be 1 (the boundary ranks of a train are 1)."),
    (lambda: tt_svd(A, [1, 2, 3]), ValueError, "rank[2] == 3, must be 1 (the boundary ranks of a train are 1)."),
    (lambda: tt_svd(A, [1, 0, 1]), ValueError, "rank[1] == 0, must be >= 1."),
    (lambda: tt_svd(A, [1, 1.5, 1]), TypeError, "rank[1] must be an int, got float (1.5)."),
    (lambda: tt_svd(A, eps=-0.1), ValueError, "eps == -0.1, must be in [0, 1)."),
    (lambda: tt_svd(A, eps=1.0), ValueError, "eps == 1.0, must be in [0, 1)."),
    (lambda: tt_svd(A, eps=float("nan")), ValueError, "eps == nan, must be finite."),
    (lambda: tt_svd(A), ValueError, "give exactly one of rank (maximal TT-ranks) and eps (relative accuracy)."),
    (lambda: tt_svd(A, 1, eps=0.1), ValueError,
     "give exactly one of rank (maximal TT-ranks) and eps (relative accuracy)."),
    (lambda: tt_svd(np.array([1.0, np.nan]), 1), ValueError,
     "tensor contains 1 NaN or infinite value(s), must be finite."),
    (lambda: tt_svd(np.array([[np.inf]]), 1), ValueError,
     "tensor contains 1 NaN or infinite value(s), must be finite."),
    (lambda: tt_svd(np.array(3.0), 1), ValueError, "tensor has 0 dimension(s) (shape ()), must have at least 1."),
    (lambda: tt_svd(np.array(["a"]), 1), TypeError, "tensor must be an array of real numbers, got dtype <U1."),
    (lambda: tt_reconstruct(np.ones((1, 2, 1))), TypeError, "cores must be a list or tuple of arrays, got ndarray."),
    (lambda: tt_reconstruct([]), ValueError, "cores is empty, must hold at least one core."),
    (lambda: tt_reconstruct([np.ones((2, 2, 1))]), ValueError,
     "cores[0].shape[0] == 2, must be 1 (the boundary ranks of a train are 1)."),
    (lambda: tt_reconstruct([np.ones((1, 2, 2))]), ValueError,
     "cores[0].shape[-1] == 2, must be 1 (the boundary ranks of a train are 1)."),
    (lambda: tt_reconstruct([np.ones((1, 2, 2)), np.ones((3, 2, 1))]), ValueError,
     "cores[1].shape[0] == 3, must equal cores[0].shape[-1] == 2 (ranks must chain)."),
    (lambda: tt_reconstruct([np.ones((1, 2))]), ValueError,
     "cores[0] has 2 dimension(s) (shape (1, 2)), must have 3."),
    (lambda: tt_reconstruct([np.full((1, 2, 1), np.nan)]), ValueError,
     "cores[0] contains 2 NaN or infinite value(s), must be finite."),
    (lambda: tt_round(G, eps=1.5), ValueError, "eps == 1.5, must be in [0, 1)."),
    (lambda: tt_entry(G, (0,)), ValueError, "index == (0,), must be a sequence of 2 ints (one per core)."),
    (lambda: tt_entry(G, (0, 3)), ValueError, "index[1] == 3, must be <= 2."),
    (lambda: tt_params((2, 0), 1), ValueError, "shape[1] == 0, must be >= 1."),
    (lambda: random_tt((2, 2), [1, 1]), ValueError, "ranks has 2 entries, must have d + 1 == 3 (r_0 .. r_d)."),
])
def test_bad_input(call, exc, message):
    raises(exc, message, call)
