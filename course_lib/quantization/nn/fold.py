"""Batch-norm folding: a Conv2d followed by BatchNorm2d becomes one Conv2d."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..._validation import (
    check_model,
)

__all__ = ["fold_batchnorm"]


def _folded_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    with torch.no_grad():
        factor = (bn.weight if bn.affine else 1.0) / torch.sqrt(bn.running_var + bn.eps)
        shift = bn.bias if bn.affine else torch.zeros_like(bn.running_mean)
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        new = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                        padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=True,
                        padding_mode=conv.padding_mode, dtype=conv.weight.dtype)
        new.weight.copy_(conv.weight * factor.reshape(-1, 1, 1, 1))
        new.bias.copy_((bias - bn.running_mean) * factor + shift)
    return new


def fold_batchnorm(model: nn.Module) -> nn.Module:
    r"""A copy of ``model`` with every ``Conv2d -> BatchNorm2d`` pair merged into one convolution.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified. The pairs are found inside ``nn.Sequential`` containers (as in
        :class:`~course_lib.models.CifarVGG`); a batch norm elsewhere is left as it is.

    Returns
    -------
    torch.nn.Module
        A deep copy in eval mode: each folded convolution has a bias, each folded batch
        norm is an ``nn.Identity`` (so layer names do not change). Its outputs equal the
        input model's *eval-mode* outputs up to float rounding.

    Notes
    -----
    In eval mode batch norm is a per-channel affine map with the running statistics,
    so it merges into the convolution before it:

    .. math:: w' = w\,\frac{\gamma}{\sqrt{\sigma^2 + \epsilon}}, \qquad
              b' = (b - \mu)\,\frac{\gamma}{\sqrt{\sigma^2 + \epsilon}} + \beta

    Quantizing ``w'`` rather than ``w`` is what an integer engine runs: there is no
    batch norm at inference time [1]_.

    Raises
    ------
    ValueError
        If a batch norm to fold has no running statistics.
    """
    new = copy.deepcopy(check_model(model)).eval()
    for seq_name, seq in list(new.named_modules()):
        if not isinstance(seq, nn.Sequential):
            continue
        keys = list(seq._modules)
        for a, b in zip(keys, keys[1:]):
            conv, bn = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                if bn.running_mean is None or bn.running_var is None:
                    where = f"{seq_name}.{b}" if seq_name else b
                    raise ValueError(f"cannot fold batch norm {where!r}: it has no running statistics "
                                     f"(track_running_stats=False).")
                seq._modules[a] = _folded_conv(conv, bn)
                seq._modules[b] = nn.Identity()
    return new
