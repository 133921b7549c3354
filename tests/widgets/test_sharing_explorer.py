"""The weight-sharing explorer (notebook 10): its bytes are those of save_shared_model's file, its accuracy that of the
shared model, its input is checked."""

import matplotlib
import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.pruning import csr_bytes, magnitude_mask
from course_lib.sharing import nn as snn
from course_lib.widgets import SharingExplorer

from helpers import raises

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def setup():
    model = cl.load_pretrained("lenet300")
    test = cl.load_mnist("test", limit=300)
    return SharingExplorer(model, test), model, test


def shared_copy(model, kept, bits):
    pruned = cl.load_pretrained("lenet300")
    pruned.load_state_dict(model.state_dict())
    with torch.no_grad():
        for n in ("fc1", "fc2", "fc3"):
            layer = getattr(pruned, n)
            layer.weight.mul_(torch.from_numpy(magnitude_mask(layer.weight.numpy(), 1 - kept)))
    return pruned, snn.share_model(pruned, bits, iters=SharingExplorer.ITERS)


@pytest.mark.parametrize("bits, kept", [(5, 0.1), ({"fc1": 2, "fc2": 6, "fc3": 8}, 0.08), ({"fc2": 3}, 0.3)])
def test_compute_measures_the_files_and_model_save_shared_model_makes(setup, tmp_path, bits, kept):
    exp, model, test = setup
    r = exp.compute(bits, kept)
    full_bits = {n: (bits if isinstance(bits, int) else bits.get(n, 5)) for n in ("fc1", "fc2", "fc3")}
    pruned, shared = shared_copy(model, kept, full_bits)
    assert r["bytes"]["shared + Huffman"] == snn.save_shared_model(shared, tmp_path / "h.dc")
    assert r["bytes"]["shared, fixed-width"] == snn.save_shared_model(shared, tmp_path / "f.dc", coding="fixed")
    assert r["bytes"]["dense float32"] == 4 * cl.count_parameters(model) == 1_066_440
    weights = [getattr(pruned, n).weight.detach().numpy() for n in ("fc1", "fc2", "fc3")]
    assert r["bytes"]["pruned (CSR)"] == sum(csr_bytes(w) for w in weights) + 4 * 410
    assert r["accuracy"] == cl.accuracy(shared, test.images, test.labels)
    assert r["nonzero"] == sum(int(np.count_nonzero(w)) for w in weights)
    assert r["bits"] == full_bits and r["kept"] == kept and r["images"] == 300
    assert r["ratio"] == r["bytes"]["dense float32"] / r["bytes"]["shared + Huffman"]


def test_more_bits_cost_more_bytes_and_the_stages_shrink(setup):
    exp, _, _ = setup
    small, large = exp.compute(2, 0.1), exp.compute(8, 0.1)
    assert small["bytes"]["shared + Huffman"] < large["bytes"]["shared + Huffman"]
    for r in (small, large):
        b = list(r["bytes"].values())
        assert b[0] > b[1] > b[2] > b[3]
    again = exp.compute(2, 0.1)
    assert again["bytes"] == small["bytes"] and again["accuracy"] == small["accuracy"]  # from the cache


def test_update_draws_the_stages(setup):
    exp, _, _ = setup
    r = exp.update({"fc1": 4}, 0.1)
    assert [b.get_height() for b in exp._bars] == list(r["bytes"].values())
    assert "bits fc1/fc2/fc3 = 4/5/5" in exp._title.get_text() and "no fine-tuning" in exp._title.get_text()


def test_widget_builds_and_redraws(setup):
    exp, _, _ = setup
    box = exp.widget(bits={"fc1": 3}, kept=0.2)
    sliders, kept = box.children[0].children, box.children[1].children[0]
    status = box.children[-2]
    assert [s.value for s in sliders] == [3, 5, 5] and kept.value == 0.2
    before = status.value
    assert "on 300 test images" in before and "no fine-tuning" in before
    sliders[0].value = 6
    assert status.value != before and exp._title.get_text().startswith("20% kept, bits fc1/fc2/fc3 = 6/5/5")


def refused(exc, part, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` raises ``exc`` naming the parameter and its rule (``part`` of the message)."""
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert part in str(info.value), str(info.value)


def test_bad_input(setup):
    exp, model, test = setup
    rule = "must be an int (every layer's index width) or a dict layer -> int"
    raises(TypeError, f"bits {rule}, got str ('5').", exp.compute, "5")
    raises(TypeError, f"bits {rule}, got float (5.0).", exp.compute, 5.0)
    raises(TypeError, f"bits {rule}, got bool (True).", exp.compute, True)
    raises(ValueError, "bits has layer 'fc4', must be among 'fc1', 'fc2', 'fc3'.", exp.compute, {"fc4": 3})
    refused(ValueError, "bits == 9, must be <= 8", exp.compute, 9)
    refused(ValueError, "bits['fc2'] == 0, must be >= 1", exp.compute, {"fc2": 0})
    refused(ValueError, "kept == 0.6", exp.compute, 5, 0.6)
    refused(TypeError, "kept must be", exp.compute, 5, "0.1")
    refused(ValueError, "kept == 0.9, must be in [0.02, 0.5]", exp.widget, kept=0.9)
    refused(TypeError, "model must be a LeNet300100", SharingExplorer, cl.load_pretrained("lenet5"), test)
    raises(TypeError, "SharingExplorer.widget(): got an unexpected keyword argument 'bit'", exp.widget, bit=3)
    refused(ValueError, "test", SharingExplorer, model, cl.load_cifar10("test", limit=5))
