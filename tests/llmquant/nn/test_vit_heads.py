"""Head importance (Michel et al. 2019) against a per-image backward pass, global ranking, physical head pruning."""

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.llmquant.nn.heads import head_importance, heads_to_keep, prune_heads


@pytest.fixture(scope="module")
def test_set():
    return cl.load_mnist("test", limit=64)


def random_vit(seed=0, heads=4):
    torch.manual_seed(seed)
    return cl.models.MnistViT(heads=heads).eval()


def macs_per_image(model):
    """Multiply-adds of one image: every Linear on each of its tokens, and the two attention products."""
    tokens, hd = 50, model.head_dim
    total = 49 * model.patch.in_features * model.patch.out_features + model.dim * 10
    for b in model.blocks:
        linears = [b.attn.q, b.attn.k, b.attn.v, b.attn.proj, b.fc1, b.fc2]
        total += tokens * sum(m.in_features * m.out_features for m in linears)
        total += 2 * b.attn.heads * tokens * tokens * hd
    return total


def test_importance_is_the_mean_absolute_gradient_of_each_image(test_set):
    model = random_vit(1)
    x = cl.to_tensor(test_set.images[:6])
    y = torch.from_numpy(test_set.labels[:6].astype(np.int64))
    gates = [b.attn.gate for b in model.blocks]
    for g in gates:
        g.requires_grad_(True)
    ref = np.zeros((4, 4))
    for j in range(6):
        for g in gates:
            g.grad = None
        torch.nn.functional.cross_entropy(model(x[j:j + 1]), y[j:j + 1]).backward()
        ref += np.stack([g.grad.abs().double().numpy() for g in gates])
    for g in gates:
        g.requires_grad_(False)
        g.grad = None
    ref /= 6
    raw = head_importance(model, test_set.images[:6], test_set.labels[:6], batch_size=4, normalize=False)
    np.testing.assert_allclose(raw, ref, rtol=1e-4, atol=1e-9)
    norm = head_importance(model, test_set.images[:6], test_set.labels[:6])
    np.testing.assert_allclose(norm, ref / np.linalg.norm(ref, axis=1, keepdims=True), rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(norm, axis=1), 1.0)
    # the model is left as it was: gates ones, no gradient, eval mode
    assert all(not g.requires_grad and g.grad is None and torch.equal(g, torch.ones(4)) for g in gates)
    assert not model.training


def test_importance_of_a_pruned_model_marks_missing_heads(test_set):
    model = random_vit(2, heads=[4, 0, 2, 1])
    imp = head_importance(model, test_set.images[:8], test_set.labels[:8])
    assert imp.shape == (4, 4)
    assert np.isnan(imp[1]).all() and np.isnan(imp[2, 2:]).all() and np.isfinite(imp[2, :2]).all()
    three = heads_to_keep(imp, 3)
    assert sum(map(len, three)) == 3 and three[1] == []
    assert all(h < 2 for h in three[2]) and all(h < 1 for h in three[3])
    keep = heads_to_keep(imp, 7)
    assert [len(k) for k in keep] == [4, 0, 2, 1]


def test_heads_to_keep_ranks_globally():
    imp = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, np.nan], [0.3, 0.7, 0.6]])
    assert heads_to_keep(imp, 4) == [[0], [1], [1, 2]]
    assert heads_to_keep(imp, 0) == [[], [], []]
    assert heads_to_keep(imp, 8) == [[0, 1, 2], [0, 1], [0, 1, 2]]
    with pytest.raises(ValueError, match="total"):
        heads_to_keep(imp, 9)
    with pytest.raises(TypeError, match="total"):
        heads_to_keep(imp, 2.0)
    with pytest.raises(ValueError, match="importance"):
        heads_to_keep(np.ones(4), 2)


def test_pruning_a_head_equals_zeroing_its_gate(test_set):
    model = random_vit(3)
    x = cl.to_tensor(test_set.images[:20])
    keep = [[0, 2], [1, 2, 3], [], [3]]
    small = prune_heads(model, keep)
    assert [b.attn.heads for b in small.blocks] == [2, 3, 0, 1]
    gated = random_vit(3)
    for b, k in zip(gated.blocks, keep):
        b.attn.gate.zero_()
        b.attn.gate[k] = 1.0
    with torch.no_grad():
        torch.testing.assert_close(small(x), gated(x), rtol=0, atol=1e-5)
        torch.testing.assert_close(prune_heads(model, [[0, 1, 2, 3]] * 4)(x), model(x), rtol=0, atol=0)
        # the order of the indices does not matter
        torch.testing.assert_close(prune_heads(model, [[2, 0], [3, 1, 2], [], [3]])(x), small(x), rtol=0, atol=0)
    rows = torch.cat([torch.arange(0, 16), torch.arange(32, 48)])
    assert torch.equal(small.blocks[0].attn.q.weight, model.blocks[0].attn.q.weight[rows])
    assert torch.equal(small.blocks[3].attn.proj.weight, model.blocks[3].attn.proj.weight[:, 48:64])
    assert all(torch.equal(model.blocks[i].attn.gate, torch.ones(4)) for i in range(4))  # model not modified
    n_params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    removed = 10 * (3 * (64 * 16 + 16) + 16 * 64)  # ten heads: q, k, v rows with their biases, proj columns
    assert n_params(model) == 139_018 and n_params(small) == 139_018 - removed
    assert macs_per_image(small) == macs_per_image(model) - 10 * (50 * 4 * 64 * 16 + 2 * 50 * 50 * 16)


def test_keep_is_validated():
    model = random_vit(4)
    for bad, error, match in [([[0]] * 3, ValueError, "one per block"), ([[0], [1], [2], 3], TypeError, r"keep\[3\]"),
                              ([[0], [1.0], [2], [3]], TypeError, "ints"), ([[0, 0], [1], [2], [3]], ValueError,
                                                                            "repeat"),
                              ([[0], [4], [2], [3]], ValueError, r"0\.\.3"), ([[0], [-1], [2], [3]], ValueError,
                                                                             r"0\.\.3"),
                              ([[True], [1], [2], [3]], TypeError, "ints"), ("0123", ValueError, "one per block")]:
        with pytest.raises(error, match=match):
            prune_heads(model, bad)
    with pytest.raises(TypeError, match="MnistViT"):
        prune_heads(cl.models.LeNet300100(), [[0]] * 4)
    with pytest.raises(ValueError, match="labels"):
        head_importance(model, np.zeros((3, 28, 28), np.uint8), np.array([1, 2]))
    with pytest.raises(ValueError, match="no attention heads"):
        head_importance(random_vit(5, heads=0), np.zeros((2, 28, 28), np.uint8), np.array([1, 2]))
    with pytest.raises(ValueError, match="batch_size"):
        head_importance(model, np.zeros((2, 28, 28), np.uint8), np.array([1, 2]), batch_size=0)
