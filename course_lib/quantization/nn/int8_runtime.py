"""Real int8 inference: a trained model run by PyTorch's quantized engines, not simulated in float.

:func:`build_int8_model` turns LeNet-300-100 or the CIFAR-10 CNN into a static int8 model:

1. batch norm is folded (:func:`~course_lib.quantization.nn.fold.fold_batchnorm`);
2. the input range of every Linear / Conv2d is calibrated on unlabeled images
   (:func:`~course_lib.quantization.nn.calibrate.calibrate`), and the logits' range too -- or given
   (``ranges``, ``output_range``: a QAT model's learned ranges, :mod:`~course_lib.quantization.nn.int8_qat`);
3. the weights become the course's codes: symmetric int8, one scale per output channel
   (:func:`~course_lib.quantization.nn.params.weight_codes`), the activations the course's affine grid
   (:func:`~course_lib.quantization.nn.params.act_qparams`); the bias is quantized with scale
   ``s_x s_w`` (an int32 bias, as integer engines store it);
4. the forward pass quantizes the input once (``torch.quantize_per_tensor``, ``quint8``), runs
   ``torch.ops.quantized.conv2d(_relu)`` / ``linear(_relu)`` with prepacked weights -- each op
   requantizes its int32 accumulators straight to the next layer's codes (its output scale and zero
   point) and applies ReLU by clamping at the zero point -- max pooling and flatten on quantized
   tensors, and dequantizes the logits.

The **Standardize** layer is applied in float before the input is quantized (not folded into the
first layer: the CNN's first convolution pads with zeros *after* standardisation, which a folded
weight cannot reproduce at the borders); its output is what the first layer's range was calibrated on.

The engine (``torch.backends.quantized.engine``) is the one the course picks for its int8 Linear
kernel (:func:`~course_lib.quantization.nn.kernels.choose_int8_kernel`), set while packing and
running and restored afterwards. On ``x86``/``fbgemm`` the calibrated ranges map onto 7-bit codes
(``reduce_range``), as PyTorch does there: AVX2 adds pairs of ``uint8 x int8`` products into 16 bits,
which 8-bit activations saturate (measured under AVX2 emulation with ``reduce_range=False``: the CIFAR
CNN fell from 86 % to 72 %, codes off by up to 255; with AVX-512 VNNI it does not). The ops still
clamp their outputs to ``quint8``'s 0..255 only, so a value beyond its calibrated range keeps a code
above 127 (``spec["qmin"]``, ``spec["qmax"]``: the signed code range the engine clamps to;
``spec["grid_bits"]``: the width of the calibrated grid). The deprecated ``torch.ao.quantization``
workflow is not used: only the quantized ops.
:class:`~course_lib.quantization.int8_reference.Int8Reference` runs the same ``spec`` in NumPy integers.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch
from torch import nn

from ..._validation import check_bool, check_choice, check_int, check_model
from ...layers import weight_layers
from ...models import CifarVGG, LeNet300100, Standardize, check_images, to_tensor
from ..grid import qrange
from ..int8_reference import quantize_multiplier
from .calibrate import CALIBRATION_METHODS, calibrate, calibration_range, check_ranges
from .fold import fold_batchnorm
from .kernels import ENGINE_KERNELS, available_int8_kernels, choose_int8_kernel
from .params import act_qparams, weight_codes

__all__ = ["Int8Model", "build_int8_model", "quantized_engine"]

_QUANTIZED_TENSOR_WARNING = "torch.quantize_per_tensor|.*quantized tensor"


@contextlib.contextmanager
def quantized_engine(engine: str):
    """Run the block with ``torch.backends.quantized.engine = engine``, then restore the previous one."""
    engine = check_choice("engine", engine, [k for k in available_int8_kernels() if k in ENGINE_KERNELS])
    with _swap_engine(engine):
        yield


@contextlib.contextmanager
def _swap_engine(engine: str):
    """Unchecked :func:`quantized_engine` (the forward pass's: a few microseconds)."""
    before = torch.backends.quantized.engine
    if before != engine:
        torch.backends.quantized.engine = engine
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_QUANTIZED_TENSOR_WARNING)
            yield
    finally:
        if torch.backends.quantized.engine != before:
            torch.backends.quantized.engine = before


