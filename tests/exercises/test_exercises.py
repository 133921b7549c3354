import numpy as np
import pytest

import course_lib as cl
from course_lib import exercises


def correct_mlp(widths):
    return [a * b + b for a, b in zip(widths[:-1], widths[1:])]


def test_correct_answer_prints_the_stable_line(capsys):
    result = cl.check("00-mlp-params", correct_mlp)
    assert bool(result)
    assert capsys.readouterr().out == "[00-mlp-params] correct: 3/3 cases pass.\n"


def test_wrong_answers_get_specific_feedback_without_the_answer(capsys):
    def no_bias(widths):
        return [a * b for a, b in zip(widths[:-1], widths[1:])]

    result = cl.check("00-mlp-params", no_bias)
    out = capsys.readouterr().out
    assert not result and result.passed == 0
    assert out.startswith("[00-mlp-params] not yet: 0/3 cases pass.")
    assert "wrong in 3 of 3 entries at index 0, 1, 2" in out
    for secret in ("235500", "30100", "1010", "1049088", "262656", "5130"):
        assert secret not in out, "the feedback must not reveal the expected values"


def test_shape_dtype_none_and_exceptions(capsys):
    assert not cl.check("00-mlp-params", lambda w: correct_mlp(w)[:-1])
    assert "has shape (2,), expected (3,)" in capsys.readouterr().out
    assert not cl.check("00-mlp-params", lambda w: [float(v) for v in correct_mlp(w)])
    assert "dtype float64 (floating point), expected integer" in capsys.readouterr().out
    assert not cl.check("00-mlp-params", lambda w: None)
    assert "did you forget to `return` it" in capsys.readouterr().out

    def unfinished(widths):
        raise NotImplementedError("00-mlp-params")

    assert not cl.check("00-mlp-params", unfinished)
    assert "not implemented yet" in capsys.readouterr().out
    assert not cl.check("00-mlp-params", lambda w: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_accuracy_exercise():
    assert cl.check("00-accuracy", lambda logits, labels: float((logits.argmax(1) == labels).mean()),
                    quiet=True)
    assert not cl.check("00-accuracy", lambda logits, labels: float((logits.argmin(1) == labels).mean()),
                        quiet=True)


def test_hidden_cases_can_be_added():
    ex = exercises.EXERCISES["00-mlp-params"]
    saved = list(ex.cases)
    try:
        exercises.add_cases("00-mlp-params",
                            ("hidden", exercises.Case(lambda: ([3, 4],), lambda got, w: exercises.compare(got, [16]))))
        hard_coded = {(784, 300, 100, 10): [235500, 30100, 1010], (2048, 512, 512, 10): [1049088, 262656, 5130],
                      (5, 3): [18]}
        result = cl.check("00-mlp-params", lambda w: hard_coded[tuple(w)], quiet=True)
        assert result.passed == 3 and result.total == 4 and "KeyError" in result.problems[0]
    finally:
        ex.cases[:] = saved


def test_add_cases_takes_label_case_pairs():
    with pytest.raises(TypeError, match=r"cases must be \(label, Case\) pairs"):
        exercises.add_cases("00-mlp-params", ("old style", lambda fn: []))
    with pytest.raises(TypeError, match="probe must be callable"):
        exercises.exercise("00-mlp-params", "again", probe=3)


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


# ---------------------------------------------------------------- the technique notebooks' exercises

def test_threshold_by_hand_and_literal_reading(capsys):
    from course_lib.exercises.bank import EXAMPLE_C, EXAMPLE_W

    right = np.where(np.abs(EXAMPLE_W) >= EXAMPLE_C, EXAMPLE_W, 0.0)
    assert cl.check("01-threshold-by-hand", right, quiet=True)
    literal = np.where(EXAMPLE_W < EXAMPLE_C, 0.0, EXAMPLE_W)  # the seed's w < C, read literally
    result = cl.check("01-threshold-by-hand", literal)
    out = capsys.readouterr().out
    assert not result and "wrong in" in out and "0.48" not in out


def test_magnitude_mask_exercise_catches_wrong_tie_breaking():
    def right(w, k):
        order = np.argsort(np.abs(w).ravel(), kind="stable")
        keep = np.ones(w.size, dtype=bool)
        keep[order[:k]] = False
        return keep.reshape(w.shape)

    def threshold_style(w, k):  # "everything at the threshold": not count-exact with ties
        if k == 0:
            return np.ones(w.shape, dtype=bool)
        return np.abs(w) > np.sort(np.abs(w).ravel())[k - 1]

    assert cl.check("01-magnitude-mask", right, quiet=True)
    result = cl.check("01-magnitude-mask", threshold_style, quiet=True)
    assert not result and any("ties" in p for p in result.problems)


def test_storage_bytes_exercise():
    from course_lib.pruning import bitmask_bytes, csr_bytes

    def right(w):
        return {"dense": 4 * w.size, "csr": csr_bytes(w), "bitmask": bitmask_bytes(w)}

    assert cl.check("01-storage-bytes", right, quiet=True)
    # zeroing "saves" memory only if the zeros are not stored: the dense count must not shrink
    nnz_dense = cl.check("01-storage-bytes", lambda w: {**right(w), "dense": 4 * np.count_nonzero(w)}, quiet=True)
    assert not nnz_dense and nnz_dense.passed == 1  # only the matrix without zeros passes
    # CSR with 4-byte column indices everywhere: wrong once the matrix is wide enough for 2-byte ones
    wide_indices = cl.check("01-storage-bytes", lambda w: {**right(w), "csr": int(np.count_nonzero(w)) * 8
                                                           + 4 * (w.shape[0] + 1)}, quiet=True)
    assert not wide_indices
    assert not cl.check("01-storage-bytes", lambda w: [4 * w.size], quiet=True)


def test_int8_costs_exercise():
    def right(n_out, n_in):
        return {"float32_bytes": 4 * (n_out * n_in + n_out), "int8_bytes": n_out * n_in + 4 + 4 * n_out,
                "accumulator_bits": (n_in * 2**14).bit_length() + 1}

    assert cl.check("04-int8-costs", right, quiet=True)
    int16 = cl.check("04-int8-costs", lambda o, i: {**right(o, i), "accumulator_bits": 16}, quiet=True)
    assert not int16 and int16.passed == 1  # one input: 16 bits are enough; 784 inputs need 25
    int8_biases = cl.check("04-int8-costs", lambda o, i: {**right(o, i), "int8_bytes": o * i + 4 + o}, quiet=True)
    assert not int8_biases and int8_biases.passed == 0


def test_rarely_active_and_gradual_exercises():
    def rarely(acts, threshold, max_rate):
        return np.flatnonzero((acts > threshold).mean(axis=0) <= max_rate)

    assert cl.check("02-rarely-active", rarely, quiet=True)
    often = cl.check("02-rarely-active", lambda a, t, r: np.flatnonzero((a > t).mean(0) > r), quiet=True)
    assert not often and often.passed == 0
    as_list = cl.check("02-rarely-active", lambda a, t, r: list(rarely(a, t, r)), quiet=True)
    assert as_list  # a plain list of indices is accepted too

    def cubic(t, s_i, s_f, t0, t_end):
        if t <= t0:
            return s_i
        if t >= t_end:
            return s_f
        return s_f + (s_i - s_f) * (1 - (t - t0) / (t_end - t0)) ** 3

    assert cl.check("03-gradual", cubic, quiet=True)
    def linear_ramp(t, s_i, s_f, t0, t1):
        return s_i + (s_f - s_i) * min(max((t - t0) / (t1 - t0), 0), 1)

    linear = cl.check("03-gradual", linear_ramp, quiet=True)
    assert not linear


def test_in_a_graded_run_the_check_only_records_answers(tmp_path, monkeypatch, capsys):
    """With $COURSE_EXCHANGE set the kernel computes no verdict: it records, the grader judges."""
    from course_lib.exercises import records

    ex = exercises.EXERCISES["00-mlp-params"]
    inputs = [case.inputs() for _, case in ex.cases] + [([3, 4],)]
    for k, args in enumerate(inputs):
        records.write_inputs(tmp_path / "cases" / ex.id / str(k), args)
    monkeypatch.setenv(exercises.EXCHANGE_ENV, str(tmp_path))
    wrong = lambda widths: [a * b for a, b in zip(widths[:-1], widths[1:])]  # noqa: E731
    result = cl.check(ex.id, wrong)
    assert capsys.readouterr().out == f"[{ex.id}] answers recorded: {len(inputs)} cases.\n"
    assert result.recorded and not result
    got = [records.read_record(tmp_path / "results" / ex.id, str(k)) for k in range(len(inputs))]
    assert got[-1] == [12]
    assert all(exercises.judge(case, g, args) for (_, case), g, args in zip(ex.cases, got, inputs))
    monkeypatch.delenv(exercises.EXCHANGE_ENV)
    assert not cl.check(ex.id, wrong, quiet=True)  # the same verdicts, computed here
