"""The course's models: LeNet-300-100, LeNet-5 (MNIST) and a VGG-style CNN (CIFAR-10).

Every model takes a float tensor in [0, 1] of shape (N, C, H, W) -- what
:func:`to_tensor` makes of the uint8 arrays of :mod:`course_lib.data` -- and
standardises it itself (a parameter-free first layer), so that the compression
lessons never have to remember each data set's mean and standard deviation.

Trained checkpoints live in ``data/checkpoints/`` with a manifest
(``manifest.json``: file, sha256, test accuracy, command, seed, ...), written by
``python -m course_lib.train NAME`` and loaded by :func:`load_pretrained`, which
refuses a file whose sha256 does not match.

References
----------
.. [1] S. Han, J. Pool, J. Tran, W. Dally, "Learning both Weights and Connections
   for Efficient Neural Networks", NeurIPS 2015 (LeNet-300-100, LeNet-5).
.. [2] K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for
   Large-Scale Image Recognition", ICLR 2015 (VGG).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ._validation import check_choice, check_model, check_path

__all__ = [
    "MODELS",
    "ChecksumError",
    "LeNet300100",
    "LeNet5",
    "CifarVGG",
    "build_model",
    "checkpoint_dir",
    "load_manifest",
    "load_pretrained",
    "to_tensor",
    "file_sha256",
    "WEIGHT_LAYERS",
    "weight_layers",
    "set_submodule",
    "replace_layers",
    "num_outputs",
    "check_images",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "data" / "checkpoints"

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class ChecksumError(ValueError):
    """A checkpoint's sha256 does not match the manifest."""


class Standardize(nn.Module):
    """``(x - mean) / std`` per channel, with constants that are not parameters."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x):
        return (x - self.mean) / self.std


class LeNet300100(nn.Module):
    """LeNet-300-100: a 784-300-100-10 MLP with ReLU (266,610 parameters).

    ``hidden`` changes the two hidden widths -- neuron pruning produces a
    physically smaller LeNet-300-100, e.g. ``LeNet300100(hidden=(212, 61))``.
    """

    name = "lenet300"
    dataset = "mnist"
    input_shape = (1, 28, 28)

    def __init__(self, hidden: tuple[int, int] = (300, 100)):
        super().__init__()
        if (isinstance(hidden, str) or not isinstance(hidden, (tuple, list)) or len(hidden) != 2
                or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden)):
            raise ValueError(f"hidden == {hidden!r}, must be a pair of ints >= 1 (the two hidden widths).")
        h1, h2 = hidden
        self.standardize = Standardize(MNIST_MEAN, MNIST_STD)
        self.fc1 = nn.Linear(784, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3 = nn.Linear(h2, 10)

    def forward(self, x):
        x = self.standardize(x).flatten(1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class LeNet5(nn.Module):
    """LeNet-5 as in Caffe and Han et al.: conv 20@5x5, conv 50@5x5, FC 800-500-10 (431,080 parameters)."""

    name = "lenet5"
    dataset = "mnist"
    input_shape = (1, 28, 28)

    def __init__(self):
        super().__init__()
        self.standardize = Standardize(MNIST_MEAN, MNIST_STD)
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = self.standardize(x)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


class CifarVGG(nn.Module):
    """A small VGG-style CNN for CIFAR-10.

    Three stages of 3x3 convolutions (32, 64, 128 channels) with batch norm,
    ReLU and 2x2 max pooling, then a classifier of two large fully connected
    layers, 2048 -> 512 -> 512, and the 512 -> 10 output. The FC layers hold
    most of the parameters, as in VGG, which is what the SVD and Tensor-Train
    lessons compress (2048 = 4*8*8*8 and 512 = 8*8*8 factor nicely).
    """

    name = "cifar_vgg"
    dataset = "cifar10"
    input_shape = (3, 32, 32)
    widths = (32, 64, 128)

    def __init__(self):
        super().__init__()
        self.standardize = Standardize(CIFAR10_MEAN, CIFAR10_STD)
        layers, c_in = [], 3
        for i, c_out in enumerate(self.widths):
            convs = 1 if i == 0 else 2
            for _ in range(convs):
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                           nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
                c_in = c_out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_in * 4 * 4, 512), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(512, 512), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(self.standardize(x)))


MODELS = {"lenet300": LeNet300100, "lenet5": LeNet5, "cifar_vgg": CifarVGG}


def build_model(name: str) -> nn.Module:
    """A freshly initialised model: ``"lenet300"``, ``"lenet5"`` or ``"cifar_vgg"``."""
    check_choice("name", name, tuple(MODELS))
    return MODELS[name]()


def to_tensor(images) -> torch.Tensor:
    """uint8 images from :mod:`course_lib.data` -> float32 tensor in [0, 1], (N, C, H, W).

    Accepts (N, 28, 28) grey images, (N, 32, 32, 3) colour images (channels
    last) or a single image without the leading N.
    """
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise TypeError(f"images must be a uint8 array as returned by course_lib.data, got dtype {arr.dtype}.")
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] == 3):
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.ndim == 4 and arr.shape[-1] == 3:
        arr = arr.transpose(0, 3, 1, 2)
    else:
        raise ValueError(f"images has shape {arr.shape}, must be (N, H, W) or (N, H, W, 3).")
    return torch.from_numpy(np.ascontiguousarray(arr)).float().div_(255.0)


WEIGHT_LAYERS = (nn.Linear, nn.Conv2d)


def weight_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Every ``nn.Linear`` and ``nn.Conv2d`` of ``model``, by name, in module order.

    The one list of "the layers that hold the weights" that pruning, quantization,
    the explorers and the factorization converters use, so that no technique is
    tied to LeNet-300-100's ``fc1``/``fc2`` names.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    dict of str -> nn.Module
        ``{"fc1": Linear, ...}``; a model that *is* one layer gives ``{"": layer}``.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.
    ValueError
        If it has no Linear or Conv2d layer.

    Examples
    --------
    >>> list(weight_layers(LeNet300100()))
    ['fc1', 'fc2', 'fc3']
    """
    check_model(model)
    layers = {name: m for name, m in model.named_modules() if isinstance(m, WEIGHT_LAYERS)}
    if not layers:
        raise ValueError(f"model ({type(model).__name__}) has no nn.Linear or nn.Conv2d layer.")
    return layers


