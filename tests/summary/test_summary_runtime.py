"""The summary's channel-pruned and int8-runtime configurations: bytes counted independently, fewer MACs, bad input."""

import numpy as np
import pytest
import torch
from summary_helpers import EVIDENCE, runtime_bytes_by_hand, vgg_macs

import course_lib as cl
from course_lib.quantization import nn as qt
from course_lib.summary import Timings, claims_table
from course_lib.summary import nn as snn
from course_lib.summary.claims import OPTIONAL_KEYS
from course_lib.summary.nn.configs import Config
from course_lib.summary.nn.runtime import Int8Runtime, channel_configs, check_keeps, int8_runtime_bytes, runtime_config

from helpers import raises


@pytest.fixture(scope="module")
def cnn():
    return cl.load_pretrained("cifar_vgg")


@pytest.fixture(scope="module")
def cifar():
    return cl.load_cifar10("train", limit=256), cl.load_cifar10("test", limit=200)


def test_lenet_runtime_bytes_and_predictions():
    lenet = cl.load_pretrained("lenet300")
    train, test = cl.load_mnist("train", limit=300), cl.load_mnist("test", limit=300)
    with cl.fixed_threads(1):
        c = runtime_config(lenet, train.images)
    assert (c.name, c.family, c.needs, c.macs) == ("int8 full integer (runtime)", "quantization", "sample", None)
    # 266,200 codes + 410 scales and 410 int32 biases + 3 output grids + the input grid + mean and std
    assert c.bytes == 266_200 + 410 * 4 + 410 * 4 + 3 * 8 + 8 + 2 * 4 == 269_520 == runtime_bytes_by_hand(lenet)
    assert int8_runtime_bytes(c.model) == int8_runtime_bytes(c.model.int8) == c.bytes
    assert isinstance(c.model, Int8Runtime) and c.model.state_dict() == {}
    pred = cl.predict(c.model, test.images)
    assert np.array_equal(pred, c.model.int8.predict(test.images))  # the module is the int8 model, nothing else
    assert np.mean(pred == cl.predict(lenet, test.images)) > 0.97


def test_channel_configs_have_fewer_macs_and_bytes(cnn, cifar):
    train, test = cifar
    with cl.fixed_threads(1):
        configs = {c.name: c for c in channel_configs(cnn, train, steps=2, keeps=(0.75, 0.5), sample_size=100)}
    assert list(configs) == ["channel-pruned 75%", "channel-pruned 50%", "channel-pruned 50% + int8 (runtime)"]
    full = vgg_macs(32, 64, 128)
    assert cl.pruning.nn.count_macs(cnn)["total"] == full == 30_512_128
    three_q, half = configs["channel-pruned 75%"], configs["channel-pruned 50%"]
    assert three_q.macs == vgg_macs(24, 48, 96) and half.macs == vgg_macs(16, 32, 64)
    assert half.macs < three_q.macs < full
    assert qt.model_bytes(cnn) > three_q.bytes > half.bytes == qt.model_bytes(half.model)
    assert [m.out_channels for m in half.model.modules() if isinstance(m, torch.nn.Conv2d)] == [16, 32, 32, 64, 64]
    assert (three_q.family, three_q.needs, half.family, half.needs) == ("pruning", "labels", "pruning", "labels")
    both = configs["channel-pruned 50% + int8 (runtime)"]
    assert (both.family, both.needs, both.macs) == ("combination", "labels", half.macs)
    assert isinstance(both.model, Int8Runtime)
    assert both.bytes == runtime_bytes_by_hand(half.model) < half.bytes / 3.5
    # the int8 runtime runs the pruned CNN: it predicts what the float model does on most images
    agree = np.mean(cl.predict(both.model, test.images) == cl.predict(half.model, test.images))
    assert agree > 0.9


