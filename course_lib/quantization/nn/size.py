"""What a quantized model weighs (one rule with :mod:`course_lib.formats`) and the int8 kernel's speed."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_bool,
    check_choice,
    check_int,
    check_model,
    check_names,
    check_random_state,
)
from ...formats import STORAGE_FORMATS, storage_bytes
from ...layers import WEIGHT_LAYERS as QUANT_LAYERS
from ...measure import latency
from ..storage import code_bytes, int8_bytes  # noqa: F401  (int8_bytes registers the int8 formats)
from .fake_quant import round_to_codes
from .kernels import available_int8_kernels, choose_int8_kernel, cpu_capability
from .layers import DynamicQuantLayer, QuantizedLayer
from .params import act_qparams, quantize_weight

__all__ = ["model_bytes", "int8_linear_latency", "SIZE_FORMATS"]

SIZE_FORMATS = ("float32", "float16", "int8")


def model_bytes(model: nn.Module, fmt: str | None = None, *, per_channel: bool = True) -> int:
    """Bytes of the numbers a model stores: as it is, or as it would be in format ``fmt``.

    Parameters
    ----------
    model : torch.nn.Module
    fmt : None, "float32", "float16" or "int8"
        ``None``: the tensors of ``model.state_dict()`` at their own dtype -- the size of
        a quantized model as built here (int8 codes 1 byte, scales and biases float32,
        and for :class:`QuantizedLayer` 8 more bytes of input scale and zero point); the
        codes of a layer with ``bits < 8`` count packed, ``ceil(n * bits / 8)`` bytes
        (:func:`course_lib.quantization.storage.code_bytes`, the course's one convention).
        Otherwise an estimate for a float ``model``, computed with the formats of
        :func:`course_lib.formats.storage_bytes` and the course's one rule: ``"float32"`` /
        ``"float16"``: 4 / 2 bytes per floating-point number; ``"int8"``: the Linear / Conv2d
        weights as int8 codes plus 4 bytes per scale (``"int8_per_channel"`` or ``"int8"``),
        every other number (biases, batch norm) float32.
    per_channel : bool, keyword-only
        For ``"int8"``: one scale per output channel.

    Returns
    -------
    int
        Numbers only, no file headers (as :func:`course_lib.formats.storage_bytes`).
        Buffers count too (batch norm statistics), non-persistent ones do not: for a model
        without buffers, ``model_bytes(m, "int8") == storage_bytes(m, "int8_per_channel")``.

    Notes
    -----
    For LeNet-300-100 (266,200 weights, 410 biases): float32 1,066,440 bytes;
    int8 266,200 + 410 * 4 (scales) + 410 * 4 (biases) = 269,480, a ratio of 3.96
    rather than 4 because of the scales and float32 biases.
    """
    check_model(model)
    per_channel = check_bool("per_channel", per_channel)
    state = model.state_dict()
    if fmt is None:
        packed = {f"{name}.weight" if name else "weight": m.bits for name, m in model.named_modules()
                  if isinstance(m, (DynamicQuantLayer, QuantizedLayer)) and m.bits < 8}
        return int(sum(code_bytes(t.numel(), packed[key]) if key in packed else t.numel() * t.element_size()
                       for key, t in state.items()))
    fmt = check_choice("fmt", fmt, SIZE_FORMATS)
    weights = {f"{name}.weight" if name else "weight" for name, m in model.named_modules()
               if isinstance(m, QUANT_LAYERS)}
    quantized = STORAGE_FORMATS["int8_per_channel" if per_channel else "int8"]
    total = 0
    for key, t in state.items():
        if not t.is_floating_point():
            total += t.numel() * t.element_size()
        elif fmt == "int8" and key in weights:
            total += quantized(t.detach().cpu().numpy())
        else:
            total += storage_bytes(t, "float16" if fmt == "float16" else "float32")
    return int(total)


def int8_linear_latency(out_features: int, in_features: int, *, batch: int, threads: int = 1,
                        repeats: int = 20, warmup: int = 3, rng=0, kernels=None) -> dict:
    """Latency of one Linear layer in float32 and with each int8 kernel this CPU has.

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
    kernels : sequence of str or None, keyword-only
        The int8 kernels to time (default: every one of
        :func:`~course_lib.quantization.nn.kernels.available_int8_kernels`).

    Returns
    -------
    dict
        ``float32_ms``: ``F.linear(x, W, b)``; ``kernel``: the one :class:`DynamicQuantLayer`
        picks on this CPU (``choose_int8_kernel()``); ``int8_ms`` and ``speedup`` =
        float32_ms / int8_ms for it; ``kernels_ms``: the whole int8 path of every kernel
        timed (quantize the input on the fly, int8 x int8 -> int32 product, rescale, bias);
        ``int8_matmul_ms``: ``torch._int_mm`` alone on ready int8 inputs;
        ``capability``: ATen's CPU capability; plus ``batch``, ``threads``, ``shape``; and
        ``float32`` / ``int8``: the whole :class:`~course_lib.timing.Latency` of float32 and of the
        chosen kernel (median and spread), for :func:`course_lib.verdicts.compare`.

    Notes
    -----
    The speed of int8 on a CPU depends on the instruction set and the library using it
    (see :mod:`course_lib.quantization.nn.kernels`): FBGEMM is fast from AVX2 on,
    ``torch._int_mm`` only with VNNI/AMX. Measure, do not assume; ratios are what
    transfers between machines.
    """
    out_features = check_int("out_features", out_features, minimum=1)
    in_features = check_int("in_features", in_features, minimum=1)
    batch = check_int("batch", batch, minimum=1)
    threads = check_int("threads", threads, minimum=1)
    repeats = check_int("repeats", repeats, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    gen = check_random_state(rng)
    available = available_int8_kernels()
    kernels = available if kernels is None else check_names("kernels", kernels, allowed=available)
    weight = torch.from_numpy(gen.standard_normal((out_features, in_features), dtype=np.float32))
    weight /= np.sqrt(in_features)
    layer = nn.Linear(in_features, out_features)
    with torch.no_grad():
        layer.weight.copy_(weight)
    x = torch.from_numpy(gen.standard_normal((batch, in_features), dtype=np.float32))

    def timed(fn):
        return latency(fn, warmup=warmup, repeats=repeats, threads=threads)

    float_t = timed(lambda: layer(x))
    kernels_t = {}
    for kernel in kernels:
        q = DynamicQuantLayer(layer, kernel=kernel)
        kernels_t[kernel] = timed(lambda q=q: q(x))
    chosen = choose_int8_kernel()
    codes, _ = quantize_weight(weight)
    lo, hi = torch.aminmax(x, dim=1, keepdim=True)
    s, z = act_qparams(lo, hi, 8)
    xq = round_to_codes(x, s, z, -128, 127).to(torch.int8)
    int8_t = kernels_t[chosen] if chosen in kernels_t else timed(lambda: DynamicQuantLayer(layer)(x))
    return {"shape": (out_features, in_features), "batch": batch, "threads": threads,
            "capability": cpu_capability(), "kernel": chosen, "float32_ms": float_t.median_ms,
            "int8_ms": int8_t.median_ms, "speedup": float_t.median_ms / int8_t.median_ms,
            "kernels_ms": {k: t.median_ms for k, t in kernels_t.items()},
            "int8_matmul_ms": timed(lambda: torch._int_mm(xq, codes.t())).median_ms,
            "float32": float_t, "int8": int8_t}
