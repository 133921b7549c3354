"""Weight sharing of PyTorch models: tie every Linear/Conv2d to a codebook, fine-tune the centroids, save a file.

A shared layer keeps its ``weight`` attribute, but the weight is now computed, on every forward
pass, as ``codebook[indices]`` (zero where pruned) by a parametrization
(:func:`torch.nn.utils.parametrize.register_parametrization`). The codebook is the layer's one
trainable tensor: autograd's backward pass through the gather ``codebook[indices]`` adds up the
gradients of all the weights that share a centroid -- Han et al.'s eq. 3,
:func:`course_lib.sharing.centroid_gradient` -- so fine-tuning moves the shared values and never
the assignment. Nothing here mutates a model it is given.

Typical use::

    pruned = ...                                         # a pruned model (zeros are pruned weights)
    shared = share_model(pruned, {"fc1": 5, "fc2": 5, "fc3": 5})
    tuned = fine_tune_centroids(shared, train.images, train.labels, epochs=1)
    size = save_shared_model(tuned, "lenet300.dc")       # bytes of the Deep-Compressed file
    same = load_shared_model("lenet300.dc", "lenet300")  # decoded: exactly the shared weights
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from .._validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_labels,
    check_model,
    check_path,
    check_positive_float,
    check_random_state,
)
from ..layers import num_outputs, weight_layers
from ..models import build_model, check_images
from ..train import adam_steps
from .kmeans import INITS, share_weights
from .storage import CODINGS, read_layers, write_layers

__all__ = ["SharedWeight", "share_model", "shared_layers", "fine_tune_centroids", "materialize",
           "save_shared_model", "load_shared_model"]


class SharedWeight(nn.Module):
    """The parametrization ``weight = codebook[indices]`` (0 where ``mask`` is False); trains the codebook only.

    Parameters
    ----------
    codebook : array_like of float, shape (k,)
        The centroids; becomes the trainable ``nn.Parameter`` :attr:`codebook` (float32).
    indices : array_like of ints in ``[0, k)``
        The weight's shape; kept as a buffer.
    mask : bool array_like, the weight's shape
        ``True`` where the weight is kept; kept as a buffer.
    """

    def __init__(self, codebook, indices, mask):
        super().__init__()
        self.codebook = nn.Parameter(torch.as_tensor(np.asarray(codebook, dtype=np.float32)).clone())
        self.register_buffer("indices", torch.as_tensor(np.asarray(indices, dtype=np.int64)).clone())
        self.register_buffer("mask", torch.as_tensor(np.asarray(mask, dtype=bool)).clone())

    def forward(self, original: torch.Tensor) -> torch.Tensor:
        """The shared weight (``original``, the parametrized tensor, is not used)."""
        return torch.where(self.mask, self.codebook[self.indices], torch.zeros((), dtype=self.codebook.dtype))


def _check_bits(model: nn.Module, bits) -> dict[str, int]:
    names = list(weight_layers(model))  # [""] for a model that is one layer
    if isinstance(bits, dict):
        unknown = [n for n in bits if n not in names]
        if unknown:
            raise ValueError(f"bits names {unknown}, must name layers among {names}.")
        return {n: check_int(f"bits[{n!r}]", b, minimum=1, maximum=16) for n, b in bits.items()}
    bits = check_int("bits", bits, minimum=1, maximum=16)
    return {n: bits for n in names}


def _shared_modules(model: nn.Module) -> dict[str, SharedWeight]:
    return {name: m.parametrizations.weight[0] for name, m in model.named_modules()
            if parametrize.is_parametrized(m, "weight") and isinstance(m.parametrizations.weight[0], SharedWeight)}


def _attach(layer: nn.Module, codebook, indices, mask) -> None:
    parametrize.register_parametrization(layer, "weight", SharedWeight(codebook, indices, mask))
    layer.parametrizations.weight.original.requires_grad_(False)


def share_model(model: nn.Module, bits, *, init: str = "linear", iters: int = 300, tol: float = 1e-4,
                rng=None) -> nn.Module:
    """A copy of ``model`` whose Linear/Conv2d weights are shared through k-means codebooks.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified. Its exact zeros are taken as pruned: they are not clustered and stay zero.
    bits : int or dict of str -> int
        Index width (1 to 16) for every layer of :func:`course_lib.layers.weight_layers`, or per layer
        name (``{"fc1": 5, ...}``; layers not named keep their float32 weights).
    init, iters, tol, rng : keyword-only
        As :func:`course_lib.sharing.share_weights`.

    Returns
    -------
    torch.nn.Module
        The copy, in eval mode; each shared layer's ``weight`` is ``codebook[indices]``
        (:class:`SharedWeight`); the weights the codebooks replace no longer require gradients.

    Raises
    ------
    TypeError, ValueError
        On a bad model, bits (naming a layer the model lacks), init, iters, tol or rng, all checked
        before any clustering; or if a layer is pruned to nothing.
    """
    check_model(model)
    per_layer = _check_bits(model, bits)
    init = check_choice("init", init, INITS)
    iters = check_int("iters", iters, minimum=1)
    tol = check_float("tol", tol, low=0.0)
    gen = check_random_state(rng)
    if _shared_modules(model):
        raise ValueError("model is already weight-shared, must be a plain model (see materialize).")
    shared = copy.deepcopy(model)
    layers = weight_layers(shared)
    for name, b in per_layer.items():
        w = layers[name].weight.detach().cpu().numpy()
        mask = w != 0
        codebook, indices = share_weights(w, b, init=init, mask=mask, iters=iters, tol=tol, rng=gen)
        _attach(layers[name], codebook, indices, mask)
    return shared.eval()


def shared_layers(model: nn.Module) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``{layer name: (codebook, indices, mask)}`` of the weight-shared layers of ``model``, as NumPy arrays.

    The codebook is float32, the indices uint8 (k <= 256) or uint16, the mask bool.
    """
    check_model(model)
    out = {}
    for name, m in _shared_modules(model).items():
        k = m.codebook.numel()
        out[name] = (m.codebook.detach().cpu().numpy().astype(np.float32),
                     m.indices.cpu().numpy().astype(np.uint8 if k <= 256 else np.uint16),
                     m.mask.cpu().numpy().copy())
    return out


