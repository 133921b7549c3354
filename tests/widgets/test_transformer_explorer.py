"""The transformer explorer (notebook 11): its accuracy is that of the quantized, head-pruned ViT, its bytes those of
the stored layers, its input is checked."""

import copy
from collections import OrderedDict

import matplotlib
import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.llmquant import gptq_quantize, group_quantize, rtn_dequantized, stored_bytes
from course_lib.llmquant.nn import heads_to_keep, linear_inputs, prune_heads, vit_bytes, vit_linears
from course_lib.widgets import TransformerExplorer

from helpers import raises

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def setup():
    model = cl.load_pretrained("vit_mnist")
    test = cl.load_mnist("test", limit=80)
    train = cl.load_mnist("train", limit=300)
    return TransformerExplorer(model, test, train, lora_ranks=(2,), lora_steps=5, lora_images=300), model, test, train


def quantized(model, bits, group_size, *, deltas=None):
    """A copy of ``model`` with its block Linears RTN-quantized (``bits`` per block, None: float) plus ``deltas``."""
    out = copy.deepcopy(model)
    with torch.no_grad():
        for name, layer in vit_linears(out).items():
            b = bits[int(name.split(".")[1])]
            if b is not None:
                layer.weight.copy_(torch.from_numpy(rtn_dequantized(layer.weight.double().numpy(), b, group_size)))
            if deltas is not None:
                layer.weight.add_(deltas[name])
    return out


def other_bytes(model) -> int:
    linears = {f"{n}.weight" for n in vit_linears(model)}
    return 4 * sum(p.numel() for n, p in model.named_parameters() if n not in linears)


@pytest.mark.parametrize("bits, group_size, heads", [
    (4, 32, 16), ([2, 3, 8, None], 16, 10), ([None, 4, 4, 3], None, 16), (3, 64, 5), (8, 16, 0)])
def test_compute_measures_the_quantized_pruned_model(setup, bits, group_size, heads):
    exp, model, test, _ = setup
    r = exp.compute(bits, group_size, "rtn", heads)
    per_block = list(bits) if isinstance(bits, list) else [bits] * 4
    keep = heads_to_keep(exp.importance, heads)
    small = prune_heads(quantized(model, per_block, group_size), keep)
    assert r["accuracy"] == cl.accuracy(small, test.images, test.labels)
    assert r["keep"] == keep and sum(map(len, keep)) == heads and r["bits"] == tuple(per_block)
    if group_size != 32 or heads == 16:  # proj's groups of 32 may hold one kept head of two: checked below
        expected = other_bytes(small)
        for name, layer in vit_linears(small).items():
            out, cols = layer.weight.shape
            b = per_block[int(name.split(".")[1])]
            g = group_size if group_size and cols % group_size == 0 else cols  # proj's 64 columns: one group of 64
            expected += 4 * out * cols if b is None else stored_bytes(out, cols, b, g)
        assert r["bytes"] == expected
    assert r["ratio"] == exp.float_bytes / r["bytes"] and exp.float_bytes == 4 * 139_018
    assert r["latency_ms"] > 0 and r["images"] == 80


@pytest.mark.parametrize("bits, group_size, heads", [(4, 32, 16), ([2, None, 8, 3], None, 16), (3, 16, 9)])
def test_bytes_are_those_of_the_weight_only_module(setup, bits, group_size, heads):
    exp, model, _, _ = setup
    per_block = list(bits) if isinstance(bits, list) else [bits] * 4
    small = prune_heads(model, heads_to_keep(exp.importance, heads))
    layers = {n: group_quantize(layer.weight.detach().numpy(), per_block[int(n.split(".")[1])], group_size)
              for n, layer in vit_linears(small).items() if per_block[int(n.split(".")[1])] is not None}
    assert exp.compute(bits, group_size, "gptq", heads)["bytes"] == vit_bytes(small, layers)


def test_float_and_full_model(setup):
    exp, model, test, _ = setup
    assert exp.float["bytes"] == 4 * cl.count_parameters(model) and exp.float["ratio"] == 1.0
    assert exp.float["accuracy"] == cl.accuracy(model, test.images, test.labels)
    smaller = [exp.compute(b)["bytes"] for b in (8, 4, 3, 2)]
    assert smaller == sorted(smaller, reverse=True) and smaller[-1] < exp.float["bytes"] / 5


def test_cached_blocks_give_the_full_pass_numbers(setup):
    exp, *_ = setup
    settings = [[4, 4, 4, 4], [4, 4, 4, 2], [4, 4, 2, 2], [4, 2, 2, 2], [2, 2, 2, 2]]
    via_cache = [exp.compute(b, 32, "gptq", 12) for b in settings]  # one block changed at a time, from the last
    exp._acts = [OrderedDict() for _ in exp._acts]
    fresh = [exp.compute(b, 32, "gptq", 12) for b in settings]
    for a, b in zip(via_cache, fresh):
        assert a["accuracy"] == b["accuracy"] and a["bytes"] == b["bytes"]


