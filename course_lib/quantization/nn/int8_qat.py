"""The int8 runtime model of a quantization-aware-trained model: its own weights, its own ranges.

:func:`int8_from_qat` takes a model trained with :func:`~course_lib.quantization.nn.qat.train_qat` (8 bits)
and builds the :class:`~course_lib.quantization.nn.int8_runtime.Int8Model` PyTorch's quantized engine runs:

* the weights are the QAT's trained float weights, quantized exactly as its fake-quantized forward pass
  quantizes them (symmetric, 8 bits, per channel or per tensor as it was trained): the same int8 codes
  and scales;
* each layer's input grid comes from the range the QAT layer tracked while training (``act_min``,
  ``act_max``), not from a new calibration;
* the logits, which the QAT model leaves in float, get a range calibrated on the QAT model's own
  logits of a few unlabeled images (the int8 runtime hands the next layer codes, and the last layer's
  codes need a grid too).

On ``x86``/``fbgemm`` the runtime maps each range onto 7-bit codes (``reduce_range``, see
:mod:`~course_lib.quantization.nn.int8_runtime`), half as fine as the 8-bit grid the QAT trained with;
``engine="qnnpack"`` (or ``onednn``), or ``reduce_range=False`` on a CPU with AVX-512 VNNI, keeps 8 bits.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..._validation import check_choice, check_int, check_model
from ...layers import set_submodule
from ...models import CifarVGG, LeNet300100, check_images
from .calibrate import CALIBRATION_METHODS, calibration_range
from .int8_runtime import Int8Model, build_int8_model
from .layers import QATLayer

__all__ = ["int8_from_qat", "qat_ranges"]


def _qat_layers(qat_model) -> dict[str, QATLayer]:
    check_model(qat_model, "qat_model")
    if not isinstance(qat_model, (LeNet300100, CifarVGG)):
        raise TypeError(f"qat_model must be a LeNet300100 or CifarVGG prepared with prepare_qat, got "
                        f"{type(qat_model).__name__}.")
    layers = {n: m for n, m in qat_model.named_modules() if isinstance(m, QATLayer)}
    plain = [n for n, m in qat_model.named_modules() if type(m) in (nn.Linear, nn.Conv2d)]
    if not layers or plain:
        raise ValueError(f"qat_model must have every Linear / Conv2d replaced by a QATLayer (prepare_qat), "
                         f"found {len(layers)} QATLayer(s) and {len(plain)} plain layer(s).")
    for name, layer in layers.items():
        if layer.bits != 8:
            raise ValueError(f"qat_model.{name} was trained at {layer.bits} bits, must be 8: the int8 runtime "
                             f"runs 8-bit codes.")
        if not bool(layer.observed):
            raise ValueError(f"qat_model.{name} has not seen any input range yet: train it with train_qat or "
                             f"pass ranges to prepare_qat.")
    if len({layer.per_channel for layer in layers.values()}) != 1:
        raise ValueError("qat_model mixes per-channel and per-tensor weight scales, must use one kind.")
    return layers


def qat_ranges(qat_model: nn.Module) -> dict[str, tuple[float, float]]:
    """Each QAT layer's tracked input range ``name -> (act_min, act_max)``, as :func:`calibrate` returns ranges.

    Raises
    ------
    TypeError, ValueError
        If ``qat_model`` is not an 8-bit QAT LeNet300100 / CifarVGG whose layers have all seen a range.
    """
    return {n: (float(m.act_min), float(m.act_max)) for n, m in _qat_layers(qat_model).items()}


def _plain_copy(qat_model: nn.Module, layers: dict[str, QATLayer]) -> nn.Module:
    """A copy with each QATLayer back to an nn.Linear / nn.Conv2d holding the QAT's float weight and bias."""
    new = copy.deepcopy(qat_model).eval()
    for name, q in layers.items():
        bias = q.bias is not None
        if q.kind == "linear":
            layer = nn.Linear(q.shape[1], q.shape[0], bias=bias)
        else:
            groups = q.conv_args["groups"]
            layer = nn.Conv2d(q.shape[1] * groups, q.shape[0], tuple(q.shape[2:]), bias=bias, **q.conv_args)
        with torch.no_grad():
            layer.weight.copy_(q.weight.detach())
            if bias:
                layer.bias.copy_(q.bias.detach())
        set_submodule(new, name, layer.eval())
    return new


def int8_from_qat(qat_model: nn.Module, calibration_images, *, method: str = "percentile", engine: str = "auto",
                  reduce_range: bool | None = None, batch_size: int = 500) -> Int8Model:
    """The int8 runtime model of an 8-bit QAT model: its trained weights and the input ranges it tracked.

    Parameters
    ----------
    qat_model : LeNet300100 or CifarVGG with QATLayers
        From :func:`~course_lib.quantization.nn.qat.prepare_qat` (``bits=8``), usually trained with
        :func:`~course_lib.quantization.nn.qat.train_qat`; not modified.
    calibration_images : uint8 ndarray
        Unlabeled images of the model's data set: only the logits' range is calibrated on them.
    method : {"minmax", "maxabs", "percentile"}, keyword-only
        The calibration of the logits' range.
    engine, reduce_range, batch_size : keyword-only
        As :func:`~course_lib.quantization.nn.int8_runtime.build_int8_model`.

    Returns
    -------
    Int8Model
        ``spec["ranges"]`` holds the QAT's ranges.

    Raises
    ------
    TypeError
        If ``qat_model`` is not a LeNet300100 / CifarVGG, or an argument has the wrong type.
    ValueError
        If ``qat_model`` has no QATLayer, a plain Linear / Conv2d left, a layer trained at other than 8 bits
        or one that never saw a range; if the images are not the model's data set, or ``method`` /
        ``engine`` is unknown.
    """
    layers = _qat_layers(qat_model)
    method = check_choice("method", method, CALIBRATION_METHODS)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    x_cal = check_images(qat_model, calibration_images)
    plain = _plain_copy(qat_model, layers)
    was_training = qat_model.training
    qat_model.eval()  # frozen ranges: the forward pass below must not move them
    try:
        with torch.inference_mode():
            logits = torch.cat([qat_model(x_cal[i:i + batch_size]) for i in range(0, len(x_cal), batch_size)])
    finally:
        qat_model.train(was_training)
    return build_int8_model(plain, calibration_images, method=method, engine=engine, reduce_range=reduce_range,
                            batch_size=batch_size, ranges=qat_ranges(qat_model),
                            output_range=calibration_range(logits.numpy(), method=method),
                            per_channel=next(iter(layers.values())).per_channel)
