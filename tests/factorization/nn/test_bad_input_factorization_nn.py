"""Bad input to the PyTorch side of course_lib.factorization (layers, training runs, command lines): a TypeError or
ValueError naming the parameter and the rule, raised before anything is trained, copied or written."""

import numpy as np
import pytest
import torch
from torch import nn

import course_lib.data as course_data
from course_lib.data import Dataset
from course_lib.factorization import TruncatedSVD, flattened_timing, truncated_svd, tt_matrix, tt_references
from course_lib.factorization.nn import flattened_train, tt_train
from course_lib.factorization.nn.flattened import (
    FlattenedConv2d,
    flatten_conv2d,
    flatten_model,
    flattened_conv2d,
    set_flattened_mode,
)
from course_lib.factorization.nn.svd import factorize_linear, factorize_model, fine_tune_factorized, linear_latency
from course_lib.factorization.nn.tt import TTLinear, init_std, tt_linear_from, tt_model
from course_lib.models import build_model

NAN = float("nan")
RNG = np.random.default_rng(0)
torch.manual_seed(0)
LIN = nn.Linear(6, 5)
CONV = nn.Conv2d(3, 4, 3, padding=1)
MLP = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
CNN = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))
FLAT = FlattenedConv2d(3, 4, 3, padding=1)
X = torch.randn(2, 3, 6, 6)
LAT, VER, HOR = FLAT.lateral.detach(), FLAT.vertical.detach(), FLAT.horizontal.detach()
TM = tt_matrix(RNG.standard_normal((8, 8)), (2, 4), (2, 4), 2)
TTL = TTLinear((2, 4), (2, 4), 2, rng=0)
LABELS = RNG.integers(0, 10, 8)
MNIST = Dataset(RNG.integers(0, 255, (8, 28, 28), dtype=np.uint8), LABELS, tuple("0123456789"))
CIFAR = Dataset(RNG.integers(0, 255, (8, 32, 32, 3), dtype=np.uint8), LABELS, tuple("0123456789"))
WIDE = build_model("wide_mlp")


def check(call, exc, *fragments):
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def _nan_layer(layer):
    with torch.no_grad():
        layer.weight.view(-1)[0] = NAN
    return layer


