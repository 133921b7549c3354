"""The check mechanism as a student meets it, on 01-row-mask (checked completely in the kernel)."""

import numpy as np
import pytest

import course_lib as cl
from course_lib import exercises

EX = "01-row-mask"


def right_rows(w, k):
    order = np.argsort(-np.abs(w), axis=1, kind="stable")
    keep = np.zeros(w.shape, dtype=bool)
    np.put_along_axis(keep, order[:, :k], True, axis=1)
    return keep


def test_correct_answer_prints_the_stable_line(capsys):
    result = cl.check(EX, right_rows)
    n = len(exercises.EXERCISES[EX].cases)
    assert bool(result)
    assert capsys.readouterr().out == f"[{EX}] correct: {n}/{n} cases pass.\n"


def test_wrong_answers_get_specific_feedback_without_the_answer(capsys):
    def global_mask(w, k):  # the library's global ranking: k per row on average, not in each row
        keep = np.zeros(w.size, dtype=bool)
        keep[np.argsort(-np.abs(w).ravel(), kind="stable")[:k * w.shape[0]]] = True
        return keep.reshape(w.shape)

    result = cl.check(EX, global_mask)
    out = capsys.readouterr().out
    assert not result and out.startswith(f"[{EX}] not yet: ")
    assert "True" not in out and "[[" not in out, "the feedback must not print a mask"


def test_shape_dtype_none_and_exceptions(capsys):
    assert not cl.check(EX, lambda w, k: right_rows(w, k)[:-1])
    assert "has shape" in capsys.readouterr().out
    assert not cl.check(EX, lambda w, k: right_rows(w, k).astype(float))
    assert "dtype float64" in capsys.readouterr().out
    assert not cl.check(EX, lambda w, k: None)
    assert "did you forget to `return` it" in capsys.readouterr().out

    def unfinished(w, k):
        raise NotImplementedError(EX)

    assert not cl.check(EX, unfinished)
    assert "not implemented yet" in capsys.readouterr().out
    assert not cl.check(EX, lambda w, k: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_hidden_cases_can_be_added():
    ex = exercises.EXERCISES[EX]
    saved = list(ex.cases)
    try:
        from course_lib.exercises.bank.pruning import row_mask_case

        exercises.add_cases(EX, ("hidden", row_mask_case(99, (3, 7), 2)))
        table = {}
        for _, case in saved:
            w, k = case.inputs()
            table[(w.shape, k)] = right_rows(w, k)
        result = cl.check(EX, lambda w, k: table[(w.shape, k)], quiet=True)
        assert result.passed == len(saved) and result.total == len(saved) + 1 and "KeyError" in result.problems[0]
    finally:
        ex.cases[:] = saved


def test_add_cases_takes_label_case_pairs():
    with pytest.raises(TypeError, match=r"cases must be \(label, Case\) pairs"):
        exercises.add_cases(EX, ("old style", lambda fn: []))
    with pytest.raises(TypeError, match="probe must be callable"):
        exercises.exercise(EX, "again", probe=3)


def test_unknown_exercise():
    with pytest.raises(ValueError, match="exercise_id == 'nope', must be one of"):
        cl.check("nope", None)
    with pytest.raises(ValueError, match="exercise_id"):
        exercises.add_cases("nope")


@pytest.mark.parametrize("answer,expected,message", [
    ([1, 2], [1, 2, 3], "shape (2,), expected (3,)"),
    ("abc", 1, "expected integer"),
    ([[1, 2], [3]], [1], "not a regular array"),
    (np.array([1.0, np.nan]), [1.0, 2.0], "NaN or infinite"),
    (np.arange(9).reshape(3, 3), np.zeros((3, 3), dtype=int), "wrong in 8 of 9 entries at index (0, 1)"),
    (True, 1, "boolean"),
])
def test_compare_messages(answer, expected, message):
    problems = cl.compare(answer, expected)
    assert problems and message in problems[0]


def test_compare_accepts_equal_and_close():
    assert cl.compare([1, 2], np.array([1, 2], dtype=np.int32)) == []
    assert cl.compare([0.1 + 0.2], [0.3]) == []


def test_in_a_graded_run_the_check_only_records_answers(tmp_path, monkeypatch, capsys):
    """With $COURSE_EXCHANGE set the kernel computes no verdict: it records, the grader judges."""
    from course_lib.exercises import records

    ex = exercises.EXERCISES[EX]
    inputs = [case.inputs() for _, case in ex.cases] + [(np.arange(12.0).reshape(3, 4) - 5, 1)]
    for k, args in enumerate(inputs):
        records.write_inputs(tmp_path / "cases" / ex.id / str(k), args)
    monkeypatch.setenv(exercises.EXCHANGE_ENV, str(tmp_path))
    wrong = lambda w, k: np.abs(w) > np.median(np.abs(w))  # noqa: E731
    result = cl.check(ex.id, wrong)
    assert capsys.readouterr().out == f"[{ex.id}] answers recorded: {len(inputs)} cases.\n"
    assert result.recorded and not result
    got = [records.read_record(tmp_path / "results" / ex.id, str(k)) for k in range(len(inputs))]
    assert np.array_equal(got[-1], np.abs(inputs[-1][0]) > 3.5)
    assert all(exercises.judge(case, g, args) for (_, case), g, args in zip(ex.cases, got, inputs))
    monkeypatch.delenv(exercises.EXCHANGE_ENV)
    assert not cl.check(ex.id, wrong, quiet=True)  # the same verdicts, computed here
