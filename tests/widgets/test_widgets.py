import time

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.widgets import PredictionExplorer


@pytest.fixture(scope="module")
def explorer():
    import matplotlib

    matplotlib.use("Agg")
    mnist = cl.load_mnist("test", limit=50)
    return PredictionExplorer({"lenet300": (cl.load_pretrained("lenet300"), mnist)}), mnist


def test_compute_matches_the_model(explorer):
    exp, mnist = explorer
    result = exp.compute("lenet300", 3)
    with torch.no_grad():
        logits = cl.load_pretrained("lenet300")(cl.to_tensor(mnist.images[3:4]))[0]
    assert result["prediction"] == int(logits.argmax())
    assert result["label"] == int(mnist.labels[3])
    assert np.isclose(result["probabilities"].sum(), 1.0, atol=1e-5)


def test_update_redraws_and_is_fast(explorer):
    exp, _ = explorer
    exp.update("lenet300", 0)
    start = time.perf_counter()
    for i in range(5):
        result = exp.update("lenet300", i)
    per_update = (time.perf_counter() - start) / 5
    assert result["index"] == 4
    titles = [ax.get_title() for ax in exp.fig.axes]
    assert any("true:" in t for t in titles)
    assert per_update < 1.0  # the target is well under 200 ms; this bound only catches gross regressions


def test_widget_builds_and_responds(explorer):
    exp, _ = explorer
    box = exp.widget(index=2)
    controls = box.children[0].children
    status = box.children[1]
    before = status.value
    controls[1].value = 7
    assert status.value != before and "image 7" in status.value


def test_bad_input(explorer):
    exp, _ = explorer
    with pytest.raises(ValueError, match="index == 50, must be <= 49"):
        exp.compute("lenet300", 50)
    with pytest.raises(ValueError, match="name == 'vgg'"):
        exp.compute("vgg", 0)
    with pytest.raises(ValueError, match="models is empty"):
        PredictionExplorer({})


@pytest.fixture(scope="module")
def neuron_explorer():
    from course_lib.pruning.nn import collect_activations

    model = cl.load_pretrained("lenet300")
    acts = collect_activations(model, cl.load_mnist("train", limit=1000).images, ("fc1", "fc2"))
    return cl.widgets.NeuronPruningExplorer(model, acts, cl.load_mnist("test", limit=500))


def test_neuron_explorer_shrinks_and_is_fast(neuron_explorer):
    exp = neuron_explorer
    base = exp.update(0.0)
    start = time.perf_counter()
    cut = exp.update(0.05, merge=True)
    elapsed = time.perf_counter() - start
    assert cut["parameters"] < base["parameters"]
    assert cut["hidden"][0] < base["hidden"][0]
    assert sum(cut["removed"].values()) == (300 - cut["hidden"][0]) + (100 - cut["hidden"][1])
    assert 0.0 <= cut["accuracy"] <= 1.0
    assert "neurons removed" in exp.fig.axes[0].get_title()
    assert elapsed < 1.0  # measured ~tens of ms; bound only catches gross regressions


def test_neuron_explorer_plan_has_no_conflicts(neuron_explorer):
    drop, pairs = neuron_explorer.plan(0.05, merge=True)
    for layer in ("fc1", "fc2"):
        gone = set(drop[layer].tolist())
        assert all(a not in gone and b not in gone for a, b in pairs[layer])


def test_neuron_explorer_widget_reacts(neuron_explorer):
    box = neuron_explorer.widget(max_fire_rate=0.0)
    slider, status = box.children[0].children[0], box.children[1]
    before = status.value
    slider.value = 0.1
    assert status.value != before and "parameters" in status.value


@pytest.fixture(scope="module")
def weight_explorer():
    return cl.widgets.WeightPruningExplorer(cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=500))


def test_weight_explorer_threshold_matches_the_library(weight_explorer):
    from course_lib import pruning

    result = weight_explorer.compute(C=0.05)
    for name, w in weight_explorer.weights.items():
        assert result["layer_sparsity"][name] == pytest.approx(float(np.mean(np.abs(w) < 0.05)))
    pruned = [np.where(np.abs(w) >= 0.05, w, 0) for w in weight_explorer.weights.values()]
    assert result["csr_bytes"] == sum(pruning.csr_bytes(p) for p in pruned)
    assert result["dense_bytes"] == 4 * sum(w.size for w in weight_explorer.weights.values())
    # accuracy is the pruned model's, measured like cl.accuracy
    masks = {n: pruning.threshold_mask(w, 0.05) for n, w in weight_explorer.weights.items()}
    model = cl.prune_torch.apply_masks(weight_explorer.model, masks)
    assert result["accuracy"] == pytest.approx(cl.accuracy(model, weight_explorer.test.images,
                                                            weight_explorer.test.labels))


def test_weight_explorer_sparsity_mode_and_redraw(weight_explorer):
    result = weight_explorer.update(sparsity=0.9)
    assert result["sparsity"] == pytest.approx(0.9, abs=1e-4)
    heights = [b.get_height() for b in weight_explorer._bars]
    weight_explorer.update(C=0.01)
    assert [b.get_height() for b in weight_explorer._bars] != heights
    assert weight_explorer._lines[1].get_xdata()[0] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="exactly one of C and sparsity"):
        weight_explorer.compute(C=0.1, sparsity=0.5)


def test_weight_explorer_widget_reacts(weight_explorer):
    box = weight_explorer.widget(C=0.02)
    c_slider, status = box.children[1].children[0], box.children[2]
    before = status.value
    c_slider.value = 0.1
    assert status.value != before and "CSR" in status.value


def test_quantization_explorer_levels_and_accuracy():
    from course_lib.quantization import fake_quantize

    exp = cl.widgets.QuantizationExplorer(cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=500))
    r8 = exp.update(8, 1.0)
    w = exp.weights["fc1.weight"]
    step = float(np.abs(w).max()) / 127
    assert r8["scales"]["fc1.weight"] == pytest.approx(step)
    expected = fake_quantize(w, bits=8, scale=step)
    assert np.array_equal(exp._copy.fc1.weight.detach().numpy(), expected)
    r2 = exp.update(2, 1.0)
    assert r2["rmse"] > r8["rmse"] and r2["accuracy"] < r8["accuracy"]
    assert len(exp._levels.get_segments()) == 3  # 2 bits, symmetric: -s, 0, +s
    box = exp.widget(bits=4)
    bits_slider, status = box.children[0].children[0], box.children[1]
    before = status.value
    bits_slider.value = 3
    assert status.value != before and "3-bit" in status.value
    with pytest.raises(ValueError, match="bits == 9, must be <= 8"):
        exp.compute(9)
