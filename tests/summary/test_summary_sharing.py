"""The summary's weight-sharing configurations: bytes are the file's size, the decoded model is the shared one."""

import os

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.pruning import nn as pnn
from course_lib.sharing.nn import fine_tune_centroids, load_shared_model, save_shared_model, share_model
from course_lib.summary import nn as snn
from course_lib.summary.nn.configs import pruned_bytes
from course_lib.summary.nn.sharing import PAPER_BITS, shared_config, shared_file, sharing_configs

from helpers import raises


@pytest.fixture(scope="module")
def lenet():
    return cl.load_pretrained("lenet300")


@pytest.fixture(scope="module")
def data():
    return cl.load_mnist("train", limit=512), cl.load_mnist("test", limit=500)


@pytest.fixture(scope="module")
def pruned(lenet):
    masks = pnn.masks_for(lenet, 0.9, scope="global")
    return pnn.apply_masks(lenet, masks).eval(), masks


def _plain(model):
    return not any(hasattr(m, "parametrizations") for m in model.modules())


def test_shared_file_bytes_and_decoded_model(lenet, data, tmp_path):
    _, test = data
    with cl.fixed_threads(1):
        shared = share_model(lenet, 3, rng=0)
        decoded, size = shared_file(shared, lenet)
    assert size == save_shared_model(shared, tmp_path / "again.dc") == os.path.getsize(tmp_path / "again.dc")
    read = load_shared_model(tmp_path / "again.dc", "lenet300")
    assert _plain(decoded) and not _plain(read)
    for name in ("fc1", "fc2", "fc3"):
        w = getattr(decoded, name).weight.detach()
        assert torch.equal(w, getattr(shared, name).weight.detach()) and torch.equal(w, getattr(read, name).weight)
        assert len(torch.unique(w)) <= 2 ** 3
    assert torch.equal(decoded.fc1.bias, lenet.fc1.bias)
    with torch.inference_mode():
        x = cl.models.to_tensor(test.images)
        assert torch.equal(decoded(x), shared(x))
    assert cl.accuracy(decoded, test.images, test.labels) == cl.accuracy(shared, test.images, test.labels)
    # 3-bit Huffman-coded indices of 266,200 weights, no gaps, 410 float32 biases: well under int8's bytes
    assert 410 * 4 + 266_200 * 3 / 8 / 2 < size < 410 * 4 + 266_200 * 3 / 8 + 2_000


def test_shared_config_fine_tuned_centroids_keep_the_bytes(lenet, data):
    train, test = data
    with cl.fixed_threads(1):
        plain = shared_config(lenet, 4, name="s4", family="quantization", needs="none")
        tuned = shared_config(lenet, 4, name="s4 tuned", family="quantization", needs="labels", train=train,
                              steps=3, lr=1e-3)
        torch.manual_seed(0)
        again = fine_tune_centroids(share_model(lenet, 4, init="linear", rng=0), train.images, train.labels,
                                    max_steps=3, batch_size=128, lr=1e-3, rng=0)
    assert (plain.name, plain.family, plain.needs, plain.macs) == ("s4", "quantization", "none", None)
    assert tuned.needs == "labels" and _plain(tuned.model)
    # fine-tuning moves the codebooks, never the indices: the same file size, other weights
    assert tuned.bytes == plain.bytes
    assert not torch.equal(tuned.model.fc1.weight, plain.model.fc1.weight)
    assert torch.equal(tuned.model.fc1.weight, again.fc1.weight.detach())
    assert np.array_equal(cl.predict(tuned.model, test.images), cl.predict(again, test.images))


def test_sharing_configs_deep_compression(lenet, data, pruned):
    train, test = data
    model, masks = pruned
    with cl.fixed_threads(1):
        configs = sharing_configs(lenet, model, train, steps=2, dense_bits=4)
        pruned_only = sharing_configs(lenet, model, train, steps=0, dense_bits=None)
    assert [c.name for c in configs] == [f"pruned 90% + shared {PAPER_BITS}-bit + Huffman", "shared 4-bit + Huffman"]
    dc, s4 = configs
    assert (dc.family, dc.needs, s4.family, s4.needs) == ("combination", "labels", "quantization", "none")
    assert [c.name for c in pruned_only] == [dc.name] and pruned_only[0].bytes == dc.bytes
    for name in ("fc1", "fc2", "fc3"):
        w = getattr(dc.model, name).weight.detach().numpy()
        assert np.array_equal(w != 0, masks[f"{name}.weight"])  # pruned weights stay pruned, kept ones non-zero
        assert len(np.unique(w[w != 0])) <= 2 ** PAPER_BITS
    # the three stages: smaller than the pruned model with 1-byte CSR values, and than sharing without pruning
    int8_csr = pruned_bytes(cl.quantization.nn.ptq_dynamic(model), masks, value_bytes=1)
    assert dc.bytes < int8_csr < s4.bytes < cl.quantization.nn.model_bytes(cl.quantization.nn.ptq_dynamic(lenet))
    assert cl.accuracy(dc.model, test.images, test.labels) > 0.9
    assert cl.accuracy(s4.model, test.images, test.labels) > 0.95
    assert snn.sharing_configs is sharing_configs and snn.shared_file is shared_file


def test_bad_input(lenet, data, pruned):
    train, _ = data
    model, _ = pruned
    cifar = cl.load_cifar10("train", limit=4)
    raises(TypeError, "shared must be a torch.nn.Module, got str.", shared_file, "x", lenet)
    raises(ValueError, "shared has no weight-shared layer, must come from course_lib.sharing.nn.share_model.",
           shared_file, lenet, lenet)
    raises(ValueError, "bits == 17, must be <= 16.", shared_config, lenet, 17, name="x", family="quantization",
           needs="none")
    raises(ValueError, "family == 'int8', must be one of 'baseline', 'pruning', 'quantization', 'factorization', "
           "'combination'.", shared_config, lenet, 4, name="x", family="int8", needs="none")
    raises(ValueError, "train is None, must be a labelled Dataset when steps > 0 (the centroids' fine-tuning).",
           shared_config, lenet, 4, name="x", family="quantization", needs="labels", steps=1)
    raises(ValueError, "needs == 'none', must be 'labels' when steps > 0 (fine-tuning uses labels).",
           shared_config, lenet, 4, name="x", family="quantization", needs="none", train=train, steps=1)
    raises(ValueError, "steps == -1, must be >= 0.", shared_config, lenet, 4, name="x", family="quantization",
           needs="none", steps=-1)
    raises(TypeError, "name must be a str, got int (3).", shared_config, lenet, 4, name=3, family="quantization",
           needs="none")
    raises(ValueError, "pruned has no zero weight, must be pruned (zeros where weights were removed).",
           sharing_configs, lenet, lenet, train)
    raises(TypeError, "pruned must be a LeNet300100 like model, got CifarVGG.", sharing_configs, lenet,
           cl.load_pretrained("cifar_vgg"), train)
    raises(ValueError, "sparsity == 90.0, must be in (0, 1).", sharing_configs, lenet, model, train, sparsity=90.0)
    raises(ValueError, "dense_bits == 0, must be >= 1.", sharing_configs, lenet, model, train, dense_bits=0)
    with pytest.raises(ValueError, match="train"):
        sharing_configs(lenet, model, cifar)
