"""The Pareto chart of a measured table (notebook 09): accuracy against a cost, the front as a staircase.

The table's columns and its check live here too: the chart draws the numbers itself.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_bool, check_choice, check_float
from ..summary.decisions import check_rows as check_table_rows
from ..summary.pareto import pareto_front
from .labels import bytes_label, place_labels

__all__ = ["pareto_plot", "check_rows", "COSTS"]

#: the cost columns of a measured table and how they are shown
COSTS = {"bytes": "stored bytes", "ms_1": "ms per image (batch 1, 1 thread)",
         "ms_100": "ms per 100 images (1 thread)"}
_COLUMNS = ("model", "name", "family", "accuracy", *COSTS)
_FAMILIES = ("baseline", "pruning", "quantization", "factorization", "combination")
_MARKERS = dict(zip(_FAMILIES, ("*", "o", "s", "^", "D")))


def check_rows(rows) -> list[dict]:
    """Check a measured table (:func:`course_lib.summary.nn.measure_configs`'s rows).

    Parameters
    ----------
    rows : sequence of mapping
        Each with ``model``, ``name``, ``family``, ``accuracy``, ``bytes``, ``ms_1`` and ``ms_100``.

    Returns
    -------
    list of dict

    Raises
    ------
    TypeError
        If ``rows`` is not a non-empty sequence of mappings, a name is not a str or a cost not a number.
    ValueError
        If a row misses a column, has an unknown family, an accuracy that is not a fraction (a percentage),
        a cost that is not finite and > 0, or two rows share a model and a name.
    """
    out = check_table_rows(rows, _COLUMNS)
    for i, r in enumerate(out):
        check_choice(f"rows[{i}]['family']", r["family"], _FAMILIES)
        for c in COSTS:  # the charts draw the numbers themselves (a Measured time has no single x)
            if isinstance(r[c], bool) or not isinstance(r[c], numbers.Real):
                raise TypeError(f"rows[{i}][{c!r}] must be a number, got {type(r[c]).__name__}.")
    return out


def pareto_plot(rows, cost: str = "bytes", *, ax=None, highlight: str | None = None, budget: float | None = None,
                labels: bool = True, xlim=None, legend: bool = True):
    """Accuracy against ``cost`` for one model's configurations, the Pareto front as a staircase.

    Labels never overlap: the configurations on the front are named beside their points
    (:func:`place_labels`); the others -- and a front point whose name finds no free place -- get a number,
    keyed to the names under the legend (outside the axes, on the right). Lay the figure out
    (size, ``subplots_adjust``) before calling: the labels are placed for the axes as they are.

    Parameters
    ----------
    rows : sequence of mapping
        One model's measured configurations (see :func:`check_rows`).
    cost : {"bytes", "ms_1", "ms_100"}
        The x axis (log scale: the costs span decades).
    ax : matplotlib Axes or None, keyword-only
        Where to draw (default: a new figure).
    highlight : str or None, keyword-only
        The name of a configuration to ring in red.
    budget : float or None, keyword-only
        A vertical line at this cost.
    labels : bool, keyword-only
        Name (or number) the points.
    xlim : (float, float) or None, keyword-only
        The x range (default: the costs, with a margin).
    legend : bool, keyword-only
        Draw the legend (families, the front) and the key of the numbered configurations to the right of
        the axes.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    TypeError
        As :func:`check_rows`; if ``ax`` is not a matplotlib Axes, ``highlight`` not a str, ``budget`` not a
        number, ``labels`` or ``legend`` not a bool, or ``xlim`` not a pair of numbers.
    ValueError
        As :func:`check_rows`; for an unknown ``cost``, rows of more than one model, a ``highlight`` that names
        no row, a ``budget`` that is not finite and > 0, or an ``xlim`` that is not ``0 < low < high``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    rows = check_rows(rows)
    cost = check_choice("cost", cost, tuple(COSTS))
    models = list(dict.fromkeys(r["model"] for r in rows))
    if len(models) > 1:
        raise ValueError(f"rows hold the models {models}, must be one model's configurations "
                         f"([r for r in rows if r['model'] == ...]).")
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}.")
    if highlight is not None:
        check_choice("highlight", highlight, [r["name"] for r in rows])
    budget = check_float("budget", budget, low=0.0, low_open=True, allow_none=True)
    labels, legend = check_bool("labels", labels), check_bool("legend", legend)
    if xlim is not None:
        if isinstance(xlim, (str, bytes)) or not isinstance(xlim, (tuple, list)) or len(xlim) != 2:
            raise TypeError(f"xlim must be a (low, high) pair or None, got {type(xlim).__name__}.")
        xlim = tuple(check_float(f"xlim[{i}]", v, low=0.0, low_open=True) for i, v in enumerate(xlim))
        if xlim[0] >= xlim[1]:
            raise ValueError(f"xlim == {xlim!r}, must have low < high.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 3.5))
        fig.subplots_adjust(left=0.1, right=0.62, bottom=0.15, top=0.9)
    acc = np.array([100 * r["accuracy"] for r in rows])
    x = np.array([float(r[cost]) for r in rows])
    front = pareto_front(acc, x)
    handles = []
    for i, fam in enumerate(_FAMILIES):
        mine = [j for j, r in enumerate(rows) if r["family"] == fam]
        if mine:
            handles.append(ax.scatter(x[mine], acc[mine], marker=_MARKERS[fam], color=f"C{i}", s=40, label=fam,
                                      zorder=3))
    handles += ax.step(x[front], acc[front], where="post", color="gray", lw=1, ls="--", label="Pareto front",
                       zorder=2)
    if highlight is not None:
        j = [r["name"] for r in rows].index(highlight)
        ax.scatter([x[j]], [acc[j]], s=180, facecolors="none", edgecolors="red", lw=2, zorder=4)
    if budget is not None:
        ax.axvline(budget, color="red", lw=1, ls=":")
    ax.set_xscale("log")
    if xlim is None:
        lo, hi = float(x.min()), float(x.max())
        xlim = (lo / 10 ** 0.15, hi * 10 ** 0.15) if lo > 0 else None
    if xlim is not None:
        ax.set_xlim(*xlim)
    span = max(float(acc.max() - acc.min()), 1.0)
    ax.set_ylim(float(acc.min()) - 0.12 * span, float(acc.max()) + 0.12 * span)
    lo, hi = ax.get_xlim()
    if hi / lo < 100:  # under two decades: ticks between the decades, plain numbers (else one lone decade)
        subs = (1.0, 2.0, 5.0) if hi / lo >= 8 else tuple(float(k) for k in range(1, 10))
        ax.xaxis.set_major_locator(LogLocator(subs=subs, numticks=12))
        ax.xaxis.set_major_formatter(FuncFormatter(bytes_label if cost == "bytes" else lambda v, _pos: f"{v:g}"))
    else:
        ax.xaxis.set_major_locator(LogLocator(numticks=6))
    ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks are most of a redraw's time
    ax.set_xlabel(COSTS[cost])
    ax.set_ylabel("test accuracy, %")
    numbered = []
    if labels:
        on_front = [int(i) for i in front]
        off = [j for j in range(len(rows)) if j not in set(on_front)]
        names = [r["name"] for r in rows]
        taken, points = [], np.column_stack([x, acc])
        unnamed = place_labels(ax, x, acc, names, order=on_front, taken=taken, markers=points)
        numbered = sorted(unnamed + off, key=lambda j: (x[j], -acc[j]))
        keys = {j: str(n) for n, j in enumerate(numbered, 1)}
        place_labels(ax, x[numbered], acc[numbered], [keys[j] for j in numbered], taken=taken, markers=points)
    ax.numbered = [rows[j]["name"] for j in numbered]  # the key, for a caller and the tests
    if legend:
        ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  frameon=False)
        if numbered:  # one text, not legend entries: a legend's layout is most of a redraw's time
            ax.text(1.04, 0.0, "\n".join(f"{n}: {name}" for n, name in enumerate(ax.numbered, 1)), fontsize=6,
                    transform=ax.transAxes, ha="left", va="bottom", linespacing=1.5, gid="key")
    return ax
