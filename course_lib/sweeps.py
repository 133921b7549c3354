"""Turn one knob over values and measure each result: accuracy, bytes and (optionally) latency.

The knob is whatever a technique exposes -- the threshold C, a sparsity, a bit width,
a rank, a TT-rank -- and ``make(value)`` builds the compressed model for it. The
notebooks' sweeps and the explorers use :func:`sweep`, so each row of every sweep is
measured the same way; :func:`plot_sweep` (from :mod:`course_lib.plots`) draws the rows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from ._validation import check_bool, check_choice, check_int, check_model
from .formats import storage_bytes
from .plots.sweeps import plot_sweep  # noqa: F401  (its home before course_lib.plots)

__all__ = ["sweep", "plot_sweep"]


def sweep(values: Sequence, make: Callable, *, images, labels, knob: str = "value",
          size: Callable | str = "float32", latency_batch: int | None = None, progress: bool = False) -> list[dict]:
    """Measure ``make(value)`` for each value of a knob.

    Parameters
    ----------
    values : sequence
        The knob's values, in the order to measure them (not a string).
    make : callable
        ``make(value)`` returns a model (``torch.nn.Module``), or a pair ``(model, extra)``
        with ``extra`` a dict of more columns for the row (e.g. the sparsity reached).
    images, labels : arrays, keyword-only
        The evaluation set (uint8 images as loaded, integer labels).
    knob : str, keyword-only
        The name of the knob's column in the rows (``"C"``, ``"sparsity"``, ``"bits"``...).
    size : str or callable, keyword-only
        A storage format of :func:`course_lib.formats.storage_bytes`, or ``size(model, value)
        -> int`` for the bytes column.
    latency_batch : int or None, keyword-only
        Also time the model on this many images (median ms, 1 thread; shown, never compared).
    progress : bool, keyword-only
        Show a progress bar.

    Returns
    -------
    list of dict
        One row per value: ``{knob: value, "accuracy": float, "bytes": int, ["latency_ms": float], **extra}``.

    Raises
    ------
    TypeError
        If ``values`` is a string or not a sequence, ``make`` or ``size`` is not callable/a format,
        ``make`` returns something that is not a model or ``(model, dict)``, or a callable ``size``
        returns something that is not a whole number.
    ValueError
        If ``values`` is empty, ``images``/``labels`` are not an evaluation set (checked before
        ``make`` is called), a callable ``size`` returns a negative (or non-finite) byte count, or
        ``make``'s extra columns would overwrite the knob, ``accuracy``, ``bytes`` or ``latency_ms``.
    """
    from tqdm.auto import tqdm

    from .measure import accuracy, latency
    from .models import to_tensor

    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"values must be a sequence of knob values, got {type(values).__name__} ({values!r}).")
    if len(values) == 0:
        raise ValueError("values is empty, must hold at least one knob value.")
    if not callable(make):
        raise TypeError(f"make must be callable (value -> model), got {type(make).__name__}.")
    if not isinstance(knob, str) or not knob:
        raise TypeError(f"knob must be a non-empty str, got {knob!r}.")
    if not callable(size):
        from .formats import available_formats

        check_choice("size", size, available_formats())
    latency_batch = check_int("latency_batch", latency_batch, minimum=1, allow_none=True)
    progress = check_bool("progress", progress)
    _check_evaluation_set(images, labels)  # before make() runs: it may train for minutes
    rows = []
    for value in tqdm(values, desc=f"sweep {knob}", disable=not progress):
        made = make(value)
        if isinstance(made, tuple) and len(made) != 2:
            raise TypeError(f"make({value!r}) returned a tuple of {len(made)} items, must return a model "
                            f"or a pair (model, dict of extra columns).")
        model, extra = made if isinstance(made, tuple) else (made, {})
        check_model(model, f"make({value!r})")
        if not isinstance(extra, dict):
            raise TypeError(f"make({value!r}) returned a {type(extra).__name__} beside the model, must be a dict.")
        taken = sorted({knob, "accuracy", "bytes", "latency_ms"} & set(extra))
        if taken:
            raise ValueError(f"make({value!r}) returned the extra column(s) {taken}, must not overwrite the "
                             f"columns sweep measures ({knob!r}, 'accuracy', 'bytes', 'latency_ms').")
        n_bytes = _byte_count(size(model, value), value) if callable(size) else storage_bytes(model, size)
        row = {knob: value, "accuracy": accuracy(model, images, labels), "bytes": int(n_bytes)}
        if latency_batch is not None:
            x = to_tensor(images[:latency_batch])
            row["latency_ms"] = latency(lambda m=model, x=x: m(x), warmup=2, repeats=10).median_ms
        row.update(extra)
        rows.append(row)
    return rows


def _check_evaluation_set(images, labels) -> None:
    """uint8 images (N, H, W) or (N, H, W, 3) and as many integer labels (the model checks the rest)."""
    from ._validation import check_labels

    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise TypeError(f"images must be a uint8 array as returned by course_lib.data, got dtype {arr.dtype}.")
    if arr.ndim not in (3, 4):
        raise ValueError(f"images has shape {arr.shape}, must be (N, H, W) or (N, H, W, 3).")
    if len(check_labels(labels, len(arr))) == 0:
        raise ValueError("labels is empty, must have at least one example.")


def _byte_count(n, value) -> int:
    """What a callable ``size`` returned, checked: a whole number of bytes >= 0."""
    where = f"size(model, {value!r})"
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Real):
        raise TypeError(f"{where} returned {type(n).__name__} ({n!r}), must return an int (a byte count).")
    if not math.isfinite(float(n)) or float(n) != int(n):
        raise TypeError(f"{where} returned {n!r}, must return a whole number of bytes (an int).")
    if n < 0:
        raise ValueError(f"{where} returned {int(n)}, must be >= 0 (a byte count).")
    return int(n)
