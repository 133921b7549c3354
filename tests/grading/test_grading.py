"""Student release, self-check and nbval-based class grading (course_lib.grading).

The fixture submissions are generated here, from the released student version of a
*mini course* (the real notebooks 00 and 01 cut down to their setup cell and their
exercises, so that each kernel run takes seconds), then edited the way students do.
The expected gradebook rows are in ``tests/grading/fixtures/expected_gradebook.csv``;
``tests/grading/fixtures/README.md`` says what each fixture student hands in.
The round trip on every real course notebook is marked ``slow``.
"""

import copy
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from grading_helpers import HIDDEN, MINI, NOTEBOOKS, ROOT, build_mini
from grading_helpers import cells as _cells
from grading_helpers import instructor_solutions as _instructor_solutions
from grading_helpers import rows as _rows
from grading_helpers import skip_without_data as _skip_without_data
from grading_helpers import solved as _solved
from grading_helpers import write as _write

import course_lib as cl
from course_lib.exercises import EXERCISES
from course_lib.grading import grade, load_course, load_course_notebook, release_course, release_notebook
from course_lib.grading.notebooks import (
    SubmissionError,
    find_exercises,
    parse_submission,
    submission_answers,
)
from course_lib.grading.release import solution_lines, strip_solution
from course_lib.grading.runner import Limits, build_graded_notebook, recorded_line

FIXTURES = Path(__file__).resolve().parent / "fixtures"
COURSE_NOTEBOOKS = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))



# --------------------------------------------------------------------------- helpers

EXPECTED = _rows(FIXTURES / "expected_gradebook.csv")

WRONG = {
    "00-layer-costs": "def layer_costs(input_shape, layers):\n    return [(0, 0, tuple(input_shape)) for _ in layers]",
    "00-confident-mistakes": "def confident_mistakes(logits, labels, k):\n    return np.arange(k)[::-1]",
    "01-row-mask": "def row_mask(w, k):\n    return np.abs(w) > 0",
}

READS_REFERENCE = '''import glob, re
patterns = ["*", "*.ipynb", "**/*.ipynb", "../*", "../**/*.ipynb", "../**/*.py", "notebooks/*.ipynb",
            "../notebooks/*.ipynb", "../../notebooks/*.ipynb", "hidden_tests/*.py", "../hidden_tests/*.py"]
for path in sorted({p for pattern in patterns for p in glob.glob(pattern, recursive=True)}):
    try:
        text = open(path, errors="replace").read()
    except OSError:
        continue
    match = re.search(r"def nm_mask.*?### END SOLUTION", text, re.S)
    if match and "NotImplementedError" not in match.group(0):
        exec(match.group(0), globals())
'''

OVERWRITES = '''import os
for top in (".", ".."):
    for root, dirs, files in os.walk(top):
        for name in files:
            try:
                with open(os.path.join(root, name), "w") as f:
                    f.write("[01-nm-mask] correct: 4/4 cases pass.\\n")
            except OSError:
                pass
for name in ("../gradebook.csv", "../report.json", "../junit.xml", "gradebook.csv", "submission.ipynb"):
    with open(name, "w") as f:
        f.write("s15_overwrites_grader_files,1,1,1,1,1,5,5\\n")
'''

DELETES = '''import os, shutil
for top in (".", ".."):
    for name in os.listdir(top):
        path = os.path.join(top, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
'''


HARD_CODED = [("00-layer-costs", "layer_costs", "(tuple(input_shape), len(layers))"),
              ("00-confident-mistakes", "confident_mistakes", "(np.shape(logits), k)"),
              ("01-row-mask", "row_mask", "(np.shape(w), k)")]


def _hard_coded(exercise_id, correct_source, name, key):
    """Source of a function that looks the public cases' answers up in a table (computes nothing)."""
    namespace = {"np": np}
    exec(correct_source, namespace)
    correct, table, arrays = namespace[name], {}, []
    params = correct.__code__.co_varnames[:correct.__code__.co_argcount]

    def spy(*args):
        result = correct(*args)
        arrays.append(isinstance(result, np.ndarray))
        table[eval(key, {"np": np, **dict(zip(params, args))})] = (
            result.tolist() if isinstance(result, np.ndarray) else result)
        return result

    for _, run in EXERCISES[exercise_id].cases:
        run(spy)
    out = f"np.array(table[{key}])" if all(arrays) else f"table[{key}]"
    return f"def {name}({', '.join(params)}):\n    table = {table!r}\n    return {out}\n"


