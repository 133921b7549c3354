"""Tick labels and point labels that cost little to draw: plain-text decades, bytes in decimal units, and
labels placed beside their points without overlapping."""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_float_array, check_int

__all__ = ["decade_ticks", "place_labels", "bytes_label", "LABEL_SIZE"]


_SUPERSCRIPTS = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _decade_label(value, _pos=None) -> str:
    exponent = np.log10(value) if value > 0 else np.nan
    if not np.isfinite(exponent) or abs(exponent - round(exponent)) > 1e-6:
        return ""
    return "10" + str(int(round(exponent))).translate(_SUPERSCRIPTS)


def decade_ticks(axis) -> None:
    """Label a log axis's decades as plain text (``10³``, ``10⁻²``), its minor ticks not at all.

    Matplotlib's default log labels are mathtext (``$10^{3}$``): parsing them is most of the time an
    explorer's redraw takes. Unicode superscripts show the same numbers as ordinary text.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        A log-scaled axis (``ax.xaxis`` or ``ax.yaxis``).

    Raises
    ------
    TypeError
        If ``axis`` is not a matplotlib Axis.
    """
    from matplotlib.axis import Axis
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if not isinstance(axis, Axis):
        raise TypeError(f"axis must be a matplotlib Axis (ax.xaxis or ax.yaxis), got {type(axis).__name__}.")
    axis.set_major_formatter(FuncFormatter(_decade_label))
    axis.set_minor_formatter(NullFormatter())


#: candidate label positions around a point: (dx, dy) in points, horizontal and vertical alignment
_SPOTS = tuple((dx * k, dy * k, ha, va) for k in (1, 2, 3) for dx, dy, ha, va in (
    (6, 0, "left", "center"), (-6, 0, "right", "center"), (0, 6, "center", "bottom"), (0, -6, "center", "top"),
    (5, 5, "left", "bottom"), (5, -5, "left", "top"), (-5, 5, "right", "bottom"), (-5, -5, "right", "top")))


LABEL_SIZE = 6.5


def bytes_label(value, _pos=None) -> str:
    """A tick of a bytes axis in decimal units: ``50 kB``, ``2 MB``.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN, infinite or negative.
    """
    value = check_float("value", value, low=0.0)
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:g} {unit}"
    return f"{value:g} B"


def _text_box(ax, x, y, text, spot, fontsize):
    """The display box (x0, y0, x1, y1) a label would take, estimated without drawing (fast)."""
    px, py = ax.transData.transform((x, y))
    scale = ax.figure.dpi / 72
    w, h = (0.64 * fontsize * len(text) + 3) * scale, 1.45 * fontsize * scale  # with a margin: estimated
    dx, dy, ha, va = spot
    x0 = px + dx * scale - {"left": 0, "center": w / 2, "right": w}[ha]
    y0 = py + dy * scale - {"bottom": 0, "center": h / 2, "top": h}[va]
    return x0, y0, x0 + w, y0 + h


def _overlap(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _check_labels(ax, xs, ys, texts, fontsize, order, taken, markers):
    """:func:`place_labels`' arguments, checked (the points as float arrays)."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}.")
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise TypeError(f"texts must be a list of str, got {type(texts).__name__}.")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(t).__name__}.")
    xs = check_float_array("xs", xs, ndim=1, allow_empty=True)
    ys = check_float_array("ys", ys, ndim=1, allow_empty=True)
    if not len(xs) == len(ys) == len(texts):
        raise ValueError(f"xs, ys and texts have {len(xs)}, {len(ys)} and {len(texts)} entries, must have one "
                         f"each per label.")
    check_float("fontsize", fontsize, low=0.0, low_open=True)
    if order is not None:
        if isinstance(order, (str, bytes)) or not isinstance(order, (list, tuple, range, np.ndarray)):
            raise TypeError(f"order must be a list of label indices or None, got {type(order).__name__}.")
        order = [check_int(f"order[{k}]", i, minimum=0, maximum=max(len(texts) - 1, 0)) for k, i in enumerate(order)]
        if order and not texts:
            raise ValueError("order names labels, but texts is empty.")
    if taken is not None and not isinstance(taken, list):
        raise TypeError(f"taken must be a list of display boxes or None, got {type(taken).__name__}.")
    if markers is not None:
        markers = check_float_array("markers", markers, ndim=2, allow_empty=True)
        if markers.shape[1:] != (2,):
            raise ValueError(f"markers has shape {markers.shape}, must be (M, 2): one (x, y) per point.")
    return xs, ys, order, taken, markers


def place_labels(ax, xs, ys, texts, *, fontsize: float = LABEL_SIZE, order=None, taken=None,
                 markers=None) -> list:
    """Write ``texts[i]`` beside point ``i`` where it overlaps no other label, no marker and stays inside the axes.

    Greedy: each label (in ``order``) takes the first of a ring of positions around its point, near ones
    first, that is free; a label that finds none is left out (its index is returned, for a key). The boxes
    are estimated from the font size, so the axes' limits and the figure's layout must be final.

    Parameters
    ----------
    ax : matplotlib Axes
    xs, ys : sequence of float
        The points, in data coordinates.
    texts : sequence of str
    fontsize : float, keyword-only
    order : sequence of int or None, keyword-only
        Which labels are placed first (default: as given).
    taken : list or None, keyword-only
        Display boxes already taken by labels of an earlier call; the new labels' boxes are appended.
    markers : sequence of (x, y) or None, keyword-only
        Every point a label must not cover, in data coordinates (default: ``xs``, ``ys``).

    Returns
    -------
    list of int
        The indices whose label did not fit.

    Raises
    ------
    TypeError
        If ``ax`` is not a matplotlib Axes, ``texts`` not a list of str (a single string is refused), the
        points or ``fontsize`` not numbers, ``order`` not ints or ``taken`` not a list.
    ValueError
        If ``xs``, ``ys`` and ``texts`` differ in length, a point is not finite, ``order`` names no label,
        ``fontsize`` is not > 0 or ``markers`` is not an ``(M, 2)`` array.
    """
    xs, ys, order, taken, markers = _check_labels(ax, xs, ys, texts, fontsize, order, taken, markers)
    scale = ax.figure.dpi / 72
    inside = ax.bbox.extents
    points = np.column_stack([xs, ys]) if markers is None else markers
    markers = [(px - 4 * scale, py - 4 * scale, px + 4 * scale, py + 4 * scale)
               for px, py in ax.transData.transform(points)]
    taken = [] if taken is None else taken
    left_out = []
    for i in (range(len(texts)) if order is None else order):
        for spot in _SPOTS:
            box = _text_box(ax, xs[i], ys[i], texts[i], spot, fontsize)
            if not (box[0] >= inside[0] and box[1] >= inside[1] and box[2] <= inside[2] and box[3] <= inside[3]):
                continue
            if any(_overlap(box, b) > 0 for b in taken) or any(_overlap(box, m) > 0 for m in markers):
                continue
            dx, dy, ha, va = spot
            far = abs(dx) > 6 or abs(dy) > 6
            ax.annotate(texts[i], (xs[i], ys[i]), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                        fontsize=fontsize, arrowprops=dict(arrowstyle="-", lw=0.4, color="0.5") if far else None,
                        bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.75)
                        if len(texts[i]) > 2 else None, zorder=5)  # a name may cross the front's line
            taken.append(box)
            break
        else:
            left_out.append(i)
    return left_out
