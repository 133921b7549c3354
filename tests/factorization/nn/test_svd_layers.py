"""A Linear layer as two Linear layers: output == x (A B)^T + b, the model converter, bytes and messages."""

import numpy as np
import pytest
import torch
from torch import nn

import course_lib as cl
from course_lib.factorization import truncated_svd
from course_lib.factorization.nn import factorize_linear, factorize_model, fine_tune_factorized, linear_latency
from course_lib.quantization.nn import model_bytes

from helpers import mnist_subset, raises


@pytest.mark.parametrize("method", ["exact", "randomized"])
def test_factorized_layer_output(method):
    torch.manual_seed(0)
    layer = nn.Linear(40, 30).double()
    with torch.no_grad():  # a weight of rank 12: the randomized SVD finds it exactly too
        layer.weight.copy_(torch.randn(30, 12, dtype=torch.float64) @ torch.randn(12, 40, dtype=torch.float64))
    two = factorize_linear(layer, 12, method=method, power_iterations=3)
    first, second = two
    assert first.bias is None and second.bias is not None
    assert (first.weight.shape, second.weight.shape) == ((12, 40), (30, 12))
    a, b = second.weight.detach().numpy(), first.weight.detach().numpy()
    x = torch.randn(7, 40, dtype=torch.float64)
    expected = x.numpy() @ (a @ b).T + layer.bias.detach().numpy()
    np.testing.assert_allclose(two(x).detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    # A B is the rank-12 truncated SVD of the weight
    best = truncated_svd(layer.weight.detach().numpy(), 12).reconstruct()
    np.testing.assert_allclose(a @ b, best, atol=1e-10)
    np.testing.assert_allclose(two(x).detach().numpy(), layer(x).detach().numpy(), atol=1e-10)


def test_rank_rules_and_no_bias():
    layer = nn.Linear(50, 20, bias=False)
    assert factorize_linear(layer, compression=2.0)[0].out_features == 7  # 1000 / (k 70) >= 2
    assert factorize_linear(layer, energy=1.0)[0].out_features == 20
    assert factorize_linear(layer, 3)[1].bias is None


def test_model_converter_bytes_and_accuracy(mnist_available):
    model = cl.load_pretrained("lenet300")
    _, test = mnist_subset(100, 1000)
    new = factorize_model(model, {"fc1": 50, "fc2": 60})
    assert isinstance(new.fc1, nn.Sequential) and isinstance(model.fc1, nn.Linear)  # a copy
    assert new.fc3 is not model.fc3 and torch.equal(new.fc3.weight, model.fc3.weight)
    weights = 50 * (784 + 300) + 60 * (300 + 100) + 100 * 10
    biases = 300 + 100 + 10
    assert cl.count_parameters(new) == weights + biases
    assert model_bytes(new) == 4 * (weights + biases)
    assert cl.accuracy(new, test.images, test.labels) > cl.accuracy(model, test.images, test.labels) - 0.03
    cnn = factorize_model(cl.load_pretrained("cifar_vgg"), {"classifier.1": 64})
    assert cnn.classifier[1][0].weight.shape == (64, 2048)


def test_fine_tuning_changes_the_factors_only_in_the_copy(mnist_available):
    model = factorize_model(cl.load_pretrained("lenet300"), {"fc1": 20})
    train, test = mnist_subset(2000, 1000)
    before = model.fc1[0].weight.detach().clone()
    tuned = fine_tune_factorized(model, train.images, train.labels, max_steps=30, lr=1e-3)
    assert torch.equal(model.fc1[0].weight, before) and not torch.equal(tuned.fc1[0].weight, before)
    assert cl.accuracy(tuned, test.images, test.labels) >= cl.accuracy(model, test.images, test.labels) - 0.01


def test_latency_helper_runs(one_thread):
    layer = nn.Linear(256, 256)
    assert linear_latency(layer, batch=4, repeats=3) > 0
    assert linear_latency(factorize_linear(layer, 8), batch=4, repeats=3) > 0


MODEL = cl.build_model("lenet5")


@pytest.mark.parametrize("call,exc,message", [
    (lambda: factorize_linear(MODEL.conv1, 2), TypeError,
     "layer is a Conv2d, must be a torch.nn.Linear (a convolution is factorized by flattening it, notebook 07)."),
    (lambda: factorize_linear(nn.Linear(4, 3), 0), ValueError, "rank == 0, must be >= 1."),
    (lambda: factorize_linear(nn.Linear(4, 3), 4), ValueError, "rank == 4, must be <= 3 (min(n, m) of a 3x4 matrix)."),
    (lambda: factorize_linear(nn.Linear(4, 3), 2, method="qr"), ValueError,
     "method == 'qr', must be one of 'exact', 'randomized'."),
    (lambda: factorize_linear(nn.Linear(4, 3), energy=0.9, method="randomized"), ValueError,
     "energy needs the whole spectrum, must be used with method='exact'."),
    (lambda: factorize_linear(nn.Linear(4, 3), 2, method="randomized", oversamples=-1), ValueError,
     "oversamples == -1, must be >= 0."),
    (lambda: factorize_linear(nn.Linear(4, 3), 2, method="randomized", power_iterations=-2), ValueError,
     "power_iterations == -2, must be >= 0."),
    (lambda: factorize_model(MODEL, {"conv1": 2}), TypeError,
     "ranks['conv1']: conv1 is a Conv2d, must be a torch.nn.Linear (a convolution is factorized by flattening it, "
     "notebook 07)."),
    (lambda: factorize_model(MODEL, {"standardize": 2}), TypeError,
     "ranks['standardize']: standardize is a Standardize, must be a torch.nn.Linear."),
    (lambda: factorize_model(MODEL, {"fc9": 2}), ValueError,
     "ranks names 'fc9', must name a layer of the model (its Linear layers: fc1, fc2)."),
    (lambda: factorize_model(MODEL, {"fc2": 11}), ValueError,
     "ranks['fc2']: rank == 11, must be <= 10 (min(n, m) of a 10x500 matrix)."),
    (lambda: factorize_model(MODEL, {}), ValueError, "ranks is empty, must name at least one Linear layer."),
    (lambda: factorize_model(MODEL, [("fc1", 2)]), TypeError, "ranks must be a dict of layer name -> rank, got list."),
    (lambda: factorize_model("lenet5", {"fc1": 2}), TypeError, "model must be a torch.nn.Module, got str."),
])
def test_bad_input(call, exc, message):
    raises(exc, message, call)


def test_a_precomputed_svd_is_reused():
    torch.manual_seed(1)
    layer = nn.Linear(30, 20)
    full = truncated_svd(layer.weight.detach().numpy(), 20)
    reused, fresh = factorize_linear(layer, 6, svd=full), factorize_linear(layer, 6)
    x = torch.randn(5, 30)
    torch.testing.assert_close(reused(x), fresh(x), rtol=1e-5, atol=1e-6)
    model = cl.build_model("lenet300")
    svd = truncated_svd(model.fc2.weight.detach().numpy(), 40)
    a = factorize_model(model, {"fc2": 10}, svds={"fc2": svd})
    b = factorize_model(model, {"fc2": 10})
    torch.testing.assert_close(a.fc2[1].weight @ a.fc2[0].weight, b.fc2[1].weight @ b.fc2[0].weight,
                               rtol=1e-5, atol=1e-6)
    raises(ValueError, "rank == 7, must be <= 6, the rank of the svd given.", factorize_linear, layer, 7,
           svd=full.truncate(6))
    raises(ValueError, "svd must be the TruncatedSVD of this layer's 20x30 weight (from truncated_svd), got "
           "TruncatedSVD.", factorize_linear, layer, 2, svd=svd)


def test_fine_tuning_only_the_trainable_part(cifar_available):
    model = factorize_model(cl.load_pretrained("cifar_vgg"), {"classifier.1": 32})
    train = cl.load_cifar10("train", limit=256, download=False)
    tuned = fine_tune_factorized(model, train.images, train.labels, max_steps=2, lr=1e-3, trainable=["classifier"])
    after = tuned.state_dict()
    for name, before in model.state_dict().items():
        if name.startswith("features") and not name.endswith("num_batches_tracked"):  # weights and statistics
            assert torch.equal(before, after[name]), name
    assert not torch.equal(model.classifier[1][0].weight, tuned.classifier[1][0].weight)
    raises(ValueError, "trainable[0] == 'head', must be one of " + ", ".join(
        repr(n) for n, _ in model.named_modules() if n) + ".", fine_tune_factorized, model, train.images,
        train.labels, trainable=["head"])
