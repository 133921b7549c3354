"""Measuring the int8 runtime: agreement with the NumPy reference, accuracy, latency against float32."""

from __future__ import annotations

import numpy as np
import torch

from ..._validation import check_choice, check_int, check_model
from ...models import to_tensor
from ...timing import cpu_capability, latency
from ..int8_reference import Int8Reference
from .fold import fold_batchnorm
from .int8_runtime import Int8Model, build_int8_model

__all__ = ["int8_agreement", "int8_latency", "int8_accuracy", "INT8_MODELS"]

#: the models of the int8 runtime: name -> (data set loader name, test images used for accuracy)
INT8_MODELS = {"lenet300": ("mnist", None), "cifar_vgg": ("cifar10", 2000)}


def _check_int8(int8_model):
    if not isinstance(int8_model, Int8Model):
        raise TypeError(f"int8_model must be an Int8Model (build_int8_model), got {type(int8_model).__name__}.")
    return int8_model


def int8_agreement(int8_model: Int8Model, images) -> dict:
    """How exactly the torch runtime's codes match :class:`Int8Reference` on ``images``.

    Parameters
    ----------
    int8_model : Int8Model
    images : uint8 ndarray
        The model's data set's images.

    Returns
    -------
    dict
        ``"end_to_end"``: each run on its own (differences propagate), ``"per_step"``: each reference step
        given the runtime's input codes of that step (one layer's arithmetic alone); each a dict with
        ``"equal"`` (the fraction of activation codes exactly equal, all steps together) and
        ``"max_diff"`` (the largest difference in codes); ``"predictions_agree"``: the fraction of
        images both predict the same class for; ``"n_images"``, ``"engine"``, ``"capability"``.
    """
    _check_int8(int8_model)
    ref = Int8Reference(int8_model.spec)
    x = to_tensor(images)
    mine = int8_model.codes(x)
    theirs = ref.codes(images)
    forced = [mine[0]] + [ref.step(i, mine[i]) for i in range(len(int8_model.spec["steps"]))]

    def summary(a_list, b_list):
        total = sum(a.size for a in a_list)
        equal = sum(int(np.count_nonzero(a == b)) for a, b in zip(a_list, b_list))
        return {"equal": equal / total, "max_diff": max(int(np.abs(a - b).max()) for a, b in zip(a_list, b_list))}

    pred_torch = int8_model.predict(x)
    pred_ref = ref.predict(images)
    return {"end_to_end": summary(mine, theirs), "per_step": summary(mine, forced),
            "predictions_agree": float(np.mean(pred_torch == pred_ref)), "n_images": len(x),
            "engine": int8_model.engine, "capability": cpu_capability()}


def int8_latency(model, int8_model: Int8Model, images, *, batches=(1, 100), repeats: int = 20,
                 warmup: int = 3) -> dict:
    """Median latency (one thread) of the int8 model and of float32 (batch norm folded) at each batch size.

    Parameters
    ----------
    model : torch.nn.Module
        The float model ``int8_model`` was built from.
    int8_model : Int8Model
    images : uint8 ndarray
        At least ``max(batches)`` images of the model's data set.
    batches : sequence of int, keyword-only
    repeats, warmup : int, keyword-only
        As :func:`course_lib.timing.latency`.

    Returns
    -------
    dict
        ``"capability"`` (``torch.backends.cpu.get_cpu_capability()``), ``"engine"`` and ``"rows"``: one
        dict per batch size with ``"batch"``, ``"float32_ms"``, ``"int8_ms"``, ``"speedup"`` (float / int8).
    """
    check_model(model)
    _check_int8(int8_model)
    batches = [check_int("batches", b, minimum=1) for b in batches]
    repeats = check_int("repeats", repeats, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    x_all = to_tensor(images)
    if len(x_all) < max(batches):
        raise ValueError(f"images has {len(x_all)} image(s), must have at least max(batches) == {max(batches)}.")
    folded = fold_batchnorm(model)
    rows = []
    for b in batches:
        x = x_all[:b].contiguous()
        f32 = latency(lambda x=x: folded(x), repeats=repeats, warmup=warmup, threads=1).median_ms
        i8 = latency(lambda x=x: int8_model(x), repeats=repeats, warmup=warmup, threads=1).median_ms
        rows.append({"batch": b, "float32_ms": f32, "int8_ms": i8, "speedup": f32 / i8})
    return {"capability": torch.backends.cpu.get_cpu_capability(), "engine": int8_model.engine, "rows": rows}


def int8_accuracy(name: str, *, calibration: int = 500, method: str = "percentile") -> dict:
    """Accuracy of the int8 runtime, float32 and the fake-quantized PTQ of notebook 05 on the test images.

    Parameters
    ----------
    name : {"lenet300", "cifar_vgg"}
        The pretrained model; tested on all 10,000 MNIST test images or the first 2,000 of CIFAR-10.
    calibration : int, keyword-only
        The first ``calibration`` training images calibrate the ranges (the same for both quantized models).
    method : str, keyword-only
        Calibration method (:func:`~course_lib.quantization.nn.calibrate.calibrate`).

    Returns
    -------
    dict
        ``"float32"``, ``"int8"``, ``"fake_quant_ptq"`` accuracies (fractions), ``"n_test"``, and the
        models ``"int8_model"``, ``"model"`` (float32) for further use.
    """
    from ... import data
    from ...checkpoints import load_pretrained
    from ...measure import accuracy
    from .calibrate import calibrate
    from .ptq import ptq_full_integer

    name = check_choice("name", name, tuple(INT8_MODELS))
    calibration = check_int("calibration", calibration, minimum=1)
    dataset, limit = INT8_MODELS[name]
    load = data.load_mnist if dataset == "mnist" else data.load_cifar10
    train, test = load("train", limit=calibration), load("test", limit=limit)
    model = load_pretrained(name)
    int8_model = build_int8_model(model, train.images, method=method)
    fake = ptq_full_integer(model, calibrate(model, train.images, method=method))
    return {"float32": accuracy(model, test.images, test.labels),
            "int8": float(np.mean(int8_model.predict(test.images) == test.labels)),
            "fake_quant_ptq": accuracy(fake, test.images, test.labels), "n_test": len(test.labels),
            "model": model, "int8_model": int8_model}
