
import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.widgets import PredictionExplorer

from helpers import fresh_model, raises


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


def test_update_redraws(explorer):
    # the update time is measured by `python -m course_lib.bench widgets`, never asserted here:
    # a busy machine must not fail a test
    exp, _ = explorer
    exp.update("lenet300", 0)
    for i in range(5):
        result = exp.update("lenet300", i)
    assert result["index"] == 4
    titles = [ax.get_title() for ax in exp.fig.axes]
    assert any("true:" in t for t in titles)


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
    raises(ValueError, "index == 50, must be <= 49.", exp.compute, "lenet300", 50)
    raises(ValueError, "index == -1, must be >= 0.", exp.compute, "lenet300", -1)
    raises(TypeError, "index must be an int, got float (1.5).", exp.compute, "lenet300", 1.5)
    raises(TypeError, "index must be an int, got bool (True).", exp.compute, "lenet300", True)
    raises(ValueError, "name == 'vgg', must be one of 'lenet300'.", exp.compute, "vgg", 0)
    raises(TypeError, "name must be a str, got int (1).", exp.compute, 1, 0)
    raises(ValueError, "models is empty, must map at least one name to (model, dataset).", PredictionExplorer, {})


def _fake_cifar(n: int = 4):
    """``n`` black CIFAR-10-shaped images: the wrong data set for an MNIST model."""
    return cl.Dataset(np.zeros((n, 32, 32, 3), np.uint8), np.zeros(n, np.int64), cl.CIFAR10_CLASSES)


def test_prediction_explorer_constructor_messages():
    model, mnist = fresh_model(), cl.load_mnist("test", limit=20)
    images, labels, classes = mnist
    raises(TypeError, "models must be a dict name -> (model, dataset), got list.",
           PredictionExplorer, [("lenet300", (model, mnist))])
    raises(TypeError, "models has the key 3 (int), must have str keys (the model names).",
           PredictionExplorer, {3: (model, mnist)})
    raises(TypeError, "models['a'] must be a (model, dataset) pair, got LeNet300100.", PredictionExplorer, {"a": model})
    raises(TypeError, "models['a'] must be a (model, dataset) pair, got a Dataset of 3.",
           PredictionExplorer, {"a": mnist})
    raises(TypeError, "models['a'][0] must be a torch.nn.Module, got str.", PredictionExplorer, {"a": ("m", mnist)})
    raises(TypeError, "models['a'][1] must be a Dataset (with .images and .labels, as course_lib.data loads it), "
                      "got str.", PredictionExplorer, {"a": (model, "mnist")})
    raises(ValueError, "models['a'][1].images have 3072 features (3x32x32), lenet300 expects 784 (1x28x28): "
                       "pass the images of its data set (mnist).", PredictionExplorer, {"a": (model, _fake_cifar())})
    raises(TypeError, "models['a'][1].images must be a uint8 array as returned by course_lib.data, got dtype float32.",
           PredictionExplorer, {"a": (model, cl.Dataset(images.astype(np.float32), labels, classes))})
    raises(ValueError, "models['a'][1].images is empty, must have at least one image.",
           PredictionExplorer, {"a": (model, cl.Dataset(images[:0], labels[:0], classes))})
    raises(ValueError, "models['a'][1].labels has 19 labels for 20 images, must have one per image.",
           PredictionExplorer, {"a": (model, cl.Dataset(images, labels[:-1], classes))})
    raises(TypeError, "models['a'][1].labels must be an array of integer class indices, got dtype float64 and "
                      "shape (20,).",
           PredictionExplorer, {"a": (model, cl.Dataset(images, labels.astype(float), classes))})
    bad = labels.copy()
    bad[0] = 10
    raises(ValueError, "models['a'][1].labels contains class 10, must be < 10 (the model has 10 outputs).",
           PredictionExplorer, {"a": (model, cl.Dataset(images, bad, classes))})


@pytest.fixture(scope="module")
def neuron_explorer():
    from course_lib.pruning.nn import collect_activations

    model = cl.load_pretrained("lenet300")
    acts = collect_activations(model, cl.load_mnist("train", limit=1000).images, ("fc1", "fc2"))
    return cl.widgets.NeuronPruningExplorer(model, acts, cl.load_mnist("test", limit=500))


def test_neuron_explorer_shrinks(neuron_explorer):
    exp = neuron_explorer
    base = exp.update(0.0)
    cut = exp.update(0.05, merge=True)
    assert cut["parameters"] < base["parameters"]
    assert cut["hidden"][0] < base["hidden"][0]
    assert sum(cut["removed"].values()) == (300 - cut["hidden"][0]) + (100 - cut["hidden"][1])
    assert 0.0 <= cut["accuracy"] <= 1.0
    assert "neurons removed" in exp.fig.axes[0].get_title()


def test_neuron_explorer_plan_has_no_conflicts(neuron_explorer):
    drop, pairs = neuron_explorer.plan(0.05, merge=True)
    for layer in ("fc1", "fc2"):
        gone = set(drop[layer].tolist())
        assert all(a not in gone and b not in gone for a, b in pairs[layer])


