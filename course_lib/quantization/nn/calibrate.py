"""Calibration: the range of every layer's input on a sample of images."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_choice,
    check_float,
    check_float_array,
    check_int,
    check_positive_float,
)
from ...layers import weight_layers
from ...models import check_images
from ..ranges import observed_range

__all__ = ["calibrate", "calibration_range", "check_ranges", "CALIBRATION_METHODS"]

CALIBRATION_METHODS = ("minmax", "maxabs", "percentile")


def check_ranges(ranges, names) -> dict[str, tuple[float, float]]:
    if not isinstance(ranges, dict):
        raise TypeError(f"ranges must be a dict of layer name -> (low, high) as returned by calibrate, "
                        f"got {type(ranges).__name__}.")
    names = list(names)
    expected = ", ".join(repr(n) for n in names)
    unknown = [n for n in ranges if n not in names]
    if unknown:
        raise ValueError(f"ranges has unknown layer name(s) {unknown}, must be among {expected}.")
    missing = [n for n in names if n not in ranges]
    if missing:
        raise ValueError(f"ranges is missing layer(s) {missing}, must have one (low, high) pair per "
                         f"quantized layer: {expected}.")
    checked = {}
    for name in names:
        pair = ranges[name]
        ok = (isinstance(pair, (tuple, list)) and len(pair) == 2
              and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) for v in pair)
              and pair[0] <= pair[1])
        if not ok:
            raise ValueError(f"ranges[{name!r}] == {pair!r}, must be a pair (low, high) of finite numbers "
                             f"with low <= high.")
        checked[name] = (float(pair[0]), float(pair[1]))
    return checked



def calibrate(model: nn.Module, images, *, method: str = "minmax", percentile: float = 99.99,
              batch_size: int = 500) -> dict[str, tuple[float, float]]:
    """The range ``(low, high)`` of the input of every Linear / Conv2d layer on a sample of images.

    Parameters
    ----------
    model : torch.nn.Module
        A float model; run in eval mode (then restored), not modified.
    images : uint8 ndarray
        A small representative *unlabeled* sample (a few hundred training images), as
        returned by :mod:`course_lib.data`.
    method : {"minmax", "maxabs", "percentile"}, keyword-only
        ``"minmax"``: the smallest and largest value seen;
        ``"maxabs"``: ``(-a, a)`` with ``a = max|x|``, the symmetric range of the seed's
        int8 scheme -- for a ReLU output half of the codes go to negative values that
        never occur;
        ``"percentile"``: the ``100 - percentile`` and ``percentile`` percentiles of all
        values, which clips rare outliers to get a finer step for the rest.
    percentile : float in (50, 100], keyword-only
    batch_size : int, keyword-only

    Returns
    -------
    dict of str -> (float, float)
        Keyed by module name (``"fc1"``, ``"features.0"``), in module order -- the
        ``ranges`` argument of :func:`ptq_full_integer` and :func:`prepare_qat`.

    Notes
    -----
    The values are collected with forward pre-hooks. ``"percentile"`` keeps every value
    of every layer input in memory (``len(images)`` times the largest layer input).
    Folding batch norm does not change any layer input, so the ranges of ``model``
    serve its folded copy too.
    """
    layers = weight_layers(model)
    method = check_choice("method", method, CALIBRATION_METHODS)
    percentile = check_positive_float("percentile", percentile)
    if not 50 < percentile <= 100:
        hint = " (a percentage: 99.99, not the fraction 0.9999)" if percentile <= 1 else ""
        raise ValueError(f"percentile == {percentile}, must be in (50, 100]{hint}.")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    x_all = check_images(model, images)

    seen: dict[str, list] = {name: [] for name in layers}

    def hook_for(name):
        def hook(module, inputs):
            x = inputs[0].detach()
            if method == "percentile":
                seen[name].append(x.flatten().numpy().copy())
            else:
                lo, hi = torch.aminmax(x)
                seen[name].append((float(lo), float(hi)))
        return hook

    handles = [layer.register_forward_pre_hook(hook_for(name)) for name, layer in layers.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(x_all), batch_size):
                model(x_all[start:start + batch_size])
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    ranges = {}
    for name, values in seen.items():
        if method == "percentile":
            ranges[name] = calibration_range(np.concatenate(values), method=method, percentile=percentile)
        else:  # only each batch's extremes were kept: the range of the extremes is the range of all
            ranges[name] = calibration_range(np.array([v for pair in values for v in pair]), method=method)
    return ranges


def calibration_range(values, *, method: str = "minmax", percentile: float = 99.99) -> tuple[float, float]:
    r"""The range ``(low, high)`` one layer's input is quantized with, from the values seen.

    Parameters
    ----------
    values : array_like of floats
        The layer's inputs on a calibration sample (any shape; finite, not empty).
    method : {"minmax", "maxabs", "percentile"}, keyword-only
        As in :func:`calibrate`.
    percentile : float in (50, 100], keyword-only

    Returns
    -------
    (float, float)
        ``low <= high``.

    Notes
    -----
    ``"minmax"``: :math:`(\min x, \max x)`; ``"maxabs"``: :math:`(-a, a)`, :math:`a = \max |x|`;
    ``"percentile"``: ``np.percentile(x, [100 - p, p])`` (linear interpolation).

    Examples
    --------
    >>> calibration_range([0.0, 1.0, 3.0], method="maxabs")
    (-3.0, 3.0)
    """
    x = check_float_array("values", values).ravel()
    method = check_choice("method", method, CALIBRATION_METHODS)
    percentile = check_float("percentile", percentile)
    if not 50 < percentile <= 100:
        hint = " (a percentage: 99.99, not the fraction 0.9999)" if percentile <= 1 else ""
        raise ValueError(f"percentile == {percentile}, must be in (50, 100]{hint}.")
    # the one range-selection path of the course (quantization.ranges): "minmax" is its asymmetric max-abs
    way, symmetric = {"minmax": ("maxabs", False), "maxabs": ("maxabs", True),
                      "percentile": ("percentile", False)}[method]
    lo, hi = observed_range(x[None, :], way, percentile, 8, symmetric)
    return float(lo[0]), float(hi[0])
