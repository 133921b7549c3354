"""Channel (filter) pruning of the CIFAR-10 CNN: scores, a masked copy, a physically smaller copy, MACs.

The network is VGG-like (:class:`~course_lib.models.CifarVGG`): ``features`` is a chain of
``Conv2d -> BatchNorm2d -> ReLU`` blocks (with max pooling), ``classifier`` starts with
``Flatten`` and a ``Linear``. Removing output channel ``c`` of a convolution removes

* the filter ``conv.weight[c]`` (and its bias, if any),
* the batch-norm entries ``weight[c]``, ``bias[c]``, ``running_mean[c]``, ``running_var[c]``,
* the input slice ``next_conv.weight[:, c]`` of the next convolution -- or, after the last
  convolution, the ``H W`` columns ``c H W .. (c + 1) H W - 1`` of the first Linear layer
  (``Flatten`` lays the ``(C, H, W)`` map out channel by channel).

:func:`channel_masks` zeroes the removed filters in a full-size copy (their channels then
output exactly zero); :func:`prune_channels` builds the smaller network, whose outputs are
the masked network's to float rounding. Scores come from the NumPy core
(:mod:`course_lib.pruning.channels`); the model given is never modified.

``keep`` (every function below): a dict ``{"features.0": 0.5, "features.4": [0, 3, 7], ...}`` of
conv layer names to a kept fraction (float in (0, 1]), a kept count (int) or the kept indices
(a list or array); convolutions not named keep all their channels. A bare float or int applies
to every convolution. Fractions and counts choose the highest scores of ``method``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ..._validation import check_choice, check_int, check_model
from ...layers import set_submodule
from ...models import check_images
from ..channels import apoz, bn_scores, channels_to_keep, filter_norms, keep_count
from ..neurons import check_indices

__all__ = ["conv_chain", "channel_scores", "select_channels", "channel_masks", "prune_channels", "METHODS"]

METHODS = ("l1", "l2", "apoz", "bn")


def conv_chain(model: nn.Module) -> tuple[list[dict], str]:
    """The prunable convolutions of a VGG-like model, and the Linear layer that reads the last one.

    Returns
    -------
    (convs, linear) : (list of dict, str)
        ``convs``: ``{"conv": "features.0", "bn": "features.1", "relu": "features.2"}`` per
        convolution, in order; ``linear``: the name of the classifier's first Linear layer.

    Raises
    ------
    TypeError
        If ``model`` is not a module with ``features`` and ``classifier`` ``nn.Sequential``.
    ValueError
        If a convolution is grouped or not followed by ``BatchNorm2d`` and ``ReLU``, or the
        classifier has no Linear layer.
    """
    check_model(model)
    features, classifier = getattr(model, "features", None), getattr(model, "classifier", None)
    if not isinstance(features, nn.Sequential) or not isinstance(classifier, nn.Sequential):
        raise TypeError(f"model must be a VGG-like network with nn.Sequential 'features' and 'classifier' "
                        f"(as course_lib.models.CifarVGG), got {type(model).__name__}.")
    layers, convs = list(features), []
    for i, layer in enumerate(layers):
        if not isinstance(layer, nn.Conv2d):
            continue
        if layer.groups != 1:
            raise ValueError(f"model's features.{i} has groups == {layer.groups}, must be 1 for channel pruning.")
        if not (i + 2 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d)
                and isinstance(layers[i + 2], nn.ReLU)):
            raise ValueError(f"model's features.{i} must be followed by BatchNorm2d and ReLU.")
        convs.append({"conv": f"features.{i}", "bn": f"features.{i + 1}", "relu": f"features.{i + 2}"})
    linear = next((f"classifier.{j}" for j, m in enumerate(classifier) if isinstance(m, nn.Linear)), None)
    if not convs or linear is None:
        raise ValueError("model must have at least one Conv2d in features and a Linear layer in classifier.")
    return convs, linear


def check_method_images(model: nn.Module, method, images, batch_size) -> tuple[str, torch.Tensor | None, int]:
    method = check_choice("method", method, METHODS)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if method == "apoz" and images is None:
        raise ValueError("images is None, must be given for method == 'apoz' (APoZ is measured on data).")
    if method != "apoz" and images is not None:
        raise ValueError(f"images is given but method == {method!r} does not use it, pass images=None.")
    x = None if images is None else check_images(model, images)
    return method, x, batch_size


def compute_scores(model: nn.Module, convs: list[dict], method: str, x: torch.Tensor | None,
            batch_size: int) -> dict[str, np.ndarray]:
    modules = dict(model.named_modules())
    if method in ("l1", "l2"):
        return {c["conv"]: filter_norms(modules[c["conv"]].weight.detach().cpu().numpy(), norm=method)
                for c in convs}
    if method == "bn":
        return {c["conv"]: bn_scores(modules[c["bn"]].weight.detach().cpu().numpy()) for c in convs}
    zeros = {c["conv"]: 0.0 for c in convs}

    def hook_for(name):
        def hook(module, inputs, output):
            zeros[name] = zeros[name] + apoz(output.cpu().numpy()) * len(output)
        return hook

    handles = [modules[c["relu"]].register_forward_hook(hook_for(c["conv"])) for c in convs]
    was_training = model.training
    try:
        model.eval()
        with torch.inference_mode():
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {name: 1.0 - z / len(x) for name, z in zeros.items()}


def channel_scores(model: nn.Module, method: str = "l1", *, images=None, batch_size: int = 500) -> dict:
    """A score per output channel of every convolution, higher = more important.

    Parameters
    ----------
    model : torch.nn.Module
        VGG-like (:func:`conv_chain`); not modified.
    method : {"l1", "l2", "apoz", "bn"}
        ``"l1"``/``"l2"``: the filter's norm (Li et al. 2017, :func:`~course_lib.pruning.channels.filter_norms`);
        ``"apoz"``: ``1 - APoZ`` of the channel after its ReLU on ``images`` (Hu et al. 2016);
        ``"bn"``: ``|gamma|`` of its batch norm (Liu et al. 2017).
    images : uint8 ndarray or None, keyword-only
        The images APoZ is measured on (required for ``"apoz"``, refused otherwise).
    batch_size : int, keyword-only
        Images per forward pass for ``"apoz"``.

    Returns
    -------
    dict of str -> ndarray of float64
        ``{"features.0": scores (32,), ...}`` in layer order.

    Raises
    ------
    TypeError, ValueError
        For a model that is not VGG-like, an unknown method, missing or unexpected images.
    """
    convs, _ = conv_chain(model)
    method, x, batch_size = check_method_images(model, method, images, batch_size)
    return compute_scores(model, convs, method, x, batch_size)


def _check_keep(model: nn.Module, convs: list[dict], keep) -> dict:
    """``keep`` checked against the model: ``{conv name: int count or int64 index array}``."""
    modules = dict(model.named_modules())
    names = [c["conv"] for c in convs]
    if isinstance(keep, (int, float, np.integer, np.floating)) and not isinstance(keep, (bool, np.bool_)):
        keep = dict.fromkeys(names, keep)
    if not isinstance(keep, Mapping):
        raise TypeError(f"keep must be a dict of conv layer name -> fraction, count or indices (or one fraction "
                        f"for all), got {type(keep).__name__}.")
    checked = {}
    for name, value in keep.items():
        if name not in names:
            raise ValueError(f"keep has layer {name!r}, must be among {', '.join(repr(n) for n in names)}.")
        size = modules[name].out_channels
        if isinstance(value, (Sequence, np.ndarray, torch.Tensor)) and not isinstance(value, str):
            idx = check_indices(f"keep[{name!r}]", np.asarray(value), size)
            if idx.size == 0:
                raise ValueError(f"keep[{name!r}] is empty, must keep at least one channel.")
            checked[name] = np.sort(idx).astype(np.int64)
        else:
            checked[name] = keep_count(value, size, name=f"keep[{name!r}]")
    return checked


def select_channels(model: nn.Module, keep, *, method: str = "l1", images=None, batch_size: int = 500) -> dict:
    """The kept output channels of every convolution, as sorted indices.

    Parameters
    ----------
    model : torch.nn.Module
        VGG-like (:func:`conv_chain`); not modified.
    keep : dict or float or int
        See the module's docstring.
    method, images, batch_size : keyword-only
        How fractions and counts are ranked (:func:`channel_scores`); ``images`` only for ``"apoz"``.

    Returns
    -------
    dict of str -> ndarray of int64
        Every convolution's kept channels (all of them for one ``keep`` does not name).

    Raises
    ------
    TypeError, ValueError
        For a bad model, unknown layer names, fractions outside (0, 1], counts outside
        ``1 .. C``, bad or repeated indices, or a bad method.
    """
    convs, _ = conv_chain(model)
    checked = _check_keep(model, convs, keep)
    method, x, batch_size = check_method_images(model, method, images, batch_size)
    scores = None
    if any(not isinstance(v, np.ndarray) for v in checked.values()):
        scores = compute_scores(model, convs, method, x, batch_size)
    modules = dict(model.named_modules())
    out = {}
    for c in convs:
        name = c["conv"]
        value = checked.get(name, np.arange(modules[name].out_channels, dtype=np.int64))
        out[name] = value if isinstance(value, np.ndarray) else channels_to_keep(scores[name], value)
    return out


def channel_masks(model: nn.Module, keep, *, method: str = "l1", images=None, batch_size: int = 500) -> nn.Module:
    """A full-size copy of ``model`` whose removed filters output zero (the "masked" network).

    The removed filters' weights (and biases) and their batch norm's ``weight`` and ``bias``
    are set to zero, so each removed channel is exactly 0 after batch norm and ReLU, whatever
    the input. :func:`prune_channels` computes the same function with smaller layers.

    Parameters
    ----------
    model, keep, method, images, batch_size
        As :func:`select_channels`; ``model`` is not modified.

    Returns
    -------
    torch.nn.Module
        A deep copy, in the model's train/eval mode.

    Raises
    ------
    TypeError, ValueError
        As :func:`select_channels`.
    """
    convs, _ = conv_chain(model)
    kept = select_channels(model, keep, method=method, images=images, batch_size=batch_size)
    new = copy.deepcopy(model)
    modules = dict(new.named_modules())
    with torch.no_grad():
        for c in convs:
            conv, bn = modules[c["conv"]], modules[c["bn"]]
            removed = torch.ones(conv.out_channels, dtype=torch.bool)
            removed[torch.from_numpy(kept[c["conv"]])] = False
            for p in (conv.weight, conv.bias, bn.weight, bn.bias):
                if p is not None:
                    p[removed] = 0.0
    return new


def _slice_param(p: torch.Tensor | None, idx: torch.Tensor, dim: int) -> torch.Tensor | None:
    return None if p is None else p.detach().index_select(dim, idx).clone()


def prune_channels(model: nn.Module, keep, *, method: str = "l1", images=None, batch_size: int = 500) -> nn.Module:
    """A physically smaller copy of ``model`` without the removed output channels.

    Parameters
    ----------
    model : torch.nn.Module
        VGG-like (:func:`conv_chain`); not modified.
    keep, method, images, batch_size
        As :func:`select_channels`.

    Returns
    -------
    torch.nn.Module
        A copy of the same class with smaller ``Conv2d``/``BatchNorm2d`` layers and first
        Linear layer, in the model's train/eval mode; its outputs equal those of
        :func:`channel_masks` to float rounding.

    Raises
    ------
    TypeError, ValueError
        As :func:`select_channels`; also if the first Linear layer's inputs are not a whole
        number of positions per channel of the last convolution.

    Notes
    -----
    A convolution keeping ``k`` of ``C_out`` channels and reading ``k'`` of ``C_in`` has
    ``k k' kh kw`` weights instead of ``C_out C_in kh kw``: its parameters and MACs shrink by
    the product of the two kept fractions. Batch norm's running statistics of the kept
    channels are carried over, so the eval-mode function is unchanged.

    References
    ----------
    .. [1] Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017, sec. 3.
    """
    convs, linear_name = conv_chain(model)
    kept = select_channels(model, keep, method=method, images=images, batch_size=batch_size)
    modules = dict(model.named_modules())
    last = modules[convs[-1]["conv"]]
    lin = modules[linear_name]
    if lin.in_features % last.out_channels:
        raise ValueError(f"model's {linear_name} has {lin.in_features} inputs, not a multiple of the "
                         f"{last.out_channels} channels of {convs[-1]['conv']}.")
    new = copy.deepcopy(model)
    in_idx = None
    for c in convs:
        conv, bn = modules[c["conv"]], modules[c["bn"]]
        idx = torch.from_numpy(kept[c["conv"]])
        weight = conv.weight.detach().index_select(0, idx)
        if in_idx is not None:
            weight = weight.index_select(1, in_idx)
        small = nn.Conv2d(weight.shape[1], weight.shape[0], conv.kernel_size, stride=conv.stride,
                          padding=conv.padding, dilation=conv.dilation, bias=conv.bias is not None,
                          padding_mode=conv.padding_mode).to(device=weight.device, dtype=weight.dtype)
        small_bn = nn.BatchNorm2d(len(idx), eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                                  track_running_stats=bn.track_running_stats).to(device=weight.device,
                                                                                 dtype=weight.dtype)
        with torch.no_grad():
            small.weight.copy_(weight)
            if conv.bias is not None:
                small.bias.copy_(_slice_param(conv.bias, idx, 0))
            for attr in ("weight", "bias", "running_mean", "running_var"):
                if getattr(bn, attr) is not None:
                    getattr(small_bn, attr).copy_(_slice_param(getattr(bn, attr), idx, 0))
            if bn.num_batches_tracked is not None:
                small_bn.num_batches_tracked.copy_(bn.num_batches_tracked)
        set_submodule(new, c["conv"], small.train(conv.training))
        set_submodule(new, c["bn"], small_bn.train(bn.training))
        in_idx = idx
    hw = lin.in_features // last.out_channels
    cols = (in_idx[:, None] * hw + torch.arange(hw)[None, :]).reshape(-1)
    small_lin = nn.Linear(len(cols), lin.out_features, bias=lin.bias is not None).to(
        device=lin.weight.device, dtype=lin.weight.dtype)
    with torch.no_grad():
        small_lin.weight.copy_(lin.weight.detach().index_select(1, cols))
        if lin.bias is not None:
            small_lin.bias.copy_(lin.bias.detach())
    set_submodule(new, linear_name, small_lin.train(lin.training))
    return new
