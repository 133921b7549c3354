"""Neuron pruning on PyTorch models: activations of hidden layers, and a physically smaller MLP."""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from ..._validation import check_choice, check_int
from ...models import LeNet300100, check_images, to_tensor
from ..neurons import absorb_duplicates, check_indices, check_pairs, drop_units

__all__ = ["collect_activations", "shrink_mlp", "make_duplicate"]

HIDDEN_LAYERS = {"fc1": "fc2", "fc2": "fc3"}  # LeNet300100: hidden layer -> the layer reading it


def _check_lenet(model) -> None:
    if not isinstance(model, LeNet300100):
        raise TypeError(f"model must be a LeNet300100, got {type(model).__name__}.")



def collect_activations(model: nn.Module, images, layers, *, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """Outputs after the ReLU of the named ``nn.Linear`` layers on ``images``.

    Parameters
    ----------
    model : torch.nn.Module
        E.g. a :class:`~course_lib.models.LeNet300100`.
    images : numpy.ndarray
        uint8 images as loaded by :mod:`course_lib.data`, shape (N, H, W) or (N, H, W, 3).
    layers : str or sequence of str
        Names of ``nn.Linear`` submodules, e.g. ``("fc1", "fc2")``.
    batch_size : int, keyword-only
        Images per forward pass.

    Returns
    -------
    dict
        ``{layer: acts}`` with ``acts`` a float32 array of shape (N, units).

    Raises
    ------
    TypeError, ValueError
        For a model that is not a module, unknown layer names, empty images or a bad ``batch_size``.

    Notes
    -----
    LeNet300100 applies ``torch.relu`` as a function, so there is no ReLU module
    to hook. A forward hook on each Linear layer records ``relu(W x + b)``
    instead: this is the layer's activation only for layers followed by a ReLU
    (``fc1`` and ``fc2`` of LeNet-300-100, not the logits ``fc3``).
    The forward passes run in eval and inference mode; the model's
    train/eval mode is restored and the hooks removed afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if not isinstance(layers, (str, list, tuple)):
        raise TypeError(f"layers must be a str or a list of str, got {type(layers).__name__} ({layers!r}).")
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    if not layers:
        raise ValueError("layers is empty, must name at least one nn.Linear layer.")
    for i, name in enumerate(layers):
        if not isinstance(name, str):
            raise TypeError(f"layers[{i}] must be a str (a layer name), got {type(name).__name__} ({name!r}).")
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers == {list(layers)!r} names a layer twice, each must appear once.")
    linear = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    for name in layers:
        if name not in linear:
            options = ", ".join(repr(n) for n in linear)
            raise ValueError(f"layers contains {name!r}, must name nn.Linear layers of the model: {options}.")
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images has shape {images.shape}, must be a batch (N, H, W) or (N, H, W, 3).")
    if len(images) == 0:
        raise ValueError("images is empty, must have at least one image.")
    check_images(model, images[:1])  # the model's own data set's images (uint8, the right shape)

    chunks = {name: [] for name in layers}

    def hook_for(name):
        def hook(module, inputs, output):
            chunks[name].append(torch.relu(output).cpu().numpy())
        return hook

    handles = [linear[name].register_forward_hook(hook_for(name)) for name in chunks]
    was_training = model.training
    try:
        model.eval()
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                model(to_tensor(images[start:start + batch_size]))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {name: np.concatenate(parts).astype(np.float32) for name, parts in chunks.items()}



def shrink_mlp(model: LeNet300100, *, drop: Mapping | None = None, merge: Mapping | None = None) -> LeNet300100:
    """A new, physically smaller LeNet-300-100 without the given hidden neurons.

    Parameters
    ----------
    model : LeNet300100
        Not changed.
    drop : dict or None, keyword-only
        ``{"fc1": indices, "fc2": indices}``: neurons to remove (:func:`remove_neurons`).
    merge : dict or None, keyword-only
        ``{"fc1": pairs, "fc2": pairs}``: ``(keep, drop)`` pairs to merge (:func:`merge_neurons`).

    Returns
    -------
    LeNet300100
        ``LeNet300100(hidden=(h1, h2))`` with the remaining neurons, in the
        model's train/eval mode. Its state dict is smaller by
        ``k (in + 1 + out)`` parameters per removed neuron.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a LeNet300100, unknown layer names, bad indices
        or pairs, or a neuron both removed and merged.

    Notes
    -----
    Indices refer to the neurons of the *original* model. A hidden layer's
    neurons are rows of its own weight and columns of the next layer's
    (fc1 -> fc2, fc2 -> fc3), so the two layers shrink independently.
    """
    _check_lenet(model)
    plans = {}
    for name, value in (("drop", drop), ("merge", merge)):
        value = {} if value is None else value
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict layer name -> neurons, got {type(value).__name__}.")
        for layer in value:
            if layer not in HIDDEN_LAYERS:
                raise ValueError(f"{name} has layer {layer!r}, must be one of 'fc1', 'fc2' (the hidden layers).")
        plans[name] = value
    params = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    for layer, nxt in HIDDEN_LAYERS.items():
        w_in, b_in, w_out = params[f"{layer}.weight"], params[f"{layer}.bias"], params[f"{nxt}.weight"]
        units = w_in.shape[0]
        removed = check_indices(f"drop[{layer!r}]", plans["drop"].get(layer, []), units)
        pairs = check_pairs(f"merge[{layer!r}]", plans["merge"].get(layer, []), units)
        both = sorted(set(removed.tolist()) & {n for pair in pairs for n in pair})
        if both:
            raise ValueError(f"drop[{layer!r}] and merge[{layer!r}] both contain neuron {both[0]}: "
                             "a neuron is either removed or merged, not both.")
        gone = np.concatenate([removed, np.array([d for _, d in pairs], dtype=np.intp)])
        if len(gone) >= units:
            raise ValueError(f"drop[{layer!r}] and merge[{layer!r}] remove all {units} neurons, "
                             "must leave at least one.")
        params[f"{layer}.weight"], params[f"{layer}.bias"], params[f"{nxt}.weight"] = drop_units(
            w_in, b_in, absorb_duplicates(w_out, pairs), gone)
    small = LeNet300100(hidden=(params["fc1.weight"].shape[0], params["fc2.weight"].shape[0]))
    small.load_state_dict({k: torch.tensor(v) for k, v in params.items()})
    return small.train(model.training)


def make_duplicate(model: LeNet300100, layer: str, source: int, target: int) -> LeNet300100:
    """A copy of ``model`` where neuron ``target`` of ``layer`` is an exact copy of neuron ``source``.

    Copies the incoming weights and bias, so the two neurons' outputs are equal
    on every input and :func:`find_duplicates` with ``tol=0`` finds them. The
    new model differs from ``model`` (``target``'s old output is gone); merging
    ``(source, target)`` with :func:`shrink_mlp` then leaves its logits
    unchanged. For teaching: trained networks rarely hold exact duplicates.

    Parameters
    ----------
    model : LeNet300100
        Not changed.
    layer : {"fc1", "fc2"}
        The hidden layer.
    source, target : int
        Two different neurons of ``layer``.

    Returns
    -------
    LeNet300100
        A deep copy with the target neuron overwritten.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a LeNet300100, an unknown layer, indices out of
        range or ``source == target``.
    """
    _check_lenet(model)
    check_choice("layer", layer, tuple(HIDDEN_LAYERS))
    units = getattr(model, layer).out_features
    source = check_int("source", source, minimum=0, maximum=units - 1)
    target = check_int("target", target, minimum=0, maximum=units - 1)
    if source == target:
        raise ValueError(f"source == target == {source}, must be two different neurons.")
    twin = copy.deepcopy(model)
    linear = getattr(twin, layer)
    with torch.no_grad():
        linear.weight[target] = linear.weight[source]
        linear.bias[target] = linear.bias[source]
    return twin
