"""Notebook 08's exercises: the right answers pass every case, typical mistakes fail with feedback."""

import math

import numpy as np

import course_lib as cl
from course_lib.exercises import EXERCISES
from course_lib.exercises.bank import modes_case, trained_entry_case, tt_cost_case, tt_entry_case


def cost(in_modes, out_modes, ranks):
    d = len(in_modes)
    r = [1, *([ranks] * (d - 1)), 1] if isinstance(ranks, int) else list(ranks)
    params = sum(r[k] * in_modes[k] * out_modes[k] * r[k + 1] for k in range(d))
    return params, math.prod(in_modes) * math.prod(out_modes) / params


def entry(cores, index):
    v = np.ones((1, 1))
    for core, i in zip(cores, index):
        v = v @ core[:, i, :]
    return float(v[0, 0])


def modes(n, d):  # a brute-force search written differently from the library's
    best = None
    def rec(n, d, lo, acc):
        nonlocal best
        if d == 1:
            if n >= lo:
                t = acc + [n]
                if best is None or max(t) / min(t) < max(best) / min(best):
                    best = t
            return
        for f in range(lo, n + 1):
            if n % f == 0:
                rec(n // f, d - 1, f, acc + [f])
    rec(n, d, 1, [])
    return best[::-1]  # any order passes


def test_right_answers_pass():
    for ex, fn in (("08-tt-cost", cost), ("08-tt-entry", entry), ("08-choose-modes", modes)):
        assert cl.check(ex, fn, quiet=True), ex
        assert len(EXERCISES[ex].cases) >= 4


def test_hidden_case_builders_accept_the_right_answers():
    assert tt_cost_case((4,) * 6, (4,) * 6, 8)(cost) == []
    assert tt_entry_case(81, (5, 3, 2, 4), 2, (4, 2, 1, 0))(entry) == []
    assert trained_entry_case((15, 63, 0, 7))(entry) == []
    assert modes_case(3600, 3)(modes) == [] and modes_case(2048, 4)(modes) == []


def test_other_balanced_factorizations_pass_too():
    # 784 = 4*4*7*7: any order; 1000 in 3 modes: only 10*10*10
    assert modes_case(784, 4)(lambda n, d: [7, 4, 7, 4]) == []
    assert modes_case(784, 4)(lambda n, d: np.array([4, 7, 7, 4])) == []


def test_typical_mistakes_fail(capsys):
    # dense / params with the ranks squared everywhere (forgets r_0 = r_d = 1)
    def squared(in_modes, out_modes, ranks):
        params = sum(ranks * m * n * ranks for m, n in zip(in_modes, out_modes))
        return params, math.prod(in_modes) * math.prod(out_modes) / params
    assert cl.check("08-tt-cost", squared, quiet=True).passed == 1  # only the rank-1 case cannot tell
    assert cl.check("08-tt-cost", lambda *a: cost(*a)[0], quiet=True).passed == 0
    transposed = lambda cores, index: entry([c.transpose(2, 1, 0) for c in cores], index[::-1])  # noqa: E731
    assert cl.check("08-tt-entry", transposed, quiet=True).passed < len(EXERCISES["08-tt-entry"].cases)
    assert cl.check("08-tt-entry", lambda c, i: None, quiet=True).passed == 0
    # valid but unbalanced, and the wrong product or length
    assert modes_case(4096, 6)(lambda n, d: [2, 2, 4, 4, 8, 8])[0].endswith("a more balanced factorization exists")
    assert modes_case(4096, 6)(lambda n, d: [4, 4, 4, 4, 4, 4.0])[0] == (
        "choose_modes(4096, 6): every mode must be an int >= 1, got [4, 4, 4, 4, 4, 4.0]")
    assert modes_case(4096, 6)(lambda n, d: [4, 4, 4, 4, 4, 3])[0] == (
        "choose_modes(4096, 6): the modes multiply to 3072, must multiply to 4096")
    assert modes_case(4096, 6)(lambda n, d: [64, 64])[0] == "choose_modes(4096, 6) returned 2 modes, expected 6"
    result = cl.check("08-choose-modes", lambda n, d: [n] + [1] * (d - 1))
    assert result.passed == 1  # only the prime 13, where 13 x 1 is the best there is
    assert "a more balanced factorization exists" in capsys.readouterr().out
