"""Notebook 07's exercises: the right answers pass every case, typical mistakes fail with feedback."""

import numpy as np

import course_lib as cl
from course_lib.exercises import EXERCISES
from course_lib.exercises.bank import cnn_layer_cost_case, flattened_cost_case, rank1_case, trained_rank1_case


def rank1(z, v, h):
    return np.asarray(z)[:, None, None] * np.asarray(v)[None, :, None] * np.asarray(h)[None, None, :]


def cost(C, F, Y, X, R, m, n):
    return [F * C * Y * X, F * R * (C + Y + X), m * n * F * C * Y * X, m * n * F * R * (C + Y + X)]


def test_right_answers_pass():
    assert cl.check("07-rank1-filter", rank1, quiet=True)
    assert cl.check("07-flattened-cost", cost, quiet=True)
    assert len(EXERCISES["07-rank1-filter"].cases) >= 4 and len(EXERCISES["07-flattened-cost"].cases) >= 4


def test_hidden_case_builders_accept_the_right_answers():
    for run in (rank1_case(71, 5, 1, 9), trained_rank1_case(11, 17)):
        assert run(rank1) == []
    for run in (flattened_cost_case(3, 96, 7, 7, 1, 55, 55), cnn_layer_cost_case("features.4", 4, 16)):
        assert run(cost) == []


def test_typical_mistakes_fail(capsys):
    swapped = lambda z, v, h: rank1(z, h, v)  # noqa: E731  (vertical and horizontal swapped)
    result = cl.check("07-rank1-filter", swapped)
    assert result.passed == 0  # a swap is wrong even for a square kernel: v and h differ
    out = capsys.readouterr().out
    assert "has shape (64, 3, 5), expected (64, 5, 3)" in out and "wrong in 12 of 18 entries" in out
    summed = lambda z, v, h: np.add.outer(np.add.outer(z, v), h)  # noqa: E731
    assert cl.check("07-rank1-filter", summed, quiet=True).passed == 0

    def no_rank(C, F, Y, X, R, m, n):  # forgets the R terms
        return cost(C, F, Y, X, 1, m, n)

    result = cl.check("07-flattened-cost", no_rank, quiet=True)
    assert 0 < result.passed < result.total
    assert not cl.check("07-flattened-cost", lambda *a: cost(*a)[:3], quiet=True)
    out = cl.check("07-flattened-cost", lambda *a: None, quiet=True)
    assert out.passed == 0
