"""The one convention for bytes below 8 bits (codes packed), the kernel timings' spreads, the CNN QAT long run."""

from __future__ import annotations

import json

import numpy as np
import pytest

import course_lib as cl
from course_lib.quantization import code_bytes
from course_lib.quantization import nn as qnn
from course_lib.quantization.nn import cnn_qat
from course_lib.timing import Latency

from helpers import raises


def test_code_bytes_packs_codes():
    assert code_bytes(266_200, 8) == 266_200
    assert code_bytes(266_200, 4) == 133_100
    assert code_bytes(266_200, 2) == 66_550
    assert code_bytes(3, 3) == 2 and code_bytes(1, 2) == 1 and code_bytes(0, 5) == 0
    raises(ValueError, "bits == 9, must be <= 8.", code_bytes, 10, 9)
    raises(ValueError, "count == -1, must be >= 0.", code_bytes, -1, 8)


@pytest.fixture(scope="module")
def lenet_and_ranges():
    model = cl.load_pretrained("lenet300")
    return model, qnn.calibrate(model, cl.load_mnist("train", limit=200).images)


@pytest.mark.parametrize("bits", [8, 6, 4, 3, 2])
def test_model_bytes_counts_codes_packed(lenet_and_ranges, bits):
    model, ranges = lenet_and_ranges
    weights, outputs = 784 * 300 + 300 * 100 + 100 * 10, 300 + 100 + 10
    codes = -(-(784 * 300) * bits // 8) - (-(300 * 100) * bits // 8) - (-(100 * 10) * bits // 8)
    expected = codes + 4 * outputs + 4 * outputs  # per-channel scales, float32 biases
    assert qnn.model_bytes(qnn.ptq_dynamic(model, bits=bits)) == expected
    assert qnn.model_bytes(qnn.ptq_full_integer(model, ranges, bits=bits)) == expected + 3 * 8
    if bits == 8:
        assert codes == weights


def test_quantization_explorer_counts_bytes_by_the_same_rule():
    model = cl.load_pretrained("lenet300")
    exp = cl.widgets.QuantizationExplorer(model, cl.load_mnist("test", limit=100))
    for bits in (8, 4, 3):
        r = exp.compute(bits)
        codes = sum(code_bytes(w.size, bits) for w in exp.weights.values())
        assert r["bytes"] == codes + 4 * 3 + 4 * 410 and r["float_bytes"] == cl.storage_bytes(model) == 1_066_440
    assert exp.compute(8)["bytes"] == cl.storage_bytes(model, "int8")  # per-tensor int8, the same rule


def test_int8_linear_latency_returns_the_timings():
    r = qnn.int8_linear_latency(32, 16, batch=2, repeats=3, warmup=0)
    assert isinstance(r["float32"], Latency) and isinstance(r["int8"], Latency)
    assert r["float32"].median_ms == r["float32_ms"] and r["int8"].median_ms == r["int8_ms"]


def test_cnn_qat_compares_on_the_same_images(tmp_path, monkeypatch):
    train, test = cl.load_cifar10("train", limit=300), cl.load_cifar10("test", limit=60)
    out = cnn_qat.compare_qat_ptq(train, test, bits=(8,), steps=2, calibration_images=100)
    assert out["test_images"] == 60 and out["train_images"] == 300 and out["steps"] == 2
    r = out["bits"]["8"]
    assert r["qat_minus_ptq"] == pytest.approx(r["qat_accuracy"] - r["ptq_accuracy"])
    assert 0 <= r["qat_minus_ptq_se"] < 1 and 0 < out["float32_accuracy"] <= 1
    json.dumps(out)  # JSON data, as save_result needs
    raises(ValueError, "bits == 1, must be >= 2.", cnn_qat.compare_qat_ptq, train, test, bits=(1,), steps=1)
    raises(ValueError, "steps == 0, must be >= 1.", cnn_qat.compare_qat_ptq, train, test, steps=0)


def test_the_stored_long_run_is_readable():
    from course_lib.results import load_result, provenance

    record = load_result(cnn_qat.RESULT_NAME)
    data = record["data"]
    assert record["command"].startswith(cnn_qat.COMMAND) or "COURSE_FULL=1" in record["command"]
    assert set(data["bits"]) == {str(b) for b in cnn_qat.DEFAULT_BITS}
    for r in data["bits"].values():
        assert np.isfinite(r["qat_minus_ptq"]) and r["qat_minus_ptq_se"] >= 0
    assert provenance(record).startswith("long run (stored result, not this run)")
