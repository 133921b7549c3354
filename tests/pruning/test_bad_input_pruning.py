"""Bad input to the pruning package: a TypeError/ValueError that names the parameter and the rule."""

import numpy as np
import pytest
import torch

import course_lib.pruning as P
from course_lib.data import Dataset
from course_lib.pruning import neurons as PNe
from course_lib.pruning import nn as PN
from course_lib.pruning import sparse as PS
from course_lib.pruning import storage as PSt
from course_lib.pruning.nn import compare as PC

from helpers import fresh_model

W = np.array([[0.5, -1.0], [0.2, 0.3]])
IMAGES = np.zeros((4, 28, 28), np.uint8)
LABELS = np.zeros(4, np.int64)
DS = Dataset(IMAGES, LABELS, tuple("0123456789"))
ACTS = np.abs(np.random.default_rng(0).standard_normal((5, 4)))
W_IN, B_IN, W_OUT = np.ones((4, 3)), np.ones(4), np.ones((2, 4))


def check(call, exc, *fragments):
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: P.threshold_mask(W, -1), ValueError, ["C == -1.0, must be >= 0"]),
    (lambda: P.threshold_mask(W, "1"), TypeError, ["C must be a real number, got str"]),
    (lambda: P.threshold_mask(np.ones(2, bool), 0.5), TypeError, ["weights must be an array of real numbers"]),
    (lambda: P.threshold_prune([np.nan], 0.5), ValueError, ["weights contains 1 NaN"]),
    (lambda: P.magnitude_mask(W, 1.5), ValueError, ["amount == 1.5, must be <= 1 when a float"]),
    (lambda: P.magnitude_mask(W, 90), ValueError, ["amount == 90, must be <= 4 (the number of weights)"]),
    (lambda: P.magnitude_mask(W, True), TypeError, ["amount must be an int (a count) or a float"]),
    (lambda: P.magnitude_prune([[1.0], [1.0, 2.0]], 1), ValueError, ["weights: ", "ragged"]),
    (lambda: P.global_magnitude_prune("abc", 0.5), TypeError, ["weights must be a dict or a list of arrays"]),
    (lambda: P.global_magnitude_prune({"a": "x"}, 0.5), TypeError, ["weights['a'] must be an array of real"]),
    (lambda: P.sparsity("abc"), TypeError, ["x must be an array of real numbers or bools"]),
    (lambda: P.sparsity([]), ValueError, ["x is empty"]),
    (lambda: P.magnitude_ranks(W), ValueError, ["magnitudes has 2 dimension(s)"]),
    (lambda: P.magnitude_ranks([-1.0, 0.5]), ValueError, ["magnitudes holds 1 negative value(s)", "np.abs(w)"]),
    (lambda: P.csr_bytes(W, value_bytes=0), ValueError, ["value_bytes == 0, must be >= 1"]),
    (lambda: P.bitmask_bytes(W, value_bytes=2.0), TypeError, ["value_bytes must be an int"]),
    (lambda: P.index_bytes(2**70), ValueError, ["max_value == ", "must be < 2**64"]),
    (lambda: PSt.stored_bytes([W], "zip"), ValueError, ["'zip'"]),
    (lambda: P.to_csr([[np.nan]]), ValueError, ["weights contains 1 NaN"]),
    (lambda: P.sparse_linear(np.ones(3), P.to_csr(W)), ValueError, ["x has 3 features"]),
    (lambda: P.sparse_linear(np.ones(2), W), TypeError, ["w_csr must be a 2-D scipy.sparse array"]),
    (lambda: P.sparse_linear(np.ones(2), P.to_csr(W).astype(complex)), TypeError, ["w_csr must hold real numbers"]),
    (lambda: P.sparse_linear(np.ones(2), P.to_csr(W), bias=np.ones(3)), ValueError, ["bias has shape (3,)"]),
    (lambda: P.dense_vs_sparse_times((0, 4)), ValueError, ["shape[0] == 0, must be >= 1"]),
    (lambda: P.dense_vs_sparse_times((4, 4), [90]), ValueError, ["sparsities[0] == 90.0, must be in [0, 1)"]),
    (lambda: P.dense_vs_sparse_times((4, 4), 0.5), TypeError, ["sparsities must be a sequence of floats"]),
    (lambda: P.dense_vs_sparse_times((4, 4), "0.5"), TypeError, ["sparsities must be a sequence of floats"]),
    (lambda: PS.alternating_latencies(3, lambda: 0), TypeError, ["fn_a and fn_b must be callable"]),
    (lambda: P.crossover_sparsity([{"sparsity": 0.5}]), ValueError, ["rows[0] must be a dict with keys"]),
    (lambda: P.crossover_sparsity([{"sparsity": 0.5, "dense_ms": "1", "sparse_ms": 2}]), TypeError,
     ["rows[0]['dense_ms'] must be a number, got str"]),
    (lambda: P.iterative_schedule(90, 3), ValueError, ["final_sparsity == 90.0, must be in [0, 1)"]),
    (lambda: P.iterative_schedule(0.5, 2.0), TypeError, ["rounds must be an int"]),
    (lambda: P.gradual_sparsity(1, final_sparsity=0.5, begin_step=5, end_step=5), ValueError,
     ["end_step == 5, must be > begin_step"]),
    (lambda: P.gradual_sparsity(1, final_sparsity=0.5, initial_sparsity=0.7, end_step=5), ValueError,
     ["initial_sparsity == 0.7, must be <= final_sparsity"]),
    (lambda: PNe.activation_stats(-ACTS), ValueError, ["acts has negative values"]),
    (lambda: PNe.activation_stats(ACTS, threshold="1"), TypeError, ["threshold must be a real number"]),
    (lambda: PNe.rarely_active({}), ValueError, ["give max_fire_rate, min_apoz or both"]),
    (lambda: PNe.rarely_active({"fire_rate": [0.1]}, max_fire_rate=50), ValueError, ["max_fire_rate == 50.0"]),
    (lambda: PNe.find_duplicates(ACTS, tol=-1), ValueError, ["tol == -1.0, must be >= 0"]),
    (lambda: PNe.remove_neurons(W_IN, B_IN, W_OUT, [4]), ValueError, ["drop contains 4, must be in [0, 3]"]),
    (lambda: PNe.remove_neurons(W_IN, B_IN, W_OUT, [1.0]), TypeError, ["drop must be a sequence of int"]),
    (lambda: PNe.remove_neurons(W_IN, B_IN, W_OUT, [0, 1, 2, 3]), ValueError, ["drop removes all 4 neurons"]),
    (lambda: PNe.remove_neurons(W_IN, B_IN, W_OUT, [1, 1]), ValueError, ["drop contains 1 more than once"]),
    (lambda: PNe.remove_neurons(W_IN, np.ones(3), W_OUT, [1]), ValueError, ["b_in has 3 entries"]),
    (lambda: PNe.merge_neurons(W_IN, B_IN, W_OUT, [(1, 1)]), ValueError, ["merged with itself"]),
    (lambda: PNe.merge_neurons(W_IN, B_IN, W_OUT, "01"), TypeError, ["pairs must be a list of (keep, drop) pairs"]),
    (lambda: PNe.merge_neurons(W_IN, B_IN, W_OUT, (0, 1)), TypeError, ["pairs[0] == 0, must be a (keep, drop)"]),
    (lambda: PNe.merge_neurons(W_IN, B_IN, W_OUT, [(0.0, 1.0)]), TypeError, ["pairs[0] == (0.0, 1.0)"]),
])
def test_numpy_pruning_refuses_bad_input(call, exc, fragments):
    check(call, exc, *fragments)


