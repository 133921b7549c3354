"""Truncated SVD: Eckart-Young as a property, exact low rank recovered exactly, the rank rules, messages."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.factorization import (
    eckart_young_error,
    matrix_with_spectrum,
    rank_for_compression,
    rank_for_energy,
    rank_reduction,
    stretched_spectrum,
    truncated_svd,
)

from helpers import raises


def _matrix(seed, n, m):
    return np.random.default_rng(seed).standard_normal((n, m))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(1, 30), st.data())
def test_truncation_error_is_the_norm_of_the_tail(seed, n, m, data):
    w = _matrix(seed, n, m)
    k = data.draw(st.integers(1, min(n, m)))
    t = truncated_svd(w, k)
    s = np.linalg.svd(w, compute_uv=False)
    measured = np.linalg.norm(w - t.reconstruct())
    assert measured == pytest.approx(np.sqrt(np.sum(s[k:] ** 2)), rel=1e-9, abs=1e-10)
    assert t.error == pytest.approx(measured, rel=1e-9, abs=1e-10)
    a, b = t.factors()
    assert a.shape == (n, k) and b.shape == (k, m)
    np.testing.assert_allclose(a @ b, t.reconstruct(), atol=1e-12)
    # no other rank-k matrix does better: a random rank-k competitor is never closer
    rng = np.random.default_rng(seed + 1)
    rival = (a + 1e-3 * rng.standard_normal(a.shape)) @ (b + 1e-3 * rng.standard_normal(b.shape))  # rank <= k
    assert np.linalg.norm(w - rival) >= measured - 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 25), st.integers(2, 25), st.data())
def test_exact_rank_r_is_reconstructed_exactly_at_k_equal_r(seed, n, m, data):
    r = data.draw(st.integers(1, min(n, m)))
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, r)) @ rng.standard_normal((r, m))
    t = truncated_svd(w, r)
    np.testing.assert_allclose(t.reconstruct(), w, atol=1e-10 * max(1.0, np.abs(w).max()))
    assert t.error <= 1e-9 * np.linalg.norm(w)
    if r > 1:  # one rank less is not exact: it drops the r-th singular value
        assert truncated_svd(w, r - 1).error == pytest.approx(np.linalg.svd(w, compute_uv=False)[r - 1], rel=1e-6)


def test_against_numpy_and_a_hand_worked_matrix():
    w = np.diag([3.0, 2.0, 1.0])
    t = truncated_svd(w, 2)
    np.testing.assert_allclose(t.s, [3.0, 2.0])
    assert t.error == pytest.approx(1.0)
    assert eckart_young_error([3.0, 2.0, 1.0], 1) == pytest.approx(np.sqrt(5.0))
    assert eckart_young_error([3.0, 2.0, 1.0], 0) == pytest.approx(np.sqrt(14.0))
    w = _matrix(0, 40, 25)
    np.testing.assert_allclose(truncated_svd(w, 25).spectrum, np.linalg.svd(w, compute_uv=False))


def test_rank_by_energy_and_by_compression():
    s = np.array([4.0, 2.0, 1.0, 1.0])  # energies 16, 4, 1, 1 of 22
    assert rank_for_energy(s, 16 / 22) == 1
    assert rank_for_energy(s, 0.75) == 2
    assert rank_for_energy(s, 1.0) == 4
    w = _matrix(1, 30, 20)
    t = truncated_svd(w, energy=0.9)
    spectrum = t.spectrum
    assert np.sum(t.s ** 2) >= 0.9 * np.sum(spectrum ** 2)
    assert np.sum(spectrum[: t.rank - 1] ** 2) < 0.9 * np.sum(spectrum ** 2)
    # Denton's FC2 (4096x4096): the largest K that compresses 5.8x, checked on both sides
    k = rank_for_compression(4096, 4096, 5.8)
    assert rank_reduction(4096, 4096, k) >= 5.8 > rank_reduction(4096, 4096, k + 1)
    assert rank_for_compression(784, 300, 1.0) == 216  # the break-even rank
    assert truncated_svd(_matrix(2, 50, 40), compression=4.0).rank == rank_for_compression(50, 40, 4.0) == 5


def test_spectrum_helpers():
    s = np.array([8.0, 4.0, 2.0, 1.0])
    stretched = stretched_spectrum(s, 8)
    assert stretched.shape == (8,) and np.all(np.diff(stretched) <= 0)
    np.testing.assert_allclose(stretched[[0, -1]] / np.sqrt(2), [8.0, 1.0])  # the ends keep their value
    a = matrix_with_spectrum(np.array([3.0, 2.0, 0.5]), (6, 3), rng=0, dtype=np.float64)
    np.testing.assert_allclose(np.linalg.svd(a, compute_uv=False), [3.0, 2.0, 0.5], rtol=1e-5)


W = np.ones((4, 3))


@pytest.mark.parametrize("call,exc,message", [
    (lambda: truncated_svd(W, 0), ValueError, "rank == 0, must be >= 1."),
    (lambda: truncated_svd(W, 4), ValueError, "rank == 4, must be <= 3 (min(n, m) of a 4x3 matrix)."),
    (lambda: truncated_svd(W, 2.0), TypeError, "rank must be an int, got float (2.0)."),
    (lambda: truncated_svd(np.ones(5), 1), ValueError,
     "weight has 1 dimension(s) (shape (5,)), must have 2."),
    (lambda: truncated_svd(np.ones((2, 2, 2)), 1), ValueError,
     "weight has 3 dimension(s) (shape (2, 2, 2)), must have 2."),
    (lambda: truncated_svd(np.array([[1.0, np.nan]]), 1), ValueError,
     "weight contains 1 NaN or infinite value(s), must be finite."),
    (lambda: truncated_svd(np.array([[1.0, np.inf]]), 1), ValueError,
     "weight contains 1 NaN or infinite value(s), must be finite."),
    (lambda: truncated_svd(W, energy=0.0), ValueError, "energy == 0.0, must be in (0, 1]."),
    (lambda: truncated_svd(W, energy=1.5), ValueError, "energy == 1.5, must be in (0, 1]."),
    (lambda: truncated_svd(W), ValueError, "give exactly one of rank, energy, compression; got none."),
    (lambda: truncated_svd(W, 1, energy=0.5), ValueError,
     "give exactly one of rank, energy, compression; got rank, energy."),
    (lambda: truncated_svd(W, compression=0.5), ValueError, "compression == 0.5, must be >= 1."),
    (lambda: rank_for_compression(4, 3, 2.0), ValueError,
     "compression == 2 is out of reach for a 4x3 matrix: rank 1 compresses it 1.71x, must be <= that."),
    (lambda: rank_for_energy([1.0, 2.0], 0.5), ValueError,
     "singular_values must be >= 0 and sorted in decreasing order (as np.linalg.svd returns them)."),
    (lambda: eckart_young_error([2.0, 1.0], 3), ValueError, "k == 3, must be <= 2."),
])
def test_bad_input(call, exc, message):
    raises(exc, message, call)


def test_truncate_is_the_smaller_truncated_svd():
    w = _matrix(3, 20, 12)
    big, small = truncated_svd(w, 10), truncated_svd(w, 4)
    cut = big.truncate(4)
    np.testing.assert_allclose(cut.reconstruct(), small.reconstruct(), atol=1e-12)
    assert cut.error == pytest.approx(small.error)
    raises(ValueError, "k == 11, must be <= 10.", big.truncate, 11)