CASES = {
    # SVD layers
    "factorize_linear svd str": (lambda: factorize_linear(LIN, 2, svd="exact"), TypeError,
                                 "svd must be None or the TruncatedSVD", "got str"),
    "factorize_linear svd other matrix": (lambda: factorize_linear(LIN, 2, svd=truncated_svd(np.ones((8, 8)), 3)),
                                          ValueError, "svd must be the TruncatedSVD of this layer's 5x6 weight"),
    "factorize_linear conv": (lambda: factorize_linear(CONV, 2), TypeError, "layer is a Conv2d"),
    "factorize_linear NaN weight": (lambda: factorize_linear(_nan_layer(nn.Linear(6, 5)), 2), ValueError,
                                    "layer.weight contains 1 NaN"),
    "factorize_linear oversamples": (lambda: factorize_linear(LIN, 2, oversamples=-1), ValueError,
                                     "oversamples == -1, must be >= 0"),
    "factorize_linear method": (lambda: factorize_linear(LIN, 2, method="fast"), ValueError, "method == 'fast'"),
    "factorize_linear energy percent": (lambda: factorize_linear(LIN, energy=97), ValueError, "energy == 97.0"),
    "factorize_model svds str": (lambda: factorize_model(MLP, {"1": 2}, svds="abc"), TypeError,
                                 "svds must be None or a dict"),
    "factorize_model svds item": (lambda: factorize_model(MLP, {"1": 2}, svds={"1": "x"}), TypeError,
                                  "svds['1']: svd must be None or the TruncatedSVD"),
    "factorize_model ranks list": (lambda: factorize_model(MLP, ["1"]), TypeError, "ranks must be a dict"),
    "fine_tune float images": (lambda: fine_tune_factorized(WIDE, MNIST.images.astype(float), LABELS), TypeError,
                               "images must be a uint8 array"),
    "fine_tune trainable str": (lambda: fine_tune_factorized(WIDE, MNIST.images, LABELS, trainable="fc1"), TypeError,
                                "trainable must be a list or tuple of names"),
    "linear_latency conv": (lambda: linear_latency(CONV, batch=1), TypeError, "layer is a Conv2d without an nn.Linear"),
    "linear_latency batch": (lambda: linear_latency(LIN, batch=0), ValueError, "batch == 0, must be >= 1"),
    "linear_latency repeats": (lambda: linear_latency(LIN, batch=1, repeats=0), ValueError, "repeats == 0"),
    # flattened layers
    "FlattenedConv2d 3-D kernel": (lambda: FlattenedConv2d(3, 8, (3, 3, 3)), ValueError,
                                   "kernel_size == (3, 3, 3) has 3 entries, must be an int or a pair"),
    "FlattenedConv2d kernel str": (lambda: FlattenedConv2d(3, 8, "3"), TypeError,
                                   "kernel_size must be an int or a pair"),
    "FlattenedConv2d stride 3": (lambda: FlattenedConv2d(3, 8, 3, stride=(1, 1, 1)), ValueError, "stride =="),
    "FlattenedConv2d padding same": (lambda: FlattenedConv2d(3, 8, 3, padding="same"), TypeError,
                                     "padding must be an int or a pair"),
    "FlattenedConv2d padding -1": (lambda: FlattenedConv2d(3, 8, 3, padding=-1), ValueError, "padding == -1"),
    "forward NumPy": (lambda: FLAT(X.numpy()), TypeError, "x must be a torch.Tensor, got ndarray"),
    "forward channels": (lambda: FLAT(torch.randn(2, 5, 6, 6)), ValueError, "x has shape (2, 5, 6, 6), must be (N, 3"),
    "forward float64": (lambda: FLAT(X.double()), ValueError, "x is torch.float64", "must be torch.float32"),
    "forward int": (lambda: FLAT(X.long()), TypeError, "x must hold floating-point numbers"),
    "forward too small": (lambda: FlattenedConv2d(3, 4, 5)(torch.randn(1, 3, 2, 2)), ValueError,
                          "smaller than the filter's 5"),
    "flattened_conv2d NumPy x": (lambda: flattened_conv2d(X.numpy(), LAT, VER, HOR), TypeError, "x must be a torch"),
    "flattened_conv2d NumPy lateral": (lambda: flattened_conv2d(X, LAT.numpy(), VER, HOR), TypeError,
                                       "lateral must be a torch.Tensor"),
    "flattened_conv2d lateral shape": (lambda: flattened_conv2d(X, LAT[:, :2], VER, HOR), ValueError,
                                       "lateral has shape (4, 2, 1, 1), must be (4, 3, 1, 1)"),
    "flattened_conv2d vertical shape": (lambda: flattened_conv2d(X, LAT, VER[:2], HOR), ValueError,
                                        "vertical has shape (2, 1, 3, 1)"),
    "flattened_conv2d bias": (lambda: flattened_conv2d(X, LAT, VER, HOR, torch.zeros(7)), ValueError,
                              "bias has 7 entries, must have 4"),
    "flattened_conv2d lateral_bias": (lambda: flattened_conv2d(X, LAT, VER, HOR, lateral_bias=torch.zeros(7)),
                                      ValueError, "lateral_bias has 7 entries"),
    "flattened_conv2d stride 0": (lambda: flattened_conv2d(X, LAT, VER, HOR, stride=0), ValueError, "stride == 0"),
    "flattened_conv2d dtypes": (lambda: flattened_conv2d(X.double(), LAT, VER, HOR), ValueError,
                                "lateral is torch.float32", "must be the same"),
    "flatten_conv2d tolerance": (lambda: flatten_conv2d(CONV, tolerance=1e-3), TypeError,
                                 "unexpected keyword argument 'tolerance'", "max_iter, tol, rng"),
    "flatten_conv2d tol 0": (lambda: flatten_conv2d(CONV, tol=0), ValueError, "tol == 0.0, must be > 0"),
    "flatten_conv2d name": (lambda: flatten_conv2d(CONV, name=3), TypeError, "name must be a str"),
    "flatten_conv2d linear": (lambda: flatten_conv2d(LIN), TypeError, "layer must be an nn.Conv2d"),
    "flatten_model str": (lambda: flatten_model(CNN, "0"), TypeError, "ranks must be a list or tuple of names"),
    "flatten_model ReLU": (lambda: flatten_model(CNN, ["1"]), TypeError, "must be an nn.Conv2d"),
    "set_flattened_mode": (lambda: set_flattened_mode(CNN, "2d"), ValueError, "mode == '2d'"),
    # TT layers
    "TTLinear NumPy x": (lambda: TTL(RNG.standard_normal((3, 8))), TypeError, "x must be a torch.Tensor"),
    "TTLinear float64 x": (lambda: TTL(torch.randn(3, 8, dtype=torch.float64)), ValueError, "x is torch.float64"),
    "TTLinear modes int": (lambda: TTLinear(8, (2, 4), 2), TypeError, "in_modes must be a list or tuple of ints"),
    "from_matrix cores": (lambda: TTLinear.from_matrix(TM.cores), TypeError, "matrix must be a TTMatrix"),
    "from_matrix bias str": (lambda: TTLinear.from_matrix(TM, "abc"), TypeError, "bias must be an array of real"),
    "from_matrix bias NaN": (lambda: TTLinear.from_matrix(TM, torch.full((8,), NAN)), ValueError, "bias contains"),
    "from_matrix bias size": (lambda: TTLinear.from_matrix(TM, torch.zeros(3)), ValueError, "bias has 3 entries"),
    "tt_linear_from eps percent": (lambda: tt_linear_from(nn.Linear(8, 8), (2, 4), (2, 4), eps=5), ValueError,
                                   "eps == 5.0"),
    "tt_model seed str": (lambda: tt_model(nn.Sequential(nn.Linear(8, 8)), {"0": ((2, 4), (2, 4))}, 2,
                                           decompose=False, seed="a"), TypeError, "seed must be an int"),
    "tt_model rank 0 from scratch": (lambda: tt_model(nn.Sequential(nn.Linear(8, 8)), {"0": ((2, 4), (2, 4))}, 0,
                                                      decompose=False), ValueError, "rank == 0, must be >= 1"),
    "factorize_model oversamples": (lambda: factorize_model(MLP, {"1": 2}, oversamples=-1), ValueError,
                                    "oversamples == -1"),
    "init_std init": (lambda: init_std(784, 10, "xavier"), ValueError, "init == 'xavier'"),
    # benchmarks
    "vgg_layer_timing dense shape": (lambda: tt_references.vgg_layer_timing(1, dense=torch.ones(3, 3)), ValueError,
                                     "dense has shape (3, 3), must be (4096, 25088)"),
    "vgg_layer_timing dense str": (lambda: tt_references.vgg_layer_timing(1, dense="abc"), TypeError, "dense must be"),
    "conv_timing even kernel": (lambda: flattened_timing.conv_timing(4, 2, 4, 1), ValueError, "kernel == 2"),
    # the TT training run (notebook 08)
    "fit_adam NumPy x": (lambda: tt_train.fit_adam(WIDE, np.zeros((8, 1, 28, 28), np.float32), LABELS, steps=1),
                         TypeError, "x must be a torch.Tensor"),
    "fit_adam x shape": (lambda: tt_train.fit_adam(WIDE, torch.zeros(8, 3, 32, 32), LABELS, steps=1), ValueError,
                         "x has shape (8, 3, 32, 32), must be (N, 1, 28, 28)"),
    "fit_adam labels length": (lambda: tt_train.fit_adam(WIDE, torch.zeros(8, 1, 28, 28), LABELS[:3], steps=1),
                               ValueError, "labels differ in length"),
    "fit_adam seed": (lambda: tt_train.fit_adam(WIDE, torch.zeros(8, 1, 28, 28), LABELS, steps=1, seed="a"),
                      TypeError, "seed must be an int"),
    "fit_sgd momentum": (lambda: tt_train.fit_sgd(WIDE, torch.zeros(8, 1, 28, 28), LABELS, steps=1, momentum=-1.0),
                         ValueError, "momentum == -1.0, must be in [0, 1)"),
    "fit_sgd float labels": (lambda: tt_train.fit_sgd(WIDE, torch.zeros(8, 1, 28, 28), LABELS * 1.0, steps=1),
                             TypeError, "labels must be an array of integer class indices"),
    "t3f_network seed": (lambda: tt_train.t3f_network("a"), TypeError, "seed must be an int"),
    "tuned_name rank": (lambda: tt_train.tuned_name("a"), TypeError, "rank must be an int"),
    "train_from_scratch 'train'": (lambda: tt_train.train_from_scratch(WIDE, "train", MNIST, steps=1), TypeError,
                                   "train must be a Dataset", "got str ('train')"),
    "train_from_scratch CIFAR": (lambda: tt_train.train_from_scratch(WIDE, CIFAR, MNIST, steps=1), ValueError,
                                 "train.images have 3072 features", "wide_mlp expects 784"),
    "train_from_scratch reference": (lambda: tt_train.train_from_scratch(build_model("cifar_vgg"), MNIST, MNIST,
                                                                         steps=1), ValueError,
                                     "reference cannot read these images"),
    "train_from_scratch ranks int": (lambda: tt_train.train_from_scratch(WIDE, MNIST, MNIST, ranks=4, steps=1),
                                     TypeError, "ranks must be a list or tuple of ints"),
    "train_from_scratch seed float": (lambda: tt_train.train_from_scratch(WIDE, MNIST, MNIST, steps=1, seed=0.5),
                                      TypeError, "seed must be an int"),
    "train_from_scratch progress": (lambda: tt_train.train_from_scratch(WIDE, MNIST, MNIST, steps=1, progress="x"),
                                    TypeError, "progress must be True or False"),
    "init_scale_runs test str": (lambda: tt_train.init_scale_runs(MNIST, "test", steps=1), TypeError,
                                 "test must be a Dataset"),
    "init_scale_runs factor": (lambda: tt_train.init_scale_runs(MNIST, MNIST, steps=1, factor=0), ValueError,
                               "factor == 0.0"),
    "fine_tune_from_tt_svd CIFAR": (lambda: tt_train.fine_tune_from_tt_svd(WIDE, CIFAR, MNIST, steps=1), ValueError,
                                    "train.images have 3072 features"),
    "fine_tune_from_tt_svd lr": (lambda: tt_train.fine_tune_from_tt_svd(WIDE, MNIST, MNIST, steps=1, lr=0),
                                 ValueError, "lr == 0.0"),
    "differences list": (lambda: tt_train.differences([1, 2], LABELS), TypeError, "predictions must be a dict"),
    "differences pairs str": (lambda: tt_train.differences({"a": LABELS}, LABELS, pairs="ab"), TypeError,
                              "pairs must be None or a list of (a, b) pairs"),
    "difference_verdicts str": (lambda: tt_train.difference_verdicts("ab"), TypeError, "diffs must be the list"),
    "difference_verdicts key": (lambda: tt_train.difference_verdicts([{"a": "x"}]), ValueError,
                                "diffs[0] has no 'b', 'difference', 'two_se'"),
    "result_data scratch": (lambda: tt_train.result_data([], {}, {}, MNIST, steps=1, train_images=8), TypeError,
                            "scratch must be a dict"),
    "result_data init keys": (lambda: tt_train.result_data({"predictions": {}, "rows": []}, {"rows": []},
                                                           {"predictions": {}, "row": {}}, MNIST, steps=1,
                                                           train_images=8), ValueError,
                              "init has no 'predictions', 'untrained'"),
    "result_data steps": (lambda: tt_train.result_data({"predictions": {}, "rows": []},
                                                       {"predictions": {}, "rows": [], "untrained": 0.1},
                                                       {"predictions": {}, "row": {}}, MNIST, steps=-1,
                                                       train_images=8), ValueError, "steps == -1"),
    # the flattened training run (notebook 07)
    "compare_training 'train'": (lambda: flattened_train.compare_training("train", CIFAR, finetune_steps=1,
                                                                          scratch_steps=1), TypeError,
                                 "train must be a Dataset"),
    "compare_training MNIST": (lambda: flattened_train.compare_training(MNIST, CIFAR, finetune_steps=1,
                                                                        scratch_steps=1), ValueError,
                               "train.images have 784 features", "cifar_vgg expects 3072"),
    "compare_training test MNIST": (lambda: flattened_train.compare_training(CIFAR, MNIST, finetune_steps=1,
                                                                             scratch_steps=1), ValueError,
                                    "test.images have 784 features"),
    "compare_training seed float": (lambda: flattened_train.compare_training(CIFAR, CIFAR, finetune_steps=1,
                                                                             scratch_steps=1, seed=0.5), TypeError,
                                    "seed must be an int"),
    "compare_training layers str": (lambda: flattened_train.compare_training(CIFAR, CIFAR, layers="features.4",
                                                                             finetune_steps=1, scratch_steps=1),
                                    TypeError, "layers must be a list or tuple of names"),
    "compare_training layer not conv": (lambda: flattened_train.compare_training(CIFAR, CIFAR, layers=["features.1"],
                                                                                 finetune_steps=1, scratch_steps=1),
                                        ValueError, "layers[0] == 'features.1', must be one of"),
    "compare_training labels": (lambda: flattened_train.compare_training(CIFAR._replace(labels=LABELS + 10), CIFAR,
                                                                         finetune_steps=1, scratch_steps=1),
                                ValueError, "train.labels contains class", "must be < 10"),
}


