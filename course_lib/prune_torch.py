"""Pruning PyTorch models: masks from :mod:`course_lib.pruning`, masked fine-tuning, sparse export.

The masks are computed in NumPy by the from-scratch functions of
:mod:`course_lib.pruning` and applied to a *copy* of the model; nothing here
mutates a model it is given. A mask is a dict ``{"fc1.weight": bool array}``
(``True`` = kept) over the weights of the ``nn.Linear`` and ``nn.Conv2d``
layers -- biases and batch-norm parameters are few and are not pruned.

Typical use (Han et al.'s prune / retrain loop)::

    model = cl.load_pretrained("lenet300")
    pruned, masks, history = iterative_prune(model, 0.9, rounds=3, train=train, test=test)
    export_pruned(pruned, masks, "lenet300-90.pt")      # a file ~5x smaller
    same = load_pruned("lenet300-90.pt", "lenet300")     # a dense model again

References
----------
.. [1] S. Han, J. Pool, J. Tran, W. Dally, "Learning both Weights and Connections
   for Efficient Neural Networks", NeurIPS 2015.
"""

from __future__ import annotations

import copy
import os
import warnings

import numpy as np
import torch
from torch import nn

from ._training import adam_steps, check_labels
from ._validation import check_choice, check_int, check_positive_float
from .measure import accuracy
from .models import build_model, to_tensor
from .pruning import (
    _as_generator,
    _check_sparsity,
    global_magnitude_prune,
    iterative_schedule,
    magnitude_mask,
    sparsity,
)

__all__ = [
    "PRUNABLE_LAYERS",
    "prunable_weights",
    "masks_for",
    "apply_masks",
    "fine_tune",
    "iterative_prune",
    "one_shot_prune",
    "export_pruned",
    "load_pruned",
]

PRUNABLE_LAYERS = (nn.Linear, nn.Conv2d)

# torch warns about its (beta) sparse CSR tensors when they are made and loaded; the
# export format is a plain, documented use of them, so these warnings are noise here.
_SPARSE_WARNINGS = "(Sparse CSR tensor support is in beta|Validating sparse tensor invariants|Sparse invariant checks)"


# --------------------------------------------------------------------------- private checks

def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    return model


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} ({value!r}).")
    return bool(value)


def _prunable_params(model: nn.Module) -> dict[str, nn.Parameter]:
    """``{"fc1.weight": parameter}`` for every Linear / Conv2d layer, in module order."""
    _check_model(model)
    return {f"{name}.weight" if name else "weight": module.weight
            for name, module in model.named_modules() if isinstance(module, PRUNABLE_LAYERS)}


def _check_masks(model: nn.Module, masks) -> dict[str, np.ndarray]:
    """Masks as NumPy bool arrays, after checking names, dtypes and shapes against ``model``."""
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict of layer name -> bool array, got {type(masks).__name__}.")
    params = _prunable_params(model)
    unknown = [name for name in masks if name not in params]
    if unknown:
        raise ValueError(f"masks has unknown layer name(s) {unknown}, must be among "
                         f"{', '.join(repr(n) for n in params)}.")
    checked = {}
    for name, mask in masks.items():
        if isinstance(mask, torch.Tensor):
            mask = mask.detach().cpu().numpy()
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"masks[{name!r}] must be a bool array (True = kept), got dtype {mask.dtype}.")
        shape = tuple(params[name].shape)
        if mask.shape != shape:
            raise ValueError(f"masks[{name!r}] has shape {mask.shape}, must match the weight's shape {shape}.")
        checked[name] = mask
    return checked


