"""The ViT's variants as summary configurations: names, families, bytes and models built by the library."""

import pytest
import torch

import course_lib as cl
from course_lib.llmquant import nn as lq
from course_lib.summary.nn import vit as sv


@pytest.fixture(scope="module")
def built():
    model = cl.load_pretrained("vit_mnist")
    train = cl.load_mnist("train", limit=300)
    quantized = sv.vit_quantized(model, train.images[:sv.CALIBRATION_IMAGES], sv.WEIGHT_ONLY + (("gptq", 2),))
    configs = sv.vit_configs(model, train, head_steps=2, lora_steps=2, quantized=quantized)
    return model, train, quantized, configs


def test_every_variant_is_there_with_its_family_and_bytes(built):
    model, _, quantized, configs = built
    names = [c.name for c in configs]
    assert names[0] == "float32" and len(names) == len(set(names)) == 12
    by = {c.name: c for c in configs}
    assert by["float32"].bytes == 4 * cl.count_parameters(model)
    for method, bits in sv.WEIGHT_ONLY:
        c = by[f"int{bits} {method.upper()} (g{sv.GROUP_SIZE})"]
        assert c.family == "quantization" and c.bytes == quantized[method, bits].bytes
        assert c.needs == ("none" if method == "rtn" else "sample")
    lora = by[f"int2 GPTQ + LoRA r{sv.LORA_RANK}"]
    adapters = sum(sv.LORA_RANK * (m.in_features + m.out_features) for m in lq.vit_linears(model).values())
    assert lora.bytes == quantized["gptq", 2].bytes + 4 * adapters and lora.needs == "labels"
    pruned = by[f"{sv.HEADS_KEPT} of 16 heads + fine-tuning"].model
    assert sum(b.attn.heads for b in pruned.blocks) == sv.HEADS_KEPT
    assert {c.family for c in configs} == {"baseline", "quantization", "pruning", "combination"}


def test_weight_only_models_compute_what_the_quantized_weights_compute(built):
    _, train, quantized, configs = built
    x = cl.to_tensor(train.images[:20])
    runtime = {c.name: c.model for c in configs}["int3 GPTQ (g32)"]
    with torch.no_grad():
        assert torch.allclose(runtime(x), quantized["gptq", 3].model(x), atol=1e-5)


def test_bad_arguments_are_refused(built):
    model, train, quantized, _ = built
    with pytest.raises(TypeError, match="MnistViT"):
        sv.vit_configs(cl.load_pretrained("lenet300"), train, head_steps=1, lora_steps=1)
    with pytest.raises(TypeError, match="train must be a Dataset"):
        sv.vit_configs(model, train.images, head_steps=1, lora_steps=1)
    with pytest.raises(ValueError, match="head_steps"):
        sv.vit_configs(model, train, head_steps=-1, lora_steps=1)
    with pytest.raises(ValueError, match="quantized lacks"):
        sv.vit_configs(model, train, head_steps=1, lora_steps=1, quantized={("rtn", 4): quantized["rtn", 4]})
    with pytest.raises(TypeError, match="pairs"):
        sv.vit_quantized(model, train.images[:8], pairs="rtn")