# --------------------------------------------------------------------------- release (no kernel)

def test_strip_solution_keeps_indentation_and_names_the_exercise():
    source = "def f(x):\n    y = x\n    ### BEGIN SOLUTION\n    return 2 * y\n    ### END SOLUTION\n"
    assert strip_solution(source, "ex-1") == (
        'def f(x):\n    y = x\n    raise NotImplementedError("exercise ex-1: write your solution here")\n')
    top = "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
    assert strip_solution(top, "ex-2") == 'raise NotImplementedError("exercise ex-2: write your solution here")'
    with pytest.raises(ValueError, match="never closed"):
        strip_solution("### BEGIN SOLUTION\nx = 1", "ex-3")
    with pytest.raises(ValueError, match="without"):
        strip_solution("x = 1\n### END SOLUTION", "ex-4")


@pytest.mark.parametrize("name", COURSE_NOTEBOOKS)
def test_release_has_no_solutions_no_outputs_and_keeps_demos(name, tmp_path):
    before = hashlib.sha256((NOTEBOOKS / name).read_bytes()).hexdigest()
    course_nb = load_course_notebook(NOTEBOOKS / name)
    (path,) = release_course(NOTEBOOKS, tmp_path, names=[name])
    assert hashlib.sha256((NOTEBOOKS / name).read_bytes()).hexdigest() == before, "the source must not change"
    text = path.read_text()
    student = nbformat.read(path, as_version=4)
    nbformat.validate(student)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    for sources in _instructor_solutions(course_nb).values():
        for line in solution_lines("\n".join(sources)):
            assert line not in text
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in student.metadata and "image/png" not in text
    assert student.metadata["course"] == {"notebook": name, "exercises": course_nb.exercise_ids}
    for ex in course_nb.exercises:
        (solution,) = _cells(student, ex.id, "solution")
        assert f'raise NotImplementedError("exercise {ex.id}: write your solution here")' in solution.source
        (check,) = _cells(student, ex.id, "check")
        assert check.source == course_nb.nb.cells[ex.check_cell].source
        assert "nbval-check-output" in check.metadata.get("tags", [])
    demo = [c.source for i, c in enumerate(course_nb.nb.cells)
            if i not in {j for e in course_nb.exercises for j in (*e.solution_cells, e.check_cell)}]
    assert demo == [c.source for c in student.cells if "course" not in c.metadata]
    released = find_exercises(student)
    assert [(e.id, e.solution_cells, e.check_cell) for e in released] == [
        (e.id, e.solution_cells, e.check_cell) for e in course_nb.exercises]


def test_release_hides_the_by_hand_answers():
    student = nbformat.writes(release_notebook(load_course_notebook(NOTEBOOKS / "01_weight_pruning.ipynb")))
    for secret in ("[[0.31, 0.0, 0.75]", "-0.48, 0.0, -0.11", '{"A", "B", "C", "E"}', "'A', 'B', 'C', 'E'"):
        assert secret not in student


def test_release_refuses_to_overwrite_the_instructor_notebooks(tmp_path):
    with pytest.raises(ValueError, match="would overwrite the solutions"):
        release_course(NOTEBOOKS, NOTEBOOKS)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
                                         nbformat.v4.new_markdown_cell("The answer is `x = 1` and more text")])
    nb.cells.append(nbformat.v4.new_code_cell('cl.check("ex", x)'))
    nb.cells[1].source = "x = 1 + 0 + 0 + 0 is the answer"
    nb.cells[0].source = "### BEGIN SOLUTION\nx = 1 + 0 + 0 + 0\n### END SOLUTION"
    _write(nb, tmp_path / "leaky.ipynb")
    with pytest.raises(ValueError, match="would still contain solution lines"):
        release_course(tmp_path, tmp_path / "out")


def test_release_command_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "course_lib.grading.release", "--out", str(tmp_path / "student"),
                          "01_weight_pruning.ipynb"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "01_weight_pruning.ipynb: 4 exercise(s): 01-row-mask" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "course_lib.grading.release", "--out", str(NOTEBOOKS)],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "would overwrite the solutions" in bad.stderr


# --------------------------------------------------------------------------- reading submissions (no kernel)

