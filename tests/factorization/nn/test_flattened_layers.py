"""The flattened layer against torch's conv2d of the reconstructed filter: outputs, gradients, borders, converters."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_lib as cl
from course_lib.factorization import flatten_filters
from course_lib.factorization.nn import FlattenedConv2d, flatten_conv2d, flatten_model, flattened_conv2d

from helpers import raises


def _layer(c, f, k, rank, seed=0, **conv):
    torch.manual_seed(seed)
    layer = FlattenedConv2d(c, f, k, rank, **conv).double()
    with torch.no_grad():
        layer.bias.normal_()
    return layer


def test_rank1_output_and_every_gradient_match_conv2d_of_the_filter():
    # as jhjin/flattened-cnn checks it: W[f,c,y,x] = z[f,c] v[f,y] h[f,x]; the reference gradients of the
    # 1-D filters are the chain rule applied to conv2d's weight gradient
    gen = torch.Generator().manual_seed(0)
    f, c, y, x = 6, 5, 3, 3
    z, v, h = (torch.randn(f, n, generator=gen, dtype=torch.double) for n in (c, y, x))
    w = torch.einsum("fc,fy,fx->fcyx", z, v, h).requires_grad_(True)
    layer = FlattenedConv2d(c, f, (y, x), padding=1).double()
    with torch.no_grad():
        layer.lateral.copy_(z.reshape(f, c, 1, 1))
        layer.vertical.copy_(v.reshape(f, 1, y, 1))
        layer.horizontal.copy_(h.reshape(f, 1, 1, x))
        layer.bias.copy_(torch.randn(f, generator=gen, dtype=torch.double))
    inp = torch.randn(4, c, 8, 7, generator=gen, dtype=torch.double)
    upstream = torch.randn(4, f, 8, 7, generator=gen, dtype=torch.double)
    x1, x2 = inp.clone().requires_grad_(True), inp.clone().requires_grad_(True)
    out = layer(x1)
    ref = F.conv2d(x2, w, layer.bias.detach(), padding=1)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    (out * upstream).sum().backward()
    (ref * upstream).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-12, atol=1e-12)
    gw = w.grad
    torch.testing.assert_close(layer.lateral.grad.reshape(f, c), torch.einsum("fcyx,fy,fx->fc", gw, v, h))
    torch.testing.assert_close(layer.vertical.grad.reshape(f, y), torch.einsum("fcyx,fc,fx->fy", gw, z, h))
    torch.testing.assert_close(layer.horizontal.grad.reshape(f, x), torch.einsum("fcyx,fc,fy->fx", gw, z, v))
    torch.testing.assert_close(layer.bias.grad, upstream.sum((0, 2, 3)))


@pytest.mark.parametrize("rank,kernel,conv", [
    (1, 3, dict(padding=1)),
    (2, 3, dict(padding=1)),
    (3, (5, 3), dict(padding=(2, 1))),
    (2, 3, dict(stride=2, padding=1)),
    (2, (3, 5), dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2))),
    (4, 1, dict()),
    (2, 3, dict(padding=0)),
])
def test_rank_r_output_and_gradients_match_conv2d(rank, kernel, conv):
    layer = _layer(4, 5, kernel, rank, **conv)
    gen = torch.Generator().manual_seed(1)
    x1 = torch.randn(3, 4, 11, 9, generator=gen, dtype=torch.double, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    out = layer(x1)
    ref = F.conv2d(x2, layer.weight(), layer.bias, **conv)  # the reconstructed filter, differentiable
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    params = [layer.lateral, layer.vertical, layer.horizontal, layer.bias]
    upstream = torch.randn(out.shape, generator=gen, dtype=torch.double)
    got = torch.autograd.grad((out * upstream).sum(), [x1, *params])
    want = torch.autograd.grad((ref * upstream).sum(), [x2, *params])
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_gradcheck():
    layer = _layer(3, 2, 3, 2, padding=1, stride=(1, 2))
    x = torch.randn(2, 3, 5, 6, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))


def test_a_bias_inside_the_stack_differs_at_the_borders_only():
    layer = _layer(3, 4, 3, 2, padding=1)
    lateral_bias = torch.randn(8, dtype=torch.double)
    x = torch.randn(2, 3, 8, 8, dtype=torch.double)
    inside = flattened_conv2d(x, layer.lateral, layer.vertical, layer.horizontal, layer.bias, padding=1,
                              lateral_bias=lateral_bias)
    # in the interior the lateral bias adds b_fr * sum(v_fr) * sum(h_fr) to filter f
    v = layer.vertical.reshape(4, 2, 3).sum(2)
    h = layer.horizontal.reshape(4, 2, 3).sum(2)
    folded = layer.bias + (lateral_bias.reshape(4, 2) * v * h).sum(1)
    dense = F.conv2d(x, layer.weight(), folded, padding=1)
    diff = (inside - dense).abs().detach()
    assert diff[..., 1:-1, 1:-1].max() < 1e-12
    border = torch.ones(8, 8, dtype=torch.bool)
    border[1:-1, 1:-1] = False
    assert diff[..., border].min() > 1e-6  # every border pixel is wrong, not just some
    # without padding there is no border: the bias folds exactly
    no_pad = flattened_conv2d(x, layer.lateral, layer.vertical, layer.horizontal, layer.bias, lateral_bias=lateral_bias)
    torch.testing.assert_close(no_pad, F.conv2d(x, layer.weight(), folded))


def test_flatten_conv2d_of_a_trained_layer_keeps_the_decomposition():
    conv = cl.load_pretrained("cifar_vgg").features[7]
    flat = flatten_conv2d(conv, 2)
    res = flatten_filters(conv.weight.detach().double().numpy(), 2)
    np.testing.assert_allclose(flat.relative_errors, res.errors)
    w = conv.weight.detach()
    got_err = float((flat.weight().detach() - w).norm() / w.norm())
    assert got_err == pytest.approx(res.layer_error, rel=1e-4)
    assert flat.lateral.dtype == torch.float32 and flat.bias is None
    x = torch.randn(2, 64, 16, 16)
    out = flat(x)
    torch.testing.assert_close(out, F.conv2d(x, flat.weight(), padding=1), rtol=1e-4, atol=1e-4)
    fresh = flatten_conv2d(conv, 1, decompose=False)
    assert fresh.relative_errors is None and fresh.lateral.shape == (64, 64, 1, 1)


def test_flatten_model_replaces_the_named_layers_and_keeps_the_original():
    model = cl.load_pretrained("cifar_vgg")
    before = model.features[4].weight.detach().clone()
    flat = flatten_model(model, {"features.4": 1, "features.14": 3})
    assert isinstance(flat.features[4], FlattenedConv2d) and flat.features[4].rank == 1
    assert flat.features[14].rank == 3 and isinstance(flat.features[7], nn.Conv2d)
    assert torch.equal(model.features[4].weight, before) and isinstance(model.features[4], nn.Conv2d)
    assert not flat.training
    assert flatten_model(model, ["features.7"]).features[7].rank == 1
    x = torch.rand(2, 3, 32, 32)
    assert flat(x).shape == (2, 10)
    # every flattened layer (rank R) has F R (C + 3 + 3) weights
    assert cl.count_parameters(flat.features[14]) == 128 * 3 * (128 + 6)


def test_converter_messages():
    model = cl.load_pretrained("cifar_vgg")
    raises(TypeError, "ranks['classifier.1'] (classifier.1) must be an nn.Conv2d, got Linear.",
           flatten_model, model, {"classifier.1": 1})
    with pytest.raises(ValueError, match=r"ranks names 'features.99', which is not a layer of CifarVGG; "
                                         r"its Conv2d layers are features.0, features.4"):
        flatten_model(model, {"features.99": 1})
    raises(ValueError, "ranks['features.4'] == 0, must be >= 1.", flatten_model, model, {"features.4": 0})
    raises(TypeError, "ranks must be a list or tuple of names, got int (1).", flatten_model, model, 1)
    raises(TypeError, "model must be a torch.nn.Module, got str.", flatten_model, "cnn", ["features.4"])
    raises(ValueError, "layer has groups == 2, must be 1: a grouped or depthwise convolution has no C x Y x X "
           "filters to flatten.", flatten_conv2d, nn.Conv2d(4, 4, 3, groups=2))
    raises(ValueError, "layer has padding_mode == 'reflect', must be 'zeros'.", flatten_conv2d,
           nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"))
    raises(ValueError, "layer has padding == 'same', must be ints (write the padding out).", flatten_conv2d,
           nn.Conv2d(4, 4, 3, padding="same"))
    raises(TypeError, "layer must be an nn.Conv2d, got Linear.", flatten_conv2d, nn.Linear(3, 3))
    raises(ValueError, "rank == 0, must be >= 1.", flatten_conv2d, nn.Conv2d(4, 4, 3), 0)
    bad = nn.Conv2d(2, 2, 3)
    with torch.no_grad():
        bad.weight[0, 0, 0, 0] = float("nan")
    raises(ValueError, "layer.weight contains NaN or infinite values, must be finite.", flatten_conv2d, bad)
    raises(ValueError, "rank == 0, must be >= 1.", FlattenedConv2d, 3, 4, 3, 0)
    raises(ValueError, "stride == 0, must be >= 1.", FlattenedConv2d, 3, 4, 3, stride=0)


def test_the_3d_mode_is_the_same_function_with_the_same_gradients():
    from course_lib.factorization.nn import set_flattened_mode

    layer = _layer(4, 6, 3, 2, padding=1, stride=(2, 1))
    x = torch.randn(2, 4, 9, 7, dtype=torch.double)
    params = [layer.lateral, layer.vertical, layer.horizontal, layer.bias]
    out1 = layer(x)
    g1 = torch.autograd.grad(out1.square().sum(), params)
    model = set_flattened_mode(nn.Sequential(layer), "3d")
    assert layer.mode == "3d" and "mode='3d'" in repr(model)
    out3 = layer(x)
    g3 = torch.autograd.grad(out3.square().sum(), params)
    torch.testing.assert_close(out3, out1)
    for a, b in zip(g1, g3):
        torch.testing.assert_close(a, b)
    raises(ValueError, "mode == '2d', must be one of '1d', '3d'.", set_flattened_mode, model, "2d")
    raises(ValueError, "mode == 'fast', must be one of '1d', '3d'.", FlattenedConv2d, 3, 4, 3, mode="fast")
