"""Measuring channel-pruned CNNs: their MACs, a sensitivity scan, seeded fine-tuning.

Companions of :mod:`course_lib.pruning.nn.channels`, which prunes the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..._validation import check_float, check_int, check_model
from ...measure import accuracy
from ...measure import count_macs as measured_macs
from ...models import to_tensor
from ..channels import channels_to_keep
from .channels import check_method_images, compute_scores, conv_chain, prune_channels
from .finetune import check_dataset, fine_tune

__all__ = ["count_macs", "sensitivity_scan", "fine_tune_channels"]


def count_macs(model: nn.Module, input_shape=None) -> dict[str, int]:
    """Multiply-adds of every Conv2d and Linear layer on one image of ``input_shape``.

    Parameters
    ----------
    model : torch.nn.Module
        Any model of Conv2d and Linear layers (pruned or not); not modified.
    input_shape : tuple of int or None
        One image's shape ``(C, H, W)``; default: the model's ``input_shape`` attribute.

    Returns
    -------
    dict of str -> int
        ``{"features.0": 884736, ..., "total": ...}`` in module order.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a module, or an input shape that is not a tuple of ints >= 1.

    Notes
    -----
    :func:`course_lib.count_macs` of one blank image of that shape: the course's one count, a hook on
    every layer (biases, batch norm, activations and pooling are not counted).
    ``torch.utils.flop_counter.FlopCounterMode`` reports twice the total (a multiply-add is two FLOPs).
    """
    check_model(model)
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
        if input_shape is None:
            raise ValueError(f"input_shape is None and model ({type(model).__name__}) has no input_shape "
                             f"attribute, must be given.")
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise TypeError(f"input_shape must be a tuple of ints such as (3, 32, 32), got "
                        f"{type(input_shape).__name__} ({input_shape!r}).")
    shape = tuple(check_int(f"input_shape[{i}]", d, minimum=1) for i, d in enumerate(input_shape))
    if len(shape) != 3:
        raise ValueError(f"input_shape == {shape!r}, must be one image's (C, H, W).")
    channels, height, width = shape
    # the course's one MAC count (a hook on every layer): one blank image, stored as the data sets store them
    blank = np.zeros((1, height, width, channels) if channels > 1 else (1, height, width), dtype=np.uint8)
    return measured_macs(model, blank)


def sensitivity_scan(model: nn.Module, test, fractions, *, method: str = "l1", images=None,
                     batch_size: int = 500) -> list[dict]:
    """Accuracy with one convolution pruned at a time, to each kept fraction, without fine-tuning.

    Parameters
    ----------
    model : torch.nn.Module
        VGG-like; not modified.
    test : Dataset
        ``(images, labels, classes)`` as from :mod:`course_lib.data`.
    fractions : sequence of float in (0, 1]
        Kept fractions to try in each layer.
    method, images, batch_size : keyword-only
        The ranking (:func:`channel_scores`), computed once on the unpruned model.

    Returns
    -------
    list of dict
        One row per (layer, fraction): ``layer``, ``keep`` (the fraction), ``channels``
        (kept / total), ``accuracy``, ``macs`` (the whole network's, :func:`count_macs`).

    Notes
    -----
    Li et al.'s sensitivity analysis: layers whose accuracy falls fast are pruned less.
    """
    convs, _ = conv_chain(model)
    test_images, test_labels = check_dataset("test", test)
    if isinstance(fractions, (str, bytes)) or not isinstance(fractions, (Sequence, np.ndarray)) or not len(fractions):
        raise TypeError(f"fractions must be a non-empty sequence of kept fractions in (0, 1], got "
                        f"{type(fractions).__name__} ({fractions!r}).")
    fractions = [check_float(f"fractions[{i}]", f, low=0.0, high=1.0, low_open=True) for i, f in enumerate(fractions)]
    method, x, batch_size = check_method_images(model, method, images, batch_size)
    scores = compute_scores(model, convs, method, x, batch_size)
    rows = []
    for c in convs:
        name, size = c["conv"], len(scores[c["conv"]])
        for f in fractions:
            idx = channels_to_keep(scores[name], f)
            small = prune_channels(model, {name: idx})
            rows.append({"layer": name, "keep": f, "channels": f"{len(idx)}/{size}",
                         "accuracy": accuracy(small, test_images, test_labels, batch_size=batch_size),
                         "macs": count_macs(small, tuple(to_tensor(test_images[:1]).shape[1:]))["total"]})
    return rows


def fine_tune_channels(model: nn.Module, train, *, steps: int, batch_size: int = 64, lr: float = 1e-3,
                       seed: int = 0) -> nn.Module:
    """Retrain a channel-pruned model for ``steps`` Adam steps; seeded and repeatable.

    Parameters
    ----------
    model : torch.nn.Module
        E.g. from :func:`prune_channels`; not modified.
    train : Dataset
        ``(images, labels, classes)`` as from :mod:`course_lib.data`.
    steps : int >= 0, keyword-only
        Optimizer steps (mini-batches), over as many shuffled epochs as needed.
    batch_size : int, keyword-only
    lr : float, keyword-only
        Adam's learning rate.
    seed : int, keyword-only
        Seeds the shuffling and torch's generator (dropout), which is restored afterwards.

    Returns
    -------
    torch.nn.Module
        The fine-tuned copy, in eval mode.

    Notes
    -----
    :func:`course_lib.pruning.nn.fine_tune` with no masks: a physically smaller network has
    no removed weights to hold at zero, every weight that is left learns.
    """
    check_model(model)
    train_images, train_labels = check_dataset("train", train)
    steps = check_int("steps", steps, minimum=0)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    n = len(np.asarray(train_labels))
    epochs = max(1, -(-steps // max(1, -(-n // batch_size))))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fine_tune(model, {}, train_images, train_labels, epochs=epochs, max_steps=steps,
                         batch_size=batch_size, lr=lr, rng=seed)
