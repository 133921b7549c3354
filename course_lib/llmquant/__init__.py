"""Post-training quantization of large models' Linear layers, from scratch in NumPy.

The weight-only, group-wise low-bit formats of GPTQ and AWQ and the activation smoothing of
SmoothQuant, on a single Linear layer ``y = W x`` with ``W`` of shape ``(out, in)`` and calibration
inputs ``X`` of shape ``(n, in)``.

Modules (NumPy only):

* :mod:`.groupwise` -- group-wise round-to-nearest (RTN) quantization along the input dimension,
  symmetric or asymmetric, 2..8 bits; bit packing and the exact stored bytes;
* :mod:`.gptq` -- GPTQ: the Hessian ``2 X^T X / n``, column-by-column quantization with error feedback
  through the Cholesky factor of ``H^{-1}``, lazy blocks, groups, ``act_order``;
* :mod:`.smooth` -- activation statistics, SmoothQuant's migration of activation outliers into the
  weights and its W8A8 error, AWQ's activation-aware scale search.

References
----------
.. [1] E. Frantar, S. Ashkboos, T. Hoefler and D. Alistarh, "GPTQ: Accurate Post-Training Quantization
   for Generative Pre-trained Transformers", ICLR 2023 (arXiv:2210.17323).
.. [2] G. Xiao, J. Lin, M. Seznec, H. Wu, J. Demouth and S. Han, "SmoothQuant: Accurate and Efficient
   Post-Training Quantization for Large Language Models", ICML 2023 (arXiv:2211.10438).
.. [3] J. Lin, J. Tang, H. Tang, S. Yang, X. Dang and S. Han, "AWQ: Activation-aware Weight Quantization
   for LLM Compression and Acceleration", MLSys 2024 (arXiv:2306.00978).
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "groupwise": ["SCALE_DTYPES", "GroupQuant", "group_quantize", "dequantize_groups", "rtn_dequantized",
                      "pack_bits", "unpack_bits", "stored_bytes"],
        "gptq": ["GPTQResult", "gptq_hessian", "gptq_quantize"],
        "smooth": ["ActivationStats", "AWQResult", "activation_stats", "smoothquant_scales", "apply_scales",
                   "w8a8_output", "relative_error", "awq_search"],
    },
    submodules=["groupwise", "gptq", "smooth", "nn"],
)
