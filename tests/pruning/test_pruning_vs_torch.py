"""Pruning cross-checked against PyTorch (torch.nn.utils.prune) and on real models."""

import math

import numpy as np
import pytest
import scipy.sparse
import torch
from torch.nn.utils import prune as torch_prune

import course_lib as cl
from course_lib.pruning import (
    bitmask_bytes,
    csr_bytes,
    global_magnitude_prune,
    magnitude_mask,
    magnitude_prune,
    sparse_linear,
    sparsity,
    threshold_prune,
    to_csr,
)


def distinct_weights(shape, seed):
    """Weights whose magnitudes are all different (no ties: torch's tie order is unspecified)."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    magnitudes = (rng.permutation(n) + 1) / n
    return (magnitudes * rng.choice([-1.0, 1.0], size=n)).reshape(shape).astype(np.float32)


def test_pruning_returns_new_arrays_and_keeps_float_dtype():
    w = np.array([[0.3, -0.1], [-0.5, 0.2]], dtype=np.float32)
    before = w.copy()
    for pruned, mask in (threshold_prune(w, 0.25), magnitude_prune(w, 2)):
        assert pruned.dtype == np.float32 and mask.dtype == bool and pruned.shape == w.shape
        assert pruned is not w and not np.shares_memory(pruned, w)
    np.testing.assert_array_equal(w, before)
    pruned, _ = magnitude_prune(np.array([3, -1, 2]), 1)  # integers become float64
    assert pruned.dtype == np.float64 and pruned.tolist() == [3.0, 0.0, 2.0]
    pruned, _ = magnitude_prune(torch.tensor([0.5, -0.25]), 1)  # a torch tensor is accepted
    assert pruned.tolist() == [0.5, 0.0]


def test_sparsity_of_arrays_masks_and_containers():
    assert sparsity([[0.0, 1.0], [0.0, 0.0]]) == 0.75
    assert sparsity(np.array([True, False, False, True])) == 0.5  # a mask: the fraction removed
    assert sparsity({"a": np.zeros(3), "b": np.ones(1)}) == 0.75
    assert sparsity([np.zeros(2), torch.ones(2)]) == 0.5
    assert isinstance(sparsity(np.ones(3)), float)


@pytest.mark.parametrize("amount", [0, 1, 7, 30, 0.0, 0.25, 0.5, 0.9, 1.0, 0.05])
def test_magnitude_mask_matches_torch_l1_unstructured(amount):
    w = distinct_weights((5, 6), seed=1)
    layer = torch.nn.Linear(6, 5)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
    torch_prune.l1_unstructured(layer, "weight", amount=amount)
    np.testing.assert_array_equal(magnitude_mask(w, amount), layer.weight_mask.numpy().astype(bool))
    pruned, _ = magnitude_prune(w, amount)
    np.testing.assert_array_equal(pruned, layer.weight.detach().numpy())


@pytest.mark.parametrize("amount", [5, 0.3, 0.75])
def test_global_magnitude_prune_matches_torch_global_unstructured(amount):
    w = distinct_weights((4 * 6 + 3 * 4,), seed=2)
    w1, w2 = w[:24].reshape(4, 6), w[24:].reshape(3, 4)
    layers = [torch.nn.Linear(6, 4), torch.nn.Linear(4, 3)]
    with torch.no_grad():
        for layer, weight in zip(layers, (w1, w2)):
            layer.weight.copy_(torch.from_numpy(weight))
    torch_prune.global_unstructured([(layer, "weight") for layer in layers],
                                    pruning_method=torch_prune.L1Unstructured, amount=amount)
    _, masks = global_magnitude_prune({"fc1": w1, "fc2": w2}, amount)
    np.testing.assert_array_equal(masks["fc1"], layers[0].weight_mask.numpy().astype(bool))
    np.testing.assert_array_equal(masks["fc2"], layers[1].weight_mask.numpy().astype(bool))


def test_sparse_linear_matches_dense_and_torch():
    rng = np.random.default_rng(0)
    w, _ = magnitude_prune(rng.standard_normal((7, 11)), 0.8)
    x, b = rng.standard_normal((4, 11)), rng.standard_normal(7)
    w_csr = to_csr(w)
    assert isinstance(w_csr, scipy.sparse.csr_array) and w_csr.nnz == np.count_nonzero(w)
    np.testing.assert_allclose(sparse_linear(x, w_csr, b), x @ w.T + b, rtol=1e-12, atol=1e-12)
    expected = torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b))
    np.testing.assert_allclose(sparse_linear(x, w_csr, b), expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse_linear(x[0], w_csr), w @ x[0], rtol=1e-12, atol=1e-12)
    assert to_csr(np.ones((2, 3, 4))).shape == (2, 12)  # N-D: one row per output unit


def test_storage_formats_are_registered():
    torch.manual_seed(0)
    model = cl.build_model("lenet300")
    params = [p.detach().numpy() for p in model.parameters()]
    assert cl.storage_bytes(model, "csr") == sum(csr_bytes(p) for p in params)
    assert cl.storage_bytes(model, "bitmask") == sum(bitmask_bytes(p) for p in params)
    pruned, _ = global_magnitude_prune(params, 0.9)
    assert cl.storage_bytes(pruned, "csr") < 0.25 * cl.storage_bytes(pruned, "float32")
