"""Fine-tuning with masks held at zero, and Han et al.'s prune / retrain loops (iterative and one-shot)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_labels,
    check_model,
    check_positive_float,
    check_random_state,
)
from ...layers import num_outputs
from ...measure import accuracy
from ...models import check_images
from ...train import adam_steps
from ..masks import sparsity
from ..schedules import iterative_schedule
from .masks import apply_masks, check_masks, masks_for, prunable_params, prunable_weights

__all__ = ["fine_tune", "iterative_prune", "one_shot_prune", "check_dataset"]


def check_dataset(name: str, data) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of a ``Dataset`` tuple ``(images, labels, classes)``."""
    if not isinstance(data, tuple) or len(data) < 2:
        raise TypeError(f"{name} must be a Dataset tuple (images, labels, classes) as returned by "
                        f"course_lib.data, got {type(data).__name__}.")
    return data[0], data[1]



def fine_tune(model: nn.Module, masks: dict, images, labels, *, epochs: int = 1, batch_size: int = 128,
              lr: float = 1e-3, rng=None, progress: bool = False, max_steps: int | None = None) -> nn.Module:
    """Retrain a pruned copy of ``model`` with its removed weights held at exactly zero.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified; ``masks`` are applied to a copy first.
    masks : dict of str -> bool array
        As from :func:`masks_for`.
    images : uint8 ndarray
        As returned by :mod:`course_lib.data` (converted with :func:`~course_lib.models.to_tensor`).
    labels : int ndarray, shape (N,)
    epochs, batch_size : int, keyword-only
    lr : float, keyword-only
        Adam's learning rate.
    rng : None, int or numpy.random.Generator, keyword-only
        Shuffles the examples. Dropout uses torch's generator: call
        ``torch.manual_seed`` for a fully repeatable run.
    progress : bool, keyword-only
        Show a progress bar.
    max_steps : int or None, keyword-only
        Stop after this many optimizer steps in total (None: all ``epochs``).

    Returns
    -------
    torch.nn.Module
        The fine-tuned copy, in eval mode.

    Notes
    -----
    After the backward pass the gradients of removed weights are set to zero, and
    after each Adam step the mask is applied again:

    .. math:: g \\leftarrow g \\odot m, \\qquad w \\leftarrow w \\odot m

    With zero gradients Adam's moments for those weights stay zero and so does their
    update; re-applying the mask makes the invariant hold whatever the optimizer.
    The surviving weights learn to compensate for the removed ones (Han et al.'s
    "retrain" step).

    References
    ----------
    .. [1] Han et al., NeurIPS 2015, sec. 3.
    """
    checked = check_masks(model, masks)
    x_all, labels = _training_data(model, images, labels)
    epochs = check_int("epochs", epochs, minimum=0)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive_float("lr", lr)
    max_steps = check_int("max_steps", max_steps, minimum=0, allow_none=True)
    progress = check_bool("progress", progress)
    gen = check_random_state(rng)
    return _fine_tune_tensors(model, checked, x_all, labels, epochs=epochs, max_steps=max_steps,
                              batch_size=batch_size, lr=lr, gen=gen, progress=progress)


def _training_data(model: nn.Module, images, labels) -> tuple[torch.Tensor, np.ndarray]:
    """The checked training images as a float tensor, and their checked labels."""
    x_all = check_images(model, images)
    labels = check_labels(labels, len(x_all), num_classes=num_outputs(model))
    if len(labels) == 0:
        raise ValueError("labels is empty, must have at least one example.")
    return x_all, labels


def _fine_tune_tensors(model: nn.Module, checked: dict, x_all: torch.Tensor, labels: np.ndarray, *, epochs: int,
                       max_steps: int | None, batch_size: int, lr: float, gen: np.random.Generator,
                       progress: bool) -> nn.Module:
    """:func:`fine_tune` on checked arguments (the images already a tensor: converted once per run)."""
    new = apply_masks(model, checked)
    params = prunable_params(new)
    # multiplying by a 0/1 float mask is ~10x faster than masked_fill_ with a bool mask on CPU, and
    # gives the same bits: kept entries are multiplied by 1, removed weights are already +0.0
    keep = {name: torch.from_numpy(m).to(params[name].dtype) for name, m in checked.items() if not m.all()}

    def zero_removed_gradients():
        for name, k in keep.items():
            if params[name].grad is not None:
                params[name].grad.mul_(k)

    def reapply_masks():
        with torch.no_grad():
            for name, k in keep.items():
                params[name].mul_(k)

    return adam_steps(new, x_all, labels, epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr,
                      gen=gen, progress=progress, desc="fine-tune", before_step=zero_removed_gradients,
                      after_step=reapply_masks)


def _record(round_: int, target: float, pruned_acc: float, model: nn.Module, test_images, test_labels,
            acc: float | None = None) -> dict:
    if acc is None:
        acc = accuracy(model, test_images, test_labels)
    return {"round": round_, "target": target, "sparsity": sparsity(prunable_weights(model)),
            "accuracy_pruned": pruned_acc, "accuracy": acc}


