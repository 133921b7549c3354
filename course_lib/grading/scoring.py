"""Grade one submitted notebook: run it, and turn each check cell's outcome into points and feedback.

:func:`grade_notebook_data` finds the student's answer to each exercise, builds the
graded notebook (:func:`course_lib.grading.runner.build_graded_notebook`), runs it
(:func:`course_lib.grading.runner.run_nbval`) and scores it: an exercise gets its
points when its check cell's output matches the reference; otherwise the feedback
says why not (the solution cell raised, the check printed something else, a time
limit ...). Solutions that touch the checking machinery are flagged for a human.
"""

from __future__ import annotations

import re

from .course import Course
from .gradebook import ExerciseResult
from .notebooks import CourseNotebook, SubmissionError, parse_submission, submission_answers
from .runner import Limits, RunResult, build_graded_notebook, reference_line, run_nbval

__all__ = ["MAX_SOURCE_CHARS", "grade_notebook_data", "zero_results"]

MAX_SOURCE_CHARS = 1_000_000
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
# Solution code that touches the checking machinery or the file system: flagged for a human to read.
_SUSPICIOUS = re.compile(r"EXERCISES|add_cases|_exercise_bank|exercises\.bank|load_bank|\.cases\b|\bcheck\s*=[^=]"
                         r"|__file__|\.ipynb|hidden_tests"
                         r"|builtins|sys\.stdout|os\.(remove|unlink|system|kill|_exit|fork|walk|listdir)|shutil"
                         r"|subprocess|\bglob\b|\bopen\(")


def _clean(text: str) -> str:
    return _ADDRESS.sub("0xADDRESS", text).strip()


# Feedback quotes what the student's run printed or raised, never more than this: a run can make its
# exception or output carry anything it can read (other files, the grader's state), and the
# feedback must not become a way to carry it out.
MAX_QUOTE_CHARS = 300


def _quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else f"{text[:limit]} ... [{len(text) - limit} more characters not shown]"


def _why(run: RunResult, cell: int, role: str, limits: Limits, exercise_id: str = "", expected: str = "") -> str:
    """A sentence for the feedback: why code cell ``cell`` did not pass."""
    res = run.cells.get(cell)
    if res is None:
        if run.status in ("timeout", "memory"):
            return f"not run: {run.detail}, and the run was stopped before this cell"
        return f"not run: {run.detail or 'the notebook stopped before this cell'}"
    msg = res.message
    if "Kernel dead" in msg or ("Timeout" in msg and "waiting for output" in msg):
        return "not run: the kernel had stopped (an earlier cell crashed it or could not be interrupted)"
    if "Timeout" in msg:
        return (f"did not finish within the time limit of {limits.cell_timeout:g} s per cell "
                "(an infinite loop? or code that stopped the kernel?)")
    parts = []
    if role == "check" and res.stdout.strip():
        verdict = re.search(rf"^\[{re.escape(exercise_id)}\] .*", res.stdout, re.M | re.S)
        parts.append(_quote(verdict.group(0), 4 * MAX_QUOTE_CHARS) if verdict else _quote(res.stdout))
        if not verdict or " correct: " in verdict.group(0).splitlines()[0]:
            parts.append(f"(the output differs from the reference, which is exactly the line `{expected}`: "
                         "did your code print something, or change the check?)")
    if res.error:
        parts.append(("your exercise cell raised " if role == "solution" else "the check raised ") + _quote(res.error))
    if not parts and res.display.strip():
        parts.append(_quote(res.display))
    if not parts:
        parts.append(msg or f"the cell {res.outcome}")
    return _clean("\n".join(parts))


