"""The fast paths of pruning give the same bits as the plain rules they replace.

* ``_smallest_removed`` (``np.partition``, linear time) == the stable-sort ranking ``magnitude_ranks >= k``;
* ``fine_tune`` masks with a 0/1 float multiply == the ``masked_fill_`` reference, bit for bit;
* ``iterative_prune`` scores the input model once (round 0 reuses it).
"""

import numpy as np
import pytest
import torch

from course_lib import pruning
from course_lib.pruning import nn as prune_nn
from course_lib.pruning.masks import _smallest_removed
from course_lib.pruning.nn.masks import prunable_params
from course_lib.train import adam_steps

from helpers import fresh_model, mnist_subset

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("kind", ["integers", "normal", "many zeros", "all equal"])
def test_linear_time_mask_equals_the_stable_ranking(kind):
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        if kind == "integers":
            m = np.abs(rng.integers(-3, 4, size=n)).astype(np.float32)
        elif kind == "normal":
            m = np.abs(rng.standard_normal(n))
        elif kind == "many zeros":
            m = np.where(rng.random(n) < 0.6, 0.0, np.abs(rng.standard_normal(n)))
        else:
            m = np.full(n, 0.5)
        ranks = pruning.magnitude_ranks(m)
        for k in range(n + 1):
            keep = _smallest_removed(m, k)
            np.testing.assert_array_equal(keep, ranks >= k, err_msg=f"{kind}, k={k}, m={m}")
            assert np.count_nonzero(~keep) == k


def test_magnitude_mask_on_a_real_sized_layer_matches_the_ranking():
    w = np.round(np.random.default_rng(3).standard_normal((300, 784)), 2)  # rounded: thousands of ties
    ranks = pruning.magnitude_ranks(np.abs(w).ravel()).reshape(w.shape)
    for amount in (0.0, 0.5, 0.9, 0.999, 1.0):
        k = round(amount * w.size)
        np.testing.assert_array_equal(pruning.magnitude_mask(w, amount), ranks >= k)


@pytest.fixture(scope="module")
def mnist():
    return mnist_subset(1000, 200)


def _masked_fill_reference(model, masks, images, labels, steps):
    """fine_tune as first written: masked_fill_ on the gradients and the weights."""
    new = prune_nn.apply_masks(model, masks)
    params = prunable_params(new)
    removed = {name: ~torch.from_numpy(m) for name, m in masks.items()}

    def zero_grads():
        for name, off in removed.items():
            params[name].grad.masked_fill_(off, 0.0)

    def reapply():
        with torch.no_grad():
            for name, off in removed.items():
                params[name].masked_fill_(off, 0.0)

    from course_lib.models import to_tensor

    return adam_steps(new, to_tensor(images), labels, epochs=1, max_steps=steps, batch_size=64, lr=1e-3,
                      gen=np.random.default_rng(0), progress=False, desc="", before_step=zero_grads,
                      after_step=reapply)


def test_fine_tune_is_bit_identical_to_masked_fill(mnist):
    train, _ = mnist
    model = fresh_model()
    masks = prune_nn.masks_for(model, 0.8, scope="global")
    masks["fc3.weight"] = np.ones_like(masks["fc3.weight"])  # a layer left dense is skipped, still exact
    fast = prune_nn.fine_tune(model, masks, train.images, train.labels, max_steps=6, batch_size=64, rng=0)
    slow = _masked_fill_reference(model, masks, train.images, train.labels, 6)
    for (name, a), b in zip(fast.state_dict().items(), slow.state_dict().values()):
        assert torch.equal(a.view(torch.int32), b.view(torch.int32)), f"{name} differs (bits)"
    for name, w in prunable_params(fast).items():
        removed = w.detach()[~torch.from_numpy(masks[name])]
        assert not removed.any() and not torch.signbit(removed).any(), f"{name}: a removed weight is not +0.0"


def test_iterative_prune_scores_the_input_model_once(mnist, monkeypatch):
    from course_lib.pruning.nn import finetune

    train, test = mnist
    calls = []
    real = finetune.accuracy
    monkeypatch.setattr(finetune, "accuracy", lambda m, x, y: calls.append(m) or real(m, x, y))
    model = fresh_model()
    _, _, history = prune_nn.iterative_prune(model, 0.5, rounds=2, train=train, test=test, max_steps_per_round=2,
                                             batch_size=64, rng=0)
    assert len(calls) == 1 + 2 * 2  # the input once, then after pruning and after retraining in each round
    assert calls.count(model) == 1
    assert history[0]["accuracy"] == history[0]["accuracy_pruned"] == real(model, test.images, test.labels)


def test_iterative_prune_equals_rounds_of_public_fine_tune(mnist):
    """The images are converted once per run; the result is that of the plain loop, bit for bit."""
    train, test = mnist
    model = fresh_model()
    pruned, masks, _ = prune_nn.iterative_prune(model, 0.75, rounds=2, train=train, test=test,
                                                max_steps_per_round=3, batch_size=64, scope="global", rng=5)
    gen, current, kept = np.random.default_rng(5), model, None
    for target in pruning.iterative_schedule(0.75, 2):
        new = prune_nn.masks_for(current, target, scope="global")
        kept = new if kept is None else {n: new[n] & kept[n] for n in new}
        current = prune_nn.fine_tune(prune_nn.apply_masks(current, kept), kept, train.images, train.labels,
                                     max_steps=3, batch_size=64, rng=gen)
    assert all(np.array_equal(masks[n], kept[n]) for n in masks)
    for (name, a), b in zip(pruned.state_dict().items(), current.state_dict().values()):
        assert torch.equal(a, b), name
