import io

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib import pruning
from course_lib.pruning.nn import (
    apply_masks,
    export_pruned,
    fine_tune,
    iterative_prune,
    load_pruned,
    masks_for,
    one_shot_prune,
    prunable_weights,
)

from helpers import assert_state_equal, mnist_subset, raises, state_copy
from helpers import fresh_model as fresh

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mnist():
    return mnist_subset(2000, 500)


# --------------------------------------------------------------------------- masks

def test_prunable_weights_names_and_copies():
    assert list(prunable_weights(fresh())) == ["fc1.weight", "fc2.weight", "fc3.weight"]
    assert list(prunable_weights(fresh("lenet5"))) == ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"]
    vgg = prunable_weights(fresh("cifar_vgg"))
    assert list(vgg)[0] == "features.0.weight" and list(vgg)[-1] == "classifier.7.weight"
    model = fresh()
    weights = prunable_weights(model)
    weights["fc1.weight"][:] = 0.0  # a copy: the model is untouched
    assert torch.count_nonzero(model.fc1.weight) == model.fc1.weight.numel()


def test_masks_for_layer_global_and_keep_last():
    model = fresh("lenet5")
    weights = prunable_weights(model)
    masks = masks_for(model, 0.7)
    assert list(masks) == list(weights)
    for name, mask in masks.items():
        assert mask.dtype == bool and mask.shape == weights[name].shape
        assert (~mask).sum() == round(0.7 * mask.size)
    global_masks = masks_for(model, 0.7, scope="global")
    _, expected = pruning.global_magnitude_prune(weights, 0.7)
    assert all(np.array_equal(global_masks[n], expected[n]) for n in weights)
    kept_last = masks_for(model, 0.7, scope="global", keep_last=True)
    assert kept_last["fc2.weight"].all()
    others = {n: w for n, w in weights.items() if n != "fc2.weight"}
    assert pruning.sparsity([kept_last[n] for n in others]) == pytest.approx(0.7, abs=1e-6)


def test_apply_masks_returns_a_new_model_with_zeros():
    model = fresh()
    before = state_copy(model)
    masks = masks_for(model, 0.5)
    masks["fc3.weight"] = torch.from_numpy(masks["fc3.weight"])  # torch bool masks work too
    pruned = apply_masks(model, masks)
    assert pruned is not model
    assert_state_equal(model, before)
    for name, w in prunable_weights(pruned).items():
        mask = np.asarray(masks[name])
        assert not w[~mask].any()
        np.testing.assert_array_equal(w[mask], before[name].numpy()[mask])
    partial = apply_masks(model, {"fc2.weight": masks["fc2.weight"]})  # a subset of layers
    assert torch.equal(partial.fc1.weight, model.fc1.weight)


def test_bad_masks_and_arguments():
    model = fresh()
    good = masks_for(model, 0.5)
    raises(ValueError, "masks has unknown layer name(s) ['fc4.weight'], must be among 'fc1.weight', "
           "'fc2.weight', 'fc3.weight'.", apply_masks, model, {"fc4.weight": good["fc1.weight"]})
    raises(ValueError, "masks['fc1.weight'] has shape (3, 4), must match the weight's shape (300, 784).",
           apply_masks, model, {"fc1.weight": np.ones((3, 4), dtype=bool)})
    raises(TypeError, "masks['fc3.weight'] must be a bool array (True = kept), got dtype float64.",
           apply_masks, model, {"fc3.weight": good["fc3.weight"].astype(float)})
    raises(TypeError, "masks must be a dict of layer name -> bool array, got list.", apply_masks, model, [])
    raises(TypeError, "model must be a torch.nn.Module, got dict.", prunable_weights, {})
    raises(ValueError, "sparsity == 1.0, must be in [0, 1).", masks_for, model, 1.0)
    raises(ValueError, "scope == 'net', must be one of 'layer', 'global'.", masks_for, model, 0.5, scope="net")
    raises(TypeError, "keep_last must be True or False, got int (1).", masks_for, model, 0.5, keep_last=1)
    raises(ValueError, "model (ReLU) has no nn.Linear or nn.Conv2d layer to prune.", masks_for,
           torch.nn.ReLU(), 0.5)
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    raises(ValueError, "images and labels differ in length: 4 != 3, must be equal.", fine_tune, model, good, images,
           np.zeros(3, dtype=np.int64))
    raises(TypeError, "images must be a uint8 array as returned by course_lib.data, got dtype float64.",
           fine_tune, model, good, images.astype(float), np.zeros(4, dtype=np.int64))
    raises(TypeError, "train must be a Dataset tuple (images, labels, classes) as returned by course_lib.data, "
           "got list.", iterative_prune, model, 0.5, rounds=2, train=[], test=(images, np.zeros(4)))


