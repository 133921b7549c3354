"""Weight-only quantization of the ViT's block Linears (RTN, GPTQ block after block, AWQ), its bytes and runtime."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import course_lib as cl
from course_lib.llmquant.gptq import gptq_quantize
from course_lib.llmquant.groupwise import dequantize_groups, group_quantize, pack_bits, rtn_dequantized
from course_lib.llmquant.nn.capture import linear_inputs, vit_linears
from course_lib.llmquant.nn.weight_only import (
    DequantLinear,
    QuantizedViT,
    float_vit_bytes,
    quantize_vit,
    runtime_vit,
    vit_bytes,
)
from course_lib.models import MnistViT

NAMES = [f"blocks.{i}.{p}" for i in range(4) for p in ("attn.q", "attn.k", "attn.v", "attn.proj", "fc1", "fc2")]


@pytest.fixture(scope="module")
def vit():
    """The trained checkpoint when there is one, else a seeded random ViT."""
    try:
        return cl.load_pretrained("vit_mnist")
    except FileNotFoundError:
        torch.manual_seed(0)
        return MnistViT().eval()


@pytest.fixture(scope="module")
def calib():
    return cl.load_mnist("train", limit=64).images


@pytest.fixture(scope="module")
def gptq3(vit, calib):
    return quantize_vit(vit, calib, method="gptq", bits=3, group_size=32)


@pytest.fixture(scope="module")
def rtn3(vit, calib):
    return quantize_vit(vit, calib, method="rtn", bits=3, group_size=32)


def test_vit_linears_and_inputs(vit, calib):
    assert list(vit_linears(vit)) == NAMES
    pruned = MnistViT(heads=[4, 2, 0, 3])
    assert [n for n in NAMES if n.startswith("blocks.2.attn")] == [n for n in NAMES if "2.attn" in n]
    assert not any(n.startswith("blocks.2.attn") for n in vit_linears(pruned))
    assert vit_linears(pruned)["blocks.1.attn.proj"].in_features == 32
    images = calib[:6]
    inputs = linear_inputs(vit, images, ["blocks.0.attn.q", "blocks.3.fc2"])
    assert list(inputs) == ["blocks.0.attn.q", "blocks.3.fc2"]
    assert inputs["blocks.0.attn.q"].shape == (6 * 50, 64) and inputs["blocks.3.fc2"].shape == (6 * 50, 128)
    assert inputs["blocks.0.attn.q"].dtype == np.float64
    with torch.no_grad():  # block 0's attention reads norm1 of the embedded tokens
        x = cl.to_tensor(images)
        tokens = vit.patch(vit.patches(vit.standardize(x)))
        tokens = torch.cat([vit.cls.expand(len(x), -1, -1), tokens], dim=1) + vit.pos
        expected = vit.blocks[0].norm1(tokens).reshape(-1, 64).double().numpy()
    np.testing.assert_allclose(inputs["blocks.0.attn.q"], expected, rtol=1e-5, atol=1e-6)
    sub = linear_inputs(vit, images, ["blocks.0.attn.q"], max_rows=100)["blocks.0.attn.q"]
    again = linear_inputs(vit, images, ["blocks.0.attn.q"], max_rows=100)["blocks.0.attn.q"]
    assert sub.shape == (100, 64) and np.array_equal(sub, again)
    full = inputs["blocks.0.attn.q"]
    assert all(np.any(np.all(full == row, axis=1)) for row in sub)
    alone = linear_inputs(vit, images, ["blocks.0.attn.q"])  # the forward stops after the layer
    assert np.array_equal(alone["blocks.0.attn.q"], full)
    assert all(not layer._forward_hooks for layer in vit_linears(vit).values())
    assert not vit.training


def test_rtn_equals_core(vit, calib, rtn3):
    originals = vit_linears(vit)
    quantized = vit_linears(rtn3.model)
    assert list(rtn3.layers) == NAMES and rtn3.method == "rtn" and rtn3.bits == 3
    for name in NAMES:
        w = originals[name].weight.detach().double().numpy()
        expected = rtn_dequantized(w, 3, 32).astype(np.float32)
        assert np.array_equal(quantized[name].weight.detach().numpy(), expected), name
        assert np.array_equal(rtn3.layers[name].codes, group_quantize(w, 3, 32).codes)
        assert torch.equal(quantized[name].bias, originals[name].bias)
    x = linear_inputs(vit, calib, ["blocks.1.fc1"])["blocks.1.fc1"]
    w = originals["blocks.1.fc1"].weight.detach().double().numpy()
    ref = x @ w.T
    err = np.linalg.norm(x @ rtn_dequantized(w, 3, 32).T - ref) / np.linalg.norm(ref)
    assert rtn3.errors["blocks.1.fc1"] == pytest.approx(err, rel=1e-9)
    assert torch.equal(rtn3.model.pos, vit.pos) and rtn3.model is not vit
    assert not torch.equal(vit_linears(vit)["blocks.0.fc1"].weight, quantized["blocks.0.fc1"].weight)


def test_gptq_is_sequential_and_beats_rtn(vit, calib, gptq3, rtn3):
    originals = vit_linears(vit)
    float_inputs = linear_inputs(vit, calib)
    seen = linear_inputs(gptq3.model, calib)  # layer i's input depends only on the layers before it
    differs = 0
    for name in NAMES:
        w = originals[name].weight.detach().double().numpy()
        with threadpool_limits(limits=1, user_api="blas"):  # as quantize_vit computes
            assert np.array_equal(gptq3.layers[name].codes, gptq_quantize(w, seen[name], 3, 32).codes), name
            found = gptq_quantize(w, float_inputs[name], 3, 32).codes
        differs += not np.array_equal(gptq3.layers[name].codes, found)
    assert differs >= 1  # later layers were calibrated on the quantized model's inputs
    assert np.array_equal(seen["blocks.0.attn.q"], float_inputs["blocks.0.attn.q"])
    better = sum(gptq3.errors[n] < rtn3.errors[n] for n in NAMES)
    assert better >= 18, (better, gptq3.errors, rtn3.errors)
    test = cl.load_mnist("test", limit=500)
    acc_gptq = cl.measure.accuracy(gptq3.model, test.images, test.labels)
    acc_rtn = cl.measure.accuracy(rtn3.model, test.images, test.labels)
    assert acc_gptq >= acc_rtn - 0.01, (acc_gptq, acc_rtn)


def test_awq_float_identity_and_error(vit, calib, rtn3):
    q = quantize_vit(vit, calib, method="awq", bits=3, group_size=32)
    originals, effective = vit_linears(vit), vit_linears(q.model)
    inputs = linear_inputs(vit, calib[:8], ["blocks.2.fc1", "blocks.2.fc2"])
    for name in NAMES:
        s = q.input_scales[name]
        assert s.dtype == np.float16 and s.shape == (originals[name].in_features,) and np.all(s > 0)
        w = originals[name].weight.detach().double().numpy()
        s64 = s.astype(np.float64)
        assert np.array_equal(q.layers[name].codes, group_quantize(w * s64, 3, 32).codes)
        quant = q.layers[name]
        deq = dequantize_groups(quant.codes, quant.scales, quant.zero_points, 32) / s64
        assert np.array_equal(effective[name].weight.detach().numpy(), deq.astype(np.float32))
        if name in inputs:  # unquantized, the scaled layer is the same layer
            x = inputs[name]
            np.testing.assert_allclose((x / s64) @ (w * s64).T, x @ w.T, rtol=1e-9, atol=1e-9)
        assert q.errors[name] <= rtn3.errors[name] * 1.05 + 1e-9, name
    assert sum(q.errors[n] < rtn3.errors[n] for n in NAMES) >= 12
    per_layer = sum(v.nbytes for v in q.input_scales.values())
    assert q.bytes == rtn3.bytes + per_layer


def _independent_bytes(model, q: QuantizedViT) -> int:
    total = sum(p.numel() for p in model.parameters()) * 4
    for name, quant in q.layers.items():
        offset = 2 ** (quant.bits - 1) if quant.symmetric else 0
        total -= quant.codes.size * 4
        total += len(pack_bits(quant.codes.astype(np.int64) + offset, quant.bits)) + quant.scales.size * 2
        if not quant.symmetric:
            total += len(pack_bits(quant.zero_points, quant.bits))
        total += q.input_scales[name].size * 2 if name in q.input_scales else 0
    return total


def test_bytes(vit, calib, rtn3):
    assert float_vit_bytes(vit) == 139018 * 4
    # 131,072 block weights at 3 bits, a float16 scale per 32 of them, 7,946 other parameters at float32
    assert rtn3.bytes == 131072 * 3 // 8 + 131072 // 32 * 2 + 7946 * 4
    assert vit_bytes(rtn3.model, rtn3.layers) == rtn3.bytes
    assert vit_bytes(vit, {}) == float_vit_bytes(vit)
    pruned = MnistViT(heads=[4, 2, 0, 3]).eval()
    for kwargs in (dict(bits=[3, None, 4, 8], group_size=16, symmetric=False), dict(bits=2, group_size=None)):
        q = quantize_vit(pruned, calib[:8], **kwargs)
        assert q.bytes == _independent_bytes(pruned, q)
    q = quantize_vit(pruned, calib[:8], method="awq", bits=4, group_size=16, symmetric=False)
    assert q.bytes == _independent_bytes(pruned, q)


def test_float_blocks_stay_float(vit, calib):
    q = quantize_vit(vit, calib[:8], method="gptq", bits=[None, 4, None, 8])
    assert list(q.layers) == [n for n in NAMES if n.startswith(("blocks.1", "blocks.3"))]
    assert q.bits == [None, 4, None, 8]
    for name, layer in vit_linears(q.model).items():
        same = torch.equal(layer.weight, vit_linears(vit)[name].weight)
        assert same == (name not in q.layers), name
    assert max(q.errors[n] for n in q.layers if n.startswith("blocks.3")) < 0.02  # 8 bits


@pytest.mark.parametrize("method", ["rtn", "awq"])
def test_runtime_vit(vit, calib, method):
    q = quantize_vit(vit, calib[:16], method=method, bits=4, group_size=16, symmetric=method == "rtn")
    runtime = runtime_vit(q)
    layers = {n: m for n, m in runtime.named_modules() if isinstance(m, DequantLinear)}
    assert list(layers) == NAMES
    for name, layer in layers.items():
        quant = q.layers[name]
        assert layer.packed.dtype == torch.uint8 and layer.packed.numel() == quant.codes.size * 4 // 8
        assert layer.scales.dtype == torch.float16
        assert torch.equal(layer.weight(), vit_linears(q.model)[name].weight) or method == "awq"
    x = cl.to_tensor(calib[:32])
    with torch.no_grad():
        torch.testing.assert_close(runtime(x), q.model(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs, error, word", [
    (dict(model="vit"), TypeError, "model"),
    (dict(model=torch.nn.Linear(2, 2)), TypeError, "model"),
    (dict(images=np.zeros((2, 28, 28))), TypeError, "images"),
    (dict(images=np.zeros((2, 32, 32, 3), np.uint8)), ValueError, "images"),
    (dict(method="gtpq"), ValueError, "method"),
    (dict(method=1), TypeError, "method"),
    (dict(bits=1), ValueError, "bits"),
    (dict(bits=9), ValueError, "bits"),
    (dict(bits=4.0), TypeError, "bits"),
    (dict(bits=[4, 4, 4]), ValueError, "bits"),
    (dict(bits=[4, 4, 4, 12]), ValueError, "bits[3]"),
    (dict(group_size=48), ValueError, "group_size"),
    (dict(group_size=0), ValueError, "group_size"),
    (dict(group_size="32"), TypeError, "group_size"),
    (dict(symmetric=1), TypeError, "symmetric"),
])
def test_bad_arguments(vit, calib, kwargs, error, word):
    args = dict(model=vit, images=calib[:2], method="rtn", bits=4, group_size=32, symmetric=True) | kwargs
    model, images = args.pop("model"), args.pop("images")
    with pytest.raises(error, match=word.replace("[", r"\[").replace("]", r"\]")):
        quantize_vit(model, images, **args)


def test_bad_arguments_other_functions(vit, calib):
    with pytest.raises(ValueError, match="group_size"):  # block 1's proj reads 2 heads x 16 = 32 features
        quantize_vit(MnistViT(heads=[4, 2, 4, 4]), calib[:2], group_size=64)
    with pytest.raises(TypeError, match="model"):
        vit_linears(torch.nn.Sequential())
    with pytest.raises(ValueError, match="names"):
        linear_inputs(vit, calib[:2], ["blocks.9.fc1"])
    with pytest.raises(ValueError, match="max_rows"):
        linear_inputs(vit, calib[:2], max_rows=0)
    with pytest.raises(TypeError, match="quantized"):
        runtime_vit(vit)
    with pytest.raises(TypeError, match="layers"):
        vit_bytes(vit, [])
    with pytest.raises(ValueError, match="layers"):
        vit_bytes(vit, {"head": None})
    quant = group_quantize(np.ones((64, 64)), 4, 32)
    with pytest.raises(ValueError, match="scales"):
        vit_bytes(vit, {"blocks.0.attn.q": quant._replace(scales=quant.scales[:, :1])})
