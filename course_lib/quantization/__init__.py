"""Quantization from scratch: int8 codes, integer products, ranges and float16.

Quantization stores each weight (or activation) as a small integer *code*
instead of a 32-bit float and computes with integers.

Modules (NumPy only, unless noted):

* :mod:`.seed` -- the seed lecture's scheme (:func:`quantize_seed`, :func:`int8_matmul`,
  :func:`dequantize_product`, :func:`seed_matvec`): values in ``[-a, a)`` become
  ``floor(128 x / a)`` in int8, the product accumulates in int32, and the result is
  scaled back by ``a_w a_x / 16384``;
* :mod:`.grid` -- the one scale/zero-point formula and code range of the course;
* :mod:`.uniform` -- the general uniform quantizer of PyTorch and every int8 runtime
  (:func:`quantize`, :func:`dequantize`, :func:`fake_quantize`, :func:`qparams`):
  ``q = clip(round(x / scale) + zero_point)``, 2 to 8 bits, symmetric or affine,
  per tensor or per channel;
* :mod:`.ranges` -- choosing the range (:func:`choose_range`): max-abs, a percentile,
  or the range of least mean squared error;
* :mod:`.tensor` -- :func:`quantize_tensor` puts it all together in a :class:`QTensor`,
  and :func:`quantization_error` measures what was lost;
* :mod:`.storage` -- half precision (:func:`to_float16`) and the bytes of each format
  (registered with :func:`course_lib.formats.storage_bytes`);
* :mod:`.int8_reference` -- integer-only inference in NumPy (im2col, int32 accumulators,
  fixed-point requantization): the reference the real int8 runtime is checked against;
* :mod:`.nn` (PyTorch) -- fake-quantized layers, post-training quantization, QAT,
  integer inference on PyTorch's int8 engines (``int8_runtime``), model sizes and the int8 kernel's speed.

References
----------
.. [1] B. Jacob et al., "Quantization and Training of Neural Networks for Efficient
   Integer-Arithmetic-Only Inference", CVPR 2018.
.. [2] R. Krishnamoorthi, "Quantizing deep convolutional networks for efficient
   inference: A whitepaper", arXiv:1806.08342, 2018.
.. [3] M. Nagel et al., "A White Paper on Neural Network Quantization",
   arXiv:2106.08295, 2021.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "seed": ["quantize_seed", "dequantize_seed", "int8_matmul", "dequantize_product", "seed_matvec",
                 "MAX_INT8_DOT_LENGTH", "accumulator_bits"],
        "grid": ["qrange"],
        "uniform": ["quantize", "dequantize", "fake_quantize", "qparams"],
        "ranges": ["choose_range"],
        "tensor": ["QTensor", "quantize_tensor", "quantization_error"],
        "storage": ["to_float16", "int8_bytes", "float16_bytes", "code_bytes", "FLOAT16_MAX"],
        "int8_reference": ["Int8Reference", "quantize_multiplier", "requantize"],
    },
    submodules=["seed", "grid", "uniform", "ranges", "tensor", "storage", "int8_reference", "nn"],
)
