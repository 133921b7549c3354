"""TT-matrices: dense round trip, the core-by-core product against the dense one, the hand-written backward
against finite differences (float64), the init variance, the seed's VGG arithmetic, balanced modes, messages."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.factorization import (
    balanced_modes,
    check_modes,
    mode_spread,
    random_tt_matrix,
    tt_intermediate_sizes,
    tt_matmul,
    tt_matmul_backward,
    tt_matmul_einsum,
    tt_matmul_forward,
    tt_matmul_macs,
    tt_matrix,
    tt_matrix_dense,
    tt_matrix_params,
)

from helpers import raises

modes = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=4)


def _cores(seed, pairs, rank, dtype=np.float64):
    ins, outs = [m for m, _ in pairs], [n for _, n in pairs]
    return random_tt_matrix(ins, outs, rank, std=0.5, rng=seed, dtype=dtype).cores


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), modes, st.integers(1, 3), st.integers(1, 5))
def test_product_equals_the_dense_product(seed, pairs, rank, batch):
    cores = _cores(seed, pairs, rank)
    w = tt_matrix_dense(cores)
    x = np.random.default_rng(seed).standard_normal((batch, w.shape[0]))
    np.testing.assert_allclose(tt_matmul(cores, x), x @ w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tt_matmul_einsum(cores, x), x @ w, rtol=1e-10, atol=1e-12)


def test_product_in_float32_within_1e_5():
    cores = _cores(0, [(4, 4), (7, 8), (7, 8), (4, 4)], 8, dtype=np.float32)
    w = tt_matrix_dense([c.astype(np.float64) for c in cores])
    x = np.random.default_rng(1).standard_normal((16, 784)).astype(np.float32)
    y = tt_matmul(cores, x)
    assert y.dtype == np.float32
    assert np.linalg.norm(y - x.astype(np.float64) @ w) / np.linalg.norm(x @ w) < 1e-5


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), modes)
def test_full_rank_round_trip_is_exact(seed, pairs):
    ins, outs = [m for m, _ in pairs], [n for _, n in pairs]
    w = np.random.default_rng(seed).standard_normal((math.prod(ins), math.prod(outs)))
    tm = tt_matrix(w, ins, outs, 10_000)
    assert tm.in_modes == tuple(ins) and tm.out_modes == tuple(outs) and tm.shape == w.shape
    np.testing.assert_allclose(tm.to_dense(), w, atol=1e-11)
    eps = 0.3
    approx = tt_matrix(w, ins, outs, eps=eps)
    assert np.linalg.norm(w - approx.to_dense()) <= eps * np.linalg.norm(w) * (1 + 1e-10)


def test_entry_layout_by_hand():
    # W[(i1, i2), (j1, j2)] = G1[0, i1, j1, :] . G2[:, i2, j2, 0]; rows i = i1 m2 + i2, columns j = j1 n2 + j2
    rng = np.random.default_rng(0)
    g1, g2 = rng.standard_normal((1, 2, 3, 2)), rng.standard_normal((2, 4, 5, 1))
    w = tt_matrix_dense([g1, g2])
    assert w.shape == (8, 15)
    for i1, i2, j1, j2 in [(0, 0, 0, 0), (1, 3, 2, 4), (1, 0, 2, 1)]:
        assert w[i1 * 4 + i2, j1 * 5 + j2] == pytest.approx(g1[0, i1, j1] @ g2[:, i2, j2, 0], rel=1e-12)


def _loss(cores, x, g):
    return float(np.sum(tt_matmul(cores, x) * g))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), modes, st.integers(1, 3), st.integers(1, 3))
def test_backward_matches_finite_differences(seed, pairs, rank, batch):
    cores = _cores(seed, pairs, rank)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((batch, math.prod(m for m, _ in pairs)))
    y, cache = tt_matmul_forward(cores, x)
    g = rng.standard_normal(y.shape)
    grads, gx = tt_matmul_backward(cores, cache, g)
    h = 1e-6
    for k, core in enumerate(cores):
        num = np.zeros_like(core)
        for idx in np.ndindex(core.shape):
            plus = [c.copy() for c in cores]
            minus = [c.copy() for c in cores]
            plus[k][idx] += h
            minus[k][idx] -= h
            num[idx] = (_loss(plus, x, g) - _loss(minus, x, g)) / (2 * h)
        assert np.linalg.norm(grads[k] - num) <= 1e-6 * max(np.linalg.norm(num), 1e-3)
    w = tt_matrix_dense(cores)
    np.testing.assert_allclose(gx, g @ w.T, rtol=1e-10, atol=1e-12)  # dL/dx = dL/dy W^T exactly


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1, 2, 4, 8]))
def test_random_init_has_the_requested_rms(seed, rank):
    std = 0.05
    cores = random_tt_matrix((4, 7, 7, 4), (4, 8, 8, 4), rank, std=std, rng=seed).cores
    w = tt_matrix_dense(cores)
    assert np.sqrt(np.mean(w ** 2)) == pytest.approx(std, rel=1e-9)
    assert abs(w.std() / std - 1) < 0.1


def test_the_seeds_vgg_arithmetic():
    ins, outs = (2, 7, 8, 8, 7, 4), (4,) * 6
    assert math.prod(ins) == 25088 and math.prod(outs) == 4096
    dense = 25088 * 4096
    assert dense == 102_760_448 and dense * 4 / 2 ** 20 == 392.0
    params = {r: tt_matrix_params(ins, outs, r) for r in (4, 2, 1)}
    assert params == {4: 2016, 2: 528, 1: 144}
    assert {r: round(dense / p) for r, p in params.items()} == {4: 50972, 2: 194622, 1: 713614}
    sizes = tt_intermediate_sizes(ins, outs, 4)
    assert max(sizes) == 200_704 and max(sizes) * 4 / 2 ** 20 == pytest.approx(0.766, abs=5e-4)
    # by hand, X_k r_{k-1} m_k n_k r_k per core: 12544*32 + 7168*448 + 3584*512 + 1792*512 + 1024*448 + 1024*64
    assert tt_matmul_macs(ins, outs, 4) == 6_889_472 and round(dense / 6_889_472, 1) == 14.9


def test_intermediates_and_macs_are_what_the_product_does():
    cores = _cores(0, [(2, 3), (3, 2), (2, 2)], 2)
    x = np.ones((5, 12))
    _, cache = tt_matmul_forward(cores, x)
    sizes = tt_intermediate_sizes((2, 3, 2), (3, 2, 2), 2, batch=5)
    assert [a.shape[0] * c.shape[2] * c.shape[3] for a, c in zip(cache, cores)] == sizes
    assert sum(a.size * c.shape[2] * c.shape[3] for a, c in zip(cache, cores)) == tt_matmul_macs(
        (2, 3, 2), (3, 2, 2), 2, batch=5)


@pytest.mark.parametrize("n,d", [(4096, 6), (784, 4), (25088, 6), (1024, 2), (625, 4), (13, 2), (1, 3)])
def test_balanced_modes_are_the_most_balanced_factorization(n, d):
    best = balanced_modes(n, d)
    assert math.prod(best) == n and len(best) == d
    # brute force over every d-tuple of divisors
    divisors = [k for k in range(1, n + 1) if n % k == 0]
    spreads = [max(t) / min(t) for t in _tuples(divisors, n, d)]
    assert mode_spread(best) == pytest.approx(min(spreads))


def _tuples(divisors, n, d):
    if d == 1:
        yield (n,)
        return
    for k in divisors:
        if n % k == 0:
            for rest in _tuples(divisors, n // k, d - 1):
                yield (k, *rest)


def test_balanced_modes_by_hand():
    assert balanced_modes(4096, 6) == (4,) * 6 and balanced_modes(625, 4) == (5,) * 4
    assert balanced_modes(784, 4) == (4, 4, 7, 7) and balanced_modes(13, 2) == (1, 13)


C = [np.ones((1, 2, 3, 1))]


@pytest.mark.parametrize("call,exc,message", [
    (lambda: check_modes((2, 7, 8, 8, 7, 4), (4,) * 6, 25087, 4096), ValueError,
     "prod(in_modes) == 25088, must equal the number of input features 25087."),
    (lambda: check_modes((2, 7, 8, 8, 7, 4), (4,) * 6, 25088, 4095), ValueError,
     "prod(out_modes) == 4096, must equal the number of output features 4095."),
    (lambda: check_modes((2, 3), (6,)), ValueError,
     "in_modes has 2 modes and out_modes 1, must have the same number (one core per pair)."),
    (lambda: check_modes((2, 0), (2, 3)), ValueError, "in_modes[1] == 0, must be >= 1."),
    (lambda: check_modes((2, 2.5), (2, 3)), TypeError, "in_modes[1] must be an int, got float (2.5)."),
    (lambda: check_modes(6, (6,)), TypeError, "in_modes must be a list or tuple of ints, got int (6)."),
    (lambda: check_modes((), ()), ValueError, "in_modes is empty, must hold at least one mode."),
    (lambda: tt_matrix(np.ones((6, 4)), (2, 3), (2, 2), 0), ValueError, "rank == 0, must be >= 1."),
    (lambda: tt_matrix(np.ones((6, 4)), (2, 3), (2, 2), eps=1.0), ValueError, "eps == 1.0, must be in [0, 1)."),
    (lambda: tt_matrix(np.ones(6), (2, 3), (2, 2), 1), ValueError,
     "weight has 1 dimension(s) (shape (6,)), must have 2."),
    (lambda: tt_matrix(np.full((6, 4), np.nan), (2, 3), (2, 2), 1), ValueError,
     "weight contains 24 NaN or infinite value(s), must be finite."),
    (lambda: tt_matrix(np.ones((6, 4)), (2, 2), (2, 2), 1), ValueError,
     "prod(in_modes) == 4, must equal the number of input features 6."),
    (lambda: tt_matrix_params((2, 2), (2, 2), [1, 2, 2]), ValueError,
     "ranks[2] == 2, must be 1 (the boundary ranks of a train are 1)."),
    (lambda: tt_matrix_params((2, 2), (2, 2), -1), ValueError, "ranks == -1, must be >= 1."),
    (lambda: tt_matmul(C, np.ones(2)), ValueError, "x has 1 dimension(s) (shape (2,)), must have 2."),
    (lambda: tt_matmul(C, np.ones((1, 3))), ValueError,
     "x has 3 features (shape (1, 3)), must have prod(in_modes) == 2."),
    (lambda: tt_matmul(C, np.array([[1.0, np.inf]])), ValueError,
     "x contains 1 NaN or infinite value(s), must be finite."),
    (lambda: tt_matmul([np.ones((1, 2, 3))], np.ones((1, 2))), ValueError,
     "cores[0] has 3 dimension(s) (shape (1, 2, 3)), must have 4."),
    (lambda: tt_matmul_backward(C, [np.ones((1, 2))], np.ones((1, 4))), ValueError,
     "grad_y has 4 columns, must have prod(out_modes) == 3."),
    (lambda: tt_matmul_backward(C, [], np.ones((1, 3))), ValueError,
     "cache must be the list of 1 arrays tt_matmul_forward returned."),
    (lambda: random_tt_matrix((2,), (2,), 1, std=0.0), ValueError, "std == 0.0, must be > 0."),
    (lambda: balanced_modes(0, 2), ValueError, "n == 0, must be >= 1."),
    (lambda: mode_spread([]), ValueError, "modes is empty, must hold at least one mode."),
])
def test_bad_input(call, exc, message):
    raises(exc, message, call)