# --------------------------------------------------------------------------- fine-tuning on real MNIST

def test_fine_tune_keeps_pruned_weights_at_zero_and_is_deterministic(mnist):
    train, _ = mnist
    model = fresh()
    before = state_copy(model)
    masks = masks_for(model, 0.8, scope="global")

    def run():
        torch.manual_seed(1)
        return fine_tune(model, masks, train.images, train.labels, max_steps=8, batch_size=64, rng=0)

    tuned = run()
    assert_state_equal(model, before)  # the input model is not mutated
    assert not tuned.training
    for name, w in prunable_weights(tuned).items():
        assert not w[~masks[name]].any(), f"{name}: a pruned weight came back"
        assert not np.array_equal(w[masks[name]], before[name].numpy()[masks[name]]), f"{name} did not train"
    again = run()
    assert all(torch.equal(a, b) for a, b in zip(tuned.state_dict().values(), again.state_dict().values()))


def test_iterative_prune_history_and_one_shot(mnist):
    train, test = mnist
    model = cl.load_pretrained("lenet300")
    before = state_copy(model)
    torch.manual_seed(0)
    pruned, masks, history = iterative_prune(model, 0.9, rounds=3, train=train, test=test,
                                             max_steps_per_round=6, batch_size=64, rng=0)
    assert_state_equal(model, before)
    assert [row["round"] for row in history] == [0, 1, 2, 3]
    sparsities = [row["sparsity"] for row in history]
    assert sparsities[0] == 0.0 and all(b > a for a, b in zip(sparsities, sparsities[1:]))
    assert sparsities[-1] == pytest.approx(0.9, abs=1e-4)
    np.testing.assert_allclose([row["target"] for row in history[1:]], pruning.iterative_schedule(0.9, 3))
    assert history[0]["accuracy"] > 0.95 and history[-1]["accuracy"] > 0.75
    # the retraining between rounds is what keeps it there: the same masks on the trained weights, not retrained,
    # lose far more (about 0.64 against 0.81 on these images)
    raw = cl.accuracy(apply_masks(model, masks), test.images, test.labels)
    assert history[-1]["accuracy"] > raw + 0.08, (history[-1]["accuracy"], raw)
    assert pruning.sparsity(masks) == pytest.approx(pruning.sparsity(prunable_weights(pruned)))
    for name, w in prunable_weights(pruned).items():
        assert not w[~masks[name]].any()

    torch.manual_seed(0)
    _, one_masks, one_history = one_shot_prune(model, 0.9, train=train, test=test, max_steps=18, batch_size=64,
                                                rng=0)
    assert [row["round"] for row in one_history] == [0, 1]
    assert one_history[-1]["sparsity"] == pytest.approx(0.9, abs=1e-4)
    assert_state_equal(model, before)


# --------------------------------------------------------------------------- sparse export

@pytest.mark.parametrize("name", ["lenet300", "lenet5"])
def test_export_and_load_round_trip(tmp_path, name):
    model = fresh(name).eval()
    before = state_copy(model)
    masks = masks_for(model, 0.9)
    path = tmp_path / f"{name}-pruned.pt"
    written = export_pruned(model, masks, path)
    assert written == path.stat().st_size
    assert_state_equal(model, before)

    masked = apply_masks(model, masks)
    buffer = io.BytesIO()
    torch.save(masked.state_dict(), buffer)
    assert written < 0.35 * buffer.tell()

    loaded = load_pruned(path, name)
    assert all(p.layout == torch.strided for p in loaded.state_dict().values())
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(loaded(x), masked(x))


def test_load_pruned_wrong_architecture(tmp_path):
    model = fresh()
    path = tmp_path / "lenet300.pt"
    export_pruned(model, masks_for(model, 0.5), path)
    with pytest.raises(ValueError, match=r"does not hold a 'lenet5' model"):
        load_pruned(path, "lenet5")
    raises(TypeError, "path must be a str or a path, got int (3).", export_pruned, model, {}, 3)
