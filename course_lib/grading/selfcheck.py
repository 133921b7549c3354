"""``self_check``: a student's notebook graded the way the grader will, with the public cases only.

The same pipeline as :func:`course_lib.grading.grade.grade_class` for one file -- the same
sandbox, the same environment for the kernel, the verdicts computed here from the recorded
answers -- so a cell cannot tell the self-check from the grade.
"""

from __future__ import annotations

from pathlib import Path

from .course import DEFAULT_COURSE, Course, course_cases
from .gradebook import ExerciseResult, self_check_table
from .notebooks import CourseNotebook, find_exercises, load_course_notebook, parse_submission, submission_ids
from .runner import Limits
from .scoring import grade_notebook_data

__all__ = ["self_check"]


def _match_course_notebook(course_dir: Path, path: Path, cells) -> CourseNotebook | None:
    """The course notebook named like ``path``, else the one sharing most exercises with ``cells``."""
    candidates = sorted(course_dir.glob("*.ipynb")) if course_dir.is_dir() else []
    exact = [c for c in candidates if c.name == path.name]
    if exact:
        return load_course_notebook(exact[0])
    ids = submission_ids(cells)
    best = None
    for c in candidates:
        nb = load_course_notebook(c)
        overlap = len(ids & set(nb.exercise_ids))
        if overlap and (best is None or overlap > best[0]):
            best = (overlap, nb)
    return best[1] if best else None


def self_check(path, *, course_dir=None, limits: Limits | None = None, data_dir=None, quiet: bool = False
               ) -> list[ExerciseResult]:
    """Check a saved notebook the way the grader will (public cases only) and print a table.

    The reference is the course's notebook of the same name (else the one holding the
    same exercises; else the file's own structure). Save the notebook first: what is
    checked is the file on disk.

    Parameters
    ----------
    path : str or path
        The saved notebook.
    course_dir : str or path, optional, keyword-only
        The course notebooks to compare with (default: the repository's ``notebooks/``).
    limits : Limits, optional, keyword-only
        Time and memory limits of the run (default: :class:`~course_lib.grading.runner.Limits`).
    data_dir : str or path, optional, keyword-only
        The data folder the kernel reads (default: ``$COURSE_DATA_DIR``, else ``data/``).
    quiet : bool, keyword-only
        Do not print the table (default False).

    Returns
    -------
    list of ExerciseResult
        One per exercise of the notebook, in notebook order.

    Raises
    ------
    OSError
        If the file cannot be read.
    ValueError
        If it is not a readable notebook (:class:`~course_lib.grading.notebooks.SubmissionError`)
        or its exercise cells are malformed.
    """
    import nbformat

    path = Path(path)
    limits = limits or Limits()
    data = path.read_bytes()
    cells = parse_submission(data)
    template = _match_course_notebook(Path(course_dir) if course_dir else DEFAULT_COURSE, path, cells)
    if template is None:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        template = CourseNotebook(path.name, nb, find_exercises(nb, path.name))
    from ..exercises import EXERCISES

    cases = course_cases(None)
    course = Course([template], {e: float(EXERCISES[e].points) for e in template.exercise_ids},
                    {e: cases[e] for e in template.exercise_ids},
                    partial=frozenset(e for e in template.exercise_ids if EXERCISES[e].kind == "outcome"))
    results, notes, seconds = grade_notebook_data(course, template, data, limits=limits, data_dir=data_dir)
    if not quiet:
        print(self_check_table(path.name, results, notes, seconds))
    return list(results.values())