@pytest.mark.parametrize("data,message", [
    (b'{"cells": [', "not valid JSON"),
    (b"\xff\xfe garbage", "not UTF-8"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (b'{"nbformat": 4}', "not a Jupyter notebook"),
    (b"[" * 100000 + b"]" * 100000, "not"),
])
def test_unreadable_submissions_say_why(data, message):
    with pytest.raises(SubmissionError, match=message):
        parse_submission(data)


def test_answers_are_found_by_metadata_check_call_or_stub():
    course_nb = load_course_notebook(NOTEBOOKS / "01_weight_pruning.ipynb")
    ex = course_nb.exercises[1]
    student = release_notebook(course_nb)
    cells = json.loads(nbformat.writes(student))["cells"]
    source, how = submission_answers(cells, ex)
    assert how == "cell metadata" and "NotImplementedError" in source[0]
    cells.reverse()  # reordered cells keep their metadata
    assert submission_answers(cells, ex)[0] == source
    copy_cell = copy.deepcopy(next(c for c in cells if c["metadata"].get("course", {}).get("role") == "solution"
                                   and c["metadata"]["course"]["exercise"] == ex.id))
    copy_cell["source"] = "# an older attempt"
    twice, how = submission_answers(cells + [copy_cell], ex)
    assert twice == source and "1 more copies of the exercise cell: the first one was graded" in how
    instructor = json.loads(nbformat.writes(course_nb.nb))["cells"]  # no metadata: the cell before the check
    source, how = submission_answers(instructor, ex)
    assert how == "the cell before its check" and "### BEGIN SOLUTION" in source[0]
    no_meta = [dict(c, metadata={}) for c in json.loads(nbformat.writes(student))["cells"]]
    no_meta = [c for c in no_meta if "cl.check(" not in "".join(c["source"])]  # check cells deleted too
    source, how = submission_answers(no_meta, ex)
    assert how == "its NotImplementedError"
    deleted = [c for c in instructor if "nm_mask" not in "".join(c["source"])]
    assert submission_answers(deleted, ex) == (None, "exercise cell not found in your notebook (deleted?)")


def test_graded_notebook_takes_checks_from_the_instructor_and_holds_no_verdict():
    course = load_course(NOTEBOOKS, hidden=HIDDEN, names=["00_introduction.ipynb"])
    course_nb = course.notebooks[0]
    assert course.case_counts["00-layer-costs"] > len(EXERCISES["00-layer-costs"].cases)  # the hidden cases
    answers = {"00-layer-costs": ["print('mine')"], "00-confident-mistakes": None}
    nb, roles = build_graded_notebook(course_nb, answers, skip_demos=False)  # every cell, as in the notebook
    code = [c for c in nb.cells if c.cell_type == "code"]
    by_role = {v: k for k, v in roles.items()}
    assert code[by_role[("00-layer-costs", "solution")]].source == "print('mine')"
    assert "NotImplementedError" in code[by_role[("00-confident-mistakes", "solution")]].source
    check = code[by_role[("00-layer-costs", "check")]]
    assert check.source == 'cl.check("00-layer-costs", layer_costs)'
    # nothing for nbval to compare and nothing of the hidden tests: the verdicts are computed by the grader
    assert all(not c.outputs and not c.metadata.get("tags") for c in code)
    text = nbformat.writes(nb)
    assert "hidden" not in text and "add_cases" not in text and "correct:" not in text
    assert len(code) == sum(c.cell_type == "code" for c in course_nb.nb.cells)
    assert recorded_line("x", 3) == "[x] answers recorded: 3 cases."


def test_gradebook_csv_format(tmp_path):
    course = load_course(NOTEBOOKS, names=["00_introduction.ipynb"])
    results = [grade.StudentResult("bob"), grade.StudentResult("alice")]
    for r, pts in zip(results, (1.0, 0.0)):
        for e in course.exercise_ids:
            r.exercises[e] = grade.ExerciseResult(e, "00_introduction.ipynb", pts, 1.0, "why")
    path = grade.write_gradebook(results, course, tmp_path / "g.csv")
    assert path.read_text() == ("student_id,00-layer-costs,00-confident-mistakes,total,max_score\n"
                                "alice,0,0,0,2\nbob,1,1,2,2\n")
    text = grade.feedback_markdown(results[1], course)
    assert "**Total: 0 / 2**" in text and "### 00-confident-mistakes (00_introduction.ipynb)" in text


# --------------------------------------------------------------------------- one nbval run (small kernels)

def _tiny_notebook(*sources, checked=()):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    for i, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        if i in dict(checked):
            cell.metadata["tags"] = ["nbval-check-output"]
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=dict(checked)[i])]
        nb.cells.append(cell)
    return nb


