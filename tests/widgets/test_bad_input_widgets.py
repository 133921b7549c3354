"""Bad input to the explorers, their layout helpers and course_lib.plots: a TypeError / ValueError naming the parameter.

No browser: the explorers are built on untrained models and a few black images (fast), ``widget()`` builds
ipywidgets objects only; the TT explorer's refusals are all checked before its first decomposition.
"""

import copy

import matplotlib
import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib import plots
from course_lib.widgets import (
    FlattenedExplorer,
    NeuronPruningExplorer,
    PredictionExplorer,
    PTQExplorer,
    QuantizationExplorer,
    ScheduleExplorer,
    SummaryExplorer,
    SVDExplorer,
    TTExplorer,
    WeightPruningExplorer,
    layout,
)
from course_lib.widgets.summary import check_rows, pareto_plot

matplotlib.use("Agg")


def _mnist(n=8):
    return cl.Dataset(np.zeros((n, 28, 28), np.uint8), np.arange(n, dtype=np.int64) % 10, cl.MNIST_CLASSES)


def _cifar(n=4):
    return cl.Dataset(np.zeros((n, 32, 32, 3), np.uint8), np.arange(n, dtype=np.int64) % 10, cl.CIFAR10_CLASSES)


@pytest.fixture(scope="module")
def lenet():
    torch.manual_seed(0)
    return cl.build_model("lenet300")


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    return cl.build_model("cifar_vgg").eval()


def check(exc, message, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert message in str(info.value), f"got: {info.value}"


# --- constructors ------------------------------------------------------------------------------------------------

def test_prediction_explorer_refuses(lenet):
    check(TypeError, "models must be a dict name -> (model, dataset), got str.", PredictionExplorer, "lenet300")
    check(ValueError, "models['a'][1].images have 3072 features", PredictionExplorer, {"a": (lenet, _cifar())})


@pytest.fixture(scope="module")
def acts(lenet):
    return cl.pruning.nn.collect_activations(lenet, _mnist().images, ("fc1", "fc2"))


@pytest.mark.parametrize("fc1, exc, message", [
    ("abc", TypeError, "acts['fc1'] must be an array of real numbers, got dtype <U3."),
    ("nan", ValueError, "acts['fc1'] contains 2400 NaN or infinite value(s), must be finite."),
    ([[1.0], [1.0, 2.0]], ValueError, "acts['fc1']: the value is a ragged nested sequence"),
    (np.zeros((0, 300)), ValueError, "acts['fc1'] has no row (shape (0, 300)), must hold the activations"),
    (np.zeros((3, 300), complex), TypeError, "acts['fc1'] must be an array of real numbers, got dtype complex128."),
    (np.zeros((3, 100)), ValueError, "acts['fc1'] has shape (3, 100), must be (N, 300)"),
])
def test_neuron_pruning_explorer_refuses_bad_activations(lenet, acts, fc1, exc, message):
    fc1 = acts["fc1"] * np.nan if isinstance(fc1, str) and fc1 == "nan" else fc1
    check(exc, message, NeuronPruningExplorer, lenet, {"fc1": fc1, "fc2": acts["fc2"]}, _mnist())


@pytest.mark.parametrize("make, exc, message", [
    (lambda m, c: WeightPruningExplorer(m, _cifar()), ValueError, "test.images have 3072 features"),
    (lambda m, c: WeightPruningExplorer(m, _mnist(), biases="no"), TypeError, "biases must be True or False"),
    (lambda m, c: QuantizationExplorer(None, _mnist()), TypeError, "model must be a torch.nn.Module, got NoneType."),
    (lambda m, c: PTQExplorer(m, _cifar().images, _mnist()), ValueError,
     "calibration_images have 3072 features (3x32x32), lenet300 expects 784"),
    (lambda m, c: PTQExplorer(m, _mnist().images.astype(np.float32), _mnist()), TypeError,
     "calibration_images must be a uint8 array"),
    (lambda m, c: PTQExplorer(m, _mnist(), _mnist()), TypeError,
     "calibration_images must be a uint8 array of images (dataset.images[:500]), got Dataset."),
    (lambda m, c: PTQExplorer(m, _mnist().images[:0], _mnist()), ValueError, "calibration_images is empty"),
    (lambda m, c: ScheduleExplorer(m, _cifar()), ValueError, "test.images have 3072 features"),
    (lambda m, c: SVDExplorer(m, _mnist(), layers="fc1"), TypeError,
     "layers must be a list or tuple of names, got str ('fc1') (write ['fc1'] for one name)."),
    (lambda m, c: SVDExplorer(m, _mnist(), layers=["fc9"]), ValueError, "layers[0] == 'fc9', must be one of"),
    (lambda m, c: SVDExplorer(m, _mnist(), batch=0), ValueError, "batch == 0, must be >= 1."),
    (lambda m, c: TTExplorer(m, _mnist(), precompute=False), ValueError, "model has no Linear fc1 of weight shape"),
    (lambda m, c: FlattenedExplorer(c, _cifar(), "features.0"), TypeError,
     "layers must be a list or tuple of names, got str ('features.0') (write ['features.0'] for one name)."),
    (lambda m, c: FlattenedExplorer(c, _cifar(), None), TypeError, "layers must be a list or tuple of names"),
    (lambda m, c: FlattenedExplorer(c, _cifar(), ["features.99"]), ValueError,
     "layers[0] == 'features.99' is not a layer of CifarVGG, must be an nn.Conv2d of it (features.0, features.4"),
    (lambda m, c: FlattenedExplorer(c, _cifar(), ["features.3"]), TypeError,
     "layers[0] == 'features.3' is a MaxPool2d of CifarVGG, must be an nn.Conv2d"),
    (lambda m, c: FlattenedExplorer(m, _mnist(), ["fc1"]), TypeError,
     "layers[0] == 'fc1' is a Linear of LeNet300100, must be an nn.Conv2d of it (it has none"),
    (lambda m, c: FlattenedExplorer(c, _mnist(), ["features.0"]), ValueError, "test.images have 784 features"),
    (lambda m, c: FlattenedExplorer(c, _cifar(), ["features.0"], timing_batch="2"), TypeError,
     "timing_batch must be an int, got str"),
    (lambda m, c: FlattenedExplorer(c, _cifar(), ["features.0"], max_rank=10 ** 6), ValueError,
     "max_rank == 1000000, must be <= 9 (a 3x3x3 filter is exact at rank 9"),
    (lambda m, c: FlattenedExplorer(c, _cifar(), []), ValueError, "layers is empty, must name at least one."),
])
def test_explorer_constructors_refuse(lenet, cnn, make, exc, message):
    check(exc, message, make, lenet, cnn)


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"d": 3}, ValueError, "d == 3, must be one of 2, 4, 6."),
    ({"batch": 0}, ValueError, "batch == 0, must be >= 1."),
    ({"precompute": "no"}, TypeError, "precompute must be True or False"),
])
def test_tt_explorer_refuses_before_decomposing(kwargs, exc, message):
    wide = cl.build_model("wide_mlp")
    check(exc, message, TTExplorer, wide, _mnist(2), **{"precompute": False, **kwargs})
    check(ValueError, "test.images have 3072 features", TTExplorer, wide, _cifar(2), precompute=False)


