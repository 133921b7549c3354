"""Hidden cases drawn afresh per grading session: other inputs in another session, the same when resumed."""

import numpy as np
import pytest

from course_lib.exercises.sessions import MAX_SESSION, hidden_seed
from course_lib.grading.course import DEFAULT_HIDDEN, course_cases, load_course, read_hidden
from course_lib.grading.journal import course_fingerprint


def test_hidden_seed_is_the_written_one_in_session_0_and_drawn_otherwise():
    assert hidden_seed(51, 0) == 51
    drawn = {hidden_seed(51, s) for s in range(1, 50)}
    assert len(drawn) == 49 and 51 not in drawn
    assert hidden_seed(51, 7) == hidden_seed(51, 7) != hidden_seed(52, 7)
    for bad, kind, match in ((("51", 0), TypeError, "base must be an int"), ((51, -1), ValueError, "session == -1"),
                             ((51, MAX_SESSION + 1), ValueError, "session =="), ((51, True), TypeError, "session"),
                             ((-3, 1), ValueError, "base == -3")):
        with pytest.raises(kind, match=match):
            hidden_seed(*bad)


def _hidden_inputs(session):
    cases = course_cases(read_hidden(DEFAULT_HIDDEN, session=session))
    return {(ex, label): case.inputs() for ex, pairs in cases.items() for label, case in pairs
            if label.startswith("hidden") and case.inputs is not None and ex.startswith(("02-", "05-", "08-tt"))}


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and not isinstance(a, np.ndarray):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_another_session_draws_other_hidden_inputs_and_a_resumed_one_the_same():
    first, again, other = _hidden_inputs(0), _hidden_inputs(0), _hidden_inputs(99)
    assert first.keys() == other.keys() and len(first) >= 6
    assert all(_same(first[k], again[k]) for k in first)
    changed = [k for k in first if not _same(first[k], other[k])]
    assert len(changed) == len(first), f"inputs not redrawn in another session: {set(first) - set(changed)}"
    assert all(_same(other[k], v) for k, v in _hidden_inputs(99).items())  # the same session: the same inputs


def test_the_session_is_part_of_what_the_journal_resumes_against():
    names = ["02_neuron_pruning.ipynb"]
    plain, same = (load_course(hidden=DEFAULT_HIDDEN, names=names) for _ in range(2))
    other = load_course(hidden=DEFAULT_HIDDEN, names=names, session=5)
    assert course_fingerprint(plain, "lib") == course_fingerprint(same, "lib") != course_fingerprint(other, "lib")
    assert read_hidden(None, session=5) is None
    with pytest.raises(ValueError, match="session == -2"):
        load_course(hidden=DEFAULT_HIDDEN, names=names, session=-2)
