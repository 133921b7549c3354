"""Weight sharing of PyTorch models: codebook gradients equal autograd and eq. 3, centroid fine-tuning, the file."""

import os

import numpy as np
import pytest
import torch
from torch import nn

import course_lib.sharing as S
from course_lib.pruning import magnitude_prune
from course_lib.sharing import nn as SN

from helpers import fresh_model


def _pruned(name="lenet300", amount=0.9, seed=0):
    model = fresh_model(name, seed)
    with torch.no_grad():
        for layer in [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]:
            layer.weight.copy_(torch.from_numpy(magnitude_prune(layer.weight.numpy(), amount)[0]))
    return model.eval()


def _tiny():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    with torch.no_grad():
        model[0].weight[model[0].weight.abs() < 0.1] = 0
        model[3].weight[model[3].weight.abs() < 0.05] = 0
    return model


def test_share_model_ties_each_weight_to_its_codebook_and_keeps_pruned_zeros():
    model = _pruned()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    shared = SN.share_model(model, {"fc1": 5, "fc2": 4})
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is untouched
    layers = SN.shared_layers(shared)
    assert list(layers) == ["fc1", "fc2"] and torch.equal(shared.fc3.weight, model.fc3.weight)
    for name, bits in (("fc1", 5), ("fc2", 4)):
        w = getattr(model, name).weight.detach().numpy()
        codebook, indices = S.share_weights(w, bits, mask=w != 0)
        got_book, got_idx, got_mask = layers[name]
        np.testing.assert_array_equal(got_book, codebook)
        np.testing.assert_array_equal(got_idx, indices)
        np.testing.assert_array_equal(got_mask, w != 0)
        np.testing.assert_array_equal(getattr(shared, name).weight.detach().numpy(),
                                      S.reconstruct(codebook, indices, w != 0))
    trainable = [n for n, p in shared.named_parameters() if p.requires_grad]
    assert "fc1.parametrizations.weight.0.codebook" in trainable
    assert "fc1.parametrizations.weight.original" not in trainable


def test_codebook_gradient_is_autograd_and_the_sum_of_its_weights_gradients():
    model = _tiny()
    shared = SN.share_model(model, 2)
    plain = SN.materialize(shared)
    x = torch.randn(4, 2, 6, 6, generator=torch.Generator().manual_seed(1))
    target = torch.randn(4, 5, generator=torch.Generator().manual_seed(2))
    for net in (shared, plain):
        ((net(x) - target) ** 2).sum().backward()
    for name, (_, indices, mask) in SN.shared_layers(shared).items():
        layer = shared.get_submodule(name)
        autograd = layer.parametrizations.weight[0].codebook.grad.numpy()
        weight_grad = plain.get_submodule(name).weight.grad.numpy()
        eq3 = S.centroid_gradient(weight_grad, indices, 4, mask)
        np.testing.assert_allclose(autograd, eq3, rtol=1e-5, atol=1e-6)
        assert np.abs(eq3).max() > 0


