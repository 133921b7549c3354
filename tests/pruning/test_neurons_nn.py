"""Neuron pruning on PyTorch models: activations, shrink_mlp, make_duplicate, cross-checks."""

import io
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import course_lib as cl
from course_lib.pruning import neurons
from course_lib.pruning.neurons import (
    activation_stats,
    find_duplicates,
    rarely_active,
    remove_neurons,
)
from course_lib.pruning.nn import collect_activations, make_duplicate, shrink_mlp

FAST = settings(max_examples=40, deadline=None)


def numpy_lenet(model, images):
    """LeNet300100's forward pass in NumPy, from its state dict."""
    p = {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()}
    x = ((images.reshape(len(images), -1) / 255.0) - 0.1307) / 0.3081
    for layer in ("fc1", "fc2"):
        x = np.maximum(x @ p[f"{layer}.weight"].T + p[f"{layer}.bias"], 0)
    return x @ p["fc3.weight"].T + p["fc3.bias"]


def logits(model, images):
    with torch.inference_mode():
        return model(cl.to_tensor(images)).numpy()


def saved_bytes(model):
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.tell()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)


@pytest.fixture(scope="module")
def small_lenet():
    torch.manual_seed(0)
    return cl.LeNet300100(hidden=(12, 8)).eval()


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(2, 10), st.data())
def test_removing_neurons_never_adds_parameters(seed, units, data):
    rng = np.random.default_rng(seed)
    w_in, b_in, w_out = rng.normal(size=(units, 5)), rng.normal(size=units), rng.normal(size=(3, units))
    drop = data.draw(st.lists(st.integers(0, units - 1), unique=True, max_size=units - 1))
    new = remove_neurons(w_in, b_in, w_out, drop)
    before, after = cl.count_parameters([w_in, b_in, w_out]), cl.count_parameters(list(new))
    assert after <= before
    assert before - after == len(drop) * (5 + 1 + 3)


def test_collect_activations_matches_torch(small_lenet, images):
    model = small_lenet.train()  # must come back in train mode
    acts = collect_activations(model, images, ("fc1", "fc2"), batch_size=7)
    assert model.training
    assert not model.fc1._forward_hooks and not model.fc2._forward_hooks
    with torch.no_grad():
        h1 = torch.relu(model.fc1(model.standardize(cl.to_tensor(images)).flatten(1)))
        h2 = torch.relu(model.fc2(h1))
    assert acts["fc1"].dtype == np.float32 and acts["fc1"].shape == (20, 12)
    np.testing.assert_allclose(acts["fc1"], h1.numpy(), atol=1e-6)
    np.testing.assert_allclose(acts["fc2"], h2.numpy(), atol=1e-6)
    # batching changes only the BLAS summation order
    np.testing.assert_allclose(collect_activations(model, images, "fc2")["fc2"], acts["fc2"], atol=1e-6)
    model.eval()


def test_shrink_mlp_cross_checks_numpy_and_torch(small_lenet, images):
    small = shrink_mlp(small_lenet, drop={"fc1": [0, 5, 11], "fc2": [3]})
    assert isinstance(small, cl.LeNet300100) and not small.training
    assert (small.fc1.out_features, small.fc2.out_features) == (9, 7)
    np.testing.assert_allclose(logits(small, images), numpy_lenet(small, images), atol=1e-4)
    p = {k: v.numpy() for k, v in small_lenet.state_dict().items()}
    w, b, v = remove_neurons(p["fc1.weight"], p["fc1.bias"], p["fc2.weight"], [0, 5, 11])
    np.testing.assert_array_equal(small.fc1.weight.detach().numpy(), w)
    np.testing.assert_array_equal(small.fc2.weight.detach().numpy(), np.delete(v, 3, axis=0))
    assert cl.count_parameters(small) == (784 + 1) * 9 + (9 + 1) * 7 + (7 + 1) * 10 < cl.count_parameters(small_lenet)
    assert saved_bytes(small) < saved_bytes(small_lenet)
    assert small_lenet.fc1.out_features == 12  # the input model is not changed