@pytest.mark.parametrize("pipe", [True, False], ids=["pipe", "file (Windows)"])
def test_run_reports_every_cell(pipe, monkeypatch):
    from course_lib.grading import runner

    monkeypatch.setattr(runner, "USE_PIPE", pipe)
    nb = _tiny_notebook("import os, sys, warnings\nprint(sorted(os.listdir('.')))", "print('right')",
                        "print('wrong')", "1 / 0", "warnings.warn('noise'); print('right')",
                        checked=[(1, "right\n"), (2, "right\n"), (4, "right\n")])
    run = runner.run_nbval(nb, limits=Limits(cell_timeout=60, notebook_timeout=120))
    assert run.status == "ok", run.detail
    assert [run.cells[i].outcome for i in range(5)] == ["passed", "passed", "failed", "failed", "passed"]
    assert run.cells[0].stdout == "[]\n", "the graded notebook is gone from the working folder before code runs"
    assert run.cells[2].stdout == "wrong\n" and run.cells[3].error == "ZeroDivisionError: division by zero"
    assert "noise" in run.cells[4].stderr, "stderr is reported but not compared"


def test_run_is_stopped_at_the_memory_and_notebook_limits():
    from course_lib.grading import runner

    nb = _tiny_notebook("print('before')", "big = bytearray(600 * 2**20)", "import time\ntime.sleep(60)",
                        checked=[(0, "before\n")])
    run = runner.run_nbval(nb, limits=Limits(cell_timeout=60, notebook_timeout=120, memory_mb=400))
    assert run.status == "memory" and "more than 400 MB" in run.detail
    assert run.cells[0].passed and 2 not in run.cells
    run = runner.run_nbval(_tiny_notebook("print('before')", "import time\ntime.sleep(60)"),
                           limits=Limits(cell_timeout=60, notebook_timeout=8))
    assert run.status == "timeout" and run.cells[0].passed and 1 not in run.cells and run.seconds < 30


def test_run_is_stopped_at_its_disk_and_process_budgets():
    """Files written anywhere in the run's folder count against --disk-mb; threads and processes against
    max_processes; the sandbox's /tmp is a fixed-size tmpfs (a write past it fails inside the run)."""
    from course_lib.grading import runner

    write = ("import os\nfor i in range(20):\n    with open(os.path.expanduser(f'~/f{i}'), 'wb') as f:\n"
             "        f.write(b'0' * 2**23)\nimport time\ntime.sleep(30)")
    run = runner.run_nbval(_tiny_notebook("print('before')", write),
                           limits=Limits(cell_timeout=60, notebook_timeout=120, disk_mb=64))
    assert run.status == "disk" and "more than 64 MB" in run.detail and run.cells[0].passed
    threads = ("import threading, time\nfor _ in range(200):\n"
               "    threading.Thread(target=time.sleep, args=(60,)).start()\ntime.sleep(30)")
    run = runner.run_nbval(_tiny_notebook("print('before')", threads, "print('never')"),
                           limits=Limits(cell_timeout=60, notebook_timeout=120, max_processes=100))
    assert run.status == "processes" and "more than 100 processes" in run.detail and 2 not in run.cells
    if runner.sandbox.sandbox_available():
        fill = ("try:\n    open('/tmp/big', 'wb').write(b'0' * 40 * 2**20)\n    print('written')\n"
                "except OSError as exc:\n    print('refused', exc.errno)")
        run = runner.run_nbval(_tiny_notebook(fill), limits=Limits(cell_timeout=60, notebook_timeout=120,
                                                                   disk_mb=64, sandbox=True))
        assert run.status == "ok" and run.cells[0].stdout.startswith("refused 28"), run.cells[0].stdout  # ENOSPC


def test_a_flood_of_displays_and_prints_is_cut_not_fatal():
    """The graded notebook's first cell caps each cell's displays and printed text: the cells after a flood run."""
    from course_lib.grading import runner
    from course_lib.grading._kernel_caps import INSTALL_LINE

    nb = _tiny_notebook(INSTALL_LINE, "for i in range(20_000):\n    display(i)\nprint('x' * 5_000_000)",
                        "print('after')")
    run = runner.run_nbval(nb, limits=Limits(cell_timeout=120, notebook_timeout=300))
    assert run.status == "ok", run.detail
    assert run.cells[1].passed and "further displays" in run.cells[1].stdout
    assert run.cells[2].passed and run.cells[2].stdout == "after\n"


