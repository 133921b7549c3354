"""Quantization-aware training: prepare (fake-quantized layers), train, convert to integers."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..._validation import (
    check_bits,
    check_bool,
    check_float,
    check_int,
    check_labels,
    check_model,
    check_positive_float,
    check_random_state,
)
from ...layers import num_outputs, replace_layers, set_submodule, weight_layers
from ...models import check_images
from ...train import adam_steps
from .calibrate import check_ranges
from .fold import fold_batchnorm
from .layers import QATLayer, QuantizedLayer

__all__ = ["prepare_qat", "train_qat", "convert_qat"]


def _qat_layers(model) -> dict[str, QATLayer]:
    layers = {name: m for name, m in check_model(model).named_modules() if isinstance(m, QATLayer)}
    if not layers:
        raise ValueError(f"model ({type(model).__name__}) has no QATLayer: prepare it with prepare_qat first.")
    return layers


def prepare_qat(model: nn.Module, *, bits: int = 8, per_channel: bool = True, ranges: dict | None = None,
                momentum: float = 0.01) -> nn.Module:
    """A copy of ``model`` ready for quantization-aware training.

    Parameters
    ----------
    model : torch.nn.Module
        A trained float model; not modified. Batch norm is folded first, so QAT trains
        the folded convolutions with the batch statistics frozen (fine for a short
        fine-tune; Jacob et al. [1]_ fold with the batch statistics while training).
    bits : int in 2..8, keyword-only
        Bits of weights and activations.
    per_channel : bool, keyword-only
    ranges : dict or None, keyword-only
        Starting input ranges from :func:`calibrate` (recommended); ``None``: each
        layer starts from its first training batch.
    momentum : float in (0, 1], keyword-only
        Of the moving average of the ranges (see :class:`QATLayer`).

    Returns
    -------
    torch.nn.Module
        Eval mode; each Linear / Conv2d replaced by a :class:`QATLayer`.
    """
    layers = weight_layers(model)
    bits = check_bits(bits)
    per_channel = check_bool("per_channel", per_channel)
    checked = None if ranges is None else check_ranges(ranges, layers)
    momentum = check_float("momentum", momentum, low=0.0, high=1.0, low_open=True)

    def make(name, layer):
        low, high = (None, None) if checked is None else checked[name]
        return QATLayer(layer, bits=bits, per_channel=per_channel, momentum=momentum, low=low, high=high)

    return replace_layers(fold_batchnorm(model), make)


def train_qat(model: nn.Module, images, labels, *, epochs: int = 1, max_steps: int | None = None,
              lr: float = 1e-4, batch_size: int = 128, rng=None, progress: bool = False) -> nn.Module:
    """Fine-tune a :func:`prepare_qat` model with fake quantization in the loop; returns a trained copy.

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`prepare_qat`; not modified.
    images : uint8 ndarray
    labels : int ndarray, shape (N,)
    epochs : int, keyword-only
    max_steps : int or None, keyword-only
        Stop after this many optimizer steps (None: all ``epochs``).
    lr : float, keyword-only
        Adam's learning rate: small, the model is already trained. 1e-4 suits 8 and 4 bits;
        at 2 or 3 bits, where post-training quantization has wrecked the model, 1e-3
        recovers faster (LeNet-300-100, 2 bits, 100 steps: 54% with 1e-4, 88% with 1e-3).
    batch_size : int, keyword-only
    rng : None, int or numpy.random.Generator, keyword-only
        Shuffles the examples and seeds dropout (in a forked torch generator, so the
        global torch seed is untouched): the same ``rng`` gives the same model.
    progress : bool, keyword-only

    Returns
    -------
    torch.nn.Module
        The trained copy, in eval mode (input ranges frozen); :func:`convert_qat` makes
        it a full-integer model.

    Notes
    -----
    The loss sees the quantized network, and the straight-through gradient
    (:class:`FakeQuantSTE`) updates the float weights behind it, so they move to where
    their *rounded* values do well [1]_, [2]_.
    """
    _qat_layers(model)
    x_all = check_images(model, images)
    labels = check_labels(labels, len(x_all), num_classes=num_outputs(model))
    epochs = check_int("epochs", epochs, minimum=0)
    max_steps = check_int("max_steps", max_steps, minimum=0, allow_none=True)
    lr = check_positive_float("lr", lr)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    progress = check_bool("progress", progress)
    gen = check_random_state(rng)

    new = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(gen.integers(2 ** 62)))
        return adam_steps(new, x_all, labels, epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr,
                          gen=gen, progress=progress, desc="QAT")


def convert_qat(model: nn.Module) -> nn.Module:
    """The full-integer model of a QAT model: each :class:`QATLayer` -> :class:`QuantizedLayer`.

    The weights are quantized from the trained float weights and the input ranges are
    the tracked ones, so the result computes what ``model.eval()`` computes (up to float
    rounding), in the form of :func:`ptq_full_integer`'s output. Returns a copy in eval mode.

    Raises
    ------
    ValueError
        If ``model`` has no QATLayer, or one has never seen an input range.
    """
    layers = _qat_layers(model)
    for name, layer in layers.items():
        if not layer.observed:
            raise ValueError(f"model.{name} has not seen any input range yet: train the model with train_qat "
                             f"or pass ranges to prepare_qat.")
    new = copy.deepcopy(model).eval()
    for name, layer in _qat_layers(new).items():
        quantized = QuantizedLayer(layer, layer.act_min, layer.act_max, bits=layer.bits,
                                   per_channel=layer.per_channel)
        if not name:
            return quantized.eval()
        set_submodule(new, name, quantized)
    return new.eval()
