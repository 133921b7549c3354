"""Quantizing PyTorch models: fake quantization, post-training quantization, QAT and int8 speed.

The torch side of the quantization lesson, built on our own small pieces
rather than on ``torch.ao.quantization`` (deprecated: it prints warnings):

* :class:`FakeQuantSTE` -- ``dequantize(quantize(x))`` with a straight-through
  gradient, the building block of everything below;
* post-training quantization of a whole model, the rows of TFLite's table:
  :func:`ptq_float16`, :func:`ptq_dynamic` (int8 weights, float activations
  quantized on the fly) and :func:`ptq_full_integer` (int8 weights *and*
  activations, ranges from :func:`calibrate`), after :func:`fold_batchnorm`;
* :class:`IntegerMLP`: LeNet-300-100 run with integer arithmetic in NumPy, which
  reproduces the full-integer model's logits;
* quantization-aware training: :func:`prepare_qat`, :func:`train_qat`,
  :func:`convert_qat`;
* sizes (:func:`model_bytes`) and the real int8 kernel's speed
  (:func:`int8_linear_latency`, timing ``torch._int_mm``).

Conventions (TFLite's int8 scheme [2]_, for any ``bits`` in 2..8):

* **weights**: symmetric, zero point 0, codes in ``[-(2^{b-1}-1), 2^{b-1}-1]``
  (``[-127, 127]`` at 8 bits), one scale ``max|w| / (2^{b-1}-1)`` per tensor or
  per output channel;
* **activations**: affine, codes in ``[-2^{b-1}, 2^{b-1}-1]`` with a zero point,
  so that a ReLU output ``[0, a]`` uses all ``2^b`` levels;
* rounding to nearest, ties to even (``torch.round``, as in torch's kernels);
* biases stay float32 and are added after the rescale (TFLite stores them as
  int32 at scale ``s_x s_w``: a difference of at most half a step).

Typical use::

    model = cl.load_pretrained("lenet300")
    ranges = calibrate(model, train_images[:1000])
    int8 = ptq_full_integer(model, ranges)
    qat = convert_qat(train_qat(prepare_qat(model, bits=4, ranges=ranges), train_images, train_labels,
                                max_steps=100, rng=0))

References
----------
.. [1] B. Jacob et al., "Quantization and Training of Neural Networks for Efficient
   Integer-Arithmetic-Only Inference", CVPR 2018.
.. [2] R. Krishnamoorthi, "Quantizing deep convolutional networks for efficient
   inference: A whitepaper", arXiv:1806.08342, 2018.
.. [3] Y. Bengio, N. Leonard, A. Courville, "Estimating or Propagating Gradients
   Through Stochastic Neurons for Conditional Computation", arXiv:1308.3432, 2013.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._training import adam_steps, check_labels
from ._validation import check_choice, check_int, check_positive_float
from .measure import latency
from .models import LeNet300100, to_tensor
from .pruning import _as_generator

__all__ = [
    "QUANT_LAYERS",
    "FakeQuantSTE",
    "fake_quantize",
    "weight_scale",
    "quantize_weight",
    "dequantize_weight",
    "activation_qparams",
    "fold_batchnorm",
    "calibrate",
    "Float16Layer",
    "DynamicQuantLayer",
    "QuantizedLayer",
    "QATLayer",
    "ptq_float16",
    "ptq_dynamic",
    "ptq_full_integer",
    "IntegerMLP",
    "prepare_qat",
    "train_qat",
    "convert_qat",
    "model_bytes",
    "int8_linear_latency",
]

QUANT_LAYERS = (nn.Linear, nn.Conv2d)
CALIBRATION_METHODS = ("minmax", "maxabs", "percentile")
SIZE_FORMATS = ("float32", "float16", "int8")
_EXACT_FLOAT32 = 2 ** 24  # integers up to this size are exact in float32


# --------------------------------------------------------------------------- checks

def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    return model


def _check_bits(bits) -> int:
    return check_int("bits", bits, minimum=2, maximum=8)


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} ({value!r}).")
    return bool(value)


def _check_images(images) -> torch.Tensor:
    """uint8 images -> float tensor in [0, 1]; TypeError / ValueError as in to_tensor, plus emptiness."""
    x = to_tensor(images)
    if len(x) == 0:
        raise ValueError("images is empty, must have at least one image.")
    return x


def _check_tensor(name: str, value) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor or a NumPy array, got {type(value).__name__}.")
    if not value.is_floating_point():
        raise TypeError(f"{name} must hold floating-point numbers, got dtype {value.dtype}.")
    if value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}), must have at least one element.")
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite values, must be finite.")
    return value


def _quant_layers(model: nn.Module) -> dict[str, nn.Module]:
    """``{"fc1": layer}`` for every nn.Linear / nn.Conv2d of ``model``, in module order; never empty."""
    layers = {name: m for name, m in _check_model(model).named_modules() if isinstance(m, QUANT_LAYERS)}
    if not layers:
        raise ValueError(f"model ({type(model).__name__}) has no nn.Linear or nn.Conv2d layer to quantize.")
    return layers


def _check_ranges(ranges, names) -> dict[str, tuple[float, float]]:
    if not isinstance(ranges, dict):
        raise TypeError(f"ranges must be a dict of layer name -> (low, high) as returned by calibrate, "
                        f"got {type(ranges).__name__}.")
    names = list(names)
    expected = ", ".join(repr(n) for n in names)
    unknown = [n for n in ranges if n not in names]
    if unknown:
        raise ValueError(f"ranges has unknown layer name(s) {unknown}, must be among {expected}.")
    missing = [n for n in names if n not in ranges]
    if missing:
        raise ValueError(f"ranges is missing layer(s) {missing}, must have one (low, high) pair per "
                         f"quantized layer: {expected}.")
    checked = {}
    for name in names:
        pair = ranges[name]
        ok = (isinstance(pair, (tuple, list)) and len(pair) == 2
              and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) for v in pair)
              and pair[0] <= pair[1])
        if not ok:
            raise ValueError(f"ranges[{name!r}] == {pair!r}, must be a pair (low, high) of finite numbers "
                             f"with low <= high.")
        checked[name] = (float(pair[0]), float(pair[1]))
    return checked


def _set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, child, module)


def _replace_layers(model: nn.Module, make) -> nn.Module:
    """Replace, in place, every Linear/Conv2d of ``model`` (a copy) by ``make(name, layer)``; eval mode."""
    for name, layer in _quant_layers(model).items():
        if not name:
            return make(name, layer).eval()
        _set_submodule(model, name, make(name, layer))
    return model.eval()


# --------------------------------------------------------------------------- fake quantization

def _weight_qmax(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def _act_qrange(bits: int) -> tuple[int, int]:
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _codes(x: torch.Tensor, scale: torch.Tensor, zero_point, qmin: int, qmax: int) -> torch.Tensor:
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


def fake_quantize(x: torch.Tensor, scale, zero_point, quant_min: int, quant_max: int, *,
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
    >>> fake_quantize(torch.tensor([0.04, 0.26, 9.0]), 0.1, 0, -128, 127)
    tensor([0.0000, 0.3000, 9.0000])
    """
    x = _check_tensor("x", x)
    quant_min = check_int("quant_min", quant_min)
    quant_max = check_int("quant_max", quant_max)
    if quant_min >= quant_max:
        raise ValueError(f"quant_min == {quant_min}, must be < quant_max == {quant_max}.")
    scale = torch.as_tensor(scale, dtype=x.dtype)
    zero_point = torch.as_tensor(zero_point, dtype=x.dtype)
    if not torch.all(scale > 0):
        raise ValueError("scale must be > 0 everywhere.")
    if axis is not None:
        axis = check_int("axis", axis, minimum=-x.dim(), maximum=x.dim() - 1) % x.dim()
        shape = [1] * x.dim()
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return FakeQuantSTE.apply(x, scale, zero_point, quant_min, quant_max)