@pytest.fixture(autouse=True)
def _nothing_is_loaded_or_trained(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a bad call reached loading or training")

    for module, name in ((flattened_train, "load_pretrained"), (flattened_train, "adam_steps"),
                         (flattened_train, "load_cifar10"), (tt_train, "adam_steps"), (tt_train, "long_run"),
                         (course_data, "load_mnist")):
        monkeypatch.setattr(module, name, refuse)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_parameter_and_the_rule(case):
    call, exc, *fragments = CASES[case]
    check(call, exc, *fragments)


def test_a_failed_call_leaves_the_model_unchanged():
    before = {k: v.clone() for k, v in WIDE.state_dict().items()}
    check(lambda: tt_train.fit_adam(WIDE, torch.zeros(8, 1, 28, 28), LABELS[:3], steps=1), ValueError, "labels")
    check(lambda: flatten_model(CNN, ["0"], tolerance=1e-3), TypeError, "tolerance")
    assert all(torch.equal(before[k], v) for k, v in WIDE.state_dict().items())
    assert isinstance(CNN[0], nn.Conv2d)


@pytest.mark.parametrize("argv,message", [
    (["--finetune-epochs", "-1"], "--finetune-epochs == -1, must be >= 0"),
    (["--scratch-epochs", "-2"], "--scratch-epochs == -2, must be >= 0"),
    (["--seed", "-1"], "--seed == -1, must be >= 0"),
    (["--threads", "0"], "--threads == 0, must be >= 1"),
    (["--out", "{tmp}/flat.json"], "must name a .json file whose stem is a result name"),
    (["--out", "{tmp}"], "must name a .json file"),
    (["--out", "{tmp}/afile/07_flattened_full.json"], "is a file, must be a folder"),
])
def test_flattened_command_line_refuses_in_one_line(argv, message, tmp_path, capsys):
    (tmp_path / "afile").write_text("keep")
    argv = [a.format(tmp=tmp_path) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "07_flattened_full.json")]
    with pytest.raises(SystemExit) as info:
        flattened_train.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"] and (tmp_path / "afile").read_text() == "keep"


