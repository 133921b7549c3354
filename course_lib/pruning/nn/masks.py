"""Pruning masks on PyTorch models: the weights of every Linear/Conv2d, masks for a sparsity, applying them.

A mask is a dict ``{"fc1.weight": bool array}`` (``True`` = kept) over the weights of
the ``nn.Linear`` and ``nn.Conv2d`` layers -- biases and batch-norm parameters are few
and are not pruned. Nothing here mutates a model it is given.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_bool,
    check_choice,
    check_fraction,
    check_model,
)
from ...layers import WEIGHT_LAYERS as PRUNABLE_LAYERS
from ..masks import global_magnitude_prune, magnitude_mask

__all__ = ["prunable_params", "prunable_weights", "check_masks", "masks_for", "apply_masks"]


def prunable_params(model: nn.Module) -> dict[str, nn.Parameter]:
    """``{"fc1.weight": parameter}`` for every Linear / Conv2d layer, in module order."""
    check_model(model)
    return {f"{name}.weight" if name else "weight": module.weight
            for name, module in model.named_modules() if isinstance(module, PRUNABLE_LAYERS)}


def check_masks(model: nn.Module, masks) -> dict[str, np.ndarray]:
    """Masks as NumPy bool arrays, after checking names, dtypes and shapes against ``model``."""
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict of layer name -> bool array, got {type(masks).__name__}.")
    params = prunable_params(model)
    unknown = [name for name in masks if name not in params]
    if unknown:
        raise ValueError(f"masks has unknown layer name(s) {unknown}, must be among "
                         f"{', '.join(repr(n) for n in params)}.")
    checked = {}
    for name, mask in masks.items():
        if isinstance(mask, torch.Tensor):
            mask = mask.detach().cpu().numpy()
        try:
            mask = np.asarray(mask)
        except ValueError:
            raise ValueError(f"masks[{name!r}] is a ragged nested sequence, must be a bool array of the "
                             f"weight's shape {tuple(params[name].shape)}.") from None
        if mask.dtype != bool:
            raise TypeError(f"masks[{name!r}] must be a bool array (True = kept), got dtype {mask.dtype}.")
        shape = tuple(params[name].shape)
        if mask.shape != shape:
            raise ValueError(f"masks[{name!r}] has shape {mask.shape}, must match the weight's shape {shape}.")
        checked[name] = mask
    return checked



def prunable_weights(model: nn.Module) -> dict[str, np.ndarray]:
    """NumPy copies of the weights of every ``nn.Linear`` and ``nn.Conv2d`` layer.

    Returns
    -------
    dict of str -> ndarray
        Keys as in ``model.state_dict()`` (``"fc1.weight"``, ``"features.0.weight"``),
        in module order; the arrays are copies, safe to modify.

    Examples
    --------
    >>> from course_lib.models import LeNet300100
    >>> list(prunable_weights(LeNet300100()))
    ['fc1.weight', 'fc2.weight', 'fc3.weight']
    """
    return {name: p.detach().cpu().numpy().copy() for name, p in prunable_params(model).items()}


def masks_for(model: nn.Module, sparsity, *, scope: str = "layer", keep_last: bool = False) -> dict:
    """Magnitude-pruning masks that reach ``sparsity`` in each layer or over the whole model.

    Parameters
    ----------
    model : torch.nn.Module
    sparsity : float in [0, 1)
        Fraction of the prunable weights to remove.
    scope : {"layer", "global"}, keyword-only
        ``"layer"``: every layer loses the same fraction (:func:`~course_lib.pruning.magnitude_mask`);
        ``"global"``: one ranking over all layers (:func:`~course_lib.pruning.global_magnitude_prune`),
        so layers with many small weights lose more.
    keep_last : bool, keyword-only
        Leave the last prunable layer (the classifier) dense, as it is small and
        sensitive; the sparsity then applies to the other layers.

    Returns
    -------
    dict of str -> ndarray of bool
        One mask per prunable weight (see :func:`prunable_weights`), ``True`` = kept.

    Notes
    -----
    Each layer (or the whole model) loses exactly ``round(sparsity * size)`` weights,
    the smallest in magnitude, ties to the lower index. Weights that are already
    zero are the smallest, so masks computed on an already pruned model contain the
    earlier ones whenever the sparsity does not decrease.
    """
    weights = prunable_weights(model)
    sparsity = check_fraction("sparsity", sparsity, allow_one=False)
    scope = check_choice("scope", scope, ("layer", "global"))
    keep_last = check_bool("keep_last", keep_last)
    if not weights:
        raise ValueError(f"model ({type(model).__name__}) has no nn.Linear or nn.Conv2d layer to prune.")
    dense = {list(weights)[-1]} if keep_last else set()
    targets = {name: w for name, w in weights.items() if name not in dense}
    if not targets:
        masks = {}
    elif scope == "layer":
        masks = {name: magnitude_mask(w, sparsity) for name, w in targets.items()}
    else:
        masks = global_magnitude_prune(targets, sparsity)[1]
    return {name: masks[name] if name in masks else np.ones(w.shape, dtype=bool) for name, w in weights.items()}


def apply_masks(model: nn.Module, masks: dict) -> nn.Module:
    """A copy of ``model`` with the removed weights (mask ``False``) set to zero.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified.
    masks : dict of str -> bool array or bool tensor
        Some or all of the names of :func:`prunable_weights`, each of the weight's shape.

    Returns
    -------
    torch.nn.Module
        A deep copy, in the same train/eval mode.

    Raises
    ------
    TypeError
        If ``masks`` is not a dict or a mask is not boolean.
    ValueError
        If a name is not a prunable weight of ``model`` or a shape does not match.
    """
    checked = check_masks(model, masks)
    new = copy.deepcopy(model)
    params = prunable_params(new)
    with torch.no_grad():
        for name, mask in checked.items():
            params[name].masked_fill_(~torch.from_numpy(mask).to(params[name].device), 0.0)
    return new
