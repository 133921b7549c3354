"""Attention-head importance and pruning (Michel, Levy & Neubig 2019, "Are Sixteen Heads Really Better than One?").

Every :class:`~course_lib.models.Attention` multiplies head ``h``'s output by a gate ``ξ_h`` (a buffer of
ones). Michel et al. score a head by how much the loss reacts to its gate,
``I_h = E_x |∂L(x)/∂ξ_h|`` (:func:`head_importance`), rank all heads of all layers together, and drop the
least important (:func:`heads_to_keep`). Dropping a head makes the model physically smaller
(:func:`prune_heads`): its 16 rows of ``q``, ``k``, ``v`` and its 16 columns of ``proj`` go away.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from ..._validation import check_bool, check_float_array, check_int, check_labels
from ...models import MnistViT, check_images
from .capture import check_vit

__all__ = ["head_importance", "heads_to_keep", "prune_heads"]




def head_importance(model, images, labels, *, batch_size: int = 100, normalize: bool = True) -> np.ndarray:
    """Michel et al.'s head importance ``I_h = mean_x |∂L(x)/∂ξ_h|``, one row per block.

    ``L(x)`` is the cross-entropy of one image and ``ξ_h`` the head's ``gate``: the absolute value is taken
    per image (the paper's expectation of ``|∂L(x)/∂ξ_h|``, not the gradient of the mean loss), computed for
    a whole batch at once with ``torch.func`` (``vmap`` of ``grad`` over the gates). ``normalize=True``
    divides each layer's scores by their L2 norm, as the paper does before ranking heads across layers.

    Parameters
    ----------
    model : MnistViT
        Not modified (its gates are read, not changed; its train/eval mode is restored).
    images : uint8 ndarray
    labels : 1-D integer array, one per image
    batch_size : int >= 1, keyword-only
    normalize : bool, keyword-only
        Divide each layer's row by its L2 norm (a row of zeros stays zeros).

    Returns
    -------
    ndarray (depth, max heads) float64
        ``NaN`` where a block has fewer heads than the widest one.
    """
    model = check_vit(model)
    x = check_images(model, images)
    y = torch.from_numpy(check_labels(labels, len(x), num_classes=10).astype(np.int64))
    batch_size = check_int("batch_size", batch_size, minimum=1)
    normalize = check_bool("normalize", normalize)
    names = [f"blocks.{i}.attn.gate" for i, b in enumerate(model.blocks) if b.attn.heads > 0]
    if not names:
        raise ValueError("model has no attention heads (heads == 0 in every block), must have at least one.")
    buffers = dict(model.named_buffers())
    gates = {n: buffers[n].detach().clone() for n in names}

    def loss(g, xi, yi):
        logits = functional_call(model, g, (xi[None],), strict=False)
        return nn.functional.cross_entropy(logits, yi[None])

    per_image = vmap(grad(loss), in_dims=(None, 0, 0))
    total = {n: torch.zeros_like(g, dtype=torch.float64) for n, g in gates.items()}
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(x), batch_size):
            grads = per_image(gates, x[i:i + batch_size], y[i:i + batch_size])
            for n in names:
                total[n] += grads[n].detach().abs().double().sum(0)
    finally:
        model.train(was_training)
    widest = max(b.attn.heads for b in model.blocks)
    out = np.full((len(model.blocks), widest), np.nan)
    for i, b in enumerate(model.blocks):
        name = f"blocks.{i}.attn.gate"
        if name in total:
            row = total[name].numpy() / len(x)
            norm = np.linalg.norm(row)
            out[i, :b.attn.heads] = row / norm if normalize and norm > 0 else row
    return out


def heads_to_keep(importance, total: int) -> list[list[int]]:
    """The ``total`` most important heads over all layers (one global ranking), as head indices per layer.

    Parameters
    ----------
    importance : 2-D float array (layers, heads)
        :func:`head_importance`'s matrix; ``NaN`` marks heads that do not exist.
    total : int
        Heads kept in all, 0 .. number of existing heads. Ties keep the earlier layer, then the lower index.

    Returns
    -------
    list of lists of int
        One sorted list per layer (possibly empty).
    """
    imp = check_float_array("importance", importance, ndim=2, finite=False).astype(np.float64)
    if np.isinf(imp).any():
        raise ValueError("importance holds infinite values, must be finite (NaN marks a missing head).")
    exists = ~np.isnan(imp)
    total = check_int("total", total, minimum=0, maximum=int(exists.sum()))
    flat = np.where(exists, imp, -np.inf).ravel()
    order = np.argsort(-flat, kind="stable")[:total]
    keep = [[] for _ in range(imp.shape[0])]
    for k in sorted(order.tolist()):
        keep[k // imp.shape[1]].append(k % imp.shape[1])
    return keep


def _check_keep(model: MnistViT, keep) -> list[list[int]]:
    if not isinstance(keep, (list, tuple)) or len(keep) != len(model.blocks):
        raise ValueError(f"keep must be a list of {len(model.blocks)} lists of head indices (one per block), "
                         f"got {type(keep).__name__}" + (f" of length {len(keep)}." if isinstance(keep, (list, tuple))
                                                         else "."))
    out = []
    for i, (heads, block) in enumerate(zip(keep, model.blocks)):
        if not isinstance(heads, (list, tuple)):
            raise TypeError(f"keep[{i}] must be a list of head indices, got {type(heads).__name__}.")
        for h in heads:
            if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Integral):
                raise TypeError(f"keep[{i}] holds {h!r}, must hold ints (head indices).")
        idx = [int(h) for h in heads]
        if len(set(idx)) != len(idx):
            raise ValueError(f"keep[{i}] == {idx}, must not repeat a head.")
        bad = [h for h in idx if not 0 <= h < block.attn.heads]
        if bad:
            raise ValueError(f"keep[{i}] holds {bad[0]}, must be in 0..{block.attn.heads - 1} "
                             f"(block {i} has {block.attn.heads} heads).")
        out.append(sorted(idx))
    return out


def prune_heads(model, keep) -> MnistViT:
    """A physically smaller :class:`~course_lib.models.MnistViT` with only the heads in ``keep``.

    Head ``h`` of a block is rows ``h*16:(h+1)*16`` of ``q``, ``k``, ``v`` (weights and biases) and the same
    columns of ``proj``'s weight; they are copied for the kept heads (in increasing order), and every other
    parameter as it is; the kept heads' gates too. The result computes what ``model`` computes with the
    dropped heads' gates set to zero.

    Parameters
    ----------
    model : MnistViT
        Not modified.
    keep : list of lists of int
        One list per block of the head indices to keep (each in range, no repeats; empty: no attention).

    Returns
    -------
    MnistViT
        ``MnistViT(heads=[len(k) for k in keep])``, in ``model``'s train/eval mode.
    """
    model = check_vit(model)
    keep = _check_keep(model, keep)
    small = MnistViT(heads=[len(k) for k in keep])
    state = {n: t.detach().clone() for n, t in model.state_dict().items()}
    with torch.no_grad():
        for i, heads in enumerate(keep):
            hd = model.blocks[i].attn.head_dim
            rows = torch.tensor([h * hd + d for h in heads for d in range(hd)], dtype=torch.long)
            prefix = f"blocks.{i}.attn."
            for part in ("q", "k", "v"):
                for kind in ("weight", "bias"):
                    state[prefix + f"{part}.{kind}"] = state[prefix + f"{part}.{kind}"][rows].clone()
            state[prefix + "proj.weight"] = state[prefix + "proj.weight"][:, rows].clone()
        small.load_state_dict(state)
        for i, heads in enumerate(keep):
            small.blocks[i].attn.gate.copy_(model.blocks[i].attn.gate[torch.tensor(heads, dtype=torch.long)])
    return small.train(model.training)