def set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    """Replace the submodule ``name`` (dotted, e.g. ``"classifier.1"``) of ``root`` in place."""
    parent, _, child = name.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, child, module)


def replace_layers(model: nn.Module, make) -> nn.Module:
    """Replace, in place, every Linear/Conv2d of ``model`` by ``make(name, layer)``; returns it in eval mode.

    A model that is itself one layer is not changed: ``make("", model)`` is returned.
    """
    for name, layer in weight_layers(model).items():
        if not name:
            return make(name, layer).eval()
        set_submodule(model, name, make(name, layer))
    return model.eval()


def num_outputs(model: nn.Module) -> int | None:
    """The number of classes ``model`` predicts: its last Linear (or quantized linear) layer's outputs.

    None when it cannot be told (no linear layer).
    """
    outputs = None
    for m in check_model(model).modules():
        if isinstance(m, nn.Linear):
            outputs = m.out_features
        elif getattr(m, "kind", None) == "linear" and hasattr(m, "shape"):  # course_lib.quantization.nn layers
            outputs = m.shape[0]
    return outputs


def _shape_text(shape) -> str:
    return "x".join(str(d) for d in shape)


def check_images(model: nn.Module, images, *, allow_empty: bool = False) -> torch.Tensor:
    """``images`` as a float tensor (:func:`to_tensor`) after checking that ``model`` can read them.

    A course model knows its input (``input_shape``); another model is checked against
    its first weight layer (a Conv2d's input channels, or an MLP's input features).

    Raises
    ------
    TypeError
        If ``images`` are not uint8 (see :func:`to_tensor`).
    ValueError
        If they are the other data set's images, e.g.
        ``images have 3072 features (3x32x32), lenet300 expects 784 (1x28x28)``.
    """
    check_model(model)
    x = to_tensor(images)
    if len(x) == 0 and not allow_empty:
        raise ValueError("images is empty, must have at least one image.")
    got = tuple(x.shape[1:])
    label = getattr(model, "name", type(model).__name__)
    want = getattr(model, "input_shape", None)
    if want is not None:
        if got != tuple(want):
            raise ValueError(f"images have {int(np.prod(got))} features ({_shape_text(got)}), {label} expects "
                             f"{int(np.prod(want))} ({_shape_text(want)}): pass the images of its data set "
                             f"({getattr(model, 'dataset', '?')}).")
        return x
    layers = list(weight_layers(model).values())
    first = layers[0]
    if isinstance(first, nn.Conv2d) and got[0] != first.in_channels:
        raise ValueError(f"images have {got[0]} channel(s) ({_shape_text(got)}), {label} expects "
                         f"{first.in_channels}.")
    if all(isinstance(m, nn.Linear) for m in layers) and int(np.prod(got)) != first.in_features:
        raise ValueError(f"images have {int(np.prod(got))} features ({_shape_text(got)}), {label} expects "
                         f"{first.in_features}.")
    return x


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checkpoint_dir(path: str | os.PathLike | None = None) -> Path:
    """The checkpoint folder: ``path`` if given, else the repository's ``data/checkpoints``."""
    return CHECKPOINT_DIR if path is None else check_path("checkpoint_dir", path)


def load_manifest(path: str | os.PathLike | None = None) -> dict:
    """The checkpoint manifest as a dict ``{name: entry}`` (empty when there is none)."""
    manifest = checkpoint_dir(path) / "manifest.json"
    if not manifest.is_file():
        return {}
    return json.loads(manifest.read_text())


def load_pretrained(name: str, *, checkpoint_dir: str | os.PathLike | None = None) -> nn.Module:
    """The course's trained model ``name``, in eval mode.

    The file's sha256 is checked against the manifest before ``torch.load``
    reads it (with ``weights_only=True``: no code in a checkpoint ever runs).

    Raises
    ------
    ValueError
        If ``name`` is not a course model.
    FileNotFoundError
        If the model has not been trained (the message gives the command).
    ChecksumError
        If the file does not match the manifest's sha256.
    """
    check_choice("name", name, tuple(MODELS))
    folder = globals()["checkpoint_dir"](checkpoint_dir)
    entry = load_manifest(folder).get(name)
    if entry is None:
        raise FileNotFoundError(f"no checkpoint for {name!r} in {folder / 'manifest.json'}. "
                                f"Train it with `python -m course_lib.train {name}`.")
    path = folder / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} is listed in the manifest but missing. "
                                f"Restore it with `git checkout -- {path.name}` or retrain with "
                                f"`python -m course_lib.train {name}`.")
    digest = file_sha256(path)
    if digest != entry["sha256"]:
        raise ChecksumError(f"checkpoint {path} has sha256 {digest}, but the manifest expects "
                            f"{entry['sha256']}: refusing to load it. Restore it with "
                            f"`git checkout -- {path}` or retrain with `python -m course_lib.train {name}`.")
    model = build_model(name)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()