# --------------------------------------------------------------------------- quantization parameters

def _per_channel_view(t: torch.Tensor, dim: int) -> torch.Tensor:
    """A per-output-channel vector shaped to broadcast against a ``dim``-dimensional weight."""
    return t.reshape(-1, *([1] * (dim - 1))) if t.dim() == 1 else t


def _weight_scale(weight: torch.Tensor, bits: int, per_channel: bool) -> torch.Tensor:
    amax = weight.abs().reshape(weight.shape[0], -1).amax(1) if per_channel else weight.abs().max()
    scale = amax / _weight_qmax(bits)
    return torch.where(scale > 0, scale, torch.ones_like(scale))


def _quantize_weight(weight: torch.Tensor, bits: int, per_channel: bool) -> tuple[torch.Tensor, torch.Tensor]:
    weight = weight.detach().float()
    scale = _weight_scale(weight, bits, per_channel)
    qmax = _weight_qmax(bits)
    return _codes(weight, _per_channel_view(scale, weight.dim()), 0.0, -qmax, qmax).to(torch.int8), scale


def _check_weight(weight, bits, per_channel) -> tuple[torch.Tensor, int, bool]:
    weight = _check_tensor("weight", weight).detach().float()
    bits = _check_bits(bits)
    per_channel = _check_bool("per_channel", per_channel)
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
    A channel that is all zeros (``max|w| = 0``) gets scale 1: any positive scale
    represents it exactly, and dividing by it is safe. At 8 bits this is
    ``torch.ao``'s symmetric observer with ``quant_min=-127, quant_max=127``.
    """
    return _weight_scale(*_check_weight(weight, bits, per_channel))


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
    return _quantize_weight(*_check_weight(weight, bits, per_channel))


def dequantize_weight(codes: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``scale * codes`` as float32, with a per-channel ``scale`` broadcast over the rows."""
    if not isinstance(codes, torch.Tensor) or codes.dtype != torch.int8:
        raise TypeError(f"codes must be an int8 tensor, got {getattr(codes, 'dtype', type(codes).__name__)}.")
    scale = torch.as_tensor(scale, dtype=torch.float32)
    if scale.dim() == 1 and (codes.dim() == 0 or scale.shape[0] != codes.shape[0]):
        raise ValueError(f"scale has shape {tuple(scale.shape)}, must be () or ({codes.shape[0]},) "
                         f"for codes of shape {tuple(codes.shape)}.")
    return codes.float() * _per_channel_view(scale, codes.dim())


