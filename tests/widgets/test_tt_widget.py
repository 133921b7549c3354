"""The TT explorer: its numbers are the library's, it caches, redraws, builds its controls and refuses bad input."""

import numpy as np
import pytest

import course_lib as cl
from course_lib.factorization import tt_matrix, tt_matrix_params, tt_round
from course_lib.widgets.tt import TT_RANKS, WIDE_MLP_MODES

from helpers import raises


@pytest.fixture(scope="module")
def tt_explorer():
    import matplotlib

    matplotlib.use("Agg")
    return cl.widgets.TTExplorer(cl.load_pretrained("wide_mlp"), cl.load_mnist("test", limit=300))


def test_compute_matches_the_library(tt_explorer, one_thread):
    res = tt_explorer.compute(4, 4)
    model = cl.load_pretrained("wide_mlp")
    w = model.fc2.weight.detach().numpy().T  # the explorer decomposes in float32
    top = tt_matrix(w, *WIDE_MLP_MODES[4]["fc2"], max(TT_RANKS))
    rounded = tt_round([c.reshape(c.shape[0], -1, c.shape[-1]) for c in top.cores], 4)
    dense = rounded.reconstruct().reshape(4, 4, 8, 8, 8, 8, 4, 4).transpose(0, 2, 4, 6, 1, 3, 5, 7).reshape(1024, 1024)
    assert res["errors"]["fc2"] == pytest.approx(np.linalg.norm(w - dense) / np.linalg.norm(w), rel=1e-5)
    assert res["ranks"]["fc2"] == (1, 4, 4, 4, 1)
    assert res["params"] == (tt_matrix_params(*WIDE_MLP_MODES[4]["fc1"], 4)
                             + tt_matrix_params(*WIDE_MLP_MODES[4]["fc2"], 4))
    assert res["dense_params"] == 784 * 1024 + 1024 * 1024
    assert res["compression"] == pytest.approx(res["dense_params"] / res["params"])
    test = cl.load_mnist("test", limit=300)
    assert res["base_accuracy"] == pytest.approx(cl.accuracy(model, test.images, test.labels))
    # a trained dense layer is far from low TT-rank: at rank 4, without retraining, the network is lost
    assert res["errors"]["fc1"] > 0.9 and res["accuracy"] < 0.5 and res["latency_ms"] > 0
    # the accuracy is the TT layers' (measured on their reconstruction): same predictions as the TT model
    tt_net = tt_explorer._tt
    assert cl.accuracy(tt_net, test.images, test.labels) == pytest.approx(res["accuracy"], abs=1 / 300)


def test_error_falls_with_rank_and_cache(tt_explorer, one_thread):
    errs = [tt_explorer.compute(r, 4)["errors"]["fc1"] for r in TT_RANKS]
    assert all(a >= b for a, b in zip(errs, errs[1:]))
    first = tt_explorer.compute(8, 4)
    assert tt_explorer.compute(8, 4) == first and (8, 4) in tt_explorer.visited


def test_update_draws_and_widget_builds(tt_explorer, one_thread):
    res = tt_explorer.update(2, 4)
    assert tt_explorer.fig is not None
    heights = [b.get_height() for b in tt_explorer._bars]
    assert heights == pytest.approx([100 * res["errors"]["fc1"], 100 * res["errors"]["fc2"]])
    box = tt_explorer.widget(rank=2, d=4)
    assert "accuracy" in box.children[-2].value and "x fewer" in box.children[-2].value


def test_measured_on_demand_without_precompute(tt_explorer, one_thread):
    lazy = cl.widgets.TTExplorer(cl.load_pretrained("wide_mlp"), cl.load_mnist("test", limit=300), precompute=False)
    assert lazy._results == {} and tt_explorer._results.keys() == {(r, d) for r in TT_RANKS for d in WIDE_MLP_MODES}
    res, ref = lazy.compute(8, 4), tt_explorer.compute(8, 4)
    assert res["errors"] == pytest.approx(ref["errors"], rel=1e-5) and res["accuracy"] == pytest.approx(ref["accuracy"])
    assert list(lazy._results) == [(8, 4)]


def test_bad_input(tt_explorer):
    raises(ValueError, "rank == 3, must be one of 1, 2, 4, 8, 16.", tt_explorer.compute, 3)
    raises(ValueError, "d == 5, must be one of 2, 4, 6.", tt_explorer.compute, 4, 5)
    raises(TypeError, "model must be a torch.nn.Module, got str.", cl.widgets.TTExplorer, "wide_mlp", None)
    raises(TypeError, "precompute must be True or False, got str ('yes').", cl.widgets.TTExplorer,
           cl.load_pretrained("wide_mlp"), cl.load_mnist("test", limit=10), precompute="yes")
    raises(ValueError, "model has no Linear fc1 of weight shape (1024, 784), must be the wide MLP "
                       "(load_pretrained('wide_mlp')).", cl.widgets.TTExplorer, cl.load_pretrained("lenet300"),
           cl.load_mnist("test", limit=10))
