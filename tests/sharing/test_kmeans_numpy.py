"""k-means weight sharing in NumPy: initialisations, Lloyd's fixed point, pruned zeros, eq. 3. No torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.sharing import (
    centroid_gradient,
    initial_centroids,
    lloyd_1d,
    reconstruct,
    share_weights,
)

RNG = np.random.default_rng(0)
PRUNED = np.where(RNG.random((40, 30)) < 0.8, 0.0, RNG.standard_normal((40, 30)) * 0.1).astype(np.float32)


def test_linear_init_is_evenly_spaced_between_min_and_max():
    x = np.array([3.0, -1.0, 0.5, 7.0])
    np.testing.assert_allclose(initial_centroids(x, 5, "linear"), [-1.0, 1.0, 3.0, 5.0, 7.0])


def test_density_init_is_quantiles_at_equal_steps_of_the_cdf():
    x = np.arange(1000, dtype=float)
    c = initial_centroids(x, 4, "density")
    # evenly spaced on the CDF's y-axis: each centroid has (j + 1/2) / k of the values below it
    np.testing.assert_allclose([(x < v).mean() for v in c], [0.125, 0.375, 0.625, 0.875], atol=1e-3)


def test_random_init_draws_distinct_weights_and_follows_the_seed():
    x = RNG.standard_normal(100)
    c = initial_centroids(x, 8, "random", rng=3)
    assert set(c) <= set(x) and len(set(c)) == 8 and np.all(np.diff(c) > 0)
    np.testing.assert_array_equal(c, initial_centroids(x, 8, "random", rng=3))
    assert not np.array_equal(c, initial_centroids(x, 8, "random", rng=4))


@pytest.mark.parametrize("init", ["linear", "density", "random"])
def test_lloyd_ends_at_a_fixed_point(init):
    x = RNG.standard_normal(3000)
    c, labels, n_iter = lloyd_1d(x, initial_centroids(x, 8, init, rng=0), tol=0.0)
    assert 1 <= n_iter < 300
    # labels are the nearest centroids, and each centroid is the mean of its values
    np.testing.assert_array_equal(labels, np.abs(x[:, None] - c[None, :]).argmin(1))
    for j in range(8):
        np.testing.assert_allclose(c[j], x[labels == j].mean(), rtol=1e-12)


def test_an_empty_cluster_takes_the_farthest_value():
    # centroids 0.5 and 5.0 win nothing; the values farthest from their centroids (1.3, then 0.25) move to them
    c, labels, _ = lloyd_1d([0.0, 0.25, 1.0, 1.3], [0.1, 0.5, 5.0, 1.0], tol=0.0)
    np.testing.assert_allclose(c, [0.0, 1.3, 0.25, 1.0])
    assert labels.tolist() == [0, 2, 3, 1]


def test_more_centroids_than_values_still_ends_exact():
    c, labels, _ = lloyd_1d([2.0], [0.0, 1.0, 3.0])
    assert labels.tolist() == [0] and c[0] == 2.0 and c[2] == 3.0  # the last one never gets a value


def test_ties_go_to_the_lower_index_like_argmin():
    # a weight halfway between two centroids goes to the lower index
    c, labels, _ = lloyd_1d([-1.0, 0.0, 1.0], [1.0, -1.0], iters=1)
    assert labels.tolist() == [1, 0, 0] and c.tolist() == [0.5, -1.0]


def test_share_weights_types_shapes_and_pruned_zeros():
    mask = PRUNED != 0
    codebook, indices = share_weights(PRUNED, 3, mask=mask)
    assert codebook.dtype == np.float32 and codebook.shape == (8,)
    assert indices.dtype == np.uint8 and indices.shape == PRUNED.shape and np.all(indices[~mask] == 0)
    shared = reconstruct(codebook, indices, mask)
    assert shared.dtype == np.float32 and np.all(shared[~mask] == 0) and np.all(shared[mask] != 0)
    # the zeros were not clustered: the same as clustering the kept weights alone
    book_alone, idx_alone = share_weights(PRUNED[mask], 3)
    np.testing.assert_array_equal(codebook, book_alone)
    np.testing.assert_array_equal(indices[mask], idx_alone)
    assert share_weights(np.ones((2, 600)), 9)[1].dtype == np.uint16


def test_sharing_beats_the_uniform_grid_it_starts_from():
    w = RNG.standard_normal(5000) ** 3
    codebook, indices = share_weights(w, 4)
    grid = initial_centroids(w, 16, "linear")
    uniform = grid[np.abs(w[:, None] - grid[None, :]).argmin(1)]
    assert np.mean((reconstruct(codebook, indices) - w) ** 2) < np.mean((uniform - w) ** 2)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 200), elements=st.floats(-10, 10)), st.integers(1, 5),
       st.sampled_from(["linear", "density"]))
def test_every_weight_gets_its_nearest_centroid(w, bits, init):
    codebook, indices = share_weights(w, bits, init=init)
    dist = np.abs(w[:, None] - codebook.astype(np.float64)[None, :])
    chosen = dist[np.arange(w.size), indices.astype(int)]
    assert np.all(chosen <= dist.min(1) + 1e-6 * (1 + np.abs(w)))


def test_centroid_gradient_is_the_sum_over_each_cluster():
    grad = RNG.standard_normal(PRUNED.shape).astype(np.float32)
    mask = PRUNED != 0
    codebook, indices = share_weights(PRUNED, 2, mask=mask)
    expected = [sum(float(grad[i, j]) for i, j in zip(*np.nonzero(mask & (indices == c)))) for c in range(4)]
    got = centroid_gradient(grad, indices, 4, mask)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # without a mask the pruned weights' gradients are summed into centroid 0
    np.testing.assert_allclose(centroid_gradient(grad, indices, 4)[0], expected[0] + grad[~mask].sum(), rtol=1e-4)