@pytest.fixture(scope="module")
def lenet():
    return fresh_model()


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda m: PN.masks_for(m, 1.0), ValueError, ["sparsity == 1.0, must be in [0, 1)"]),
    (lambda m: PN.masks_for(m, 90), ValueError, ["sparsity == 90.0, must be in [0, 1)"]),
    (lambda m: PN.masks_for(m, 0.5, scope="net"), ValueError, ["scope == 'net'"]),
    (lambda m: PN.masks_for("m", 0.5), TypeError, ["model must be a torch.nn.Module"]),
    (lambda m: PN.apply_masks(m, [1]), TypeError, ["masks must be a dict"]),
    (lambda m: PN.apply_masks(m, {"fc9.weight": np.ones(1, bool)}), ValueError, ["masks has unknown layer name(s)"]),
    (lambda m: PN.apply_masks(m, {"fc1.weight": np.ones((300, 784))}), TypeError,
     ["masks['fc1.weight'] must be a bool"]),
    (lambda m: PN.apply_masks(m, {"fc1.weight": np.ones(3, bool)}), ValueError, ["masks['fc1.weight'] has shape (3,)"]),
    (lambda m: PN.apply_masks(m, {"fc1.weight": [[True], [True, False]]}), ValueError,
     ["masks['fc1.weight'] is a ragged nested sequence"]),
    (lambda m: PN.fine_tune(m, {}, IMAGES, LABELS, lr=0), ValueError, ["lr == 0.0, must be > 0"]),
    (lambda m: PN.fine_tune(m, {}, IMAGES, LABELS.astype(float)), TypeError, ["labels must be an array of integer"]),
    (lambda m: PN.fine_tune(m, {}, np.zeros((4, 32, 32, 3), np.uint8), LABELS), ValueError, ["lenet300 expects 784"]),
    (lambda m: PN.iterative_prune(m, 0.5, rounds=1, train=IMAGES, test=DS), TypeError, ["train must be a Dataset"]),
    (lambda m: PN.iterative_prune(m, 1.0, rounds=1, train=DS, test=DS), ValueError, ["final_sparsity == 1.0"]),
    (lambda m: PN.iterative_prune(m, 0.5, rounds=0, train=DS, test=DS), ValueError, ["rounds == 0, must be >= 1"]),
    (lambda m: PN.one_shot_prune(m, "0.5", train=DS, test=DS), TypeError, ["sparsity must be a real number"]),
    (lambda m: PN.one_shot_prune(m, 90, train=DS, test=DS), ValueError, ["sparsity == 90.0, must be in [0, 1)"]),
    (lambda m: PN.one_shot_prune(m, 0.5, train=DS, test=DS, epochs=-1), ValueError, ["epochs == -1, must be >= 0"]),
    (lambda m: PN.one_shot_prune(m, 0.5, train=DS, test=DS, max_steps=1.5), TypeError, ["max_steps must be an int"]),
    (lambda m: PN.collect_activations(m, IMAGES, "fc9"), ValueError, ["layers contains 'fc9'"]),
    (lambda m: PN.collect_activations(m, IMAGES, [1]), TypeError, ["layers[0] must be a str"]),
    (lambda m: PN.collect_activations(m, IMAGES, None), TypeError, ["layers must be a str or a list of str"]),
    (lambda m: PN.collect_activations(m, IMAGES, ["fc1", "fc1"]), ValueError, ["names a layer twice"]),
    (lambda m: PN.collect_activations(m, np.zeros((2, 32, 32, 3), np.uint8), ["fc1"]), ValueError,
     ["lenet300 expects 784"]),
    (lambda m: PN.collect_activations(m, IMAGES.astype(np.float32), ["fc1"]), TypeError, ["uint8"]),
    (lambda m: PN.shrink_mlp(m, drop=[1]), TypeError, ["drop must be a dict"]),
    (lambda m: PN.shrink_mlp(m, drop={"fc3": [1]}), ValueError, ["drop has layer 'fc3'"]),
    (lambda m: PN.shrink_mlp(m, merge={"fc1": [(1, 1)]}), ValueError, ["merged with itself"]),
    (lambda m: PN.make_duplicate(m, "fc3", 0, 1), ValueError, ["layer == 'fc3'"]),
    (lambda m: PN.make_duplicate(m, "fc1", 0, 300), ValueError, ["target == 300, must be <= 299"]),
    (lambda m: PN.make_duplicate(m, "fc1", 0.0, 1), TypeError, ["source must be an int"]),
    (lambda m: PC.sparsity_curve(m, 0.5, train=DS, test=DS, rounds=1, steps_per_round=0), TypeError,
     ["targets must be a list of sparsities in [0, 1)"]),
    (lambda m: PC.sparsity_curve(m, [90], train=DS, test=DS, rounds=1, steps_per_round=0), ValueError,
     ["targets[0] == 90.0, must be in [0, 1)"]),
    (lambda m: PC.sparsity_curve(m, [0.5], train=DS, test=DS, rounds=1, steps_per_round=0, scope="x"), ValueError,
     ["scope == 'x'"]),
    (lambda m: PC.sparsity_curve(m, [0.5], train=IMAGES, test=DS, rounds=1, steps_per_round=0), TypeError,
     ["train must be a Dataset"]),
    (lambda m: PC.schedule_comparison(m, 1.5, train=DS, test=DS, rounds=1, steps_per_round=0), ValueError,
     ["sparsity == 1.5, must be in [0, 1)"]),
    (lambda m: PC.schedule_comparison(m, 0.5, train=DS, test=DS, rounds=1, steps_per_round=0, curve="0.5"),
     TypeError, ["curve must be a list of sparsities"]),
    (lambda m: PC.schedule_comparison(m, 0.5, train=DS, test=DS, rounds=1, steps_per_round=0, curve=[1.0]),
     ValueError, ["curve[0] == 1.0, must be in [0, 1)"]),
    (lambda m: PC.run_long("x"), ValueError, ["name == 'x', must be one of"]),
    (lambda m: PC.run_long("03_lenet_curve", save="no"), TypeError, ["save must be True or False"]),
])
def test_torch_pruning_refuses_bad_input_and_leaves_the_model_alone(lenet, call, exc, fragments):
    before = {k: v.clone() for k, v in lenet.state_dict().items()}
    check(lambda: call(lenet), exc, *fragments)
    assert all(torch.equal(before[k], v) for k, v in lenet.state_dict().items())


