"""The layers of a model that hold its weights, and replacing them: one helper for every technique.

Pruning, quantization, the explorers and the factorization converters all ask "which
layers hold the weights?" here, so that no technique is tied to LeNet-300-100's
``fc1``/``fc2`` names.
"""

from __future__ import annotations

from torch import nn

from ._validation import check_model

__all__ = ["WEIGHT_LAYERS", "weight_layers", "set_submodule", "replace_layers", "num_outputs"]


WEIGHT_LAYERS = (nn.Linear, nn.Conv2d)


def weight_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Every ``nn.Linear`` and ``nn.Conv2d`` of ``model``, by name, in module order.

    The one list of "the layers that hold the weights" that pruning, quantization,
    the explorers and the factorization converters use, so that no technique is
    tied to LeNet-300-100's ``fc1``/``fc2`` names.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    dict of str -> nn.Module
        ``{"fc1": Linear, ...}``; a model that *is* one layer gives ``{"": layer}``.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.
    ValueError
        If it has no Linear or Conv2d layer.

    Examples
    --------
    >>> list(weight_layers(LeNet300100()))
    ['fc1', 'fc2', 'fc3']
    """
    check_model(model)
    layers = {name: m for name, m in model.named_modules() if isinstance(m, WEIGHT_LAYERS)}
    if not layers:
        raise ValueError(f"model ({type(model).__name__}) has no nn.Linear or nn.Conv2d layer.")
    return layers


def set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    """Replace the submodule ``name`` of ``root`` in place.

    Parameters
    ----------
    root : torch.nn.Module
        Changed in place.
    name : str
        Dotted path as in ``named_modules()``, e.g. ``"classifier.1"``.
    module : torch.nn.Module
        The new submodule.

    Raises
    ------
    AttributeError
        If ``root`` has no submodule at the parent path (``torch.nn.Module.get_submodule``).
    """
    parent, _, child = name.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, child, module)


def replace_layers(model: nn.Module, make) -> nn.Module:
    """Replace, in place, every Linear/Conv2d of ``model`` by ``make(name, layer)``.

    Parameters
    ----------
    model : torch.nn.Module
        Changed in place (pass a copy to keep the original).
    make : callable
        ``make(name, layer) -> torch.nn.Module``, called for each layer of :func:`weight_layers`.

    Returns
    -------
    torch.nn.Module
        ``model`` in eval mode; a model that is itself one layer is not changed:
        ``make("", model)`` is returned instead.

    Raises
    ------
    TypeError, ValueError
        As :func:`weight_layers`.
    """
    for name, layer in weight_layers(model).items():
        if not name:
            return make(name, layer).eval()
        set_submodule(model, name, make(name, layer))
    return model.eval()


def num_outputs(model: nn.Module) -> int | None:
    """The number of classes ``model`` predicts: its last Linear (or quantized linear) layer's outputs.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    int or None
        None when it cannot be told (no linear layer).

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.
    """
    outputs = None
    for m in check_model(model).modules():
        if isinstance(m, nn.Linear):
            outputs = m.out_features
        elif getattr(m, "kind", None) == "linear" and hasattr(m, "shape"):  # course_lib.quantization.nn layers
            outputs = m.shape[0]
    return outputs
