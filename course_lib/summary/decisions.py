""""Which technique when": the winner of each constraint in a measured table, under the noise rule.

NumPy-free: plain Python over the rows notebook 09 measured (:func:`course_lib.summary.nn.measure_configs`).
A configuration wins a latency constraint only when it is measurably faster than the baseline
(:mod:`course_lib.verdicts`); otherwise the row says so and keeps the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._validation import check_choice, check_names
from ..verdicts import NO_DIFFERENCE, Measured, compare
from ._checks import fraction as check_fraction
from ._checks import positive as check_positive
from ._checks import text as check_text
from ._checks import timing as check_timing
from .pareto import best_under_budget

__all__ = ["CONSTRAINTS", "KEEP_BASELINE", "check_rows", "row_timing", "decision_table"]


#: what building a configuration needs
NEEDS = ("none", "sample", "labels")


def _check_value(prefix: str, row: Mapping, column: str) -> None:
    """One cell of a measured table, by its column: names are str, accuracies fractions, costs > 0."""
    name, value = f"{prefix}[{column!r}]", row[column]
    if column in ("model", "name", "family"):
        check_text(name, value)
    elif column == "needs":
        check_choice(name, value, NEEDS)
    elif column == "accuracy":
        check_fraction(name, value)
    elif column == "bytes":
        check_positive(name, value)
    elif column in _SPREAD_COLUMNS:
        iqr = _SPREAD_COLUMNS[column]
        check_timing(name, value, row.get(iqr), f"{prefix}[{iqr!r}]")


def check_rows(rows, columns: Sequence[str]) -> list[dict]:
    """Check a measured table: a non-empty sequence of mappings, each with every one of ``columns``.

    The values of the course's columns are checked too: ``model``, ``name`` and ``family`` are str,
    ``needs`` one of :data:`NEEDS`, ``accuracy`` a fraction in [0, 1] (a percentage is refused), ``bytes``
    a number > 0, ``ms_1`` / ``ms_100`` a time > 0 (:func:`row_timing`) with an optional ``iqr_1`` /
    ``iqr_100`` >= 0; no two rows share a model and a name.

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
        If ``rows`` is not a non-empty sequence of mappings, ``columns`` not a list of names, or a value
        has the wrong type (a string where a number goes).
    ValueError
        If a row misses a column, a value is out of range (NaN, a percentage, a cost <= 0) or two rows have
        the same model and name.
    """
    columns = check_names("columns", columns)
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows:
        raise TypeError(f"rows must be a non-empty list of dicts (measured configurations), got "
                        f"{type(rows).__name__}.")
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise TypeError(f"rows[{i}] must be a dict, got {type(r).__name__}.")
        missing = [c for c in columns if c not in r]
        if missing:
            raise ValueError(f"rows[{i}] misses {missing}, must have {list(columns)}.")
        for c in columns:
            _check_value(f"rows[{i}]", r, c)
    if "name" in columns:
        seen = {}
        for i, r in enumerate(rows):
            key = (r.get("model"), r["name"])
            if key in seen:
                raise ValueError(f"rows[{i}] and rows[{seen[key]}] are both {r['name']!r}"
                                 + (f" of model {key[0]!r}" if "model" in columns else "")
                                 + ", must each name a configuration once.")
            seen[key] = i
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
    TypeError
        If ``row`` is not a mapping, or its time (or IQR) is not a number, a pair, a Measured or a Latency.
    ValueError
        If ``column`` is unknown or missing from ``row``, the time is NaN, infinite or not > 0, or the IQR
        (spread) is negative.
    """
    if not isinstance(row, Mapping):
        raise TypeError(f"row must be a dict (a measured configuration), got {type(row).__name__}.")
    if column not in _SPREAD_COLUMNS:
        raise ValueError(f"column == {column!r}, must be one of {sorted(_SPREAD_COLUMNS)}.")
    if column not in row:
        raise ValueError(f"row has no {column!r}, must have it (keys {sorted(map(str, row))}).")
    iqr = _SPREAD_COLUMNS[column]
    return check_timing(f"row[{column!r}]", row[column], row.get(iqr), f"row[{iqr!r}]")


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
        If ``rows`` is not a sequence of mappings, a value has the wrong type (:func:`check_rows`), or
        ``tolerance`` is not a number or ``baseline`` not a str.
    ValueError
        If a row misses a column or holds a bad value (:func:`check_rows`: an accuracy in percent, a NaN
        time), a model has no baseline row, or ``tolerance`` is not a fraction in [0, 1].
    """
    tolerance = check_fraction("tolerance", tolerance)
    baseline = check_text("baseline", baseline)
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
