"""The course's models: LeNet-300-100, LeNet-5, a small Vision Transformer (MNIST) and a VGG-style CNN (CIFAR-10).

Every model takes a float tensor in [0, 1] of shape (N, C, H, W) -- what
:func:`to_tensor` makes of the uint8 arrays of :mod:`course_lib.data` -- and
standardises it itself (a parameter-free first layer), so that the compression
lessons never have to remember each data set's mean and standard deviation.

:func:`check_images` checks that a model is given its own data set's images.
The trained checkpoints are :mod:`course_lib.checkpoints`' business, the list of a
model's weight layers :mod:`course_lib.layers`'.

References
----------
.. [1] S. Han, J. Pool, J. Tran, W. Dally, "Learning both Weights and Connections
   for Efficient Neural Networks", NeurIPS 2015 (LeNet-300-100, LeNet-5).
.. [2] K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for
   Large-Scale Image Recognition", ICLR 2015 (VGG).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from ._validation import check_choice, check_model
from .layers import weight_layers

__all__ = ["MODELS", "LeNet300100", "LeNet5", "CifarVGG", "WideMLP", "MnistViT", "Attention", "Block", "Standardize",
           "build_model", "to_tensor", "check_images",
           "MNIST_MEAN", "MNIST_STD", "CIFAR10_MEAN", "CIFAR10_STD"]


MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class Standardize(nn.Module):
    """``(x - mean) / std`` per channel, with constants that are not parameters."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x):
        """``(x - mean) / std`` of ``(N, C, H, W)`` images ``x``, same shape."""
        return (x - self.mean) / self.std


