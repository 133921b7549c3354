"""The checks the summary's tables share: fractions (never percentages), positive numbers, measured times.

Plain Python (no NumPy, no torch): a number that reaches a verdict rule is checked here first, so that a
percentage where a fraction goes, a NaN speed-up or a string never gives a silently different verdict.
"""

from __future__ import annotations

import numbers

from .._validation import check_float, check_int
from .._validation import check_text as text
from ..verdicts import Measured, measured

__all__ = ["fraction", "positive", "points", "lines", "speedup", "timing", "text"]


def fraction(name: str, value, *, allow_none: bool = False) -> float | None:
    """A fraction in ``[0, 1]``; a value in ``(1, 100]`` is refused as the percentage it probably is."""
    if value is None and allow_none:
        return None
    value = check_float(name, value, allow_none=allow_none)
    if not 0.0 <= value <= 1.0:
        hint = " (not a percentage)" if 1.0 < value <= 100.0 else ""
        raise ValueError(f"{name} == {value!r}, must be a fraction in [0, 1]{hint}.")
    return value


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """A finite real number ``> 0`` (``>= 0`` with ``allow_zero``); a string or a bool is refused."""
    return check_float(name, value, low=0.0, low_open=not allow_zero)


def points(name: str, value) -> float:
    """An accuracy difference in percentage points: a finite number in ``[-100, 100]``."""
    return check_float(name, value, low=-100.0, high=100.0)


def lines(name: str, value) -> int:
    """A count of lines of code: an int ``>= 1`` (a ratio of two counts divides by it)."""
    return check_int(name, value, minimum=1)




def _time(name: str, value) -> Measured:
    """A measured quantity that a ratio divides by: its value must be > 0."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, int, float)):
        value = float(value)  # a NumPy scalar: the same number
    m = measured(value, name)
    if m.value <= 0:
        raise ValueError(f"{name} == {m.value!r}, must be > 0 (a time or a speed-up).")
    return m


def speedup(name: str, value):
    """A speed-up: :class:`~course_lib.summary.claims.Timings` (both times > 0) or a measured ratio > 0.

    Returns ``value`` itself (a :class:`Timings` stays one, so that its verdict is the two times').
    """
    from .claims import Timings

    if isinstance(value, Timings):
        _time(f"{name}.old", value.old)
        _time(f"{name}.new", value.new)
        return value
    _time(name, value)
    return value


def timing(name: str, value, iqr=None, iqr_name: str = "iqr") -> Measured:
    """A latency as a :class:`Measured`: a number > 0 with an optional IQR (its band's width, ``>= 0``), or a
    ``(value, spread)`` pair, a :class:`Measured` or a :class:`~course_lib.timing.Latency`."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = check_float(name, value, low=0.0, low_open=True)
        spread = 0.0 if iqr is None else check_float(iqr_name, iqr, low=0.0) / 2
        return Measured(value, spread)
    return _time(name, value)
