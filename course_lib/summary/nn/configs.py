"""Every technique of the course, and the combinations people use, on LeNet-300-100 and the CIFAR-10 CNN.

Each configuration is built by the library's own converters (nothing is reimplemented here):
:mod:`course_lib.pruning.nn` (masks, masked fine-tuning, smaller MLPs, whole channels),
:mod:`course_lib.quantization.nn` (float16, dynamic and full-integer int8, the int8 runtime: :mod:`.runtime`),
:mod:`course_lib.factorization.nn` (truncated SVD, flattened convolutions, TT layers). Its ``bytes`` are
those of the format it would be stored in: dense tensors at their dtype
(:func:`course_lib.quantization.nn.model_bytes`), pruned weights in CSR (:func:`course_lib.pruning.storage.csr_bytes`,
4-byte or 1-byte values), TT cores as int8 codes with one scale each
(:func:`course_lib.quantization.storage.int8_bytes`), the int8 runtime as its integer engine stores it
(:func:`course_lib.summary.nn.runtime.int8_runtime_bytes`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..._validation import check_int, check_model
from ...layers import weight_layers
from ...models import to_tensor
from ...pruning.storage import csr_bytes
from ...quantization.storage import int8_bytes
from ...quantization.tensor import quantize_tensor

__all__ = ["Config", "lenet300_configs", "cnn_configs", "pruned_bytes", "tt_int8", "FAMILIES", "LENET_TT_MODES",
           "CNN_TT_MODES", "LENET_SVD_RANKS", "CNN_SVD_RANKS", "SPARSITY"]

#: fc1 (784 -> 300) as a TT-matrix, as in notebook 08
LENET_TT_MODES = {"fc1": ((4, 7, 7, 4), (3, 4, 5, 5))}
#: the CNN's classifier, as in notebook 08
CNN_TT_MODES = {"classifier.1": ((4, 8, 8, 8), (2, 4, 8, 8)), "classifier.4": ((2, 4, 8, 8), (2, 4, 8, 8))}
LENET_SVD_RANKS = {"fc1": 40, "fc2": 20}
CNN_SVD_RANKS = {"classifier.1": 32, "classifier.4": 32}
#: what a configuration is (:attr:`Config.family`)
FAMILIES = ("baseline", "pruning", "quantization", "factorization", "combination")
#: the sparsity of the pruned configurations (global magnitude ranking, as in notebooks 01 and 03)
SPARSITY = 0.9


@dataclass
class Config:
    """One measured point: a model built by a technique, and what it needs and stores.

    Attributes
    ----------
    name : str
        What was done (``"pruned 90% + int8"``).
    family : str
        ``"baseline"``, ``"pruning"``, ``"quantization"``, ``"factorization"`` or ``"combination"``.
    needs : str
        The data it was built with: ``"none"``, ``"sample"`` (unlabelled calibration images) or
        ``"labels"`` (labelled training data, for fine-tuning).
    model : torch.nn.Module
        Eval mode.
    bytes : int
        The numbers it stores, in its storage format.
    macs : int or None
        Multiply-adds per image where counted (the CNN's float32, channel-pruned and int8-runtime models).
    """

    name: str
    family: str
    needs: str
    model: nn.Module
    bytes: int
    macs: int | None = None


def pruned_bytes(model: nn.Module, masks: dict, *, value_bytes: int = 4) -> int:
    """Bytes of ``model`` with the weights named in ``masks`` stored in CSR, everything else as it is.

    Parameters
    ----------
    model : torch.nn.Module
        Its state dict holds the pruned weights (zeros where the masks are False) under the masks' keys
        (float32 weights, or the int8 codes of :func:`~course_lib.quantization.nn.ptq_dynamic`).
    masks : dict of str -> bool array
        As :func:`course_lib.pruning.nn.masks_for` returns them (``"fc1.weight"``, ...).
    value_bytes : int, keyword-only
        Bytes per stored value in CSR: 4 (float32) or 1 (int8 codes).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``model`` is not a Module, ``masks`` not a dict, a mask not boolean or ``value_bytes`` not an int.
    ValueError
        If a mask names no tensor of the model or does not have its shape, or ``value_bytes`` is not 1, 2 or 4.
    """
    from ..._validation import check_choice, to_numpy

    check_model(model)
    if not isinstance(masks, dict):
        raise TypeError(f"masks must be a dict of weight name -> bool array, got {type(masks).__name__}.")
    check_choice("value_bytes", check_int("value_bytes", value_bytes), (1, 2, 4))  # True is not 1 byte
    state = model.state_dict()
    unknown = [k for k in masks if k not in state]
    if unknown:
        raise ValueError(f"masks names {unknown}, must name tensors of the model's state dict.")
    for key, mask in masks.items():
        try:
            arr = to_numpy(mask)
        except ValueError as exc:
            raise ValueError(f"masks[{key!r}]: {exc}") from None
        if arr.dtype != bool:
            raise TypeError(f"masks[{key!r}] must be a bool array, got {type(mask).__name__} of dtype {arr.dtype}.")
        if arr.shape != tuple(state[key].shape):
            raise ValueError(f"masks[{key!r}] has shape {arr.shape}, must have the tensor's {tuple(state[key].shape)}.")
    total = 0
    for key, t in state.items():
        if key in masks:
            total += csr_bytes(t.detach().float().numpy(), value_bytes=value_bytes)
        else:
            total += t.numel() * t.element_size()
    return int(total)


def tt_int8(model: nn.Module) -> tuple[nn.Module, int]:
    """Quantize every TT layer's cores to int8 (one scale per core) and every other layer with dynamic int8.

    The cores are stored as int8 codes but, with no int8 TT kernel, *expanded back* to float32 to compute
    (``QTensor.dequantize``) -- the seed's "надо расширять до изначальных значений".

    Parameters
    ----------
    model : torch.nn.Module
        Holds :class:`~course_lib.factorization.nn.TTLinear` layers; not modified.

    Returns
    -------
    (torch.nn.Module, int)
        The quantized copy and its bytes (int8 codes and scales; biases float32).

    Raises
    ------
    TypeError
        If ``model`` is not a Module.
    ValueError
        If it has no TT layer.
    """
    from ...factorization.nn import TTLinear
    from ...quantization.nn import model_bytes, ptq_dynamic

    check_model(model)
    out = ptq_dynamic(model) if weight_layers_or_none(model) else copy.deepcopy(model)
    tts = [m for m in out.modules() if isinstance(m, TTLinear)]
    if not tts:
        raise ValueError("model has no TTLinear layer, must have one (factorization.nn.tt_model).")
    total = model_bytes(out)
    with torch.no_grad():
        for layer in tts:
            for core in layer.cores:
                c = core.detach().numpy()
                core.copy_(torch.from_numpy(quantize_tensor(c, bits=8).dequantize().astype(np.float32)))
                total += int8_bytes(c) - 4 * c.size
    return out.eval(), int(total)


def weight_layers_or_none(model: nn.Module) -> dict:
    """:func:`course_lib.layers.weight_layers`, or ``{}`` for a model without a Linear / Conv2d.

    Raises
    ------
    TypeError
        If ``model`` is not a Module.
    """
    try:
        return weight_layers(model)
    except ValueError:
        return {}


def _check_configs_args(model, train, steps, seed, *, cnn: bool) -> int:
    """The arguments of :func:`lenet300_configs` / :func:`cnn_configs`, checked before any work; returns ``steps``."""
    from ...models import CifarVGG, LeNet300100
    from ...widgets.layout import check_dataset

    steps = check_int("steps", steps, minimum=1)
    check_int("seed", seed, minimum=0)
    if cnn and not (hasattr(model, "classifier") and hasattr(model, "features")):
        raise TypeError(f"model must be the CIFAR-10 CNN (load_pretrained('cifar_vgg')), got {type(model).__name__}.")
    check_model(model)
    want = CifarVGG if cnn else LeNet300100
    if not isinstance(model, want):
        which = ("the CIFAR-10 CNN (load_pretrained('cifar_vgg'))" if cnn
                 else "LeNet-300-100 (load_pretrained('lenet300'))")
        raise TypeError(f"model must be {which}, got {type(model).__name__}.")
    check_dataset("train", train, model)
    return steps


def _quantized(model, sample, macs=None):
    from ...quantization import nn as qt
    from .runtime import runtime_config

    ranges = qt.calibrate(model, sample, method="percentile")
    return [Config("float16", "quantization", "none", qt.ptq_float16(model), qt.model_bytes(qt.ptq_float16(model))),
            Config("int8 dynamic (PTQ)", "quantization", "none", qt.ptq_dynamic(model),
                   qt.model_bytes(qt.ptq_dynamic(model))),
            Config("int8 full integer (PTQ)", "quantization", "sample", qt.ptq_full_integer(model, ranges),
                   qt.model_bytes(qt.ptq_full_integer(model, ranges))),
            runtime_config(model, sample, macs=macs)]


def _combinations(pruned, masks, svd, tt):
    from ...quantization.nn import model_bytes, ptq_dynamic

    pq = ptq_dynamic(pruned)
    sq = ptq_dynamic(svd)
    ttq, tt_bytes = tt_int8(tt)
    return [Config(f"pruned {100 * SPARSITY:.0f}% + int8", "combination", "labels", pq,
                   pruned_bytes(pq, masks, value_bytes=1)),
            Config("SVD + int8", "combination", "labels", sq, model_bytes(sq)),
            Config("TT + int8", "combination", "labels", ttq, tt_bytes)]


def lenet300_configs(model: nn.Module, train, *, steps: int = 200, seed: int = 0) -> list[Config]:
    """Every technique on LeNet-300-100: the configurations the summary measures.

    Parameters
    ----------
    model : LeNet300100
        The trained model (``load_pretrained("lenet300")``); not modified.
    train : Dataset
        Training images and labels: activation statistics (first 5,000), calibration (first 500) and
        the fine-tuning of the pruned, SVD and TT models (``steps`` Adam steps each).
    steps : int, keyword-only
        Fine-tuning steps (batch 128 for pruning and SVD, 64 for TT).
    seed : int, keyword-only
        Seeds the fine-tuning.

    Returns
    -------
    list of Config
        float32, float16, int8 dynamic and full integer (simulated, and run by the int8 runtime: "int8 full
        integer (runtime)"), neurons removed, pruned 90% + fine-tune,
        SVD (fc1 rank 40, fc2 rank 20) + fine-tune, TT fc1 (rank 8) + fine-tune, and the three
        combinations with int8.

    Raises
    ------
    TypeError
        If ``model`` is not LeNet-300-100, ``train`` not a Dataset, or ``steps`` / ``seed`` not an int.
    ValueError
        If ``train`` holds the other data set's images (or labels out of range), ``steps < 1`` or ``seed < 0``.
    """
    from ...factorization.nn import factorize_model, fine_tune_factorized, tt_model
    from ...pruning import neurons
    from ...pruning import nn as prune_nn
    from ...quantization.nn import model_bytes
    from ...train import adam_steps

    steps = _check_configs_args(model, train, steps, seed, cnn=False)
    acts = prune_nn.collect_activations(model, train.images[:5000], ("fc1", "fc2"))
    drop = {k: neurons.rarely_active(neurons.activation_stats(a), max_fire_rate=0.02) for k, a in acts.items()}
    small = prune_nn.shrink_mlp(model, drop=drop)
    masks = prune_nn.masks_for(model, SPARSITY, scope="global")
    torch.manual_seed(seed)
    pruned = prune_nn.fine_tune(model, masks, train.images, train.labels, max_steps=steps, rng=seed).eval()
    svd = fine_tune_factorized(factorize_model(model, LENET_SVD_RANKS), train.images, train.labels,
                               max_steps=steps, lr=1e-3, rng=seed).eval()
    tt = tt_model(model, LENET_TT_MODES, 8)
    torch.manual_seed(seed)
    adam_steps(tt, to_tensor(train.images), train.labels, epochs=1, max_steps=steps, batch_size=64, lr=1e-3,
               gen=np.random.default_rng(seed), progress=False, desc="")
    tt.eval()
    return [Config("float32", "baseline", "none", model.eval(), model_bytes(model)),
            *_quantized(model, train.images[:500]),
            Config("neurons removed", "pruning", "sample", small, model_bytes(small)),
            Config(f"pruned {100 * SPARSITY:.0f}% (CSR)", "pruning", "labels", pruned, pruned_bytes(pruned, masks)),
            Config("SVD", "factorization", "labels", svd, model_bytes(svd)),
            Config("TT fc1", "factorization", "labels", tt, model_bytes(tt)),
            *_combinations(pruned, masks, svd, tt)]


def _head_features(model, images, batch: int = 500) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([model.features(model.standardize(to_tensor(images[i:i + batch])))
                          for i in range(0, len(images), batch)])


def _train_head(model, feats, labels, *, steps, seed, masks=None):
    """Train ``model.classifier`` in place on cached features; re-apply the classifier's masks after each step."""
    from ...train import adam_steps

    head = model.classifier
    keep = {k[len("classifier."):]: torch.from_numpy(m) for k, m in (masks or {}).items()
            if k.startswith("classifier.")}
    params = dict(head.named_parameters())

    def reapply():
        with torch.no_grad():
            for k, m in keep.items():
                params[k].mul_(m)

    torch.manual_seed(seed)
    adam_steps(head, feats.clone(), labels, epochs=100, max_steps=steps, batch_size=128, lr=1e-3,
               gen=np.random.default_rng(seed), progress=False, desc="", after_step=reapply)
    return model.eval()


def cnn_configs(model: nn.Module, train, *, steps: int = 100, channel_steps: int = 120, channel_keeps=(0.75, 0.5),
                seed: int = 0) -> list[Config]:
    """Every technique on the CIFAR-10 CNN; fine-tuning trains the classifier only, on cached features.

    Parameters
    ----------
    model : CifarVGG
        The trained CNN (``load_pretrained("cifar_vgg")``); not modified.
    train : Dataset
        CIFAR-10 training images: calibration (first 200) and the classifier's fine-tuning.
    steps : int, keyword-only
        Adam steps of the classifier (batch 128) for the pruned, SVD and TT models.
    channel_steps : int, keyword-only
        Adam steps of the whole channel-pruned network (batch 32, as notebook 02).
    channel_keeps : sequence of float in (0, 1), keyword-only
        The fractions of every convolution's filters kept (L1); the smallest is also run by the int8 runtime.
    seed : int, keyword-only

    Returns
    -------
    list of Config
        float32, float16, int8 dynamic and full integer (simulated, and run by the int8 runtime), pruned
        90% (global; classifier fine-tuned), ``channel_keeps`` of every convolution's filters (L1; the whole
        network fine-tuned, :func:`~course_lib.summary.nn.runtime.channel_configs`), SVD of the classifier
        (rank 32) + fine-tune, flattened convolutions (rank 1, no fine-tuning: see notebook 07), TT
        classifier (rank 8) + fine-tune, and the combinations with int8 (the smallest channel-pruned one run
        by the int8 runtime). The float32, channel and runtime configurations carry their ``macs``.

    Raises
    ------
    TypeError
        If ``model`` is not the CIFAR-10 CNN, ``train`` not a Dataset, ``steps`` / ``channel_steps`` / ``seed``
        not an int or ``channel_keeps`` not a tuple of numbers.
    ValueError
        If ``train`` holds the other data set's images (or labels out of range), ``steps < 1``,
        ``channel_steps < 1``, ``seed < 0`` or ``channel_keeps`` is not distinct fractions in (0, 1).
    """
    from ...factorization.nn import FLATTENED_LAYERS, factorize_model, flatten_model, tt_model
    from ...pruning import nn as prune_nn
    from ...quantization.nn import model_bytes
    from .runtime import channel_configs, check_keeps

    steps = _check_configs_args(model, train, steps, seed, cnn=True)
    channel_steps = check_int("channel_steps", channel_steps, minimum=1)
    channel_keeps = check_keeps("channel_keeps", channel_keeps)
    model = model.eval()
    macs = prune_nn.count_macs(model)["total"]
    feats = _head_features(model, train.images)
    masks = prune_nn.masks_for(model, SPARSITY, scope="global")
    pruned = prune_nn.apply_masks(model, masks)
    pruned = _train_head(pruned, _head_features(pruned, train.images), train.labels, steps=steps, seed=seed,
                         masks=masks)
    svd = _train_head(factorize_model(model, CNN_SVD_RANKS), feats, train.labels, steps=steps, seed=seed)
    tt = _train_head(tt_model(model, CNN_TT_MODES, 8), feats, train.labels, steps=steps, seed=seed)
    flat = flatten_model(model, list(FLATTENED_LAYERS))
    channels = channel_configs(model, train, steps=channel_steps, keeps=channel_keeps, seed=seed)
    return [Config("float32", "baseline", "none", model, model_bytes(model), macs=macs),
            *_quantized(model, train.images[:200], macs=macs),
            Config(f"pruned {100 * SPARSITY:.0f}% (CSR)", "pruning", "labels", pruned, pruned_bytes(pruned, masks)),
            *channels[:-1],
            Config("SVD classifier", "factorization", "labels", svd, model_bytes(svd)),
            Config("flattened convs (no fine-tune)", "factorization", "none", flat, model_bytes(flat)),
            Config("TT classifier", "factorization", "labels", tt, model_bytes(tt)),
            *_combinations(pruned, masks, svd, tt), channels[-1]]