def test_tt_explorer_methods_refuse():
    exp = TTExplorer.__new__(TTExplorer)  # the checks come first: no decomposition is needed to test them
    exp.layers = ("fc1", "fc2")
    check(ValueError, "name == 'fc9', must be one of 'fc1', 'fc2'.", exp.train, "fc9", 4, 4)
    check(ValueError, "rank == 3, must be one of 1, 2, 4, 8, 16.", exp.train, "fc1", 3, 4)
    check(ValueError, "rank == 3, must be one of 1, 2, 4, 8, 16.", exp.compute, 3)
    check(ValueError, "d == 5, must be one of 2, 4, 6.", exp.prepare, 5)
    check(ValueError, "rank == 3, must be one of 1, 2, 4, 8, 16.", exp.widget, rank=3)


# --- methods and widget() start values ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def explorers(lenet, acts, cnn):
    return {"prediction": PredictionExplorer({"lenet300": (lenet, _mnist())}),
            "neurons": NeuronPruningExplorer(lenet, acts, _mnist()),
            "weights": WeightPruningExplorer(lenet, _mnist()),
            "quantization": QuantizationExplorer(lenet, _mnist()),
            "ptq": PTQExplorer(lenet, _mnist().images, _mnist()),
            "schedules": ScheduleExplorer(lenet, _mnist()),
            "svd": SVDExplorer(lenet, _mnist(), batch=2),
            "flattened": FlattenedExplorer(cnn, _cifar(), ["features.0"], max_rank=1, timing_batch=2)}