def test_export_and_load_refuse_bad_paths_without_writing(lenet, tmp_path):
    masks = PN.masks_for(lenet, 0.5)
    check(lambda: PN.export_pruned(lenet, masks, tmp_path / "no" / "x.pt"), ValueError, "path == ", "does not exist")
    check(lambda: PN.export_pruned(lenet, masks, 5), TypeError, "path must be a str or a path")
    check(lambda: PN.export_pruned(lenet, masks, tmp_path), ValueError, "is a folder, must name the file to write")
    check(lambda: PN.export_pruned(lenet, {"x": 1}, tmp_path / "a.pt"), ValueError, "masks has unknown layer")
    assert list(tmp_path.iterdir()) == []
    check(lambda: PN.load_pruned(tmp_path / "zz.pt", "lenet300"), ValueError, "path == ", "is missing")
    junk = tmp_path / "junk.pt"
    junk.write_text("junk")
    check(lambda: PN.load_pruned(junk, "lenet300"), ValueError, "is not a checkpoint written by export_pruned")
    check(lambda: PN.load_pruned(junk, "resnet"), ValueError, "name == 'resnet'")
    check(lambda: PN.load_pruned(junk, None), TypeError, "name must be a str")
    ok = tmp_path / "ok.pt"
    PN.export_pruned(lenet, masks, ok)
    check(lambda: PN.load_pruned(ok, "lenet5"), ValueError, "does not hold a 'lenet5' model")


def test_valid_inputs_that_look_odd_still_work():
    assert P.sparsity([[1.0], [1.0, 0.0]]) == pytest.approx(1 / 3)  # a list of layers of different shapes
    assert np.array_equal(P.sparse_linear(np.array([1, 1]), P.to_csr(W)), W @ np.ones(2))  # integer x is cast
    assert P.magnitude_ranks([0.3, 0.1, 0.3, 0.2]).tolist() == [2, 0, 3, 1]


def test_compare_command_line_refuses_unknown_runs(capsys):
    assert PC.main(["resnet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m course_lib.pruning.nn.compare") and "Traceback" not in err
