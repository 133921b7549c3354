"""Chapter 01's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.

The masks and the break-even are decided completely by the student-side checks (they measure the
properties that make the answer unique); the outcome is measured here, on the MNIST test set.
"""

import functools

import numpy as np

from course_lib.exercises import add_cases, grade_with
from course_lib.exercises.bank.pruning import OUTCOME_TARGETS, break_even_case, nm_mask_case, row_mask_case
from course_lib.exercises.outcomes import lenet_baseline, outcome_credit
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session

add_cases("01-row-mask",
          ("hidden: keep 2 of 5 in each of 9 rows", row_mask_case(seed_of(11), (9, 5), 2)),
          ("hidden: keep 50 of 784 in each of 30 rows", row_mask_case(seed_of(12), (30, 784), 50, decimals=2)))
add_cases("01-nm-mask",
          ("hidden: 2:4 on a 3x8 matrix", nm_mask_case(seed_of(13), (3, 8), 2, 4)),
          ("hidden: 3:8 on a 20x40 matrix", nm_mask_case(seed_of(14), (20, 40), 3, 8)))
add_cases("01-csr-break-even",
          ("hidden: fc2, 100x300", break_even_case(100, 300)),
          ("hidden: 2000x2000 (the row pointers need 4 bytes)", break_even_case(2000, 2000)),
          ("hidden: 256x256 (1-byte column indices)", break_even_case(256, 256)))


def measure_masks(masks):
    """The outcome's measurements of ``masks``: sparsity over the three weight matrices and the test accuracy
    drop of LeNet-300-100 with them applied (biases untouched, no retraining)."""
    import course_lib as cl
    from course_lib.pruning import nn as prune_nn

    model, test, dense = lenet_baseline()
    masks = {name: np.asarray(m, dtype=bool) for name, m in masks.items()}
    pruned = prune_nn.apply_masks(model, masks)
    kept = sum(int(m.sum()) for m in masks.values())
    total = sum(m.size for m in masks.values())
    acc = cl.accuracy(pruned, test.images, test.labels)
    return {"sparsity": 1 - kept / total, "accuracy drop": dense - acc}


def _outcome_verdict(got):
    return outcome_credit(measure_masks(got), OUTCOME_TARGETS)


grade_with("01-outcome-masks", _outcome_verdict)
