""""Which technique when": the winner of each constraint in a measured table, under the noise rule.

NumPy-free: plain Python over the rows notebook 09 measured (:func:`course_lib.summary.nn.measure_configs`).
A configuration wins a latency constraint only when it is measurably faster than the baseline
(:mod:`course_lib.verdicts`); otherwise the row says so and keeps the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._validation import check_float
from ..verdicts import NO_DIFFERENCE, Measured, compare, measured
from .pareto import best_under_budget

__all__ = ["CONSTRAINTS", "KEEP_BASELINE", "check_rows", "row_timing", "decision_table"]


def check_rows(rows, columns: Sequence[str]) -> list[dict]:
    """Check a measured table: a non-empty sequence of mappings, each with every one of ``columns``.

    Parameters
    ----------
    rows : sequence of mapping
        The measured configurations (:func:`course_lib.summary.nn.measure_configs`'s rows).
    columns : sequence of str
        The keys every row must have.

    Returns
    -------
    list of dict
        Copies of the rows.

    Raises
    ------
    TypeError
        If ``rows`` is not a non-empty sequence of mappings.
    ValueError
        If a row misses a column.
    """
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows:
        raise TypeError(f"rows must be a non-empty list of dicts (measured configurations), got "
                        f"{type(rows).__name__}.")
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise TypeError(f"rows[{i}] must be a dict, got {type(r).__name__}.")
        missing = [c for c in columns if c not in r]
        if missing:
            raise ValueError(f"rows[{i}] misses {missing}, must have {list(columns)}.")
    return [dict(r) for r in rows]


#: constraint -> (cost column, which data the technique may need)
CONSTRAINTS = {
    "smallest file": ("bytes", ("none", "sample", "labels")),
    "fastest for one image": ("ms_1", ("none", "sample", "labels")),
    "fastest for batches of 100": ("ms_100", ("none", "sample", "labels")),
    "no data at all": ("bytes", ("none",)),
    "unlabelled data only": ("bytes", ("none", "sample")),
}
_COLUMNS = ("model", "name", "needs", "accuracy", "bytes", "ms_1", "ms_100")
#: a latency column -> the optional column with the width of its noise band (an IQR: half of it each side)
_SPREAD_COLUMNS = {"ms_1": "iqr_1", "ms_100": "iqr_100"}
#: what the decision table's technique says when nothing is measurably faster than the baseline
KEEP_BASELINE = NO_DIFFERENCE + ": keep {baseline}"


def row_timing(row: Mapping, column: str) -> Measured:
    """A row's latency as a :class:`~course_lib.verdicts.Measured`: the value and half its noise band.

    Parameters
    ----------
    row : mapping
        A measured configuration. ``row[column]`` is a number (then the optional ``iqr_1`` / ``iqr_100``
        column gives its band's width, none meaning no spread), a ``(value, spread)`` pair, a
        :class:`~course_lib.verdicts.Measured` or a :class:`~course_lib.timing.Latency`.
    column : {"ms_1", "ms_100"}

    Returns
    -------
    Measured

    Raises
    ------
    TypeError, ValueError
        As :func:`course_lib.verdicts.measured`, or for an unknown column.
    """
    if column not in _SPREAD_COLUMNS:
        raise ValueError(f"column == {column!r}, must be one of {sorted(_SPREAD_COLUMNS)}.")
    value = row[column]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        iqr = row.get(_SPREAD_COLUMNS[column], 0.0)
        return measured((float(value), float(iqr) / 2 if iqr is not None else 0.0), column)
    return measured(value, column)


def decision_table(rows: Sequence[Mapping], *, tolerance: float = 0.01, baseline: str = "float32") -> list[dict]:
    """"Which technique when": for each model and constraint, the measured winner within ``tolerance``.

    Parameters
    ----------
    rows : sequence of mapping
        The measured configurations, each with ``model``, ``name``, ``needs`` (``"none"``,
        ``"sample"`` or ``"labels"``: the data it was built with), ``accuracy`` (a fraction),
        ``bytes``, ``ms_1`` and ``ms_100``; optionally ``iqr_1`` and ``iqr_100``, the width of each
        latency's noise band (or the latencies themselves as :class:`~course_lib.verdicts.Measured`,
        ``(value, spread)`` or :class:`~course_lib.timing.Latency`: :func:`row_timing`).
    tolerance : float in [0, 1], keyword-only
        The accuracy a configuration may lose against the baseline and still count.
    baseline : str, keyword-only
        The name of each model's uncompressed configuration.

    Returns
    -------
    list of dict
        ``{"constraint", "model", "technique", "gain", "accuracy change", "as fast (within the noise)"}`` per
        model and :data:`CONSTRAINTS` entry. For bytes: the smallest configuration among those within
        ``tolerance`` of the baseline. For a latency: the fastest among those that are **measurably**
        faster than the baseline (:func:`course_lib.verdicts.compare`: bands apart and at least 5 %);
        the last column names the others whose time cannot be told apart from the winner's. When none is
        measurably faster, the technique reads ``"no measurable difference: keep float32"``.

    Raises
    ------
    TypeError
        If ``rows`` is not a sequence of mappings.
    ValueError
        If a row misses a column, a model has no baseline row, or ``tolerance`` is out of range.
    """
    tolerance = check_float("tolerance", tolerance, low=0.0, high=1.0)
    rows = check_rows(rows, _COLUMNS)
    out = []
    models = list(dict.fromkeys(r["model"] for r in rows))
    for constraint, (column, allowed) in CONSTRAINTS.items():
        for model in models:
            mine = [r for r in rows if r["model"] == model]
            base = [r for r in mine if r["name"] == baseline]
            if not base:
                raise ValueError(f"rows has no {baseline!r} row for model {model!r}, must have its baseline.")
            base = base[0]
            ok = [r for r in mine if r["needs"] in allowed and r["accuracy"] >= base["accuracy"] - tolerance]
            same = ""
            if column == "bytes":
                # the cheapest one: the "most accurate" under no budget, with accuracy := -cost
                pick = ok[best_under_budget([-float(r[column]) for r in ok], [0.0] * len(ok), 0.0)]
                gain = f"{base[column] / pick[column]:.1f}x fewer bytes" if pick[column] else "no bytes at all"
            else:
                t_base = row_timing(base, column)
                times = [row_timing(r, column) for r in ok]
                faster = [i for i, t in enumerate(times)
                          if compare(t_base, t, names=("baseline", "other"), kind="time").outcome == "b"]
                if not faster:
                    out.append({"constraint": constraint, "model": model,
                                "technique": KEEP_BASELINE.format(baseline=baseline),
                                "gain": "none beyond the noise", "accuracy change": "+0.0 points",
                                "as fast (within the noise)": "-"})
                    continue
                best = min(faster, key=lambda i: (times[i].value, i))
                pick = ok[best]
                ties = [ok[i]["name"] for i in faster if i != best
                        and compare(times[best], times[i], names=("best", "other"), kind="time").outcome == "same"]
                same = ", ".join(ties) if ties else "-"
                gain = f"{t_base.value / times[best].value:.1f}x the speed"
            out.append({"constraint": constraint, "model": model, "technique": pick["name"], "gain": gain,
                        "accuracy change": f"{100 * (pick['accuracy'] - base['accuracy']):+.1f} points",
                        "as fast (within the noise)": same or "-"})
    return out
