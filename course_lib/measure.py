"""Measuring what compression buys: parameters, accuracy and latency (bytes: :mod:`course_lib.formats`).

:func:`storage_bytes` and :func:`register_format` live in the torch-free
:mod:`course_lib.formats` and are re-exported here.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import check_bool, check_int, check_labels, check_model
from .formats import STORAGE_FORMATS, arrays_of, register_format, storage_bytes
from .layers import num_outputs
from .models import check_images
from .timing import Latency, fixed_threads, latency

__all__ = [
    "count_parameters",
    "storage_bytes",
    "register_format",
    "STORAGE_FORMATS",
    "accuracy",
    "accuracy_difference",
    "paired_difference",
    "count_macs",
    "predict",
    "Latency",
    "latency",
    "fixed_threads",
]


def count_parameters(obj, *, nonzero: bool = False) -> int:
    """Number of parameters (trainable weights and biases) in ``obj``.

    Parameters
    ----------
    obj : torch.nn.Module, tensor, array, or a list or dict of them
        A model counts its ``parameters()``; buffers such as batch-norm statistics
        are not counted.
    nonzero : bool, keyword-only
        Count only non-zero entries -- the measure pruning reports.

    Returns
    -------
    int
    """
    arrays = arrays_of(obj)
    if check_bool("nonzero", nonzero):
        return int(sum(np.count_nonzero(a) for a in arrays))
    return int(sum(a.size for a in arrays))


def predict(model: torch.nn.Module, images, *, batch_size: int = 1000) -> np.ndarray:
    """Predicted class of each uint8 image, computed in batches.

    Parameters
    ----------
    model : torch.nn.Module
        Put in eval mode for the call (its mode is restored after).
    images : uint8 ndarray
        As returned by :mod:`course_lib.data`; a course model checks that they are
        its data set's images (``(N, 28, 28)`` for the MNIST models, ``(N, 32, 32, 3)``
        for the CIFAR-10 CNN).
    batch_size : int, keyword-only

    Returns
    -------
    ndarray of int64, shape (N,)
    """
    check_model(model)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    x_all = check_images(model, images, allow_empty=True)
    was_training = model.training
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(x_all), batch_size):
            out.append(model(x_all[start:start + batch_size]).argmax(1).numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def accuracy(model: torch.nn.Module, images, labels, *, batch_size: int = 1000) -> float:
    """Fraction of ``images`` (uint8, as loaded) that ``model`` classifies as ``labels``.

    Parameters
    ----------
    model : torch.nn.Module
    images : uint8 ndarray
        As for :func:`predict`.
    labels : 1-D integer array, shape (N,)
        Class indices; a column ``(N, 1)``, a one-hot matrix, another length or a class
        the model does not have are refused (they would give a wrong number silently).
    batch_size : int, keyword-only

    Returns
    -------
    float in [0, 1]
    """
    check_model(model)
    labels = check_labels(labels, len(check_images(model, images, allow_empty=True)), num_classes=num_outputs(model))
    if len(labels) == 0:
        raise ValueError("labels is empty, must have at least one example.")
    return float(np.mean(predict(model, images, batch_size=batch_size) == labels))


def accuracy_difference(model_a: torch.nn.Module, model_b: torch.nn.Module, images, labels, *,
                        batch_size: int = 1000) -> tuple[float, float]:
    r"""``accuracy(model_b) - accuracy(model_a)`` on the same images, and its standard error.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        E.g. the float32 model and its quantized copy.
    images, labels
        As for :func:`accuracy`.
    batch_size : int, keyword-only

    Returns
    -------
    (difference, standard_error) : (float, float)
        Fractions (multiply by 100 for points).

    Raises
    ------
    TypeError, ValueError
        For a model that is not a ``torch.nn.Module``, or images and labels as :func:`accuracy` refuses them.

    Notes
    -----
    ``paired_difference(predict(model_a, images), predict(model_b, images), labels)``: see
    :func:`paired_difference`, which takes predictions already computed (a notebook that
    scored its models once need not run them again).
    """
    check_model(model_a, "model_a")
    check_model(model_b, "model_b")
    n_images = len(check_images(model_a, images, allow_empty=True))
    labels = check_labels(labels, n_images, num_classes=num_outputs(model_a))
    if len(labels) == 0:
        raise ValueError("labels is empty, must have at least one example.")
    return paired_difference(predict(model_a, images, batch_size=batch_size),
                             predict(model_b, images, batch_size=batch_size), labels)


def paired_difference(predictions_a, predictions_b, labels) -> tuple[float, float]:
    r"""Accuracy of ``predictions_b`` minus that of ``predictions_a`` on the same images, and its standard error.

    Parameters
    ----------
    predictions_a, predictions_b : 1-D integer arrays, shape (N,)
        Predicted classes of two models on the same ``N`` images (:func:`predict`).
    labels : 1-D integer array, shape (N,)
        The true classes.

    Returns
    -------
    (difference, standard_error) : (float, float)
        Fractions (multiply by 100 for points).

    Raises
    ------
    TypeError
        If an argument is not an array of integer class indices.
    ValueError
        If the three differ in length, are not 1-D, hold a negative class, or are empty.

    Notes
    -----
    The two models are scored on the *same* images, so the difference is the mean of the
    paired per-image differences :math:`d_i = [b_i \text{ right}] - [a_i \text{ right}] \in \{-1, 0, 1\}`,
    with standard error :math:`\operatorname{sd}(d) / \sqrt{n}` -- only the images the
    two models disagree on contribute. On 1,000 images one image is 0.1 point: a
    difference of 0.2 points with a standard error of 0.15 is noise.

    Examples
    --------
    >>> paired_difference([0, 1, 1, 0], [0, 1, 0, 0], [0, 1, 0, 1])
    (0.25, 0.25)
    """
    labels = check_labels(labels)
    if len(labels) == 0:
        raise ValueError("labels is empty, must have at least one example.")
    right = []
    for name, predictions in (("predictions_a", predictions_a), ("predictions_b", predictions_b)):
        predictions = check_labels(predictions, name=name)
        if len(predictions) != len(labels):
            raise ValueError(f"{name} has {len(predictions)} prediction(s) and labels {len(labels)}, "
                             f"must be equal (one per image).")
        right.append(predictions == labels)
    right_a, right_b = right
    d = right_b.astype(np.float64) - right_a.astype(np.float64)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
    return float(d.mean()), se


def count_macs(model: torch.nn.Module, images) -> dict[str, int]:
    r"""Multiply-adds per image of every Linear and Conv2d layer, measured on a forward pass.

    Parameters
    ----------
    model : torch.nn.Module
    images : uint8 ndarray
        One or more images the model reads (only their shape matters).

    Returns
    -------
    dict of str -> int
        ``{"conv1": 288000, ..., "total": ...}`` in module order, per image.

    Notes
    -----
    A Linear layer ``n -> m`` costs :math:`nm` multiply-adds per image; a Conv2d with
    :math:`C_{in}` input channels, a :math:`k_h \times k_w` kernel, ``groups`` groups and an
    output of :math:`C_{out} \times H' \times W'` costs
    :math:`C_{out} H' W' \cdot (C_{in} / \text{groups})\, k_h k_w` -- each weight is reused at
    every output position, which is why convolutions do most of the arithmetic with few parameters.
    Biases, activations and pooling are not counted.
    """
    from .layers import weight_layers

    layers = weight_layers(check_model(model))
    x = check_images(model, images)
    macs: dict[str, int] = {}

    def hook_for(name, layer):
        def hook(module, inputs, output):
            if isinstance(layer, torch.nn.Linear):
                per = layer.in_features * layer.out_features
            else:
                kh, kw = layer.kernel_size
                per = output[0].numel() * (layer.in_channels // layer.groups) * kh * kw
            macs[name] = int(per)
        return hook

    handles = [layer.register_forward_hook(hook_for(name, layer)) for name, layer in layers.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(x[:1])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    macs = {name: macs[name] for name in layers if name in macs}
    macs["total"] = sum(macs.values())
    return macs

