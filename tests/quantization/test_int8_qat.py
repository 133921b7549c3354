"""The int8 runtime built from a QAT model: its weights, its ranges, its predictions; given ranges; bad input."""

import copy
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.quantization.nn import calibrate, prepare_qat, train_qat
from course_lib.quantization.nn.int8_qat import int8_from_qat, qat_ranges
from course_lib.quantization.nn.int8_runtime import build_int8_model
from course_lib.quantization.nn.kernels import available_int8_kernels
from course_lib.quantization.nn.params import act_qparams, weight_codes

from helpers import fresh_model, raises, state_copy

LOADERS = {"lenet300": cl.load_mnist, "cifar_vgg": cl.load_cifar10}
STEPS = {"lenet300": 30, "cifar_vgg": 6}
#: an engine that keeps the QAT's 8-bit activation grid (x86/fbgemm default to 7 bits)
EIGHT_BIT_ENGINE = next((e for e in ("qnnpack", "onednn") if e in available_int8_kernels()), None)


@pytest.fixture(scope="module")
def trained():
    """name -> (float model, QAT model, calibration images, test set); a short QAT with fast-moving ranges."""
    from course_lib.data import REPO_DATA_DIR

    root = Path(os.environ.get("COURSE_DATA_DIR") or REPO_DATA_DIR)
    if not ((root / "MNIST" / "raw").is_dir() and (root / "cifar-10-batches-py").is_dir()):
        pytest.skip("MNIST / CIFAR-10 not present: set COURSE_DATA_DIR or run `make data`")
    out = {}
    with cl.fixed_threads(1):
        for name, load in LOADERS.items():
            model, train = cl.load_pretrained(name), load("train", limit=2000)
            ranges = calibrate(model, train.images[:500], method="percentile")
            q = train_qat(prepare_qat(model, bits=8, ranges=ranges, momentum=0.2), train.images, train.labels,
                          max_steps=STEPS[name], rng=0)
            out[name] = (model, q, train.images[:500], load("test", limit=1000), ranges)
    return out


def _within_codes(apart) -> bool:
    """90 % of the logits within 1 step of the logits' grid, 99 % within 2."""
    return np.quantile(apart, 0.9) <= 1 and np.quantile(apart, 0.99) <= 2


def _codes_apart(qat_logits, int8_model, images):
    """How far the int8 model's logits are from the QAT model's, in steps of the logits' grid."""
    return (qat_logits - int8_model(images)).abs().numpy() / int8_model.spec["output"]["scale"]


@pytest.mark.parametrize("name", list(LOADERS))
def test_int8_model_runs_the_qat_weights_and_ranges(trained, name, one_thread):
    model, q, cal, _, calibrated = trained[name]
    int8_model = int8_from_qat(q, cal)
    ranges = qat_ranges(q)
    assert int8_model.spec["ranges"] == ranges
    # the QAT moved its ranges away from the calibration it started from: they are its own
    assert any(abs(ranges[k][1] - calibrated[k][1]) > 1e-3 * abs(calibrated[k][1]) for k in ranges)
    layers = [s for s in int8_model.spec["steps"] if s["op"] in ("linear", "conv")]
    qat_layers = dict(q.named_modules())
    bits = int8_model.spec["grid_bits"]
    for s in layers:
        layer = qat_layers[s["name"]]
        codes, scale = weight_codes(layer.weight, 8, True)
        assert np.array_equal(s["weight"], codes.numpy())
        assert np.allclose(s["weight_scale"], scale.double().numpy(), rtol=0, atol=0)
        s_in, z_in = act_qparams(layer.act_min, layer.act_max, bits)
        assert s["in_scale"] == float(s_in) and s["in_zero_point"] == int(z_in)


@pytest.mark.skipif(EIGHT_BIT_ENGINE is None, reason="no quantized engine with 8-bit activations in this build")
@pytest.mark.parametrize("name", list(LOADERS))
def test_on_an_8_bit_engine_it_predicts_what_the_qat_model_predicts(trained, name, one_thread):
    """Same 8-bit grids as the fake-quantized QAT model: measured (qnnpack, AVX512) lenet300 / cifar_vgg 100 % of
    the predictions equal; logits apart by 0.45 / 0.57 steps of their grid (90th percentile), 0.50 / 0.97 (99th)."""
    _, q, cal, test, _ = trained[name]
    int8_model = int8_from_qat(q, cal, engine=EIGHT_BIT_ENGINE)
    assert int8_model.spec["grid_bits"] == 8
    with torch.inference_mode():
        qat_logits = q(cl.to_tensor(test.images))
    assert np.mean(int8_model.predict(test.images) == qat_logits.argmax(1).numpy()) >= 0.99
    assert _within_codes(_codes_apart(qat_logits, int8_model, test.images))


