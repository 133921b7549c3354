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
