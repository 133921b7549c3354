"""What grading produces: per-exercise and per-student results, the CSV gradebook and feedback.

:class:`ExerciseResult` and :class:`StudentResult` hold the points and the reasons;
:func:`write_gradebook` writes the CSV (one row per student), :func:`write_feedback`
one Markdown file per student (:func:`feedback_markdown`), and
:func:`self_check_table` the table a student sees after a self-check.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course


def safe_text(text) -> str:
    """``text`` as a string that always encodes to UTF-8: lone surrogates (a file name that is not UTF-8, an
    exception message made by a student) become visible ``\\udcxx`` escapes instead of failing a write."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


__all__ = ["ExerciseResult", "StudentResult", "csv_safe", "safe_text", "write_gradebook", "feedback_markdown",
           "write_feedback",
           "self_check_table"]


@dataclass
class ExerciseResult:
    """The grade of one exercise of one student.

    Parameters
    ----------
    exercise_id : str
        The exercise.
    notebook : str
        The course notebook it belongs to (file name).
    points, max_points : float
        The points obtained, and the exercise's points.
    feedback : str
        ``"passed"``, or why the exercise did not pass (one reason per line).
    """

    exercise_id: str
    notebook: str
    points: float
    max_points: float
    feedback: str

    @property
    def passed(self) -> bool:
        """Whether the exercise got all its points."""
        return self.points == self.max_points


@dataclass
class StudentResult:
    """The grades of one student.

    Parameters
    ----------
    student_id : str
        The name of the student's folder or zip (without ``.zip``).
    exercises : dict of str -> ExerciseResult
        One result per exercise of the course, in course order once graded.
    notes : list of str
        Remarks for the student and the instructor (copies ignored, renamed notebooks,
        flagged solutions, runs stopped ...).
    seconds : float
        The time the student's notebook runs took in all.
    """

    student_id: str
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        """The student's points, summed over every exercise."""
        return sum(r.points for r in self.exercises.values())


# --------------------------------------------------------------------------- outputs

def _fmt(points: float) -> str:
    return f"{points:g}"


def csv_safe(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula.

    A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    read as a formula by Excel, LibreOffice and Google Sheets (OWASP's "CSV
    injection"): such a cell gets a leading ``'``, which spreadsheets show as text.
    """
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_gradebook(results: list[StudentResult], course: Course, path) -> Path:
    """Write the CSV gradebook: ``student_id, <exercise ids>, total, max_score``, one row per student, sorted.

    Parameters
    ----------
    results : list of StudentResult
        As returned by :func:`~course_lib.grading.grade.grade_class`.
    course : Course
        The course graded (its exercise ids in course order are the columns).
    path : str or path
        The CSV file; its folder is created if needed.

    Returns
    -------
    Path
        ``path``.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_id", *course.exercise_ids, "total", "max_score"])
    for s in sorted(results, key=lambda r: r.student_id):
        writer.writerow([csv_safe(s.student_id), *(_fmt(s.exercises[e].points) for e in course.exercise_ids),
                         _fmt(s.total), _fmt(course.max_score)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8", errors="backslashreplace")
    return path


def feedback_markdown(result: StudentResult, course: Course) -> str:
    """One student's feedback: a table of exercises, then why each failed one did not pass.

    Parameters
    ----------
    result : StudentResult
        The student's grades.
    course : Course
        The course graded (for the maximum score).

    Returns
    -------
    str
        A Markdown document, ending with the notes if there are any.
    """
    lines = [f"# Feedback for {result.student_id}", "",
             f"**Total: {_fmt(result.total)} / {_fmt(course.max_score)}**", "",
             "| notebook | exercise | points | result |", "|---|---|---|---|"]
    for r in result.exercises.values():
        status = "passed" if r.passed else "not passed"
        lines.append(f"| {r.notebook} | {r.exercise_id} | {_fmt(r.points)} / {_fmt(r.max_points)} | {status} |")
    failed = [r for r in result.exercises.values() if not r.passed]
    if failed:
        lines += ["", "## Why these exercises did not pass"]
        for r in failed:
            lines += ["", f"### {r.exercise_id} ({r.notebook})", "", "```", r.feedback.replace("```", "'''"), "```"]
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def write_feedback(results: list[StudentResult], course: Course, folder) -> list[Path]:
    """Write one Markdown feedback file per student, ``<folder>/<student_id>.md``.

    Parameters
    ----------
    results : list of StudentResult
        As returned by :func:`~course_lib.grading.grade.grade_class`.
    course : Course
        The course graded.
    folder : str or path
        Where the files go; created if needed.

    Returns
    -------
    list of Path
        The files written, in the order of ``results``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in results:
        path = folder / f"{safe_text(r.student_id)}.md"
        path.write_text(feedback_markdown(r, course), encoding="utf-8", errors="backslashreplace")
        paths.append(path)
    return paths


def self_check_table(name: str, results: dict[str, ExerciseResult], notes: list[str], seconds: float) -> str:
    """The table a self-check prints: one row per exercise with its points and feedback, then the total.

    Parameters
    ----------
    name : str
        The notebook's file name (for the title).
    results : dict of str -> ExerciseResult
        The notebook's exercises, in notebook order.
    notes : list of str
        Remarks printed after the total.
    seconds : float
        How long the run took.

    Returns
    -------
    str
        The table, without a final newline.
    """
    width = max([len(e) for e in results] + [8])
    lines = [f"{name}: checked like the grader does (public cases only) in {seconds:.0f} s", "",
             f"{'exercise':{width}s}  points  result"]
    for r in results.values():
        first, *rest = r.feedback.splitlines() or [""]
        lines.append(f"{r.exercise_id:{width}s}  {_fmt(r.points):>2s}/{_fmt(r.max_points):<3s}  {first}")
        lines += [f"{'':{width}s}          {line}" for line in rest]
    total = sum(r.points for r in results.values())
    lines += ["", f"total: {_fmt(total)} / {_fmt(sum(r.max_points for r in results.values()))}"]
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)
