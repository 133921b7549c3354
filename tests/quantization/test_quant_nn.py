import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_lib as cl
from course_lib.quantization.nn import (
    DynamicQuantLayer,
    FakeQuantSTE,
    Float16Layer,
    IntegerMLP,
    QATLayer,
    QuantizedLayer,
    activation_qparams,
    calibrate,
    convert_qat,
    dequantize_weight,
    fake_quantize_ste,
    fold_batchnorm,
    int8_linear_latency,
    model_bytes,
    prepare_qat,
    ptq_dynamic,
    ptq_float16,
    ptq_full_integer,
    quantize_weight,
    train_qat,
    weight_scale,
)

from helpers import assert_state_equal, fresh_model, mnist_subset, raises, state_copy

# nothing in this module may warn (torch.ao's deprecation warnings included)
pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_thread")]


def fresh(name="lenet300", seed=0):
    return fresh_model(name, seed).eval()


@pytest.fixture(scope="module")
def mnist():
    return mnist_subset(6400, 1000)


@pytest.fixture(scope="module")
def lenet():
    try:
        return cl.load_pretrained("lenet300")
    except FileNotFoundError:
        pytest.skip("no lenet300 checkpoint: run `python -m course_lib.train lenet300`")


@pytest.fixture(scope="module")
def ranges(lenet, mnist):
    return calibrate(lenet, mnist[0][0][:1000])


def acc_on_test(model, mnist):
    return cl.accuracy(model, mnist[1][0], mnist[1][1])


# --------------------------------------------------------------------------- fake quantization

@pytest.mark.parametrize(("scale", "zero_point", "qmin", "qmax"),
                         [(0.1, 0, -128, 127), (0.05, -128, -128, 127), (0.25, 3, -8, 7), (0.5, -1, -2, 1)])
def test_fake_quant_matches_torch_per_tensor(scale, zero_point, qmin, qmax):
    gen = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(500, generator=gen) * 4, torch.arange(-40, 41) * (scale / 2)])  # + exact ties
    grad = torch.randn(x.shape, generator=gen)
    ours_x, ref_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = fake_quantize_ste(ours_x, scale, zero_point, qmin, qmax)
    ref = torch.fake_quantize_per_tensor_affine(ref_x, torch.tensor(scale), torch.tensor(zero_point, dtype=torch.int32),
                                                qmin, qmax)
    assert torch.equal(ours, ref)
    ours.backward(grad)
    ref.backward(grad)
    assert torch.equal(ours_x.grad, ref_x.grad)
    assert ((ours_x.grad == 0) | (ours_x.grad == grad)).all()  # the STE mask: all or nothing


def test_fake_quant_matches_torch_per_channel():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, 5, generator=gen) * 3
    scale = torch.tensor([0.1, 0.02, 0.3])
    zero_point = torch.tensor([0, -5, 2], dtype=torch.int32)
    ours_x, ref_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = fake_quantize_ste(ours_x, scale, zero_point, -8, 7, axis=1)
    ref = torch.fake_quantize_per_channel_affine(ref_x, scale, zero_point, 1, -8, 7)
    assert torch.equal(ours, ref)
    ours.sum().backward()
    ref.sum().backward()
    assert torch.equal(ours_x.grad, ref_x.grad)


def test_fake_quant_ste_by_hand():
    x = torch.tensor([-2.0, -0.6, 0.0, 0.6, 0.75, 2.0], requires_grad=True)
    y = FakeQuantSTE.apply(x, torch.tensor(0.5), torch.tensor(0.0), -1, 1)
    # x / s = -4, -1.2, 0, 1.2, 1.5, 4 -> round: -4, -1, 0, 1, 2 (tie to even), 4 -> clamp to [-1, 1]
    assert torch.equal(y.detach(), torch.tensor([-0.5, -0.5, 0.0, 0.5, 0.5, 0.5]))
    y.sum().backward()
    assert torch.equal(x.grad, torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0, 0.0]))  # 1.5 rounds to 2: outside


# --------------------------------------------------------------------------- quantization parameters

