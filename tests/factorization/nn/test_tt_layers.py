"""TTLinear: the init variance (tensorly-torch's bug absent), the converter, tt_model, training works (Adam and
plain SGD), messages."""

import numpy as np
import pytest
import torch
from torch import nn

import course_lib as cl
from course_lib.factorization import tt_matrix
from course_lib.factorization.nn.tt import TTLinear, init_std, tt_linear_from, tt_model
from course_lib.train import adam_steps

from helpers import raises


@pytest.mark.parametrize("init", ["glorot", "he"])
@pytest.mark.parametrize("ins,outs,rank", [((4, 7, 7, 4), (4, 8, 8, 4), 1), ((4, 7, 7, 4), (4, 8, 8, 4), 8),
                                           ((4, 8, 8, 4), (4, 8, 8, 4), 16), ((7, 4, 7, 4), (5, 5, 5, 5), 4),
                                           ((2, 7, 8, 8, 7, 4), (4,) * 6, 4)])
def test_reconstructed_weight_std_is_within_10_percent_of_the_target(init, ins, outs, rank):
    for seed in range(3):
        layer = TTLinear(ins, outs, rank, init=init, rng=seed)
        target = init_std(layer.in_features, layer.out_features, init)
        if layer.in_features * layer.out_features > 5e7:  # the VGG layer: 100 random rows of W
            rows = torch.from_numpy(np.random.default_rng(seed).choice(layer.in_features, 100, replace=False))
            with torch.no_grad():
                w = layer(nn.functional.one_hot(rows, layer.in_features).float()) - layer.bias
        else:
            w = layer.weight().detach()
        assert abs(float(w.std()) / target - 1) < 0.1, (seed, float(w.std()), target)


def test_targets():
    assert init_std(784, 1024) == pytest.approx((2 / 1808) ** 0.5)
    assert init_std(784, 1024, "he") == pytest.approx((2 / 784) ** 0.5)