def _act_qparams(low: torch.Tensor, high: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Affine scale and zero point (float32 tensors) of the range [low, high]; see activation_qparams."""
    qmin, qmax = _act_qrange(bits)
    low, high = torch.clamp(low, max=0.0), torch.clamp(high, min=0.0)
    scale = (high - low) / float(qmax - qmin)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    zero_point = torch.clamp(qmin - torch.round(low / scale), qmin, qmax)
    return scale, zero_point


def activation_qparams(low, high, *, bits: int = 8) -> tuple[float, int]:
    r"""Affine ``(scale, zero_point)`` that maps ``[low, high]`` onto the codes ``[-2^{b-1}, 2^{b-1}-1]``.

    Notes
    -----
    The range is first widened to contain 0 (so that zero padding and ReLU zeros are
    exact), then

    .. math:: s = \frac{\max(hi, 0) - \min(lo, 0)}{2^b - 1}, \qquad
              z = \mathrm{clamp}(q_{min} - \mathrm{round}(\min(lo, 0) / s), q_{min}, q_{max})

    and ``x`` is stored as ``round(x / s) + z``. If ``low == high == 0`` the scale is 1
    (any positive scale represents 0 exactly). These are ``torch.ao``'s ``MinMaxObserver``
    formulas (affine, ``quant_min=-128, quant_max=127`` at 8 bits).

    Examples
    --------
    >>> activation_qparams(0.0, 2.55)       # ReLU output: all 256 codes for [0, 2.55]
    (0.009999999776482582, -128)
    >>> activation_qparams(-1.0, 3.0)[1]     # -1.0 is code -128, so 0.0 is code -64
    -64
    """
    bits = _check_bits(bits)
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} == {value!r}, must be a finite real number.")
    if low > high:
        raise ValueError(f"low == {low}, must be <= high == {high}.")
    scale, zero_point = _act_qparams(torch.tensor(float(low)), torch.tensor(float(high)), bits)
    return float(scale), int(zero_point)


# --------------------------------------------------------------------------- batch-norm folding

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
    new = copy.deepcopy(_check_model(model)).eval()
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


# --------------------------------------------------------------------------- calibration

def calibrate(model: nn.Module, images, *, method: str = "minmax", percentile: float = 99.99,
              batch_size: int = 500) -> dict[str, tuple[float, float]]:
    """The range ``(low, high)`` of the input of every Linear / Conv2d layer on a sample of images.

    Parameters
    ----------
    model : torch.nn.Module
        A float model; run in eval mode (then restored), not modified.
    images : uint8 ndarray
        A small representative *unlabeled* sample (a few hundred training images), as
        returned by :mod:`course_lib.data`.
    method : {"minmax", "maxabs", "percentile"}, keyword-only
        ``"minmax"``: the smallest and largest value seen;
        ``"maxabs"``: ``(-a, a)`` with ``a = max|x|``, the symmetric range of the seed's
        int8 scheme -- for a ReLU output half of the codes go to negative values that
        never occur;
        ``"percentile"``: the ``100 - percentile`` and ``percentile`` percentiles of all
        values, which clips rare outliers to get a finer step for the rest.
    percentile : float in (50, 100], keyword-only
    batch_size : int, keyword-only

    Returns
    -------
    dict of str -> (float, float)
        Keyed by module name (``"fc1"``, ``"features.0"``), in module order -- the
        ``ranges`` argument of :func:`ptq_full_integer` and :func:`prepare_qat`.

    Notes
    -----
    The values are collected with forward pre-hooks. ``"percentile"`` keeps every value
    of every layer input in memory (``len(images)`` times the largest layer input).
    Folding batch norm does not change any layer input, so the ranges of ``model``
    serve its folded copy too.
    """
    layers = _quant_layers(model)
    method = check_choice("method", method, CALIBRATION_METHODS)
    percentile = check_positive_float("percentile", percentile)
    if not 50 < percentile <= 100:
        raise ValueError(f"percentile == {percentile}, must be in (50, 100].")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    x_all = _check_images(images)

    seen: dict[str, list] = {name: [] for name in layers}

    def hook_for(name):
        def hook(module, inputs):
            x = inputs[0].detach()
            if method == "percentile":
                seen[name].append(x.flatten().numpy().copy())
            else:
                lo, hi = torch.aminmax(x)
                seen[name].append((float(lo), float(hi)))
        return hook

    handles = [layer.register_forward_pre_hook(hook_for(name)) for name, layer in layers.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(x_all), batch_size):
                model(x_all[start:start + batch_size])
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    ranges = {}
    for name, values in seen.items():
        if method == "percentile":
            allv = np.concatenate(values)
            lo, hi = np.percentile(allv, [100 - percentile, percentile])
        else:
            lo, hi = min(v[0] for v in values), max(v[1] for v in values)
            if method == "maxabs":
                a = max(abs(lo), abs(hi))
                lo, hi = -a, a
        ranges[name] = (float(lo), float(hi))
    return ranges


# --------------------------------------------------------------------------- quantized layers

class _QuantLayerBase(nn.Module):
    """What every quantized layer shares: whether it is a Linear or a Conv2d, and its conv settings."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        if isinstance(layer, _QuantLayerBase):
            self.kind, self.conv_args, self.shape = layer.kind, dict(layer.conv_args), layer.shape
            return
        if isinstance(layer, nn.Conv2d) and layer.padding_mode != "zeros":
            raise ValueError(f"layer has padding_mode == {layer.padding_mode!r}, must be 'zeros'.")
        self.kind = "conv" if isinstance(layer, nn.Conv2d) else "linear"
        self.conv_args = ({} if self.kind == "linear" else
                          dict(stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                               groups=layer.groups))
        self.shape = tuple(layer.weight.shape)

    def _op(self, x, weight, bias):
        if self.kind == "linear":
            return F.linear(x, weight, bias)
        return F.conv2d(x, weight, bias, **self.conv_args)

    def _channel(self, t: torch.Tensor) -> torch.Tensor:
        """A per-output-channel vector shaped to broadcast against this layer's output."""
        return t.reshape(-1, 1, 1) if self.kind == "conv" and t.dim() == 1 else t

    def extra_repr(self):
        kind = "Linear" if self.kind == "linear" else "Conv2d"
        return f"{kind}{self.shape}" + "".join(f", {k}={v}" for k, v in self.conv_args.items())


class Float16Layer(_QuantLayerBase):
    """A Linear / Conv2d whose weight and bias are stored in float16.

    The forward pass converts them back to float32 and computes in float32: CPUs
    have no fast float16 matrix product, so float16 here buys size, not speed (on a
    GPU or an ARM phone the product itself runs in float16).
    """

    def __init__(self, layer: nn.Module):
        super().__init__(layer)
        self.register_buffer("weight", layer.weight.detach().to(torch.float16).clone())
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().to(torch.float16).clone())

    def forward(self, x):
        return self._op(x, self.weight.float(), None if self.bias is None else self.bias.float())