def test_quantize_weight_by_hand():
    codes, scale = quantize_weight(torch.tensor([[-1.0, 0.5, 0.25], [0.0, 0.0, 0.0], [2.0, -0.5, 1.0]]))
    assert codes.dtype == torch.int8
    # the zero row gets the smallest scale, float32 eps (the course's one rule, as torch's observers)
    assert torch.equal(scale, torch.tensor([1 / 127, 2.0**-23, 2 / 127]))
    # 0.5 * 127 = 63.5 -> 64 (tie to even); 0.25 * 127 = 31.75 -> 32; -0.5 / (2/127) = -31.75 -> -32
    assert codes.tolist() == [[-127, 64, 32], [0, 0, 0], [127, -32, 64]]
    codes, scale = quantize_weight(torch.tensor([[-1.0, 0.5, 0.25], [0.0, 0.0, 0.0], [2.0, -0.5, 1.0]]),
                                   bits=2, per_channel=False)
    assert float(scale) == 2.0 and scale.shape == ()
    assert codes.tolist() == [[0, 0, 0], [0, 0, 0], [1, 0, 0]]  # -0.5 and 0.5 are ties -> 0
    assert torch.equal(dequantize_weight(codes, scale), torch.tensor([[0.0] * 3, [0.0] * 3, [2.0, 0.0, 0.0]]))


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_weight_codes_stay_in_range_and_error_is_half_a_step(bits):
    w = torch.randn(16, 8, 3, 3, generator=torch.Generator().manual_seed(bits))
    codes, scale = quantize_weight(w, bits=bits)
    qmax = 2 ** (bits - 1) - 1
    assert codes.abs().max() == qmax and codes.shape == w.shape and scale.shape == (16,)
    error = (dequantize_weight(codes, scale) - w).abs().flatten(1).amax(1)
    assert (error <= scale / 2 * (1 + 1e-6)).all()


def test_weight_scale_matches_torch_observer():
    w = torch.randn(6, 20, generator=torch.Generator().manual_seed(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver
        per_channel = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                               quant_min=-127, quant_max=127)
        per_channel(w)
        per_tensor = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric,
                                    quant_min=-127, quant_max=127)
        per_tensor(w)
        ref_channel, ref_tensor = per_channel.calculate_qparams()[0], per_tensor.calculate_qparams()[0]
    torch.testing.assert_close(weight_scale(w), ref_channel, rtol=1e-6, atol=0)
    torch.testing.assert_close(weight_scale(w, per_channel=False), ref_tensor[0], rtol=1e-6, atol=0)


def test_activation_qparams_by_hand():
    scale, zero_point = activation_qparams(0.0, 2.55)
    assert scale == pytest.approx(0.01) and zero_point == -128  # a ReLU output uses all 256 codes
    assert activation_qparams(1.0, 2.55) == activation_qparams(0.0, 2.55)  # the range is widened to contain 0
    assert activation_qparams(-2.55, -1.0)[1] == 127
    assert activation_qparams(0.0, 0.0) == (2.0**-23, -128)  # degenerate: the smallest scale, as everywhere
    assert activation_qparams(0.0, 1.5, bits=2) == (0.5, -2)  # 2 bits: 0, 0.5, 1.0, 1.5


@pytest.mark.parametrize("bits", [8, 4])
def test_activation_qparams_match_torch_observer(bits):
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    gen = np.random.default_rng(bits)
    for low, high in [(-0.42, 2.82), (0.0, 19.3), (-3.0, 0.5), *gen.uniform(-5, 5, (5, 2)).tolist()]:
        low, high = min(low, high), max(low, high)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.ao.quantization import MinMaxObserver
            obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_affine, quant_min=qmin, quant_max=qmax)
            obs(torch.tensor([low, high]))
            ref_scale, ref_zp = obs.calculate_qparams()
        scale, zero_point = activation_qparams(low, high, bits=bits)
        assert scale == pytest.approx(float(ref_scale), rel=1e-6) and zero_point == int(ref_zp)


# --------------------------------------------------------------------------- batch norm and layers

def test_fold_batchnorm_preserves_vgg_outputs():
    model = fresh("cifar_vgg")
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen) * 0.3)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
            bn.weight.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
            bn.bias.copy_(torch.randn(bn.num_features, generator=gen) * 0.2)
    before = state_copy(model)
    folded = fold_batchnorm(model)
    x = torch.rand(4, 3, 32, 32, generator=gen)
    with torch.no_grad():
        ref, out = model(x), folded(x)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, nn.Identity) for m in folded.features) == 5
    assert all(m.bias is not None for m in folded.modules() if isinstance(m, nn.Conv2d))
    assert_state_equal(model, before)  # the input is not modified
    assert not folded.training


