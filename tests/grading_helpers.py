"""The grading tests' mini course: the real notebooks 00 and 01 cut to their setup cell and exercises.

Fixture submissions start from its released student version and are edited the way students
do (``tests/grading/test_grading.py``, ``tests/grading/test_hostile.py``); solutions come from
the instructor notebooks, so the fixtures follow the course when its notebooks change.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.course import load_course
from course_lib.grading.notebooks import load_course_notebook
from course_lib.grading.release import release_course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
HIDDEN = ROOT / "hidden_tests"
MINI = ["00_introduction.ipynb", "01_weight_pruning.ipynb"]


def skip_without_data():
    """Skip (with what to do) when MNIST or CIFAR-10 is not where the course looks."""
    from course_lib.data import data_dir

    if not all((data_dir() / d).is_dir() for d in ("MNIST/raw", "cifar-10-batches-py")):
        pytest.skip("MNIST/CIFAR-10 not present: set COURSE_DATA_DIR or run `make data`")


def instructor_solutions(course_nb):
    """{exercise id: [source of each solution cell]} of an instructor notebook."""
    return {ex.id: [course_nb.nb.cells[i].source for i in ex.solution_cells] for ex in course_nb.exercises}


def cells(nb, exercise_id, role):
    """The cells of ``nb`` with this exercise and role (``"solution"`` or ``"check"``)."""
    return [c for c in nb.cells if c.metadata.get("course", {}).get("exercise") == exercise_id
            and c.metadata["course"]["role"] == role]


def solve(nb, exercise_id, source):
    """A copy of the student notebook ``nb`` with ``source`` in the exercise's cell."""
    nb = copy.deepcopy(nb)
    cells(nb, exercise_id, "solution")[0].source = source
    return nb


def write(nb, path):
    """Write ``nb`` to ``path`` (folders created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def rows(path):
    """The rows of a CSV file."""
    with open(path, newline="") as f:
        return list(csv.reader(f))


def build_mini(base: Path, names=MINI, *, outcomes: bool = False) -> dict:
    """The course notebooks ``names`` cut to their first code cell (the setup) and their exercises (each
    exercise's cells and the Markdown cell before them), under ``base``; their release; the solutions.

    ``outcomes``: keep the outcome tasks too (their solutions train or evaluate real models: seconds
    each; the fixture classes leave them out, the round trip keeps them)."""
    from course_lib.exercises import load_bank

    bank = load_bank()
    course_dir = base / "course"
    for name in names:
        course_nb = load_course_notebook(NOTEBOOKS / name)
        keep = {next(i for i, c in enumerate(course_nb.nb.cells) if c.cell_type == "code")}
        for ex in course_nb.exercises:
            if bank[ex.id].kind == "outcome" and not outcomes:
                continue
            keep |= {*ex.solution_cells, ex.check_cell, ex.check_cell - 1, ex.solution_cells[0] - 1}
        nb = copy.deepcopy(course_nb.nb)
        nb.cells = [c for i, c in enumerate(nb.cells) if i in keep]
        write(nb, course_dir / name)
    student_dir = base / "student"
    release_course(course_dir, student_dir)
    course = load_course(course_dir, hidden=HIDDEN)
    solutions = {}
    for nb in course.notebooks:
        solutions.update({k: v[0] for k, v in instructor_solutions(nb).items()})
    students = {name: nbformat.read(student_dir / name, as_version=4) for name in names}
    return {"dir": course_dir, "course": course, "student": students, "solutions": solutions, "base": base}


def solved(mini, name, **overrides):
    """The released notebook ``name`` with every exercise solved (``overrides``: other sources by exercise id)."""
    nb = mini["student"][name]
    for ex in mini["course"].notebooks[MINI.index(name)].exercise_ids:
        nb = solve(nb, ex, overrides.get(ex, mini["solutions"][ex]))
    return nb
