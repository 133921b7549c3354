"""The Vision Transformer's block Linears and the inputs each one sees on calibration images.

Every method of the chapter (GPTQ, AWQ, SmoothQuant) needs, for a Linear ``y = W x``, its calibration
inputs ``X`` of shape ``(rows, in_features)``: one row per token of every image (50 tokens per image:
the class token and 49 patches). :func:`linear_inputs` records them with forward hooks, as float64
NumPy arrays for the NumPy core (:mod:`course_lib.llmquant`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..._validation import check_int, check_model, check_names
from ...models import MnistViT, check_images

__all__ = ["check_vit", "vit_linears", "linear_inputs"]


def check_vit(model) -> MnistViT:
    """``model`` checked: the course's Vision Transformer.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``, or not a :class:`~course_lib.models.MnistViT`.
    """
    check_model(model)
    if not isinstance(model, MnistViT):
        raise TypeError(f"model must be a course_lib.models.MnistViT, got {type(model).__name__}.")
    return model

#: the Linears of a block, in the order they run
BLOCK_LINEARS = ("attn.q", "attn.k", "attn.v", "attn.proj", "fc1", "fc2")

#: images per forward pass while capturing
_BATCH = 256


class _Stop(Exception):
    """Raised by the last hook: the rest of the forward pass is skipped."""


def vit_linears(model) -> dict[str, nn.Linear]:
    """The block Linears of a Vision Transformer, in order: ``blocks.{i}.attn.q|k|v|proj``, ``blocks.{i}.fc1|fc2``.

    The patch embedding and the classification head are not included (they stay float); a Linear
    with no weights (the attention of a block whose heads were all pruned) is skipped.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`course_lib.models.MnistViT` (or any module with ``blocks`` of the same layout).

    Returns
    -------
    dict of str to torch.nn.Linear

    Raises
    ------
    TypeError
        If ``model`` is not a module with the ViT's blocks.
    """
    check_model(model)
    blocks = getattr(model, "blocks", None)
    if not isinstance(blocks, nn.ModuleList):
        raise TypeError(f"model must be a Vision Transformer with a `blocks` ModuleList (course_lib.models.MnistViT), "
                        f"got {type(model).__name__}.")
    modules = dict(model.named_modules())
    layers = {}
    for i in range(len(blocks)):
        for part in BLOCK_LINEARS:
            name = f"blocks.{i}.{part}"
            layer = modules.get(name)
            if not isinstance(layer, nn.Linear):
                raise TypeError(f"model's {name} is {type(layer).__name__}, must be an nn.Linear (a MnistViT block).")
            if layer.weight.numel():
                layers[name] = layer
    return layers


def linear_inputs(model, images, names=None, *, max_rows: int | None = None) -> dict[str, np.ndarray]:
    """The inputs each block Linear sees on ``images``: float64 ``(rows, in_features)`` arrays.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`course_lib.models.MnistViT`; run in eval mode and without gradients (its mode is restored).
    images : uint8 array (N, 28, 28)
        MNIST images as :func:`course_lib.load_mnist` returns them.
    names : list of str, optional
        Which Linears (names of :func:`vit_linears`); None: all of them.
    max_rows : int, keyword-only, optional
        Keep at most this many rows per layer, chosen uniformly without replacement by a fixed
        generator (seed 0) and kept in their original order; None keeps all ``N x 50`` rows.

    Returns
    -------
    dict of str to ndarray
        In the order of ``names`` (or of :func:`vit_linears`).

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a ViT, ``images`` are not uint8 MNIST images, a name is not a block Linear,
        or ``max_rows`` is not an int >= 1.
    """
    layers = vit_linears(model)
    x = check_images(model, images)
    names = list(layers) if names is None else check_names("names", names, allowed=list(layers))
    max_rows = check_int("max_rows", max_rows, minimum=1, allow_none=True)
    chunks: dict[str, list[torch.Tensor]] = {name: [] for name in names}

    last = max(names, key=list(layers).index)  # the forward stops after it: the later layers are not needed

    def hook(name):
        def record(module, args, output):
            chunks[name].append(args[0].detach().reshape(-1, module.in_features).to(torch.float64))
            if name == last:
                raise _Stop
        return record

    handles = [layers[name].register_forward_hook(hook(name)) for name in names]
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            for start in range(0, len(x), _BATCH):
                try:
                    model(x[start:start + _BATCH])
                except _Stop:
                    pass
    finally:
        for handle in handles:
            handle.remove()
        model.train(training)
    result = {}
    for name in names:
        rows = torch.cat(chunks[name]).numpy()
        if max_rows is not None and len(rows) > max_rows:
            keep = np.sort(np.random.default_rng(0).choice(len(rows), size=max_rows, replace=False))
            rows = rows[keep]
        result[name] = rows
    return result
