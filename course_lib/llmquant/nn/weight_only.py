"""Weight-only group-wise quantization of the Vision Transformer's block Linears: RTN, GPTQ, AWQ.

Every block Linear (:func:`~course_lib.llmquant.nn.capture.vit_linears`, 24 layers) gets codes of ``bits``
bits, one float16 scale (and, asymmetric, one zero point) per ``group_size`` input columns of each row,
by the NumPy core (:mod:`course_lib.llmquant`); the patch embedding, the class token, the positions,
the LayerNorms and the head stay float32.

* ``"rtn"``: round to nearest, :func:`~course_lib.llmquant.groupwise.group_quantize`;
* ``"gptq"``: :func:`~course_lib.llmquant.gptq.gptq_quantize`, block after block, as in the GPTQ paper:
  the calibration inputs of block ``i`` come from the model whose earlier blocks (and earlier layers of
  block ``i``) are already quantized; ``q``, ``k`` and ``v`` read the same input, captured once, then
  ``proj``, ``fc1`` and ``fc2`` each on a fresh capture;
* ``"awq"``: :func:`~course_lib.llmquant.smooth.awq_search` per layer on the float model's inputs (the
  search on at most ``AWQ_SEARCH_ROWS`` of them, a fixed random subset; the errors on all). The
  stored weight is ``W diag(s)`` (codes of the scaled weight) and the layer keeps its per-input-channel
  scales ``s`` (float16, counted in the bytes): ``(x / s) Q(W diag(s))^T``, i.e. the effective weight
  ``Q(W diag(s)) diag(s)^{-1}``. Without quantization the two are the same layer, ``(x/s)(W s)^T = x W^T``.

:func:`quantize_vit` returns the float model with the effective (dequantized) weights, for accuracy,
with the exact stored bytes and each layer's relative output error; :func:`runtime_vit` the model whose
quantized Linears keep the packed codes and dequantize them in every forward (:class:`DequantLinear`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from ..._validation import check_bits, check_bool, check_choice, check_int, check_model
from ...models import check_images
from ..gptq import gptq_quantize
from ..groupwise import GroupQuant, dequantize_groups, group_quantize, pack_bits, stored_bytes
from ..smooth import awq_search, relative_error
from .capture import check_vit, linear_inputs, vit_linears

__all__ = ["QuantizedViT", "quantize_vit", "vit_bytes", "float_vit_bytes", "DequantLinear", "runtime_vit"]

METHODS = ("rtn", "gptq", "awq")

#: calibration rows per layer at most (a fixed random subset of the images' tokens beyond it)
MAX_ROWS = 8192

#: AWQ's scale search reads at most this many of them (its 20 candidate scales each cost a pass over them)
AWQ_SEARCH_ROWS = 2048

#: GPTQ's order inside a block: the layers of a group read the same captured input
_GPTQ_GROUPS = (("attn.q", "attn.k", "attn.v"), ("attn.proj",), ("fc1",), ("fc2",))


@dataclass
class QuantizedViT:
    """A Vision Transformer with weight-only quantized block Linears.

    Attributes
    ----------
    model : torch.nn.Module
        A copy of the float model whose quantized Linears hold the effective (dequantized) weights, in eval mode.
    layers : dict of str to GroupQuant
        The codes, scales and zero points of each quantized Linear (for AWQ, of the scaled weight ``W diag(s)``).
    method : str
        ``"rtn"``, ``"gptq"`` or ``"awq"``.
    bits : int or list
        As passed: one width, or one per block (None: that block stays float32).
    group_size : int or None
        Input columns per group (None: one group per output row).
    bytes : int
        Exact stored bytes of the whole model (:func:`vit_bytes`).
    errors : dict of str to float
        Relative output error ``||X W^T - X Ŵ^T|| / ||X W^T||`` of each quantized Linear on its calibration
        inputs ``X``, ``W`` the original float weight and ``Ŵ`` the effective one.
    input_scales : dict of str to ndarray
        AWQ's per-input-channel scales ``s`` (float16) of each layer; empty for RTN and GPTQ.
    """

    model: nn.Module
    layers: dict
    method: str
    bits: object
    group_size: int | None
    bytes: int
    errors: dict
    input_scales: dict = field(default_factory=dict)




def _block_bits(bits, depth: int) -> list:
    """``bits`` (an int or a list of one per block, None = float) as a list of ``depth`` entries."""
    if isinstance(bits, (list, tuple)):
        if len(bits) != depth:
            raise ValueError(f"bits has {len(bits)} entries, must have {depth}: one per block (None keeps it float).")
        return [None if b is None else check_bits(b, f"bits[{i}]") for i, b in enumerate(bits)]
    return [check_bits(bits)] * depth


def effective_weight(quant: GroupQuant, input_scale=None) -> np.ndarray:
    """``(q - z) s``, divided by AWQ's input scales when given: float64 (out, in)."""
    weight = dequantize_groups(quant.codes, quant.scales, quant.zero_points, quant.group_size)
    return weight if input_scale is None else weight / np.asarray(input_scale, dtype=np.float64)