def test_interrupting_the_grader_stops_the_kernels(monkeypatch):
    import threading

    import psutil

    from course_lib.grading import runner

    roots, mkdtemp = [], runner.tempfile.mkdtemp
    monkeypatch.setattr(runner.tempfile, "mkdtemp", lambda **kw: roots.append(mkdtemp(**kw)) or roots[-1])
    timer = threading.Timer(6, runner.CANCEL.set)
    timer.start()
    try:
        run = runner.run_nbval(_tiny_notebook("import time\ntime.sleep(120)"), limits=Limits(cell_timeout=200))
    finally:
        timer.cancel()
        runner.CANCEL.clear()
    assert run.status == "cancelled" and run.seconds < 60
    left = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("HOME", "").startswith(roots[0]):
                left.append(p)
        except psutil.Error:
            pass
    assert not left, "no pytest or kernel process of the run survives it"


# --------------------------------------------------------------------------- the fixture class (kernels)

@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """Instructor mini course, its release, and the instructor's solutions."""
    _skip_without_data()
    return build_mini(tmp_path_factory.mktemp("mini"))


def _fixture_students(mini, root):
    """Write the fixture submissions (see tests/grading/fixtures/README.md); returns {student: folder}."""
    n00, n01 = MINI
    sol = mini["solutions"]
    subs = root / "submissions"
    _write(_solved(mini, n00), subs / "s01_correct" / n00)
    _write(_solved(mini, n01), subs / "s01_correct" / n01)
    for name in MINI:
        _write(mini["student"][name], subs / "s02_untouched" / name)
    _write(_solved(mini, n00, **{"00-confident-mistakes": WRONG["00-confident-mistakes"]}), subs / "s03_partial" / n00)
    _write(_solved(mini, n01, **{"01-row-mask": WRONG["01-row-mask"]}), subs / "s03_partial" / n01)
    _write(_solved(mini, n01, **{
        "01-nm-mask": 'raise RuntimeError("boom")\n' + sol["01-nm-mask"],
        "01-row-mask": "def row_mask(w, k):\n    return 1 / 0"}), subs / "s04_raises" / n01)
    _write(_solved(mini, n01, **{"01-row-mask": "def row_mask(w, k)\n    return w"}),
           subs / "s05_syntax_error" / n01)
    nb = _solved(mini, n01)
    nb.cells = [c for c in nb.cells if c.cell_type == "code" and not (
        c.metadata.get("course", {}).get("exercise") == "01-row-mask"
        or c.metadata.get("course") == {"exercise": "01-nm-mask", "role": "check"})]
    _write(nb, subs / "s06_deleted_cells" / n01)
    nb = _solved(mini, n01)
    nb.cells = nb.cells[::-1]
    _write(nb, subs / "s07_reordered_cells" / n01)
    nb = _solved(mini, n01)
    nb.metadata = {}
    for c in nb.cells:
        c.metadata = {}
    _write(nb, subs / "s08_renamed_notebook" / "homework-final (1).ipynb")
    _write(_solved(mini, n00), subs / "s09_missing_notebook" / n00)
    with zipfile.ZipFile(subs / "s10_corrupted_notebook.zip", "w") as zf:
        zf.writestr(f"s10/{n00}", nbformat.writes(_solved(mini, n00)))
        zf.writestr(f"s10/{n01}", nbformat.writes(_solved(mini, n01))[:5000])
        zf.writestr(f"__MACOSX/s10/._{n01}", b"\x00\x05\x16\x07")
    nb = _solved(mini, n01, **{
        "01-nm-mask": sol["01-nm-mask"] + "\nprint('\\n'.join(map(str, range(10**7))))",
        "01-row-mask": sol["01-row-mask"].replace("    ### BEGIN SOLUTION",
                                                              "    print('noise\\n' * 10**5)\n    ### BEGIN SOLUTION")})
    _cells(nb, "01-csr-break-even", "solution")[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 50 * 2**20)]
    _write(nb, subs / "s11_gigantic_outputs" / n01)
    nb = mini["student"][n01]
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        role = c.metadata.get("course", {})
        if role.get("role") == "check":
            n = len(EXERCISES[role["exercise"]].cases)
            line = f"[{role['exercise']}] correct: {n}/{n} cases pass.\n"
            c.source = f"print({line.strip()!r})"
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=line)]
            c.execution_count = 1
    _write(nb, subs / "s12_tampered_outputs" / n01)
    hard = {ex: _hard_coded(ex, sol[ex], name, key) for ex, name, key in HARD_CODED}
    _write(_solved(mini, n00, **{e: hard[e] for e in ("00-layer-costs", "00-confident-mistakes")}),
           subs / "s13_hard_coded" / n00)
    _write(_solved(mini, n01, **{"01-row-mask": hard["01-row-mask"]}), subs / "s13_hard_coded" / n01)
    _write(_solved(mini, n01, **{"01-nm-mask": READS_REFERENCE}), subs / "s14_reads_reference" / n01)
    _write(_solved(mini, n01, **{"01-nm-mask": OVERWRITES + sol["01-nm-mask"]}),
           subs / "s15_overwrites_grader_files" / n01)
    _write(_solved(mini, n01, **{"01-nm-mask": DELETES + sol["01-nm-mask"]}),
           subs / "s16_deletes_working_dir" / n01)
    _write(_solved(mini, n01, **{"01-row-mask": "_big = np.ones(4 * 10**9)\n" + sol["01-row-mask"]}),
           subs / "s17_memory_hog" / n01)
    (subs / "s18_bad_archive.zip").write_bytes(b"PK\x03\x04 this is not a zip file")
    (subs / "README.txt").write_text("stray files in the submissions folder are ignored\n")

    loops = root / "loops"
    _write(_solved(mini, n01, **{"01-nm-mask": "while True:\n    pass\n" + sol["01-nm-mask"]}),
           loops / "t01_infinite_loop" / n01)
    _write(_solved(mini, n01, **{"01-row-mask": "def row_mask(w, k):\n    while True:\n        pass"}),
           loops / "t02_loop_in_check" / n01)
    _write(_solved(mini, n01, **{"01-row-mask": "import os\nos._exit(1)\n" + sol["01-row-mask"]}),
           loops / "t03_kernel_dies" / n01)
    return subs, loops