class LeNet300100(nn.Module):
    """LeNet-300-100: a 784-300-100-10 MLP with ReLU (266,610 parameters).

    ``hidden`` changes the two hidden widths -- neuron pruning produces a
    physically smaller LeNet-300-100, e.g. ``LeNet300100(hidden=(212, 61))``.

    Raises
    ------
    ValueError
        If ``hidden`` is not a pair of ints ``>= 1``.
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
        """The ``(N, 10)`` logits of ``(N, 1, 28, 28)`` float images ``x`` in [0, 1] (:func:`to_tensor`)."""
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
        """The ``(N, 10)`` logits of ``(N, 1, 28, 28)`` float images ``x`` in [0, 1] (:func:`to_tensor`)."""
        x = self.standardize(x)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


class WideMLP(nn.Module):
    """A wide MNIST MLP, 784-1024-1024-10 with ReLU (1,863,690 parameters).

    The SVD lesson's layer of realistic width: LeNet-300-100's layers are too small
    to show what a randomized SVD buys, and random matrices have flat spectra that
    say nothing about trained layers. Its ``fc2`` (1024 x 1024) is a quarter of a
    VGG ``fc7`` (4096 x 4096), its ``fc1`` the 1024 x 784 matrix of the
    randomized-SVD experiments.
    """

    name = "wide_mlp"
    dataset = "mnist"
    input_shape = (1, 28, 28)

    def __init__(self):
        super().__init__()
        self.standardize = Standardize(MNIST_MEAN, MNIST_STD)
        self.fc1 = nn.Linear(784, 1024)
        self.fc2 = nn.Linear(1024, 1024)
        self.fc3 = nn.Linear(1024, 10)

    def forward(self, x):
        """The ``(N, 10)`` logits of ``(N, 1, 28, 28)`` float images ``x`` in [0, 1] (:func:`to_tensor`)."""
        x = self.standardize(x).flatten(1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


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
        """The ``(N, 10)`` logits of ``(N, 3, 32, 32)`` float images ``x`` in [0, 1] (:func:`to_tensor`)."""
        return self.classifier(self.features(self.standardize(x)))


class Attention(nn.Module):
    """Multi-head self-attention with separate query, key, value and output projections.

    ``heads`` heads of ``head_dim`` features each: ``q``, ``k``, ``v`` map ``dim`` to
    ``heads * head_dim``, ``proj`` maps back. Head pruning makes ``heads`` smaller (down
    to 0: the block adds nothing and costs nothing). ``gate`` multiplies each head's
    output (all ones; Michel et al.'s importance is the gradient of the loss with
    respect to it). The scores are computed explicitly (no fused kernel) so that a
    lesson can read them.
    """

    def __init__(self, dim: int, heads: int, head_dim: int):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        with warnings.catch_warnings():  # a pruned-away attention has zero-size weights
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            self.q = nn.Linear(dim, inner)
            self.k = nn.Linear(dim, inner)
            self.v = nn.Linear(dim, inner)
            self.proj = nn.Linear(inner, dim)
        self.register_buffer("gate", torch.ones(heads), persistent=False)

    def forward(self, x):
        """``(N, T, dim)`` tokens -> ``(N, T, dim)``."""
        if self.heads == 0:
            return self.proj.bias.expand_as(x)
        n, t, _ = x.shape
        split = (n, t, self.heads, self.head_dim)
        q, k, v = (lin(x).view(split).transpose(1, 2) for lin in (self.q, self.k, self.v))
        scores = q @ k.transpose(-2, -1) / self.head_dim ** 0.5
        out = torch.softmax(scores, dim=-1) @ v                  # (N, heads, T, head_dim)
        out = out * self.gate.view(1, -1, 1, 1)
        return self.proj(out.transpose(1, 2).reshape(n, t, self.heads * self.head_dim))


class Block(nn.Module):
    """A pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))`` (GELU MLP)."""

    def __init__(self, dim: int, heads: int, head_dim: int, mlp_dim: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, head_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp_dim)
        self.fc2 = nn.Linear(mlp_dim, dim)

    def forward(self, x):
        """``(N, T, dim)`` tokens -> ``(N, T, dim)``."""
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x))))


class MnistViT(nn.Module):
    """A small Vision Transformer for MNIST (Dosovitskiy et al. 2021), 139,018 parameters.

    The 28x28 image is cut into 49 patches of 4x4 pixels, each mapped to a
    ``dim``-feature token by ``patch`` (a Linear on the 16 pixels); a class token
    and learned position embeddings are added; ``depth`` pre-norm blocks of
    multi-head self-attention (``heads`` x ``head_dim``) and a GELU MLP follow; the
    class token's final LayerNorm feeds the 10-way ``head``. Every weight is an
    ``nn.Linear``, the layers that GPTQ, AWQ and SmoothQuant quantize.

    ``heads`` may be a list, one count per block: head pruning makes a physically
    smaller model, e.g. ``MnistViT(heads=[4, 2, 3, 1])``.

    Raises
    ------
    ValueError
        If ``heads`` is not an int in 0..4 or a list of ``depth`` such ints.
    """

    name = "vit_mnist"
    dataset = "mnist"
    input_shape = (1, 28, 28)
    patch_size, dim, depth, head_dim, mlp_dim = 4, 64, 4, 16, 128

    def __init__(self, heads=4):
        super().__init__()
        counts = [heads] * self.depth if isinstance(heads, int) and not isinstance(heads, bool) else heads
        if (not isinstance(counts, (list, tuple)) or len(counts) != self.depth
                or not all(isinstance(h, int) and not isinstance(h, bool) and 0 <= h <= 4 for h in counts)):
            raise ValueError(f"heads == {heads!r}, must be an int in 0..4 or a list of {self.depth} such ints "
                             "(heads per block).")
        tokens = (28 // self.patch_size) ** 2
        self.standardize = Standardize(MNIST_MEAN, MNIST_STD)
        self.patch = nn.Linear(self.patch_size ** 2, self.dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, self.dim))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, self.dim) * 0.02)
        self.blocks = nn.ModuleList(Block(self.dim, h, self.head_dim, self.mlp_dim) for h in counts)
        self.norm = nn.LayerNorm(self.dim)
        self.head = nn.Linear(self.dim, 10)

    def patches(self, x):
        """``(N, 1, 28, 28)`` images -> ``(N, 49, 16)`` patches, row by row."""
        p = self.patch_size
        n = x.shape[0]
        x = x.reshape(n, 28 // p, p, 28 // p, p).permute(0, 1, 3, 2, 4)
        return x.reshape(n, (28 // p) ** 2, p * p)

    def forward(self, x):
        """The ``(N, 10)`` logits of ``(N, 1, 28, 28)`` float images ``x`` in [0, 1] (:func:`to_tensor`)."""
        tokens = self.patch(self.patches(self.standardize(x)))
        x = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))


MODELS = {"lenet300": LeNet300100, "lenet5": LeNet5, "cifar_vgg": CifarVGG, "wide_mlp": WideMLP,
          "vit_mnist": MnistViT}


def build_model(name: str) -> nn.Module:
    """A freshly initialised model (torch's random initial weights) named ``name``.

    Parameters
    ----------
    name : {"lenet300", "lenet5", "cifar_vgg", "wide_mlp", "vit_mnist"}

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not a str, or not a course model.
    """
    check_choice("name", name, tuple(MODELS))
    return MODELS[name]()


def to_tensor(images) -> torch.Tensor:
    """uint8 images from :mod:`course_lib.data` -> float32 tensor in [0, 1], (N, C, H, W).

    Accepts (N, 28, 28) grey images, (N, 32, 32, 3) colour images (channels
    last) or a single image without the leading N.

    Raises
    ------
    TypeError
        If ``images`` is not uint8.
    ValueError
        If its shape is none of the above.
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


