"""The verdict helper: every branch prints its sentence, on both sides of each threshold and inside the noise."""

import math

import pytest

from course_lib.timing import Latency
from course_lib.verdicts import MIN_RATIO, NO_DIFFERENCE, Measured, compare, difference, first_win, measured, scaling


def test_measured_coerces_latencies_pairs_and_numbers():
    assert measured(Latency(4.0, 1.0, 3.5, 20, 1)) == Measured(4.0, 0.5)
    assert measured((3, 0.25)) == Measured(3.0, 0.25)
    assert measured(7) == Measured(7.0, 0.0)
    r = Measured(4.0, 0.4) / Measured(2.0, 0.1)
    assert r.value == 2.0 and math.isclose(r.spread, 2.0 * (0.1 + 0.05))


@pytest.mark.parametrize("bad, err", [("3", TypeError), (True, TypeError), ([1, 2], TypeError),
                                      (float("nan"), ValueError), ((1.0, -0.1), ValueError),
                                      ((float("inf"), 0), ValueError)])
def test_measured_refuses_bad_values(bad, err):
    with pytest.raises(err, match="value|spread|must"):
        measured(bad)


def test_compare_faster_beyond_noise():
    v = compare(Measured(2.0, 0.1), Measured(1.0, 0.05), names=("dense", "sparse"))
    assert v.outcome == "b" and v.ratio == 2.0
    assert str(v).startswith("sparse is faster than dense: 1.00 ms vs 2.00 ms") and "2.0x" in str(v)
    v = compare(Measured(1.0, 0.05), Measured(2.0, 0.1), names=("dense", "sparse"))
    assert v.outcome == "a" and str(v).startswith("dense is faster than sparse")


def test_compare_inside_the_spread_is_no_difference():
    v = compare(Measured(2.0, 0.3), Measured(1.8, 0.3), names=("dense", "sparse"))
    assert v.outcome == "same" and str(v).startswith(NO_DIFFERENCE)


def test_no_difference_shows_the_bands_and_says_when_they_are_wide():
    v = compare(Measured(2.0, 0.3), Measured(1.9, 0.3), names=("dense", "sparse"))
    assert "dense 2.00 ± 0.300 ms, sparse 1.90 ± 0.300 ms (inside the run's spread)" in str(v)
    v = compare(Measured(0.07, 1.0), Measured(0.96, 0.05), names=("float32", "int8"))
    assert v.outcome == "same" and "scattered widely" in str(v)


def test_compare_tight_spread_but_below_min_ratio_is_no_difference():
    # bands apart (zero spread), but only 3 % apart: below the 5 % floor
    assert compare(1.0, 1.03).outcome == "same"
    assert compare(1.0, 1.0 * MIN_RATIO + 1e-9).outcome == "a"
    assert compare(1.0, 1.03, min_ratio=1.01).outcome == "a"


def test_compare_edges_of_the_band():
    # bands touching: not apart
    assert compare(Measured(1.0, 0.1), Measured(1.3, 0.2)).outcome == "same"
    assert compare(Measured(1.0, 0.1), Measured(1.31, 0.2)).outcome == "a"


def test_compare_kinds_words_and_directions():
    assert "smaller" in str(compare(100, 50, names=("csr", "bitmask"), kind="size"))
    v = compare(97.0, 98.5, names=("ptq", "qat"), kind="accuracy")
    assert v.outcome == "b" and "more accurate" in str(v) and "+1.5 points" in str(v)
    assert compare(3.0, 1.0, names=("b1", "b100"), kind="speedup").outcome == "a"


@pytest.mark.parametrize("kwargs", [{"names": "ab"}, {"names": ("a",)}, {"kind": "speed"}, {"min_ratio": 0.9},
                                    {"min_ratio": "2"}, {"unit": 3}])
def test_compare_refuses_bad_arguments(kwargs):
    with pytest.raises((TypeError, ValueError), match="names|kind|min_ratio|unit"):
        compare(1.0, 2.0, **kwargs)


def test_difference_sides_of_zero():
    assert difference((0.5, 0.2), names=("ptq", "qat")).outcome == "b"
    assert difference((-0.5, 0.2), names=("ptq", "qat")).outcome == "a"
    v = difference((0.1, 0.2), names=("ptq", "qat"))
    assert v.outcome == "same" and NO_DIFFERENCE in str(v) and "+0.10 ± 0.20 points" in str(v)


def test_first_win_from_always_never():
    xs = [0.5, 0.7, 0.8, 0.9, 0.95]
    dense = [Measured(1.0, 0.02)] * 5
    sparse = [Measured(v, 0.02) for v in (3.0, 1.5, 0.99, 0.6, 0.3)]
    v = first_win(xs, dense, sparse, names=("dense", "sparse"), x_name="sparsity", x_format="{:.0%}")
    assert v.outcome == "from" and v.ratio == 0.9 and "from sparsity 90% on" in str(v)  # 0.99 is a tie
    v = first_win(xs, dense, [Measured(0.5, 0.01)] * 5, names=("dense", "sparse"))
    assert v.outcome == "always" and v.ratio == 0.5
    v = first_win(xs, dense, [Measured(1.0, 0.01)] * 5, names=("dense", "sparse"))
    assert v.outcome == "never" and "5 of 5" in str(v)
    # a win that does not hold to the end is not a crossover, and the sentence says where it won
    v = first_win([1, 2, 3], [1.0] * 3, [0.5, 0.5, 2.0], names=("dense", "sparse"))
    assert v.outcome == "never" and "at x 1.0, 2.0 but not at 3.0" in str(v)


@pytest.mark.parametrize("xs, a, b", [([], [], []), ([2, 1], [1, 1], [1, 1]), ([1, 2], [1], [1, 1]),
                                      ("ab", [1, 1], [1, 1])])
def test_first_win_refuses_bad_sequences(xs, a, b):
    with pytest.raises((TypeError, ValueError), match="xs|a must|b must"):
        first_win(xs, a, b)


def test_scaling_three_outcomes():
    assert scaling(15.9, 16).outcome == "proportional"
    assert scaling(Measured(40.0, 1.0), 16).outcome == "faster"
    assert scaling(Measured(4.0, 0.5), 16).outcome == "slower"
    # beyond 1.2x but inside the spread: proportional
    assert scaling(Measured(22.0, 8.0), 16).outcome == "proportional"
    # a band from far below to far above proportion: the run cannot tell
    v = scaling(Measured(55.0, 80.0), 1.6)
    assert v.outcome == "unclear" and "too wide" in str(v)
    assert "15.9x for 16x" in str(scaling(15.9, 16))
    with pytest.raises(ValueError, match="factor"):
        scaling(2.0, 0)
