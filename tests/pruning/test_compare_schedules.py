"""course_lib.pruning.nn.compare: one-shot against iterative pruning, the long runs of notebook 03."""

import json

import numpy as np
import pytest

import course_lib as cl
from course_lib.pruning.nn import compare
from course_lib.pruning.nn.compare import LONG_RUNS, schedule_comparison, sparsity_curve

from helpers import assert_state_equal, mnist_subset, state_copy

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mnist():
    return mnist_subset(1000, 300)


def test_sparsity_curve_fields_and_pairs(mnist):
    train, test = mnist
    model = cl.load_pretrained("lenet300")
    before = state_copy(model)
    out = sparsity_curve(model, (0.5, 0.99), train=train, test=test, history_test=(test[0][:50], test[1][:50]),
                         rounds=2, steps_per_round=3)
    assert_state_equal(model, before)
    json.dumps(out)  # JSON data, ready for save_result
    assert out["budget"] == 6 and out["test_images"] == 300 and out["targets"] == [0.5, 0.99]
    for key in ("no_retraining", "one_shot_retrained", "iterative"):
        assert len(out[key]) == 2 and all(0 <= a <= 1 for a in out[key])
    # the pairs are the differences of the accuracies on the same images
    for i in range(2):
        d, se = out["iterative_minus_one_shot"][i]
        assert d == pytest.approx(out["iterative"][i] - out["one_shot_retrained"][i]) and se >= 0
        d, _ = out["retrained_minus_no_retraining"][i]
        assert d == pytest.approx(out["one_shot_retrained"][i] - out["no_retraining"][i])
        d, _ = out["no_retraining_minus_unpruned"][i]
        assert d == pytest.approx(out["no_retraining"][i] - out["unpruned"])
    # cutting 99% without retraining costs more than cutting half
    assert out["no_retraining"][1] < out["no_retraining"][0]


def test_schedule_comparison_fields(mnist):
    train, test = mnist
    model = cl.load_pretrained("lenet300")
    out = schedule_comparison(model, 0.9, train=train, test=test, rounds=2, steps_per_round=2, curve=(0.5, 0.9))
    json.dumps(out)
    assert out["budget"] == 4 and out["train_images"] == 1000 and out["history_test_images"] == 300
    assert [round(h["sparsity"], 3) for h in out["history"]] == [0.0, 0.684, 0.9]
    assert out["curve"]["targets"] == [0.5, 0.9] and len(out["curve"]["accuracy"]) == 2
    # the cut to 0.9 scored on the same images: the curve's last point is the no-retraining accuracy
    assert out["curve"]["accuracy"][1] == pytest.approx(out["no_retraining"])
    d, _ = out["iterative_minus_one_shot"]
    assert d == pytest.approx(out["iterative"] - out["one_shot_retrained"])
    assert set(out["per_layer_kept"]) == {"fc1.weight", "fc2.weight", "fc3.weight"}
    kept = np.average(list(out["per_layer_kept"].values()), weights=[784 * 300, 300 * 100, 100 * 10])
    assert kept == pytest.approx(0.1, abs=1e-4)


def test_epochs_cover_the_steps():
    train = (np.zeros((1000, 28, 28), np.uint8), np.zeros(1000, np.int64))
    assert compare._epochs(train, 7) == 1          # 7 x 128 < 1000
    assert compare._epochs(train, 8) == 2          # 1024 > 1000
    assert compare._epochs(train, 0) == 1


def test_long_runs_and_command_line():
    assert set(LONG_RUNS) == {"03_lenet_curve", "03_cnn_schedules"}
    assert 0.95 in LONG_RUNS["03_lenet_curve"]["targets"] and 0.99 in LONG_RUNS["03_lenet_curve"]["targets"]
    assert LONG_RUNS["03_cnn_schedules"]["sparsity"] in LONG_RUNS["03_cnn_schedules"]["curve"]
    assert compare.main(["nonsense"]) == 2
    with pytest.raises(ValueError, match="must be one of"):
        compare.run_long("03_nonsense", save=False)
