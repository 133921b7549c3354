"""The exercise mechanism's new form: checks in the student's copy, references installed by the instructor's files
(run in the grader only, each file in its own namespace), outcome tasks with a published partial-credit rule."""

from types import SimpleNamespace

import numpy as np
import pytest

from course_lib.exercises import (
    EXERCISES,
    Case,
    Credit,
    Target,
    check,
    compare,
    credit,
    exercise,
    grade_with,
    judge,
    outcome_credit,
    rule_text,
)
from course_lib.exercises.records import record_files
from course_lib.grading.course import Course, course_cases, read_hidden
from course_lib.grading.runner import RunResult
from course_lib.grading.scoring import score_run


def _form(got, v):
    return [] if np.shape(got) == np.shape(v) else [f"double(v) has shape {np.shape(got)}"]


@pytest.fixture
def toy():
    """A 'form'-checked exercise (any length-2 array passes here) and an outcome task, removed afterwards."""
    exercise("zz-double", "double a vector", kind="variant", checked_here="form").cases.append(
        ("v", Case(lambda: (np.array([1.0, 2.0]),), _form)))
    exercise("zz-outcome", "reach a target", kind="outcome").cases.append(
        ("the model", Case(lambda: (), lambda got: [] if isinstance(got, float) else ["not a float"])))
    yield
    for k in ("zz-double", "zz-outcome"):
        EXERCISES.pop(k, None)


HIDDEN = '''
import numpy as np
from course_lib.exercises import add_cases, grade_with, compare, Case, outcome_credit, Target

def _reference(v):
    return 2 * v

grade_with("zz-double", lambda got, v: compare(got, _reference(v), name="double(v)"))
add_cases("zz-double", ("hidden: three entries", Case(lambda: (np.arange(3.0),), lambda got, v: [])))
'''
OTHER = '''
from course_lib.exercises import grade_with, outcome_credit, Target

def _reference(v):  # the same name in another file: each file keeps its own
    raise AssertionError("a file's verdict must not see another file's names")

grade_with("zz-outcome", lambda got: outcome_credit({"accuracy": got}, [Target("accuracy", 0.9, 0.8, unit="%")]))
'''


def _hidden(tmp_path):
    (tmp_path / "a_double.py").write_text(HIDDEN)
    (tmp_path / "b_outcome.py").write_text(OTHER)
    (tmp_path / "_private.py").write_text("raise SystemExit('files starting with _ are not run')")
    return read_hidden(tmp_path)


def test_the_kernel_line_says_what_was_checked_here(toy, capsys):
    assert check("zz-double", lambda v: v)  # only the form is checked in the student's kernel
    assert "passes the checks made here: 1/1 cases (the grader compares the values" in capsys.readouterr().out
    assert check("zz-outcome", lambda: 0.5)  # an outcome's form: the grader measures it
    assert "passes the checks made here: 1/1 cases (the grader measures the outcome on its own data)" in (
        capsys.readouterr().out)


def test_the_grader_runs_the_instructor_reference_on_public_and_hidden_cases(toy, tmp_path):
    cases = course_cases(_hidden(tmp_path))
    assert [label for label, _ in cases["zz-double"]] == ["v", "hidden: three entries"]
    for label, case in cases["zz-double"]:
        args = case.inputs()
        assert judge(case, 2 * args[0], args) == []
        assert judge(case, args[0], args), label  # the identity passes the checks here, not the grader
    assert EXERCISES["zz-double"].grader_verdict is None and len(EXERCISES["zz-double"].cases) == 1  # restored


@pytest.mark.parametrize("got, expected", [(0.95, 1.0), (0.9, 1.0), (0.85, 0.5), (0.8, 0.0), (0.5, 0.0)])
def test_outcome_credit_follows_the_published_linear_rule(toy, tmp_path, got, expected):
    ((label, case),) = course_cases(_hidden(tmp_path))["zz-outcome"]
    found = judge(case, got, ())
    assert credit(found) == pytest.approx(expected)
    assert (found == []) == (expected == 1.0)
    if found:
        assert isinstance(found, Credit) and "accuracy is" in found[0] and "target is at least 90.0 %" in found[0]