def materialize(model: nn.Module) -> nn.Module:
    """A plain copy of a weight-shared model: each weight becomes the tensor ``codebook[indices]`` (eval mode).

    Notes
    -----
    A parametrized layer's class is made for it by PyTorch and shared by its deep copies, so
    :func:`torch.nn.utils.parametrize.remove_parametrizations` on a copy would also strip the
    original; the copy's layers are given back their plain class instead.
    """
    check_model(model)
    plain = copy.deepcopy(model)
    for name in _shared_modules(plain):
        layer = plain.get_submodule(name) if name else plain
        weight = layer.weight.detach().clone()
        del layer._modules["parametrizations"]
        layer.__class__ = type(layer).__bases__[0]
        layer.weight = nn.Parameter(weight)
    return plain.eval()


def fine_tune_centroids(model: nn.Module, images, labels, *, epochs: int = 1, batch_size: int = 128,
                        lr: float = 1e-4, rng=None, max_steps: int | None = None, progress: bool = False) -> nn.Module:
    """Train a copy of a weight-shared model's codebooks only (Adam, cross-entropy); the indices never change.

    Parameters
    ----------
    model : torch.nn.Module
        Weight-shared (:func:`share_model`); not modified.
    images : uint8 ndarray
        As returned by :mod:`course_lib.data`.
    labels : int ndarray, shape (N,)
    epochs, batch_size, max_steps : int, keyword-only
        Passes over the data, images per step, and an optional cap on the steps.
    lr : float, keyword-only
        Adam's learning rate.
    rng : None, int or numpy.random.Generator, keyword-only
        Shuffles the examples.
    progress : bool, keyword-only
        Show a progress bar.

    Returns
    -------
    torch.nn.Module
        The fine-tuned copy, in eval mode; pruned weights are still exactly zero.

    Raises
    ------
    TypeError, ValueError
        On a model that has no shared layer, or bad data or settings (checked before training).

    Notes
    -----
    Every parameter but the codebooks is frozen (biases included). The gradient autograd gives a
    codebook is, per centroid, the sum of the gradients of the weights that use it (Han et al.,
    eq. 3); Adam then scales it per centroid. ``dropout`` uses torch's generator: call
    ``torch.manual_seed`` for a repeatable run.
    """
    check_model(model)
    if not _shared_modules(model):
        raise ValueError("model has no weight-shared layer, must come from share_model.")
    x_all = check_images(model, images)
    labels = check_labels(labels, len(x_all), num_classes=num_outputs(model))
    if len(labels) == 0:
        raise ValueError("images is empty, must hold at least one training image.")
    epochs = check_int("epochs", epochs, minimum=0)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive_float("lr", lr)
    max_steps = check_int("max_steps", max_steps, minimum=0, allow_none=True)
    progress = check_bool("progress", progress)
    gen = check_random_state(rng)
    tuned = copy.deepcopy(model)
    codebooks = {id(m.codebook) for m in _shared_modules(tuned).values()}
    for p in tuned.parameters():
        p.requires_grad_(id(p) in codebooks)
    return adam_steps(tuned, x_all, labels, epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr,
                      gen=gen, progress=progress, desc="centroids")