@pytest.mark.parametrize("name, method, args, kwargs, exc, message", [
    ("prediction", "compute", ("lenet300", "3"), {}, TypeError, "index must be an int, got str"),
    ("prediction", "widget", (), {"index": "0"}, TypeError, "index must be an int, got str"),
    ("prediction", "widget", (), {"index": 99}, ValueError, "index == 99, must be in [0, 7] (the slider's range)."),
    ("neurons", "plan", (2, False), {}, ValueError, "max_fire_rate == 2.0, must be in [0, 1]."),
    ("neurons", "compute", (0.02, "yes"), {}, TypeError, "merge must be True or False"),
    ("neurons", "widget", (), {"max_fire_rate": 2.0}, ValueError,
     "max_fire_rate == 2.0, must be in [0, 0.2] (the slider's range)."),
    ("neurons", "widget", (), {"max_fire_rate": "0.1"}, TypeError, "max_fire_rate must be a real number, got str"),
    ("weights", "compute", (), {"sparsity": 90}, ValueError, "sparsity == 90.0, must be in [0, 1)."),
    ("weights", "compute", (), {"C": "0.1"}, TypeError, "C must be a real number, got str"),
    ("weights", "widget", (), {"C": -1.0}, ValueError, "C == -1.0, must be in [0, 0.3] (the slider's range)."),
    ("weights", "widget", (), {"C": 1e9}, ValueError, "(the slider's range)"),
    ("quantization", "compute", (4, 50), {}, ValueError, "range_fraction == 50.0, must be in (0, 1]."),
    ("quantization", "compute", ("4",), {}, TypeError, "bits must be an int, got str"),
    ("quantization", "widget", (), {"bits": 9}, ValueError, "bits == 9, must be <= 8."),
    ("quantization", "widget", (), {"bits": "8"}, TypeError, "bits must be an int, got str"),
    ("ptq", "compute", (4, "yes"), {}, TypeError, "per_channel must be True or False"),
    ("ptq", "widget", (), {"bits": 1}, ValueError, "bits == 1, must be >= 2."),
    ("schedules", "sparsities", (90, 3), {}, ValueError, "final_sparsity == 90.0, must be in [0, 1)."),
    ("schedules", "widget", (), {"final_sparsity": 90}, ValueError,
     "final_sparsity == 90.0, must be in [0.5, 0.99] (the slider's range)."),
    ("schedules", "widget", (), {"rounds": "5"}, TypeError, "rounds must be an int, got str"),
    ("schedules", "widget", (), {"rounds": 11}, ValueError, "rounds == 11, must be in [1, 10] (the slider's range)."),
    ("svd", "compute", ({"fc1": "10", "fc2": 10},), {}, TypeError, "ranks['fc1'] must be an int, got str"),
    ("svd", "widget", (), {"ranks": [10, 10]}, ValueError, "ranks == [10, 10], must be a dict with a rank for each"),
    ("svd", "widget", (), {"ranks": {"fc1": "a", "fc2": 3}}, TypeError, "ranks['fc1'] must be an int, got str"),
    ("svd", "widget", (), {"ranks": {"fc1": 1000, "fc2": 3}}, ValueError, "ranks['fc1'] == 1000, must be <= 300"),
    ("svd", "shape", ("fc9",), {}, ValueError, "name == 'fc9', must be one of 'fc1', 'fc2'."),
    ("flattened", "compute", (1,), {}, TypeError, "ranks must be a list or tuple of 1 ints"),
    ("flattened", "compute", ("1",), {}, TypeError, "ranks must be a list or tuple of 1 ints"),
    ("flattened", "widget", (), {"ranks": [9]}, ValueError, "ranks[0] == 9, must be <= 1."),
])
def test_explorer_methods_refuse(explorers, name, method, args, kwargs, exc, message):
    check(exc, message, getattr(explorers[name], method), *args, **kwargs)


# --- the summary explorer and pareto_plot -------------------------------------------------------------------------

ROWS = [{"model": "m", "name": "float32", "family": "baseline", "needs": "none", "accuracy": 0.97, "bytes": 1000,
         "ms_1": 1.0, "ms_100": 10.0},
        {"model": "m", "name": "int8", "family": "quantization", "needs": "none", "accuracy": 0.96, "bytes": 250,
         "ms_1": 0.5, "ms_100": 5.0}]


def _rows(**change):
    rows = copy.deepcopy(ROWS)
    rows[1].update(change)
    return rows


