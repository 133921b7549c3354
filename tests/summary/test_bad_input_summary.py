"""Bad input to course_lib.summary (NumPy side and nn): a TypeError / ValueError that names the parameter, early.

Fake data sets (zeros) and untrained models keep this fast: every refusal happens before any training.
"""

import copy

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.summary import (
    Timings,
    best_under_budget,
    check_rows,
    claims_table,
    code_lines,
    decision_table,
    pareto_front,
    row_timing,
    speed_word,
)
from course_lib.summary import nn as snn
from course_lib.summary.nn.configs import Config

EVIDENCE = {
    "neurons": {"bytes_ratio": 2.0, "speedup_1": 1.5, "speedup_100": Timings(2.0, 1.0), "acc_drop": 0.3},
    "synapses": {"sparsity": 0.9, "csr_ratio": 5.0, "dense_run_speedup": 1.0, "sparse_crossover": 0.95},
    "quant_memory": {"bytes_ratio": 3.9},
    "quant_compute": {"int8_kernel": "fbgemm", "speedup_1": 1.1, "speedup_100": 2.0, "integer_match": True},
    "scratch": {"dense": 0.97, "qat": 0.96, "sparse": 0.95, "sparsity": 0.9},
    "fact_memory": {"svd_ratio": 3.0, "svd_drop": 0.5, "tt_ratio": 10.0, "tt_drop": 0.8},
    "fact_speed": {"speedup_1": 1.1, "speedup_100": 1.3},
    "fact_scratch": {"dense": 0.97, "tt": 0.96, "tt_ratio": 8.0},
    "fact_hard": {"pruning_lines": 100, "quantization_lines": 120, "svd_lines": 200, "tt_lines": 300},
}

ROWS = [{"model": "m", "name": "float32", "needs": "none", "accuracy": 0.97, "bytes": 1000, "ms_1": 1.0,
         "ms_100": 10.0, "iqr_1": 0.1, "iqr_100": 1.0},
        {"model": "m", "name": "int8", "needs": "none", "accuracy": 0.965, "bytes": 250, "ms_1": 0.5,
         "ms_100": 5.0, "iqr_1": 0.1, "iqr_100": 1.0}]


def _evidence(key, number, value):
    e = copy.deepcopy(EVIDENCE)
    e[key][number] = value
    return e


def test_valid_evidence_and_rows_still_work():
    assert [r["verdict"] for r in claims_table(EVIDENCE)][:3] == ["supported", "supported", "supported"]
    assert decision_table(ROWS)[0]["technique"] == "int8"


