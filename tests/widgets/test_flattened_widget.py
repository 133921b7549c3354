"""The flattened-convolution explorer (notebook 07): its numbers are the library's, its input is checked."""

import numpy as np
import pytest

import course_lib as cl
from course_lib.factorization import flatten_filters
from course_lib.factorization.nn import FLATTENED_LAYERS, flatten_model
from course_lib.widgets import FlattenedExplorer

from helpers import raises


@pytest.fixture(scope="module")
def explorer():
    import matplotlib

    matplotlib.use("Agg")
    model = cl.load_pretrained("cifar_vgg")
    test = cl.load_cifar10("test", limit=60)
    return FlattenedExplorer(model, test, FLATTENED_LAYERS, max_rank=2, timing_batch=4), model, test


def test_compute_matches_the_flattened_model(explorer):
    # the explorer runs the reconstructed filters as 3-D convolutions; the real flattened layers must agree
    exp, model, test = explorer
    ranks = [1, 0, 2, 1]
    result = exp.compute(ranks)
    flat = flatten_model(model, {n: r for n, r in zip(FLATTENED_LAYERS, ranks) if r})
    assert result["accuracy"] == pytest.approx(cl.accuracy(flat, test.images, test.labels), abs=1 / 60 + 1e-9)
    w = model.features[14].weight.detach().double().numpy()
    assert result["errors"][3] == pytest.approx(flatten_filters(w, 1).layer_error, rel=1e-4)
    assert result["errors"][1] == 0.0 and result["params"][1] == 64 * 64 * 9
    assert result["params"][2] == 128 * 2 * (64 + 6)
    assert result["dense_params"] == [64 * 32 * 9, 64 * 64 * 9, 128 * 64 * 9, 128 * 128 * 9]
    assert result["ms"] > 0 and result["dense_ms"] > 0
    assert exp.compute([0, 0, 0, 0])["accuracy"] == exp.base_accuracy
    assert exp.base_accuracy == pytest.approx(cl.accuracy(model, test.images, test.labels), abs=1e-6)
    assert exp.compute(tuple(ranks)) is result  # cached


def test_cached_activations_give_the_same_accuracy_as_a_fresh_pass(explorer):
    exp, model, test = explorer
    exp.compute([2, 2, 1, 1])  # caches the activations after (2,), (2, 2) and (2, 2, 1)
    via_cache = exp.compute([2, 2, 1, 2])["accuracy"]  # only the last layer is recomputed
    fresh = FlattenedExplorer(model, test, FLATTENED_LAYERS, max_rank=2, timing_batch=4).compute([2, 2, 1, 2])
    assert via_cache == fresh["accuracy"]
    flat = flatten_model(model, dict(zip(FLATTENED_LAYERS, [2, 2, 1, 2])))
    assert via_cache == pytest.approx(cl.accuracy(flat, test.images, test.labels), abs=1 / 60 + 1e-9)


def test_error_falls_with_the_rank(explorer):
    exp, _, _ = explorer
    one, two = exp.compute([1, 1, 1, 1])["errors"], exp.compute([2, 2, 2, 2])["errors"]
    assert all(0 < b < a < 1 for a, b in zip(one, two))


def test_update_and_widget(explorer):
    exp, _, _ = explorer
    exp.update([1, 1, 1, 1])
    res = exp.update([2, 0, 1, 1])
    assert [b.get_height() for b in exp._err_bars] == pytest.approx(res["errors"])
    assert "ranks 2, 3-D, 1, 1" in exp.fig.axes[0].get_title()
    box = exp.widget(ranks=[1, 1, 1, 1])
    sliders = [*box.children[0].children, *box.children[1].children]
    status = box.children[-2]
    before = status.value
    sliders[3].value = 2
    assert status.value != before and "accuracy" in status.value and "1 thread" in status.value


def test_bad_input(explorer):
    exp, model, test = explorer
    raises(ValueError, "ranks[0] == 3, must be <= 2.", exp.compute, [3, 1, 1, 1])
    raises(ValueError, "ranks[2] == -1, must be >= 0.", exp.compute, [1, 1, -1, 1])
    raises(TypeError, "ranks[1] must be an int, got float (1.0).", exp.compute, [1, 1.0, 1, 1])
    with pytest.raises(TypeError, match=r"ranks must be a list or tuple of 4 ints"):
        exp.compute([1, 1])
    raises(TypeError, "layers[0] == 'classifier.1' is a Linear of CifarVGG, must be an nn.Conv2d of it (features.0, "
                      "features.4, features.7, features.11, features.14).", FlattenedExplorer, model, test,
           ["classifier.1"])
    raises(ValueError, "max_rank == 0, must be >= 1.", FlattenedExplorer, model, test, ["features.4"], max_rank=0)
    with pytest.raises(ValueError, match=r"layers == \['features.7', 'features.4'\], must be convolutions of "
                                         r"model.features in network order"):
        FlattenedExplorer(model, test, ["features.7", "features.4"])
    with pytest.raises(TypeError, match="test must be a Dataset"):
        FlattenedExplorer(model, np.zeros(3), ["features.4"])