def _score_notebook(course: Course, course_nb: CourseNotebook, run: RunResult, code_roles: dict,
                    found: dict[str, str], limits: Limits) -> dict[str, ExerciseResult]:
    by_exercise: dict[str, dict[str, list[int]]] = {}
    for cell, (ex_id, role) in code_roles.items():
        by_exercise.setdefault(ex_id, {}).setdefault(role, []).append(cell)
    results = {}
    for ex_id in course_nb.exercise_ids:
        check_cell = by_exercise[ex_id]["check"][0]
        res = run.cells.get(check_cell)
        max_points = course.points[ex_id]
        if res is not None and res.passed:
            results[ex_id] = ExerciseResult(ex_id, course_nb.name, max_points, max_points,
                                            "passed" + (" (after an earlier cell timed out)" if res.xfail else ""))
            continue
        reasons = [found[ex_id]] if ex_id in found else []
        for cell in [] if ex_id in found else by_exercise[ex_id].get("solution", []):
            sol = run.cells.get(cell)
            if sol is not None and not sol.passed:
                reasons.append(_why(run, cell, "solution", limits, ex_id))
        check_reason = _why(run, check_cell, "check", limits, ex_id,
                            reference_line(ex_id, course.case_counts.get(ex_id, 0)))
        if check_reason not in reasons:
            reasons.append(check_reason)
        results[ex_id] = ExerciseResult(ex_id, course_nb.name, 0.0, max_points, "\n".join(reasons))
    return results


def zero_results(course: Course, course_nb: CourseNotebook, reason: str) -> dict[str, ExerciseResult]:
    """Zero points for every exercise of ``course_nb``, all for the same reason.

    Parameters
    ----------
    course : Course
        The course graded (for the points of each exercise).
    course_nb : CourseNotebook
        The notebook whose exercises get no points.
    reason : str
        The feedback of each exercise (e.g. the notebook is missing or unreadable).

    Returns
    -------
    dict of str -> ExerciseResult
        One result per exercise of ``course_nb``, in notebook order.
    """
    return {e: ExerciseResult(e, course_nb.name, 0.0, course.points[e], reason) for e in course_nb.exercise_ids}


def grade_notebook_data(course: Course, course_nb: CourseNotebook, data: bytes, *, limits: Limits | None = None,
                        data_dir=None) -> tuple[dict[str, ExerciseResult], list[str], float]:
    """Grade one submitted file against ``course_nb``: find the answers, run them, score them.

    A file that cannot be parsed gets zero points, with the reason as feedback; it is
    not run.

    Parameters
    ----------
    course : Course
        The course graded (points, case counts, hidden tests).
    course_nb : CourseNotebook
        The instructor notebook the file is graded against.
    data : bytes
        The submitted ``.ipynb`` file.
    limits : Limits, optional, keyword-only
        Time and memory limits of the run (default: :class:`~course_lib.grading.runner.Limits`).
    data_dir : str or path, optional, keyword-only
        The data folder the kernel reads (default: ``$COURSE_DATA_DIR``, else ``data/``).

    Returns
    -------
    results : dict of str -> ExerciseResult
        One result per exercise of ``course_nb``, in notebook order.
    notes : list of str
        Copies of exercise cells, flagged solutions, how the run ended if not normally.
    seconds : float
        How long the run took (0.0 if it did not run).
    """
    limits = limits or Limits()
    try:
        cells = parse_submission(data)
    except SubmissionError as exc:
        return zero_results(course, course_nb, f"your notebook could not be read: {exc}"), [], 0.0
    answers, found, notes = {}, {}, []
    for ex in course_nb.exercises:
        answers[ex.id], how = submission_answers(cells, ex)
        if answers[ex.id] is not None and sum(map(len, answers[ex.id])) > MAX_SOURCE_CHARS:
            answers[ex.id], how = None, f"your exercise cell is longer than {MAX_SOURCE_CHARS:,} characters"
        if answers[ex.id] is None:
            found[ex.id] = how
        elif "copies" in how:
            notes.append(f"{ex.id}: {how.split('(', 1)[1].rstrip(')')}")
        flagged = _SUSPICIOUS.search("\n".join(answers[ex.id])) if answers[ex.id] else None
        if flagged:
            notes.append(f"{ex.id}: the solution uses `{flagged.group(0)}` -- flagged for a human to read "
                         "(not counted against the score)")
    nb, code_roles = build_graded_notebook(course_nb, answers, case_counts=course.case_counts,
                                           hidden_source=course.hidden_source)
    run = run_nbval(nb, limits=limits, data_dir=data_dir)
    if run.status != "ok":
        notes.append(f"{course_nb.name}: {run.detail}")
    return _score_notebook(course, course_nb, run, code_roles, found, limits), notes, run.seconds
