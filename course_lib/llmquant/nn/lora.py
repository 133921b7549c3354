"""Low-rank adapters (Hu et al. 2022) on frozen, possibly quantized, weights: QLoRA's idea (Dettmers et al. 2023).

The factorization chapter replaced a weight ``W`` by a low-rank product. LoRA keeps ``W`` and *adds* one,
trained: a frozen Linear becomes

    y = W x + b + (alpha / r) * B (A x),     A: (r, in), B: (out, r),

with ``A`` random (Kaiming-uniform, as ``nn.Linear`` initialises its weight) and ``B`` zero, so that the
adapted model starts exactly equal to the frozen one and only ``r * (in + out)`` numbers per layer train.
QLoRA freezes the *quantized* weight (here: its dequantized copy, see
:func:`course_lib.llmquant.nn.quantize_vit`) and trains float adapters on top, recovering part of the
accuracy the quantization lost. The stored model is then the int4 (or 3-bit ...) base *plus* the float
adapters; merging ``B A`` into ``W`` (:func:`merge_lora`) gives a plain float model, whose weight is no
longer on the quantization grid.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_bool,
    check_int,
    check_labels,
    check_model,
    check_names,
    check_positive_float,
    check_random_state,
)
from ...layers import set_submodule
from ...models import check_images
from .capture import vit_linears

__all__ = ["LoRALinear", "add_lora", "lora_parameters", "finetune_lora", "merge_lora"]

class LoRALinear(nn.Module):
    """A frozen Linear plus a trainable low-rank update: ``base(x) + (alpha / rank) * B(A(x))``.

    Parameters
    ----------
    base : torch.nn.Linear
        The frozen layer (kept, not copied: its parameters get ``requires_grad=False``); its weight may be a
        dequantized low-bit weight.
    rank : int
        The adapter's rank ``r``, 1 .. ``min(in, out)``.
    alpha : float or None
        The scale's numerator: the update is multiplied by ``alpha / rank``. None: ``alpha = rank`` (scale 1).
        (Hu et al. fix ``alpha`` when they vary ``r``, so that a larger rank does not need another learning rate.)
    generator : torch.Generator or None, keyword-only
        Draws ``A`` (None: torch's global generator).

    Attributes
    ----------
    lora_a : torch.nn.Parameter
        ``A``, ``(rank, in)``, Kaiming-uniform like an ``nn.Linear`` weight.
    lora_b : torch.nn.Parameter
        ``B``, ``(out, rank)``, zeros: the layer starts exactly equal to ``base``.
    scale : float
        ``alpha / rank``.

    Raises
    ------
    TypeError
        If ``base`` is not an ``nn.Linear``, ``rank`` not an int or ``alpha`` not a real number.
    ValueError
        If ``base`` has no weight (zero-size), ``rank`` is outside ``1 .. min(in, out)`` or ``alpha`` <= 0.
    """

    def __init__(self, base: nn.Linear, rank: int, alpha: float | None = None, *, generator=None):
        super().__init__()
        if not isinstance(base, nn.Linear) or isinstance(base, LoRALinear):
            raise TypeError(f"base must be a torch.nn.Linear, got {type(base).__name__}.")
        out_f, in_f = base.weight.shape
        if out_f * in_f == 0:
            raise ValueError(f"base has a zero-size weight ({out_f}x{in_f}), must have one to adapt.")
        rank = check_int("rank", rank, minimum=1, maximum=min(in_f, out_f))
        alpha = float(rank) if alpha is None else check_positive_float("alpha", alpha)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be None or a torch.Generator, got {type(generator).__name__}.")
        base.requires_grad_(False)
        self.base, self.rank, self.alpha, self.scale = base, rank, alpha, alpha / rank
        self.in_features, self.out_features = in_f, out_f
        a = torch.empty(rank, in_f, dtype=base.weight.dtype)
        nn.init.kaiming_uniform_(a, a=math.sqrt(5), generator=generator)  # nn.Linear's initialisation
        self.lora_a = nn.Parameter(a)
        self.lora_b = nn.Parameter(torch.zeros(out_f, rank, dtype=base.weight.dtype))

    def delta_weight(self) -> torch.Tensor:
        """The update ``(alpha / rank) * B A`` as an ``(out, in)`` matrix (what :func:`merge_lora` adds)."""
        return self.scale * (self.lora_b @ self.lora_a)

    def forward(self, x):
        """``base(x) + scale * (x A^T) B^T``: the adapter runs as two thin matmuls, never as ``B A``."""
        return self.base(x) + self.scale * nn.functional.linear(nn.functional.linear(x, self.lora_a), self.lora_b)

    def extra_repr(self) -> str:
        return f"rank={self.rank}, alpha={self.alpha:g}"


def add_lora(model, rank: int, *, names=None, alpha: float | None = None, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose block Linears carry trainable adapters; every other parameter is frozen.

    Frozen: every base weight and bias, and everything outside the adapters too -- the patch embedding,
    class token, position embeddings, LayerNorms and the classification head (QLoRA trains only the adapters).

    Parameters
    ----------
    model : torch.nn.Module
        Not modified (e.g. ``cl.load_pretrained("vit_mnist")`` or a quantized copy of it).
    rank : int
        Every adapter's rank (at least 1, at most each layer's ``min(in, out)``).
    names : sequence of str or None, keyword-only
        The Linear layers to adapt; None: the 24 block Linears ``blocks.{i}.attn.q|k|v|proj``,
        ``blocks.{i}.fc1|fc2`` (zero-size ones skipped).
    alpha : float or None, keyword-only
        As :class:`LoRALinear` (None: ``alpha = rank``).
    seed : int, keyword-only
        Draws the ``A`` matrices (a fixed seed: the same adapters every run).

    Returns
    -------
    torch.nn.Module
        The copy, in eval mode; :func:`lora_parameters` counts what trains.

    Raises
    ------
    TypeError
        If ``model`` is not a module or an argument has the wrong type.
    ValueError
        If a name is not a Linear of ``model`` (or is zero-size), or a rank does not fit a layer.
    """
    check_model(model)
    rank = check_int("rank", rank, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if alpha is not None:
        alpha = check_positive_float("alpha", alpha)
    if names is None:
        names = list(vit_linears(model))  # a model without ViT blocks: TypeError naming model
    else:
        modules = dict(model.named_modules())
        names = check_names("names", names)
        for n in names:
            if not isinstance(modules.get(n), nn.Linear) or isinstance(modules.get(n), LoRALinear):
                linear = [k for k, m in modules.items() if isinstance(m, nn.Linear)]
                raise ValueError(f"names has {n!r}, must name a Linear layer of the model ({', '.join(linear)}).")
    new = copy.deepcopy(model)
    new.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    for n in names:
        try:
            adapted = LoRALinear(new.get_submodule(n), rank, alpha, generator=generator)
        except ValueError as exc:
            raise ValueError(f"names[{n!r}]: {exc}") from None
        set_submodule(new, n, adapted)
    return new.eval()


class _Count(tuple):
    """``(trainable, total)`` parameters, with ``.trainable``, ``.total``, ``.adapters`` and ``.full``."""

    def __new__(cls, trainable: int, total: int, adapters: int):
        self = super().__new__(cls, (trainable, total))
        self.adapters = adapters
        return self

    trainable = property(lambda self: self[0], doc="Parameters with ``requires_grad``.")
    total = property(lambda self: self[1], doc="All parameters, the adapters included.")
    full = property(lambda self: self[1] - self.adapters,
                    doc="The parameters of the model without its adapters: what full fine-tuning trains.")

    def __repr__(self) -> str:
        return f"(trainable={self[0]}, total={self[1]}, adapters={self.adapters}, full={self.full})"


def lora_parameters(model):
    """How many parameters train, of how many, and what full fine-tuning would train.

    Parameters
    ----------
    model : torch.nn.Module
        E.g. from :func:`add_lora`.

    Returns
    -------
    tuple
        ``(trainable, total)``: the parameters with ``requires_grad`` and all parameters (adapters
        included), also as ``.trainable`` and ``.total``; ``.adapters`` counts the adapters' ``A`` and ``B``
        entries and ``.full`` is ``total - adapters``, the model's own parameters, all of which full
        fine-tuning trains.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.
    """
    check_model(model)
    params = list(model.parameters())
    adapters = sum(m.lora_a.numel() + m.lora_b.numel() for m in model.modules() if isinstance(m, LoRALinear))
    return _Count(sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params), adapters)


def finetune_lora(model, images, labels, *, steps: int, lr: float = 3e-3, batch_size: int = 64, seed: int = 0,
                  progress: bool = True) -> nn.Module:
    """A copy of ``model`` with its adapters trained by Adam (cross-entropy); nothing else changes.

    Parameters
    ----------
    model : torch.nn.Module
        With :class:`LoRALinear` layers (:func:`add_lora`); not modified.
    images : uint8 ndarray
        Training images as :mod:`course_lib.data` loads them.
    labels : int ndarray, shape (N,)
    steps : int, keyword-only
        Adam steps (mini-batches), >= 0.
    lr : float, keyword-only
        Adam's learning rate.
    batch_size : int, keyword-only
        Images per step.
    seed : int, keyword-only
        Shuffles the images.
    progress : bool, keyword-only
        A progress bar.

    Returns
    -------
    torch.nn.Module
        The trained copy, in eval mode; only the adapters' ``A`` and ``B`` differ from ``model``.

    Raises
    ------
    TypeError, ValueError
        For a bad model, images, labels or count, or a model without adapters.
    """
    from ...layers import num_outputs
    from ...train import adam_steps

    check_model(model)
    if not any(isinstance(m, LoRALinear) for m in model.modules()):
        raise ValueError(f"model ({type(model).__name__}) has no LoRALinear layer, must have one "
                         f"(add_lora(model, rank) adds them).")
    x_all = check_images(model, images)
    labels = check_labels(labels, len(x_all), num_classes=num_outputs(model))
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive_float("lr", lr)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    gen = check_random_state(check_int("seed", seed, minimum=0), "seed")
    progress = check_bool("progress", progress)
    new = copy.deepcopy(model)
    new.requires_grad_(False)
    for m in new.modules():
        if isinstance(m, LoRALinear):
            m.lora_a.requires_grad_(True)
            m.lora_b.requires_grad_(True)
    return adam_steps(new, x_all, np.asarray(labels), epochs=10 ** 6, max_steps=steps, batch_size=batch_size,
                      lr=lr, gen=gen, progress=progress, desc=f"LoRA, {steps} steps")


def merge_lora(model) -> nn.Module:
    """A plain copy of ``model``: each :class:`LoRALinear` becomes an ``nn.Linear`` with ``W + (alpha/r) B A``.

    The merged model computes the same logits (up to float rounding) with no extra matmul, but its weight
    is float again: ``W + B A`` is not on the quantization grid. QLoRA therefore keeps the adapters
    separate -- the stored model is the low-bit base plus ``r * (in + out)`` float adapter numbers per
    layer -- and merges only when it may store float weights.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified.

    Returns
    -------
    torch.nn.Module
        The copy, in eval mode, with no :class:`LoRALinear` left; its parameters' ``requires_grad`` as
        in ``model``'s frozen base.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.
    ValueError
        If it has no :class:`LoRALinear` layer.
    """
    check_model(model)
    names = [n for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    if not names:
        raise ValueError(f"model ({type(model).__name__}) has no LoRALinear layer, must have one "
                         f"(add_lora(model, rank) adds them).")
    new = copy.deepcopy(model)
    for n in names:
        lora = new.get_submodule(n)
        base = lora.base
        merged = nn.Linear(lora.in_features, lora.out_features, bias=base.bias is not None,
                           dtype=base.weight.dtype)
        with torch.no_grad():
            merged.weight.copy_(base.weight + lora.delta_weight())
            if base.bias is not None:
                merged.bias.copy_(base.bias)
        merged.requires_grad_(base.weight.requires_grad)
        set_submodule(new, n, merged)
    return new.eval()