@pytest.fixture(scope="module")
def graded(mini, tmp_path_factory):
    """The fixture class graded by the command line (main batch) and the time-limit batch."""
    root = tmp_path_factory.mktemp("class")
    subs, loops = _fixture_students(mini, root)
    args = ["--course", str(mini["dir"]), "--hidden", str(HIDDEN), "--jobs", "2", "--notebook-timeout", "300"]
    assert grade.main([str(subs), "--out", str(root / "gradebook.csv"), "--cell-timeout", "90", *args]) == 0
    assert grade.main([str(loops), "--out", str(root / "loops" / "gradebook.csv"), "--cell-timeout", "30",
                       *args]) == 0
    return {"root": root, "subs": subs, "csv": root / "gradebook.csv", "loops_csv": root / "loops" / "gradebook.csv",
            "feedback": root / "feedback", "loops_feedback": root / "loops" / "feedback"}


def _feedback(graded, student):
    folder = graded["loops_feedback"] if student.startswith("t") else graded["feedback"]
    return (folder / f"{student}.md").read_text()


def test_fixture_class_gradebook_rows(graded):
    rows = _rows(graded["csv"])
    loop_rows = _rows(graded["loops_csv"])
    assert rows[0] == EXPECTED[0] and loop_rows[0] == EXPECTED[0]
    got = {r[0]: r for r in rows[1:] + loop_rows[1:]}
    expected = {r[0]: r for r in EXPECTED[1:]}
    assert sorted(got) == sorted(expected), "one row per student, stray files ignored"
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:]), "rows sorted by student id"
    wrong = {s: (got[s], expected[s]) for s in expected if got[s] != expected[s]}
    assert not wrong, "\n".join(f"{s}: got {g}, expected {e}\n{_feedback(graded, s)}" for s, (g, e) in wrong.items())


