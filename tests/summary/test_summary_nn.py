"""The summary's torch side: each configuration is the library's, its bytes follow its format, measurement is real."""

import numpy as np
import pytest
import torch
from summary_helpers import runtime_bytes_by_hand

import course_lib as cl
from course_lib.factorization.nn import TTLinear
from course_lib.pruning.storage import csr_bytes
from course_lib.quantization import nn as qt
from course_lib.summary import nn as snn
from course_lib.summary.nn.configs import CNN_SVD_RANKS, LENET_SVD_RANKS, SPARSITY

from helpers import raises


@pytest.fixture(scope="module")
def lenet():
    return cl.load_pretrained("lenet300")


@pytest.fixture(scope="module")
def lenet_configs(lenet):
    with cl.fixed_threads(1):
        return {c.name: c for c in snn.lenet300_configs(lenet, cl.load_mnist("train", limit=2000), steps=5)}


def test_lenet_bytes_follow_the_formats(lenet, lenet_configs):
    c = lenet_configs
    assert list(c) == ["float32", "float16", "int8 dynamic (PTQ)", "int8 full integer (PTQ)",
                       "int8 full integer (runtime)", "neurons removed", "pruned 90% (CSR)", "SVD", "TT fc1",
                       "pruned 90% + int8", "SVD + int8", "TT + int8"]
    assert c["float32"].bytes == cl.storage_bytes(lenet) == 1_066_440
    assert c["float16"].bytes == 533_220
    assert c["int8 dynamic (PTQ)"].bytes == qt.model_bytes(lenet, "int8") == 269_480
    # neurons removed: a smaller float32 MLP
    small = c["neurons removed"].model
    h1, h2 = small.fc1.out_features, small.fc2.out_features
    assert h1 < 300 and h2 < 100 and c["neurons removed"].bytes == 4 * (784 * h1 + h1 + h1 * h2 + h2 + h2 * 10 + 10)
    # pruned: 90% of the weights are exactly zero, stored in CSR; the biases dense
    pruned = c["pruned 90% (CSR)"].model
    weights = [pruned.fc1.weight, pruned.fc2.weight, pruned.fc3.weight]
    nnz = sum(int((w != 0).sum()) for w in weights)
    assert nnz == round((1 - SPARSITY) * 266_200)
    assert c["pruned 90% (CSR)"].bytes == sum(csr_bytes(w.detach().numpy()) for w in weights) + 4 * 410
    # SVD: two float32 factors per layer
    r1, r2 = LENET_SVD_RANKS["fc1"], LENET_SVD_RANKS["fc2"]
    assert c["SVD"].bytes == 4 * (r1 * (784 + 300) + r2 * (300 + 100) + 1000 + 410)
    # TT fc1: the cores' numbers, float32
    tt = c["TT fc1"].model.fc1
    assert isinstance(tt, TTLinear) and c["TT fc1"].bytes == 4 * (tt.params + 300 + 300 * 100 + 100 + 1000 + 10)


def test_combinations_with_int8(lenet_configs):
    c = lenet_configs
    pq = c["pruned 90% + int8"]
    state = pq.model.state_dict()
    codes = [state[f"fc{i}.weight"] for i in (1, 2, 3)]
    assert all(t.dtype == torch.int8 for t in codes)
    zeros_before = [(getattr(c["pruned 90% (CSR)"].model, f"fc{i}").weight == 0) for i in (1, 2, 3)]
    assert all(bool((t[z] == 0).all()) for t, z in zip(codes, zeros_before))  # pruned weights stay pruned
    scales_biases = 4 * (410 + 410)
    assert pq.bytes == sum(csr_bytes(t.numpy(), value_bytes=1) for t in codes) + scales_biases
    assert pq.bytes < c["pruned 90% (CSR)"].bytes and pq.bytes < c["int8 dynamic (PTQ)"].bytes
    # SVD + int8: one byte per factor number, a float32 scale per output row of each factor, float32 biases
    r1, r2 = LENET_SVD_RANKS["fc1"], LENET_SVD_RANKS["fc2"]
    assert c["SVD + int8"].bytes == ((r1 * (784 + 300) + r2 * (300 + 100) + 1000) + 4 * (r1 + 300 + r2 + 100 + 10)
                                     + 4 * 410)
    # TT + int8: every core on its own int8 grid (expanded back to float32), 1 byte per number + a scale
    ttq = c["TT + int8"].model.fc1
    for core in ttq.cores:
        v = core.detach().double().numpy()
        scale = np.abs(v).max() / 127
        assert np.allclose(v / scale, np.round(v / scale), atol=1e-3)
    n_cores = len(ttq.cores)
    rest = qt.model_bytes(c["TT + int8"].model) - 4 * ttq.params
    assert c["TT + int8"].bytes == rest + ttq.params + 4 * n_cores


