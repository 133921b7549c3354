"""Quantizing PyTorch models: fake quantization, post-training quantization, QAT and int8 speed.

The torch side of the quantization lesson, built on our own small pieces
rather than on ``torch.ao.quantization`` (deprecated: it prints warnings):

* :mod:`.fake_quant` -- :class:`FakeQuantSTE`, ``dequantize(quantize(x))`` with a
  straight-through gradient (:func:`fake_quantize_ste`), the building block of
  everything below;
* :mod:`.params` -- weight scales and activation ranges, with the one formula of
  :func:`course_lib.quantization.grid.scale_zero_point`;
* :mod:`.fold`, :mod:`.calibrate` -- :func:`fold_batchnorm`, :func:`calibrate`;
* :mod:`.layers`, :mod:`.ptq` -- post-training quantization of a whole model, the
  rows of TFLite's table: :func:`ptq_float16`, :func:`ptq_dynamic` (int8 weights,
  float activations quantized on the fly) and :func:`ptq_full_integer` (int8 weights
  *and* activations); :class:`IntegerMLP` runs LeNet-300-100 with integer arithmetic
  in NumPy and reproduces the full-integer model's logits;
* :mod:`.qat` -- quantization-aware training: :func:`prepare_qat`, :func:`train_qat`,
  :func:`convert_qat`;
* :mod:`.int8_runtime`, :mod:`.int8_qat`, :mod:`.int8_measure` -- real int8 inference on PyTorch's
  quantized engine: :func:`build_int8_model` (full-integer PTQ), :func:`int8_from_qat` (a QAT model's
  weights and learned ranges), their agreement with the NumPy integer reference, accuracy and latency;
* :mod:`.kernels` -- which int8 kernel is fast on this CPU (FBGEMM/``x86`` from AVX2 on,
  ``qnnpack`` on ARM, ``torch._int_mm`` with VNNI/AMX), chosen at run time;
* :mod:`.size` -- sizes (:func:`model_bytes`) and each int8 kernel's speed
  (:func:`int8_linear_latency`).

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

from .calibrate import calibrate, calibration_range
from .fake_quant import FakeQuantSTE, fake_quantize_ste
from .fold import fold_batchnorm
from .int8_measure import int8_accuracy, int8_agreement, int8_latency
from .int8_qat import int8_from_qat, qat_ranges
from .int8_runtime import Int8Model, build_int8_model, quantized_engine
from .kernels import available_int8_kernels, choose_int8_kernel, cpu_capability
from .layers import DynamicQuantLayer, Float16Layer, QATLayer, QuantizedLayer
from .params import activation_qparams, dequantize_weight, quantize_weight, weight_scale
from .ptq import IntegerMLP, ptq_dynamic, ptq_float16, ptq_full_integer
from .qat import convert_qat, prepare_qat, train_qat
from .size import int8_linear_latency, model_bytes

__all__ = ["FakeQuantSTE", "fake_quantize_ste", "weight_scale", "quantize_weight", "dequantize_weight",
           "activation_qparams", "fold_batchnorm", "calibrate", "calibration_range", "Float16Layer",
           "DynamicQuantLayer",
           "QuantizedLayer", "QATLayer", "ptq_float16", "ptq_dynamic", "ptq_full_integer", "IntegerMLP",
           "prepare_qat", "train_qat", "convert_qat", "model_bytes", "int8_linear_latency", "available_int8_kernels",
           "choose_int8_kernel", "cpu_capability", "build_int8_model", "Int8Model", "quantized_engine",
           "int8_agreement", "int8_latency", "int8_accuracy", "int8_from_qat", "qat_ranges"]