def _layer_sequence(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The folded model as a flat list of (name, module) after Standardize, in execution order."""
    if isinstance(model, LeNet300100):
        return [("flatten", nn.Flatten()), ("fc1", model.fc1), ("relu1", nn.ReLU()), ("fc2", model.fc2),
                ("relu2", nn.ReLU()), ("fc3", model.fc3)]
    return ([(f"features.{k}", m) for k, m in model.features.named_children()]
            + [(f"classifier.{k}", m) for k, m in model.classifier.named_children()])


def _plan(model: nn.Module) -> list[dict]:
    """Steps: weight layers (with a fused ReLU), max pooling, flatten; identities and dropout dropped."""
    steps = []
    for name, m in _layer_sequence(model):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            steps.append({"op": "linear" if isinstance(m, nn.Linear) else "conv", "name": name, "module": m,
                          "relu": False})
        elif isinstance(m, nn.ReLU):
            if not steps or steps[-1]["op"] not in ("linear", "conv") or steps[-1]["relu"]:
                raise ValueError(f"model has a ReLU ({name!r}) that does not follow a Linear / Conv2d.")
            steps[-1]["relu"] = True
        elif isinstance(m, nn.MaxPool2d):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            if m.stride not in (k, (k, k)) or m.padding not in (0, (0, 0)) or m.ceil_mode:
                raise ValueError(f"model's max pooling {name!r} must have stride == kernel, no padding.")
            steps.append({"op": "maxpool", "kernel": int(k)})
        elif isinstance(m, nn.Flatten):
            steps.append({"op": "flatten"})
        elif not isinstance(m, (nn.Identity, nn.Dropout)):
            raise ValueError(f"model has a {type(m).__name__} ({name!r}), which the int8 runtime cannot run.")
    return steps


class Int8Model:
    """A static int8 model on PyTorch's quantized engine; build it with :func:`build_int8_model`.

    Attributes
    ----------
    engine : str
        The quantized engine it was packed for and runs on.
    spec : dict
        The integer model as NumPy arrays (codes, int32 biases, fixed-point multipliers, zero points):
        what :class:`~course_lib.quantization.int8_reference.Int8Reference` runs.
    """

    def __init__(self, standardize: Standardize, spec: dict, engine: str, model_name: str, input_shape):
        self.standardize, self.spec, self.engine = standardize, spec, engine
        self.name, self.input_shape = model_name, tuple(input_shape)
        self._offset = -int(spec["qmin"])  # quint8 code = signed code + offset
        self._packed = []
        with quantized_engine(engine):
            for s in spec["steps"]:
                if s["op"] not in ("linear", "conv"):
                    self._packed.append(None)
                    continue
                scale = torch.from_numpy(s["weight_scale"]).double()
                qweight = torch._make_per_channel_quantized_tensor(
                    torch.from_numpy(s["weight"]), scale, torch.zeros(len(scale), dtype=torch.long), 0)
                bias = torch.from_numpy((s["bias"] * s["in_scale"] * s["weight_scale"]).astype(np.float32))
                if s["op"] == "linear":
                    self._packed.append(torch.ops.quantized.linear_prepack(qweight, bias))
                else:
                    st, pd = int(s["stride"]), int(s["padding"])
                    self._packed.append(torch.ops.quantized.conv2d_prepack(qweight, bias, [st, st], [pd, pd],
                                                                           [1, 1], 1))

    def _check(self, x) -> torch.Tensor:
        if isinstance(x, np.ndarray):
            x = to_tensor(x)
        elif not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"x must be uint8 images or a float tensor in [0, 1] (to_tensor), got "
                            f"{type(x).__name__}.")
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"x has shape {tuple(x.shape)}, must be (N, {', '.join(map(str, self.input_shape))}).")
        return x

    def _run(self, x: torch.Tensor, keep: bool):
        inp = self.spec["input"]
        q = torch.quantize_per_tensor(self.standardize(x), float(inp["scale"]), int(inp["zero_point"]) + self._offset,
                                      torch.quint8)
        kept = [q] if keep else None
        for s, packed in zip(self.spec["steps"], self._packed):
            if s["op"] == "flatten":
                q = q.reshape(len(q), -1)
            elif s["op"] == "maxpool":
                q = torch.max_pool2d(q, s["kernel"])
            else:
                scale, zp = float(s["out_scale"]), int(s["out_zero_point"]) + self._offset
                ops = torch.ops.quantized
                if s["op"] == "linear":
                    q = (ops.linear_relu if s["relu"] else ops.linear)(q, packed, scale, zp)
                else:
                    q = (ops.conv2d_relu if s["relu"] else ops.conv2d)(q, packed, scale, zp)
            if keep:
                kept.append(q)
        return kept if keep else q

    def __call__(self, x) -> torch.Tensor:
        """float32 logits ``(N, classes)`` of images ``x`` (uint8 array, or float tensor in [0, 1])."""
        x = self._check(x)
        with _swap_engine(self.engine), torch.inference_mode():
            return self._run(x, keep=False).dequantize()

    def codes(self, x) -> list[np.ndarray]:
        """The signed int32 codes of the input and of every step's output, as the reference's ``codes``."""
        x = self._check(x)
        with _swap_engine(self.engine), torch.inference_mode():
            return [q.int_repr().numpy().astype(np.int32) - self._offset for q in self._run(x, keep=True)]

    def predict(self, images) -> np.ndarray:
        """Predicted class of each image (int64)."""
        return self(images).argmax(1).numpy()


def build_int8_model(model: nn.Module, calibration_images, *, method: str = "percentile", engine: str = "auto",
                     reduce_range: bool | None = None, batch_size: int = 500, ranges: dict | None = None,
                     output_range=None, per_channel: bool = True) -> Int8Model:
    """A static int8 model of a trained LeNet-300-100 or CIFAR-10 CNN, run by PyTorch's quantized engine.

    Parameters
    ----------
    model : LeNet300100 or CifarVGG
        The trained float model; not modified (batch norm is folded in a copy).
    calibration_images : uint8 ndarray
        Unlabeled images of the model's data set (a few hundred training images).
    method : {"minmax", "maxabs", "percentile"}, keyword-only
        The activation ranges' calibration (:func:`calibrate`); notebook 05 uses ``"percentile"``.
    engine : str, keyword-only
        ``"auto"``: the course's int8 engine (:func:`choose_int8_kernel`); or one of ``x86``, ``fbgemm``,
        ``qnnpack``, ``onednn`` this PyTorch has.
    reduce_range : bool or None, keyword-only
        7-bit activation codes; None: on ``x86`` and ``fbgemm`` (see the module's notes).
    batch_size : int, keyword-only
        Calibration batch size.
    ranges : dict or None, keyword-only
        Each Linear / Conv2d's input range ``name -> (low, high)``, as :func:`calibrate` returns them (for
        example those a QAT model learned: :func:`~course_lib.quantization.nn.int8_qat.int8_from_qat`);
        None: calibrated on ``calibration_images`` with ``method``.
    output_range : (low, high) or None, keyword-only
        The logits' range; None: calibrated on the model's logits of ``calibration_images``.
    per_channel : bool, keyword-only
        One weight scale per output channel (else one per layer, repeated for each channel).

    Returns
    -------
    Int8Model

    Raises
    ------
    TypeError
        If ``model`` is not a LeNet300100 / CifarVGG, or an argument has the wrong type.
    ValueError
        If the images are not the model's data set, ``method`` or ``engine`` is unknown (or no quantized
        engine is available), or ``ranges`` / ``output_range`` are not (low, high) pairs of finite numbers
        with low <= high, one per weight layer.
    """
    check_model(model)
    if not isinstance(model, (LeNet300100, CifarVGG)):
        raise TypeError(f"model must be a LeNet300100 or CifarVGG, got {type(model).__name__}.")
    method = check_choice("method", method, CALIBRATION_METHODS)
    if engine == "auto":
        chosen = choose_int8_kernel()
        engine = chosen if chosen in ENGINE_KERNELS else "none"
    engine = check_choice("engine", engine, [k for k in available_int8_kernels() if k in ENGINE_KERNELS])
    reduce_range = engine in ("x86", "fbgemm") if reduce_range is None else check_bool("reduce_range", reduce_range)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    per_channel = check_bool("per_channel", per_channel)
    ranges = None if ranges is None else check_ranges(ranges, weight_layers(model))
    if output_range is not None:
        try:
            output_range = check_ranges({"output_range": output_range}, ["output_range"])["output_range"]
        except ValueError:
            raise ValueError(f"output_range == {output_range!r}, must be a pair (low, high) of finite numbers with "
                             f"low <= high.") from None
    x_cal = check_images(model, calibration_images)  # checked before any work

    folded = fold_batchnorm(model)
    if ranges is None:
        ranges = calibrate(folded, calibration_images, method=method, batch_size=batch_size)
    out_range = output_range
    if out_range is None:
        with torch.inference_mode():
            logits = torch.cat([folded(x_cal[i:i + batch_size]) for i in range(0, len(x_cal), batch_size)])
        out_range = calibration_range(logits.numpy(), method=method)
    bits = 7 if reduce_range else 8
    qmin = qrange(bits)[0]

    def grid(lo_hi):
        s, z = act_qparams(torch.tensor(lo_hi[0], dtype=torch.float32), torch.tensor(lo_hi[1], dtype=torch.float32),
                           bits)
        return float(s), int(z)

    steps = _plan(folded)
    layers = [s for s in steps if s["op"] in ("linear", "conv")]
    assert [s["name"] for s in layers] == list(weight_layers(folded))
    grids = [grid(ranges[s["name"]]) for s in layers] + [grid(out_range)]
    for k, s in enumerate(layers):
        m = s.pop("module")
        codes, w_scale = weight_codes(m.weight, 8, per_channel)
        (s_in, z_in), (s_out, z_out) = grids[k], grids[k + 1]
        w_scale = np.broadcast_to(w_scale.double().numpy(), (len(codes),)).copy()
        bias = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(len(w_scale))
        mult = [quantize_multiplier(s_in * ws / s_out) for ws in w_scale]
        s.update(weight=codes.numpy().copy(), weight_scale=w_scale,
                 bias=np.clip(np.rint(bias / (s_in * w_scale)), -2 ** 31 + 1, 2 ** 31 - 1).astype(np.int32),
                 in_scale=s_in, in_zero_point=z_in, out_scale=s_out, out_zero_point=z_out,
                 multiplier=np.array([a for a, _ in mult], np.int64), shift=np.array([b for _, b in mult], np.int64))
        if s["op"] == "conv":
            if m.groups != 1 or m.dilation != (1, 1) or len(set(m.stride)) != 1 or len(set(m.padding)) != 1:
                raise ValueError(f"model's convolution {s['name']!r} must have groups 1, dilation 1 and square "
                                 f"stride and padding.")
            s.update(stride=m.stride[0], padding=m.padding[0])
    std = folded.standardize
    spec = {"input": {"mean": std.mean.flatten().numpy().copy(), "std": std.std.flatten().numpy().copy(),
                      "scale": grids[0][0], "zero_point": grids[0][1]},
            "steps": steps, "output": {"scale": grids[-1][0], "zero_point": grids[-1][1]},
            "qmin": qmin, "qmax": qmin + 255, "grid_bits": bits, "ranges": ranges, "output_range": out_range,
            "method": method}
    return Int8Model(std, spec, engine, model.name, model.input_shape)