@pytest.mark.parametrize("argv,message", [
    (["--epochs", "0"], "--epochs == 0, must be >= 1"),
    (["--epochs", "-1"], "--epochs == -1, must be >= 1"),
    (["--seed", "-1"], "--seed == -1, must be >= 0"),
    (["--out", "{tmp}/afile"], "must name a folder"),
    (["--out", ""], "must name a folder"),
])
def test_tt_command_line_refuses_in_one_line(argv, message, tmp_path, capsys):
    (tmp_path / "afile").write_text("keep")
    with pytest.raises(SystemExit) as info:
        tt_train.main([a.format(tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and "Traceback" not in err
    assert (tmp_path / "afile").read_text() == "keep"


def test_valid_calls_still_work_after_the_checks():
    assert FLAT(X[0]).shape == (4, 6, 6)  # one image, as nn.Conv2d takes it
    assert torch.allclose(flattened_conv2d(X, LAT, VER, HOR, padding=(1, 1)), FLAT(X), atol=1e-6)
    svd = truncated_svd(LIN.weight.detach().numpy(), 3)
    assert isinstance(svd, TruncatedSVD) and factorize_linear(LIN, 2, svd=svd)[0].out_features == 2
    assert flatten_conv2d(CONV, max_iter=5, tol=1e-2).rank == 1
