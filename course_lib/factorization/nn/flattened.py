"""A Conv2d as a flattened convolution: lateral 1x1, vertical Yx1 and horizontal 1xX convolutions.

The layout of Jin, Dundar & Culurciello (2014) and their implementation (jhjin/flattened-cnn),
generalised to ``R`` rank-1 terms per filter:

1. **lateral**: a 1x1 convolution ``C -> F R`` (map ``f R + r`` is ``sum_c z[f, r, c] I[c]``);
2. **vertical**: a ``(Y, 1)`` convolution of each of the ``F R`` maps on its own (``groups = F R``);
3. **horizontal**: a ``(1, X)`` convolution with ``groups = F`` -- output ``f`` reads the ``R`` maps
   of filter ``f`` and sums them, so the sum of the R terms costs nothing extra.

Stride and dilation split along the axes (the vertical stage takes the row ones, the horizontal
the column ones), and so does zero padding: with no bias before the last stage, padding each axis
in its own stage is exactly the 3-D convolution of the padded input. **A bias inside the stack is
not**: a bias added after the lateral stage is also added to the rows the vertical stage reads
from the input, but the 3-D convolution's padded border is zero, so the two differ at the edges.
This layer therefore keeps one bias, after the horizontal stage (the CNN's convolutions have no
bias at all: BatchNorm follows). :func:`flattened_conv2d` takes a ``lateral_bias`` only to show
the difference.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..._validation import check_bool, check_choice, check_int, check_model, check_names, check_tensor, short_repr
from ...layers import set_submodule, weight_layers
from ..flattened import flatten_filters
from ._checks import check_als, check_size, check_stages, check_weight_tensor, pair

__all__ = ["FLATTENED_MODES", "FlattenedConv2d", "flattened_conv2d", "flatten_conv2d", "flatten_model",
           "set_flattened_mode"]

#: How a FlattenedConv2d computes: the three 1-D convolutions, or one conv2d of the reconstructed filter.
FLATTENED_MODES = ("1d", "3d")


def flattened_conv2d(x, lateral, vertical, horizontal, bias=None, *, stride=1, padding=0, dilation=1,
                     lateral_bias=None) -> torch.Tensor:
    """The three 1-D convolutions of a flattened layer, as a function.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C, H, W)
    lateral : torch.Tensor, shape (F R, C, 1, 1)
    vertical : torch.Tensor, shape (F R, 1, Y, 1)
    horizontal : torch.Tensor, shape (F, R, 1, X)
    bias : torch.Tensor of shape (F,) or None
        Added after the last stage: the output equals ``conv2d`` of the reconstructed filter.
    stride, padding, dilation : int or pair of ints, keyword-only
        As for ``torch.nn.functional.conv2d``; each axis is handled by its own stage.
    lateral_bias : torch.Tensor of shape (F R,) or None, keyword-only
        A bias *inside* the stack, after the lateral stage -- for the border demonstration only.

    Returns
    -------
    torch.Tensor, shape (N, F, H_out, W_out)

    Raises
    ------
    TypeError
        If ``x`` or a weight is not a floating-point tensor (a NumPy array included), or a size not an int.
    ValueError
        If the shapes do not fit together (the lateral weight must read ``x``'s channels, the vertical one hold
        ``F R`` filters, the biases ``F`` and ``F R`` entries), the dtypes or devices differ, a stride or
        dilation is < 1, a padding < 0, or the padded input is smaller than the filter.
    """
    (sh, sw), (ph, pw), (dh, dw) = (pair(stride, "stride"), pair(padding, "padding", 0),
                                    pair(dilation, "dilation"))
    check_stages(x, lateral, vertical, horizontal, bias, lateral_bias)
    check_size(x, (vertical.shape[2], horizontal.shape[3]), (ph, pw), (dh, dw))
    maps = F.conv2d(x, lateral, lateral_bias)
    maps = F.conv2d(maps, vertical, None, stride=(sh, 1), padding=(ph, 0), dilation=(dh, 1), groups=maps.shape[1])
    return F.conv2d(maps, horizontal, bias, stride=(1, sw), padding=(0, pw), dilation=(1, dw),
                    groups=horizontal.shape[0])


class FlattenedConv2d(nn.Module):
    """A convolution whose filters are sums of ``rank`` outer products of 1-D filters.

    Parameters
    ----------
    in_channels, out_channels : int
        ``C`` and ``F``.
    kernel_size : int or pair of ints
        ``(Y, X)``.
    rank : int, default 1
        ``R``, rank-1 terms per filter.
    stride, padding, dilation : int or pair of ints
        As for ``nn.Conv2d`` (zero padding only).
    bias : bool, default True
        One bias per output channel, after the last stage.
    mode : {"1d", "3d"}, keyword-only, default "1d"
        ``"1d"`` runs the three 1-D convolutions; ``"3d"`` one ``conv2d`` of the reconstructed filter
        :meth:`weight` -- the same function of the same parameters, with the same gradients (the
        tests check it), which trains faster on a CPU, where the depthwise stages' backward is slow.

    Attributes
    ----------
    lateral : Parameter, shape (F R, C, 1, 1)
    vertical : Parameter, shape (F R, 1, Y, 1)
    horizontal : Parameter, shape (F, R, 1, X)
    bias : Parameter of shape (F,) or None
    relative_errors : numpy.ndarray or None
        Per filter, set by :func:`flatten_conv2d` (the ALS error of the decomposition).

    Raises
    ------
    TypeError, ValueError
        If a size is not an int >= 1 (padding >= 0) or a pair of them (``kernel_size=(3, 3, 3)`` is refused: a
        2-D convolution), or ``bias`` is not a bool.

    Notes
    -----
    The effective filter is ``W[f, c, y, x] = sum_r lateral[fR + r, c] vertical[fR + r, y]
    horizontal[f, r, x]`` (:meth:`weight`); freshly built, each stage has ``nn.Conv2d``'s default
    initialisation, which is how a flattened network is trained from scratch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, rank: int = 1, *, stride=1, padding=0,
                 dilation=1, bias: bool = True, mode: str = "1d"):
        super().__init__()
        self.mode = check_choice("mode", mode, FLATTENED_MODES)
        c = check_int("in_channels", in_channels, minimum=1)
        f = check_int("out_channels", out_channels, minimum=1)
        y, x = pair(kernel_size, "kernel_size")
        r = check_int("rank", rank, minimum=1)
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding", 0)
        self.dilation = pair(dilation, "dilation")
        self.in_channels, self.out_channels, self.kernel_size, self.rank = c, f, (y, x), r
        self.lateral = nn.Parameter(torch.empty(f * r, c, 1, 1))
        self.vertical = nn.Parameter(torch.empty(f * r, 1, y, 1))
        self.horizontal = nn.Parameter(torch.empty(f, r, 1, x))
        self.bias = nn.Parameter(torch.zeros(f)) if check_bool("bias", bias) else None
        for p in (self.lateral, self.vertical, self.horizontal):  # nn.Conv2d's default initialisation
            nn.init.kaiming_uniform_(p, a=5 ** 0.5)
        self.relative_errors = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, F, H_out, W_out)``, as ``nn.Conv2d`` with :meth:`weight` (one ``(C, H, W)`` image too).

        Raises
        ------
        TypeError
            If ``x`` is not a floating-point tensor.
        ValueError
            If ``x`` is not ``(N, C, H, W)`` with the layer's ``C``, is smaller than the filter, or is of another
            dtype or device than the layer.
        """
        if isinstance(x, torch.Tensor) and x.dim() == 3:  # one image, as nn.Conv2d takes it
            return self.forward(x[None])[0]
        check_weight_tensor("x", x, 4)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x has shape {tuple(x.shape)}, must be (N, {self.in_channels}, H, W): the layer reads "
                             f"{self.in_channels} channel(s).")
        if x.dtype != self.lateral.dtype or x.device != self.lateral.device:
            raise ValueError(f"x is {x.dtype} on {x.device}, must be {self.lateral.dtype} on {self.lateral.device} "
                             f"like the layer (convert with x.to(...)).")
        check_size(x, self.kernel_size, self.padding, self.dilation)
        if self.mode == "3d":
            return F.conv2d(x, self.weight(), self.bias, stride=self.stride, padding=self.padding,
                            dilation=self.dilation)
        return flattened_conv2d(x, self.lateral, self.vertical, self.horizontal, self.bias, stride=self.stride,
                                padding=self.padding, dilation=self.dilation)

    def weight(self) -> torch.Tensor:
        """The equivalent 3-D filters, shape ``(F, C, Y, X)`` (differentiable)."""
        f, r = self.out_channels, self.rank
        z = self.lateral.reshape(f, r, -1)
        v = self.vertical.reshape(f, r, -1)
        h = self.horizontal.reshape(f, r, -1)
        return torch.einsum("frc,fry,frx->fcyx", z, v, h)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, rank={self.rank}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"bias={self.bias is not None}, mode={self.mode!r}")


def _check_conv(layer, name: str) -> nn.Conv2d:
    if not isinstance(layer, nn.Conv2d):
        raise TypeError(f"{name} must be an nn.Conv2d, got {type(layer).__name__}.")
    if layer.groups != 1:
        raise ValueError(f"{name} has groups == {layer.groups}, must be 1: a grouped or depthwise convolution "
                         f"has no C x Y x X filters to flatten.")
    if layer.padding_mode != "zeros":
        raise ValueError(f"{name} has padding_mode == {layer.padding_mode!r}, must be 'zeros'.")
    if isinstance(layer.padding, str):
        raise ValueError(f"{name} has padding == {layer.padding!r}, must be ints (write the padding out).")
    return layer


def flatten_conv2d(layer: nn.Conv2d, rank: int = 1, *, decompose: bool = True, name: str = "layer",
                   **als) -> FlattenedConv2d:
    """A :class:`FlattenedConv2d` from a ``Conv2d``: its filters decomposed by ALS, or fresh.

    Parameters
    ----------
    layer : torch.nn.Conv2d
        Not changed. Stride, padding and dilation are kept; groups must be 1, padding zeros.
    rank : int, default 1
        ``R`` terms per filter.
    decompose : bool, keyword-only, default True
        Decompose the trained filters (:func:`~course_lib.factorization.flattened.flatten_filters`)
        and copy the bias; ``False`` gives a freshly initialised layer of the same shape (to train
        from scratch).
    name : str, keyword-only
        The layer's name in error messages.
    **als
        ``max_iter``, ``tol`` for :func:`~course_lib.factorization.flattened.flatten_filters`.

    Returns
    -------
    FlattenedConv2d
        In the layer's dtype; ``relative_errors`` holds each filter's error when decomposed.

    Raises
    ------
    TypeError
        If ``layer`` is not an ``nn.Conv2d``, ``name`` not a str, or an ALS option is unknown (``tolerance=``:
        the option is ``tol``).
    ValueError
        If it has ``groups != 1``, non-zero padding mode or string padding; ``rank < 1``; its weight
        holds NaN/inf; an ALS option is out of range.

    Warns
    -----
    FlattenConvergenceWarning
        If ALS does not converge.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (the layer's name in messages), got {type(name).__name__} "
                        f"({short_repr(name)}).")
    check_als(als, "flatten_conv2d")
    layer = _check_conv(layer, name)
    decompose = check_bool("decompose", decompose)
    f, c, y, x = layer.weight.shape
    new = FlattenedConv2d(c, f, (y, x), rank, stride=layer.stride, padding=layer.padding,
                          dilation=layer.dilation, bias=layer.bias is not None)
    new = new.to(dtype=layer.weight.dtype, device=layer.weight.device)
    if not decompose:
        return new
    weight = check_tensor(f"{name}.weight", layer.weight.detach())
    res = flatten_filters(weight.cpu().double().numpy(), rank, **als)
    with torch.no_grad():
        as_param = lambda a, shape: torch.from_numpy(np.ascontiguousarray(a)).reshape(shape).to(new.lateral)  # noqa: E731
        new.lateral.copy_(as_param(res.lateral, new.lateral.shape))
        new.vertical.copy_(as_param(res.vertical, new.vertical.shape))
        new.horizontal.copy_(as_param(res.horizontal, new.horizontal.shape))
        if layer.bias is not None:
            new.bias.copy_(layer.bias)
    new.relative_errors = res.errors
    return new


