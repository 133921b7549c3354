"""Chapter 09's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools

import numpy as np

from course_lib.exercises import add_cases, compare, grade_with
from course_lib.exercises.bank.summary import BUDGET_TARGETS, budget_model, pareto3_case, random_table3, stored_bytes
from course_lib.exercises.outcomes import lenet_baseline, outcome_credit
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def reference_pareto3(acc, size, lat):
    """The indices no other configuration dominates (at least as good on all three costs, better on one)."""
    pts = np.stack([-np.asarray(acc, float), np.asarray(size, float), np.asarray(lat, float)], axis=1)
    keep = []
    for i, p in enumerate(pts):
        if not np.any(np.all(pts <= p, axis=1) & np.any(pts < p, axis=1)):
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def pareto3_verdict(got, acc, size, lat):
    return compare(np.sort(np.asarray(got, dtype=np.int64).ravel()), reference_pareto3(acc, size, lat),
                   name="the front's indices, sorted")


def budget_verdict(got):
    from course_lib.measure import accuracy

    test = lenet_baseline()[1]
    measured = {"stored bytes": stored_bytes(got), "test accuracy": accuracy(budget_model(got), test.images,
                                                                              test.labels)}
    return outcome_credit(measured, BUDGET_TARGETS)


grade_with("09-pareto3", pareto3_verdict)
grade_with("09-outcome-budget", budget_verdict)

add_cases("09-pareto3",
          ("hidden: 43 configurations on 4 levels", pareto3_case(lambda: random_table3(seed_of(91), 40, levels=4),
                                                                 "43 configurations")),
          ("hidden: 8 configurations", pareto3_case(lambda: random_table3(seed_of(92), 5), "8 configurations")))