@pytest.mark.parametrize("key, number, value, exc, message", [
    # percentages where fractions go: a silently different verdict before
    ("scratch", "dense", 97.0, ValueError, "evidence['scratch']['dense'] == 97.0, must be a fraction in [0, 1] "
                                           "(not a percentage)."),
    ("scratch", "qat", np.float64(96.0), ValueError, "evidence['scratch']['qat'] == 96.0, must be a fraction"),
    ("fact_scratch", "tt", 96.0, ValueError, "(not a percentage)"),
    ("synapses", "sparsity", 90, ValueError, "evidence['synapses']['sparsity'] == 90.0, must be a fraction"),
    ("synapses", "sparse_crossover", 95.0, ValueError, "evidence['synapses']['sparse_crossover'] == 95.0"),
    ("scratch", "dense", -0.1, ValueError, "evidence['scratch']['dense'] == -0.1, must be a fraction in [0, 1]."),
    # NaN, inf, zero, negative
    ("neurons", "speedup_1", float("nan"), ValueError, "evidence['neurons']['speedup_1']'s value == nan"),
    ("neurons", "speedup_1", Timings(1.0, float("nan")), ValueError,
     "evidence['neurons']['speedup_1'].new's value == nan"),
    ("neurons", "speedup_1", -2.0, ValueError, "evidence['neurons']['speedup_1'] == -2.0, must be > 0"),
    ("neurons", "speedup_100", (1.2, -0.1), ValueError, "evidence['neurons']['speedup_100']'s spread == -0.1"),
    ("neurons", "bytes_ratio", float("nan"), ValueError, "evidence['neurons']['bytes_ratio'] == nan, must be finite."),
    ("quant_memory", "bytes_ratio", float("inf"), ValueError, "evidence['quant_memory']['bytes_ratio'] == inf"),
    ("fact_memory", "tt_ratio", 0.0, ValueError, "evidence['fact_memory']['tt_ratio'] == 0.0, must be > 0."),
    ("fact_memory", "svd_drop", float("nan"), ValueError, "evidence['fact_memory']['svd_drop'] == nan"),
    ("neurons", "acc_drop", 250.0, ValueError, "evidence['neurons']['acc_drop'] == 250.0, must be in [-100, 100]."),
    ("fact_hard", "pruning_lines", 0, ValueError, "evidence['fact_hard']['pruning_lines'] == 0, must be >= 1."),
    ("fact_hard", "svd_lines", -4, ValueError, "evidence['fact_hard']['svd_lines'] == -4, must be >= 1."),
    # wrong types
    ("neurons", "bytes_ratio", "2", TypeError, "evidence['neurons']['bytes_ratio'] must be a real number, got str"),
    ("neurons", "acc_drop", None, TypeError, "evidence['neurons']['acc_drop'] must be a real number, got NoneType"),
    ("neurons", "speedup_1", "2x", TypeError, "evidence['neurons']['speedup_1'] must be a number, a (value, spread)"),
    ("neurons", "speedup_1", True, TypeError, "evidence['neurons']['speedup_1'] must be a number"),
    ("neurons", "speedup_100", [1.2, 0.1], TypeError, "evidence['neurons']['speedup_100'] must be a number"),
    ("fact_hard", "tt_lines", "300", TypeError, "evidence['fact_hard']['tt_lines'] must be an int, got str"),
    ("fact_hard", "tt_lines", 3.5, TypeError, "evidence['fact_hard']['tt_lines'] must be an int, got float"),
    ("quant_compute", "integer_match", "yes", TypeError,
     "evidence['quant_compute']['integer_match'] must be True or False"),
    ("quant_compute", "int8_kernel", 5, TypeError, "evidence['quant_compute']['int8_kernel'] must be a str or None"),
    ("fact_speed", "speedup_1", Timings(None, 2.0), TypeError,
     "evidence['fact_speed']['speedup_1'].old must be a number"),
])
def test_claims_table_refuses_bad_numbers(key, number, value, exc, message):
    with pytest.raises(exc) as info:
        claims_table(_evidence(key, number, value))
    assert message in str(info.value)


@pytest.mark.parametrize("evidence, exc, message", [
    ([1, 2], TypeError, "evidence must be a dict"),
    ({**EVIDENCE, 1: {}, "x": {}}, ValueError, "evidence names [1, 'x'], must name only claims"),
    ({k: v for k, v in EVIDENCE.items() if k != "scratch"}, ValueError, "evidence has no 'scratch'"),
    ({**EVIDENCE, "scratch": [0.9]}, TypeError, "evidence['scratch'] must be a dict"),
])
def test_claims_table_refuses_bad_structure(evidence, exc, message):
    with pytest.raises(exc) as info:
        claims_table(evidence)
    assert message in str(info.value)


@pytest.mark.parametrize("speedup, exc, message", [
    (float("nan"), ValueError, "speedup's value == nan"),
    ("fast", TypeError, "speedup must be a number"),
    (0.0, ValueError, "speedup == 0.0, must be > 0"),
    (-1.0, ValueError, "speedup == -1.0, must be > 0"),
    (Timings("a", 1.0), TypeError, "speedup.old must be a number"),
    (Timings(1.0, 0.0), ValueError, "speedup.new == 0.0, must be > 0"),
])
def test_speed_word_refuses(speedup, exc, message):
    with pytest.raises(exc) as info:
        speed_word(speedup)
    assert message in str(info.value)


def test_timings_ratio_refuses_zero():
    with pytest.raises(ValueError, match=r"timings\.new == 0\.0, must be > 0"):
        _ = Timings(1.0, 0.0).ratio


def test_code_lines_refuses_non_python(tmp_path):
    bad, binary = tmp_path / "bad.py", tmp_path / "bin.py"
    bad.write_text("def f(:\n")
    binary.write_bytes(b"\xff\xfe\x00")
    for path in (bad, binary):
        with pytest.raises(ValueError, match=r"paths\[0\] == .* is not a Python source file"):
            code_lines(path)
    with pytest.raises(ValueError, match=r"paths\[1\] == .* is a folder, must be an existing file"):
        code_lines(__file__, tmp_path)
    with pytest.raises(TypeError, match=r"paths\[0\] must be a str or a path, got list"):
        code_lines([binary])