def flatten_model(model: nn.Module, ranks, *, decompose: bool = True, **als) -> nn.Module:
    """A copy of ``model`` with the named Conv2d layers flattened.

    Parameters
    ----------
    model : torch.nn.Module
        Not changed.
    ranks : dict of str -> int, or list of str
        ``{"features.4": 1, "features.14": 2}``: layer names (as in ``named_modules()``) and the rank
        of each; a list of names means rank 1 for each.
    decompose : bool, keyword-only, default True
        Decompose the trained filters, or (``False``) start the flattened layers from scratch.
    **als
        ``max_iter``, ``tol`` for the decomposition.

    Returns
    -------
    torch.nn.Module
        The copy, in eval mode.

    Raises
    ------
    TypeError
        If ``model`` is not a Module, ``ranks`` not a dict or list of names, or a named layer not
        an ``nn.Conv2d``.
    ValueError
        If a name is not a layer of the model, a rank is < 1, or a layer's settings are refused
        (see :func:`flatten_conv2d`); an unknown ALS option is a TypeError.
    """
    check_model(model)
    check_als(als, "flatten_model")
    if isinstance(ranks, dict):
        names = check_names("ranks", list(ranks))
        ranks = {n: check_int(f"ranks[{n!r}]", ranks[n], minimum=1) for n in names}
    else:
        ranks = dict.fromkeys(check_names("ranks", ranks), 1)
    modules = dict(model.named_modules())
    for n in ranks:
        if n not in modules:
            convs = ", ".join(k for k, m in weight_layers(model).items() if isinstance(m, nn.Conv2d))
            raise ValueError(f"ranks names {n!r}, which is not a layer of {type(model).__name__}; "
                             f"its Conv2d layers are {convs or 'none'}.")
        _check_conv(modules[n], f"ranks[{n!r}] ({n})")
    new = copy.deepcopy(model)
    for n, r in ranks.items():
        set_submodule(new, n, flatten_conv2d(modules[n], r, decompose=decompose, name=n, **als))
    return new.eval()


def set_flattened_mode(model: nn.Module, mode: str) -> nn.Module:
    """Switch every :class:`FlattenedConv2d` of ``model`` to ``mode`` ("1d" or "3d"), in place.

    Parameters
    ----------
    model : torch.nn.Module
    mode : {"1d", "3d"}

    Returns
    -------
    torch.nn.Module
        ``model``.

    Raises
    ------
    TypeError
        If ``model`` is not a Module or ``mode`` not a str.
    ValueError
        If ``mode`` is not "1d" or "3d".
    """
    check_model(model)
    mode = check_choice("mode", mode, FLATTENED_MODES)
    for module in model.modules():
        if isinstance(module, FlattenedConv2d):
            module.mode = mode
    return model