def _dynamic_int8_linear(x: torch.Tensor, weight_t: torch.Tensor, scale: torch.Tensor, colsum: torch.Tensor,
                         bias: torch.Tensor | None) -> torch.Tensor:
    r"""``x @ W^T + b`` with ``W = scale * codes`` and ``x`` quantized row by row to int8 on the fly.

    ``weight_t`` is the ``(in, out)`` int8 code matrix (any strides: the transposed view of
    an ``(out, in)`` matrix is the fast layout at batch 1), ``colsum`` its column sums
    (int32). Per row: :math:`x \approx s(q - z)`, the int8 x int8 -> int32 product
    :math:`A = qW_q^T` runs in ``torch._int_mm`` and

    .. math:: y = s\,s_w\,(A - z\,\textstyle\sum_k W_q[:, k]) + b
    """
    lo, hi = torch.aminmax(x, dim=1, keepdim=True)
    s, z = _act_qparams(lo, hi, 8)
    q = _codes(x, s, z, -128, 127).to(torch.int8)
    acc = torch._int_mm(q, weight_t) - z.to(torch.int32) * colsum
    y = acc.float() * (s * scale)
    return y if bias is None else y + bias


class DynamicQuantLayer(_QuantLayerBase):
    """A layer with int8 weights (codes + scales) and float activations: "dynamic range" quantization.

    * Linear: each input row is quantized to int8 on the fly (affine, its own min/max),
      the product runs in the int8 kernel ``torch._int_mm`` with int32 accumulation,
      and the result is rescaled to float (see :func:`_dynamic_int8_linear`). Each
      example has its own scale, so a prediction does not depend on the rest of the batch.
    * Conv2d: the weights are dequantized on the fly and the convolution runs in float32
      (weight-only int8: smaller, not faster -- torch has no non-deprecated int8 conv on CPU).

    The codes are stored ``(out, in)`` as in ``nn.Linear``; ``torch._int_mm`` gets their
    transposed *view*, the layout that is fastest at batch 1 (see :func:`int8_linear_latency`).
    """

    def __init__(self, layer: nn.Module, *, bits: int = 8, per_channel: bool = True):
        super().__init__(layer)
        self.bits = _check_bits(bits)
        codes, scale = _quantize_weight(layer.weight, self.bits, _check_bool("per_channel", per_channel))
        self.register_buffer("weight", codes)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().float().clone())
        colsum = codes.flatten(1).sum(1, dtype=torch.int32) if self.kind == "linear" else None
        self.register_buffer("colsum", colsum, persistent=False)

    def forward(self, x):
        if self.kind == "conv":
            return self._op(x, dequantize_weight(self.weight, self.weight_scale), self.bias)
        rows = x.reshape(-1, x.shape[-1])
        y = _dynamic_int8_linear(rows, self.weight.t(), self.weight_scale, self.colsum, self.bias)
        return y.reshape(*x.shape[:-1], y.shape[-1])


