import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import course_lib as cl
from course_lib import measure


def test_count_parameters_matches_torch_on_every_model():
    for name in cl.MODELS:
        model = cl.build_model(name)
        assert cl.count_parameters(model) == sum(p.numel() for p in model.parameters())


def test_count_parameters_containers_and_nonzero():
    w = np.array([[0.0, 1.0], [2.0, 0.0]])
    assert cl.count_parameters(w) == 4
    assert cl.count_parameters(w, nonzero=True) == 2
    assert cl.count_parameters([w, torch.zeros(3)]) == 7
    assert cl.count_parameters({"a": w, "b": [torch.ones(2)]}, nonzero=True) == 4
    with pytest.raises(TypeError, match="obj must be a torch model"):
        cl.count_parameters("weights")


def test_storage_bytes_float32_is_four_per_parameter_and_matches_torch():
    model = cl.build_model("lenet300")
    assert cl.storage_bytes(model) == 4 * 266_610
    assert cl.storage_bytes(model) == sum(p.element_size() * p.numel() for p in model.parameters())
    # the saved file pays the parameters plus a small container overhead
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    assert cl.storage_bytes(model) < buf.tell() < 1.01 * cl.storage_bytes(model) + 10_000
    assert cl.storage_bytes(np.zeros((3, 5)), "float64") == 120


def test_storage_bytes_bad_format_and_registry():
    with pytest.raises(ValueError, match=r"fmt == 'int3', must be one of 'bitmask', 'csr', 'float16', 'float32'"):
        cl.storage_bytes(np.zeros(3), "int3")
    cl.register_format("test-bitmask", lambda a: (a.size + 7) // 8)
    try:
        assert cl.storage_bytes(np.zeros(17), "test-bitmask") == 3
    finally:
        measure.STORAGE_FORMATS.pop("test-bitmask")
    with pytest.raises(TypeError, match="bytes_of_array must be callable"):
        cl.register_format("x", 3)


def test_accuracy_and_predict_agree_with_torch():
    torch.manual_seed(0)
    model = cl.build_model("lenet300").eval()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(37, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=37)
    with torch.no_grad():
        ref = model(torch.from_numpy(images).float().div(255).unsqueeze(1)).argmax(1).numpy()
    np.testing.assert_array_equal(cl.predict(model, images, batch_size=8), ref)
    assert cl.accuracy(model, images, labels, batch_size=5) == pytest.approx(np.mean(ref == labels))
    assert model.training is False


def test_accuracy_keeps_training_mode_and_checks_input():
    model = cl.build_model("lenet300").train()
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    cl.accuracy(model, images, np.zeros(4, dtype=np.int64))
    assert model.training
    with pytest.raises(ValueError, match="differ in length: 4 != 3"):
        cl.accuracy(model, images, np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="labels is empty"):
        cl.accuracy(model, images[:0], np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="batch_size == 0, must be >= 1"):
        cl.accuracy(model, images, np.zeros(4, dtype=np.int64), batch_size=0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        cl.predict(lambda x: x, images)


def test_latency_counts_calls_and_restores_threads():
    calls = []
    before = torch.get_num_threads()
    result = cl.latency(lambda: calls.append(torch.get_num_threads()), warmup=2, repeats=5, threads=1)
    assert len(calls) == 7 and set(calls) == {1}
    assert torch.get_num_threads() == before
    assert result.repeats == 5 and result.threads == 1
    assert 0 <= result.min_ms <= result.median_ms
    assert "ms" in str(result)


def test_latency_measures_real_time():
    import time

    result = cl.latency(lambda: time.sleep(0.002), warmup=0, repeats=3)
    assert result.median_ms >= 2.0


def test_latency_bad_input():
    with pytest.raises(TypeError, match="fn must be callable"):
        cl.latency(3)
    with pytest.raises(ValueError, match="repeats == 0, must be >= 1"):
        cl.latency(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="threads == 0, must be >= 1"):
        cl.latency(lambda: None, threads=0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=1, max_size=4))
def test_storage_bytes_is_additive(sizes):
    arrays = [np.ones(s, dtype=np.float32) for s in sizes]
    assert cl.storage_bytes(arrays) == sum(cl.storage_bytes(a) for a in arrays) == 4 * sum(sizes)


def test_accuracy_difference_is_paired_and_has_a_standard_error():
    from helpers import fresh_model

    a, b = fresh_model(seed=0), fresh_model(seed=1)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=50)
    diff, se = cl.accuracy_difference(a, b, images, labels)
    assert diff == pytest.approx(cl.accuracy(b, images, labels) - cl.accuracy(a, images, labels))
    d = (cl.predict(b, images) == labels).astype(float) - (cl.predict(a, images) == labels).astype(float)
    assert se == pytest.approx(d.std(ddof=1) / np.sqrt(50))
    assert cl.accuracy_difference(a, a, images, labels) == (0.0, 0.0)  # a model against itself: no noise
    with pytest.raises(TypeError, match="model_b must be a torch.nn.Module"):
        cl.accuracy_difference(a, "b", images, labels)


def test_count_macs_by_hand():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    assert cl.count_macs(cl.build_model("lenet300"), images) == {
        "fc1": 784 * 300, "fc2": 300 * 100, "fc3": 100 * 10, "total": 266_200}
    macs = cl.count_macs(cl.build_model("lenet5"), images)
    # conv1: 20 maps of 24x24, 1x5x5 each; conv2: 50 maps of 8x8, 20x5x5 each
    assert macs == {"conv1": 20 * 24 * 24 * 25, "conv2": 50 * 8 * 8 * 20 * 25, "fc1": 800 * 500, "fc2": 500 * 10,
                    "total": 288_000 + 1_600_000 + 400_000 + 5_000}
    with pytest.raises(ValueError, match="lenet5 expects 784"):
        cl.count_macs(cl.build_model("lenet5"), np.zeros((1, 32, 32, 3), dtype=np.uint8))