def test_neuron_explorer_bad_input(neuron_explorer):
    from course_lib.pruning.nn import collect_activations

    model, mnist = fresh_model(), cl.load_mnist("test", limit=20)
    acts = collect_activations(model, mnist.images, ("fc1", "fc2"))
    explorer = cl.widgets.NeuronPruningExplorer
    raises(TypeError, "model must be a LeNet300100, got LeNet5.", explorer, fresh_model("lenet5"), acts, mnist)
    raises(TypeError, "acts must be a dict layer -> (N, units) activations, got list.", explorer, model,
           [acts["fc1"], acts["fc2"]], mnist)
    raises(ValueError, "acts has no 'fc2' (keys ['fc1']), must hold the activations of 'fc1' and 'fc2' "
                       "(from collect_activations).", explorer, model, {"fc1": acts["fc1"]}, mnist)
    raises(ValueError, "acts['fc2'] has shape (20, 300), must be (N, 100): one column per neuron of model.fc2.",
           explorer, model, {"fc1": acts["fc1"], "fc2": acts["fc1"]}, mnist)
    raises(TypeError, "test must be a Dataset (with .images and .labels, as course_lib.data loads it), got tuple.",
           explorer, model, acts, (mnist.images, mnist.labels))
    raises(ValueError, "test.images have 3072 features (3x32x32), lenet300 expects 784 (1x28x28): pass the images "
                       "of its data set (mnist).", explorer, model, acts, _fake_cifar())
    raises(ValueError, "dup_tol == -1.0, must be >= 0.", explorer, model, acts, mnist, dup_tol=-1)
    raises(TypeError, "dup_tol must be a real number, got str ('0.1').", explorer, model, acts, mnist, dup_tol="0.1")

    exp = neuron_explorer
    raises(ValueError, "max_fire_rate == 1.5, must be in [0, 1].", exp.compute, 1.5)
    raises(ValueError, "max_fire_rate == -0.1, must be in [0, 1].", exp.plan, -0.1, False)
    raises(ValueError, "max_fire_rate == nan, must be finite.", exp.compute, float("nan"))
    raises(TypeError, "max_fire_rate must be a real number, got str ('0.1').", exp.compute, "0.1")
    raises(TypeError, "merge must be True or False, got int (1).", exp.compute, 0.1, merge=1)
    raises(TypeError, "merge must be True or False, got NoneType (None).", exp.plan, 0.1, None)


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


def test_weight_explorer_bad_input(weight_explorer):
    explorer, mnist = cl.widgets.WeightPruningExplorer, cl.load_mnist("test", limit=20)
    raises(TypeError, "model must be a torch.nn.Module, got str.", explorer, "lenet300", mnist)
    raises(ValueError, "model (CifarVGG) has no layer fc1, must have one: the explorer draws fc1's weights "
                       "(LeNet-300-100 and LeNet-5 have it).", explorer, fresh_model("cifar_vgg"), _fake_cifar())
    raises(ValueError, "test.images have 3072 features (3x32x32), lenet300 expects 784 (1x28x28): pass the images "
                       "of its data set (mnist).", explorer, fresh_model(), _fake_cifar())
    raises(TypeError, "test must be a Dataset (with .images and .labels, as course_lib.data loads it), got NoneType.",
           explorer, fresh_model(), None)

    exp = weight_explorer
    raises(ValueError, "C == None and sparsity == None, must give exactly one of C and sparsity.", exp.compute)
    raises(ValueError, "C == 0.1 and sparsity == 0.5, must give exactly one of C and sparsity.",
           exp.compute, C=0.1, sparsity=0.5)
    raises(ValueError, "C == -0.1, must be >= 0.", exp.compute, C=-0.1)
    raises(ValueError, "C == inf, must be finite.", exp.compute, C=float("inf"))
    raises(TypeError, "C must be a real number, got str ('0.1').", exp.compute, C="0.1")
    raises(ValueError, "sparsity == 1.0, must be in [0, 1).", exp.compute, sparsity=1.0)
    raises(TypeError, "sparsity must be a real number, got bool (True).", exp.update, sparsity=True)


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