def _plain_arrays(model: nn.Module, shared: dict) -> dict[str, np.ndarray]:
    prefixes = tuple(f"{name}.parametrizations." if name else "parametrizations." for name in shared)
    return {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()
            if not key.startswith(prefixes)}


def save_shared_model(model: nn.Module, path, *, coding: str = "huffman") -> int:
    """Write a weight-shared model to one file; returns its size in bytes (``os.path.getsize``).

    Each shared layer is stored by :func:`course_lib.sharing.storage.encode_layer` (codebook,
    Huffman-coded indices, Huffman-coded relative gaps: 8 bits for a convolution, 5 for a fully
    connected layer); every other tensor of the state dict (biases, unshared weights, batch-norm
    statistics) as float32. ``coding="fixed"``: the streams in one width per stream instead of
    Huffman's codes (the stage before Huffman coding; :func:`course_lib.sharing.storage.fixed_lengths`).

    Raises
    ------
    TypeError, ValueError
        If ``model`` has no shared layer or ``path`` is not a file in an existing folder (checked
        before anything is written).
    """
    check_model(model)
    path = check_path("path", path, parent_must_exist=True)
    coding = check_choice("coding", coding, CODINGS)
    shared = shared_layers(model)
    if not shared:
        raise ValueError("model has no weight-shared layer, must come from share_model.")
    return write_layers(path, shared, _plain_arrays(model, shared), coding=coding)


def load_shared_model(path, model) -> nn.Module:
    """The weight-shared model stored by :func:`save_shared_model`, rebuilt exactly (eval mode).

    Parameters
    ----------
    path : str or path
        The file.
    model : str or torch.nn.Module
        The architecture: a course model's name (:func:`course_lib.models.build_model`) or a model
        to copy (not modified; its weights are replaced).

    Returns
    -------
    torch.nn.Module
        Shared layers as :func:`share_model` makes them, with the file's codebooks, indices and masks.

    Raises
    ------
    TypeError, ValueError
        On a bad path or model, or a file that is not a whole file of this format (every count of its
        headers is checked against the file's length before anything of that size is allocated), or
        whose names and shapes do not fit the model.
    """
    path = check_path("path", path, must_exist=True)
    if isinstance(model, str):
        target = build_model(model)
    else:
        target = materialize(check_model(model))
    layers, arrays = read_layers(path)
    modules = weight_layers(target)
    state = target.state_dict()
    for name, (_, indices, _) in layers.items():
        if name not in modules or tuple(modules[name].weight.shape) != indices.shape:
            raise ValueError(f"path stores layer {name!r} of shape {indices.shape}, must fit a layer of model.")
    for key, value in arrays.items():
        if key not in state or tuple(state[key].shape) != value.shape:
            raise ValueError(f"path stores {key!r} of shape {value.shape}, must fit the model's state.")
        with torch.no_grad():
            state[key].copy_(torch.from_numpy(value).to(state[key].dtype))
    for name, (codebook, indices, mask) in layers.items():
        _attach(modules[name], codebook, indices, mask)
    return target.eval()
