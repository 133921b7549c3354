"""The checking mechanism's comparisons (NumPy only: runs in the torch-free test run too)."""

import numpy as np

from course_lib.exercises.core import compare, compare_fields


def test_compare_reports_shape_kind_and_entries_without_values():
    assert compare([1, 2, 3], np.array([1, 2, 3])) == []
    assert compare([1, 2], np.array([1, 2, 3])) == ["answer has shape (2,), expected (3,)"]
    assert "expected integer" in compare([1.0, 2.0], np.array([1, 2]))[0]
    problems = compare([1, 5, 3], np.array([1, 2, 3]), name="x")
    assert problems == ["x is wrong in 1 of 3 entries at index 1"] and "2" not in problems[0].split("index")[0]


def test_compare_fields_checks_type_keys_and_each_value():
    expected = {"dense": 80, "csr": 61}
    assert compare_fields("f(w)", {"dense": 80, "csr": 61, "extra": 0}, expected) == []
    assert compare_fields("f(w)", [80, 61], expected) == [
        "f(w) returned a list, expected a dict with keys ['csr', 'dense']"]
    assert compare_fields("f(w)", {"dense": 80}, expected) == [
        "f(w) has no key ['csr']: expected the keys ['csr', 'dense']"]
    problems = compare_fields("f(w)", {"dense": 81, "csr": 61.0}, expected)
    assert problems[0] == "f(w)['dense'] is wrong in 1 of 1 entries"
    assert "expected integer" in problems[1]
    assert not any("80" in p or "61" in p for p in problems)  # never the expected numbers