def test_quantization_explorer_bad_input():
    explorer, mnist = cl.widgets.QuantizationExplorer, cl.load_mnist("test", limit=20)
    raises(TypeError, "model must be a torch.nn.Module, got NoneType.", explorer, None, mnist)
    raises(ValueError, "model (CifarVGG) has no layer fc1, must have one: the explorer draws fc1's weights "
                       "(LeNet-300-100 and LeNet-5 have it).", explorer, fresh_model("cifar_vgg"), _fake_cifar())
    raises(ValueError, "test.images have 3072 features (3x32x32), lenet300 expects 784 (1x28x28): pass the images "
                       "of its data set (mnist).", explorer, fresh_model(), _fake_cifar())

    exp = explorer(fresh_model(), mnist)
    raises(ValueError, "bits == 9, must be <= 8.", exp.compute, 9)
    raises(ValueError, "bits == 1, must be >= 2.", exp.compute, 1)
    raises(TypeError, "bits must be an int, got float (4.0).", exp.compute, 4.0)
    raises(ValueError, "range_fraction == 0.0, must be in (0, 1].", exp.compute, 4, 0.0)
    raises(ValueError, "range_fraction == 1.5, must be in (0, 1].", exp.update, 4, 1.5)
    raises(TypeError, "range_fraction must be a real number, got str ('1').", exp.compute, 4, "1")
    raises(ValueError, "rounding == 'up', must be one of 'nearest', 'floor'.", exp.compute, 4, rounding="up")
    raises(TypeError, "rounding must be a str, got int (1).", exp.compute, 4, rounding=1)
    assert exp.compute(4, 1)["range_fraction"] == 1.0  # an int in range is accepted


# --------------------------------------------------------------------------- 03: schedules

@pytest.fixture(scope="module")
def schedule_explorer():
    return cl.widgets.ScheduleExplorer(cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=500))


def test_schedule_explorer_matches_masks_for(schedule_explorer):
    from course_lib.pruning import nn as prune_nn

    exp, model = schedule_explorer, schedule_explorer.model
    test = cl.load_mnist("test", limit=500)
    result = exp.compute(0.9, 3)
    assert result["sparsities"] == pytest.approx(cl.pruning.iterative_schedule(0.9, 3))
    for s, acc in zip(result["sparsities"], result["accuracies"]):
        pruned = prune_nn.apply_masks(model, prune_nn.masks_for(model, s, scope="global"))
        assert acc == pytest.approx(cl.accuracy(pruned, test.images, test.labels), abs=1e-6)
    cubic = exp.compute(0.8, 4, "cubic")["sparsities"]
    assert cubic[-1] == pytest.approx(0.8) and all(a < b for a, b in zip(cubic, cubic[1:]))
    assert result["base_accuracy"] == pytest.approx(cl.accuracy(model, test.images, test.labels), abs=1e-6)
    exp.update(0.95, 6)
    assert len(exp.fig.axes[1].lines[0].get_xdata()) == 6


def test_schedule_explorer_bad_input_and_widget(schedule_explorer):
    raises(ValueError, "final_sparsity == 1.0, must be in [0, 1).", schedule_explorer.compute, 1.0, 3)
    raises(ValueError, "rounds == 0, must be >= 1.", schedule_explorer.compute, 0.5, 0)
    raises(ValueError, "schedule == 'linear', must be one of 'rounds', 'cubic'.", schedule_explorer.compute, 0.5, 2,
           "linear")
    raises(TypeError, "test must be a Dataset (with .images and .labels, as course_lib.data loads it), got str.",
           cl.widgets.ScheduleExplorer, cl.load_pretrained("lenet300"), "mnist")
    box = schedule_explorer.widget(final_sparsity=0.9, rounds=3)
    slider, status = box.children[0].children[0], box.children[2]
    before = status.value
    slider.value = 0.6
    assert status.value != before and "rounds to 60%" in status.value


# --------------------------------------------------------------------------- 05: PTQ

@pytest.fixture(scope="module")
def ptq_explorer():
    return cl.widgets.PTQExplorer(cl.load_pretrained("lenet300"), cl.load_mnist("train", limit=200).images,
                                  cl.load_mnist("test", limit=300))


def test_ptq_explorer_matches_the_library(ptq_explorer):
    from course_lib.quantization import nn as qnn

    test = cl.load_mnist("test", limit=300)
    model = ptq_explorer.model
    ranges = qnn.calibrate(model, cl.load_mnist("train", limit=200).images, method="minmax")
    q = qnn.ptq_full_integer(model, ranges, bits=4, per_channel=False)
    result = ptq_explorer.compute(4, False, "minmax")
    assert result["accuracy"] == pytest.approx(cl.accuracy(q, test.images, test.labels), abs=1e-6)
    assert result["bytes"] == qnn.model_bytes(q) and result["float_bytes"] == cl.storage_bytes(model)
    assert ptq_explorer.compute(8)["accuracy"] > ptq_explorer.compute(2, False, "minmax")["accuracy"]
    ptq_explorer.update(3)
    assert "per-channel" in ptq_explorer.fig.axes[0].get_title()


def test_ptq_explorer_bad_input_and_widget(ptq_explorer):
    raises(ValueError, "bits == 1, must be >= 2.", ptq_explorer.compute, 1)
    raises(TypeError, "per_channel must be True or False, got str ('yes').", ptq_explorer.compute, 4, "yes")
    raises(ValueError, "method == 'mse', must be one of 'minmax', 'maxabs', 'percentile'.", ptq_explorer.compute, 4,
           True, "mse")
    box = ptq_explorer.widget(bits=8)
    slider, status = box.children[0].children[0], box.children[1]
    before = status.value
    slider.value = 2
    assert status.value != before and "2-bit weights" in status.value
