"""The channel-pruning explorer (notebook 02): its numbers are those of prune_channels' model, its input is checked."""

import matplotlib
import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.pruning import nn as prune_nn
from course_lib.widgets import ChannelPruningExplorer

from helpers import raises

matplotlib.use("Agg")

LAYERS = ["features.0", "features.4", "features.7", "features.11", "features.14"]


@pytest.fixture(scope="module")
def setup():
    model = cl.load_pretrained("cifar_vgg")
    test = cl.load_cifar10("test", limit=60)
    images = cl.load_cifar10("train", limit=40).images
    return ChannelPruningExplorer(model, test, images=images), model, test, images


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("keep, method", [
    (0.5, "l1"),
    ({"features.0": 0.75, "features.4": 0.3, "features.7": 0.6, "features.11": 0.4, "features.14": 0.25}, "l2"),
    ({"features.7": 0.1}, "bn"),
    ({"features.0": 0.9, "features.14": 0.5}, "apoz"),
])
def test_compute_measures_the_model_prune_channels_builds(setup, keep, method):
    exp, model, test, images = setup
    result = exp.compute(keep, method)
    small = prune_nn.prune_channels(model, keep, method=method, images=images if method == "apoz" else None)
    assert same_weights(result["model"], small)
    assert result["macs"] == prune_nn.count_macs(small)["total"] < exp.dense["macs"]
    assert result["accuracy"] == cl.accuracy(small, test.images, test.labels)
    assert result["bytes"] == cl.storage_bytes(small) < exp.dense["bytes"]
    assert result["kept"] == {n: small.get_submodule(n).out_channels for n in LAYERS}
    assert result["filters"] == {"features.0": 32, "features.4": 64, "features.7": 64, "features.11": 128,
                                 "features.14": 128}
    expected = {n: float(keep) if not isinstance(keep, dict) else keep.get(n, 1.0) for n in LAYERS}
    assert result["keep"] == expected and result["method"] == method and result["images"] == 60
    assert result["latency_ms"] > 0


def test_cached_activations_give_the_full_pass_numbers(setup):
    exp, model, test, _ = setup
    first = {"features.0": 0.5, "features.4": 0.5, "features.7": 0.5, "features.11": 0.5, "features.14": 0.5}
    exp.compute(first)  # caches the blocks' outputs for this setting
    for n in reversed(LAYERS):  # one slider moved at a time, from the last: the blocks before it come from the cache
        first = {**first, n: 0.35}
        via_cache = exp.compute(first)
        small = prune_nn.prune_channels(model, first)
        assert via_cache["accuracy"] == cl.accuracy(small, test.images, test.labels)
        assert via_cache["macs"] == prune_nn.count_macs(small)["total"]
    again = exp.compute(first, "l1")
    assert again["accuracy"] == via_cache["accuracy"] and again["model"] is via_cache["model"]  # a setting seen before


def test_keeping_everything_is_the_dense_network(setup):
    exp, model, test, _ = setup
    for method in ("l1", "bn"):
        dense = exp.compute(1.0, method)
        assert dense["macs"] == prune_nn.count_macs(model)["total"] == 30_512_128
        assert dense["accuracy"] == cl.accuracy(model, test.images, test.labels)
        assert dense["bytes"] == cl.storage_bytes(model)
        assert dense["kept"] == dense["filters"] and same_weights(dense["model"], model)
    assert exp.compute({})["accuracy"] == exp.dense["accuracy"] and exp.dense["macs"] == 30_512_128
    assert exp.methods == ("l1", "l2", "apoz", "bn")


def test_scores_decide_which_filters_stay(setup):
    exp, model, _, _ = setup
    by_l1, by_bn = exp.compute(0.25, "l1")["model"], exp.compute(0.25, "bn")["model"]
    w = model.features[0].weight.detach().abs().sum((1, 2, 3)).numpy()
    top = np.sort(np.argsort(-w, kind="stable")[:8])
    assert torch.equal(by_l1.features[0].weight, model.features[0].weight[torch.from_numpy(top)])
    assert not torch.equal(by_l1.features[14].weight, by_bn.features[14].weight)