class QuantizedLayer(_QuantLayerBase):
    r"""A full-integer layer: int8 weights, int8 input codes, integer accumulation, one rescale.

    Built by :func:`ptq_full_integer` and :func:`convert_qat`. Buffers: ``weight``
    (int8 codes), ``weight_scale``, ``bias`` (float32), ``act_scale`` and
    ``act_zero_point`` (the input's quantization parameters).

    Notes
    -----
    With input codes :math:`q_x = \mathrm{clamp}(\mathrm{round}(x/s_x) + z_x)` and weight
    codes :math:`W_q`,

    .. math:: A = (q_x - z_x) * W_q \quad\text{(integers)}, \qquad y = s_x s_w A + b

    where ``*`` is the matrix product or the convolution. This is the fake-quantized layer
    ``op(fake_quantize(x), dequantize(W_q), b)`` rearranged so that the product only
    sees integers: an int32 accumulator on integer hardware. Here the integers are held
    in float32, where sums are exact up to :math:`2^{24}`; a layer whose worst case
    :math:`\max_o \sum |W_q| \max|q_x - z_x|` exceeds that accumulates in float64. The
    output stays float (ReLU, max pooling and the next layer's quantization follow): the
    "requantize" step of an integer engine, which multiplies ``A`` by the fixed-point
    number :math:`s_x s_w / s_{out}`, is here a float rescale.
    """

    def __init__(self, layer: nn.Module, low: torch.Tensor, high: torch.Tensor, *, bits: int = 8,
                 per_channel: bool = True):
        super().__init__(layer)
        self.bits = _check_bits(bits)
        codes, scale = _quantize_weight(layer.weight, self.bits, _check_bool("per_channel", per_channel))
        act_scale, act_zero_point = _act_qparams(torch.as_tensor(low, dtype=torch.float32),
                                                 torch.as_tensor(high, dtype=torch.float32), bits)
        self.register_buffer("weight", codes)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().float().clone())
        self.register_buffer("act_scale", act_scale)
        self.register_buffer("act_zero_point", act_zero_point.to(torch.int32))
        qmin, qmax = _act_qrange(bits)
        z = int(act_zero_point)
        worst = int(codes.flatten(1).abs().sum(1, dtype=torch.int64).max()) * max(qmax - z, z - qmin)
        self.exact_float32 = worst <= _EXACT_FLOAT32

    def input_codes(self, x: torch.Tensor) -> torch.Tensor:
        """The int8 codes of the input (held in a float tensor)."""
        qmin, qmax = _act_qrange(self.bits)
        return _codes(x, self.act_scale, self.act_zero_point.float(), qmin, qmax)

    def forward(self, x):
        dtype = torch.float32 if self.exact_float32 else torch.float64
        centered = (self.input_codes(x) - self.act_zero_point.float()).to(dtype)
        acc = self._op(centered, self.weight.to(dtype), None).float()
        y = acc * self._channel(self.act_scale * self.weight_scale)
        return y if self.bias is None else y + self._channel(self.bias)


class QATLayer(_QuantLayerBase):
    r"""A Linear / Conv2d trained with fake-quantized weights and inputs (quantization-aware training).

    The float weight and bias are parameters; every forward pass fake-quantizes the
    weight (symmetric, scale from its current ``max|w|``) and the input (affine, from
    the tracked range) with :class:`FakeQuantSTE`.

    Notes
    -----
    The input range is an exponential moving average of each training batch's min and max,

    .. math:: lo \leftarrow lo + m\,(\min x - lo), \qquad hi \leftarrow hi + m\,(\max x - hi)

    started from ``ranges`` (:func:`prepare_qat`) or, without them, from the first batch.
    In eval mode the range is frozen. Buffers: ``act_min``, ``act_max``, ``observed``.
    """

    def __init__(self, layer: nn.Module, *, bits: int = 8, per_channel: bool = True, momentum: float = 0.01,
                 low: float | None = None, high: float | None = None):
        super().__init__(layer)
        self.bits, self.per_channel = _check_bits(bits), _check_bool("per_channel", per_channel)
        self.momentum = check_positive_float("momentum", momentum)
        self.weight = nn.Parameter(layer.weight.detach().float().clone())
        self.bias = None if layer.bias is None else nn.Parameter(layer.bias.detach().float().clone())
        self.register_buffer("act_min", torch.tensor(0.0 if low is None else float(low)))
        self.register_buffer("act_max", torch.tensor(0.0 if high is None else float(high)))
        self.register_buffer("observed", torch.tensor(low is not None))

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                lo, hi = torch.aminmax(x.detach())
                if self.observed:
                    self.act_min.add_(self.momentum * (lo - self.act_min))
                    self.act_max.add_(self.momentum * (hi - self.act_max))
                else:
                    self.act_min.copy_(lo)
                    self.act_max.copy_(hi)
                    self.observed.fill_(True)
        elif not self.observed:
            raise RuntimeError("this QATLayer has not seen any input range yet: pass ranges=calibrate(...) "
                               "to prepare_qat, or train the model first.")
        qmin, qmax = _act_qrange(self.bits)
        scale, zero_point = _act_qparams(self.act_min, self.act_max, self.bits)
        x = FakeQuantSTE.apply(x, scale, zero_point, qmin, qmax)
        wmax = _weight_qmax(self.bits)
        ws = _per_channel_view(_weight_scale(self.weight.detach(), self.bits, self.per_channel), self.weight.dim())
        w = FakeQuantSTE.apply(self.weight, ws, torch.zeros(()), -wmax, wmax)
        return self._op(x, w, self.bias)


# --------------------------------------------------------------------------- post-training quantization

