"""The Vision Transformer's variants as summary configurations: what notebook 11 builds, measured like the rest.

Built by :mod:`course_lib.llmquant.nn` (nothing is reimplemented here), on the trained ``vit_mnist``:

* weight-only group-wise quantization of the 24 block Linears (groups of :data:`GROUP_SIZE`), by
  round-to-nearest, GPTQ and AWQ at 4 and 3 bits; ``bytes`` the exact stored bytes
  (:func:`~course_lib.llmquant.nn.vit_bytes`), ``model`` the runtime that keeps the packed codes and
  dequantizes them per group in every forward (:func:`~course_lib.llmquant.nn.runtime_vit`: there is no
  int4 kernel on a CPU, so its latency is float32's plus the dequantization);
* W8A8 on PyTorch's quantized engine, without and with SmoothQuant (:func:`~course_lib.llmquant.nn.w8a8_vit`);
* attention heads removed by importance (:func:`~course_lib.llmquant.nn.prune_heads`) and the smaller model
  fine-tuned, alone and then through 4-bit GPTQ (groups of 16: a block left with 3 heads has 48
  columns in its ``proj``);
* 2-bit GPTQ with rank-:data:`LORA_RANK` LoRA adapters trained on top of the frozen quantized weights; its
  ``bytes`` the 2-bit model's plus the adapters at float32 (kept beside the codes, as QLoRA keeps them), its
  ``model`` the adapters on the dequantized float weights.
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_int, check_model
from .configs import Config

__all__ = ["GROUP_SIZE", "LORA_RANK", "HEADS_KEPT", "CALIBRATION_IMAGES", "WEIGHT_ONLY", "vit_quantized",
           "vit_configs"]

#: input columns per group of every weight-only configuration
GROUP_SIZE = 32
#: the rank of the LoRA adapters on the 2-bit model
LORA_RANK = 4
#: attention heads kept (of 16) in the head-pruned configurations
HEADS_KEPT = 12
#: training images used (without labels) to calibrate GPTQ, AWQ and SmoothQuant
CALIBRATION_IMAGES = 128
#: the weight-only (method, bits) pairs, in the table's order
WEIGHT_ONLY = (("rtn", 4), ("gptq", 4), ("awq", 4), ("rtn", 3), ("gptq", 3), ("awq", 3))
_NAMES = {"rtn": "RTN", "gptq": "GPTQ", "awq": "AWQ"}


def vit_quantized(model, calibration, pairs=WEIGHT_ONLY, *, group_size: int = GROUP_SIZE) -> dict:
    """``{(method, bits): QuantizedViT}`` for each pair, calibrated on the same images.

    Parameters
    ----------
    model : MnistViT
        Not modified.
    calibration : uint8 ndarray
        Training images (no labels).
    pairs : sequence of (str, int)
        ``(method, bits)`` as :func:`course_lib.llmquant.nn.quantize_vit` takes them.
    group_size : int, keyword-only

    Returns
    -------
    dict
    """
    from ...llmquant.nn import quantize_vit

    check_model(model)
    if not isinstance(pairs, (list, tuple)) or not pairs or not all(isinstance(p, tuple) and len(p) == 2
                                                                    for p in pairs):
        raise TypeError(f"pairs must be a non-empty sequence of (method, bits) tuples, got {pairs!r}.")
    return {(m, b): quantize_vit(model, calibration, method=m, bits=b, group_size=group_size) for m, b in pairs}


def _fine_tuned(model, train, steps: int, seed: int):
    from ...models import to_tensor
    from ...train import adam_steps

    return adam_steps(model, to_tensor(train.images), train.labels, epochs=10 ** 6, max_steps=steps, batch_size=64,
                      lr=1e-3, gen=np.random.default_rng(seed), progress=False, desc="fine-tune")


def vit_configs(model, train, *, head_steps: int, lora_steps: int, quantized: dict | None = None,
                importance=None, seed: int = 0) -> list:
    """Every variant of the ViT as a :class:`~course_lib.summary.nn.configs.Config`, ready for ``measure_configs``.

    Parameters
    ----------
    model : MnistViT
        The trained ViT (``cl.load_pretrained("vit_mnist")``); not modified.
    train : Dataset
        MNIST training images and labels: the first :data:`CALIBRATION_IMAGES` calibrate (no labels); all of
        them fine-tune the head-pruned model and train the adapters.
    head_steps, lora_steps : int, keyword-only
        Adam steps (batches of 64) fine-tuning the head-pruned model, and training the adapters.
    quantized : dict or None, keyword-only
        :func:`vit_quantized`'s result on the same calibration images, if already computed (a notebook
        reuses its own); it must hold every pair of :data:`WEIGHT_ONLY` (and ``("gptq", 2)`` is used when there).
    importance : array or None, keyword-only
        :func:`~course_lib.llmquant.nn.head_importance` on the calibration images, if already computed.
    seed : int, keyword-only

    Returns
    -------
    list of Config
        float32; the six weight-only ones; W8A8 and W8A8 + SmoothQuant; heads pruned (+ GPTQ int4);
        GPTQ int2 + LoRA.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a MnistViT, a bad step count, or ``quantized`` missing a pair.
    """
    from ...data import Dataset
    from ...llmquant.nn import (
        add_lora,
        finetune_lora,
        float_vit_bytes,
        head_importance,
        heads_to_keep,
        lora_parameters,
        prune_heads,
        quantize_vit,
        runtime_vit,
        w8a8_vit,
    )
    from ...llmquant.nn.capture import check_vit

    check_vit(model)
    if not isinstance(train, Dataset):
        raise TypeError(f"train must be a Dataset (cl.load_mnist('train', limit=...)), got {type(train).__name__}.")
    head_steps = check_int("head_steps", head_steps, minimum=0)
    lora_steps = check_int("lora_steps", lora_steps, minimum=0)
    calib = train.images[:CALIBRATION_IMAGES]
    if quantized is None:
        quantized = vit_quantized(model, calib)
    missing = [p for p in WEIGHT_ONLY if p not in quantized]
    if missing:
        raise ValueError(f"quantized lacks {missing}, must hold every (method, bits) of WEIGHT_ONLY.")

    configs = [Config("float32", "baseline", "none", model.eval(), float_vit_bytes(model))]
    for method, bits in WEIGHT_ONLY:
        q = quantized[(method, bits)]
        configs.append(Config(f"int{bits} {_NAMES[method]} (g{GROUP_SIZE})", "quantization",
                              "none" if method == "rtn" else "sample", runtime_vit(q), q.bytes))
    for alpha, name in ((None, "W8A8 (int8 engine)"), (0.5, "W8A8 + SmoothQuant (int8 engine)")):
        m = w8a8_vit(model, calib, alpha=alpha)
        configs.append(Config(name, "quantization", "sample", m, m.bytes))

    if importance is None:
        importance = head_importance(model, calib, train.labels[:CALIBRATION_IMAGES])
    keep = heads_to_keep(importance, HEADS_KEPT)
    pruned = _fine_tuned(prune_heads(model, keep), train, head_steps, seed)
    configs.append(Config(f"{HEADS_KEPT} of 16 heads + fine-tuning", "pruning", "labels", pruned,
                          float_vit_bytes(pruned)))
    # a block with 3 heads feeds proj 48 columns: groups of 16 divide every head count
    q = quantize_vit(pruned, calib, method="gptq", bits=4, group_size=16)
    configs.append(Config(f"{HEADS_KEPT} heads + fine-tuning + int4 GPTQ (g16)", "combination", "labels",
                          runtime_vit(q), q.bytes))

    q2 = quantized.get(("gptq", 2)) or quantize_vit(model, calib, method="gptq", bits=2, group_size=GROUP_SIZE)
    lora = finetune_lora(add_lora(q2.model, LORA_RANK, seed=seed), train.images, train.labels, steps=lora_steps,
                         seed=seed, progress=False)
    configs.append(Config(f"int2 GPTQ + LoRA r{LORA_RANK}", "combination", "labels", lora,
                          q2.bytes + 4 * lora_parameters(lora).adapters))
    return configs
