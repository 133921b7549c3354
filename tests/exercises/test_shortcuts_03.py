"""Notebook 03's exercises: the library's one-call answers earn nothing, the instructor's solutions earn full marks,
and the outcome's published rule gives the credit it prints."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

import course_lib as cl
from course_lib import pruning
from course_lib.pruning import nn as prune_nn


def next_masks(weights, masks, n_pruned, min_kept):
    mags = np.concatenate([np.abs(np.asarray(w, dtype=float)).ravel() for w in weights])
    alive = np.concatenate([np.asarray(m, dtype=bool).ravel() for m in masks])
    layer = np.repeat(np.arange(len(weights)), [np.size(w) for w in weights])
    left, todo = [int(np.sum(m)) for m in masks], n_pruned - int((~alive).sum())
    for j in np.argsort(mags, kind="stable"):                 # stable: ties by layer, then by index
        if todo == 0:
            break
        if alive[j] and left[layer[j]] > min_kept[layer[j]]:
            alive[j], left[layer[j]], todo = False, left[layer[j]] - 1, todo - 1
    parts = np.split(alive, np.cumsum([np.size(w) for w in weights])[:-1])
    return [part.reshape(np.shape(w)) for part, w in zip(parts, weights)]


def prune_and_retrain():
    model = cl.load_pretrained("lenet300")
    train = cl.load_mnist("train")
    fit = (train.images[:55000], train.labels[:55000], train.classes)
    held_out = (train.images[55000:], train.labels[55000:], train.classes)
    pruned, masks, _ = prune_nn.iterative_prune(model, 0.95, rounds=4, max_steps_per_round=200, train=fit,
                                                test=held_out, scope="global", rng=0)
    return {"masks": masks, "weights": {k: v.detach().numpy().copy() for k, v in pruned.state_dict().items()}}


def _torch_global(weights, masks, n_pruned, min_kept):
    """torch.nn.utils.prune: the old masks, then global_unstructured on what is left (no floor)."""
    layers = []
    for w, m in zip(weights, masks):
        layer = torch.nn.Linear(1, 1, bias=False)
        layer.weight = torch.nn.Parameter(torch.as_tensor(np.asarray(w, dtype=np.float64).reshape(1, -1)))
        torch.nn.utils.prune.custom_from_mask(layer, "weight", torch.as_tensor(np.asarray(m).reshape(1, -1)))
        layers.append(layer)
    more = int(n_pruned - sum(int((~np.asarray(m)).sum()) for m in masks))
    torch.nn.utils.prune.global_unstructured([(la, "weight") for la in layers],
                                             pruning_method=torch.nn.utils.prune.L1Unstructured, amount=more)
    return [la.weight_mask.numpy().astype(bool).reshape(np.shape(w)) for la, w in zip(layers, weights)]


def test_next_masks():
    assert_full_marks("03-next-masks", next_masks)
    assert_no_shortcut(
        "03-next-masks",
        global_magnitude_prune=lambda w, m, n, f: pruning.global_magnitude_prune(w, n)[1],
        and_old_masks=lambda w, m, n, f: [a & b for a, b in zip(pruning.global_magnitude_prune(w, n)[1], m)],
        # the pruned weights zeroed first: right without the floors, which every case reaches
        zeroed_first=lambda w, m, n, f: pruning.global_magnitude_prune(
            [np.where(b, a, 0.0) for a, b in zip(w, m)], n)[1],
        torch_global_unstructured=_torch_global,
        # the floors, but each layer ranked alone with the share of the new total
        per_layer=lambda w, m, n, f: [pruning.magnitude_mask(np.where(b, a, 0.0), round(n * a.size / sum(
            x.size for x in w))) for a, b in zip(w, m)])


def _one_shot(sparsity):
    model = cl.load_pretrained("lenet300")
    masks = prune_nn.masks_for(model, sparsity, scope="global")
    return {"masks": masks, "weights": {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}}


def _credit(answer):
    return grader_credit("03-outcome-retrained", lambda: answer)[0]


def test_outcome_retrained_naive():
    # the dense model: sparsity 0, no credit
    dense = _one_shot(0.0)
    assert _credit(dense) == 0.0
    assert selfcheck_credit("03-outcome-retrained", lambda: dense)[0] == 1.0  # its form is right
    # one-shot to 95 %, no retraining: about 20 points lost, no credit
    assert _credit(_one_shot(0.95)) == 0.0
    # one-shot to 70 %, no retraining: within a point, but sparsity 70 % -> (0.70 - 0.5) / (0.95 - 0.5) = 44 %
    assert _credit(_one_shot(0.70)) == pytest.approx(0.2 / 0.45)
    # one-shot to 75 %: 1.26 points lost (87 %), sparsity 75 % -> 56 %
    assert _credit(_one_shot(0.75)) == pytest.approx(0.25 / 0.45)


def test_outcome_retrained_masks_enforced():
    # dense weights with 95 %-sparse masks: the grader zeroes the weights outside the masks -> one-shot's damage
    answer = _one_shot(0.95)
    assert _credit(answer) == 0.0


def test_outcome_retrained_form():
    good = _one_shot(0.5)
    for bad in ({"masks": good["masks"]}, dict(good, masks={k: v.astype(int) for k, v in good["masks"].items()}),
                dict(good, weights={k: v[:-1] for k, v in good["weights"].items()}), [1]):
        assert selfcheck_credit("03-outcome-retrained", lambda bad=bad: bad)[0] == 0.0


@pytest.mark.slow
def test_outcome_retrained_solution():
    answer = prune_and_retrain()
    assert pruning.sparsity(list(answer["masks"].values())) == pytest.approx(0.95, abs=1e-4)
    assert_full_marks("03-outcome-retrained", lambda: answer)
    # missing the sparsity by a little: 1,000 of fc1's pruned weights back, at their trained values -> 94.6 %,
    # credit (s - 0.5) / (0.95 - 0.5) = 99 % (the accuracy stays within the point)
    dense_fc1 = cl.load_pretrained("lenet300").fc1.weight.detach().numpy()
    mask, w = answer["masks"]["fc1.weight"].copy(), answer["weights"]["fc1.weight"].copy()
    back = np.argsort(np.where(mask, 0.0, np.abs(dense_fc1)).ravel())[-1000:]
    mask.ravel()[back], w.ravel()[back] = True, dense_fc1.ravel()[back]
    near = {"masks": {**answer["masks"], "fc1.weight": mask}, "weights": {**answer["weights"], "fc1.weight": w}}
    s = pruning.sparsity([near["weights"][k] * near["masks"][k] for k in near["masks"]])
    assert 0.94 < s < 0.95
    assert _credit(near) == pytest.approx((s - 0.5) / 0.45)