def test_score_run_gives_outcomes_partial_points_and_others_all_or_nothing(toy, tmp_path):
    cases = course_cases(_hidden(tmp_path))
    nb = SimpleNamespace(name="zz.ipynb", exercise_ids=["zz-double", "zz-outcome"])
    course = Course([nb], {"zz-double": 2.0, "zz-outcome": 4.0}, {k: cases[k] for k in nb.exercise_ids},
                    partial=frozenset({"zz-outcome"}))
    answers = {}
    for name, data in record_files("0", np.array([1.0, 2.0])).items():  # wrong on the public case
        answers[f"zz-double/{name}"] = data
    for name, data in record_files("1", np.arange(3.0) * 2).items():  # right on the hidden one
        answers[f"zz-double/{name}"] = data
    for name, data in record_files("0", 0.85).items():
        answers[f"zz-outcome/{name}"] = data
    roles = {0: ("zz-double", "solution"), 1: ("zz-double", "check"), 2: ("zz-outcome", "solution"),
             3: ("zz-outcome", "check")}
    results = score_run(course, nb, RunResult(answers=answers), roles, {}, None)
    assert results["zz-double"].points == 0.0 and "1/2 cases pass" in results["zz-double"].feedback
    assert results["zz-outcome"].points == 2.0 and "credit for this target: 50%" in results["zz-outcome"].feedback


def test_targets_check_their_arguments_and_print_their_rule():
    with pytest.raises(ValueError, match="zero_at == 0.95 must be below goal"):
        Target("sparsity", 0.9, 0.95)
    with pytest.raises(ValueError, match="must be above goal"):
        Target("bytes", 1000, 900, higher=False)
    with pytest.raises(TypeError, match="goal must be a real number"):
        Target("x", "1", 0)
    text = rule_text([Target("sparsity", 0.95, 0.8, unit="%"), Target("bytes", 20_000, 40_000, higher=False,
                                                                       unit="bytes")])
    assert "sparsity at least 95.0 % (full credit); no credit at 80.0 % or less; linear in between" in text
    assert "bytes at most 20,000 bytes (full credit); no credit at 40,000 bytes or more" in text
    assert outcome_credit({"sparsity": float("nan")}, [Target("sparsity", 0.95, 0.8)]).fraction == 0.0


def test_registration_checks_kind_and_what_is_checked_here():
    with pytest.raises(ValueError, match="kind == 'quiz'"):
        exercise("zz-bad", "x", kind="quiz")
    with pytest.raises(ValueError, match="checked_here == 'all'"):
        exercise("zz-bad", "x", checked_here="all")
    with pytest.raises(ValueError, match="exercise_id == 'zz-none'"):
        grade_with("zz-none", lambda got: [])
    assert "zz-bad" not in EXERCISES


def test_no_module_of_the_student_copy_imports_the_instructor_files():
    from pathlib import Path

    import course_lib

    root = Path(course_lib.__file__).parent
    offenders = [p for p in root.rglob("*.py") if "import hidden_tests" in p.read_text()
                 or "from hidden_tests" in p.read_text()]
    assert not offenders


def test_check_and_compare_refuse_bad_arguments_by_name():
    with pytest.raises(TypeError, match="exercise_id must be a str such as"):
        check(["00-x"], lambda: 0)
    with pytest.raises(TypeError, match="quiet must be a bool"):
        check(next(iter(EXERCISES)), lambda: 0, quiet="yes")
    for bad, kind, message in ((-1, ValueError, "rtol == -1, must be a finite number >= 0"),
                               (float("nan"), ValueError, "rtol == nan"), ("0.1", TypeError, "rtol must be a number")):
        with pytest.raises(kind, match=message):
            compare(1.0, 1.0, rtol=bad)
    with pytest.raises(TypeError, match="name must be a str"):
        compare(1.0, 1.0, name=3)