def ptq_float16(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with batch norm folded and every Linear / Conv2d stored in float16.

    Half the bytes of float32 (:func:`model_bytes`) and, as a rule, the same accuracy:
    float16 keeps 11 significant bits, far more than the weights need. The compute stays
    float32 on the CPU (see :class:`Float16Layer`). Returns the copy in eval mode.
    """
    _quant_layers(model)
    return _replace_layers(fold_batchnorm(model), lambda name, layer: Float16Layer(layer))


def ptq_dynamic(model: nn.Module, *, bits: int = 8, per_channel: bool = True) -> nn.Module:
    """A copy of ``model`` with int8 weights and activations quantized on the fly ("dynamic range").

    Parameters
    ----------
    model : torch.nn.Module
        Not modified; batch norm is folded first.
    bits : int in 2..8, keyword-only
        Bits of the weight codes (stored in int8 whatever ``bits``). Activations are
        always quantized to 8 bits, per example, with their own range: no calibration.
    per_channel : bool, keyword-only
        One weight scale per output channel (else one per layer).

    Returns
    -------
    torch.nn.Module
        Eval mode; each Linear / Conv2d replaced by a :class:`DynamicQuantLayer` (Linear
        layers run the int8 kernel, convolutions are weight-only int8).
    """
    _quant_layers(model)
    bits = _check_bits(bits)
    per_channel = _check_bool("per_channel", per_channel)
    return _replace_layers(fold_batchnorm(model),
                           lambda name, layer: DynamicQuantLayer(layer, bits=bits, per_channel=per_channel))


def ptq_full_integer(model: nn.Module, ranges: dict, *, bits: int = 8, per_channel: bool = True) -> nn.Module:
    """A copy of ``model`` that simulates full-integer inference: int weights *and* int activations.

    Parameters
    ----------
    model : torch.nn.Module
        A float model; not modified. Batch norm is folded first (:func:`fold_batchnorm`).
    ranges : dict of str -> (low, high)
        The input range of every Linear / Conv2d, from :func:`calibrate`.
    bits : int in 2..8, keyword-only
        Bits of both weights and activations.
    per_channel : bool, keyword-only
        Per-output-channel weight scales (else one per layer).

    Returns
    -------
    torch.nn.Module
        Eval mode; each Linear / Conv2d replaced by a :class:`QuantizedLayer`.

    Raises
    ------
    ValueError
        If ``ranges`` misses a layer, names an unknown one, or holds a bad pair.
    """
    checked = _check_ranges(ranges, _quant_layers(model))
    bits = _check_bits(bits)
    per_channel = _check_bool("per_channel", per_channel)
    return _replace_layers(fold_batchnorm(model), lambda name, layer: QuantizedLayer(
        layer, *checked[name], bits=bits, per_channel=per_channel))


class IntegerMLP:
    """LeNet-300-100 run with integer arithmetic in NumPy, from a full-integer model.

    Parameters
    ----------
    qmodel : LeNet300100
        From :func:`ptq_full_integer` or :func:`convert_qat`: ``fc1``, ``fc2``, ``fc3`` are
        :class:`QuantizedLayer`.

    Notes
    -----
    The images are standardised in float, then for each layer

    1. quantize the input: ``q = clip(round(x / s_x) + z_x, -128, 127)`` -> ``int8``;
    2. accumulate in ``int32``: ``A = (q - z_x) @ W_q.T`` with ``W_q`` ``int8``;
    3. rescale: ``y = (s_x s_w) A + b`` in float32, then ReLU (except after ``fc3``).

    An integer engine also does step 3 in integers (a fixed-point multiplier and shift
    straight to the next layer's int8 codes); the float rescale keeps the code short.
    The logits equal the torch model's, whose :class:`QuantizedLayer` does the same
    arithmetic in float32 (exact for these integers).

    Examples
    --------
    >>> mlp = IntegerMLP(ptq_full_integer(model, calibrate(model, train_images[:500])))  # doctest: +SKIP
    >>> mlp.predict(test_images)                                                          # doctest: +SKIP
    """

    def __init__(self, qmodel):
        if not isinstance(qmodel, LeNet300100):
            raise TypeError(f"qmodel must be a quantized LeNet300100, got {type(qmodel).__name__}.")
        self.standardize = copy.deepcopy(qmodel.standardize)
        self.layers = []
        for name in ("fc1", "fc2", "fc3"):
            layer = getattr(qmodel, name)
            if not isinstance(layer, QuantizedLayer):
                raise ValueError(f"qmodel.{name} is a {type(layer).__name__}, must be a QuantizedLayer: build "
                                 f"qmodel with ptq_full_integer or convert_qat.")
            qmin, qmax = _act_qrange(layer.bits)
            self.layers.append({
                "weight": layer.weight.numpy().copy(),                                       # int8 (out, in)
                "inv_scale": (1.0 / layer.act_scale).numpy(),                                # float32
                "zero_point": int(layer.act_zero_point),
                "qmin": qmin, "qmax": qmax,
                "out_scale": (layer.act_scale * layer.weight_scale).numpy(),                 # float32 (out,)
                "bias": np.zeros(layer.shape[0], np.float32) if layer.bias is None else layer.bias.numpy().copy(),
            })

    def logits(self, images) -> np.ndarray:
        """float32 logits, shape (N, 10), of uint8 images (N, 28, 28)."""
        with torch.inference_mode():
            x = self.standardize(_check_images(images)).flatten(1).numpy()
        for i, layer in enumerate(self.layers):
            z = layer["zero_point"]
            q = np.clip(np.round(x * layer["inv_scale"]) + z, layer["qmin"], layer["qmax"]).astype(np.int8)
            acc = (q.astype(np.int32) - np.int32(z)) @ layer["weight"].T.astype(np.int32)   # int32 accumulator
            x = acc.astype(np.float32) * layer["out_scale"] + layer["bias"]
            if i < len(self.layers) - 1:
                x = np.maximum(x, np.float32(0))
        return x

    def predict(self, images) -> np.ndarray:
        """Predicted class of each image (int64)."""
        return self.logits(images).argmax(1)


# --------------------------------------------------------------------------- quantization-aware training

def _qat_layers(model) -> dict[str, QATLayer]:
    layers = {name: m for name, m in _check_model(model).named_modules() if isinstance(m, QATLayer)}
    if not layers:
        raise ValueError(f"model ({type(model).__name__}) has no QATLayer: prepare it with prepare_qat first.")
    return layers


def prepare_qat(model: nn.Module, *, bits: int = 8, per_channel: bool = True, ranges: dict | None = None,
                momentum: float = 0.01) -> nn.Module:
    """A copy of ``model`` ready for quantization-aware training.

    Parameters
    ----------
    model : torch.nn.Module
        A trained float model; not modified. Batch norm is folded first, so QAT trains
        the folded convolutions with the batch statistics frozen (fine for a short
        fine-tune; Jacob et al. [1]_ fold with the batch statistics while training).
    bits : int in 2..8, keyword-only
        Bits of weights and activations.
    per_channel : bool, keyword-only
    ranges : dict or None, keyword-only
        Starting input ranges from :func:`calibrate` (recommended); ``None``: each
        layer starts from its first training batch.
    momentum : float in (0, 1], keyword-only
        Of the moving average of the ranges (see :class:`QATLayer`).

    Returns
    -------
    torch.nn.Module
        Eval mode; each Linear / Conv2d replaced by a :class:`QATLayer`.
    """
    layers = _quant_layers(model)
    bits = _check_bits(bits)
    per_channel = _check_bool("per_channel", per_channel)
    checked = None if ranges is None else _check_ranges(ranges, layers)
    momentum = check_positive_float("momentum", momentum)
    if momentum > 1:
        raise ValueError(f"momentum == {momentum}, must be <= 1.")

    def make(name, layer):
        low, high = (None, None) if checked is None else checked[name]
        return QATLayer(layer, bits=bits, per_channel=per_channel, momentum=momentum, low=low, high=high)

    return _replace_layers(fold_batchnorm(model), make)


def train_qat(model: nn.Module, images, labels, *, epochs: int = 1, max_steps: int | None = None,
              lr: float = 1e-4, batch_size: int = 128, rng=None, progress: bool = False) -> nn.Module:
    """Fine-tune a :func:`prepare_qat` model with fake quantization in the loop; returns a trained copy.

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`prepare_qat`; not modified.
    images : uint8 ndarray
    labels : int ndarray, shape (N,)
    epochs : int, keyword-only
    max_steps : int or None, keyword-only
        Stop after this many optimizer steps (None: all ``epochs``).
    lr : float, keyword-only
        Adam's learning rate: small, the model is already trained. 1e-4 suits 8 and 4 bits;
        at 2 or 3 bits, where post-training quantization has wrecked the model, 1e-3
        recovers faster (LeNet-300-100, 2 bits, 100 steps: 54% with 1e-4, 88% with 1e-3).
    batch_size : int, keyword-only
    rng : None, int or numpy.random.Generator, keyword-only
        Shuffles the examples and seeds dropout (in a forked torch generator, so the
        global torch seed is untouched): the same ``rng`` gives the same model.
    progress : bool, keyword-only

    Returns
    -------
    torch.nn.Module
        The trained copy, in eval mode (input ranges frozen); :func:`convert_qat` makes
        it a full-integer model.

    Notes
    -----
    The loss sees the quantized network, and the straight-through gradient
    (:class:`FakeQuantSTE`) updates the float weights behind it, so they move to where
    their *rounded* values do well [1]_, [2]_.
    """
    _qat_layers(model)
    x_all = _check_images(images)
    labels = check_labels(labels, len(x_all))
    epochs = check_int("epochs", epochs, minimum=0)
    max_steps = check_int("max_steps", max_steps, minimum=0, allow_none=True)
    lr = check_positive_float("lr", lr)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    progress = _check_bool("progress", progress)
    gen = _as_generator(rng)

    new = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(gen.integers(2 ** 62)))
        return adam_steps(new, x_all, labels, epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr,
                          gen=gen, progress=progress, desc="QAT")


def convert_qat(model: nn.Module) -> nn.Module:
    """The full-integer model of a QAT model: each :class:`QATLayer` -> :class:`QuantizedLayer`.

    The weights are quantized from the trained float weights and the input ranges are
    the tracked ones, so the result computes what ``model.eval()`` computes (up to float
    rounding), in the form of :func:`ptq_full_integer`'s output. Returns a copy in eval mode.

    Raises
    ------
    ValueError
        If ``model`` has no QATLayer, or one has never seen an input range.
    """
    layers = _qat_layers(model)
    for name, layer in layers.items():
        if not layer.observed:
            raise ValueError(f"model.{name} has not seen any input range yet: train the model with train_qat "
                             f"or pass ranges to prepare_qat.")
    new = copy.deepcopy(model).eval()
    for name, layer in _qat_layers(new).items():
        quantized = QuantizedLayer(layer, layer.act_min, layer.act_max, bits=layer.bits,
                                   per_channel=layer.per_channel)
        if not name:
            return quantized.eval()
        _set_submodule(new, name, quantized)
    return new.eval()


# --------------------------------------------------------------------------- size and speed

def model_bytes(model: nn.Module, fmt: str | None = None, *, per_channel: bool = True) -> int:
    """Bytes of the numbers a model stores: as it is, or as it would be in format ``fmt``.

    Parameters
    ----------
    model : torch.nn.Module
    fmt : None, "float32", "float16" or "int8"
        ``None``: the tensors of ``model.state_dict()`` at their own dtype -- the size of
        a quantized model as built here (int8 codes 1 byte, scales and biases float32,
        and for :class:`QuantizedLayer` 8 more bytes of input scale and zero point).
        Otherwise an estimate for a float ``model``: ``"float32"`` / ``"float16"``: 4 / 2
        bytes per floating-point number; ``"int8"``: 1 byte per Linear / Conv2d weight
        plus 4 bytes per scale (one per output channel, or one per layer), every other
        number (biases, batch norm) float32.
    per_channel : bool, keyword-only
        For ``"int8"``: one scale per output channel.

    Returns
    -------
    int
        Numbers only, no file headers (as :func:`course_lib.measure.storage_bytes`).
        Buffers count too (batch norm statistics), non-persistent ones do not.

    Notes
    -----
    For LeNet-300-100 (266,200 weights, 410 biases): float32 1,066,440 bytes;
    int8 266,200 + 410 * 4 (scales) + 410 * 4 (biases) = 269,480, a ratio of 3.96
    rather than 4 because of the scales and float32 biases.
    """
    _check_model(model)
    state = model.state_dict()
    if fmt is None:
        return int(sum(t.numel() * t.element_size() for t in state.values()))
    fmt = check_choice("fmt", fmt, SIZE_FORMATS)
    per_channel = _check_bool("per_channel", per_channel)
    weights = {f"{name}.weight" if name else "weight" for name, m in model.named_modules()
               if isinstance(m, QUANT_LAYERS)}
    total = 0
    for key, t in state.items():
        if not t.is_floating_point():
            total += t.numel() * t.element_size()
        elif fmt == "float16":
            total += 2 * t.numel()
        elif fmt == "int8" and key in weights:
            total += t.numel() + 4 * (t.shape[0] if per_channel else 1)
        else:
            total += 4 * t.numel()
    return int(total)


def int8_linear_latency(out_features: int, in_features: int, *, batch: int, threads: int = 1,
                        repeats: int = 20, warmup: int = 3, rng=0) -> dict:
    """Latency of one Linear layer in float32 and with the int8 kernel ``torch._int_mm``.

    Parameters
    ----------
    out_features, in_features : int
        The layer's shape (e.g. 4096, 4096).
    batch : int, keyword-only
        Rows of the input.
    threads, repeats, warmup : int, keyword-only
        As in :func:`course_lib.measure.latency` (medians are reported).
    rng : None, int or numpy.random.Generator, keyword-only
        For the random weights and inputs.

    Returns
    -------
    dict
        ``float32_ms``: ``F.linear(x, W, b)``;
        ``int8_ms``: the whole int8 path -- quantize the float input per row,
        ``torch._int_mm`` (int8 x int8 -> int32), zero-point correction, rescale to
        float32 and add the bias (:class:`DynamicQuantLayer`'s forward);
        ``int8_matmul_ms``: ``torch._int_mm`` alone, on ready int8 inputs;
        ``speedup`` = float32_ms / int8_ms, ``speedup_matmul`` = float32_ms / int8_matmul_ms;
        ``weight_layout``: the faster of the two layouts of the int8 weight, both timed:
        ``"(out, in) transposed view"`` (the ``nn.Linear`` layout as is -- the fast one at
        batch 1 on this build) or ``"(in, out) contiguous"`` (pre-transposed copy);
        ``layout_ms``: the matmul time of each; plus ``batch``, ``threads``, ``shape``.

    Notes
    -----
    The speed of int8 on a CPU depends on the build and the instruction set (AVX512-VNNI,
    AMX): measure, do not assume. Ratios are what transfers between machines.
    """
    out_features = check_int("out_features", out_features, minimum=1)
    in_features = check_int("in_features", in_features, minimum=1)
    batch = check_int("batch", batch, minimum=1)
    threads = check_int("threads", threads, minimum=1)
    repeats = check_int("repeats", repeats, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    gen = _as_generator(rng)
    weight = torch.from_numpy(gen.standard_normal((out_features, in_features), dtype=np.float32))
    weight /= np.sqrt(in_features)
    bias = torch.from_numpy(gen.standard_normal(out_features, dtype=np.float32))
    x = torch.from_numpy(gen.standard_normal((batch, in_features), dtype=np.float32))
    codes, scale = quantize_weight(weight)
    colsum = codes.sum(1, dtype=torch.int32)
    lo, hi = torch.aminmax(x, dim=1, keepdim=True)
    s, z = _act_qparams(lo, hi, 8)
    xq = _codes(x, s, z, -128, 127).to(torch.int8)

    def median_ms(fn):
        return latency(fn, warmup=warmup, repeats=repeats, threads=threads).median_ms

    layouts = {"(out, in) transposed view": codes.t(), "(in, out) contiguous": codes.t().contiguous()}
    layout_ms = {name: median_ms(lambda w=w: torch._int_mm(xq, w)) for name, w in layouts.items()}
    best = min(layout_ms, key=layout_ms.get)
    weight_t = layouts[best]
    float_ms = median_ms(lambda: F.linear(x, weight, bias))
    int8_ms = median_ms(lambda: _dynamic_int8_linear(x, weight_t, scale, colsum, bias))
    return {"shape": (out_features, in_features), "batch": batch, "threads": threads,
            "float32_ms": float_ms, "int8_ms": int8_ms, "int8_matmul_ms": layout_ms[best],
            "speedup": float_ms / int8_ms, "speedup_matmul": float_ms / layout_ms[best],
            "weight_layout": best, "layout_ms": layout_ms}