@pytest.mark.parametrize("layer", ["fc1", "fc2"])
def test_merging_a_made_duplicate_is_exact(small_lenet, images, layer):
    source = int(collect_activations(small_lenet, images, [layer])[layer].mean(0).argmax())  # an active neuron
    target = 7 if source < 7 else 0
    twin = make_duplicate(small_lenet, layer, source, target)
    weight = getattr(twin, layer).weight
    assert torch.equal(weight[target], weight[source])
    assert not torch.equal(getattr(small_lenet, layer).weight[target], weight[target])  # input not changed
    acts = collect_activations(twin, images, [layer])[layer]
    pair = (min(source, target), max(source, target))
    assert pair in find_duplicates(acts, tol=0)
    merged = shrink_mlp(twin, merge={layer: [pair]})
    assert getattr(merged, layer).out_features == getattr(twin, layer).out_features - 1
    np.testing.assert_allclose(logits(merged, images), logits(twin, images), atol=1e-5)


def test_pretrained_lenet300_shrinks_without_losing_accuracy(mnist_available):
    model = cl.load_pretrained("lenet300")
    test = cl.load_mnist("test", limit=1000)
    acts = collect_activations(model, test.images, ("fc1", "fc2"))
    stats = {layer: activation_stats(a) for layer, a in acts.items()}
    assert all(np.all((s["apoz"] >= 0) & (s["apoz"] <= 1)) for s in stats.values())
    drop = {layer: rarely_active(s, max_fire_rate=0.02) for layer, s in stats.items()}
    small = shrink_mlp(model, drop=drop)
    assert isinstance(small, cl.LeNet300100)
    assert small.fc1.out_features < 300 and small.fc2.out_features < 100
    assert cl.count_parameters(small) < 0.9 * cl.count_parameters(model)
    before = cl.accuracy(model, test.images, test.labels)
    after = cl.accuracy(small, test.images, test.labels)
    assert after >= before - 0.01, (before, after)


W_IN, B_IN, W_OUT = np.ones((3, 2)), np.zeros(3), np.ones((2, 3))


def test_bad_model_and_layer_messages(small_lenet, images):
    cases = [
        (lambda: shrink_mlp(small_lenet, drop={"fc3": [0]}), ValueError,
         "drop has layer 'fc3', must be one of 'fc1', 'fc2' (the hidden layers)."),
        (lambda: shrink_mlp(small_lenet, merge={"fc1": [(2, 2)]}), ValueError,
         "merge['fc1'] contains (2, 2): a neuron cannot be merged with itself."),
        (lambda: shrink_mlp(small_lenet, drop={"fc2": [8]}), ValueError,
         "drop['fc2'] contains 8, must be in [0, 7] (the layer has 8 neurons)."),
        (lambda: shrink_mlp(small_lenet, drop={"fc1": [1]}, merge={"fc1": [(0, 1)]}), ValueError,
         "drop['fc1'] and merge['fc1'] both contain neuron 1: a neuron is either removed or merged, not both."),
        (lambda: shrink_mlp(small_lenet, drop=[0]), TypeError, "drop must be a dict layer name -> neurons"),
        (lambda: shrink_mlp(cl.LeNet5()), TypeError, "model must be a LeNet300100, got LeNet5."),
        (lambda: make_duplicate(small_lenet, "fc1", 3, 3), ValueError,
         "source == target == 3, must be two different neurons."),
        (lambda: make_duplicate(small_lenet, "fc2", 0, 8), ValueError, "target == 8, must be <= 7."),
        (lambda: make_duplicate(small_lenet, "fc3", 0, 1), ValueError, "layer == 'fc3', must be one of 'fc1', 'fc2'."),
        (lambda: collect_activations(small_lenet, images, ["fc4"]), ValueError,
         "layers contains 'fc4', must name nn.Linear layers of the model: 'fc1', 'fc2', 'fc3'."),
        (lambda: collect_activations(small_lenet, images[:0], ["fc1"]), ValueError, "images is empty"),
        (lambda: collect_activations(small_lenet, images, []), ValueError, "layers is empty"),
        (lambda: collect_activations(lambda x: x, images, ["fc1"]), TypeError, "model must be a torch.nn.Module"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=re.escape(message)):
            call()


def test_module_exports():
    assert set(neurons.__all__) >= {"activation_stats", "rarely_active", "find_duplicates", "remove_neurons",
                                    "merge_neurons"}
    assert set(cl.pruning.nn.__all__) >= {"collect_activations", "shrink_mlp", "make_duplicate"}
