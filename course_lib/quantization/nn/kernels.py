"""Which int8 matrix kernel this CPU runs fast, chosen at run time and said out loud.

An int8 product is fast only where the CPU has instructions that multiply and add
bytes in one go and a library uses them:

* **AVX2** (every x86 laptop since ~2013): ``vpmaddubsw`` multiplies 32 pairs of bytes
  and adds neighbours into 16-bit sums, ``vpmaddwd`` widens them to 32 bits. FBGEMM
  (PyTorch's ``x86``/``fbgemm`` quantized engine) is built on them; to keep the 16-bit
  sums from saturating it quantizes activations to 7 bits (``reduce_range``).
* **AVX-512 VNNI / AVX-VNNI** (recent Intel and AMD): ``vpdpbusd`` does the whole
  byte dot product into 32 bits in one instruction; **AMX** (Sapphire Rapids) multiplies
  whole tiles. ``torch._int_mm`` has a fast path only there: on an AVX2-only CPU it falls
  back to a loop several times *slower* than float32.
* **ARM NEON** (Apple M-series, phones): ``sdot``/``udot``; PyTorch's ``qnnpack`` engine.

So the course asks PyTorch which quantized engines it has (:func:`available_int8_kernels`)
and picks the first that is fast on every CPU it runs on (:func:`choose_int8_kernel`):
``x86`` or ``fbgemm`` on x86, ``qnnpack`` on ARM, ``onednn`` elsewhere, ``int_mm`` as the
last resort. The quantized *ops* (``torch.ops.quantized.linear_dynamic``) are not the
deprecated ``torch.ao.quantization`` workflow; the one warning making a quantized tensor
prints is silenced here, so it never reaches a notebook.
"""

from __future__ import annotations

import warnings

import torch

from ..._validation import check_choice
from ...timing import cpu_capability

__all__ = ["INT8_KERNELS", "ENGINE_KERNELS", "cpu_capability", "available_int8_kernels", "choose_int8_kernel",
           "pack_linear", "packed_linear"]

#: every kernel the course can run an int8 Linear with, in order of preference
INT8_KERNELS = ("x86", "fbgemm", "qnnpack", "onednn", "int_mm")
#: the kernels that are PyTorch quantized engines (``torch.backends.quantized.engine``)
ENGINE_KERNELS = ("x86", "fbgemm", "qnnpack", "onednn")
_QUANTIZED_TENSOR_WARNING = "torch.quantize_per_tensor|.*quantized tensor"


def available_int8_kernels() -> list[str]:
    """The int8 Linear kernels of :data:`INT8_KERNELS` this PyTorch build has, in preference order.

    Returns
    -------
    list of str
        ``torch._int_mm`` (``"int_mm"``) is always there; the engines only when
        ``torch.backends.quantized.supported_engines`` lists them.
    """
    engines = set(torch.backends.quantized.supported_engines)
    return [k for k in INT8_KERNELS if k == "int_mm" or k in engines]


def choose_int8_kernel(kernel: str = "auto") -> str:
    """The int8 kernel to use: the first available of :data:`INT8_KERNELS`, or the one asked for.

    Parameters
    ----------
    kernel : str
        ``"auto"`` or one of :func:`available_int8_kernels`.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``kernel`` is not a str.
    ValueError
        If ``kernel`` is not ``"auto"`` or an available kernel.
    """
    available = available_int8_kernels()
    kernel = check_choice("kernel", kernel, ("auto", *available))
    return available[0] if kernel == "auto" else kernel


def pack_linear(codes: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None, kernel: str):
    """Prepack int8 weight codes ``(out, in)`` with their scales for a quantized engine.

    The codes are used as they are (``torch._make_per_*_quantized_tensor``), so the engine
    multiplies exactly the course's codes. Returns the engine's packed-parameter object
    (not a tensor: it is rebuilt from the codes when a model is loaded).
    """
    torch.backends.quantized.engine = kernel
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_QUANTIZED_TENSOR_WARNING)
        scale = scale.detach().double()
        if scale.dim() == 1:
            zeros = torch.zeros(scale.shape[0], dtype=torch.long)
            qweight = torch._make_per_channel_quantized_tensor(codes, scale, zeros, 0)
        else:
            qweight = torch._make_per_tensor_quantized_tensor(codes, float(scale), 0)
        return torch.ops.quantized.linear_prepack(qweight, None if bias is None else bias.detach().float())


def packed_linear(x: torch.Tensor, packed, kernel: str) -> torch.Tensor:
    """``x @ W^T + b`` through the engine's dynamic int8 kernel.

    The input is quantized per tensor on the fly (uint8, affine); ``x86``/``fbgemm`` use 7-bit
    activations (``reduce_range``) so that AVX2's 16-bit pair sums cannot saturate.
    """
    if torch.backends.quantized.engine != kernel:
        torch.backends.quantized.engine = kernel
    return torch.ops.quantized.linear_dynamic(x, packed, kernel in ("x86", "fbgemm"))
