"""SmoothQuant folded into the ViT's LayerNorms, the outlier report, and W8A8 on the integer engine."""

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.llmquant.nn.w8a8 import W8A8ViT, outlier_report, smooth_vit, w8a8_vit
from course_lib.llmquant.smooth import relative_error, smoothquant_scales, w8a8_output
from course_lib.quantization.nn.kernels import ENGINE_KERNELS, available_int8_kernels

ENGINES = [k for k in available_int8_kernels() if k in ENGINE_KERNELS]


@pytest.fixture(scope="module")
def data():
    return cl.load_mnist("train", limit=200), cl.load_mnist("test", limit=500)


def random_vit(seed=0, outlier=None):
    torch.manual_seed(seed)
    model = cl.models.MnistViT().eval()
    if outlier is not None:  # one LayerNorm channel 40x larger: an activation outlier in front of q/k/v and fc1
        with torch.no_grad():
            for block in model.blocks:
                for norm in (block.norm1, block.norm2):
                    norm.weight[outlier] *= 40.0
                    norm.bias[outlier] += 2.0
    return model


def linear_input(model, layer, images):
    seen = []
    handle = layer.register_forward_hook(lambda m, i, o: seen.append(i[0].detach().reshape(-1, i[0].shape[-1])))
    with torch.no_grad():
        model(cl.to_tensor(images))
    handle.remove()
    return torch.cat(seen).double().numpy()


def test_outlier_report_by_hand(data):
    train, _ = data
    model = random_vit(1, outlier=5)
    report = outlier_report(model, train.images)
    assert [r["name"] for r in report] == [f"blocks.{i}.{p}" for i in range(4)
                                           for p in ("attn.q", "attn.k", "attn.v", "attn.proj", "fc1", "fc2")]
    assert [r["source"] for r in report[:6]] == ["norm1"] * 3 + ["attention", "norm2", "gelu"]
    x = linear_input(model, model.blocks[2].fc1, train.images)
    fc1 = report[16]
    np.testing.assert_allclose(fc1["act_max"], np.abs(x).max(0), rtol=1e-6)
    assert fc1["act_ratio"] == pytest.approx(np.abs(x).max(0).max() / np.median(np.abs(x).max(0)))
    assert fc1["act_max"].argmax() == 5 and fc1["act_ratio"] > 10  # the planted outlier is found
    w = model.blocks[2].fc1.weight.detach().abs().double().numpy().max(0)
    assert fc1["weight_ratio"] == pytest.approx(w.max() / np.median(w))
    np.testing.assert_array_equal(report[0]["act_max"], report[2]["act_max"])  # q and v share norm1's output
    assert all(r["act_ratio"] < 10 for r in outlier_report(random_vit(1), train.images) if r["source"] == "norm1")