@pytest.mark.parametrize("name", list(LOADERS))
def test_on_the_default_engine_accuracy_stays_with_the_qat_model(trained, name, one_thread):
    """x86: 7-bit grids over the QAT's ranges. Measured (AVX512) 99.8 % / 99.2 % of the predictions equal,
    accuracy 97.9 -> 97.9 % / 86.7 -> 86.6 %."""
    _, q, cal, test, _ = trained[name]
    int8_model = int8_from_qat(q, cal)
    with torch.inference_mode():
        qat_pred = q(cl.to_tensor(test.images)).argmax(1).numpy()
    int8_pred = int8_model.predict(test.images)
    assert np.mean(int8_pred == qat_pred) >= 0.98
    assert abs(np.mean(int8_pred == test.labels) - np.mean(qat_pred == test.labels)) <= 0.01


def test_a_runtime_with_other_ranges_fails_the_check(trained, one_thread):
    """The margins above catch a runtime that does not use the QAT's ranges: fc2's input range four times narrower
    (clipped; measured: 90th percentile 20 steps apart, 99th 42)."""
    if EIGHT_BIT_ENGINE is None:
        pytest.skip("no quantized engine with 8-bit activations in this build")
    _, q, cal, test, _ = trained["lenet300"]
    narrower = copy.deepcopy(q)
    narrower.fc2.act_max.mul_(0.25)
    bad = int8_from_qat(narrower, cal, engine=EIGHT_BIT_ENGINE)
    with torch.inference_mode():
        qat_logits = q(cl.to_tensor(test.images))
    assert not _within_codes(_codes_apart(qat_logits, bad, test.images))


def test_build_int8_model_uses_given_ranges(trained, one_thread):
    model, _, cal, test, calibrated = trained["lenet300"]
    given = {k: (lo, 1.5 * hi) for k, (lo, hi) in calibrated.items()}
    m = build_int8_model(model, cal, ranges=given, output_range=(-20.0, 25.0), per_channel=False)
    assert m.spec["ranges"] == given and m.spec["output_range"] == (-20.0, 25.0)
    for s in m.spec["steps"]:
        if s["op"] == "linear":
            assert len(set(s["weight_scale"].tolist())) == 1   # one scale per layer, repeated per channel
    assert np.mean(m.predict(test.images) == test.labels) >= 0.95


def test_bad_input_is_refused(trained):
    model, q, cal, _, ranges = trained["lenet300"]
    before = state_copy(q)
    raises(TypeError, "qat_model must be a torch.nn.Module, got str.", int8_from_qat, "qat", cal)
    raises(TypeError, "qat_model must be a LeNet300100 or CifarVGG prepared with prepare_qat, got LeNet5.",
           int8_from_qat, fresh_model("lenet5"), cal)
    raises(ValueError, "qat_model must have every Linear / Conv2d replaced by a QATLayer (prepare_qat), found 0 "
           "QATLayer(s) and 3 plain layer(s).", int8_from_qat, model, cal)
    raises(ValueError, "qat_model.fc1 was trained at 4 bits, must be 8: the int8 runtime runs 8-bit codes.",
           int8_from_qat, prepare_qat(model, bits=4, ranges=ranges), cal)
    raises(ValueError, "qat_model.fc1 has not seen any input range yet: train it with train_qat or pass ranges "
           "to prepare_qat.", int8_from_qat, prepare_qat(model), cal)
    raises(ValueError, "method == 'mean', must be one of 'minmax', 'maxabs', 'percentile'.", int8_from_qat, q, cal,
           method="mean")
    raises(ValueError, "batch_size == 0, must be >= 1.", int8_from_qat, q, cal, batch_size=0)
    with pytest.raises(TypeError, match="^images must be a uint8 array"):
        int8_from_qat(q, cal.astype(np.float32))
    raises(ValueError, "ranges is missing layer(s) ['fc3'], must have one (low, high) pair per quantized layer: "
           "'fc1', 'fc2', 'fc3'.", build_int8_model, model, cal, ranges={k: ranges[k] for k in ("fc1", "fc2")})
    raises(ValueError, "output_range == (3.0, 1.0), must be a pair (low, high) of finite numbers with low <= high.",
           build_int8_model, model, cal, output_range=(3.0, 1.0))
    raises(TypeError, "per_channel must be True or False, got int (1).", build_int8_model, model, cal, per_channel=1)
    assert all(torch.equal(a, b) for a, b in zip(state_copy(q).values(), before.values()))