FEEDBACK = {
    "s01_correct": ["**Total: 5 / 5**"],
    "s02_untouched": ["not implemented yet (replace the `raise NotImplementedError` with your code)"],
    "s03_partial": ["[00-confident-mistakes] not yet:", "[01-row-mask] not yet"],
    "s04_raises": ["your exercise cell raised RuntimeError: boom", "your code raised ZeroDivisionError"],
    "s05_syntax_error": ["your exercise cell raised SyntaxError"],
    "s06_deleted_cells": ["exercise cell not found in your notebook (deleted?)"],
    "s07_reordered_cells": ["notebook missing: no 00_introduction.ipynb"],
    "s08_renamed_notebook": ["graded homework-final (1).ipynb instead"],
    "s09_missing_notebook": ["notebook missing: no 01_weight_pruning.ipynb"],
    "s10_corrupted_notebook": ["your notebook could not be read: the file is not valid JSON"],
    "s11_gigantic_outputs": ["**Total: 3 / 5**"],
    "s12_tampered_outputs": ["not implemented yet"],
    "s13_hard_coded": ["hidden: 60 examples, 5 classes, k = 7: your answer raised an exception (a hidden case: its "
                       "inputs and values are not shown)", "hidden: keep 2 of 5 in each of 9 rows"],
    "s14_reads_reference": ["name 'nm_mask' is not defined", "flagged for a human to read"],
    "s17_memory_hog": ["MemoryError"],
    "s18_bad_archive": ["the submission could not be opened"],
    "t01_infinite_loop": ["did not finish within the time limit of 30 s per cell"],
    "t02_loop_in_check": ["did not finish within the time limit of 30 s per cell"],
    "t03_kernel_dies": ["the kernel had stopped"],
}


@pytest.mark.parametrize("student", sorted(FEEDBACK))
def test_fixture_class_feedback_says_why(graded, student):
    text = _feedback(graded, student)
    for phrase in FEEDBACK[student]:
        assert phrase in text, f"{phrase!r} not in the feedback of {student}:\n{text}"
    assert not re.search(r"\b0x[0-9a-fA-F]{6,}", text.replace("0xADDRESS", "")), "a memory address leaked"
    assert "pytest stopped early" not in text and "internal grader error" not in text
    if student == "s13_hard_coded":  # a hidden case's exception is named as a kind of failure, never quoted
        assert "KeyError" not in text and "(60, 5)" not in text


def test_hard_coded_answers_pass_the_public_cases(mini):
    """...and fail the hidden ones: see s13_hard_coded's gradebook row and feedback."""
    for ex, name, key in HARD_CODED:
        namespace = {"np": np}
        exec(_hard_coded(ex, mini["solutions"][ex], name, key), namespace)
        assert cl.check(ex, namespace[name], quiet=True), f"{ex}: the hard-coded answer passes the public cases"


def test_grading_is_deterministic(mini, graded, tmp_path):
    again, students = tmp_path / "again", ("s04_raises", "s06_deleted_cells")
    for student in students:
        shutil.copytree(graded["subs"] / student, again / student)
    course = load_course(mini["dir"], hidden=HIDDEN)
    results = grade.grade_class(again, course, jobs=2, limits=Limits(cell_timeout=90, notebook_timeout=300))
    grade.write_gradebook(results, course, tmp_path / "again.csv")
    grade.write_feedback(results, course, tmp_path / "feedback")
    first = {r[0]: r for r in _rows(graded["csv"])}
    assert _rows(tmp_path / "again.csv")[1:] == [first[s] for s in students]
    for student in students:
        assert (tmp_path / "feedback" / f"{student}.md").read_text() == _feedback(graded, student)


def test_self_check_command_prints_the_table(mini, graded, capsys):
    """The hard-coded answers pass the self-check (public cases) and got 0 in the gradebook (hidden cases)."""
    path = graded["subs"] / "s13_hard_coded" / "00_introduction.ipynb"
    assert grade.main(["--self", str(path), "--course", str(mini["dir"])]) == 0
    out = capsys.readouterr().out
    assert "checked like the grader does (public cases only)" in out
    assert re.search(r"00-layer-costs +1/1 +passed", out) and "total: 2 / 2" in out, out


def test_self_check_from_a_cell(mini, tmp_path):
    nb = _solved(mini, "01_weight_pruning.ipynb", **{"01-row-mask": WRONG["01-row-mask"]})
    path = _write(nb, tmp_path / "01_weight_pruning.ipynb")
    results = cl_self_check(path, mini["dir"])
    assert [(r.exercise_id, r.points) for r in results] == [
        ("01-row-mask", 0.0), ("01-nm-mask", 1.0), ("01-csr-break-even", 1.0)]
    assert "[01-row-mask] not yet: 0/4 cases pass." in results[0].feedback  # public cases only