def _quantize_layer(method, weight, inputs, bits, group_size, symmetric):
    """``(GroupQuant, input scales or None)`` of one layer's float64 weight."""
    if method == "rtn":
        return group_quantize(weight, bits, group_size, symmetric=symmetric), None
    if method == "gptq":
        r = gptq_quantize(weight, inputs, bits, group_size, symmetric=symmetric)
        return GroupQuant(r.codes, r.scales, r.zero_points, r.group_size, r.bits, r.symmetric), None
    if len(inputs) > AWQ_SEARCH_ROWS:
        inputs = inputs[np.sort(np.random.default_rng(0).choice(len(inputs), AWQ_SEARCH_ROWS, replace=False))]
    found = awq_search(weight, inputs, bits, group_size, symmetric=symmetric)
    scale = np.clip(found.scales, 2.0 ** -14, 6e4).astype(np.float16)  # stored in float16 (normal range)
    return group_quantize(weight * scale.astype(np.float64), bits, group_size, symmetric=symmetric), scale


def quantize_vit(model, images, *, method: str = "rtn", bits=4, group_size: int | None = 32,
                 symmetric: bool = True) -> QuantizedViT:
    """Weight-only group-wise quantization of every block Linear of a Vision Transformer.

    Parameters
    ----------
    model : MnistViT
        The float model (possibly head-pruned); left unchanged.
    images : uint8 array (N, 28, 28)
        Calibration images (e.g. 128 training images); every token is a calibration row (at most
        ``MAX_ROWS`` per layer, a fixed random subset beyond).
    method : {"rtn", "gptq", "awq"}, keyword-only
        See the module docstring.
    bits : int or list, keyword-only
        Code width 2..8, or a list of one per block (an int, or None to keep that block float32).
    group_size : int or None, keyword-only
        Input columns per group, dividing the input features of every quantized layer; None: one
        group per output row.
    symmetric : bool, keyword-only
        Symmetric codes (no zero points) or asymmetric (a zero point per group).

    Returns
    -------
    QuantizedViT

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or value (the message names it).
    """
    check_vit(model)
    check_images(model, images)
    method = check_choice("method", method, METHODS)
    per_block = _block_bits(bits, len(model.blocks))
    group_size = check_int("group_size", group_size, minimum=1, allow_none=True)
    symmetric = check_bool("symmetric", symmetric)
    plan = {name: per_block[int(name.split(".")[1])] for name in vit_linears(model)}
    plan = {name: b for name, b in plan.items() if b is not None}
    originals = vit_linears(model)
    for name in plan:
        columns = originals[name].in_features
        if group_size is not None and columns % group_size:
            raise ValueError(f"group_size == {group_size} does not divide the {columns} input features of {name}, "
                             f"must divide those of every quantized layer (e.g. 16 or 32; None: per row).")

    qmodel = copy.deepcopy(model).eval()
    targets = vit_linears(qmodel)
    layers, errors, scales = {}, {}, {}

    def run(names, inputs):
        with threadpool_limits(limits=1, user_api="blas"):  # small matrices: one BLAS thread is the fastest
            quantize(names, inputs)

    def quantize(names, inputs):
        for name in names:
            weight = originals[name].weight.detach().double().numpy()
            x = inputs[name]
            quant, scale = _quantize_layer(method, weight, x, plan[name], group_size, symmetric)
            effective = effective_weight(quant, scale)
            errors[name] = relative_error(x @ effective.T, x @ weight.T)
            layers[name] = quant
            if scale is not None:
                scales[name] = scale
            with torch.no_grad():
                targets[name].weight.copy_(torch.from_numpy(effective.astype(np.float32)))

    if method == "gptq":
        for i in range(len(model.blocks)):
            for group in _GPTQ_GROUPS:
                names = [f"blocks.{i}.{part}" for part in group if f"blocks.{i}.{part}" in plan]
                if names:
                    run(names, linear_inputs(qmodel, images, names, max_rows=MAX_ROWS))
    elif plan:
        run(list(plan), linear_inputs(model, images, list(plan), max_rows=MAX_ROWS))
    layers = {name: layers[name] for name in plan}  # in the model's order
    return QuantizedViT(qmodel, layers, method, list(bits) if isinstance(bits, (list, tuple)) else bits,
                        group_size, vit_bytes(qmodel, layers, input_scales=scales), errors, scales)


