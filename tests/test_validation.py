"""Bad input, as a new user gives it, on the torch side and around it: the type and the exact message."""

import numpy as np
import pytest
import torch
from torch import nn

import course_lib as cl
from course_lib import _validation as v
from course_lib.pruning import nn as prune_nn
from course_lib.quantization import QTensor
from course_lib.quantization import nn as qnn

from helpers import raises

MNIST_IMAGES = np.zeros((4, 28, 28), dtype=np.uint8)
CIFAR_IMAGES = np.zeros((4, 32, 32, 3), dtype=np.uint8)
LABELS = np.array([0, 1, 2, 3])


@pytest.fixture(scope="module")
def lenet():
    torch.manual_seed(0)
    return cl.build_model("lenet300")


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    return cl.build_model("cifar_vgg")


# --------------------------------------------------------------------------- the shared helpers

@pytest.mark.parametrize("call,exc,message", [
    (lambda: v.check_int("n", "3"), TypeError, "n must be an int, got str ('3')."),
    (lambda: v.check_int("n", True), TypeError, "n must be an int, got bool (True)."),
    (lambda: v.check_int("n", 0, minimum=1), ValueError, "n == 0, must be >= 1."),
    (lambda: v.check_float("p", 0.0, low=0, high=100, low_open=True), ValueError, "p == 0.0, must be in (0, 100]."),
    (lambda: v.check_float("p", 1.0, low=0, high=1, high_open=True), ValueError, "p == 1.0, must be in [0, 1)."),
    (lambda: v.check_float("p", float("nan")), ValueError, "p == nan, must be finite."),
    (lambda: v.check_float("p", "0.5"), TypeError, "p must be a real number, got str ('0.5')."),
    (lambda: v.check_fraction("s", 1.5), ValueError, "s == 1.5, must be in [0, 1]."),
    (lambda: v.check_bool("flag", "False"), TypeError, "flag must be True or False, got str ('False')."),
    (lambda: v.check_bool("flag", 1), TypeError, "flag must be True or False, got int (1)."),
    (lambda: v.check_names("datasets", "mnist"), TypeError,
     "datasets must be a list or tuple of names, got str ('mnist') (write ['mnist'] for one name)."),
    (lambda: v.check_names("datasets", ["mnist", "svhn"], allowed=("mnist", "cifar10")), ValueError,
     "datasets[1] == 'svhn', must be one of 'mnist', 'cifar10'."),
    (lambda: v.check_float_array("x", [[1.0, 2.0], [3.0]]), ValueError,
     "x: the value is a ragged nested sequence (rows of different lengths), must be rectangular"),
    (lambda: v.check_random_state(-1), ValueError, "rng == -1, must be >= 0 (a seed)."),
    (lambda: v.check_random_state(1.5), TypeError,
     "rng must be None, an int seed or a numpy.random.Generator, got float (1.5)."),
    (lambda: v.check_path("path", 3), TypeError, "path must be a str or a path, got int (3)."),
    (lambda: v.check_path("path", "/no/such/dir/file.pt", parent_must_exist=True), ValueError,
     "path == '/no/such/dir/file.pt': the folder '/no/such/dir' does not exist, create it first."),
    (lambda: v.check_path("path", "/no/such/file.pt", must_exist=True), ValueError,
     "path == '/no/such/file.pt' is missing, must be an existing file."),
    (lambda: v.check_model(lambda x: x), TypeError, "model must be a torch.nn.Module, got function."),
])
def test_shared_helpers(call, exc, message):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(message), str(info.value)


# --------------------------------------------------------------------------- a model given the other data set

def test_the_other_data_set_is_refused(lenet, cnn):
    raises(ValueError, "images have 3072 features (3x32x32), lenet300 expects 784 (1x28x28): pass the images of "
           "its data set (mnist).", cl.accuracy, lenet, CIFAR_IMAGES, LABELS)
    raises(ValueError, "images have 784 features (1x28x28), cifar_vgg expects 3072 (3x32x32): pass the images of "
           "its data set (cifar10).", cl.predict, cnn, MNIST_IMAGES)
    raises(ValueError, "images have 3072 features (3x32x32), lenet300 expects 784 (1x28x28): pass the images of "
           "its data set (mnist).", qnn.calibrate, lenet, CIFAR_IMAGES)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    raises(ValueError, "images have 3072 features (3x32x32), Sequential expects 784.", cl.predict, mlp, CIFAR_IMAGES)
    raises(TypeError, "images must be a uint8 array as returned by course_lib.data, got dtype float64.",
           cl.predict, lenet, MNIST_IMAGES.astype(float))


# --------------------------------------------------------------------------- labels