def test_update_draws_kept_and_removed_filters(setup):
    exp, _, _, _ = setup
    res = exp.update({"features.4": 0.5, "features.14": 0.25}, "l2")
    assert [b.get_height() for b in exp._kept_bars] == [32, 32, 64, 128, 32]
    assert [b.get_height() for b in exp._gone_bars] == [0, 32, 0, 0, 96]
    acc, macs = 100 * res["accuracy"], res["macs"] / exp.dense["macs"]
    assert exp._title.get_text() == (f"l2 scores: 288 of 416 filters kept (grey: removed)\naccuracy {acc:.1f}% "
                                     f"(dense {100 * exp.dense['accuracy']:.1f}%) · MACs {macs:.0%} · bytes "
                                     f"{res['bytes'] / exp.dense['bytes']:.0%} of dense")


def test_widget_builds_and_redraws(setup):
    exp, _, _, _ = setup
    box = exp.widget(keep={"features.0": 0.75}, method="bn")
    sliders = [*box.children[0].children, *box.children[1].children[:2]]
    scores, status = box.children[1].children[2], box.children[-2]
    assert [s.value for s in sliders] == [0.75, 1.0, 1.0, 1.0, 1.0] and scores.value == "bn"
    assert list(scores.options) == ["l1", "l2", "apoz", "bn"]
    before = status.value
    assert "on 60 test images" in before and cl.cpu_capability() in before and "1 thread" in before
    sliders[4].value = 0.5
    assert status.value != before and "accuracy" in status.value and exp._kept_bars[4].get_height() == 64
    three = ChannelPruningExplorer(exp.model, cl.load_cifar10("test", limit=8)).widget()
    assert list(three.children[1].children[2].options) == ["l1", "l2", "bn"]
    assert [s.value for s in three.children[0].children] == [0.5, 0.5, 0.5]


def test_bad_input(setup):
    exp, model, test, _ = setup
    keep_rule = "must be a float (the fraction of filters kept in every convolution) or a dict conv name -> fraction"
    raises(TypeError, f"keep {keep_rule}, got str ('0.5').", exp.compute, "0.5")
    raises(TypeError, f"keep {keep_rule}, got list ([0.5, 0.5]).", exp.compute, [0.5, 0.5])
    raises(TypeError, "keep must be a float (a fraction of the filters), got int (1): prune_channels reads an int "
                      "as a count of filters.", exp.compute, 1)
    raises(TypeError, "keep['features.4'] must be a real number, got str ('a').", exp.compute, {"features.4": "a"})
    raises(ValueError, "keep == 0.0, must be in (0, 1].", exp.compute, 0.0)
    raises(ValueError, "keep['features.0'] == 1.5, must be in (0, 1].", exp.compute, {"features.0": 1.5})
    raises(ValueError, "keep['features.0'] == nan, must be finite.", exp.compute, {"features.0": float("nan")})
    raises(ValueError, "keep has layer 'features.3', must be among 'features.0', 'features.4', 'features.7', "
                       "'features.11', 'features.14'.", exp.compute, {"features.3": 0.5})
    raises(ValueError, "method == 'l3', must be one of 'l1', 'l2', 'apoz', 'bn'.", exp.compute, 0.5, "l3")
    raises(TypeError, "method must be a str, got int (1).", exp.compute, 0.5, 1)
    raises(ValueError, "keep == 0.05, must be in [0.1, 1] (the slider's range).", exp.widget, keep=0.05)
    raises(ValueError, "keep['features.7'] == 0.05, must be in [0.1, 1] (the slider's range).", exp.widget,
           keep={"features.7": 0.05})
    raises(ValueError, "method == 'apoz', must be one of 'l1', 'l2', 'bn'.",
           ChannelPruningExplorer(model, cl.load_cifar10("test", limit=4)).compute, 0.5, "apoz")
    with pytest.raises(TypeError, match=r"ChannelPruningExplorer.widget\(\): got an unexpected keyword argument"):
        exp.widget(ranks=[1])
    raises(TypeError, "model must be a CifarVGG (the CIFAR-10 CNN, cl.load_pretrained('cifar_vgg')), got "
                      "LeNet300100.", ChannelPruningExplorer, cl.build_model("lenet300"), test)
    raises(TypeError, "test must be a Dataset (with .images and .labels, as course_lib.data loads it), got "
                      "ndarray.", ChannelPruningExplorer, model, test.images)
    with pytest.raises(ValueError, match=r"^test\.images"):
        ChannelPruningExplorer(model, cl.load_mnist("test", limit=4))
    with pytest.raises(ValueError, match=r"^images"):
        ChannelPruningExplorer(model, test, images=np.zeros((2, 28, 28), np.uint8))
