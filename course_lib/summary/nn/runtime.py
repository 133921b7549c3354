"""The summary's configurations that change what the CPU computes: whole channels removed, and real int8.

* **channel pruning** (notebook 02's CNN half): every convolution keeps the same fraction of its filters
  (lowest L1 norm removed, :func:`course_lib.pruning.nn.prune_channels`), and the physically smaller dense
  network is fine-tuned (:func:`course_lib.pruning.nn.fine_tune_channels`) -- the pruning that cuts the
  convolutions' multiply-adds on any CPU;
* **the int8 runtime** (notebook 05): :func:`course_lib.quantization.nn.build_int8_model` runs every
  Linear *and* Conv2d on PyTorch's quantized engine (int8 codes, int32 sums). An
  :class:`~course_lib.quantization.nn.Int8Model` is not a ``torch.nn.Module``; :class:`Int8Runtime` wraps
  it so that the summary measures it like every other configuration.

Bytes of the int8 runtime (:func:`int8_runtime_bytes`), counted from the integer model it runs
(``Int8Model.spec``), as an integer engine stores it: per weight layer the int8 codes (1 byte each), one
float32 scale per output channel (``build_int8_model``'s default, the one used here), the int32 biases
(batch norm folded into them), and the output's float32 scale and int32 zero point; the input's scale and
zero point; the float32 mean and standard deviation the input is standardized with. The fixed-point
multipliers are not counted: an engine derives them from the scales when it loads the model (as it
prepacks the weights).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..._validation import check_int, check_model

__all__ = ["Int8Runtime", "int8_runtime_bytes", "runtime_config", "channel_configs", "check_keeps", "CHANNEL_KEEPS",
           "CHANNEL_BATCH", "CHANNEL_LR"]

#: fractions of the filters every convolution keeps (notebook 02's fast mode)
CHANNEL_KEEPS = (0.75, 0.5)
#: the fine-tuning of the channel-pruned CNN, as in notebook 02
CHANNEL_BATCH, CHANNEL_LR = 32, 3e-4


class Int8Runtime(nn.Module):
    """An :class:`~course_lib.quantization.nn.Int8Model` as a module: ``forward`` is the int8 model's call.

    It holds no parameters (``state_dict()`` is empty: its bytes are :func:`int8_runtime_bytes`); it reads
    the images of the model it was built from (``input_shape``, ``name``, ``dataset``).

    Parameters
    ----------
    int8_model : Int8Model
        From :func:`course_lib.quantization.nn.build_int8_model`.
    source : torch.nn.Module
        The float model it was built from (its ``dataset`` names the images it reads).

    Raises
    ------
    TypeError
        If ``int8_model`` is not an Int8Model or ``source`` not a Module.
    """

    def __init__(self, int8_model, source: nn.Module):
        from ...quantization.nn import Int8Model

        if not isinstance(int8_model, Int8Model):
            raise TypeError(f"int8_model must be an Int8Model (quantization.nn.build_int8_model), got "
                            f"{type(int8_model).__name__}.")
        check_model(source, "source")
        super().__init__()
        self.int8 = int8_model
        self.input_shape = tuple(int8_model.input_shape)
        self.name = int8_model.name
        self.dataset = getattr(source, "dataset", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """float32 logits of float images ``x`` in [0, 1], computed by the int8 engine."""
        return self.int8(x)


def int8_runtime_bytes(int8_model) -> int:
    """Bytes an integer engine stores for an :class:`~course_lib.quantization.nn.Int8Model` (see the module).

    Parameters
    ----------
    int8_model : Int8Model or Int8Runtime

    Returns
    -------
    int
        ``sum over weight layers (codes + 4 * channels (scales) + 4 * channels (int32 biases) + 8)``
        ``+ 8`` (the input's scale and zero point) ``+ 4 * (len(mean) + len(std))``.

    Raises
    ------
    TypeError
        If ``int8_model`` is neither.

    Notes
    -----
    LeNet-300-100: 266,200 codes + 410 * 4 (scales) + 410 * 4 (biases) + 3 * 8 + 8 + 2 * 4 = 269,520 bytes,
    40 more than :func:`course_lib.quantization.nn.model_bytes` of its dynamic int8 model (float32 biases,
    no activation grids, the standardization counted in neither).
    """
    from ...quantization.nn import Int8Model

    if isinstance(int8_model, Int8Runtime):
        int8_model = int8_model.int8
    if not isinstance(int8_model, Int8Model):
        raise TypeError(f"int8_model must be an Int8Model (quantization.nn.build_int8_model) or an Int8Runtime, "
                        f"got {type(int8_model).__name__}.")
    spec = int8_model.spec
    total = 8 + 4 * (np.asarray(spec["input"]["mean"]).size + np.asarray(spec["input"]["std"]).size)
    for step in spec["steps"]:
        if step["op"] in ("linear", "conv"):
            channels = np.asarray(step["weight_scale"]).size
            total += np.asarray(step["weight"]).size + 4 * channels + 4 * np.asarray(step["bias"]).size + 8
    return int(total)


def runtime_config(model: nn.Module, sample, *, name: str = "int8 full integer (runtime)",
                   family: str = "quantization", needs: str = "sample", macs: int | None = None):
    """A :class:`~course_lib.summary.nn.configs.Config` of ``model`` run by the int8 runtime.

    Parameters
    ----------
    model : LeNet300100 or CifarVGG
        Trained (or pruned and fine-tuned); not modified.
    sample : uint8 ndarray
        Unlabelled images of its data set: the activation ranges' calibration (percentile).
    name, family, needs : str, keyword-only
        The configuration's fields (``family="combination", needs="labels"`` for a fine-tuned source).
    macs : int or None, keyword-only
        Multiply-adds per image (the float model's: folding batch norm changes none).

    Returns
    -------
    Config
        Its model is an :class:`Int8Runtime`, its bytes :func:`int8_runtime_bytes`.

    Raises
    ------
    TypeError, ValueError
        As :func:`course_lib.quantization.nn.build_int8_model` (a model it cannot run, other images).
    """
    from ...quantization.nn import build_int8_model
    from .configs import Config

    check_model(model)
    int8 = build_int8_model(model, sample, method="percentile")
    return Config(name, family, needs, Int8Runtime(int8, model).eval(), int8_runtime_bytes(int8), macs=macs)


def check_keeps(name: str, keeps) -> list[float]:
    """``keeps`` checked: a non-empty list or tuple of distinct fractions in (0, 1).

    Raises
    ------
    TypeError
        If it is not a list or tuple, or a fraction is not a number.
    ValueError
        If it is empty, a fraction is not in (0, 1) (a percentage is refused) or appears twice.
    """
    from ..._validation import check_fraction

    if not isinstance(keeps, (list, tuple)):
        raise TypeError(f"{name} must be a tuple of fractions such as (0.75, 0.5), got {type(keeps).__name__}.")
    out = [check_fraction(f"{name}[{i}]", k, allow_one=False) for i, k in enumerate(keeps)]
    if not out or any(k <= 0 for k in out) or len(set(out)) != len(out):
        raise ValueError(f"{name} == {list(keeps)!r}, must be distinct fractions in (0, 1), at least one.")
    return out


def channel_configs(model: nn.Module, train, *, steps: int, keeps=CHANNEL_KEEPS, with_int8: bool = True,
                    sample_size: int = 200, seed: int = 0) -> list:
    """The CNN with a fraction of every convolution's filters removed (L1) and fine-tuned; the smallest through int8.

    Parameters
    ----------
    model : CifarVGG
        The trained CNN; not modified.
    train : Dataset
        CIFAR-10 training images and labels: the fine-tuning (batch :data:`CHANNEL_BATCH`, Adam at
        :data:`CHANNEL_LR`) and, for the int8 one, the calibration (first ``sample_size``).
    steps : int, keyword-only
        Fine-tuning steps of each pruned network.
    keeps : sequence of float in (0, 1), keyword-only
        The fractions of filters kept.
    with_int8 : bool, keyword-only
        Also the smallest of them (the last of ``keeps``' smallest fraction) run by the int8 runtime.
    sample_size : int, keyword-only
    seed : int, keyword-only

    Returns
    -------
    list of Config
        ``"channel-pruned 75%"``, ``"channel-pruned 50%"``, ..., then ``"channel-pruned 50% + int8
        (runtime)"`` (the smallest fraction; family ``"combination"``); each with its ``macs``
        (:func:`course_lib.pruning.nn.count_macs`).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``steps < 1``, ``sample_size < 1``, a fraction is not in (0, 1) or appears twice.
    """
    from ..._validation import check_bool
    from ...pruning import nn as prune_nn
    from ...quantization.nn import model_bytes
    from .configs import Config

    check_model(model)
    steps = check_int("steps", steps, minimum=1)
    sample_size = check_int("sample_size", sample_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    keeps = check_keeps("keeps", keeps)
    with_int8 = check_bool("with_int8", with_int8)
    out, tuned = [], {}
    for keep in keeps:
        small = prune_nn.prune_channels(model, keep, method="l1")
        tuned[keep] = prune_nn.fine_tune_channels(small, train, steps=steps, batch_size=CHANNEL_BATCH, lr=CHANNEL_LR,
                                                  seed=seed).eval()
        out.append(Config(f"channel-pruned {100 * keep:.0f}%", "pruning", "labels", tuned[keep],
                          model_bytes(tuned[keep]), macs=prune_nn.count_macs(tuned[keep])["total"]))
    if with_int8:
        smallest = min(keeps)
        out.append(runtime_config(tuned[smallest], train.images[:sample_size], name=f"channel-pruned "
                                  f"{100 * smallest:.0f}% + int8 (runtime)", family="combination", needs="labels",
                                  macs=prune_nn.count_macs(tuned[smallest])["total"]))
    return out
