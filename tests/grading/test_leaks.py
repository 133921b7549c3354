"""The release refuses a student version that shows an answer: in a kept output or in Markdown."""

import nbformat
import numpy as np
import pytest
from grading_helpers import NOTEBOOKS, skip_without_data

from course_lib.exercises import load_bank
from course_lib.grading.leaks import find_leaks, renderings
from course_lib.grading.notebooks import load_course_notebook
from course_lib.grading.release import release_course, release_notebook


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, text in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            cell = nbformat.v4.new_code_cell("x")
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
            nb.cells.append(cell)
    return nb


def test_renderings_keep_what_says_something_and_drop_the_common():
    shown = renderings({"scale": 0.0123456, "bits": 4, "count": 266200, "mask": np.array([True, False]),
                        "codes": np.array([3, -7, 12, 0])})
    assert "0.0123" in shown and "0.01235" in shown and "266,200" in shown and "266200" in shown
    assert "4" not in shown and "[ 3, -7, 12,  0]" in shown
    assert renderings([0.5, 1.0, 2, True]) == []  # too few digits to mean anything


@pytest.mark.parametrize("text, leaked", [
    ("the scale is 0.01235 here", True), ("scale 0.012346", True), ("scale 0.012347", False),
    ("(10.0123 is unrelated)", False),
    ("codes [ 3, -7, 12,  0]", True), ("266,200 weights", True), ("2266200", False)])
def test_find_leaks_in_outputs_and_markdown(text, leaked):
    values = {"04-x": [{"scale": 0.0123456, "count": 266200, "codes": np.array([3, -7, 12, 0])}]}
    for kind in ("md", "out"):
        found = find_leaks(_nb(("md", "intro"), (kind, text)), values)
        assert bool(found) == leaked, (kind, text, found)
        if leaked:
            assert found[0].startswith("cell 1 (") and "04-x" in found[0]


@pytest.mark.slow
def test_no_student_version_shows_an_answer_even_with_its_demo_outputs(tmp_path):
    """Every notebook released with its demo outputs kept: no kept output and no Markdown cell shows a value the
    instructor's solutions return on the public cases (the release itself refuses such a version)."""
    skip_without_data()
    from course_lib.grading.leaks import answer_values, case_inputs

    names = [p.name for p in sorted(NOTEBOOKS.glob("*.ipynb")) if load_course_notebook(p).exercises]
    leaks = {}
    for name in names:
        course_nb = load_course_notebook(NOTEBOOKS / name)
        values = answer_values(course_nb)
        graded = [e for e in course_nb.exercise_ids if load_bank()[e].kind != "outcome"]
        assert sum(map(len, values.values())) >= len(graded), (name, sorted(values))
        found = find_leaks(release_notebook(course_nb, keep_demo_outputs=True), values, case_inputs(course_nb))
        if found:
            leaks[name] = found
    assert not leaks, leaks


def test_the_release_refuses_a_version_that_shows_an_answer(tmp_path, monkeypatch):
    from course_lib.grading import leaks

    name = "01_weight_pruning.ipynb"
    monkeypatch.setattr(leaks, "answer_values", lambda course_nb, **kw: {"01-x": [123.456]})
    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("The answer is 123.456, as computed above."))
    nbformat.write(nb, src / name)
    with pytest.raises(ValueError, match=r"(?s)would show answers.*01-x \(123\.456\)"):
        release_course(src, tmp_path / "out", keep_demo_outputs=True)
    assert not (tmp_path / "out").exists()  # nothing written
    assert release_course(src, tmp_path / "out")  # without the check (default), the release writes
