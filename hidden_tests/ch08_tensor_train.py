"""Chapter 08's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools
import math
from functools import cache

import numpy as np

from course_lib.exercises import add_cases, grade_with
from course_lib.exercises.bank.tt import (
    BIG_SHAPE,
    TT_LAYER_TARGETS,
    add_case,
    cheap_modes_case,
    inner_case,
    tt_layer_compression,
    tt_layer_model,
)
from course_lib.exercises.outcomes import outcome_credit
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def reference_inner(a, b):
    """<A, B> core by core: M_k = sum_i A_k[:, i, :]^T M_{k-1} B_k[:, i, :], from M_0 = 1."""
    m = np.ones((1, 1))
    for ca, cb in zip(a, b):
        m = np.einsum("ab,aic,bid->cd", m, ca, cb)
    return float(m[0, 0])


def reference_add(a, b):
    """The block cores of A + B: first concatenated, middle block-diagonal, last stacked."""
    d = len(a)
    out = []
    for k, (ca, cb) in enumerate(zip(a, b)):
        (ra0, n, ra1), (rb0, _, rb1) = ca.shape, cb.shape
        if k == 0:
            out.append(np.concatenate([ca, cb], axis=2))
        elif k == d - 1:
            out.append(np.concatenate([ca, cb], axis=0))
        else:
            c = np.zeros((ra0 + rb0, n, ra1 + rb1))
            c[:ra0, :, :ra1], c[ra0:, :, ra1:] = ca, cb
            out.append(c)
    return out


def inner_verdict(got, a, b):
    want = reference_inner(a, b)
    scale = math.sqrt(max(reference_inner(a, a), 0.0) * max(reference_inner(b, b), 0.0))
    return [] if math.isclose(float(got), want, rel_tol=1e-8, abs_tol=1e-12 * scale) else [
        "the value is not <A, B>"]


def add_verdict(got, a, b):
    s = reference_add(a, b)
    g = [np.asarray(c, dtype=np.float64) for c in got]
    gap = reference_inner(g, g) - 2 * reference_inner(g, s) + reference_inner(s, s)
    return [] if gap <= 1e-12 * reference_inner(s, s) else ["the cores do not make A + B"]


def fewest_numbers(m, n, d, rank):
    """The fewest numbers sum_k r_{k-1} m_k n_k r_k over every pair of ordered factorizations into modes >= 2
    (dynamic programming; inf where none exists)."""
    r = [1] + [rank] * (d - 1) + [1]

    @cache
    def divisors(x):
        return [k for k in range(2, x + 1) if x % k == 0]

    @cache
    def best(k, a, b):
        if k == d - 1:
            return r[k] * r[k + 1] * a * b if a >= 2 and b >= 2 else math.inf
        return min((r[k] * r[k + 1] * p * q + best(k + 1, a // p, b // q) for p in divisors(a) for q in divisors(b)),
                   default=math.inf)
    return best(0, m, n)


def modes_verdict(got, m, n, d, rank):
    ins, outs = [int(x) for x in got[0]], [int(x) for x in got[1]]
    r = [1] + [rank] * (d - 1) + [1]
    cost = sum(r[k] * a * b * r[k + 1] for k, (a, b) in enumerate(zip(ins, outs)))
    return [] if cost == fewest_numbers(m, n, d, rank) else ["other modes need fewer numbers"]


def tt_layer_verdict(got):
    from course_lib.data import load_mnist
    from course_lib.measure import accuracy

    test = load_mnist("test")
    measured = {"compression of fc2's weight": tt_layer_compression(got),
                "test accuracy": accuracy(tt_layer_model(got), test.images, test.labels)}
    return outcome_credit(measured, TT_LAYER_TARGETS)


grade_with("08-tt-inner", inner_verdict)
grade_with("08-tt-add", add_verdict)
grade_with("08-cheapest-modes", modes_verdict)
grade_with("08-outcome-tt-layer", tt_layer_verdict)

add_cases("08-tt-inner",
          ("hidden: 5x3x2x4, ranks 2 and 3", inner_case(seed_of(81), (5, 3, 2, 4), (1, 2, 2, 2, 1), (1, 3, 3, 3, 1))),
          ("hidden: 5 modes of 2000, ranks 4 and 1", inner_case(seed_of(82), BIG_SHAPE, (1, 4, 4, 4, 4, 1), (1,) * 6)))
add_cases("08-tt-add",
          ("hidden: 3x2x2x3, ranks 2 + 3", add_case(seed_of(83), (3, 2, 2, 3), (1, 2, 2, 2, 1), (1, 3, 3, 3, 1))),
          ("hidden: 5 modes of 2000, ranks 1 + 4", add_case(seed_of(84), BIG_SHAPE, (1,) * 6, (1, 4, 4, 4, 4, 1))))
add_cases("08-cheapest-modes",
          ("hidden: 1000 x 1000, 3 cores, rank 5", cheap_modes_case(1000, 1000, 3, 5)),
          ("hidden: t3f's 784 x 625, 4 cores, rank 4", cheap_modes_case(784, 625, 4, 4)))