def test_measure_configs_is_the_library_measurement(lenet_configs, one_thread):
    test = cl.load_mnist("test", limit=300)
    chosen = [lenet_configs["float32"], lenet_configs["SVD + int8"]]
    rows = snn.measure_configs(chosen, test, model_name="lenet300", repeats=2, rounds=2)
    assert [r["name"] for r in rows] == ["float32", "SVD + int8"]
    for r, c in zip(rows, chosen):
        assert r["accuracy"] == pytest.approx(cl.accuracy(c.model, test.images, test.labels))
        assert r["bytes"] == c.bytes and r["ms_1"] > 0 and r["ms_100"] > 0
        assert set(r) == {"model", "name", "family", "needs", "accuracy", "bytes", "macs", "ms_1", "ms_100",
                          "iqr_1", "iqr_100"}
        assert r["macs"] is None  # LeNet's configurations carry no MAC count
        assert r["iqr_1"] >= 0 and r["iqr_100"] >= 0
    assert rows[0]["accuracy"] > 0.95
    # the decision table reads the spreads: it names a winner only when it is measurably faster
    from course_lib.summary import decision_table

    table = decision_table(rows)
    assert {r["constraint"] for r in table} >= {"fastest for one image", "fastest for batches of 100"}


def test_csr_vs_dense_prints_the_noise_rule(one_thread):
    res = snn.csr_vs_dense((60, 80), (0.5, 0.99), batch=10, repeats=3, rng=0)
    assert res["sparsities"] == [0.5, 0.99] and len(res["dense"]) == len(res["sparse"]) == 2
    assert all(t.median_ms > 0 and t.iqr_ms >= 0 for t in res["dense"] + res["sparse"])
    assert res["verdict"].outcome in ("from", "always", "never")
    assert (res["crossover"] is None) == (res["verdict"].outcome == "never")
    assert "CSR" in str(res["verdict"])
    raises(TypeError, "shape must be a pair (out, in), got int.", snn.csr_vs_dense, 5)


def test_from_scratch_learns(one_thread):
    res = snn.from_scratch(cl.load_mnist("train", limit=2000), cl.load_mnist("test", limit=300), steps=30)
    assert set(res) == {"dense", "qat", "sparse", "tt", "sparsity", "steps", "tt_ratio"}
    # 30 steps from random weights (seeded: 0.85, 0.86, 0.38, 0.81 here): each well above chance (10%), and
    # far above an untrained network
    assert res["dense"] > 0.75 and res["qat"] > 0.75 and res["tt"] > 0.7 and res["sparse"] > 0.3
    tt = TTLinear(*snn.configs.LENET_TT_MODES["fc1"], 8)
    assert res["tt_ratio"] == pytest.approx(266_610 / (tt.params + 300 + 300 * 100 + 100 + 1000 + 10))


