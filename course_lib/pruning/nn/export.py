"""Sparse files: save a pruned model with CSR weights, load it back dense."""

from __future__ import annotations

import os
import warnings

import torch
from torch import nn

from ..._validation import (
    check_path,
)
from ...models import build_model
from .masks import apply_masks, check_masks

__all__ = ["export_pruned", "load_pruned"]

# torch warns about its (beta) sparse CSR tensors when they are made and loaded; the
# export format is a plain, documented use of them, so these warnings are noise here.
_SPARSE_WARNINGS = "(Sparse CSR tensor support is in beta|Validating sparse tensor invariants|Sparse invariant checks)"


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

    Raises
    ------
    TypeError, ValueError
        If ``path`` is not a file path in an existing folder, or ``masks`` do not fit ``model``
        (checked before anything is written).

    Notes
    -----
    Each weight in ``masks`` is stored as a ``torch.sparse_csr`` tensor of the 2-D
    view ``(shape[0], -1)`` with float32 values and int32 indices (int64 only for a
    layer too large for int32): ``nnz (4 + 4) + 4 (rows + 1)`` bytes instead of
    ``4 rows cols``, so the file shrinks once more than half the weights are gone.
    Biases and buffers are saved dense. :func:`load_pruned` reads it back with
    ``torch.load(..., weights_only=True)``, which accepts sparse CSR tensors.
    """
    path = check_path("path", path, parent_must_exist=True)
    if path.is_dir():
        raise ValueError(f"path == {str(path)!r} is a folder, must name the file to write.")
    checked = check_masks(model, masks)
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
    path = check_path("path", path, must_exist=True)
    model = build_model(name)
    expected = model.state_dict()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SPARSE_WARNINGS)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError... for a non-checkpoint
            raise ValueError(f"{path} is not a checkpoint written by export_pruned (torch.load failed: "
                             f"{type(exc).__name__}), pass the file export_pruned wrote.") from None
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
