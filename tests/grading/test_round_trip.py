"""Release -> solve -> grade with the hidden tests, on every notebook of the course that has exercises.

Each notebook is cut to its setup cell and its exercises (``grading_helpers.build_mini``: every
exercise cell is self-contained, which this test also proves), released, solved with the
instructor's solutions pasted into the student version, and graded with every hidden case: full
marks. The whole notebooks are executed by their own nbval tests (``notebooks/``), whose check
cells run the public cases; this test adds the hidden cases and the grading pipeline (the
sandbox, the recorded answers, the verdicts computed outside) on every exercise of the course.
"""

import json

import nbformat
import pytest
from grading_helpers import NOTEBOOKS, build_mini, cells, instructor_solutions, skip_without_data, write

from course_lib.grading import grade
from course_lib.grading.notebooks import load_course_notebook, submission_answers
from course_lib.grading.runner import Limits, build_graded_notebook

WITH_EXERCISES = [p.name for p in sorted(NOTEBOOKS.glob("*.ipynb")) if load_course_notebook(p).exercises]


def test_every_notebook_of_the_course_has_exercises_here():
    assert len(WITH_EXERCISES) >= 10 and WITH_EXERCISES[0] == "00_introduction.ipynb"


@pytest.mark.slow
def test_release_solve_grade_round_trip_on_every_course_notebook(tmp_path):
    """The solved student versions score full marks with every hidden case; the instructor notebooks, graded
    as a submission, build exactly the same graded notebooks (their solution cells are the same sources)."""
    skip_without_data()
    mini = build_mini(tmp_path / "cut", names=WITH_EXERCISES, outcomes=True)
    course = mini["course"]
    assert [nb.name for nb in course.notebooks] == WITH_EXERCISES
    folder = tmp_path / "submissions" / "solver"
    for course_nb in course.notebooks:
        nb = mini["student"][course_nb.name]
        for ex_id, sources in instructor_solutions(course_nb).items():
            for cell, source in zip(cells(nb, ex_id, "solution"), sources):
                cell.source = source
        write(nb, folder / course_nb.name)
        solved = json.loads((folder / course_nb.name).read_text())["cells"]
        instructor = json.loads((NOTEBOOKS / course_nb.name).read_text())["cells"]
        graded = [nbformat.writes(build_graded_notebook(
            course_nb, {ex.id: submission_answers(cells_, ex)[0] for ex in course_nb.exercises})[0])
            for cells_ in (solved, instructor)]
        assert graded[0] == graded[1]
    results = grade.grade_class(tmp_path / "submissions", course, jobs=2,
                                limits=Limits(cell_timeout=900, notebook_timeout=3000))
    (solver,) = results
    failed = {e: r.feedback for e, r in solver.exercises.items() if not r.passed}
    assert not failed, failed
    assert solver.total == course.max_score and len(solver.exercises) == len(course.exercise_ids)
