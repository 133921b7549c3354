"""``python -m course_lib.bench grading`` and ``grading-dask``: what grading a class costs, its sandbox and Dask."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from .core import Row, benchmark

__all__: list[str] = []


def _sandbox_cost(course, repeats: int) -> Row:
    """One notebook's graded run with and without the bubblewrap sandbox, interleaved."""
    import nbformat

    from ..grading.notebooks import submission_answers
    from ..grading.runner import Limits, build_graded_notebook, run_nbval

    nb = course.notebooks[0]
    cells = json.loads(nbformat.writes(nb.nb))["cells"]  # the instructor's notebook handed in as a submission
    answers = {ex.id: submission_answers(cells, ex)[0] for ex in nb.exercises}
    graded = build_graded_notebook(nb, answers)[0]
    cases = course.input_files(nb.exercise_ids)
    times = {True: [], False: []}
    for _ in range(repeats):
        for sandboxed in (False, True):
            start = time.perf_counter()
            run = run_nbval(graded, limits=Limits(sandbox=sandboxed), case_files=cases)
            if run.status != "ok":
                raise RuntimeError(f"the graded run of {nb.name} failed (sandbox={sandboxed}): {run.detail}")
            times[sandboxed].append(time.perf_counter() - start)
    return Row("grading", f"{nb.name}, one run, median of {repeats}", "sandboxed", sorted(times[True])[repeats // 2],
               "plain process", sorted(times[False])[repeats // 2], "s")


@benchmark("grading-dask")
def bench_grading_dask(quick: bool) -> list[Row]:
    """``python -m course_lib.bench grading-dask``: the Dask executor's overhead on this machine.

    The same class (students handing in the instructor's notebook 01) graded by the local pool of
    2 jobs and by a Dask ``LocalCluster`` of 2 single-slot workers, the cluster's start included.
    """
    import nbformat

    from ..grading import grade


    hidden = grade.DEFAULT_HIDDEN if grade.DEFAULT_HIDDEN.exists() else None
    course = grade.load_course(hidden=hidden, names=["01_weight_pruning.ipynb"])
    n_students = 4 if quick else 12
    with tempfile.TemporaryDirectory(prefix="course-bench-dask-") as tmp:
        for i in range(n_students):
            Path(tmp, f"student{i:02d}").mkdir()
            nbformat.write(course.notebooks[0].nb, Path(tmp, f"student{i:02d}", course.notebooks[0].name))
        return [_dask_cost(tmp, course, n_students)]


def _dask_cost(folder, course, n_students: int) -> Row:
    """The same class graded by the local pool (2 jobs) and by a Dask LocalCluster of 2 workers."""
    from ..grading import grade
    from ..grading.executors import DaskExecutor, LocalExecutor

    times, books = {}, {}
    for name, make in (("local", lambda: LocalExecutor(2)), ("dask", lambda: DaskExecutor(local_workers=2))):
        executor = make()
        try:
            start = time.perf_counter()
            results = grade.grade_class(folder, course, executor=executor)
            times[name] = time.perf_counter() - start
        finally:
            executor.close()
        books[name] = [(r.student_id, r.total) for r in results]
    if books["local"] != books["dask"]:
        raise RuntimeError(f"the Dask executor graded differently: {books}")
    return Row("grading", f"{n_students} students, the executor's overhead (cluster start included)",
               "Dask LocalCluster, 2 workers", times["dask"] / n_students, "local pool, 2 jobs",
               times["local"] / n_students, "s")


@benchmark("grading")
def bench_grading(quick: bool) -> list[Row]:
    """Grading a class: wall time per student running only what the verdicts need vs every cell.

    Each student hands in the instructor notebooks (every exercise right, hidden tests on). The class is
    graded twice in one run, with one job per core: every cell of each notebook run (``--all-cells``, the
    grader before demonstrations were skipped) for 2 students, then only the setup, the answers, their
    checks and the cells they use (the default) for 4 students, so that the once-per-class loads (models and
    test sets of the grader's verdicts) weigh as little as they do in a class; both must give every student
    full marks. A class of 100 is extrapolated from the measured batch. The last row is the sandbox's cost on
    one notebook's run.
    """
    import dataclasses

    import nbformat

    from ..grading import grade
    from ..grading.runner import Limits

    hidden = grade.DEFAULT_HIDDEN if grade.DEFAULT_HIDDEN.exists() else None
    course = grade.load_course(hidden=hidden, names=["01_weight_pruning.ipynb"] if quick else None)
    jobs = 2 if quick else (os.cpu_count() or 1)
    students = {False: 2, True: 2 if quick else 4}  # every cell / the verdicts' cells
    full = sum(course.points.values())
    walls = {}
    for skip in (False, True):
        with tempfile.TemporaryDirectory(prefix="course-bench-grading-") as tmp:
            for i in range(students[skip]):
                folder = Path(tmp, f"student{i:02d}")
                folder.mkdir()
                for nb in course.notebooks:
                    nbformat.write(nb.nb, folder / nb.name)
            start = time.perf_counter()
            results = grade.grade_class(tmp, course, jobs=jobs, limits=dataclasses.replace(Limits(), skip_demos=skip))
            walls[skip] = (time.perf_counter() - start) / students[skip]
            wrong = [r.student_id for r in results if r.total != full]
            if wrong:
                raise RuntimeError(f"the instructor notebooks did not score full marks for {wrong} "
                                   f"(skip_demos={skip}): run `python -m pytest tests/grading/test_round_trip.py`")
    one = grade.load_course(hidden=hidden, names=["01_weight_pruning.ipynb"])
    counts = (f"{students[True]}" if students[True] == students[False]
              else f"{students[True]} (every cell: {students[False]})")
    case = f"{counts} students x {len(course.notebooks)} notebooks, --jobs {jobs}"
    return [Row("grading", case, "wall per student, verdicts' cells", walls[True],
                "every cell (--all-cells)", walls[False], "s"),
            Row("grading", "a class of 100 (extrapolated)", "wall", 100 * walls[True], "1 hour", 3600.0, "s"),
            _sandbox_cost(one, 1 if quick else 3)]
