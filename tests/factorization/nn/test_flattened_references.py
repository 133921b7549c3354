"""Our ALS against TensorLy's CP decomposition (``parafac``) on the same filters, at equal rank."""

import numpy as np
import pytest
import tensorly as tl  # a dev dependency (pip install -e .[dev]); these tests run with torch, never skipped
from tensorly.decomposition import parafac

import course_lib as cl
from course_lib.factorization import flatten_filters, reconstruct_filters


def _tensorly_errors(w, rank):
    errors = []
    for filt in w:
        cp = parafac(tl.tensor(filt), rank, init="svd", n_iter_max=2000, tol=1e-10)
        errors.append(np.linalg.norm(filt - tl.cp_to_tensor(cp)) / np.linalg.norm(filt))
    return np.array(errors)


def _trained(layer=7):
    return cl.load_pretrained("cifar_vgg").features[layer].weight.detach().double().numpy()


def test_rank1_matches_tensorly_filter_by_filter():
    # the best rank-1 approximation: both start from the leading singular vectors and reach the same optimum
    w = _trained()[:24]
    ours = flatten_filters(w, 1, tol=1e-10, max_iter=500)
    np.testing.assert_allclose(ours.errors, _tensorly_errors(w, 1), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("rank", [2, 3])
def test_rank_r_is_no_worse_than_tensorly(rank):
    # R >= 2 has local optima; on average over the filters ours must be as good, and never far worse on one
    w = _trained()[:16]
    ours = flatten_filters(w, rank, tol=1e-6, max_iter=2000).errors
    ref = _tensorly_errors(w, rank)
    assert ours.mean() <= ref.mean() + 1e-3, (ours.mean(), ref.mean())
    assert np.max(ours - ref) < 0.05


def test_exact_cp_tensor_recovered_like_tensorly():
    rng = np.random.default_rng(0)
    z, v, h = rng.standard_normal((3, 2, 6)), rng.standard_normal((3, 2, 3)), rng.standard_normal((3, 2, 3))
    w = reconstruct_filters(z, v, h)
    ours = flatten_filters(w, 2, tol=1e-13, max_iter=3000).errors
    assert ours.max() < 1e-5
    assert _tensorly_errors(w, 2).max() < 1e-4
