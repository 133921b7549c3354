"""What the exercise tests share: an answer's credit in the grader (instructor verdicts, hidden cases) and in a
student's kernel (the checks made there), computed in this process the way each computes it."""

from __future__ import annotations

import functools

from course_lib.exercises import EXERCISES, collect, credit, judge, load_bank
from course_lib.grading.course import DEFAULT_HIDDEN, course_cases, read_hidden

#: a grading session other than 0: its random hidden cases are drawn afresh (course_lib.exercises.sessions)
OTHER_SESSION = 20261207


@functools.lru_cache(maxsize=2)
def graded_cases(session: int = 0) -> dict:
    """Every exercise's cases as the grader judges them in ``session``: public and hidden, with the verdicts."""
    return course_cases(read_hidden(DEFAULT_HIDDEN, session=session))


def _mean_credit(ex_id: str, cases, answer) -> tuple[float, list[str]]:
    ex = load_bank()[ex_id]
    total, problems = 0.0, []
    for label, case in cases:
        args = case.inputs() if case.inputs is not None else None
        found = judge(case, collect(ex, answer, args), args)
        total += credit(found)
        problems += [f"{label}: {p}" for p in found]
    return total / len(cases), problems


def grader_credit(ex_id: str, answer) -> tuple[float, list[str]]:
    """(mean credit over every case, problems) the grader gives ``answer`` (a function, or a value)."""
    return _mean_credit(ex_id, graded_cases()[ex_id], answer)


def selfcheck_credit(ex_id: str, answer) -> tuple[float, list[str]]:
    """(mean credit over the public cases, problems) of the checks made in a student's kernel."""
    load_bank()
    return _mean_credit(ex_id, EXERCISES[ex_id].cases, answer)


def assert_no_shortcut(ex_id: str, **answers) -> None:
    """Each of ``answers`` (name -> a library shortcut) earns nothing, in the grader and in the self-check."""
    for name, answer in answers.items():
        for where, fn in (("grader", grader_credit), ("self-check", selfcheck_credit)):
            got, problems = fn(ex_id, answer)
            assert got == 0.0, f"{ex_id}: the shortcut {name!r} earns {got:.0%} in the {where}"


def assert_full_marks(ex_id: str, answer) -> None:
    """``answer`` (the instructor's solution) earns full credit in the grader and in the self-check -- and in
    another grading session, whose random hidden cases are drawn afresh (outcome tasks have no such cases)."""
    for where, fn in (("grader", grader_credit), ("self-check", selfcheck_credit)):
        got, problems = fn(ex_id, answer)
        assert got == 1.0, f"{ex_id}: the instructor's solution earns {got:.0%} in the {where}: {problems}"
    if load_bank()[ex_id].kind != "outcome":
        got, problems = _mean_credit(ex_id, graded_cases(OTHER_SESSION)[ex_id], answer)
        assert got == 1.0, f"{ex_id}: the instructor's solution earns {got:.0%} in session {OTHER_SESSION}: {problems}"