def _rows(i=1, **change):
    rows = copy.deepcopy(ROWS)
    rows[i].update(change)
    return rows


@pytest.mark.parametrize("rows, exc, message", [
    (_rows(accuracy=96.5), ValueError, "rows[1]['accuracy'] == 96.5, must be a fraction in [0, 1] (not a percentage)."),
    (_rows(0, accuracy=97.0), ValueError, "rows[0]['accuracy'] == 97.0, must be a fraction"),
    (_rows(accuracy=float("nan")), ValueError, "rows[1]['accuracy'] == nan, must be finite."),
    (_rows(accuracy="0.9"), TypeError, "rows[1]['accuracy'] must be a real number, got str"),
    (_rows(accuracy=True), TypeError, "rows[1]['accuracy'] must be a real number, got bool"),
    (_rows(bytes="250"), TypeError, "rows[1]['bytes'] must be a real number, got str"),
    (_rows(bytes=0), ValueError, "rows[1]['bytes'] == 0.0, must be > 0."),
    (_rows(ms_1=float("nan")), ValueError, "rows[1]['ms_1'] == nan, must be finite."),
    (_rows(ms_1=0.0), ValueError, "rows[1]['ms_1'] == 0.0, must be > 0."),
    (_rows(ms_100="5"), TypeError, "rows[1]['ms_100'] must be a number, a (value, spread) pair"),
    (_rows(iqr_1=-1.0), ValueError, "rows[1]['iqr_1'] == -1.0, must be >= 0."),
    (_rows(iqr_1="0.1"), TypeError, "rows[1]['iqr_1'] must be a real number, got str"),
    (_rows(needs="everything"), ValueError, "rows[1]['needs'] == 'everything', must be one of 'none', 'sample'"),
    (_rows(name=5), TypeError, "rows[1]['name'] must be a str, got int"),
    (_rows(model=["m"]), TypeError, "rows[1]['model'] must be a str, got list"),
    (_rows(name="float32"), ValueError, "rows[1] and rows[0] are both 'float32' of model 'm'"),
    (ROWS[0], TypeError, "rows must be a non-empty list of dicts"),
    ("rows", TypeError, "rows must be a non-empty list of dicts"),
    ([ROWS[0], {"model": "m"}], ValueError, "rows[1] misses ['name', 'needs'"),
    ([ROWS], TypeError, "rows[0] must be a dict, got list."),
])
def test_decision_table_refuses_bad_rows(rows, exc, message):
    with pytest.raises(exc) as info:
        decision_table(rows)
    assert message in str(info.value)


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"tolerance": 1.5}, ValueError, "tolerance == 1.5, must be a fraction in [0, 1] (not a percentage)."),
    ({"tolerance": "0.01"}, TypeError, "tolerance must be a real number, got str"),
    ({"tolerance": float("nan")}, ValueError, "tolerance == nan, must be finite."),
    ({"baseline": 3}, TypeError, "baseline must be a str, got int"),
    ({"baseline": "fp32"}, ValueError, "rows has no 'fp32' row for model 'm'"),
])
def test_decision_table_refuses_bad_options(kwargs, exc, message):
    with pytest.raises(exc) as info:
        decision_table(ROWS, **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("args, exc, message", [
    (([1], "ms_1"), TypeError, "row must be a dict"),
    (({"ms_100": 1.0}, "ms_1"), ValueError, "row has no 'ms_1'"),
    ((ROWS[0], "bytes"), ValueError, "column == 'bytes', must be one of ['ms_1', 'ms_100']."),
    (({"ms_1": np.float32("nan")}, "ms_1"), ValueError, "row['ms_1'] == nan, must be finite."),
    (({"ms_1": 1.0, "iqr_1": float("nan")}, "ms_1"), ValueError, "row['iqr_1'] == nan, must be finite."),
])
def test_row_timing_refuses(args, exc, message):
    with pytest.raises(exc) as info:
        row_timing(*args)
    assert message in str(info.value)


def test_check_rows_refuses_a_single_column_name():
    with pytest.raises(TypeError, match=r"columns must be a list or tuple of names, got str \('model'\) "
                                        r"\(write \['model'\] for one name\)"):
        check_rows(ROWS, "model")


@pytest.mark.parametrize("args, exc, message", [
    (("abc", [1, 2, 3]), TypeError, "accuracy must be an array of real numbers"),
    (([0.9, np.nan], [1, 2]), ValueError, "accuracy contains 1 NaN"),
    (([0.9, 0.8], [1, 2, 3]), ValueError, "accuracy has 2 entries and cost 3"),
    (([0.9], [-1]), ValueError, "cost holds 1 negative value(s), must be >= 0."),
    (([0.9, 0.8], [1 + 1j, 2]), TypeError, "cost must be an array of real numbers, got dtype complex128."),
])
def test_pareto_front_refuses(args, exc, message):
    with pytest.raises(exc) as info:
        pareto_front(*args)
    assert message in str(info.value)


@pytest.mark.parametrize("budget, exc, message", [
    ("10", TypeError, "budget must be a real number, got str"), (-1, ValueError, "budget == -1.0, must be >= 0."),
    (float("nan"), ValueError, "budget == nan, must be finite.")])
def test_best_under_budget_refuses(budget, exc, message):
    with pytest.raises(exc) as info:
        best_under_budget([0.9], [1], budget)
    assert message in str(info.value)


# --- nn: every refusal comes before any training, on fake data sets -----------------------------------------------

def _mnist(n=8):
    return cl.Dataset(np.zeros((n, 28, 28), np.uint8), np.arange(n, dtype=np.int64) % 10, cl.MNIST_CLASSES)


def _cifar(n=8):
    return cl.Dataset(np.zeros((n, 32, 32, 3), np.uint8), np.arange(n, dtype=np.int64) % 10, cl.CIFAR10_CLASSES)


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return cl.build_model("lenet300"), cl.build_model("cifar_vgg")


@pytest.mark.parametrize("which, train, kwargs, exc, message", [
    ("lenet", "cifar", {}, ValueError, "train.images have 3072 features (3x32x32), lenet300 expects 784"),
    ("cnn", "mnist", {}, ValueError, "train.images have 784 features (1x28x28), cifar_vgg expects 3072"),
    ("lenet", "train", {}, TypeError, "train must be a Dataset (with .images and .labels"),
    ("cnn", None, {}, TypeError, "train must be a Dataset (with .images and .labels"),
    ("lenet", "mnist", {"seed": "0"}, TypeError, "seed must be an int, got str"),
    ("cnn", "cifar", {"seed": -1}, ValueError, "seed == -1, must be >= 0."),
    ("lenet", "mnist", {"steps": "5"}, TypeError, "steps must be an int, got str"),
    ("cnn", "cifar", {"steps": 0}, ValueError, "steps == 0, must be >= 1."),
])
def test_configuration_builders_refuse_before_training(nets, which, train, kwargs, exc, message):
    lenet, cnn = nets
    model, build = (lenet, snn.lenet300_configs) if which == "lenet" else (cnn, snn.cnn_configs)
    train = {"mnist": _mnist(), "cifar": _cifar()}.get(train, train) if isinstance(train, str) else train
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(exc) as info:
        build(model, train, **kwargs)
    assert message in str(info.value)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the model is not changed


def test_configuration_builders_refuse_the_other_model(nets):
    lenet, cnn = nets
    with pytest.raises(TypeError, match=r"model must be LeNet-300-100 \(load_pretrained\('lenet300'\)\), got CifarVGG"):
        snn.lenet300_configs(cnn, _cifar())
    with pytest.raises(TypeError, match=r"model must be the CIFAR-10 CNN .*, got LeNet300100"):
        snn.cnn_configs(lenet, _mnist())


@pytest.mark.parametrize("masks, exc, message", [
    ({"fc1.weight": np.ones((3, 3), bool)}, ValueError, "masks['fc1.weight'] has shape (3, 3), must have the "
                                                        "tensor's (300, 784)."),
    ({"fc1.weight": "abc"}, TypeError, "masks['fc1.weight'] must be a bool array, got str"),
    ({"fc1.weight": np.ones((300, 784))}, TypeError, "masks['fc1.weight'] must be a bool array, got ndarray of "
                                                     "dtype float64"),
    ({1: np.ones(3, bool)}, ValueError, "masks names [1], must name tensors of the model's state dict."),
])
def test_pruned_bytes_refuses_bad_masks(nets, masks, exc, message):
    with pytest.raises(exc) as info:
        snn.pruned_bytes(nets[0], masks)
    assert message in str(info.value)


@pytest.mark.parametrize("value_bytes, exc, message", [
    (True, TypeError, "value_bytes must be an int, got bool (True)."),
    ("4", TypeError, "value_bytes must be an int, got str ('4')."),
    (3, ValueError, "value_bytes == 3, must be one of 1, 2, 4."),
])
def test_pruned_bytes_refuses_bad_value_bytes(nets, value_bytes, exc, message):
    with pytest.raises(exc) as info:
        snn.pruned_bytes(nets[0], {}, value_bytes=value_bytes)
    assert message in str(info.value)


@pytest.mark.parametrize("change, test, kwargs, exc, message", [
    ({}, "cifar", {}, ValueError, "test.images have 3072 features"),
    ({}, "test", {}, TypeError, "test must be a Dataset"),
    ({}, "mnist", {"model_name": 3}, TypeError, "model_name must be a str, got int"),
    ({}, "mnist", {"progress": "no"}, TypeError, "progress must be True or False"),
    ({"model": "m"}, "mnist", {}, TypeError, "configs[0].model must be a torch.nn.Module, got str."),
    ({"bytes": "1"}, "mnist", {}, TypeError, "configs[0].bytes must be an int, got str"),
    ({"needs": "all"}, "mnist", {}, ValueError, "configs[0].needs == 'all', must be one of 'none', 'sample'"),
    ({"family": "base"}, "mnist", {}, ValueError, "configs[0].family == 'base', must be one of 'baseline'"),
    ({"name": 7}, "mnist", {}, TypeError, "configs[0].name must be a str, got int"),
])
def test_measure_configs_refuses_before_timing(nets, change, test, kwargs, exc, message):
    fields = {"name": "float32", "family": "baseline", "needs": "none", "model": nets[0], "bytes": 100, **change}
    test = {"mnist": _mnist(), "cifar": _cifar()}.get(test, test)
    with pytest.raises(exc) as info:
        snn.measure_configs([Config(**fields)], test, **{"model_name": "x", "repeats": 1, "rounds": 1, **kwargs})
    assert message in str(info.value)


def test_measure_configs_refuses_duplicate_names(nets):
    c = Config("a", "baseline", "none", nets[0], 1)
    with pytest.raises(ValueError, match=r"configs\[1\] and configs\[0\] are both named 'a'"):
        snn.measure_configs([c, c], _mnist(), model_name="x")


@pytest.mark.parametrize("train, test, kwargs, exc, message", [
    ("cifar", "mnist", {}, ValueError, "train.images have 3072 features"),
    ("mnist", "cifar", {}, ValueError, "test.images have 3072 features"),
    ("train", "mnist", {}, TypeError, "train must be a Dataset"),
    ("mnist", "mnist", {"sparsity": 90}, ValueError, "sparsity == 90.0, must be a fraction in [0, 1] "
                                                     "(not a percentage)."),
    ("mnist", "mnist", {"sparsity": 1.0}, ValueError, "sparsity == 1.0, must be in [0, 1)."),
    ("mnist", "mnist", {"seed": "0"}, TypeError, "seed must be an int, got str"),
])
def test_from_scratch_refuses_before_training(train, test, kwargs, exc, message):
    sets = {"mnist": _mnist(), "cifar": _cifar()}
    with pytest.raises(exc) as info:
        snn.from_scratch(sets.get(train, train), sets.get(test, test), steps=1, **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("args, kwargs, exc, message", [
    (("300x784",), {}, TypeError, "shape must be a pair (out, in), got str."),
    (((30, 78), (0.9, 0.5)), {}, ValueError, "sparsities == [0.9, 0.5], must be strictly increasing."),
    (((30, 78), (50, 90)), {}, ValueError, "sparsities[0] == 50.0"),
    (((30, 78),), {"batch": 0}, ValueError, "batch == 0, must be >= 1."),
])
def test_csr_vs_dense_refuses(args, kwargs, exc, message):
    with pytest.raises(exc) as info:
        snn.csr_vs_dense(*args, **kwargs)
    assert message in str(info.value)