@pytest.mark.parametrize("labels,exc,message", [
    (LABELS[:, None], ValueError, "labels has shape (4, 1), must be 1-D (N,) class indices (a column: pass "
                                  "labels.ravel())."),
    (np.eye(10, dtype=np.int64)[LABELS], ValueError, "labels has shape (4, 10), must be 1-D (N,) class indices "
                                                     "(one-hot? pass labels.argmax(1))."),
    (LABELS[:3], ValueError, "images and labels differ in length: 4 != 3, must be equal."),
    (np.array([0, 1, 2, 11]), ValueError, "labels contains class 11, must be < 10 (the model has 10 outputs)."),
    (np.array([0, 1, 2, -1]), ValueError, "labels contains class -1, must be >= 0."),
    (LABELS.astype(float), TypeError, "labels must be an array of integer class indices, got dtype float64 and "
                                      "shape (4,)."),
])
def test_bad_labels_everywhere(lenet, labels, exc, message):
    raises(exc, message, cl.accuracy, lenet, MNIST_IMAGES, labels)
    masks = prune_nn.masks_for(lenet, 0.5)
    raises(exc, message, prune_nn.fine_tune, lenet, masks, MNIST_IMAGES, labels, max_steps=1)
    qat = qnn.prepare_qat(lenet, ranges=None)
    raises(exc, message, qnn.train_qat, qat, MNIST_IMAGES, labels, max_steps=1)


# --------------------------------------------------------------------------- low-level quantization pieces

@pytest.mark.parametrize("kwargs,exc,message", [
    ({"scale": -0.1}, ValueError, "scale holds 1 value(s) <= 0, must be > 0."),
    ({"scale": float("nan")}, ValueError, "scale contains 1 NaN or infinite value(s), must be finite."),
    ({"scale": "0.1"}, TypeError, "scale must be an array of real numbers, got dtype <U3."),
    ({"zero_point": 200}, ValueError, "zero_point == 200, must be within [quant_min, quant_max] == [-128, 127]."),
    ({"zero_point": 0.5}, TypeError, "zero_point must be an int or integers, got 0.5."),
    ({"scale": [0.1, 0.2], "axis": 0}, ValueError,
     "scale has 2 value(s), must have 3: one per channel along axis 0 of x with shape (3, 4)."),
    ({"scale": [0.1, 0.2, 0.3]}, ValueError, "scale has 3 and zero_point 1 value(s): per-channel values need axis."),
])
def test_fake_quantize_ste_checks_its_parameters(kwargs, exc, message):
    args = {"scale": 0.1, "zero_point": 0, "axis": None} | kwargs
    raises(exc, message, qnn.fake_quantize_ste, torch.zeros(3, 4), args["scale"], args["zero_point"], -128, 127,
           axis=args["axis"])


def test_qtensor_and_layers_check_what_they_hold():
    codes = np.zeros((2, 3), dtype=np.int8)
    raises(ValueError, "bits == 9, must be <= 8.", QTensor, codes, 0.1, 0, 9, None)
    raises(ValueError, "q holds codes in [0, 100], must be within [-8, 7] for bits == 4.",
           QTensor, np.array([0, 100], dtype=np.int8), 0.1, 0, 4, None)
    raises(TypeError, "q must be an int8 array, got dtype int64.", QTensor, codes.astype(np.int64), 0.1, 0, 8, None)
    raises(TypeError, "codes must be an int8 tensor, got torch.int32.", qnn.dequantize_weight,
           torch.zeros(2, 2, dtype=torch.int32), torch.tensor(1.0))
    raises(ValueError, "low == 1.0, must be <= high == 0.0.", qnn.activation_qparams, 1.0, 0.0)
    raises(TypeError, "layer must be an nn.Linear or nn.Conv2d (a module with weights), got ReLU.",
           qnn.DynamicQuantLayer, nn.ReLU())
    raises(ValueError, "momentum == 1.5, must be in (0, 1].", qnn.prepare_qat, cl.build_model("lenet300"),
           momentum=1.5)


# --------------------------------------------------------------------------- files

def test_paths_and_files(tmp_path, lenet):
    masks = prune_nn.masks_for(lenet, 0.5)
    raises(ValueError, f"path == '{tmp_path}/missing/x.pt': the folder '{tmp_path}/missing' does not exist, "
           "create it first.", prune_nn.export_pruned, lenet, masks, tmp_path / "missing" / "x.pt")
    raises(ValueError, f"path == '{tmp_path}/none.pt' is missing, must be an existing file.",
           prune_nn.load_pruned, tmp_path / "none.pt", "lenet300")
    junk = tmp_path / "notes.pt"
    junk.write_text("not a checkpoint")
    raises(ValueError, f"{junk} is not a checkpoint written by export_pruned (torch.load failed: "
           "UnpicklingError), pass the file export_pruned wrote.", prune_nn.load_pruned, junk, "lenet300")
    raises(TypeError, "checkpoint_dir must be a str or a path, got int (5).", cl.load_pretrained, "lenet300",
           checkpoint_dir=5)


def test_strings_where_names_or_bools_are_expected():
    raises(TypeError, "datasets must be a list or tuple of names, got str ('mnist') (write ['mnist'] for one name).",
           cl.setup, datasets="mnist")
    raises(TypeError, "nonzero must be True or False, got str ('yes').", cl.count_parameters, np.ones(3),
           nonzero="yes")
    raises(TypeError, "per_channel must be True or False, got str ('no').", qnn.ptq_dynamic,
           cl.build_model("lenet300"), per_channel="no")