@pytest.mark.parametrize("rows, exc, message", [
    (_rows(bytes="250"), TypeError, "rows[1]['bytes'] must be a real number, got str ('250')."),
    (_rows(accuracy=96.0), ValueError, "rows[1]['accuracy'] == 96.0, must be a fraction in [0, 1] (not a percentage)."),
    (_rows(ms_1=float("nan")), ValueError, "rows[1]['ms_1'] == nan, must be finite."),
    (_rows(ms_100=(5.0, 0.1)), TypeError, "rows[1]['ms_100'] must be a number, got tuple."),
    (_rows(family="other"), ValueError, "rows[1]['family'] == 'other', must be one of 'baseline'"),
    (_rows(model=1), TypeError, "rows[1]['model'] must be a str, got int"),
    (ROWS[1:], ValueError, "rows has no 'float32' row for model 'm'"),
    (ROWS[0], TypeError, "rows must be a non-empty list of dicts"),
])
def test_summary_explorer_refuses_bad_rows(rows, exc, message):
    check(exc, message, SummaryExplorer, rows)


@pytest.mark.parametrize("method, args, kwargs, exc, message", [
    ("compute", ("x",), {}, ValueError, "model == 'x', must be one of 'm'."),
    ("compute", ("m", "flops"), {}, ValueError, "cost == 'flops', must be one of 'bytes', 'ms_1', 'ms_100'."),
    ("compute", ("m", "bytes", "25%"), {}, TypeError, "budget must be a real number, got str"),
    ("update", ("m", "bytes", 0), {}, ValueError, "budget == 0.0, must be > 0."),
    ("widget", (), {"model": 3}, TypeError, "model must be a str, got int"),
    ("widget", (), {"model": ""}, ValueError, "model == '', must be one of 'm'."),
    ("widget", (), {"budget": 100.0}, ValueError, "budget == 100.0, must be in [0.01, 3.16228] (the slider's range)."),
])
def test_summary_explorer_methods_refuse(method, args, kwargs, exc, message):
    check(exc, message, getattr(SummaryExplorer(ROWS), method), *args, **kwargs)


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"highlight": "fp32"}, ValueError, "highlight == 'fp32', must be one of 'float32', 'int8'."),
    ({"highlight": 3}, TypeError, "highlight must be a str, got int"),
    ({"budget": "10"}, TypeError, "budget must be a real number, got str"),
    ({"budget": float("nan")}, ValueError, "budget == nan, must be finite."),
    ({"labels": "yes"}, TypeError, "labels must be True or False"),
    ({"legend": None}, TypeError, "legend must be True or False"),
    ({"xlim": "auto"}, TypeError, "xlim must be a (low, high) pair or None, got str."),
    ({"xlim": (100, 1)}, ValueError, "xlim == (100.0, 1.0), must have low < high."),
    ({"xlim": (-1, 100)}, ValueError, "xlim[0] == -1.0, must be > 0."),
    ({"ax": "ax"}, TypeError, "ax must be a matplotlib Axes or None, got str."),
    ({"cost": "flops"}, ValueError, "cost == 'flops', must be one of"),
])
def test_pareto_plot_refuses(kwargs, exc, message):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    check(exc, message, pareto_plot, ROWS, **kwargs)
    assert plt.get_fignums() == before  # refused before drawing: no figure left behind


def test_pareto_plot_refuses_two_models():
    check(ValueError, "rows hold the models ['m', 'other'], must be one model's configurations",
          pareto_plot, _rows(model="other"))
    check(TypeError, "rows must be a non-empty list of dicts", check_rows, "rows")


# --- layout -------------------------------------------------------------------------------------------------------

def test_layout_helpers_refuse(lenet, cnn):
    check(TypeError, "test must be a Dataset (with .images and .labels", layout.check_dataset, "test", "x", lenet)
    check(TypeError, "name must be a str (the parameter's name), got int.", layout.check_dataset, 3, _mnist(), lenet)
    check(TypeError, "model must be a torch.nn.Module, got str.", layout.check_dataset, "test", _mnist(), "lenet")
    check(TypeError, "dataset must be a Dataset (with .images and .labels", layout.TestSet, "x")
    check(TypeError, "model must be a torch.nn.Module, got str.", layout.TestSet(_mnist()).accuracy, "m")
    check(ValueError, "model (CifarVGG) has no layer fc1", layout.fc1_weights, cnn)
    check(TypeError, "fig must be a matplotlib Figure, got str.", layout.figure_png, "fig")
    explorer = PredictionExplorer({"lenet300": (lenet, _mnist())})
    check(TypeError, "describe must be a callable returning the status line, got str.",
          layout.explorer_box, [], [], "describe", explorer)
    check(TypeError, "rows must be a list of ipywidgets widgets, got str.", layout.explorer_box, "rows", [],
          lambda: "", explorer)
    check(TypeError, "controls must be a list of ipywidgets widgets, got int.", layout.explorer_box, [], 3,
          lambda: "", explorer)
    check(TypeError, "rows[0] must be an ipywidgets widget, got str.", layout.explorer_box, ["a"], [],
          lambda: "", explorer)
    check(TypeError, "explorer must have a fig attribute", layout.explorer_box, [], [], lambda: "", object())
    check(ValueError, "index == 9, must be in [0, 3] (the slider's range).", layout.check_slider, "index", 9, 0, 3,
          integer=True)