def test_gptq_weights_are_gptq_on_the_float_models_inputs(setup):
    exp, model, _, train = setup
    inputs = linear_inputs(model, train.images[:exp.CALIBRATION_IMAGES], ["blocks.1.fc2", "blocks.2.attn.k"])
    for name, x in inputs.items():
        w = model.get_submodule(name).weight.detach().double().numpy()
        for bits, g in ((3, 32), (2, None)):
            theirs = gptq_quantize(w, x, bits, g).dequantized
            np.testing.assert_allclose(exp._weights[name, "gptq", bits, g].numpy(), theirs, atol=1e-6)
            assert not np.allclose(theirs, rtn_dequantized(w, bits, g))
    assert exp.compute(3, 32, "gptq")["bytes"] == exp.compute(3, 32, "rtn")["bytes"]


def test_lora_adds_the_adapters_trained_on_the_fixed_base(setup):
    exp, model, test, _ = setup
    bits, group, method = exp.LORA_BASE
    assert exp.lora_ranks == (0, 2) and method == "rtn"
    r = exp.compute(bits, group, method, 16, 2)
    adapted = quantized(model, [bits] * 4, group, deltas=exp._deltas[2])
    assert r["accuracy"] == cl.accuracy(adapted, test.images, test.labels)
    plain = exp.compute(bits, group, method, 16, 0)
    per_block = 4 * 2 * ((64 + 64) * 4 + (64 + 128) * 2)  # r * (in + out) float32 per layer
    assert r["bytes"] - plain["bytes"] == 4 * per_block == 28_672  # 4 blocks
    assert any(float(d.abs().max()) > 0 for d in exp._deltas[2].values())


def test_update_draws_the_blocks(setup):
    exp, *_ = setup
    r = exp.update([4, 3, 2, None], 32, "rtn", 14)
    heights = [a.get_height() + m.get_height() for a, m in zip(exp._attn_bars, exp._mlp_bars)]
    np.testing.assert_allclose(heights, [sum(b) / 1000 for b in r["block_bytes"]])
    assert [t.get_text() for t in exp._labels] == ["4 bits", "3 bits", "2 bits", "float"]
    title = exp._title.get_text()
    assert title.startswith("RTN, groups of 32, 14 heads") and f"{r['ratio']:.1f}x smaller" in title
    exp.update(2, None, "gptq", 16, 2)
    assert exp._title.get_text() != title and "groups of a row" in exp._title.get_text()


def test_widget_builds_and_redraws(setup):
    exp, *_ = setup
    box = exp.widget(bits=[4, 4, 3, 2], group_size=64, heads=12)
    menus = box.children[0].children
    status = box.children[-2]
    assert [m.value for m in menus] == [4, 4, 3, 2, 64]
    before = status.value
    assert "on 80 test images" in before and "12 of 16 heads" in before and cl.cpu_capability() in before
    menus[0].value = None
    assert status.value != before and exp._labels[0].get_text() == "float"
    box.children[1].children[2].value = 2
    assert "LoRA rank 2: adapters trained (5 steps) on the 2-bit, groups of 32, RTN weights" in status.value


def test_bad_input(setup):
    exp, model, test, train = setup
    raises(TypeError, "bits must be an int in (2, 3, 4, 8) or None (float32), got str ('4').", exp.compute, "4")
    raises(ValueError, "bits has 3 entries, must have 4 (one per block).", exp.compute, [4, 4, 4])
    with pytest.raises(ValueError, match=r"bits\[1\] == 5"):
        exp.compute([4, 5, 4, 4])
    with pytest.raises(ValueError, match="group_size == 8"):
        exp.compute(4, 8)
    with pytest.raises(ValueError, match="method == 'awq'"):
        exp.compute(4, 32, "awq")
    with pytest.raises(ValueError, match="heads == 17, must be <= 16"):
        exp.compute(4, 32, "rtn", 17)
    with pytest.raises(ValueError, match="rank == 4"):
        exp.compute(4, 32, "rtn", 16, 4)
    with pytest.raises(TypeError, match="TransformerExplorer.widget"):
        exp.widget(bit=3)
    raises(TypeError, "model must be a MnistViT (cl.load_pretrained('vit_mnist')), got LeNet300100.",
           TransformerExplorer, cl.load_pretrained("lenet300"), test, train)
    raises(ValueError, "model has heads [4, 2, 4, 4], must have 4 in every block (the explorer drops heads itself).",
           TransformerExplorer, cl.models.MnistViT(heads=[4, 2, 4, 4]), test, train)
    with pytest.raises(ValueError, match="test"):
        TransformerExplorer(model, cl.load_cifar10("test", limit=5), train)
    with pytest.raises(TypeError, match="lora_ranks must be a list or tuple of ints"):
        TransformerExplorer(model, test, train, lora_ranks=4)
    with pytest.raises(ValueError, match=r"lora_ranks\[0\] == 0, must be >= 1"):
        TransformerExplorer(model, test, train, lora_ranks=[0])


def test_is_an_explorer_with_its_own_signatures():
    from course_lib.widgets.base import Explorer

    assert issubclass(TransformerExplorer, Explorer)
    assert vars(TransformerExplorer)["widget"].__qualname__ == "TransformerExplorer.widget"
    assert list(vars(TransformerExplorer)["update"].__signature__.parameters)[1:] == [
        "bits", "group_size", "method", "heads", "rank"]
