"""tt_train: notebook 08's architecture table (from scratch, Adam and SGD, a 100x too small init, TT-SVD + fine-tuning),
its paired verdicts and the long-run record it stores."""

import json

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.factorization.nn import tt_train
from course_lib.factorization.nn.tt import TTLinear, tt_model
from course_lib.results import load_result, save_result

from helpers import raises


def test_shrink_init_scales_the_reconstructed_weight():
    model = tt_model(cl.build_model("wide_mlp"), tt_train.MNIST_TT_MODES, 4, decompose=False)
    before = model.fc2.weight().detach().clone()
    tt_train.shrink_init(model, 0.01)
    assert torch.allclose(model.fc2.weight().detach(), 0.01 * before, rtol=1e-4, atol=1e-9)
    raises(ValueError, "factor == 0.0, must be > 0.", tt_train.shrink_init, model, 0.0)


def test_t3f_network_shape_and_params():
    net = tt_train.t3f_network(0)
    assert isinstance(net[2], TTLinear) and net[2].params == 1100
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_fit_sgd_and_fit_adam_take_the_given_steps_and_return_eval_mode():
    train = cl.load_mnist("train", limit=300)
    x = cl.to_tensor(train.images)
    for fit in (tt_train.fit_adam, tt_train.fit_sgd):
        model = tt_model(cl.build_model("wide_mlp"), tt_train.MNIST_TT_MODES, 2, decompose=False)
        start = [p.detach().clone() for p in model.parameters()]
        out = fit(model, x, train.labels, steps=3)
        assert out is model and not model.training
        assert any(not torch.equal(a, b) for a, b in zip(start, model.parameters()))
        unchanged = tt_model(cl.build_model("wide_mlp"), tt_train.MNIST_TT_MODES, 2, decompose=False)
        before = [p.detach().clone() for p in unchanged.parameters()]
        fit(unchanged, x, train.labels, steps=0)
        assert all(torch.equal(a, b) for a, b in zip(before, unchanged.parameters()))


def test_differences_and_verdicts_on_synthetic_predictions():
    labels = np.zeros(1000, dtype=np.int64)
    right, wrong = np.zeros(1000, dtype=np.int64), np.ones(1000, dtype=np.int64)
    half = np.where(np.arange(1000) < 500, 0, 1)
    preds = {tt_train.DENSE: right, "TT-rank 4": half, "TT-rank 1": half, "TT-rank 16": half.copy()}
    diffs = tt_train.differences(preds, labels)
    names = [(d["a"], d["b"]) for d in diffs]
    assert names == [(tt_train.DENSE, "TT-rank 4"), ("TT-rank 1", "TT-rank 16")]  # pairs with a missing side skipped
    assert diffs[0]["difference"] == pytest.approx(-50.0) and diffs[0]["two_se"] > 0
    assert diffs[1]["difference"] == 0 and diffs[1]["two_se"] == 0
    verdicts = tt_train.difference_verdicts(diffs)
    assert verdicts[0].outcome == "a" and verdicts[1].outcome == "same"
    assert str(verdicts[1]).startswith("no measurable difference")
    only = tt_train.differences({"x": wrong, "y": right}, labels, pairs=[("x", "y")])
    assert only[0]["difference"] == pytest.approx(100.0)


def test_the_pieces_make_a_record_that_round_trips(tmp_path):
    train, test = cl.load_mnist("train", limit=256), cl.load_mnist("test", limit=100)
    wide = cl.load_pretrained("wide_mlp")
    scratch = tt_train.train_from_scratch(wide, train, test, ranks=(1, 4), steps=2)
    init = tt_train.init_scale_runs(train, test, steps=2)
    tuned = tt_train.fine_tune_from_tt_svd(wide, train, test, rank=2, steps=2)
    data = tt_train.result_data(scratch, init, tuned, test, steps=2, train_images=256)
    rows = [r["network"] for r in data["rows"]]
    assert rows == [tt_train.DENSE, tt_train.CHECKPOINT, "TT-rank 1", "TT-rank 4", tt_train.SGD, tt_train.T3F,
                    tt_train.SMALL_SGD, tt_train.SMALL_ADAM, tt_train.tuned_name(2)]
    assert data["accuracy"][tt_train.CHECKPOINT] > 90
    assert {(d["a"], d["b"]) for d in data["differences"]} >= {(tt_train.DENSE, "TT-rank 4"),
                                                              (tt_train.SMALL_SGD, tt_train.SMALL_ADAM)}
    path = save_result(tt_train.RESULT_NAME, data, command="test", seed=0, threads=1, force=True, directory=tmp_path)
    assert load_result(tt_train.RESULT_NAME, directory=tmp_path)["data"] == json.loads(path.read_text())["data"]
    raises(ValueError, "ranks == (1, 2), must include 4 (the SGD row is rank 4).",
           tt_train.train_from_scratch, wide, train, test, ranks=(1, 2), steps=1)


def test_the_stored_long_run_has_what_the_notebook_reads():
    record = load_result(tt_train.RESULT_NAME)
    data = record["data"]
    assert data["train_images"] == 60000 and data["test_images"] == 10000
    for name in (tt_train.DENSE, tt_train.SGD, tt_train.T3F, tt_train.SMALL_SGD, tt_train.SMALL_ADAM,
                 tt_train.tuned_name(16), "TT-rank 1", "TT-rank 16"):
        assert name in data["accuracy"], name
    assert len(tt_train.difference_verdicts(data["differences"])) == len(tt_train.PAIRS)
