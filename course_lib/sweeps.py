"""Turn one knob over values and measure each result: accuracy, bytes and (optionally) latency.

The knob is whatever a technique exposes -- the threshold C, a sparsity, a bit width,
a rank, a TT-rank -- and ``make(value)`` builds the compressed model for it. The
notebooks' sweeps and the explorers use :func:`sweep` and :func:`plot_sweep`, so each
row of every sweep is measured the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._validation import check_bool, check_choice, check_int, check_model
from .formats import storage_bytes

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
        or ``make`` returns something that is not a model.
    ValueError
        If ``values`` is empty.
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
    rows = []
    for value in tqdm(values, desc=f"sweep {knob}", disable=not progress):
        made = make(value)
        model, extra = made if isinstance(made, tuple) else (made, {})
        check_model(model, f"make({value!r})")
        if not isinstance(extra, dict):
            raise TypeError(f"make({value!r}) returned a {type(extra).__name__} beside the model, must be a dict.")
        row = {knob: value, "accuracy": accuracy(model, images, labels),
               "bytes": int(size(model, value) if callable(size) else storage_bytes(model, size))}
        if latency_batch is not None:
            x = to_tensor(images[:latency_batch])
            row["latency_ms"] = latency(lambda m=model, x=x: m(x), warmup=2, repeats=10).median_ms
        row.update(extra)
        rows.append(row)
    return rows


def plot_sweep(rows: list[dict], *, x: str, y: str = "accuracy", ax=None, label: str | None = None,
               logx: bool = False, **style):
    """Plot one column of :func:`sweep`'s rows against another; returns the axes.

    Parameters
    ----------
    rows : list of dict
        As returned by :func:`sweep`.
    x, y : str, keyword-only
        Column names (``y`` defaults to ``"accuracy"``).
    ax : matplotlib Axes or None, keyword-only
        Draw here; a new figure when None.
    label : str or None, keyword-only
        Legend entry.
    logx : bool, keyword-only
        Logarithmic x axis.
    **style
        Passed to ``ax.plot`` (default ``marker="o"``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Raises
    ------
    TypeError
        If ``rows`` is not a non-empty list of dicts, a column name is not a str or ``logx``
        not a bool.
    ValueError
        If a column is not in the rows.
    """
    import matplotlib.pyplot as plt

    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise TypeError("rows must be a non-empty list of dicts, as returned by sweep.")
    for column in (x, y):
        if not isinstance(column, str):
            raise TypeError(f"column names must be str, got {type(column).__name__} ({column!r}).")
        if column not in rows[0]:
            raise ValueError(f"column {column!r} is not in the rows, must be one of {', '.join(map(repr, rows[0]))}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    style.setdefault("marker", "o")
    ax.plot([r[x] for r in rows], [r[y] for r in rows], label=label, **style)
    if check_bool("logx", logx):
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if label is not None:
        ax.legend()
    return ax
