"""Our 1-D k-means against scikit-learn's KMeans (Lloyd) from the same initial centroids: same centroids and labels."""

import numpy as np
import pytest
from sklearn.cluster import KMeans

from course_lib.sharing import initial_centroids, lloyd_1d, share_weights

GEN = np.random.default_rng(0)
# a pruned layer's kept weights: heavy-tailed, no values near zero
WEIGHTS = np.concatenate([GEN.laplace(0, 0.04, 6000), GEN.normal(0, 0.1, 2000)])
WEIGHTS = WEIGHTS[np.abs(WEIGHTS) > 0.02]


def _sklearn(x, start, tol):
    km = KMeans(n_clusters=start.size, init=start.reshape(-1, 1), n_init=1, algorithm="lloyd", tol=tol,
                max_iter=300).fit(x.reshape(-1, 1))
    return km.cluster_centers_.ravel(), km.labels_, km.n_iter_


@pytest.mark.parametrize("init", ["linear", "density", "random"])
@pytest.mark.parametrize("bits", [2, 3, 4])
@pytest.mark.parametrize("tol", [1e-4, 0.0])
def test_same_centroids_and_labels_as_sklearn(init, bits, tol):
    k = 2**bits
    start = initial_centroids(WEIGHTS, k, init, rng=7)
    centroids, labels, n_iter = lloyd_1d(WEIGHTS, start, tol=tol)
    # the comparison holds where no cluster empties (sklearn would move an empty centroid, we keep it)
    assert np.bincount(labels, minlength=k).min() > 0
    ref_centroids, ref_labels, ref_iter = _sklearn(WEIGHTS, start, tol)
    assert np.abs(centroids - ref_centroids).max() < 1e-6
    np.testing.assert_array_equal(labels, ref_labels)
    assert n_iter == ref_iter or (tol == 0 and n_iter == ref_iter - 1)  # sklearn counts one more pass to see no change
    # share_weights is the same computation, returned as float32 codebook and uint8 indices
    codebook, indices = share_weights(WEIGHTS, bits, init=init, tol=tol, rng=7)
    np.testing.assert_array_equal(codebook, centroids.astype(np.float32))
    np.testing.assert_array_equal(indices, labels)


def test_pruned_layer_matches_sklearn_on_its_kept_weights():
    w = GEN.standard_normal((100, 80)).astype(np.float32) * 0.05
    w[np.abs(w) < 0.06] = 0
    mask = w != 0
    codebook, indices = share_weights(w, 3, mask=mask)
    ref_centroids, ref_labels, _ = _sklearn(w[mask].astype(np.float64), initial_centroids(w[mask], 8), 1e-4)
    assert np.abs(codebook - ref_centroids).max() < 1e-6
    np.testing.assert_array_equal(indices[mask], ref_labels)