def test_smooth_vit_keeps_the_float_model_and_flattens_outliers(data):
    train, test = data
    model = random_vit(2, outlier=7)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    smooth = smooth_vit(model, train.images, alpha=0.5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # not modified
    x = cl.to_tensor(test.images[:100])
    with torch.no_grad():
        torch.testing.assert_close(smooth(x), model(x), rtol=0, atol=1e-5)
    ratios = {r["name"]: r["act_ratio"] for r in outlier_report(model, train.images)}
    smoothed = {r["name"]: r["act_ratio"] for r in outlier_report(smooth, train.images)}
    assert smoothed["blocks.0.attn.q"] < ratios["blocks.0.attn.q"] / 3
    assert smoothed["blocks.3.fc1"] < ratios["blocks.3.fc1"] / 3
    # the scales that were folded in are the core's smoothquant_scales of (max|X|, [Wq; Wk; Wv])
    s = (model.blocks[0].norm1.weight / smooth.blocks[0].norm1.weight).detach().double().numpy()
    xq = linear_input(model, model.blocks[0].attn.q, train.images)
    a = model.blocks[0].attn
    w = torch.cat([a.q.weight, a.k.weight, a.v.weight]).detach().double().numpy()
    np.testing.assert_allclose(s, smoothquant_scales(xq, w, 0.5), rtol=1e-5)


def fbgemm_reference(x, codes, w_scale, bias, bits):
    """The dynamic kernel by hand: x affine on [min(x, 0), max(x, 0)] with 2**bits - 1 steps, int dot products."""
    qmax = 2 ** bits - 1
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    scale = (hi - lo) / qmax
    zero = int(np.clip(np.rint(-lo / scale), 0, qmax))
    q = np.clip(np.rint(x / scale) + zero, 0, qmax)
    return scale * ((q - zero) @ codes.T) * w_scale + bias, scale


@pytest.mark.parametrize("kernel", ["auto", *ENGINES])
def test_one_int8_layer_matches_a_numpy_reference(data, kernel):
    train, test = data
    model = random_vit(3)
    w8 = w8a8_vit(model, train.images, kernel=kernel)
    assert w8.kernel == (ENGINES[0] if kernel == "auto" else kernel)
    assert w8.activation_bits == (7 if w8.kernel in ("x86", "fbgemm") else 8)
    name = "blocks.1.fc1"
    layer = w8.int8_layers()[name]
    x = linear_input(model, model.blocks[1].fc1, test.images[:50])
    with torch.no_grad():
        got = layer(torch.from_numpy(x).float()).double().numpy()
    codes = layer.codes.numpy().astype(np.float64)
    w_scale = layer.scale.double().numpy()
    ref, x_scale = fbgemm_reference(x, codes, w_scale, layer.bias.double().numpy(), w8.activation_bits)
    # a rare tie rounded the other way moves one activation code by one step
    assert np.abs(got - ref).max() <= 2 * x_scale * (np.abs(codes) * w_scale[:, None]).max(1).max() + 1e-4
    assert relative_error(got, ref) < 1e-3
    w = model.blocks[1].fc1.weight.detach().double().numpy()
    exact = x @ w.T + model.blocks[1].fc1.bias.detach().double().numpy()
    # the engine's error is that of int8 weights and 7- or 8-bit activations: of the order of the core's W8A8
    core = relative_error(w8a8_output(x, w, bits=8), exact - model.blocks[1].fc1.bias.detach().double().numpy())
    err = relative_error(got, exact)
    assert 0 < err < 4 * core + 1e-3
    assert err < 0.05


def test_w8a8_model_structure_bytes_and_logits(data):
    train, test = data
    model = random_vit(4)
    w8 = w8a8_vit(model, train.images, alpha=0.5)
    assert isinstance(w8, W8A8ViT) and w8.alpha == 0.5 and len(w8.int8_layers()) == 24
    assert not any(isinstance(m, torch.nn.Linear) for n, m in w8.model.blocks.named_modules())
    block_weights = sum(m.in_features * m.out_features for m in w8.int8_layers().values())
    block_outputs = sum(m.out_features for m in w8.int8_layers().values())
    floats = sum(p.numel() for p in model.parameters()) - block_weights - block_outputs
    assert w8.bytes == block_weights + 8 * block_outputs + 4 * floats
    assert w8.bytes < 0.4 * 4 * sum(p.numel() for p in model.parameters())
    x = cl.to_tensor(test.images[:100])
    with torch.no_grad():
        assert relative_error(w8(x).numpy(), model(x).numpy()) < 0.05
    engine = torch.backends.quantized.engine
    w8(x[:2])
    assert torch.backends.quantized.engine == engine  # restored after the forward pass
    pruned = w8a8_vit(cl.models.MnistViT(heads=[4, 0, 2, 1]), train.images)
    assert len(pruned.int8_layers()) == 20
    assert pruned(x[:3]).shape == (3, 10)


def test_smoothing_rescues_w8a8_when_an_outlier_channel_exists(data):
    train, test = data
    model = random_vit(6, outlier=11)
    x = cl.to_tensor(test.images[:100])
    with torch.no_grad():
        ref = model(x).numpy()
        plain = relative_error(w8a8_vit(model, train.images)(x).numpy(), ref)
        smooth = relative_error(w8a8_vit(model, train.images, alpha=0.5)(x).numpy(), ref)
    assert smooth < plain / 2, (plain, smooth)


def test_w8a8_accuracy_of_the_trained_vit(data):
    _, test = data
    model = cl.load_pretrained("vit_mnist")
    train = cl.load_mnist("train", limit=256)
    float_acc = cl.measure.accuracy(model, test.images, test.labels)
    for alpha in (None, 0.5):
        acc = cl.measure.accuracy(w8a8_vit(model, train.images, alpha=alpha), test.images, test.labels)
        assert abs(acc - float_acc) <= 0.02, (alpha, acc, float_acc)


def test_bad_arguments(data):
    train, _ = data
    model = random_vit(5)
    with pytest.raises(TypeError, match="model must be a course_lib.models.MnistViT"):
        w8a8_vit(cl.models.LeNet300100(), train.images)
    with pytest.raises(ValueError, match="alpha"):
        smooth_vit(model, train.images, alpha=1.5)
    with pytest.raises(ValueError, match="alpha"):
        w8a8_vit(model, train.images, alpha=-0.1)
    with pytest.raises(ValueError, match="kernel"):
        w8a8_vit(model, train.images, kernel="cuda")
    with pytest.raises(TypeError, match="uint8"):
        outlier_report(model, train.images.astype(np.float32))
