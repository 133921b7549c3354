"""The SVD explorer: its numbers are the library's, it redraws, caches, reacts and refuses bad input."""

import numpy as np
import pytest

import course_lib as cl
from course_lib.factorization import eckart_young_error
from course_lib.factorization.nn import factorize_model

from helpers import raises


@pytest.fixture(scope="module")
def svd_explorer():
    import matplotlib

    matplotlib.use("Agg")
    return cl.widgets.SVDExplorer(cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=500))


def test_compute_matches_the_library(svd_explorer, one_thread):
    model = svd_explorer.model
    res = svd_explorer.compute({"fc1": 30, "fc2": 20})
    w1 = model.fc1.weight.detach().double().numpy()
    spectrum = np.linalg.svd(w1, compute_uv=False)
    assert res["errors"]["fc1"] == pytest.approx(eckart_young_error(spectrum, 30) / np.linalg.norm(w1), rel=1e-4)
    assert res["params"] == 30 * (300 + 784) + 20 * (100 + 300)
    assert res["dense_params"] == 784 * 300 + 300 * 100
    test = cl.load_mnist("test", limit=500)
    reference = factorize_model(model, {"fc1": 30, "fc2": 20})
    assert res["accuracy"] == pytest.approx(cl.accuracy(reference, test.images, test.labels), abs=1e-6)
    assert res["latency_ms"] > 0
    dense = svd_explorer.compute({"fc1": 300, "fc2": 100})  # full rank: the dense layers themselves
    assert dense["errors"] == {"fc1": 0.0, "fc2": 0.0} and dense["accuracy"] == pytest.approx(dense["base_accuracy"])


def test_randomized_methods_and_cache(svd_explorer, one_thread):
    errors = [svd_explorer.compute({"fc1": 20, "fc2": 20}, m)["errors"]["fc1"] for m in cl.widgets.svd.SVD_CHOICES]
    exact, q0, q1, q2 = errors
    assert exact <= q2 <= q1 <= q0 and q0 > exact * 1.01  # more power iterations, closer to the optimum
    before = len(svd_explorer._results)
    again = svd_explorer.compute({"fc1": 20, "fc2": 20}, "randomized q=1")
    assert len(svd_explorer._results) == before and again["errors"]["fc1"] == q1  # remembered, not recomputed


def test_update_redraws_and_widget_reacts(svd_explorer, one_thread):
    svd_explorer.update({"fc1": 10, "fc2": 10})
    heights = [b.get_height() for b in svd_explorer._bars]
    svd_explorer.update({"fc1": 200, "fc2": 80}, "randomized q=2")
    assert [b.get_height() for b in svd_explorer._bars] != heights
    assert svd_explorer._cuts["fc1"].get_xdata()[0] == 200
    box = svd_explorer.widget(ranks={"fc1": 40, "fc2": 10})
    status = box.children[-2]
    first = status.value
    box.children[0].children[0].value = 5
    assert status.value != first and "weights in these layers" in status.value


def test_bad_input(svd_explorer):
    raises(ValueError, "ranks['fc1'] == 0, must be >= 1.", svd_explorer.compute, {"fc1": 0, "fc2": 5})
    raises(ValueError, "ranks['fc2'] == 101, must be <= 100 (min(n, m) of a 100x300 matrix).",
           svd_explorer.compute, {"fc1": 5, "fc2": 101})
    raises(ValueError, "ranks == {'fc1': 5}, must be a dict with a rank for each of fc1, fc2.",
           svd_explorer.compute, {"fc1": 5})
    raises(ValueError, "method == 'svd', must be one of 'exact', 'randomized q=0', 'randomized q=1', "
           "'randomized q=2'.", svd_explorer.compute, {"fc1": 5, "fc2": 5}, "svd")
    raises(TypeError, "model must be a torch.nn.Module, got str.", cl.widgets.SVDExplorer, "lenet300",
           cl.load_mnist("test", limit=10))
    raises(ValueError, "layers[0] == 'conv1', must be one of 'fc1', 'fc2', 'fc3'.", cl.widgets.SVDExplorer,
           cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=10), layers=["conv1"])