def test_cnn_configs():
    cnn = cl.load_pretrained("cifar_vgg")
    train, test = cl.load_cifar10("train", limit=128), cl.load_cifar10("test", limit=200)
    with cl.fixed_threads(1):
        configs = {c.name: c for c in snn.cnn_configs(cnn, train, steps=2, channel_steps=2, channel_keeps=(0.5,))}
    assert list(configs) == ["float32", "float16", "int8 dynamic (PTQ)", "int8 full integer (PTQ)",
                             "int8 full integer (runtime)", "pruned 90% (CSR)", "channel-pruned 50%", "SVD classifier",
                             "flattened convs (no fine-tune)", "TT classifier", "pruned 90% + int8", "SVD + int8",
                             "TT + int8", "channel-pruned 50% + int8 (runtime)"]
    assert configs["float32"].bytes == qt.model_bytes(cnn)
    k = CNN_SVD_RANKS["classifier.1"]
    assert configs["SVD classifier"].bytes == qt.model_bytes(cnn) - 4 * (2048 * 512 + 512 * 512) + 4 * k * (
        2048 + 512 + 512 + 512)
    sizes = [c.bytes for c in configs.values()]
    assert min(sizes) == configs["TT + int8"].bytes
    # the pruned CNN: the classifier was trained with its masks held; zeros stay zeros
    pruned = configs["pruned 90% (CSR)"].model
    w = pruned.classifier[1].weight
    masks = cl.pruning.nn.masks_for(cnn, SPARSITY, scope="global")
    assert bool((w[torch.from_numpy(~masks["classifier.1.weight"])] == 0).all())
    # the int8 runtime: every layer's codes, scales and int32 biases (batch norm folded into them), counted by hand
    rt = configs["int8 full integer (runtime)"]
    assert rt.bytes == runtime_bytes_by_hand(cnn)
    assert rt.macs == configs["float32"].macs == 30_512_128
    assert [c.macs is not None for c in configs.values()] == [
        n in ("float32", "int8 full integer (runtime)", "channel-pruned 50%", "channel-pruned 50% + int8 (runtime)")
        for n in configs]
    assert configs["channel-pruned 50%"].macs < configs["float32"].macs / 3
    rows = snn.measure_configs([configs["float32"], rt], test, model_name="cifar_vgg", repeats=1, rounds=1)
    assert [r["macs"] for r in rows] == [30_512_128, 30_512_128]
    assert abs(rows[1]["accuracy"] - rows[0]["accuracy"]) <= 0.05  # 200 images: a margin, not a comparison


def test_bad_input(lenet, lenet_configs):
    raises(TypeError, "masks must be a dict of weight name -> bool array, got list.", snn.pruned_bytes, lenet, [])
    raises(ValueError, "masks names ['fc9.weight'], must name tensors of the model's state dict.", snn.pruned_bytes,
           lenet, {"fc9.weight": np.ones(3, bool)})
    raises(ValueError, "value_bytes == 3, must be one of 1, 2, 4.", snn.pruned_bytes, lenet, {}, value_bytes=3)
    raises(ValueError, "model has no TTLinear layer, must have one (factorization.nn.tt_model).", snn.tt_int8, lenet)
    raises(TypeError, "model must be a torch.nn.Module, got str.", snn.tt_int8, "lenet")
    raises(TypeError, "model must be the CIFAR-10 CNN (load_pretrained('cifar_vgg')), got LeNet300100.",
           snn.cnn_configs, lenet, None)
    raises(ValueError, "steps == 0, must be >= 1.", snn.lenet300_configs, lenet, None, steps=0)
    raises(TypeError, "configs must be a non-empty list of Config (summary.nn.lenet300_configs / cnn_configs).",
           snn.measure_configs, [], None, model_name="x")
    raises(ValueError, "rounds == 0, must be >= 1.", snn.measure_configs, [lenet_configs["float32"]],
           cl.load_mnist("test", limit=10), model_name="x", rounds=0)
    raises(ValueError, "sparsity == 1.0, must be in [0, 1).", snn.from_scratch, None, None, sparsity=1.0)
