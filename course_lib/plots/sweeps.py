"""The curve of a knob sweep: one column of :func:`course_lib.sweeps.sweep`'s rows against another."""

from __future__ import annotations

from .._validation import check_bool

__all__ = ["plot_sweep"]


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
        If ``rows`` is not a non-empty list of dicts, a column name or ``label`` is not a str or
        ``logx`` not a bool.
    ValueError
        If a column is not in every row.
    """
    import matplotlib.pyplot as plt

    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise TypeError(f"rows must be a non-empty list of dicts, as returned by sweep, got {type(rows).__name__}.")
    for label_, column in (("x", x), ("y", y)):
        if not isinstance(column, str):
            raise TypeError(f"{label_} must be a str (a column name), got {type(column).__name__} ({column!r}).")
        for i, row in enumerate(rows):
            if column not in row:
                raise ValueError(f"{label_} == {column!r} is not a column of rows[{i}], must be one of "
                                 f"{', '.join(map(repr, row))}.")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a str or None, got {type(label).__name__} ({label!r}).")
    logx = check_bool("logx", logx)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    style.setdefault("marker", "o")
    ax.plot([r[x] for r in rows], [r[y] for r in rows], label=label, **style)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if label is not None:
        ax.legend()
    return ax
