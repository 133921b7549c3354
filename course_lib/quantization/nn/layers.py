"""Quantized layers: float16, dynamic int8, full integer and fake-quantized (QAT) Linear/Conv2d."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..._validation import (
    check_bits,
    check_bool,
    check_float,
)
from ..grid import qrange
from .fake_quant import FakeQuantSTE, round_to_codes
from .kernels import ENGINE_KERNELS, choose_int8_kernel, pack_linear, packed_linear
from .params import act_qparams, check_act_range, dequantize_weight, per_channel_view, weight_codes, weight_scale_of

__all__ = ["Float16Layer", "DynamicQuantLayer", "QuantizedLayer", "QATLayer", "dynamic_int8_linear"]

_EXACT_FLOAT32 = 2 ** 24  # integers up to this size are exact in float32


class _QuantLayerBase(nn.Module):
    """What every quantized layer shares: whether it is a Linear or a Conv2d, and its conv settings."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        if not isinstance(layer, (nn.Linear, nn.Conv2d, _QuantLayerBase)):
            raise TypeError(f"layer must be an nn.Linear or nn.Conv2d (a module with weights), "
                            f"got {type(layer).__name__}.")
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

    Raises
    ------
    ValueError
        If a weight or bias would overflow float16 (``|w| >= 65520``).
    """

    def __init__(self, layer: nn.Module):
        super().__init__(layer)
        for what, t in (("weight", layer.weight), ("bias", layer.bias)):
            if t is not None and bool((t.detach().abs() >= 65520).any()):
                raise ValueError(f"layer.{what} holds values of magnitude up to {float(t.detach().abs().max()):g}, "
                                 f"must be < 65520: float16 would turn them into inf (its largest value is 65504).")
        self.register_buffer("weight", layer.weight.detach().to(torch.float16).clone())
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().to(torch.float16).clone())

    def forward(self, x):
        return self._op(x, self.weight.float(), None if self.bias is None else self.bias.float())


def dynamic_int8_linear(x: torch.Tensor, weight_t: torch.Tensor, scale: torch.Tensor, colsum: torch.Tensor,
                         bias: torch.Tensor | None) -> torch.Tensor:
    r"""``x @ W^T + b`` with ``W = scale * codes`` and ``x`` quantized row by row to int8 on the fly.

    ``weight_t`` is the ``(in, out)`` int8 code matrix (any strides: the transposed view of
    an ``(out, in)`` matrix is the fast layout at batch 1), ``colsum`` its column sums
    (int32). Per row: :math:`x \approx s(q - z)`, the int8 x int8 -> int32 product
    :math:`A = qW_q^T` runs in ``torch._int_mm`` and

    .. math:: y = s\,s_w\,(A - z\,\textstyle\sum_k W_q[:, k]) + b
    """
    lo, hi = torch.aminmax(x, dim=1, keepdim=True)
    s, z = act_qparams(lo, hi, 8)
    q = round_to_codes(x, s, z, -128, 127).to(torch.int8)
    acc = torch._int_mm(q, weight_t) - z.to(torch.int32) * colsum
    y = acc.float() * (s * scale)
    return y if bias is None else y + bias


class DynamicQuantLayer(_QuantLayerBase):
    """A layer with int8 weights (codes + scales) and float activations: "dynamic range" quantization.

    * Linear: the input is quantized to 8 bits on the fly, the product runs in an int8
      kernel with int32 accumulation and the result is rescaled to float. The kernel is
      the fastest one this CPU has (:func:`~course_lib.quantization.nn.kernels.choose_int8_kernel`):
      PyTorch's ``x86``/``fbgemm`` engine on x86 (fast from AVX2 on; per-tensor uint8
      activations, 7 bits wide, one scale for the whole batch), ``qnnpack`` on ARM, or
      ``torch._int_mm`` (per-row int8 activations, so an example's result does not depend on
      the rest of the batch; fast only with VNNI/AMX) -- ``kernel`` says which.
    * Conv2d: the weights are dequantized on the fly and the convolution runs in float32
      (weight-only int8: smaller, not faster; the full-integer int8 runtime, :mod:`.int8_runtime`,
      runs convolutions on int8 codes).

    Parameters
    ----------
    layer : nn.Linear or nn.Conv2d
    bits : int in 2..8, keyword-only
        Weight code width (the codes are int8 whatever the width).
    per_channel : bool, keyword-only
        One weight scale per output channel.
    kernel : str, keyword-only
        ``"auto"`` (default) or one of :func:`~course_lib.quantization.nn.kernels.available_int8_kernels`.

    Raises
    ------
    TypeError
        If ``layer`` is not a Linear or Conv2d, or an option has the wrong type.
    ValueError
        If ``bits`` is outside 2..8 or ``kernel`` is unknown here.
    """

    def __init__(self, layer: nn.Module, *, bits: int = 8, per_channel: bool = True, kernel: str = "auto"):
        super().__init__(layer)
        self.bits = check_bits(bits)
        codes, scale = weight_codes(layer.weight, self.bits, check_bool("per_channel", per_channel))
        self.register_buffer("weight", codes)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().float().clone())
        colsum = codes.flatten(1).sum(1, dtype=torch.int32) if self.kind == "linear" else None
        self.register_buffer("colsum", colsum, persistent=False)
        self.kernel = choose_int8_kernel(kernel) if self.kind == "linear" else "float32 (weights dequantized)"
        self._packed = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_packed"] = None  # an engine's packed weights are rebuilt from the codes, never copied
        return state

    def forward(self, x):
        if self.kind == "conv":
            return self._op(x, dequantize_weight(self.weight, self.weight_scale), self.bias)
        rows = x.reshape(-1, x.shape[-1])
        if self.kernel in ENGINE_KERNELS:
            if self._packed is None:
                self._packed = pack_linear(self.weight, self.weight_scale, self.bias, self.kernel)
            y = packed_linear(rows, self._packed, self.kernel)
        else:
            y = dynamic_int8_linear(rows, self.weight.t(), self.weight_scale, self.colsum, self.bias)
        return y.reshape(*x.shape[:-1], y.shape[-1])

    def extra_repr(self):
        return super().extra_repr() + f", bits={self.bits}, kernel={self.kernel!r}"


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

    Raises
    ------
    TypeError, ValueError
        If ``layer`` is not a Linear / Conv2d, ``low``/``high`` are not finite real numbers
        (0-d tensors too) with ``low <= high``, or ``bits``/``per_channel`` are bad.
    """

    def __init__(self, layer: nn.Module, low: torch.Tensor, high: torch.Tensor, *, bits: int = 8,
                 per_channel: bool = True):
        super().__init__(layer)
        self.bits = check_bits(bits)
        per_channel = check_bool("per_channel", per_channel)
        low, high = check_act_range(low, high)
        codes, scale = weight_codes(layer.weight, self.bits, per_channel)
        act_scale, act_zero_point = act_qparams(torch.tensor(low, dtype=torch.float32),
                                                 torch.tensor(high, dtype=torch.float32), bits)
        self.register_buffer("weight", codes)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if layer.bias is None else layer.bias.detach().float().clone())
        self.register_buffer("act_scale", act_scale)
        self.register_buffer("act_zero_point", act_zero_point.to(torch.int32))
        qmin, qmax = qrange(bits)
        z = int(act_zero_point)
        worst = int(codes.flatten(1).abs().sum(1, dtype=torch.int64).max()) * max(qmax - z, z - qmin)
        self.exact_float32 = worst <= _EXACT_FLOAT32

    def input_codes(self, x: torch.Tensor) -> torch.Tensor:
        """The int8 codes of the input (held in a float tensor)."""
        qmin, qmax = qrange(self.bits)
        return round_to_codes(x, self.act_scale, self.act_zero_point.float(), qmin, qmax)

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

    Raises
    ------
    TypeError, ValueError
        If ``low``/``high`` are not both None or both finite real numbers with ``low <= high``,
        ``momentum`` is outside (0, 1], or another option is bad.
    """

    def __init__(self, layer: nn.Module, *, bits: int = 8, per_channel: bool = True, momentum: float = 0.01,
                 low: float | None = None, high: float | None = None):
        super().__init__(layer)
        self.bits, self.per_channel = check_bits(bits), check_bool("per_channel", per_channel)
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0, low_open=True)
        if (low is None) != (high is None):
            raise ValueError(f"low == {low!r} and high == {high!r}: give both (a starting range) or neither.")
        if low is not None:
            low, high = check_act_range(low, high)
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
        qmin, qmax = qrange(self.bits)
        scale, zero_point = act_qparams(self.act_min, self.act_max, self.bits)
        x = FakeQuantSTE.apply(x, scale, zero_point, qmin, qmax)
        wmax = qrange(self.bits)[1]
        ws = per_channel_view(weight_scale_of(self.weight.detach(), self.bits, self.per_channel), self.weight.dim())
        w = FakeQuantSTE.apply(self.weight, ws, torch.zeros(()), -wmax, wmax)
        return self._op(x, w, self.bias)
