import json

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib import checkpoints, models

PARAMS = {"lenet300": 266_610, "lenet5": 431_080}
# accuracy targets of the foundation issue (test sets)
TARGETS = {"lenet300": 0.98, "lenet5": 0.99, "cifar_vgg": 0.80, "wide_mlp": 0.98, "vit_mnist": 0.97}


@pytest.mark.parametrize("name,count", PARAMS.items())
def test_parameter_counts_match_han_et_al(name, count):
    assert cl.count_parameters(cl.build_model(name)) == count


def test_cifar_vgg_classifier_dominates_and_factors():
    model = cl.build_model("cifar_vgg")
    fc = [m for m in model.classifier if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in fc] == [(2048, 512), (512, 512), (512, 10)]
    assert cl.count_parameters(model.classifier) > 0.75 * cl.count_parameters(model)


@pytest.mark.parametrize("name,shape", [("lenet300", (4, 1, 28, 28)), ("lenet5", (4, 1, 28, 28)),
                                        ("cifar_vgg", (4, 3, 32, 32))])
def test_forward_shapes(name, shape):
    out = cl.build_model(name).eval()(torch.rand(shape))
    assert out.shape == (4, 10)


def test_to_tensor_layouts():
    grey = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    t = cl.to_tensor(grey)
    assert t.shape == (2, 1, 28, 28) and t.dtype == torch.float32
    assert float(t.max()) <= 1.0
    colour = np.zeros((3, 32, 32, 3), dtype=np.uint8)
    colour[..., 0] = 255  # red channel
    t = cl.to_tensor(colour)
    assert t.shape == (3, 3, 32, 32)
    assert torch.all(t[:, 0] == 1) and torch.all(t[:, 1:] == 0)
    assert cl.to_tensor(colour[0]).shape == (1, 3, 32, 32)


def test_to_tensor_bad_input():
    with pytest.raises(TypeError, match="images must be a uint8 array"):
        cl.to_tensor(np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="images has shape"):
        cl.to_tensor(np.zeros((2, 3, 4, 5, 6), dtype=np.uint8))


def test_build_model_bad_name():
    with pytest.raises(ValueError, match=r"name == 'resnet', must be one of 'lenet300'"):
        cl.build_model("resnet")
    with pytest.raises(TypeError, match="name must be a str"):
        cl.build_model(3)


@pytest.mark.parametrize("name", list(models.MODELS))
def test_committed_checkpoints_load_and_match_manifest(name):
    manifest = cl.load_manifest()
    assert name in manifest, f"{name} has no committed checkpoint: run python -m course_lib.train {name}"
    entry = manifest[name]
    for key in ("file", "sha256", "test_accuracy", "parameters", "command", "seed", "training_time_s"):
        assert key in entry
    assert entry["command"].startswith(f"python -m course_lib.train {name}")
    assert entry["test_accuracy"] >= TARGETS[name]
    model = cl.load_pretrained(name)
    assert not model.training
    assert cl.count_parameters(model) == entry["parameters"]


def test_checkpoint_with_wrong_sha256_is_refused(tmp_path):
    src = checkpoints.CHECKPOINT_DIR
    entry = dict(cl.load_manifest()["lenet300"])
    data = (src / entry["file"]).read_bytes()
    (tmp_path / entry["file"]).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    (tmp_path / "manifest.json").write_text(json.dumps({"lenet300": entry}))
    with pytest.raises(cl.ChecksumError, match="refusing to load it"):
        cl.load_pretrained("lenet300", checkpoint_dir=tmp_path)


def test_missing_checkpoint_says_how_to_train(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_lib.train lenet5"):
        cl.load_pretrained("lenet5", checkpoint_dir=tmp_path)
    entry = dict(cl.load_manifest()["lenet5"])
    (tmp_path / "manifest.json").write_text(json.dumps({"lenet5": entry}))
    with pytest.raises(FileNotFoundError, match="listed in the manifest but missing"):
        cl.load_pretrained("lenet5", checkpoint_dir=tmp_path)


def test_training_is_seeded_and_writes_manifest(tmp_path, mnist_available):
    """A short real training run: same seed, same weights; manifest entry written."""
    from course_lib import train

    m1, s1 = train.train_model("lenet300", epochs=1, seed=3, limit=2000, progress=False)
    m2, _ = train.train_model("lenet300", epochs=1, seed=3, limit=2000, progress=False)
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(a, b)
    assert 0.5 < s1["test_accuracy"] <= 1.0  # 2000 images, one epoch: far above chance (0.1)
    entry = train._save("lenet300", m1, s1, tmp_path, "python -m course_lib.train lenet300 --epochs 1")
    assert entry["sha256"] == checkpoints.file_sha256(tmp_path / "lenet300.pt")
    loaded = cl.load_pretrained("lenet300", checkpoint_dir=tmp_path)
    assert torch.equal(loaded.fc1.weight, m1.fc1.weight)


@pytest.mark.parametrize("name", list(models.MODELS))
def test_committed_checkpoints_reach_their_recorded_accuracy(name, mnist_available, cifar_available):
    """The manifest's accuracy is what the committed weights score on the full test set, measured again here."""
    from course_lib.train import RECIPES

    entry = cl.load_manifest()[name]
    test = cl.load_mnist("test") if RECIPES[name].dataset == "mnist" else cl.load_cifar10("test")
    measured = cl.accuracy(cl.load_pretrained(name), test.images, test.labels)
    # rounded to 4 digits when written; a CPU with other float kernels may flip a prediction or two
    assert measured == pytest.approx(entry["test_accuracy"], abs=2.5e-4)