def vit_bytes(model, layers, *, input_scales=None) -> int:
    """Exact stored bytes of a Vision Transformer whose Linears ``layers`` are quantized.

    Each quantized Linear: its codes, scales and zero points
    (:func:`~course_lib.llmquant.groupwise.stored_bytes`), its AWQ input scales if any (at their
    itemsize), its bias at float32. Every other parameter (patch embedding, class token, positions,
    LayerNorms, head, float blocks) at float32. Non-persistent buffers (``gate``, ``standardize``) are
    not saved, so not counted.

    Parameters
    ----------
    model : torch.nn.Module
        The ViT (float or with effective weights: only its shapes and parameters are read).
    layers : dict of str to GroupQuant
        Quantized Linears by name (a subset of :func:`~course_lib.llmquant.nn.capture.vit_linears`).
    input_scales : dict of str to ndarray, keyword-only, optional
        AWQ's per-input-channel scales of some of ``layers``.
    """
    linears = vit_linears(model)
    if not isinstance(layers, dict):
        raise TypeError(f"layers must be a dict of name -> GroupQuant, got {type(layers).__name__}.")
    input_scales = {} if input_scales is None else input_scales
    if not isinstance(input_scales, dict) or not set(input_scales) <= set(layers):
        raise ValueError("input_scales must be a dict whose names are among layers'.")
    weights = {}
    for name, quant in layers.items():
        if name not in linears:
            raise ValueError(f"layers names {name!r}, must name block Linears of model ({', '.join(linears)}).")
        if not isinstance(quant, GroupQuant):
            raise TypeError(f"layers[{name!r}] must be a GroupQuant, got {type(quant).__name__}.")
        out, columns = linears[name].weight.shape
        groups = (out, columns // quant.group_size if quant.group_size else 0)
        if quant.codes.shape != (out, columns) or quant.scales.shape != groups or quant.zero_points.shape != groups:
            raise ValueError(f"layers[{name!r}] has codes {quant.codes.shape}, scales {quant.scales.shape} and zero "
                             f"points {quant.zero_points.shape}, must be {(out, columns)}, {groups}, {groups}.")
        size = stored_bytes(out, columns, quant.bits, quant.group_size, symmetric=quant.symmetric,
                            scale_dtype=str(quant.scales.dtype))
        if name in input_scales:
            size += int(np.asarray(input_scales[name]).nbytes)
        weights[name + ".weight"] = size
    return int(sum(weights.get(key, value.numel() * 4) for key, value in model.state_dict().items()))


def float_vit_bytes(model) -> int:
    """Bytes of every parameter of ``model`` at float32 (the float checkpoint's size, without its container)."""
    check_model(model)
    return int(sum(p.numel() for p in model.parameters()) * 4)


class DequantLinear(nn.Module):
    """A Linear that stores its weight group-wise quantized and dequantizes it in every forward.

    Kept: ``packed`` (uint8, the codes as the file stores them: one ``bits``-bit stream, symmetric
    codes offset by ``2^{bits-1}``), ``scales`` (float16, (out, n_groups)), ``zero_points`` (int16,
    (out, n_groups)), the float32 ``bias`` and, for AWQ, ``input_scale`` (in,). The packed stream is
    unpacked once, at construction, into ``codes`` (int8 when symmetric, uint8 when asymmetric: one byte
    per weight); each forward computes ``W = (codes - z) * s`` per group in float32 (divided by
    ``input_scale`` if any) and then ``x W^T + b``. A CPU has no int4 matrix kernel: this is what a
    weight-only model costs there.

    Parameters
    ----------
    quant : GroupQuant
    bias : torch.Tensor or None
    input_scale : 1-D array (in,), optional
    """

    def __init__(self, quant: GroupQuant, bias=None, input_scale=None):
        super().__init__()
        if not isinstance(quant, GroupQuant):
            raise TypeError(f"quant must be a GroupQuant, got {type(quant).__name__}.")
        out, columns = quant.codes.shape
        self.in_features, self.out_features = columns, out
        self.bits, self.group_size, self.symmetric = quant.bits, quant.group_size, quant.symmetric
        offset = 2 ** (quant.bits - 1) if quant.symmetric else 0
        codes = quant.codes.astype(np.int64)
        self.register_buffer("packed", torch.frombuffer(bytearray(pack_bits(codes + offset, quant.bits)),
                                                        dtype=torch.uint8))
        self.register_buffer("codes", torch.from_numpy(codes.astype(np.int8 if quant.symmetric else np.uint8)))
        self.register_buffer("scales", torch.from_numpy(np.ascontiguousarray(quant.scales)))
        self.register_buffer("zero_points", torch.from_numpy(quant.zero_points.astype(np.int16)))
        self.register_buffer("bias", None if bias is None else bias.detach().clone().float())
        scale = None if input_scale is None else torch.from_numpy(np.asarray(input_scale).copy())
        if scale is not None and scale.shape != (columns,):
            raise ValueError(f"input_scale has shape {tuple(scale.shape)}, must be ({columns},).")
        self.register_buffer("input_scale", scale)

    def weight(self) -> torch.Tensor:
        """The dequantized float32 weight (out, in), computed group by group."""
        groups = self.codes.view(self.out_features, -1, self.group_size).float()
        weight = (groups - self.zero_points.float()[:, :, None]) * self.scales.float()[:, :, None]
        weight = weight.reshape(self.out_features, self.in_features)
        return weight if self.input_scale is None else weight / self.input_scale.float()

    def forward(self, x):
        """``x W^T + b`` with ``W`` dequantized now."""
        return nn.functional.linear(x, self.weight(), self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, bits={self.bits}, "
                f"group_size={self.group_size}, symmetric={self.symmetric}, awq={self.input_scale is not None}")


def runtime_vit(quantized: QuantizedViT) -> nn.Module:
    """A copy of ``quantized.model`` with every quantized Linear replaced by a :class:`DequantLinear`.

    Its outputs equal ``quantized.model``'s up to float32 rounding; it stores the packed codes and pays
    the dequantization in every forward (for honest latency and memory).
    """
    if not isinstance(quantized, QuantizedViT):
        raise TypeError(f"quantized must be a QuantizedViT (quantize_vit's result), got {type(quantized).__name__}.")
    model = copy.deepcopy(quantized.model).eval()
    linears = vit_linears(model)
    for name, quant in quantized.layers.items():
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, attr, DequantLinear(quant, linears[name].bias, quantized.input_scales.get(name)))
    return model