def test_converter_reproduces_the_layer_at_full_rank_and_keeps_the_bias():
    lin = cl.load_pretrained("lenet300").fc2  # 300 -> 100
    tt = tt_linear_from(lin, (3, 10, 10), (2, 5, 10), 10_000)
    x = torch.randn(7, 300, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(tt(x), lin(x), atol=1e-4)
        assert torch.allclose(tt.weight(), lin.weight, atol=1e-5)
    low = tt_linear_from(lin, (3, 10, 10), (2, 5, 10), eps=0.5)
    w = lin.weight.detach().double().numpy()
    err = np.linalg.norm(low.weight().detach().double().numpy() - w) / np.linalg.norm(w)
    assert err <= 0.5 + 1e-6 and low.params < tt.params
    ref = tt_matrix(w.T, (3, 10, 10), (2, 5, 10), eps=0.5)
    assert low.ranks == ref.ranks


def test_tt_model_replaces_the_named_layers_and_leaves_the_original():
    model = cl.load_pretrained("wide_mlp")
    before = model.fc1.weight.detach().clone()
    tt = tt_model(model, {"fc1": ((4, 7, 7, 4), (4, 8, 8, 4)), "fc2": ((4, 8, 8, 4), (4, 8, 8, 4))}, 1000)
    assert isinstance(tt.fc1, TTLinear) and isinstance(tt.fc2, TTLinear) and isinstance(tt.fc3, nn.Linear)
    assert torch.equal(model.fc1.weight, before)
    test = cl.load_mnist("test", limit=500)
    assert cl.accuracy(tt, test.images, test.labels) == pytest.approx(cl.accuracy(model, test.images, test.labels),
                                                                      abs=0.004)


def test_tt_network_trains_from_scratch():
    torch.manual_seed(0)
    model = tt_model(cl.build_model("wide_mlp"), {"fc1": ((4, 7, 7, 4), (4, 8, 8, 4)),
                                                  "fc2": ((4, 8, 8, 4), (4, 8, 8, 4))}, 4, decompose=False)
    train, test = cl.load_mnist("train", limit=6000), cl.load_mnist("test", limit=1000)
    before = cl.accuracy(model, test.images, test.labels)
    adam_steps(model, cl.to_tensor(train.images), train.labels, epochs=1, max_steps=150, batch_size=64, lr=3e-3,
               gen=np.random.default_rng(0), progress=False, desc="")
    after = cl.accuracy(model, test.images, test.labels)
    assert before < 0.3 and after > 0.85, (before, after)


def test_tt_network_trains_from_scratch_with_plain_sgd(one_thread):
    """torch.optim.SGD (momentum, no adaptive step) from random cores: the init variance has to be right.

    With the cores scaled so that the reconstructed weight is 100x too small (tensorly-torch's init), the same
    150 steps stay at chance (about 13 % and a loss of 2.30 when this test was written); Adam would hide that.
    """
    torch.manual_seed(0)
    model = tt_model(cl.build_model("wide_mlp"), {"fc1": ((4, 7, 7, 4), (4, 8, 8, 4)),
                                                  "fc2": ((4, 8, 8, 4), (4, 8, 8, 4))}, 4, decompose=False)
    train, test = cl.load_mnist("train", limit=6000), cl.load_mnist("test", limit=1000)
    x, y = cl.to_tensor(train.images), torch.from_numpy(train.labels.astype(np.int64))
    before = cl.accuracy(model, test.images, test.labels)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen, losses = np.random.default_rng(0), []
    model.train()
    for _ in range(150):
        idx = torch.from_numpy(gen.integers(0, len(y), 64))
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    after = cl.accuracy(model.eval(), test.images, test.labels)
    assert isinstance(model.fc1, TTLinear) and isinstance(model.fc2, TTLinear)
    assert before < 0.3 and after > 0.8, (before, after)
    assert np.mean(losses[-10:]) < 0.5 * losses[0], (losses[0], losses[-10:])


@pytest.mark.parametrize("call,exc,message", [
    (lambda: TTLinear((2, 7, 8, 8, 7, 4), (4,) * 5, 4), ValueError,
     "in_modes has 6 modes and out_modes 5, must have the same number (one core per pair)."),
    (lambda: TTLinear((2, 3), (2, 3), 0), ValueError, "ranks == 0, must be >= 1."),
    (lambda: TTLinear((2, 3), (2, 3), [2, 2, 1]), ValueError,
     "ranks[0] == 2, must be 1 (the boundary ranks of a train are 1)."),
    (lambda: TTLinear((2, 3), (2, 3), 2, init="xavier"), ValueError,
     "init == 'xavier', must be one of 'glorot', 'he'."),
    (lambda: TTLinear((2, 3), (2, 3), 2, bias=1), TypeError, "bias must be True or False, got int (1)."),
    (lambda: TTLinear((2, 3), (2, 3), 2)(torch.ones(6)), ValueError, "x has shape (6,), must be (batch, 6)."),
    (lambda: tt_linear_from(nn.Linear(6, 2), (2, 2), (2, 1), 1), ValueError,
     "prod(in_modes) == 4, must equal the number of input features 6."),
    (lambda: tt_linear_from(nn.Conv2d(1, 1, 1), (1,), (1,), 1), TypeError,
     "layer must be a torch.nn.Linear, got Conv2d."),
    (lambda: tt_model(cl.build_model("lenet300"), {"fc9": ((4,), (4,))}, 1), ValueError,
     "layers[0] == 'fc9', must be one of 'fc1', 'fc2', 'fc3'."),
    (lambda: tt_model(cl.build_model("lenet300"), {"fc2": ((3, 10, 10), (2, 5, 10))}, eps=0.1, decompose=False),
     ValueError, "decompose=False draws random cores: give rank (an int or d + 1 ints), not eps."),
    (lambda: tt_model(cl.build_model("lenet300"), {"fc2": ((3, 10, 10),)}, 2), ValueError,
     "layers['fc2'] == ((3, 10, 10),), must be a pair (in_modes, out_modes)."),
    (lambda: tt_model(nn.Linear(2, 2).weight, {}, 2), TypeError, "model must be a torch.nn.Module, got Parameter."),
])
def test_bad_input(call, exc, message):
    raises(exc, message, call)


def test_the_25088_message():
    raises(ValueError, "prod(in_modes) == 25087, must equal the number of input features 25088.",
           tt_model, nn.Sequential(nn.Linear(25088, 4096)), {"0": ((25087,), (4096,))}, 1)