def test_claims_take_the_cnn_and_runtime_evidence():
    extra = {"cnn_keep": 0.5, "cnn_bytes_ratio": 1.8, "cnn_macs_ratio": 3.7, "cnn_speedup_1": Timings(1.7, 0.75),
             "cnn_speedup_100": Timings((89.0, 1.0), (34.0, 1.0)), "cnn_acc_drop": 15.5}
    slow_mlp = {**EVIDENCE["neurons"], "speedup_1": 1.0, "speedup_100": 1.0}
    assert claims_table({**EVIDENCE, "neurons": slow_mlp})[0]["verdict"] == "partly"
    row = claims_table({**EVIDENCE, "neurons": {**slow_mlp, **extra}})[0]
    assert row["verdict"] == "supported"  # the channel-pruned CNN is smaller and measurably faster
    assert "CNN, 50% of each convolution's filters kept: 3.7x fewer multiply-adds" in row["measured"]
    same = {**extra, "cnn_speedup_1": Timings((1.0, 0.2), (0.95, 0.2)), "cnn_speedup_100": 1.0}
    assert claims_table({**EVIDENCE, "neurons": {**slow_mlp, **same}})[0]["verdict"] == "partly"
    runtime = {**EVIDENCE["quant_compute"], "runtime_speedup_1": 2.6, "runtime_speedup_100": Timings(89.0, 17.5)}
    row = claims_table({**EVIDENCE, "quant_compute": runtime})[3]
    assert row["verdict"] == "partly" and "the CNN on the int8 runtime" in row["measured"]
    assert "5.1x (faster)" in row["measured"]


def test_bad_input(cnn, cifar):
    train, _ = cifar
    lenet = cl.load_pretrained("lenet300")
    raises(TypeError, "int8_model must be an Int8Model (quantization.nn.build_int8_model), got str.", Int8Runtime,
           "int8", lenet)
    raises(TypeError, "int8_model must be an Int8Model (quantization.nn.build_int8_model) or an Int8Runtime, got "
           "LeNet300100.", int8_runtime_bytes, lenet)
    raises(TypeError, "keeps must be a tuple of fractions such as (0.75, 0.5), got float.", check_keeps, "keeps", 0.5)
    raises(ValueError, "keeps == [0.5, 0.5], must be distinct fractions in (0, 1), at least one.", check_keeps,
           "keeps", [0.5, 0.5])
    raises(ValueError, "keeps == [], must be distinct fractions in (0, 1), at least one.", check_keeps, "keeps", ())
    raises(ValueError, "keeps == [0.0], must be distinct fractions in (0, 1), at least one.", check_keeps, "keeps",
           (0.0,))
    raises(ValueError, "keeps[0] == 1.0, must be in [0, 1).", check_keeps, "keeps", (1.0,))
    # checked before any work (no pruning, no training)
    raises(ValueError, "channel_keeps[0] == 50.0, must be in [0, 1).", snn.cnn_configs, cnn, train,
           channel_keeps=(50.0,))
    raises(ValueError, "channel_steps == 0, must be >= 1.", snn.cnn_configs, cnn, train, channel_steps=0)
    raises(ValueError, "steps == 0, must be >= 1.", channel_configs, cnn, train, steps=0)
    raises(TypeError, "with_int8 must be True or False, got int (1).", channel_configs, cnn, train, steps=1,
           keeps=(0.5,), with_int8=1)
    raises(TypeError, "model must be a LeNet300100 or CifarVGG, got Sequential.", runtime_config,
           torch.nn.Sequential(torch.nn.Linear(2, 2)), train.images)
    bad = Config("x", "baseline", "none", lenet, 10, macs=0)
    raises(ValueError, "configs[0].macs == 0, must be >= 1.", snn.measure_configs, [bad],
           cl.load_mnist("test", limit=5), model_name="x")
    part = {**EVIDENCE["neurons"], "cnn_keep": 0.5}
    missing = [k for k in OPTIONAL_KEYS["neurons"] if k != "cnn_keep"]
    raises(ValueError, f"evidence['neurons'] has ['cnn_keep'] but misses {missing}, must have all of "
           f"{list(OPTIONAL_KEYS['neurons'])} or none.", claims_table, {**EVIDENCE, "neurons": part})
    raises(ValueError, "evidence['neurons']['cnn_keep'] == 50.0, must be a fraction in [0, 1] (not a percentage).",
           claims_table, {**EVIDENCE, "neurons": {**EVIDENCE["neurons"], "cnn_keep": 50.0, "cnn_bytes_ratio": 2.0,
                                                  "cnn_macs_ratio": 3.0, "cnn_speedup_1": 1.0,
                                                  "cnn_speedup_100": 1.0, "cnn_acc_drop": 1.0}})
