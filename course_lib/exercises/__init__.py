"""Exercises: the checking mechanism (:mod:`.core`) and the course's bank of exercises (:mod:`.bank`).

``cl.check("01-row-mask", answer)`` loads the bank (once) and checks ``answer``;
see :mod:`course_lib.exercises.core` for how an exercise and its check cell work.
"""

from __future__ import annotations

import importlib
from typing import Any

from .core import (
    EXCHANGE_ENV,
    EXERCISES,
    KINDS,
    Case,
    CheckResult,
    Credit,
    Exercise,
    add_cases,
    collect,
    compare,
    compare_fields,
    credit,
    exercise,
    grade_with,
    judge,
)
from .core import check as check_registered
from .outcomes import Target, linear_credit, outcome_credit, rule_text

__all__ = ["Target", "linear_credit", "outcome_credit", "rule_text", "KINDS", "Credit", "credit", "grade_with",
           "Case", "Exercise", "CheckResult", "EXCHANGE_ENV", "collect", "judge", "exercise", "add_cases", "check",
           "compare", "compare_fields", "EXERCISES", "load_bank"]


def load_bank() -> dict[str, Exercise]:
    """Register the course's exercises (import :mod:`course_lib.exercises.bank`); returns the registry."""
    importlib.import_module(f"{__name__}.bank")
    return EXERCISES


def check(exercise_id: str, answer: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``answer`` for exercise ``exercise_id`` and print one line of feedback.

    Parameters
    ----------
    exercise_id : str
        A registered exercise, e.g. ``"01-row-mask"``.
    answer : object
        Usually the student's function; it is called on every case of the exercise.
    quiet : bool, keyword-only
        Print nothing; only return the result.

    Returns
    -------
    CheckResult
        Truthy when every case passes. An answer that raises is reported as a problem,
        never re-raised.

    Raises
    ------
    ValueError
        If ``exercise_id`` is not a registered exercise.
    """
    load_bank()
    return check_registered(exercise_id, answer, quiet=quiet)
