"""Randomized SVD from scratch: within a stated multiple of the optimal error, seeded, exact on low rank."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.factorization import eckart_young_error, matrix_with_spectrum, randomized_range_finder, randomized_svd
from course_lib.timing import fixed_threads

from helpers import raises


def _decaying(seed, n=300, m=200, decay=0.05):
    s = np.exp(-decay * np.arange(min(n, m)))  # a trained-layer-like, smoothly decaying spectrum
    return matrix_with_spectrum(s, (n, m), rng=seed, dtype=np.float64), s


def _ratio(a, k, s, **kw):
    u, sv, vt = randomized_svd(a, k, **kw)
    return np.linalg.norm(a - (u * sv) @ vt) / eckart_young_error(s, k)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_within_a_stated_multiple_of_the_optimal_error(seed):
    with fixed_threads(1):  # one BLAS thread: two oversubscribed ones make these small SVDs ~10x slower
        _check_multiples(seed)


def _check_multiples(seed):
    a, s = _decaying(seed)
    # stated bounds: 1.5x with q = 0, 1.05x with q = 1, 1.01x with q = 2 (p = 10, k = 20, this spectrum)
    for q, bound in ((0, 1.5), (1, 1.05), (2, 1.01)):
        assert 1.0 - 1e-9 <= _ratio(a, 20, s, oversamples=10, power_iterations=q, random_state=seed) <= bound


def test_power_iterations_help_and_reorthonormalization_matters():
    with fixed_threads(1):
        a, s = _decaying(0)
        ratios = [_ratio(a, 20, s, oversamples=5, power_iterations=q, random_state=1) for q in range(4)]
        assert all(later < earlier for earlier, later in zip(ratios, ratios[1:]))
        # without QR between the passes, what lies below s_1 eps^(1/(2q+1)) is lost: float64, q = 8
        steep = np.exp(-0.5 * np.arange(200))
        b = matrix_with_spectrum(steep, (300, 200), rng=2, dtype=np.float64)
        kept = _ratio(b, 20, steep, oversamples=10, power_iterations=8, random_state=0)
        lost = _ratio(b, 20, steep, oversamples=10, power_iterations=8, reorthonormalize=False, random_state=0)
        assert kept < 2.0 and lost > 1e3 * kept


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 40), st.integers(2, 40), st.data())
def test_exact_rank_r_is_recovered(seed, n, m, data):
    r = data.draw(st.integers(1, min(n, m)))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, r)) @ rng.standard_normal((r, m))
    u, s, vt = randomized_svd(a, r, oversamples=2, power_iterations=1, random_state=seed)
    np.testing.assert_allclose((u * s) @ vt, a, atol=1e-8 * max(1.0, np.abs(a).max()))
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False)[:r], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(u.T @ u, np.eye(r), atol=1e-9)


def test_seeded_reproducibility_and_dtype():
    a, _ = _decaying(3, 80, 60)
    one = randomized_svd(a, 10, random_state=7)
    two = randomized_svd(a, 10, random_state=np.random.default_rng(7))
    for x, y in zip(one, two):
        np.testing.assert_array_equal(x, y)
    other = randomized_svd(a, 10, power_iterations=0, random_state=8)
    assert not np.array_equal(randomized_svd(a, 10, power_iterations=0, random_state=7)[0], other[0])
    assert randomized_svd(a.astype(np.float32), 5)[1].dtype == np.float32
    q = randomized_range_finder(a, 15, random_state=0)
    np.testing.assert_allclose(q.T @ q, np.eye(15), atol=1e-12)
    assert randomized_svd(a, 55, oversamples=50)[0].shape == (80, 55)  # the sketch is clipped to min(n, m)


A = np.ones((5, 4))


@pytest.mark.parametrize("call,exc,message", [
    (lambda: randomized_svd(A, 0), ValueError, "rank == 0, must be >= 1."),
    (lambda: randomized_svd(A, 5), ValueError, "rank == 5, must be <= 4 (min(n, m) of a 5x4 matrix)."),
    (lambda: randomized_svd(A, 2, oversamples=-1), ValueError, "oversamples == -1, must be >= 0."),
    (lambda: randomized_svd(A, 2, power_iterations=-1), ValueError, "power_iterations == -1, must be >= 0."),
    (lambda: randomized_svd(A, 2, power_iterations=1.0), TypeError,
     "power_iterations must be an int, got float (1.0)."),
    (lambda: randomized_svd(np.ones(4), 1), ValueError, "matrix has 1 dimension(s) (shape (4,)), must have 2."),
    (lambda: randomized_svd(np.full((2, 2), np.nan), 1), ValueError,
     "matrix contains 4 NaN or infinite value(s), must be finite."),
    (lambda: randomized_svd(A, 2, random_state="seed"), TypeError,
     "random_state must be None, an int seed or a numpy.random.Generator, got str ('seed')."),
    (lambda: randomized_svd(A, 2, reorthonormalize=1), TypeError,
     "reorthonormalize must be True or False, got int (1)."),
])
def test_bad_input(call, exc, message):
    raises(exc, message, call)
