"""Quantization parameters of weights (symmetric) and activations (affine), on tensors."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from ..._validation import (
    check_bits,
    check_bool,
    check_float_array,
    check_tensor,
    is_tensor,
    short_repr,
)
from ..grid import qrange, scale_zero_point
from .fake_quant import round_to_codes

__all__ = ["weight_scale", "quantize_weight", "dequantize_weight", "activation_qparams", "weight_scale_of",
           "weight_codes", "act_qparams", "per_channel_view", "check_act_range"]


def per_channel_view(t: torch.Tensor, dim: int) -> torch.Tensor:
    """A per-output-channel vector shaped to broadcast against a ``dim``-dimensional weight."""
    return t.reshape(-1, *([1] * (dim - 1))) if t.dim() == 1 else t


def weight_scale_of(weight: torch.Tensor, bits: int, per_channel: bool) -> torch.Tensor:
    """Unchecked :func:`weight_scale`: the symmetric case of :func:`~course_lib.quantization.grid.scale_zero_point`."""
    amax = weight.abs().reshape(weight.shape[0], -1).amax(1) if per_channel else weight.abs().max()
    return scale_zero_point(-amax, amax, bits, True)[0]


def weight_codes(weight: torch.Tensor, bits: int, per_channel: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Unchecked :func:`quantize_weight`."""
    weight = weight.detach().float()
    scale = weight_scale_of(weight, bits, per_channel)
    qmax = qrange(bits)[1]
    return round_to_codes(weight, per_channel_view(scale, weight.dim()), 0.0, -qmax, qmax).to(torch.int8), scale


def _check_weight(weight, bits, per_channel) -> tuple[torch.Tensor, int, bool]:
    weight = check_tensor("weight", weight).detach().float()
    bits = check_bits(bits)
    per_channel = check_bool("per_channel", per_channel)
    if per_channel and weight.dim() == 0:
        raise ValueError("weight has 0 dimensions, must have at least 1 for per_channel=True.")
    return weight, bits, per_channel


def weight_scale(weight, *, bits: int = 8, per_channel: bool = True) -> torch.Tensor:
    r"""Symmetric scale of a weight: :math:`s = \max|w| / (2^{b-1} - 1)`.

    Parameters
    ----------
    weight : torch.Tensor or ndarray
        A Linear ``(out, in)`` or Conv2d ``(out, in, kh, kw)`` weight.
    bits : int in 2..8, keyword-only
    per_channel : bool, keyword-only
        One scale per output channel (the slices ``weight[o]``) instead of one for all.

    Returns
    -------
    torch.Tensor
        float32, shape ``(out,)`` per channel, ``()`` per tensor.

    Notes
    -----
    A channel that is all zeros (``max|w| = 0``) gets the smallest scale ``eps = 2^{-23}``,
    as everywhere in the course (:func:`course_lib.quantization.grid.scale_zero_point`):
    any positive scale represents it exactly, and dividing by it is safe. At 8 bits this is
    ``torch.ao``'s symmetric observer with ``quant_min=-127, quant_max=127``.
    """
    return weight_scale_of(*_check_weight(weight, bits, per_channel))


