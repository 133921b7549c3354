"""LoRA on the Vision Transformer: the adapted model starts equal to its base, only the adapters train, merging keeps
the logits, and on the trained ViT quantized to 3 bits the adapters recover accuracy."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

import course_lib as cl
from course_lib.llmquant import rtn_dequantized
from course_lib.llmquant.nn import LoRALinear, add_lora, finetune_lora, lora_parameters, merge_lora, vit_linears

from helpers import raises, state_copy


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    return cl.models.MnistViT()


@pytest.fixture(scope="module")
def train():
    return cl.load_mnist("train", limit=3000)


def test_lora_linear_starts_as_its_base_and_adds_scaled_b_a():
    torch.manual_seed(1)
    base = nn.Linear(64, 32)
    layer = LoRALinear(base, 4, alpha=8.0)
    x = torch.randn(5, 64)
    assert torch.equal(layer(x), base(x))  # B = 0
    assert layer.lora_a.shape == (4, 64) and layer.lora_b.shape == (32, 4) and layer.scale == 2.0
    assert not base.weight.requires_grad and not base.bias.requires_grad and layer.lora_a.requires_grad
    with torch.no_grad():
        layer.lora_b.normal_()
    expected = base(x) + 2.0 * x @ layer.lora_a.T @ layer.lora_b.T
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer.delta_weight(), 2.0 * layer.lora_b @ layer.lora_a)
    assert LoRALinear(nn.Linear(8, 8), 2).scale == 1.0  # alpha = rank by default
    assert float(layer.lora_a.detach().std()) > 0.05  # a random A: the gradient of B is not zero


def test_add_lora_wraps_the_24_block_linears_and_freezes_the_rest(vit, train):
    state = state_copy(vit)
    adapted = add_lora(vit, 4)
    wrapped = [n for n, m in adapted.named_modules() if isinstance(m, LoRALinear)]
    assert wrapped == list(vit_linears(vit)) and len(wrapped) == 24
    x = cl.to_tensor(train.images[:20])
    with torch.no_grad():
        assert torch.equal(adapted(x), vit(x))  # the model starts exactly equal to the base
    assert {n for n, p in adapted.named_parameters() if p.requires_grad} == {
        f"{n}.lora_{ab}" for n in wrapped for ab in "ab"}
    per_block = 4 * ((64 + 64) * 3 + (64 + 64) + (64 + 128) + (128 + 64))
    count = lora_parameters(adapted)
    assert count.trainable == count.adapters == 4 * per_block == 14_336
    assert count.full == cl.count_parameters(vit) == 139_018 and count.total == 139_018 + 14_336
    trainable, total = count
    assert (trainable, total) == (14_336, 153_354) and count == (14_336, 153_354)
    assert state_copy(vit).keys() == state.keys() and all(torch.equal(vit.state_dict()[k], v) for k, v in state.items())
    only = add_lora(vit, 2, names=["blocks.0.fc1", "blocks.3.attn.q"], alpha=4, seed=3)
    assert [n for n, m in only.named_modules() if isinstance(m, LoRALinear)] == ["blocks.0.fc1", "blocks.3.attn.q"]
    assert lora_parameters(only).trainable == 2 * (64 + 128) + 2 * (64 + 64)
    assert torch.equal(add_lora(vit, 2, seed=5).blocks[0].fc1.lora_a, add_lora(vit, 2, seed=5).blocks[0].fc1.lora_a)
    pruned = add_lora(cl.models.MnistViT(heads=[4, 0, 2, 1]), 1)  # the removed attention has no weight: skipped
    assert len([m for m in pruned.modules() if isinstance(m, LoRALinear)]) == 20


def test_finetune_trains_only_the_adapters_and_merge_keeps_the_logits(vit, train):
    adapted = add_lora(vit, 2)
    before = state_copy(adapted)
    tuned = finetune_lora(adapted, train.images[:256], train.labels[:256], steps=3, batch_size=32, progress=False)
    assert not tuned.training and all(torch.equal(adapted.state_dict()[k], v) for k, v in before.items())
    after = tuned.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {k for k in before if k.endswith(("lora_a", "lora_b"))}
    merged = merge_lora(tuned)
    assert not any(isinstance(m, LoRALinear) for m in merged.modules())
    assert type(merged.blocks[1].attn.v) is nn.Linear and lora_parameters(merged).adapters == 0
    x = cl.to_tensor(train.images[:64])
    with torch.no_grad():
        assert not torch.equal(tuned(x), vit(x))  # the adapters moved the logits ...
        torch.testing.assert_close(merged(x), tuned(x), atol=1e-5, rtol=1e-5)  # ... and the merged model too
    assert set(merged.state_dict()) == set(vit.state_dict())


def test_bad_input(vit, train):
    raises(TypeError, "base must be a torch.nn.Linear, got Conv2d.", LoRALinear, nn.Conv2d(1, 2, 3), 2)
    raises(ValueError, "rank == 9, must be <= 8.", LoRALinear, nn.Linear(8, 16), 9)
    raises(TypeError, "model must be a torch.nn.Module, got str.", add_lora, "vit", 2)
    with pytest.raises(ValueError, match="rank == 0, must be >= 1"):
        add_lora(vit, 0)
    with pytest.raises(ValueError, match="names has 'blocks.0.norm1', must name a Linear layer"):
        add_lora(vit, 2, names=["blocks.0.norm1"])
    with pytest.raises(ValueError, match=r"names\['blocks.0.attn.q'\]: rank == 65, must be <= 64"):
        add_lora(vit, 65)
    with pytest.raises(ValueError, match="has no LoRALinear layer"):
        finetune_lora(vit, train.images[:10], train.labels[:10], steps=1)
    with pytest.raises(ValueError, match="has no LoRALinear layer"):
        merge_lora(vit)
    adapted = add_lora(vit, 1)
    with pytest.raises(TypeError, match="steps"):
        finetune_lora(adapted, train.images[:10], train.labels[:10], steps=1.5)
    with pytest.raises(ValueError, match="labels"):
        finetune_lora(adapted, train.images[:10], train.labels[:9], steps=1)
    with pytest.raises(ValueError, match="lr"):
        finetune_lora(adapted, train.images[:10], train.labels[:10], steps=1, lr=0)


def quantized_copy(model, bits, group_size=32):
    """``model`` with every block Linear's weight replaced by its RTN group-wise dequantized copy."""
    out = copy.deepcopy(model)
    with torch.no_grad():
        for layer in vit_linears(out).values():
            w = layer.weight.detach().double().numpy()
            layer.weight.copy_(torch.from_numpy(rtn_dequantized(w, bits, group_size)).float())
    return out


def test_lora_recovers_accuracy_of_the_2_bit_vit(train):
    trained = cl.load_pretrained("vit_mnist")
    test = cl.load_mnist("test", limit=2000)
    accuracy = cl.measure.accuracy(trained, test.images, test.labels)
    quantized = quantized_copy(trained, 2)
    lost = cl.measure.accuracy(quantized, test.images, test.labels)
    assert lost < accuracy - 0.05, (accuracy, lost)  # 2 bits per group of 32 loses several points
    tuned = finetune_lora(add_lora(quantized, 4), train.images, train.labels, steps=60, progress=False)
    recovered = cl.measure.accuracy(tuned, test.images, test.labels)
    assert recovered > lost + 0.05, (accuracy, lost, recovered)  # a measurable part of the loss comes back
    # the base stayed on the 2-bit grid: only the adapters moved
    for name, layer in vit_linears(quantized).items():
        assert torch.equal(tuned.get_submodule(name).base.weight, layer.weight)
    assert np.isclose(cl.measure.accuracy(merge_lora(tuned), test.images, test.labels), recovered, atol=1e-3)