def test_one_sgd_step_moves_each_centroid_by_lr_times_its_summed_gradient():
    shared = SN.share_model(_tiny(), 3)
    plain = SN.materialize(shared)
    x = torch.randn(8, 2, 6, 6, generator=torch.Generator().manual_seed(3))
    before = SN.shared_layers(shared)
    codebooks = [m.codebook for m in shared.modules() if isinstance(m, SN.SharedWeight)]
    optimizer = torch.optim.SGD(codebooks, lr=0.1)
    shared(x).square().mean().backward()
    plain(x).square().mean().backward()
    optimizer.step()
    for name, (codebook, indices, mask) in SN.shared_layers(shared).items():
        grad = S.centroid_gradient(plain.get_submodule(name).weight.grad.numpy(), indices, 8, mask)
        np.testing.assert_allclose(codebook, before[name][0] - 0.1 * grad, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(indices, before[name][1])


def test_fine_tuning_moves_only_the_centroids():
    shared = SN.share_model(_pruned(), 4)
    gen = np.random.default_rng(0)
    images = gen.integers(0, 256, size=(64, 28, 28), dtype=np.uint8)
    labels = gen.integers(0, 10, size=64)
    tuned = SN.fine_tune_centroids(shared, images, labels, max_steps=3, batch_size=16, lr=1e-2, rng=0)
    old, new = SN.shared_layers(shared), SN.shared_layers(tuned)
    for name in old:
        assert not np.array_equal(old[name][0], new[name][0])
        np.testing.assert_array_equal(old[name][1], new[name][1])
        np.testing.assert_array_equal(old[name][2], new[name][2])
        w = tuned.get_submodule(name).weight.detach().numpy()
        np.testing.assert_array_equal(w, S.reconstruct(*new[name]))
        assert np.all(w[~new[name][2]] == 0)
    assert torch.equal(tuned.fc1.bias, shared.fc1.bias)
    assert not tuned.training


@pytest.mark.parametrize("name, bits", [("lenet300", {"fc1": 5, "fc2": 5, "fc3": 5}), ("cifar_vgg", 4)])
def test_file_round_trip_gives_exactly_the_shared_model(tmp_path, name, bits):
    shared = SN.share_model(_pruned(name, 0.8), bits)
    path = tmp_path / f"{name}.dcwm"
    size = SN.save_shared_model(shared, path)
    assert size == os.path.getsize(path)
    dense = sum(p.numel() for p in shared.parameters() if not p.requires_grad or p.dim() > 1) * 4
    assert size < dense / 5
    for template in (name, shared):
        loaded = SN.load_shared_model(path, template)
        a, b = SN.materialize(shared).state_dict(), SN.materialize(loaded).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        x = torch.zeros((2, 1, 28, 28) if name == "lenet300" else (2, 3, 32, 32)).normal_(generator=torch.Generator())
        assert torch.equal(shared(x), loaded(x))


def test_bad_input_is_refused_before_anything_happens(tmp_path):
    model = _pruned()
    with pytest.raises(ValueError, match=r"bits names \['fc9'\], must name layers among"):
        SN.share_model(model, {"fc9": 3})
    with pytest.raises(TypeError, match="bits must be an int"):
        SN.share_model(model, "5")
    with pytest.raises(ValueError, match=r"bits\['fc1'\] == 0, must be >= 1"):
        SN.share_model(model, {"fc1": 0})
    with pytest.raises(ValueError, match="init == 'kmeans', must be one of"):
        SN.share_model(model, 3, init="kmeans")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        SN.share_model("lenet300", 3)
    shared = SN.share_model(model, 3)
    with pytest.raises(ValueError, match="model is already weight-shared"):
        SN.share_model(shared, 3)
    with pytest.raises(ValueError, match="model has no weight-shared layer"):
        SN.fine_tune_centroids(model, np.zeros((2, 28, 28), np.uint8), np.zeros(2, int))
    with pytest.raises(ValueError, match="lr == 0.0, must be > 0"):
        SN.fine_tune_centroids(shared, np.zeros((2, 28, 28), np.uint8), np.zeros(2, int), lr=0)
    path = tmp_path / "m.dcwm"
    with pytest.raises(ValueError, match="model has no weight-shared layer"):
        SN.save_shared_model(model, path)
    assert not path.exists()
    SN.save_shared_model(shared, path)
    with pytest.raises(ValueError, match="path stores layer 'fc1' of shape \\(300, 784\\), must fit a layer of model"):
        SN.load_shared_model(path, "lenet5")


def test_a_model_that_is_one_layer(tmp_path):
    torch.manual_seed(0)
    layer = nn.Linear(20, 7)
    shared = SN.share_model(layer, 3)
    assert list(SN.shared_layers(shared)) == [""]
    x = torch.randn(2, 20)
    path = tmp_path / "layer.dcwm"
    SN.save_shared_model(shared, path)
    loaded = SN.load_shared_model(path, layer)
    assert torch.equal(loaded(x), shared(x)) and torch.equal(SN.materialize(shared)(x), shared(x))
    assert type(SN.materialize(shared)) is nn.Linear and type(layer) is nn.Linear