def test_fold_batchnorm_without_batchnorm_is_a_copy():
    model = fresh()
    folded = fold_batchnorm(model)
    assert folded is not model
    assert_state_equal(folded, model.state_dict())


def test_dynamic_layer_matches_fake_quant_reference():
    gen = torch.Generator().manual_seed(4)
    layer = nn.Linear(50, 7)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(7, 50, generator=gen))
    x = torch.randn(5, 50, generator=gen) * 2 + 0.5
    dyn = DynamicQuantLayer(layer, kernel="int_mm")  # per-row int8 activations (the engines: per tensor)
    codes, scale = quantize_weight(layer.weight)
    lo, hi = x.min(1).values, x.max(1).values
    qparams = [activation_qparams(float(a), float(b)) for a, b in zip(lo, hi)]
    xq = fake_quantize_ste(x, torch.tensor([s for s, _ in qparams]), torch.tensor([float(z) for _, z in qparams]),
                       -128, 127, axis=0)
    ref = F.linear(xq, dequantize_weight(codes, scale), layer.bias)
    out = dyn(x)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    assert torch.equal(dyn(x[2:3]), out[2:3])  # each example has its own scale: batch 1 = row of the batch
    conv = nn.Conv2d(3, 4, 3, padding=1)
    xc = torch.randn(2, 3, 6, 6, generator=gen)
    ref = F.conv2d(xc, dequantize_weight(*quantize_weight(conv.weight)), conv.bias, padding=1)
    torch.testing.assert_close(DynamicQuantLayer(conv)(xc), ref)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_quantized_layer_equals_fake_quant_form(kind):
    gen = torch.Generator().manual_seed(5)
    layer = nn.Linear(40, 6) if kind == "linear" else nn.Conv2d(3, 5, 3, stride=2, padding=1)
    x = torch.randn((8, 40) if kind == "linear" else (2, 3, 9, 9), generator=gen).relu() * 3
    quantized = QuantizedLayer(layer, 0.0, 6.0, bits=6)
    scale, zero_point = activation_qparams(0.0, 6.0, bits=6)
    w = dequantize_weight(*quantize_weight(layer.weight, bits=6))
    xq = fake_quantize_ste(x, scale, zero_point, -32, 31)
    ref = F.linear(xq, w, layer.bias) if kind == "linear" else F.conv2d(xq, w, layer.bias, stride=2, padding=1)
    torch.testing.assert_close(quantized(x), ref, rtol=1e-5, atol=1e-5)
    assert quantized.weight.dtype == torch.int8 and quantized.exact_float32


# --------------------------------------------------------------------------- post-training quantization

def test_ptq_keeps_accuracy_on_lenet300(lenet, mnist, ranges):
    base = acc_on_test(lenet, mnist)
    percentile = calibrate(lenet, mnist[0][0][:1000], method="percentile")
    models = {"float16": ptq_float16(lenet), "dynamic": ptq_dynamic(lenet),
              "full_minmax": ptq_full_integer(lenet, ranges), "full_percentile": ptq_full_integer(lenet, percentile)}
    for name, model in models.items():
        assert abs(acc_on_test(model, mnist) - base) <= 0.01, name
    assert isinstance(models["float16"].fc1, Float16Layer) and models["float16"].fc1.weight.dtype == torch.float16
    assert isinstance(models["dynamic"].fc2, DynamicQuantLayer)
    assert isinstance(models["full_minmax"].fc3, QuantizedLayer)
    with torch.inference_mode():  # batch 1 goes through the int8 kernel too
        x = cl.to_tensor(mnist[1][0][:1])
        assert models["dynamic"](x).argmax() == lenet(x).argmax()