def iterative_prune(model: nn.Module, final_sparsity, *, rounds: int, train, test, epochs_per_round: int = 1,
                    max_steps_per_round: int | None = None, scope: str = "layer", keep_last: bool = False,
                    batch_size: int = 128, lr: float = 1e-3, rng=None,
                    progress: bool = False) -> tuple[nn.Module, dict, list[dict]]:
    """Han et al.'s iterative pruning: prune a little, retrain, repeat until ``final_sparsity``.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model; not modified.
    final_sparsity : float in [0, 1)
        Fraction of the prunable weights removed at the end.
    rounds : int >= 1, keyword-only
        Prune/retrain rounds, following :func:`~course_lib.pruning.iterative_schedule`.
    train, test : Dataset, keyword-only
        ``(images, labels, classes)`` tuples as returned by :mod:`course_lib.data`.
    epochs_per_round, max_steps_per_round : keyword-only
        The fine-tuning budget of each round (see :func:`fine_tune`).
    scope, keep_last : keyword-only
        As in :func:`masks_for`.
    batch_size, lr : keyword-only
        Passed to :func:`fine_tune`.
    rng : None, int or numpy.random.Generator, keyword-only
    progress : bool, keyword-only

    Returns
    -------
    model : torch.nn.Module
        The pruned, fine-tuned copy (eval mode).
    masks : dict of str -> bool ndarray
        Its final masks.
    history : list of dict
        Round 0 (the input model) and one row per round: ``round``, ``target``
        (scheduled sparsity), ``sparsity`` (actual fraction of zero prunable
        weights), ``accuracy_pruned`` (test accuracy right after pruning) and
        ``accuracy`` (after fine-tuning).

    Notes
    -----
    Round ``k`` removes the smallest-magnitude weights until the sparsity is
    ``s_k = 1 - (1 - s_f)^{k/n}``; a removed weight never comes back (the new mask
    is intersected with the old one). Removing a little at a time lets the
    network adapt between rounds, which keeps accuracy at sparsities where one-shot
    pruning (:func:`one_shot_prune`) cannot recover.

    References
    ----------
    .. [1] Han et al., NeurIPS 2015, sec. 3.3 and fig. 5.
    """
    check_model(model)
    schedule = iterative_schedule(final_sparsity, rounds)
    train_images, train_labels = check_dataset("train", train)
    test_images, test_labels = check_dataset("test", test)
    epochs_per_round = check_int("epochs_per_round", epochs_per_round, minimum=0)
    max_steps_per_round = check_int("max_steps_per_round", max_steps_per_round, minimum=0, allow_none=True)
    check_choice("scope", scope, ("layer", "global"))
    check_bool("keep_last", keep_last)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive_float("lr", lr)
    progress = check_bool("progress", progress)
    gen = check_random_state(rng)

    x_train, train_labels = _training_data(model, train_images, train_labels)  # converted once, not per round
    start_acc = accuracy(model, test_images, test_labels)
    history = [_record(0, 0.0, start_acc, model, test_images, test_labels, acc=start_acc)]  # evaluated once
    current, masks = model, None
    for k, target in enumerate(schedule, start=1):
        new_masks = masks_for(current, target, scope=scope, keep_last=keep_last)
        if masks is not None:
            new_masks = {name: new_masks[name] & masks[name] for name in new_masks}
        masks = new_masks
        pruned = apply_masks(current, masks)
        pruned_acc = accuracy(pruned, test_images, test_labels)
        current = _fine_tune_tensors(pruned, check_masks(pruned, masks), x_train, train_labels,
                                     epochs=epochs_per_round, max_steps=max_steps_per_round,
                                     batch_size=batch_size, lr=lr, gen=gen, progress=progress)
        history.append(_record(k, target, pruned_acc, current, test_images, test_labels))
    return current, masks, history


def one_shot_prune(model: nn.Module, sparsity, *, train, test, epochs: int = 1, max_steps: int | None = None,
                   scope: str = "layer", keep_last: bool = False, batch_size: int = 128, lr: float = 1e-3,
                   rng=None, progress: bool = False) -> tuple[nn.Module, dict, list[dict]]:
    """Prune to ``sparsity`` at once, then fine-tune: the baseline for :func:`iterative_prune`.

    Exactly ``iterative_prune(model, sparsity, rounds=1, epochs_per_round=epochs, ...)``.
    For a fair comparison give it the same total budget: ``epochs = rounds *
    epochs_per_round`` (or ``max_steps = rounds * max_steps_per_round``).
    Returns ``(model, masks, history)`` with history rows for round 0 and round 1.

    Raises
    ------
    TypeError, ValueError
        As :func:`iterative_prune`; ``sparsity``, ``epochs`` and ``max_steps`` are named as here.
    """
    sparsity = check_fraction("sparsity", sparsity, allow_one=False)
    epochs = check_int("epochs", epochs, minimum=0)
    max_steps = check_int("max_steps", max_steps, minimum=0, allow_none=True)
    return iterative_prune(model, sparsity, rounds=1, train=train, test=test, epochs_per_round=epochs,
                           max_steps_per_round=max_steps, scope=scope, keep_last=keep_last,
                           batch_size=batch_size, lr=lr, rng=rng, progress=progress)
