"""Chapter 04's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools

import numpy as np

from course_lib.exercises import add_cases, compare, compare_fields, grade_with, outcome_credit
from course_lib.exercises.bank.quantization import LOW_BIT_TARGETS, requant_case, zero_point_case
from course_lib.exercises.outcomes import lenet_baseline
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def reference_requantize(acc, multiplier, z_out):
    """TFLite's single-rounding requantization: M = M0 2^-(31+n), then (acc M0 + 2^(30+n)) >> (31+n)."""
    mantissa, exponent = np.frexp(multiplier)          # multiplier = mantissa 2^exponent, mantissa in [1/2, 1)
    n = -int(exponent)
    m0 = int(round(mantissa * 2**31))
    if m0 == 2**31:
        m0, n = 2**30, n - 1
    shift = 31 + n
    q = [min(127, max(-128, z_out + ((int(a) * m0 + (1 << (shift - 1))) >> shift))) for a in acc.ravel()]
    return {"M0": m0, "n": n, "q": np.array(q, dtype=np.int8).reshape(acc.shape)}


def _requant_verdict(got, acc, multiplier, z_out):
    ref = reference_requantize(acc, multiplier, z_out)
    return compare_fields(f"requantize(acc of shape {acc.shape}, M = {multiplier:.6g}, z = {z_out})",
                          {k: np.asarray(v) for k, v in got.items()}, ref)


def reference_asym_matvec(w, x, x_low, x_high):
    """Symmetric per-row int8 weights, uint8 activations with a zero point, int32 accumulators."""
    s_w = np.abs(w).max(axis=1) / 127
    w_q = np.clip(np.round(w / s_w[:, None]), -127, 127).astype(np.int8)
    s_x = (x_high - x_low) / 255
    z = int(np.clip(np.round(-x_low / s_x), 0, 255))
    x_q = np.clip(np.round(x / s_x) + z, 0, 255).astype(np.uint8)
    w32 = w_q.astype(np.int32)
    acc = (w32 @ x_q.astype(np.int32) - z * w32.sum(axis=1)).astype(np.int32)
    return {"w_q": w_q, "x_q": x_q, "z": z, "acc": acc, "y": s_w * s_x * acc}


def _zero_point_verdict(got, w, x, x_low, x_high):
    ref = reference_asym_matvec(w, x, x_low, x_high)
    name = f"asym_matvec(W {w.shape}, x, {x_low:g}, {x_high:g})"
    problems = compare_fields(name, {k: got[k] for k in ("w_q", "x_q", "z", "acc")},
                              {k: ref[k] for k in ("w_q", "x_q", "z", "acc")})
    return problems or compare(got["y"], ref["y"], name=f"{name}['y']", rtol=1e-9, atol=1e-12)




def low_bit_accuracy(answer) -> tuple[float, float]:
    """(float32 accuracy, accuracy with the answer's weights codes * scales) of LeNet-300-100 on the MNIST test set."""
    import copy

    import torch

    import course_lib as cl

    model, test, float_acc = lenet_baseline()
    quantized = copy.deepcopy(model)
    with torch.no_grad():
        for name in ("fc1", "fc2", "fc3"):
            codes, scales = answer[name]["codes"], answer[name]["scales"]
            weight = codes.astype(np.float64) * scales.astype(np.float64)[:, None]
            getattr(quantized, name).weight.copy_(torch.from_numpy(weight).float())
    return float_acc, cl.accuracy(quantized, test.images, test.labels)


def _low_bit_verdict(got):
    float_acc, acc = low_bit_accuracy(got)
    return outcome_credit({LOW_BIT_TARGETS[0].name: float_acc - acc}, LOW_BIT_TARGETS)


grade_with("04-fixed-point-requant", _requant_verdict)
grade_with("04-zero-point-matvec", _zero_point_verdict)
grade_with("04-outcome-low-bit", _low_bit_verdict)

_ODD = np.array([1, 3, 5, 7, 9, 11, 21, -1, -3, -5, -7, -9, -11, -21])
add_cases("04-fixed-point-requant",
          ("hidden: M = 6e-5, z = 40",
           requant_case(6e-5, 40, 25000 * _ODD, seed=seed_of(31), size=200, spread=1_000_000)),
          ("hidden: M = 0.9, z = -7, ties", requant_case(0.9, -7, [*(5 * _ODD), *range(-150, 150, 7)])),
          ("hidden: M = 0.021", requant_case(0.021, 0, 500 * _ODD, seed=seed_of(32), size=100, spread=4000)))
add_cases("04-zero-point-matvec",
          ("hidden: a 9x4 layer, x in [-3, 0.5]", zero_point_case(seed_of(31), 9, 4, -3.0, 0.5)),
          ("hidden: a 100x784 layer, x in [-0.1, 2.8], inputs clipped",
           zero_point_case(seed_of(32), 100, 784, -0.1, 2.8, outliers=5)))
