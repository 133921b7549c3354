"""Post-training quantization of a whole model (TFLite's table) and an integer-only MLP in NumPy."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_bits,
    check_bool,
)
from ...layers import replace_layers, weight_layers
from ...models import LeNet300100, check_images
from ..grid import qrange
from .calibrate import check_ranges
from .fold import fold_batchnorm
from .kernels import choose_int8_kernel
from .layers import DynamicQuantLayer, Float16Layer, QuantizedLayer

__all__ = ["ptq_float16", "ptq_dynamic", "ptq_full_integer", "IntegerMLP"]


def ptq_float16(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with batch norm folded and every Linear / Conv2d stored in float16.

    Half the bytes of float32 (:func:`model_bytes`) and, as a rule, the same accuracy:
    float16 keeps 11 significant bits, far more than the weights need. The compute stays
    float32 on the CPU (see :class:`Float16Layer`). Returns the copy in eval mode.
    """
    weight_layers(model)
    return replace_layers(fold_batchnorm(model), lambda name, layer: Float16Layer(layer))


def ptq_dynamic(model: nn.Module, *, bits: int = 8, per_channel: bool = True, kernel: str = "auto") -> nn.Module:
    """A copy of ``model`` with int8 weights and activations quantized on the fly ("dynamic range").

    Parameters
    ----------
    model : torch.nn.Module
        Not modified; batch norm is folded first.
    bits : int in 2..8, keyword-only
        Bits of the weight codes (stored in int8 whatever ``bits``). Activations are
        quantized on the fly with the range of the batch (``torch._int_mm``: of each
        example): no calibration.
    per_channel : bool, keyword-only
        One weight scale per output channel (else one per layer).
    kernel : str, keyword-only
        The int8 kernel of the Linear layers (:class:`DynamicQuantLayer`): ``"auto"`` picks
        the fastest this CPU has.

    Returns
    -------
    torch.nn.Module
        Eval mode; each Linear / Conv2d replaced by a :class:`DynamicQuantLayer` (Linear
        layers run the int8 kernel, convolutions are weight-only int8).
    """
    weight_layers(model)
    bits = check_bits(bits)
    per_channel = check_bool("per_channel", per_channel)
    kernel = choose_int8_kernel(kernel)
    return replace_layers(fold_batchnorm(model), lambda name, layer: DynamicQuantLayer(
        layer, bits=bits, per_channel=per_channel, kernel=kernel))


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
    checked = check_ranges(ranges, weight_layers(model))
    bits = check_bits(bits)
    per_channel = check_bool("per_channel", per_channel)
    return replace_layers(fold_batchnorm(model), lambda name, layer: QuantizedLayer(
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
        self.qmodel = qmodel  # checks the images it is given (LeNet300100.input_shape)
        self.standardize = copy.deepcopy(qmodel.standardize)
        self.layers = []
        for name in ("fc1", "fc2", "fc3"):
            layer = getattr(qmodel, name)
            if not isinstance(layer, QuantizedLayer):
                raise ValueError(f"qmodel.{name} is a {type(layer).__name__}, must be a QuantizedLayer: build "
                                 f"qmodel with ptq_full_integer or convert_qat.")
            qmin, qmax = qrange(layer.bits)
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
            x = self.standardize(check_images(self.qmodel, images)).flatten(1).numpy()
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
