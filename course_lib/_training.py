"""The fine-tuning loop shared by pruning (masks held) and quantization-aware training."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


def check_labels(labels, n_images: int) -> np.ndarray:
    """``labels`` as a 1-D integer array as long as the images, or a clear error."""
    labels = np.asarray(labels)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
        raise TypeError(f"labels must be a 1-D array of integer class indices, got dtype {labels.dtype} "
                        f"and shape {labels.shape}.")
    if len(labels) != n_images:
        raise ValueError(f"images and labels differ in length: {n_images} != {len(labels)}.")
    return labels


def adam_steps(model: nn.Module, x_all: torch.Tensor, labels: np.ndarray, *, epochs: int, max_steps: int | None,
               batch_size: int, lr: float, gen: np.random.Generator, progress: bool, desc: str,
               before_step: Callable[[], None] | None = None,
               after_step: Callable[[], None] | None = None) -> nn.Module:
    """Train ``model`` in place with Adam and cross-entropy on shuffled mini-batches.

    Runs ``epochs`` passes over the data, or ``max_steps`` batches if that is fewer.
    ``before_step`` runs between ``backward()`` and the optimiser step (e.g. to zero
    the gradients of pruned weights), ``after_step`` after it (e.g. to re-apply
    masks). Returns the model in eval mode.
    """
    y_all = torch.from_numpy(labels.astype(np.int64))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    n = len(labels)
    total = epochs * -(-n // batch_size)
    if max_steps is not None:
        total = min(total, max_steps)
    bar = tqdm(total=total, desc=desc, disable=not progress, mininterval=1.0)
    model.train()
    step = 0
    while step < total:
        order = torch.from_numpy(gen.permutation(n))
        for start in range(0, n, batch_size):
            if step >= total:
                break
            idx = order[start:start + batch_size]
            loss = loss_fn(model(x_all[idx]), y_all[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if before_step is not None:
                before_step()
            optimizer.step()
            if after_step is not None:
                after_step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    return model.eval()
