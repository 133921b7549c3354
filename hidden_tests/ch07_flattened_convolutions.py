"""Chapter 07's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools
import warnings

import numpy as np

from course_lib.exercises import add_cases, compare_fields, grade_with
from course_lib.exercises.bank.flattened import (
    FLAT_LAYERS,
    TARGETS,
    als_case,
    stage_macs_case,
    trained_als_case,
)
from course_lib.exercises.outcomes import cnn_baseline, outcome_credit
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session

# --- 07-als-update: the checks made in the kernel decide (the normal equations have one solution here) ---------

add_cases("07-als-update",
          ("hidden: the trained CNN's features.14, 16 filters, R = 3, vertical",
           trained_als_case("features.14", 16, 3, "vertical", seed=seed_of(5))),
          ("hidden: a random 2x3x1x7 weight, R = 1, horizontal", als_case(seed_of(71), 2, 3, 1, 7, 1, "horizontal")))


# --- 07-stage-macs ----------------------------------------------------------------------------------------------

def reference_stage_macs(c, f, y, x, r, h, w, stride, padding):
    """Multiply-adds of the 3-D layer and of each stage of the flattened one, as the course's layer computes them."""
    ho, wo = (h + 2 * padding - y) // stride + 1, (w + 2 * padding - x) // stride + 1
    return {"dense": f * c * y * x * ho * wo,
            "lateral": f * r * c * h * w,        # 1x1, stride 1, no padding: every input position
            "vertical": f * r * y * ho * w,      # row stride and padding only: every input column
            "horizontal": f * r * x * ho * wo}   # column stride and padding: the output positions


def stage_macs_verdict(got, *args):
    return compare_fields(f"flattened_stage_macs{args}", {k: int(v) for k, v in got.items()},
                          reference_stage_macs(*args))


grade_with("07-stage-macs", stage_macs_verdict)
add_cases("07-stage-macs",
          ("hidden: 5x3 16 -> 48 on 11x12, stride 3, padding 1, R = 3", stage_macs_case(16, 48, 5, 3, 3, 11, 12, 3, 1)),
          ("hidden: 3x3 32 -> 64 on 16x16, stride 2, R = 4", stage_macs_case(32, 64, 3, 3, 4, 16, 16, 2, 1)))


# --- 07-outcome-flattened: the grader decomposes with the course's routine and measures, no fine-tuning ----------

@functools.lru_cache(maxsize=64)
def _filters(name, rank):
    from course_lib.factorization import flatten_filters, reconstruct_filters

    cnn = cnn_baseline()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a FlattenConvergenceWarning changes nothing here
        res = flatten_filters(cnn.get_submodule(name).weight.detach().double().numpy(), rank)
    return reconstruct_filters(res.lateral, res.vertical, res.horizontal)


def measured_accuracy(ranks):
    """Test accuracy of the CNN with each named layer replaced by its rank-R flattening (0: kept), no fine-tuning."""
    import copy

    import torch

    from course_lib.measure import predict

    cnn, test, _ = cnn_baseline()
    model = copy.deepcopy(cnn)
    with torch.no_grad():
        for name in FLAT_LAYERS:
            if int(ranks[name]):
                layer = model.get_submodule(name)
                layer.weight.copy_(torch.from_numpy(_filters(name, int(ranks[name]))).to(layer.weight.dtype))
    return float(np.mean(predict(model, test.images) == test.labels))


def flattened_ranks_verdict(got, budget):
    return outcome_credit({"test accuracy": measured_accuracy(got)}, TARGETS)


grade_with("07-outcome-flattened", flattened_ranks_verdict)