def quantize_weight(weight, *, bits: int = 8, per_channel: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Symmetric integer weights: ``(codes, scale)`` with ``weight ~ scale * codes``.

    .. math:: q = \mathrm{clamp}(\mathrm{round}(w / s), -(2^{b-1}-1), 2^{b-1}-1)

    Returns
    -------
    codes : torch.Tensor of int8
        Same shape as ``weight``.
    scale : torch.Tensor of float32
        See :func:`weight_scale`.

    Examples
    --------
    Ties go to the even code (0.5 * 127 = 63.5 -> 64; at 2 bits 0.5 -> 0):

    >>> quantize_weight(torch.tensor([[-1.0, 0.5, 0.25]]))
    (tensor([[-127,   64,   32]], dtype=torch.int8), tensor([0.0079]))
    >>> quantize_weight(torch.tensor([[-1.0, 0.5, 0.25]]), bits=2)[0]
    tensor([[-1,  0,  0]], dtype=torch.int8)
    """
    return weight_codes(*_check_weight(weight, bits, per_channel))


def dequantize_weight(codes: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``scale * codes`` as float32, with a per-channel ``scale`` broadcast over the rows.

    Parameters
    ----------
    codes : int8 torch.Tensor (or int8 ndarray)
        From :func:`quantize_weight`.
    scale : float, tensor or array
        One scale ``> 0``, or one per row (shape ``(codes.shape[0],)``); finite.

    Raises
    ------
    TypeError
        If ``codes`` is not int8, or ``scale`` is not real numbers.
    ValueError
        If ``scale`` has the wrong shape, or holds a value ``<= 0``, NaN or infinite.
    """
    if isinstance(codes, np.ndarray) and codes.dtype == np.int8:
        codes = torch.from_numpy(codes)
    if not isinstance(codes, torch.Tensor) or codes.dtype != torch.int8:
        got = (f"torch.{str(codes.dtype).split('.')[-1]}" if isinstance(codes, torch.Tensor) else
               f"a NumPy array of dtype {codes.dtype}" if isinstance(codes, np.ndarray) else type(codes).__name__)
        raise TypeError(f"codes must be an int8 tensor, got {got}.")
    arr = check_float_array("scale", scale, ndim=(0, 1))
    if arr.ndim == 1 and (codes.dim() == 0 or arr.shape[0] != codes.shape[0]):
        raise ValueError(f"scale has shape {arr.shape}, must be () or ({codes.shape[0] if codes.dim() else 1},) "
                         f"for codes of shape {tuple(codes.shape)}.")
    if np.any(arr <= 0):
        raise ValueError(f"scale holds {int(np.count_nonzero(arr <= 0))} value(s) <= 0, must be > 0.")
    scale = scale.detach().float() if is_tensor(scale) else torch.as_tensor(arr, dtype=torch.float32)
    return codes.float() * per_channel_view(scale, codes.dim())


def _bound(name: str, value) -> float:
    """One end of an activation range: a finite real number (a 0-d tensor or array too)."""
    if is_tensor(value) or isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ValueError(f"{name} has shape {tuple(value.shape)}, must be a single number.")
        if is_tensor(value):
            value = value.detach().cpu().numpy()
        if value.dtype == bool or value.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be a real number, got dtype {value.dtype}.")
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} ({short_repr(value)}).")
    if not np.isfinite(value):
        raise ValueError(f"{name} == {value!r}, must be finite.")
    return float(value)


def check_act_range(low, high) -> tuple[float, float]:
    """``(low, high)``: two finite real numbers with ``low <= high``."""
    low, high = _bound("low", low), _bound("high", high)
    if low > high:
        raise ValueError(f"low == {low}, must be <= high == {high}.")
    return low, high


def act_qparams(low: torch.Tensor, high: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Affine scale and zero point (float32 tensors) of the range [low, high]; see activation_qparams."""
    return scale_zero_point(low, high, bits, False)


def activation_qparams(low, high, *, bits: int = 8) -> tuple[float, int]:
    r"""Affine ``(scale, zero_point)`` that maps ``[low, high]`` onto the codes ``[-2^{b-1}, 2^{b-1}-1]``.

    Notes
    -----
    The range is first widened to contain 0 (so that zero padding and ReLU zeros are
    exact), then

    .. math:: s = \frac{\max(hi, 0) - \min(lo, 0)}{2^b - 1}, \qquad
              z = \mathrm{clamp}(q_{min} - \mathrm{round}(\min(lo, 0) / s), q_{min}, q_{max})

    and ``x`` is stored as ``round(x / s) + z``. If ``low == high == 0`` the scale is
    ``eps = 2^{-23}`` (any positive scale represents 0 exactly; the course's one rule,
    :func:`course_lib.quantization.grid.scale_zero_point`). These are ``torch.ao``'s ``MinMaxObserver``
    formulas (affine, ``quant_min=-128, quant_max=127`` at 8 bits).

    Examples
    --------
    >>> activation_qparams(0.0, 2.55)       # ReLU output: all 256 codes for [0, 2.55]
    (0.009999999776482582, -128)
    >>> activation_qparams(-1.0, 3.0)[1]     # -1.0 is code -128, so 0.0 is code -64
    -64
    """
    bits = check_bits(bits)
    low, high = check_act_range(low, high)
    scale, zero_point = act_qparams(torch.tensor(float(low)), torch.tensor(float(high)), bits)
    return float(scale), int(zero_point)