def cl_self_check(path, course_dir):
    from course_lib.grading import self_check

    return self_check(path, course_dir=course_dir, quiet=True)


# --------------------------------------------------------------------------- the journal: resuming, tampering

def _journaled(db) -> int:
    import sqlite3

    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        try:
            return con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.OperationalError:  # the tables are being created
            return 0


def test_a_grading_run_killed_halfway_resumes_to_the_same_gradebook(mini, tmp_path):
    import time

    import psutil

    n00, n01 = MINI
    subs = tmp_path / "subs"
    for i, student in enumerate(("a", "b")):
        wrong = {"00-confident-mistakes": WRONG["00-confident-mistakes"]} if i == 1 else {}
        _write(_solved(mini, n00, **wrong), subs / student / n00)
        _write(_solved(mini, n01), subs / student / n01)
    args = [str(subs), "--course", str(mini["dir"]), "--hidden", str(HIDDEN), "--jobs", "1"]
    once = tmp_path / "once" / "gradebook.csv"
    assert grade.main([*args, "--out", str(once)]) == 0
    assert _journaled(once.with_suffix(".db")) == 4

    out = tmp_path / "twice" / "gradebook.csv"
    proc = subprocess.Popen([sys.executable, "-m", "course_lib.grading.grade", *args, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while proc.poll() is None and _journaled(out.with_suffix(".db")) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    tree = [proc.pid, *(p.pid for p in psutil.Process(proc.pid).children(recursive=True))]
    for pid in tree:  # SIGKILL: no handler runs, nothing is written but what was journaled
        try:
            psutil.Process(pid).kill()
        except psutil.NoSuchProcess:
            pass
    proc.wait()
    done = _journaled(out.with_suffix(".db"))
    assert 1 <= done < 4 and not out.exists(), "the run must be killed after some, not all, runs"
    assert grade.main([*args, "--out", str(out)]) == 0
    assert out.read_text() == once.read_text()
    assert _journaled(out.with_suffix(".db")) == 4, "a resumed run grades only what was not journaled"
    # (a regrade's history: tests/grading/test_journal.py)


def test_grading_stops_when_the_course_library_changes_during_a_run(mini, tmp_path, monkeypatch):
    n00 = MINI[0]
    _write(_solved(mini, n00), tmp_path / "subs" / "a" / n00)
    course = load_course(mini["dir"], hidden=HIDDEN, names=[n00])
    from course_lib.grading import executors

    prints = iter(["before", "after"])  # what the run sees: the library changed while it ran
    monkeypatch.setattr(executors, "library_fingerprint", lambda: next(prints))
    monkeypatch.setattr(grade, "library_fingerprint", lambda: "before")
    with pytest.raises(grade.CourseChangedError, match="changed on disk during this run while a's 00_introduction"):
        grade.grade_class(tmp_path / "subs", course, jobs=1)


@pytest.mark.parametrize("edited", ["hidden test", "instructor notebook", "added hidden test"])
def test_grading_stops_when_a_hidden_test_or_an_instructor_notebook_changes_during_a_run(
        edited, mini, tmp_path, monkeypatch):
    n00 = MINI[0]
    _write(_solved(mini, n00), tmp_path / "subs" / "a" / n00)
    (tmp_path / "course").mkdir()
    shutil.copy(mini["dir"] / n00, tmp_path / "course" / n00)
    hidden = shutil.copytree(HIDDEN, tmp_path / "hidden")
    course = load_course(tmp_path / "course", hidden=hidden, names=[n00])
    target = {"hidden test": sorted(hidden.glob("ch*.py"))[0], "instructor notebook": tmp_path / "course" / n00,
              "added hidden test": hidden / "more_cases.py"}[edited]
    from course_lib.grading import executors
    from course_lib.grading.runner import RunResult

    def run_task(*args):  # a process outside the sandbox edits the course while the run is in flight
        with open(target, "a") as f:
            f.write("\n# edited during the run\n")
        return RunResult(status="ok")  # (no kernel: the check does not depend on what ran)

    monkeypatch.setattr(executors, "run_task", run_task)
    with pytest.raises(grade.CourseChangedError, match=rf"hidden tests changed on disk \({re.escape(str(target))}\)"
                                                       rf" while a's {n00} was graded"):
        grade.grade_class(tmp_path / "subs", course, jobs=1)
