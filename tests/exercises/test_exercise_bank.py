"""The exercise bank as a whole: every exercise has a kind, the grader has a reference for what the kernel cannot
check, the library shortcuts are tested, and every technique chapter has an outcome task whose rule it prints."""

import re
from pathlib import Path

import nbformat
import pytest
from shortcut_helpers import graded_cases

from course_lib.exercises import KINDS, load_bank
from course_lib.grading.course import DEFAULT_HIDDEN, instructor_verdicts, read_hidden
from course_lib.grading.notebooks import load_course_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REFERENCED = instructor_verdicts(read_hidden(DEFAULT_HIDDEN))
IDS = {p.name: load_course_notebook(p).exercise_ids for p in NOTEBOOKS}


def test_every_exercise_has_a_kind_and_the_grader_a_reference_where_the_kernel_checks_only_the_form():
    bank, cases = load_bank(), graded_cases()
    used = [e for ids in IDS.values() for e in ids]
    for ex_id in used:
        ex = bank[ex_id]
        assert ex.kind in KINDS, ex_id
        public = len(ex.cases)
        if ex.checked_here == "form" or ex.kind == "outcome":
            # only the grader can tell a right answer: it must have the instructor's verdict
            assert ex_id in REFERENCED, f"{ex_id} is checked here for its form only, and hidden_tests/ has no verdict"
        assert len(cases[ex_id]) >= public, ex_id
        if ex.kind != "outcome":
            assert len(cases[ex_id]) > public, f"{ex_id} has no hidden case"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] != "00"], ids=lambda p: p.name[:2])
def test_every_technique_chapter_has_an_outcome_task_and_prints_its_rule(path):
    bank = load_bank()
    outcomes = [e for e in IDS[path.name] if bank[e].kind == "outcome"]
    assert outcomes, f"{path.name} has no outcome task"
    text = "\n".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                     for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    assert "(full credit)" in text and "linear in between" in text, f"{path.name} does not print its targets' rule"


def test_no_exercise_is_left_without_a_shortcut_test():
    tested = "\n".join(p.read_text() for p in (ROOT / "tests" / "exercises").glob("test_shortcuts_*.py"))
    for ids in IDS.values():
        for ex_id in ids:
            assert re.search(rf"[\"']{re.escape(ex_id)}[\"']", tested), f"{ex_id}: no test_shortcuts_NN.py names it"