def _check_dataset(name: str, data) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of a ``Dataset`` tuple ``(images, labels, classes)``."""
    if not isinstance(data, tuple) or len(data) < 2:
        raise TypeError(f"{name} must be a Dataset tuple (images, labels, classes) as returned by "
                        f"course_lib.data, got {type(data).__name__}.")
    return data[0], data[1]


# --------------------------------------------------------------------------- masks

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
    return {name: p.detach().cpu().numpy().copy() for name, p in _prunable_params(model).items()}


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
    sparsity = _check_sparsity("sparsity", sparsity)
    scope = check_choice("scope", scope, ("layer", "global"))
    keep_last = _check_bool("keep_last", keep_last)
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
    checked = _check_masks(model, masks)
    new = copy.deepcopy(model)
    params = _prunable_params(new)
    with torch.no_grad():
        for name, mask in checked.items():
            params[name].masked_fill_(~torch.from_numpy(mask).to(params[name].device), 0.0)
    return new


# --------------------------------------------------------------------------- fine-tuning

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
    checked = _check_masks(model, masks)
    x_all = to_tensor(images)
    labels = check_labels(labels, len(x_all))
    if len(labels) == 0:
        raise ValueError("labels is empty, must have at least one example.")
    epochs = check_int("epochs", epochs, minimum=0)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_positive_float("lr", lr)
    max_steps = check_int("max_steps", max_steps, minimum=0, allow_none=True)
    progress = _check_bool("progress", progress)
    gen = _as_generator(rng)

    new = apply_masks(model, checked)
    removed = {name: ~torch.from_numpy(m) for name, m in checked.items()}
    params = _prunable_params(new)

    def zero_removed_gradients():
        for name, off in removed.items():
            if params[name].grad is not None:
                params[name].grad.masked_fill_(off, 0.0)

    def reapply_masks():
        with torch.no_grad():
            for name, off in removed.items():
                params[name].masked_fill_(off, 0.0)

    return adam_steps(new, x_all, labels, epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr,
                      gen=gen, progress=progress, desc="fine-tune", before_step=zero_removed_gradients,
                      after_step=reapply_masks)


def _record(round_: int, target: float, pruned_acc: float, model: nn.Module, test_images, test_labels) -> dict:
    return {"round": round_, "target": target, "sparsity": sparsity(prunable_weights(model)),
            "accuracy_pruned": pruned_acc, "accuracy": accuracy(model, test_images, test_labels)}


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
    _check_model(model)
    schedule = iterative_schedule(final_sparsity, rounds)
    train_images, train_labels = _check_dataset("train", train)
    test_images, test_labels = _check_dataset("test", test)
    epochs_per_round = check_int("epochs_per_round", epochs_per_round, minimum=0)
    max_steps_per_round = check_int("max_steps_per_round", max_steps_per_round, minimum=0, allow_none=True)
    check_choice("scope", scope, ("layer", "global"))
    _check_bool("keep_last", keep_last)
    check_int("batch_size", batch_size, minimum=1)
    check_positive_float("lr", lr)
    _check_bool("progress", progress)
    gen = _as_generator(rng)

    start_acc = accuracy(model, test_images, test_labels)
    history = [_record(0, 0.0, start_acc, model, test_images, test_labels)]
    current, masks = model, None
    for k, target in enumerate(schedule, start=1):
        new_masks = masks_for(current, target, scope=scope, keep_last=keep_last)
        if masks is not None:
            new_masks = {name: new_masks[name] & masks[name] for name in new_masks}
        masks = new_masks
        pruned = apply_masks(current, masks)
        pruned_acc = accuracy(pruned, test_images, test_labels)
        current = fine_tune(pruned, masks, train_images, train_labels, epochs=epochs_per_round,
                            max_steps=max_steps_per_round, batch_size=batch_size, lr=lr, rng=gen,
                            progress=progress)
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
    """
    return iterative_prune(model, sparsity, rounds=1, train=train, test=test, epochs_per_round=epochs,
                           max_steps_per_round=max_steps, scope=scope, keep_last=keep_last,
                           batch_size=batch_size, lr=lr, rng=rng, progress=progress)


# --------------------------------------------------------------------------- sparse files

def _check_path(path) -> str | os.PathLike:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}.")
    return path


def export_pruned(model: nn.Module, masks: dict, path) -> int:
    """Save the pruned model with each masked weight as a sparse CSR tensor; returns the file's bytes.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified; ``masks`` are applied to a copy.
    masks : dict of str -> bool array
    path : str or path
        Where to write (a ``torch.save`` file).

    Returns
    -------
    int
        Bytes written.

    Notes
    -----
    Each weight in ``masks`` is stored as a ``torch.sparse_csr`` tensor of the 2-D
    view ``(shape[0], -1)`` with float32 values and int32 indices (int64 only for a
    layer too large for int32): ``nnz (4 + 4) + 4 (rows + 1)`` bytes instead of
    ``4 rows cols``, so the file shrinks once more than half the weights are gone.
    Biases and buffers are saved dense. :func:`load_pruned` reads it back with
    ``torch.load(..., weights_only=True)``, which accepts sparse CSR tensors.
    """
    path = _check_path(path)
    checked = _check_masks(model, masks)
    state = apply_masks(model, checked).state_dict()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SPARSE_WARNINGS)
        for name in checked:
            w = state[name].detach().cpu()
            csr = w.reshape(w.shape[0], -1).to_sparse_csr()
            small = csr.values().numel() < 2**31 and csr.shape[1] < 2**31
            index = torch.int32 if small else torch.int64
            state[name] = torch.sparse_csr_tensor(csr.crow_indices().to(index), csr.col_indices().to(index),
                                                  csr.values().clone(), csr.shape)
        torch.save(state, path)
    return os.path.getsize(path)


def load_pruned(path, name: str) -> nn.Module:
    """A dense model of architecture ``name`` loaded from a file of :func:`export_pruned` (eval mode).

    The file is read with ``torch.load(..., weights_only=True)`` (no code in it can
    run); each sparse weight is turned dense and reshaped to the layer's shape.

    Raises
    ------
    ValueError
        If ``name`` is not a course model, or the file does not hold that architecture.
    """
    path = _check_path(path)
    model = build_model(name)
    expected = model.state_dict()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SPARSE_WARNINGS)
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError(f"{path} holds a {type(state).__name__}, expected a state dict from export_pruned.")
        dense = {}
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.layout == torch.sparse_csr:
                value = value.to_dense()
                if key in expected and value.numel() == expected[key].numel():
                    value = value.reshape(expected[key].shape)
            dense[key] = value
    try:
        model.load_state_dict(dense)
    except RuntimeError as exc:
        raise ValueError(f"{path} does not hold a {name!r} model: {exc}") from exc
    return model.eval()