# --- plots --------------------------------------------------------------------------------------------------------

IMAGES = np.zeros((4, 28, 28), np.uint8)


@pytest.mark.parametrize("args, kwargs, exc, message", [
    (("images",), {}, TypeError, "images must be a uint8 array (values 0 .. 255"),
    ((IMAGES.astype(np.float32),), {}, TypeError, "images must be a uint8 array"),
    ((IMAGES[0],), {}, ValueError, "images has shape (28, 28), must be (N, H, W) or (N, H, W, 3)."),
    ((IMAGES[:0],), {}, ValueError, "images is empty (shape (0, 28, 28)), must hold at least one image."),
    ((IMAGES, [1]), {}, ValueError, "labels has 1 entries for 4 images, must have one per image."),
    ((IMAGES, "abcd"), {}, TypeError, "labels must be an array of integers"),
    ((IMAGES, [0.5, 1, 2, 3]), {}, TypeError, "labels must be an array of integers, got dtype float64."),
    ((IMAGES, [0, 1, 2, 3], "abc"), {}, TypeError, "classes must be a list or tuple of names, got str ('abc')"),
    ((IMAGES, [0, 1, 2, 9], ["a", "b", "c", "d"]), {}, ValueError, "labels holds class 9, but classes names only 4"),
    ((IMAGES,), {"rows": 0}, ValueError, "rows == 0, must be >= 1."),
    ((IMAGES,), {"cols": "8"}, TypeError, "cols must be an int, got str"),
    ((IMAGES,), {"fig": "f"}, TypeError, "fig must be a matplotlib Figure or None, got str."),
    ((IMAGES,), {"title": 3}, TypeError, "title must be a str or None, got int."),
])
def test_image_grid_refuses(args, kwargs, exc, message):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    check(exc, message, plots.image_grid, *args, **kwargs)
    assert plt.get_fignums() == before  # refused before a figure was made


@pytest.mark.parametrize("args, kwargs, exc, message", [
    (("ax", [1], [1], ["a"]), {}, TypeError, "ax must be a matplotlib Axes, got str."),
    ((None, [1, 2], [1, 2], "ab"), {}, TypeError, "texts must be a list of str, got str."),
    ((None, [1], [1], [3]), {}, TypeError, "texts[0] must be a str, got int."),
    ((None, [1, 2], [1], ["a", "b"]), {}, ValueError, "xs, ys and texts have 2, 1 and 2 entries"),
    ((None, "ab", [1, 2], ["a", "b"]), {}, TypeError, "xs must be an array of real numbers"),
    ((None, [np.nan], [1], ["a"]), {}, ValueError, "xs contains 1 NaN or infinite value(s), must be finite."),
    ((None, [1], [1], ["a"]), {"fontsize": "6"}, TypeError, "fontsize must be a real number, got str"),
    ((None, [1], [1], ["a"]), {"order": [5]}, ValueError, "order[0] == 5, must be <= 0."),
    ((None, [1], [1], ["a"]), {"taken": "x"}, TypeError, "taken must be a list of display boxes or None, got str."),
    ((None, [1], [1], ["a"]), {"markers": [1, 2, 3]}, ValueError, "markers has 1 dimension(s) (shape (3,))"),
])
def test_place_labels_refuses(args, kwargs, exc, message):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        check(exc, message, plots.place_labels, *((ax,) + args[1:] if args[0] is None else args), **kwargs)
        assert len(ax.texts) == 0  # nothing written
    finally:
        plt.close(fig)


@pytest.mark.parametrize("value, exc, message", [
    ("10", TypeError, "value must be a real number, got str"), (float("nan"), ValueError, "value == nan"),
    (-5.0, ValueError, "value == -5.0, must be >= 0.")])
def test_bytes_label_refuses(value, exc, message):
    check(exc, message, plots.bytes_label, value)


def test_decade_ticks_refuses():
    check(TypeError, "axis must be a matplotlib Axis (ax.xaxis or ax.yaxis), got str.", plots.decade_ticks, "x")