def test_calibrate_ranges(lenet, mnist):
    images = mnist[0][0][:300]
    minmax = calibrate(lenet, images)
    assert list(minmax) == ["fc1", "fc2", "fc3"]
    x = (cl.to_tensor(images) - 0.1307) / 0.3081
    assert minmax["fc1"] == pytest.approx((float(x.min()), float(x.max())))
    assert minmax["fc2"][0] == 0.0 and minmax["fc2"][1] > 0  # a ReLU output
    maxabs = calibrate(lenet, images, method="maxabs")
    assert maxabs["fc2"] == (-minmax["fc2"][1], minmax["fc2"][1])
    pct = calibrate(lenet, images, method="percentile", percentile=99.0)
    assert all(minmax[n][0] <= pct[n][0] <= pct[n][1] <= minmax[n][1] for n in minmax)
    # other batches, the same ranges -- up to float32 rounding: a product's summation order (the BLAS kernel
    # and its blocking) may change with the batch size, and does under load
    batched = calibrate(lenet, images, batch_size=7)
    assert list(batched) == list(minmax)
    assert all(batched[n] == pytest.approx(minmax[n], rel=1e-5, abs=1e-6) for n in minmax)
    assert not lenet.training


def test_model_bytes_by_hand():
    model = fresh()  # 266,200 weights and 410 biases
    assert model_bytes(model) == model_bytes(model, "float32") == cl.storage_bytes(model) == 1_066_440
    assert model_bytes(model, "float16") == model_bytes(ptq_float16(model)) == 533_220
    assert model_bytes(model, "int8") == model_bytes(ptq_dynamic(model)) == 266_200 + 410 * 4 + 410 * 4
    assert model_bytes(model, "int8", per_channel=False) == 266_200 + 3 * 4 + 410 * 4
    ranges = {name: (0.0, 1.0) for name in ("fc1", "fc2", "fc3")}
    assert model_bytes(ptq_full_integer(model, ranges)) == 269_480 + 3 * 8  # + input scale and zero point
    assert 3.9 < model_bytes(model) / model_bytes(model, "int8") < 4.0
    vgg = fresh("cifar_vgg")
    assert model_bytes(vgg) / model_bytes(ptq_float16(vgg)) == pytest.approx(2.0, rel=0.01)
    assert model_bytes(vgg) / model_bytes(ptq_dynamic(vgg)) == pytest.approx(4.0, rel=0.02)


