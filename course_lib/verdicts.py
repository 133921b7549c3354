"""Sentences that interpret a measurement, printed from the measured values with a noise rule.

A notebook never types "the sparse layer is faster" or "batch 1 gains more": the machine, its load and
the run decide that, so a cell prints it from what it measured, with the measurement's own spread::

    >>> from course_lib.verdicts import Measured, compare
    >>> print(compare(Measured(2.0, 0.1), Measured(1.0, 0.05), names=("dense", "sparse"), kind="time"))
    sparse is faster than dense: 1.00 ms vs 2.00 ms (2.0x)
    >>> print(compare(Measured(2.0, 0.3), Measured(1.9, 0.3), names=("old", "new"), kind="time"))
    no measurable difference between old and new: old 2.00 ± 0.300 ms, new 1.90 ± 0.300 ms (inside the run's spread)

**The noise rule** (one for the whole course). A value is a :class:`Measured`: a central value and a
half-width of its noise band (for a timing, half its interquartile range; for an accuracy difference,
two standard errors). Two values differ measurably when their bands do not overlap *and* the larger is
at least ``min_ratio`` times the smaller (default 1.05: 5 %, below which a CPU timing is never trusted,
however tight its repeats). Otherwise the sentence says "no measurable difference". A ratio of two
measured values carries the sum of their relative spreads.

Torch-free and NumPy-free: plain Python over the numbers a cell measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["Measured", "Verdict", "measured", "compare", "first_win", "scaling", "difference", "KINDS",
           "NO_DIFFERENCE", "MIN_RATIO"]

#: the smallest ratio the course ever calls a difference (5 %)
MIN_RATIO = 1.05
#: the words of a "no measurable difference" verdict (one vocabulary for notebooks and deck)
NO_DIFFERENCE = "no measurable difference"

#: kind -> (unit, lower is better, the word for the better one, the word for the worse one)
KINDS = {
    "time": ("ms", True, "faster", "slower"),
    "size": ("bytes", True, "smaller", "larger"),
    "error": ("", True, "lower", "higher"),
    "accuracy": ("%", False, "more accurate", "less accurate"),
    "speedup": ("x", False, "larger", "smaller"),
    "value": ("", False, "higher", "lower"),
}


def _number(name: str, value, *, allow_negative: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} == {value!r}, must be a finite number.")
    if not allow_negative and value < 0:
        raise ValueError(f"{name} == {value!r}, must be >= 0.")
    return value


class Measured(NamedTuple):
    """A measured value and the half-width of its noise band (same unit).

    Parameters
    ----------
    value : float
        The central value (a median time, an accuracy, a ratio).
    spread : float
        Half-width of the band the value could move in on a rerun: half a timing's IQR, two standard
        errors of an accuracy. 0 for an exact count (bytes, parameters).
    """

    value: float
    spread: float = 0.0

    @property
    def low(self) -> float:
        return self.value - self.spread

    @property
    def high(self) -> float:
        return self.value + self.spread

    def ratio(self, other) -> Measured:
        """``self / other`` with the sum of the two relative spreads (both values must be > 0)."""
        other = measured(other, "other")
        if self.value <= 0 or other.value <= 0:
            raise ValueError(f"a ratio needs two positive values, got {self.value!r} / {other.value!r}.")
        rel = self.spread / self.value + other.spread / other.value
        r = self.value / other.value
        return Measured(r, r * rel)

    def __truediv__(self, other) -> Measured:  # type: ignore[override]
        return self.ratio(other)


def measured(value, name: str = "value") -> Measured:
    """Coerce to :class:`Measured`.

    Parameters
    ----------
    value : Measured, course_lib.timing.Latency, (value, spread) pair or number
        A :class:`~course_lib.timing.Latency` gives its median and half its IQR; a plain number
        has no spread (an exact count).
    name : str
        The parameter's name, for the error message.

    Raises
    ------
    TypeError
        For anything else.
    ValueError
        For a non-finite value or a negative spread.
    """
    if isinstance(value, Measured):
        v, s = value
    elif hasattr(value, "median_ms") and hasattr(value, "iqr_ms"):
        v, s = value.median_ms, value.iqr_ms / 2
    elif isinstance(value, tuple) and len(value) == 2:
        v, s = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        v, s = value, 0.0
    else:
        raise TypeError(f"{name} must be a number, a (value, spread) pair, a Measured or a Latency, "
                        f"got {type(value).__name__}.")
    return Measured(_number(f"{name}'s value", v), _number(f"{name}'s spread", s, allow_negative=False))


class Verdict(NamedTuple):
    """What a comparison found: ``outcome`` for code, ``sentence`` for the student (``str()`` gives it).

    Parameters
    ----------
    outcome : str
        ``"a"`` or ``"b"`` (the better one), ``"same"`` (no measurable difference), or the
        function's own outcomes (:func:`first_win`, :func:`scaling`).
    sentence : str
        The printed interpretation, numbers included.
    ratio : float
        The ratio the verdict rests on (worse / better for :func:`compare`), NaN where none.
    """

    outcome: str
    sentence: str
    ratio: float = float("nan")

    def __str__(self) -> str:
        return self.sentence


def _fmt(v: float, unit: str) -> str:
    if unit == "bytes":
        return f"{v:,.0f} bytes"
    if unit == "%":
        return f"{v:.1f}%"
    if unit == "x":
        return f"{v:.2f}x"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:#.3g}"  # 3 digits: 0.0105
    return f"{text} {unit}" if unit else text


def _check_kind(kind) -> tuple:
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind == {kind!r}, must be one of {sorted(KINDS)}.")
    return KINDS[kind]


def _check_names(names) -> tuple[str, str]:
    if (isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or len(names) != 2
            or not all(isinstance(n, str) and n for n in names)):
        raise TypeError(f"names must be a pair of non-empty strings, got {names!r}.")
    return names[0], names[1]


def _check_min_ratio(min_ratio) -> float:
    min_ratio = _number("min_ratio", min_ratio)
    if min_ratio < 1:
        raise ValueError(f"min_ratio == {min_ratio!r}, must be >= 1.")
    return min_ratio


def _differ(a: Measured, b: Measured, min_ratio: float) -> bool:
    apart = a.low > b.high or b.low > a.high
    lo, hi = sorted((abs(a.value), abs(b.value)))
    if lo == 0:
        return apart and hi > 0
    return apart and hi / lo >= min_ratio


def compare(a, b, *, names=("A", "B"), kind: str = "time", min_ratio: float | None = None,
            unit: str | None = None) -> Verdict:
    """Which of two measured values is better, or that the run cannot tell them apart.

    Parameters
    ----------
    a, b : Measured, Latency, (value, spread) or number
        The two measurements (:func:`measured`).
    names : pair of str, keyword-only
        How the sentence calls them.
    kind : str, keyword-only
        One of :data:`KINDS`: ``"time"`` (lower is better, "faster"), ``"size"`` ("smaller"),
        ``"error"``, ``"accuracy"`` (higher is better, values in percent), ``"speedup"``, ``"value"``.
    min_ratio : float >= 1 or None, keyword-only
        The smallest ratio called a difference. Default: :data:`MIN_RATIO` for ``"time"``, ``"size"`` and
        ``"speedup"`` (a CPU timing is never trusted below 5 %); 1 for the others (their spread decides).
    unit : str, optional, keyword-only
        The unit printed after the values (default: the kind's).

    Returns
    -------
    Verdict
        ``outcome`` ``"a"``/``"b"`` (the better one) or ``"same"``; ``ratio`` worse / better
        (for ``"accuracy"`` and ``"value"``: better / worse), NaN when a value is 0.

    Raises
    ------
    TypeError, ValueError
        For a value :func:`measured` refuses, a bad ``names``, ``kind`` or ``min_ratio``.
    """
    a, b = measured(a, "a"), measured(b, "b")
    name_a, name_b = _check_names(names)
    default_unit, lower_better, better_word, _ = _check_kind(kind)
    if min_ratio is None:
        min_ratio = MIN_RATIO if kind in ("time", "size", "speedup") else 1.0
    min_ratio = _check_min_ratio(min_ratio)
    unit = default_unit if unit is None else unit
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string, got {type(unit).__name__}.")
    if not _differ(a, b, min_ratio):
        ratio = max(a.value, b.value) / min(a.value, b.value) if min(a.value, b.value) > 0 else float("nan")

        def shown(m: Measured) -> str:
            if m.spread <= 0:
                return _fmt(m.value, unit)
            if unit in ("%", "x"):
                return f"{_fmt(m.value, unit)} ± {_fmt(m.spread, '')}"
            return f"{_fmt(m.value, '')} ± {_fmt(m.spread, '')} {'bytes' if unit == 'bytes' else unit}".rstrip()

        values = f"{name_a} {shown(a)}, {name_b} {shown(b)}"
        why = "inside the run's spread"
        if ratio >= 2:  # far apart, yet the bands overlap: the repeats scattered widely (a busy machine)
            why += ": the repeats scattered widely -- rerun for a verdict"
        return Verdict("same", f"{NO_DIFFERENCE} between {name_a} and {name_b}: {values} ({why})", ratio)
    b_better = (b.value < a.value) == lower_better
    good, bad = (b, a) if b_better else (a, b)
    good_name, bad_name = (name_b, name_a) if b_better else (name_a, name_b)
    values = f"{_fmt(good.value, unit)} vs {_fmt(bad.value, unit)}"  # in the sentence's order: the better first
    if good.value > 0 and bad.value > 0:
        ratio = bad.value / good.value if lower_better else good.value / bad.value
        factor = f" ({ratio:.1f}x)" if ratio >= 1.95 or kind in ("time", "size") else ""
    else:
        ratio, factor = float("nan"), ""
    if kind == "accuracy":
        factor = f" ({good.value - bad.value:+.1f} points)"
    return Verdict("b" if b_better else "a", f"{good_name} is {better_word} than {bad_name}: {values}{factor}",
                   ratio)


def difference(delta, *, names=("A", "B"), unit: str = "points", what: str = "accuracy") -> Verdict:
    """A measured difference ``b - a`` with its noise band: is it distinguishable from 0?

    Parameters
    ----------
    delta : Measured or (difference, spread)
        E.g. ``(100 * d, 200 * se)`` from :func:`course_lib.measure.paired_difference` (two standard errors).
    names : pair of str, keyword-only
    unit : str, keyword-only
    what : str, keyword-only
        The quantity ("accuracy").

    Returns
    -------
    Verdict
        ``outcome`` ``"b"`` (b higher), ``"a"`` (a higher) or ``"same"`` (0 inside the band).
    """
    d = measured(delta, "delta")
    name_a, name_b = _check_names(names)
    if not isinstance(unit, str) or not isinstance(what, str):
        raise TypeError("unit and what must be strings.")
    shown = f"{d.value:+.2f} ± {d.spread:.2f} {unit}"
    if d.low <= 0 <= d.high:
        return Verdict("same", f"{NO_DIFFERENCE} in {what} between {name_a} and {name_b} ({name_b} − {name_a}: "
                               f"{shown})", d.value)
    higher, lower = (name_b, name_a) if d.value > 0 else (name_a, name_b)
    return Verdict("b" if d.value > 0 else "a", f"{higher} has the higher {what} ({name_b} − {name_a}: {shown}, "
                                                f"beyond the noise), {lower} the lower", d.value)


def first_win(xs, a, b, *, names=("A", "B"), kind: str = "time", x_name: str = "x", x_format: str = "{}",
              min_ratio: float | None = None) -> Verdict:
    """From which ``x`` on ``b`` beats ``a`` measurably, at that ``x`` and every larger one.

    Parameters
    ----------
    xs : sequence of numbers, increasing
        E.g. the sparsities swept.
    a, b : sequences of measured values, one per ``x``
        E.g. the dense and the sparse layer's :class:`~course_lib.timing.Latency`.
    names, kind, min_ratio : keyword-only
        As for :func:`compare`.
    x_name : str, keyword-only
        What ``x`` is ("sparsity").
    x_format : str, keyword-only
        A ``str.format`` pattern for an ``x`` (``"{:.0%}"``).

    Returns
    -------
    Verdict
        ``outcome`` ``"from"`` (``ratio`` is the first winning ``x``), ``"never"`` or ``"always"``
        (``b`` wins at every ``x``: ``ratio`` is the first ``x``).

    Raises
    ------
    TypeError, ValueError
        For lengths that differ, no ``x``, ``xs`` not increasing, or a value :func:`measured` refuses.
    """
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence) or not xs:
        raise TypeError(f"xs must be a non-empty sequence of numbers, got {type(xs).__name__}.")
    xs = [_number(f"xs[{i}]", x) for i, x in enumerate(xs)]
    if any(x1 >= x2 for x1, x2 in zip(xs, xs[1:])):
        raise ValueError("xs must be strictly increasing.")
    for label, seq in (("a", a), ("b", b)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence) or len(seq) != len(xs):
            raise ValueError(f"{label} must be a sequence of {len(xs)} measured values, one per x.")
    name_a, name_b = _check_names(names)
    _, _, better_word, _ = _check_kind(kind)
    if min_ratio is not None:
        min_ratio = _check_min_ratio(min_ratio)
    if not isinstance(x_name, str) or not isinstance(x_format, str):
        raise TypeError("x_name and x_format must be strings.")
    wins = [compare(ma, mb, names=names, kind=kind, min_ratio=min_ratio).outcome == "b" for ma, mb in zip(a, b)]
    start = None
    for i in range(len(xs) - 1, -1, -1):
        if not wins[i]:
            break
        start = i
    if start is None:
        ties = sum(compare(ma, mb, names=names, kind=kind, min_ratio=min_ratio).outcome == "same"
                   for ma, mb in zip(a, b))
        tail = f" ({ties} of {len(xs)} {x_name} values: {NO_DIFFERENCE})" if ties else ""
        won = [x_format.format(x) for x, w in zip(xs, wins) if w]
        if won:  # wins somewhere, but not up to the end: no value from which it wins
            return Verdict("never", f"{name_b} is measurably {better_word} than {name_a} at {x_name} "
                                    f"{', '.join(won)} but not at {x_format.format(xs[-1])}: no {x_name} from which "
                                    f"it is {better_word} at every larger one{tail}")
        return Verdict("never", f"{name_b} is never measurably {better_word} than {name_a} up to {x_name} "
                                f"{x_format.format(xs[-1])}{tail}")
    x0 = x_format.format(xs[start])
    if start == 0:
        return Verdict("always", f"{name_b} is measurably {better_word} than {name_a} at every {x_name} measured, "
                                 f"from {x0}", xs[0])
    return Verdict("from", f"{name_b} is measurably {better_word} than {name_a} from {x_name} {x0} on", xs[start])


def scaling(growth, factor, *, what: str = "time", by: str = "the size", min_ratio: float = 1.2) -> Verdict:
    """Does a measured quantity grow in proportion to ``factor``, faster or slower?

    Parameters
    ----------
    growth : Measured, Latency ratio, (value, spread) or number
        The measured growth, e.g. ``measured(t_big) / measured(t_small)``.
    factor : number > 0
        The growth of the cause, e.g. 16 for 16x more multiply-adds.
    what, by : str, keyword-only
        The sentence's words: "time grows ... with the size".
    min_ratio : float >= 1, keyword-only
        How far ``growth / factor`` must be from 1 (beyond the noise) to count as faster or slower
        (default 1.2: a quantity that grows 14x for 16x is "about in proportion").

    Returns
    -------
    Verdict
        ``outcome`` ``"faster"``, ``"slower"``, ``"proportional"`` or ``"unclear"`` (the run's spread reaches
        both beyond ``min_ratio`` above and below proportion: it cannot tell); ``ratio`` is ``growth / factor``.
    """
    g = measured(growth, "growth")
    factor = _number("factor", factor)
    if factor <= 0 or g.value <= 0:
        raise ValueError(f"growth and factor must be > 0, got {g.value!r} and {factor!r}.")
    min_ratio = _check_min_ratio(min_ratio)
    if not isinstance(what, str) or not isinstance(by, str):
        raise TypeError("what and by must be strings.")
    rel = g.value / factor
    rel_spread = g.spread / factor
    shown = f"{what} grew {g.value:.3g}x for {factor:.3g}x {by}"
    if rel - rel_spread < 1 / min_ratio and rel + rel_spread > min_ratio:
        return Verdict("unclear", f"{shown}, but the run's spread ({rel - rel_spread:.2f}x to {rel + rel_spread:.2f}x "
                                  f"the proportional growth) is too wide to tell faster, slower or in proportion",
                       rel)
    if rel - rel_spread > 1 and rel >= min_ratio:
        return Verdict("faster", f"{shown}: faster than in proportion ({rel:.2f}x the proportional growth)", rel)
    if rel + rel_spread < 1 and 1 / rel >= min_ratio:
        return Verdict("slower", f"{shown}: slower than in proportion ({rel:.2f}x the proportional growth)", rel)
    return Verdict("proportional", f"{shown}: about in proportion (within {min_ratio:.2g}x and the run's spread)",
                   rel)
