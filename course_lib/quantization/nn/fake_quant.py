"""Fake quantization with a straight-through gradient: the building block of PTQ and QAT layers."""

from __future__ import annotations

import numpy as np
import torch

from ..._validation import (
    check_float_array,
    check_int,
    check_tensor,
    short_repr,
    to_numpy,
)

__all__ = ["FakeQuantSTE", "fake_quantize_ste", "round_to_codes"]


def round_to_codes(x: torch.Tensor, scale: torch.Tensor, zero_point, qmin: int, qmax: int) -> torch.Tensor:
    """The integer codes ``clamp(round(x / scale) + z, qmin, qmax)``, held in a float tensor.

    ``x / scale`` is computed as ``x * (1 / scale)``, as torch's fake-quantize kernels do,
    so that the results agree bit for bit.
    """
    return torch.clamp(torch.round(x * (1.0 / scale)) + zero_point, qmin, qmax)


class FakeQuantSTE(torch.autograd.Function):
    r"""Fake quantization with a straight-through gradient.

    ``FakeQuantSTE.apply(x, scale, zero_point, qmin, qmax)``; ``scale`` and
    ``zero_point`` are tensors that broadcast against ``x`` (a scalar, or one value per
    channel shaped like ``(C, 1, 1, 1)``), ``qmin`` and ``qmax`` ints.

    Notes
    -----
    Forward, with :math:`q = \mathrm{round}(x/s) + z` (ties to even):

    .. math:: \hat x = s\,(\mathrm{clamp}(q, q_{min}, q_{max}) - z)

    Backward, the straight-through estimator [3]_: rounding is treated as the identity,
    so the gradient passes unchanged where :math:`q_{min} \le q \le q_{max}` and is zero
    where ``x`` was clipped:

    .. math:: \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \hat x}\,
              [q_{min} \le q \le q_{max}]

    This is what ``torch.fake_quantize_per_tensor_affine`` computes (same mask, same
    rounding). ``scale`` and ``zero_point`` get no gradient.
    """

    @staticmethod
    def forward(ctx, x, scale, zero_point, qmin, qmax):
        q = torch.round(x * (1.0 / scale)) + zero_point
        ctx.save_for_backward((q >= qmin) & (q <= qmax))
        return (torch.clamp(q, qmin, qmax) - zero_point) * scale

    @staticmethod
    def backward(ctx, grad_output):
        (inside,) = ctx.saved_tensors
        return grad_output * inside, None, None, None, None


def fake_quantize_ste(x: torch.Tensor, scale, zero_point, quant_min: int, quant_max: int, *,
                      axis: int | None = None) -> torch.Tensor:
    """``dequantize(quantize(x))`` with the straight-through gradient of :class:`FakeQuantSTE`.

    Parameters
    ----------
    x : torch.Tensor
    scale, zero_point : float or tensor
        One value (per tensor), or one per slice along ``axis`` (per channel).
    quant_min, quant_max : int
        The code range, e.g. -128 and 127.
    axis : int or None, keyword-only
        The channel axis of a per-channel ``scale`` / ``zero_point``.

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``x``, on the grid ``scale * (k - zero_point)``.

    Examples
    --------
    >>> fake_quantize_ste(torch.tensor([0.04, 0.26, 9.0]), 0.1, 0, -128, 127)
    tensor([0.0000, 0.3000, 9.0000])
    """
    x = check_tensor("x", x)
    quant_min = check_int("quant_min", quant_min)
    quant_max = check_int("quant_max", quant_max)
    if quant_min >= quant_max:
        raise ValueError(f"quant_min == {quant_min}, must be < quant_max == {quant_max}.")
    scale = check_float_array("scale", scale, ndim=(0, 1))
    if np.any(scale <= 0):
        raise ValueError(f"scale holds {int(np.count_nonzero(scale <= 0))} value(s) <= 0, must be > 0.")
    zp = to_numpy(zero_point)
    if zp.dtype == bool or not (np.issubdtype(zp.dtype, np.integer)
                                or (np.issubdtype(zp.dtype, np.floating) and np.all(zp == np.round(zp)))):
        raise TypeError(f"zero_point must be an int or integers, got {short_repr(zero_point)}.")
    if zp.ndim > 1:
        raise ValueError(f"zero_point has shape {zp.shape}, must be () or (channels,).")
    if np.any((zp < quant_min) | (zp > quant_max)):
        raise ValueError(f"zero_point == {short_repr(zp.tolist())}, must be within [quant_min, quant_max] == "
                         f"[{quant_min}, {quant_max}].")
    if axis is None and (scale.ndim or zp.ndim) and (scale.size > 1 or zp.size > 1):
        raise ValueError(f"scale has {scale.size} and zero_point {zp.size} value(s): per-channel values need axis.")
    if axis is not None:
        axis = check_int("axis", axis, minimum=-x.dim(), maximum=x.dim() - 1) % x.dim()
        channels = x.shape[axis]
        for what, arr in (("scale", scale), ("zero_point", zp)):
            if arr.ndim == 1 and arr.shape[0] != channels:
                raise ValueError(f"{what} has {arr.shape[0]} value(s), must have {channels}: one per channel "
                                 f"along axis {axis} of x with shape {tuple(x.shape)}.")
    scale = torch.as_tensor(scale, dtype=x.dtype)
    zero_point = torch.as_tensor(zp.astype(np.float64), dtype=x.dtype)
    if axis is not None:
        shape = [1] * x.dim()
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return FakeQuantSTE.apply(x, scale, zero_point, quant_min, quant_max)