def test_integer_mlp_matches_full_integer_model(lenet, mnist, ranges):
    qmodel = ptq_full_integer(lenet, ranges)
    images = mnist[1][0]
    logits = IntegerMLP(qmodel).logits(images)
    with torch.inference_mode():
        ref = qmodel(cl.to_tensor(images)).numpy()
    assert logits.dtype == np.float32 and logits.shape == (1000, 10)
    np.testing.assert_allclose(logits, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert np.abs(logits - ref).max() <= 1e-4
    assert np.array_equal(logits.argmax(1), ref.argmax(1))
    assert np.mean(IntegerMLP(qmodel).predict(images) == mnist[1][1]) == acc_on_test(qmodel, mnist)


# --------------------------------------------------------------------------- QAT

def test_qat_layer_matches_torch_fake_quantize_and_its_gradients():
    gen = torch.Generator().manual_seed(6)
    layer = nn.Linear(12, 4)
    qat = QATLayer(layer, bits=4, low=-1.0, high=2.0).eval()
    x = torch.randn(3, 12, generator=gen) * 1.5
    ours_x, ref_x, ref_w = x.clone().requires_grad_(), x.clone().requires_grad_(), layer.weight.detach().clone()
    ref_w.requires_grad_()
    scale, zero_point = activation_qparams(-1.0, 2.0, bits=4)
    ws = weight_scale(layer.weight, bits=4)
    ref = F.linear(torch.fake_quantize_per_tensor_affine(ref_x, scale, zero_point, -8, 7),
                   torch.fake_quantize_per_channel_affine(ref_w, ws, torch.zeros(4, dtype=torch.int32), 0, -7, 7),
                   layer.bias)
    out = qat(ours_x)
    torch.testing.assert_close(out, ref)
    out.square().sum().backward()
    ref.square().sum().backward()
    torch.testing.assert_close(ours_x.grad, ref_x.grad)
    torch.testing.assert_close(qat.weight.grad, ref_w.grad)


def test_qat_ranges_follow_a_moving_average_and_freeze_in_eval():
    model = prepare_qat(fresh(), momentum=0.5)
    gen = torch.Generator().manual_seed(7)
    x1, x2 = torch.rand(4, 1, 28, 28, generator=gen), torch.rand(4, 1, 28, 28, generator=gen) * 0.5
    s1, s2 = (x1 - 0.1307) / 0.3081, (x2 - 0.1307) / 0.3081
    raises(RuntimeError, "this QATLayer has not seen any input range yet: pass ranges=calibrate(...) to "
           "prepare_qat, or train the model first.", model, x1)
    model.train()
    model(x1)
    assert float(model.fc1.act_min) == pytest.approx(float(s1.min())) and float(model.fc1.act_max) == float(s1.max())
    model(x2)
    assert float(model.fc1.act_max) == pytest.approx(0.5 * float(s1.max()) + 0.5 * float(s2.max()))
    frozen = state_copy(model)
    model.eval()
    model(torch.rand(4, 1, 28, 28, generator=gen) * 3)
    assert_state_equal(model, frozen)


def test_qat_improves_on_ptq_and_converts(lenet, mnist, ranges):
    train_images, train_labels = mnist[0][0], mnist[0][1]
    before = state_copy(lenet)
    results = {}
    for bits, lr in ((4, 1e-4), (2, 1e-3)):
        ptq = acc_on_test(ptq_full_integer(lenet, ranges, bits=bits), mnist)
        qat = train_qat(prepare_qat(lenet, bits=bits, ranges=ranges), train_images, train_labels,
                        max_steps=100, lr=lr, rng=0)
        converted = convert_qat(qat)
        results[bits] = ptq, acc_on_test(converted, mnist)
        x = cl.to_tensor(mnist[1][0][:200])
        with torch.inference_mode():
            torch.testing.assert_close(converted(x), qat(x), rtol=1e-4, atol=1e-4)
        assert [type(m) for m in converted.modules()] == [type(m) for m in ptq_full_integer(lenet, ranges).modules()]
    # 4 bits: PTQ is already within noise of float32 on LeNet-300-100, so QAT can only hold it
    assert results[4][1] >= results[4][0] - 0.005, results
    # 2 bits: PTQ collapses (ternary weights, 4 activation levels); 100 QAT steps recover most of it
    assert results[2][0] < 0.4 and results[2][1] > results[2][0] + 0.3, results
    assert_state_equal(lenet, before)


def test_train_qat_is_seeded():
    model = prepare_qat(fresh("lenet5"), bits=4)
    gen = np.random.default_rng(8)
    images = gen.integers(0, 256, (64, 28, 28), dtype=np.uint8)
    labels = gen.integers(0, 10, 64)
    before = state_copy(model)
    a = train_qat(model, images, labels, max_steps=3, batch_size=16, rng=1)
    b = train_qat(model, images, labels, max_steps=3, batch_size=16, rng=1)
    assert_state_equal(a, b.state_dict())
    assert_state_equal(model, before)
    assert not a.training and bool(a.conv1.observed)


# --------------------------------------------------------------------------- speed

def test_int8_linear_latency_is_well_formed():
    result = int8_linear_latency(64, 48, batch=3, repeats=2, warmup=0)
    assert result["shape"] == (64, 48) and result["batch"] == 3 and result["threads"] == 1
    for key in ("float32_ms", "int8_ms", "int8_matmul_ms"):
        assert np.isfinite(result[key]) and result[key] > 0
    assert result["speedup"] == pytest.approx(result["float32_ms"] / result["int8_ms"])
    from course_lib.quantization.nn import kernels

    assert list(result["kernels_ms"]) == kernels.available_int8_kernels()
    assert result["kernel"] == kernels.choose_int8_kernel()
    assert result["int8_ms"] == result["kernels_ms"][result["kernel"]]
    assert result["capability"] == kernels.cpu_capability()
    only = int8_linear_latency(64, 48, batch=1, repeats=1, warmup=0, kernels=["int_mm"])
    assert list(only["kernels_ms"]) == ["int_mm"]
    raises(ValueError, "kernels[0] == 'mkl', must be one of " + ", ".join(map(repr, kernels.available_int8_kernels()))
           + ".", int8_linear_latency, 8, 8, batch=1, kernels=["mkl"])


# --------------------------------------------------------------------------- bad input

def test_error_messages(lenet, mnist, ranges):
    images = mnist[1][0][:10]
    raises(ValueError, "bits == 9, must be <= 8.", ptq_full_integer, lenet, ranges, bits=9)
    raises(ValueError, "bits == 1, must be >= 2.", prepare_qat, lenet, bits=1)
    raises(TypeError, "bits must be an int, got str ('8').", ptq_dynamic, lenet, bits="8")
    raises(TypeError, "per_channel must be True or False, got int (1).", quantize_weight, torch.ones(2, 2),
           per_channel=1)
    raises(ValueError, "images is empty, must have at least one image.", calibrate, lenet, images[:0])
    raises(TypeError, "images must be a uint8 array as returned by course_lib.data, got dtype float32.",
           calibrate, lenet, images.astype(np.float32))
    raises(ValueError, "method == 'mse', must be one of 'minmax', 'maxabs', 'percentile'.",
           calibrate, lenet, images, method="mse")
    raises(ValueError, "percentile == 30.0, must be in (50, 100].", calibrate, lenet, images, percentile=30)
    raises(ValueError, "model (Sequential) has no nn.Linear or nn.Conv2d layer.",
           ptq_float16, nn.Sequential(nn.ReLU()))
    raises(TypeError, "model must be a torch.nn.Module, got str.", calibrate, "lenet300", images)
    raises(TypeError, "ranges must be a dict of layer name -> (low, high) as returned by calibrate, got list.",
           ptq_full_integer, lenet, [(0, 1)] * 3)
    raises(ValueError, "ranges is missing layer(s) ['fc3'], must have one (low, high) pair per quantized layer: "
           "'fc1', 'fc2', 'fc3'.", ptq_full_integer, lenet, {"fc1": (0, 1), "fc2": (0, 1)})
    raises(ValueError, "ranges has unknown layer name(s) ['fc4'], must be among 'fc1', 'fc2', 'fc3'.",
           prepare_qat, lenet, ranges={**ranges, "fc4": (0, 1)})
    raises(ValueError, "ranges['fc2'] == (2.0, 1.0), must be a pair (low, high) of finite numbers with low <= high.",
           ptq_full_integer, lenet, {**ranges, "fc2": (2.0, 1.0)})
    raises(ValueError, "model (LeNet300100) has no QATLayer: prepare it with prepare_qat first.",
           train_qat, lenet, images, mnist[1][1][:10])
    qat = prepare_qat(lenet)
    raises(ValueError, "images and labels differ in length: 10 != 9, must be equal.", train_qat, qat, images,
           mnist[1][1][:9])
    raises(TypeError, "labels must be an array of integer class indices, got dtype float64 and shape (10,).",
           train_qat, qat, images, mnist[1][1][:10].astype(float))
    raises(ValueError, "model.fc1 has not seen any input range yet: train the model with train_qat or pass "
           "ranges to prepare_qat.", convert_qat, qat)
    raises(ValueError, "momentum == 0.0, must be in (0, 1].", prepare_qat, lenet, momentum=0.0)
    raises(TypeError, "qmodel must be a quantized LeNet300100, got LeNet5.", IntegerMLP, fresh("lenet5"))
    raises(ValueError, "qmodel.fc1 is a DynamicQuantLayer, must be a QuantizedLayer: build qmodel with "
           "ptq_full_integer or convert_qat.", IntegerMLP, ptq_dynamic(lenet))
    raises(ValueError, "fmt == 'int4', must be one of 'float32', 'float16', 'int8'.", model_bytes, lenet, "int4")
    raises(ValueError, "quant_min == 7, must be < quant_max == 7.", fake_quantize_ste, torch.ones(3), 0.1, 0, 7, 7)
    raises(ValueError, "scale holds 1 value(s) <= 0, must be > 0.", fake_quantize_ste, torch.ones(3), 0.0, 0, -8, 7)
    raises(TypeError, "weight must hold floating-point numbers, got dtype torch.int64.", quantize_weight,
           torch.ones(2, 2, dtype=torch.int64))
    raises(ValueError, "weight contains NaN or infinite values, must be finite.", weight_scale,
           torch.tensor([[1.0, float("nan")]]))
    raises(ValueError, "low == 2.0, must be <= high == 1.0.", activation_qparams, 2.0, 1.0)
    raises(ValueError, "scale has shape (3,), must be () or (2,) for codes of shape (2, 2).", dequantize_weight,
           torch.ones(2, 2, dtype=torch.int8), torch.ones(3))
    raises(ValueError, "batch == 0, must be >= 1.", int8_linear_latency, 8, 8, batch=0)
    raises(ValueError, "cannot fold batch norm '1': it has no running statistics (track_running_stats=False).",
           fold_batchnorm, nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2, track_running_stats=False)))
