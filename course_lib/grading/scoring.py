"""Grade one submitted notebook: run it, then compute every verdict here, outside the student's process.

:func:`grade_notebook_data` finds the student's answer to each exercise, builds the
graded notebook (:func:`course_lib.grading.runner.build_graded_notebook`) and runs it
(:func:`course_lib.grading.runner.run_nbval`) with each case's inputs; the kernel
records what the answers returned. :func:`score_run` then reads those records within
strict limits (:mod:`course_lib.exercises.records`: plain data, never a pickle) and
judges each case with its verdict -- which computes the expected value in *this*
process. An exercise gets its points when every case, hidden ones included, is right;
otherwise the feedback says which cases are wrong and why, or why nothing was recorded
(the solution cell raised, a time limit ...). What a kernel prints, patches or hooks
cannot change a verdict: only the recorded values count. Solutions that touch the
checking machinery are still flagged for a human.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..exercises import credit, judge
from ..exercises.records import Raised, RecordError, read_record
from .course import Course
from .flags import library_aliases, library_calls
from .gradebook import ExerciseResult
from .notebooks import CourseNotebook, SubmissionError, parse_submission, submission_answers
from .runner import Limits, RunResult, build_graded_notebook, run_nbval

__all__ = ["MAX_SOURCE_CHARS", "Prepared", "prepare_submission", "finish_submission", "grade_notebook_data",
           "score_run", "zero_results"]

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


def _why(run: RunResult, cell: int, role: str, limits: Limits) -> str:
    """A sentence for the feedback: why code cell ``cell`` did not run to its end."""
    res = run.cells.get(cell)
    if res is None:
        if run.status in ("timeout", "memory", "disk", "processes"):
            return f"not run: {run.detail}, and the run was stopped before this cell"
        return f"not run: {run.detail or 'the notebook stopped before this cell'}"
    msg = res.message
    if "Kernel dead" in msg or ("Timeout" in msg and "waiting for output" in msg):
        return "not run: the kernel had stopped (an earlier cell crashed it or could not be interrupted)"
    if "Timeout" in msg:
        return (f"did not finish within the time limit of {limits.cell_timeout:g} s per cell "
                "(an infinite loop? or code that stopped the kernel?)")
    if res.error:
        return _clean(("your exercise cell raised " if role == "solution" else "the check raised ")
                      + _quote(res.error))
    return _clean(msg or f"the cell {res.outcome}")


def _verdicts(course: Course, ex_id: str, answers: dict[str, bytes]) -> tuple[int, list[str], bool, float]:
    """(cases passed, problems, whether every case was recorded, mean credit) of one exercise, judged here."""
    prefix = f"{ex_id}/"
    files = {name[len(prefix):]: data for name, data in answers.items() if name.startswith(prefix)}
    cases, inputs = course.cases[ex_id], course.inputs(ex_id)
    passed, problems, complete, earned = 0, [], True, 0.0
    for k, ((label, case), args) in enumerate(zip(cases, inputs)):
        try:
            got = read_record(files, str(k))
        except FileNotFoundError:
            complete = False
            problems.append(f"{label}: no answer was recorded")
            continue
        except RecordError as exc:
            problems.append(f"{label}: the recorded answer was refused: {exc}")
            continue
        found = judge(case, got, args)
        earned += credit(found)
        if found and course.is_hidden(ex_id, k):
            # a hidden case: which one and what kind of failure, never the message or the values (an answer
            # can make its exception, or a verdict can make its message, carry the hidden inputs out)
            what = "your answer raised an exception" if isinstance(got, Raised) else "the answer is not right"
            problems.append(f"{label}: {what} (a hidden case: its inputs and values are not shown)")
        elif found:
            problems.extend(_clean(f"{label}: {_quote(p)}") for p in found)
        else:
            passed += 1
    return passed, problems, complete, earned / max(1, len(cases))


def score_run(course: Course, course_nb: CourseNotebook, run: RunResult, code_roles: dict,
              found: dict[str, str], limits: Limits) -> dict[str, ExerciseResult]:
    """Each exercise's points and feedback from the answers a run recorded, judged in this process.

    Parameters
    ----------
    course : Course
        The course (cases, hidden ones included, and points).
    course_nb : CourseNotebook
        The notebook graded.
    run : RunResult
        The run, with the records its check cells wrote.
    code_roles : dict of int -> (str, str)
        Code-cell number -> (exercise id, role), from :func:`build_graded_notebook`.
    found : dict of str -> str
        Exercises whose cells were not found in the submission, and why.
    limits : Limits
        The run's limits (for the feedback).

    Returns
    -------
    dict of str -> ExerciseResult
        One per exercise of ``course_nb``, in notebook order.
    """
    by_exercise: dict[str, dict[str, list[int]]] = {}
    for cell, (ex_id, role) in code_roles.items():
        by_exercise.setdefault(ex_id, {}).setdefault(role, []).append(cell)
    results = {}
    for ex_id in course_nb.exercise_ids:
        max_points = course.points[ex_id]
        passed, problems, complete, earned = _verdicts(course, ex_id, run.answers)
        total = len(course.cases[ex_id])
        if passed == total and not problems:
            results[ex_id] = ExerciseResult(ex_id, course_nb.name, max_points, max_points, "passed")
            continue
        reasons = [found[ex_id]] if ex_id in found else []
        if not complete:
            for cell in [] if ex_id in found else by_exercise[ex_id].get("solution", []):
                sol = run.cells.get(cell)
                if sol is not None and not sol.passed:
                    reasons.append(_why(run, cell, "solution", limits))
            check = run.cells.get(by_exercise[ex_id]["check"][0])
            if check is not None and not check.error and check.outcome == "passed":
                reasons.append("the check cell ran but recorded no answer: did your code replace `cl.check` "
                               "or change how the check cell runs?")
            elif not reasons or ex_id not in found:
                reason = _why(run, by_exercise[ex_id]["check"][0], "check", limits)
                if reason not in reasons:
                    reasons.append(reason)
        if not reasons or any(not p.endswith(": no answer was recorded") for p in problems):
            shown = problems[:8] + ([f"... and {len(problems) - 8} more"] if len(problems) > 8 else [])
            verdict = [f"[{ex_id}] not yet: {passed}/{total} cases pass.", *(f"  - {p}" for p in shown)]
            reasons.append("\n".join(verdict))
        elif passed:
            reasons.append(f"[{ex_id}] {passed}/{total} cases pass; no answer was recorded for the other "
                           f"{len(problems)}.")
        else:
            reasons.append(f"[{ex_id}] no answer was recorded for any of its {total} cases.")
        points = round(max_points * earned, 2) if ex_id in course.partial else 0.0
        results[ex_id] = ExerciseResult(ex_id, course_nb.name, points, max_points, "\n".join(reasons))
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


@dataclass
class Prepared:
    """A submitted notebook ready to run: the graded notebook and what scoring it needs.

    Parameters
    ----------
    course_nb : CourseNotebook
        The instructor notebook it is graded against.
    nb : nbformat.NotebookNode or None
        The graded notebook (None: the file could not be read, see ``unreadable``).
    code_roles : dict of int -> (str, str)
        Code-cell number -> (exercise id, role).
    found : dict of str -> str
        Exercises whose cells were not found, and why.
    notes : list of str
        Copies of exercise cells, flagged solutions.
    unreadable : str or None
        Why the file could not be read (it is then not run).
    """

    course_nb: CourseNotebook
    nb: object = None
    code_roles: dict = field(default_factory=dict)
    found: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    unreadable: str | None = None


def prepare_submission(course_nb: CourseNotebook, data: bytes, *, skip_demos: bool = True) -> Prepared:
    """Find the student's answers in ``data`` and build the graded notebook (nothing runs).

    Parameters
    ----------
    course_nb : CourseNotebook
        The instructor notebook the file is graded against.
    data : bytes
        The submitted ``.ipynb`` file.
    skip_demos : bool, keyword-only
        Leave out the demonstration cells no verdict needs (:func:`~course_lib.grading.graded.needed_cells`).

    Returns
    -------
    Prepared
        The graded notebook, or why the file could not be read.
    """
    try:
        cells = parse_submission(data)
    except SubmissionError as exc:
        return Prepared(course_nb, unreadable=f"your notebook could not be read: {exc}")
    answers, found, notes = {}, {}, []
    from ..exercises import load_bank

    kinds = {k: e.kind for k, e in load_bank().items()}
    aliases = library_aliases(c.source for c in course_nb.nb.cells
                              if c.cell_type == "code" and "### BEGIN SOLUTION" not in c.source)
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
        calls = library_calls("\n".join(answers[ex.id]), aliases) if answers[ex.id] else []
        if calls and kinds.get(ex.id) != "outcome":
            shown = ", ".join(calls[:5]) + (f" and {len(calls) - 5} more" if len(calls) > 5 else "")
            notes.append(f"{ex.id}: the answer calls the course's library ({shown}) -- flagged for a human "
                         "to read whether it copies the library (not counted against the score)")
    nb, code_roles = build_graded_notebook(course_nb, answers, skip_demos=skip_demos)
    return Prepared(course_nb, nb, code_roles, found, notes)


def finish_submission(course: Course, prepared: Prepared, run: RunResult | None, limits: Limits
                      ) -> tuple[dict[str, ExerciseResult], list[str], float]:
    """Score a prepared submission from its run (None: it was not run): results, notes, seconds.

    Parameters
    ----------
    course : Course
        The course graded.
    prepared : Prepared
        From :func:`prepare_submission`.
    run : RunResult or None
        Its run (wherever it ran); None when the file was unreadable.
    limits : Limits
        The run's limits (for the feedback).

    Returns
    -------
    results : dict of str -> ExerciseResult
        One result per exercise, in notebook order.
    notes : list of str
        The preparation's notes and how the run ended if not normally.
    seconds : float
        How long the run took (0.0 if it did not run).
    """
    if prepared.unreadable is not None or run is None:
        return zero_results(course, prepared.course_nb, prepared.unreadable or "not run"), [], 0.0
    notes = list(prepared.notes)
    if run.status != "ok":
        notes.append(f"{prepared.course_nb.name}: {run.detail}")
    return (score_run(course, prepared.course_nb, run, prepared.code_roles, prepared.found, limits), notes,
            run.seconds)


def grade_notebook_data(course: Course, course_nb: CourseNotebook, data: bytes, *, limits: Limits | None = None,
                        data_dir=None) -> tuple[dict[str, ExerciseResult], list[str], float]:
    """Grade one submitted file against ``course_nb`` here: prepare it, run it, score it.

    A file that cannot be parsed gets zero points, with the reason as feedback; it is
    not run.

    Parameters
    ----------
    course : Course
        The course graded (points, cases, hidden tests).
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
    prepared = prepare_submission(course_nb, data, skip_demos=limits.skip_demos)
    run = None
    if prepared.unreadable is None:
        run = run_nbval(prepared.nb, limits=limits, data_dir=data_dir,
                        case_files=course.input_files(course_nb.exercise_ids))
    return finish_submission(course, prepared, run, limits)
