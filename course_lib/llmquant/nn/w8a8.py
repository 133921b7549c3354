"""SmoothQuant on the course's Vision Transformer, and W8A8 on PyTorch's integer engine.

* :func:`outlier_report` measures, for every block Linear, how unequal the input channels' ranges are
  (``max|X_j|`` per channel, the ratio max / median of those), and the same ratio for the weight columns.
  SmoothQuant (Xiao et al. 2022) is built on a few channels of huge activations, which its authors saw
  emerge in language models above 6.7B parameters; the report measures whether a 139k-parameter ViT has any.
* :func:`smooth_vit` folds SmoothQuant's per-channel scales ``s_j = max|X_j|^α / max|W_j|^{1-α}``
  (:func:`~course_lib.llmquant.smooth.smoothquant_scales`) into the LayerNorm in front of ``q``/``k``/``v``
  (``norm1``) and of ``fc1`` (``norm2``): the LayerNorm's weight and bias are divided by ``s``, the Linears'
  columns multiplied by ``s``. The float model computes the same function (up to float rounding).
  ``proj`` (fed by the attention) and ``fc2`` (fed by GELU) have no LayerNorm in front: they are not smoothed.
* :func:`w8a8_vit` runs every block Linear int8 x int8 on the quantized engine
  (:mod:`~course_lib.quantization.nn.kernels`): weights int8 with one scale per output channel, activations
  quantized per tensor on the fly by the engine's dynamic kernel (7-bit on ``x86``/``fbgemm``: ``reduce_range``);
  LayerNorm, softmax, GELU, the attention products, ``patch`` and ``head`` stay float32.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..._validation import check_choice, check_float
from ...models import MnistViT, check_images
from ...quantization.nn.int8_runtime import quantized_engine
from ...quantization.nn.kernels import ENGINE_KERNELS, available_int8_kernels, pack_linear, packed_linear
from ...quantization.nn.params import weight_codes
from ..smooth import smoothquant_scales
from .capture import check_vit, vit_linears

__all__ = ["outlier_report", "smooth_vit", "W8A8ViT", "w8a8_vit"]

_SOURCES = {"attn.q": "norm1", "attn.k": "norm1", "attn.v": "norm1", "attn.proj": "attention",
            "fc1": "norm2", "fc2": "gelu"}




def _channel_max(model: MnistViT, images, batch_size: int = 250) -> dict[str, np.ndarray]:
    """Per-input-channel ``max|x|`` (float64) of every block Linear's input on ``images``."""
    x = check_images(model, images)
    layers = vit_linears(model)
    stats: dict[str, torch.Tensor] = {}

    def hook_for(name):
        def hook(module, inputs, output):
            m = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0).double()
            stats[name] = m if name not in stats else torch.maximum(stats[name], m)
        return hook

    handles = [layer.register_forward_hook(hook_for(name)) for name, layer in layers.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for i in range(0, len(x), batch_size):
                model(x[i:i + batch_size])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {name: stats[name].numpy() for name in layers}


def _ratio(values: np.ndarray) -> float:
    median = float(np.median(values))
    return float(values.max() / median) if median > 0 else float("inf")


def outlier_report(model, images) -> list[dict]:
    """How unequal the input channels of every block Linear are, activations and weights.

    Parameters
    ----------
    model : MnistViT
        Not modified.
    images : uint8 ndarray
        Calibration images (MNIST).

    Returns
    -------
    list of dict
        One per block Linear (zero-size ones skipped), in order, with keys ``name``; ``source`` (what feeds
        it: ``"norm1"`` for ``q``/``k``/``v``, ``"norm2"`` for ``fc1``, ``"attention"`` for ``proj``,
        ``"gelu"`` for ``fc2``); ``act_max`` (in,) float64, ``max|X_j|`` per input channel over all tokens;
        ``act_ratio`` = max / median of ``act_max`` (1 for equal channels; SmoothQuant's large language
        models show 100 and more); ``weight_max`` (in,) = ``max_i |W_ij|`` per input column, and
        ``weight_ratio``, its max / median.
    """
    model = check_vit(model)
    maxes = _channel_max(model, images)
    report = []
    for name, layer in vit_linears(model).items():
        w_max = layer.weight.detach().abs().amax(0).double().numpy()
        report.append({"name": name, "source": _SOURCES[name.split(".", 2)[2]], "act_max": maxes[name],
                       "act_ratio": _ratio(maxes[name]), "weight_max": w_max, "weight_ratio": _ratio(w_max)})
    return report


def smooth_vit(model, images, alpha: float = 0.5) -> MnistViT:
    """A copy of ``model`` with SmoothQuant's scales folded into ``norm1`` (q, k, v) and ``norm2`` (fc1).

    For each block, ``s = smoothquant_scales(max|X|, [W_q; W_k; W_v], alpha)`` on the LayerNorm's output
    ``X`` over ``images`` (the three projections share one input, so one ``s`` for their stacked weights,
    as SmoothQuant does); ``norm1.weight`` and ``norm1.bias`` are divided by ``s`` and the columns of
    ``q``, ``k``, ``v`` multiplied by ``s``. The same for ``norm2`` and ``fc1``. The copy computes the same
    logits as ``model`` up to float32 rounding; only its int8 quantization differs.

    Parameters
    ----------
    model : MnistViT
        Not modified.
    images : uint8 ndarray
        Calibration images.
    alpha : float in [0, 1]
        Migration strength (0.5: the paper's default).

    Returns
    -------
    MnistViT
    """
    model = check_vit(model)
    alpha = check_float("alpha", alpha, low=0.0, high=1.0)
    maxes = _channel_max(model, images)
    out = copy.deepcopy(model)
    with torch.no_grad():
        for i, block in enumerate(out.blocks):
            groups = ((block.norm1, [block.attn.q, block.attn.k, block.attn.v], f"blocks.{i}.attn.q"),
                      (block.norm2, [block.fc1], f"blocks.{i}.fc1"))
            for norm, linears, key in groups:
                if key not in maxes:  # a pruned-away attention
                    continue
                w = torch.cat([lin.weight.detach() for lin in linears]).double().numpy()
                # one row of max|X_j| has the same per-channel maxima as all the rows
                s = torch.from_numpy(smoothquant_scales(maxes[key][None], w, alpha))
                norm.weight.copy_((norm.weight.double() / s).float())
                norm.bias.copy_((norm.bias.double() / s).float())
                for lin in linears:
                    lin.weight.copy_((lin.weight.double() * s).float())
    return out


class _Int8Linear(nn.Module):
    """A Linear on the engine's dynamic int8 kernel: int8 codes, per-output-channel float32 scales."""

    def __init__(self, layer: nn.Linear, kernel: str):
        super().__init__()
        codes, scale = weight_codes(layer.weight, 8, True)
        self.in_features, self.out_features, self.kernel = layer.in_features, layer.out_features, kernel
        self.register_buffer("codes", codes.clone())
        self.register_buffer("scale", scale.float().clone())
        bias = layer.bias.detach() if layer.bias is not None else torch.zeros(layer.out_features)
        self.register_buffer("bias", bias.float().clone())
        with quantized_engine(kernel):
            self._packed = pack_linear(self.codes, self.scale, self.bias, kernel)

    @property
    def nbytes(self) -> int:
        """int8 codes + float32 scales + float32 biases."""
        return self.codes.numel() + 4 * self.scale.numel() + 4 * self.bias.numel()

    def forward(self, x):
        return packed_linear(x, self._packed, self.kernel)


class W8A8ViT(nn.Module):
    """A MnistViT whose block Linears run int8 x int8 on a quantized engine; build it with :func:`w8a8_vit`.

    Attributes
    ----------
    model : MnistViT
        The float model with its block Linears replaced by int8 ones (the rest float32).
    kernel : str
        The quantized engine the int8 Linears are packed for and run on (``x86``, ``fbgemm``, ``qnnpack``,
        ``onednn``).
    activation_bits : int
        7 on ``x86``/``fbgemm`` (``reduce_range``), else 8.
    alpha : float or None
        SmoothQuant's migration strength applied before quantizing, or None.
    bytes : int
        Stored bytes: int8 codes, float32 per-channel scales and biases of the int8 Linears, and every other
        float32 parameter (patch, class token, positions, LayerNorms, head).
    """

    name, dataset, input_shape = MnistViT.name, MnistViT.dataset, MnistViT.input_shape

    def __init__(self, model: MnistViT, kernel: str, alpha: float | None = None):
        super().__init__()
        model = check_vit(model)
        kernel = check_choice("kernel", kernel, [k for k in available_int8_kernels() if k in ENGINE_KERNELS])
        alpha = None if alpha is None else check_float("alpha", alpha, low=0.0, high=1.0)
        self.kernel, self.alpha = kernel, alpha
        self.activation_bits = 7 if kernel in ("x86", "fbgemm") else 8
        self.model = copy.deepcopy(model).eval()
        quantized = 0
        for name, layer in vit_linears(self.model).items():
            parent, attr = name.rsplit(".", 1)
            int8 = _Int8Linear(layer, kernel)
            self.model.get_submodule(parent).register_module(attr, int8)
            quantized += int8.nbytes
        self.bytes = quantized + 4 * sum(p.numel() for p in self.model.parameters())

    def int8_layers(self) -> dict[str, nn.Module]:
        """The int8 Linears by name (``blocks.{i}.attn.q`` ...)."""
        return {n: m for n, m in self.model.named_modules() if isinstance(m, _Int8Linear)}

    def forward(self, x):
        """The ``(N, 10)`` float32 logits of ``(N, 1, 28, 28)`` float images in [0, 1]."""
        with quantized_engine(self.kernel):
            return self.model(x)


def w8a8_vit(model, images, *, alpha: float | None = None, kernel: str = "auto") -> W8A8ViT:
    """``model`` with every block Linear run int8 x int8 on PyTorch's quantized engine (W8A8).

    Parameters
    ----------
    model : MnistViT
        The trained float model; not modified.
    images : uint8 ndarray
        Calibration images for SmoothQuant's activation ranges (checked even when ``alpha`` is None;
        the activations' int8 scales are chosen per tensor at run time by the engine).
    alpha : float in [0, 1] or None, keyword-only
        None: no smoothing; a float: :func:`smooth_vit` with this ``alpha`` first.
    kernel : str, keyword-only
        ``"auto"``: the first of ``x86``, ``fbgemm``, ``qnnpack``, ``onednn`` this PyTorch has, or one of them.

    Returns
    -------
    W8A8ViT
    """
    model = check_vit(model)
    engines = [k for k in available_int8_kernels() if k in ENGINE_KERNELS]
    if not engines:
        raise ValueError("kernel: this PyTorch has no quantized engine (x86, fbgemm, qnnpack, onednn), "
                         "must have one for W8A8.")
    kernel = check_choice("kernel", kernel, ("auto", *engines))
    kernel = engines[0] if kernel == "auto" else kernel
    if alpha is not None:
        alpha = check_float("alpha", alpha, low=0.0, high=1.0)
    check_images(model, images)
    source = model if alpha is None else smooth_vit(model, images, alpha)
    return W8A8ViT(source, kernel, alpha)

