"""Chapter 05's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools

import numpy as np

from course_lib.exercises import add_cases, compare, grade_with, outcome_credit
from course_lib.exercises.bank.practice import (
    W8A4_ACT_BITS,
    W8A4_LAYERS,
    W8A4_TARGETS,
    equalize_case,
    lsq_case,
    lsq_positions,
)
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def reference_lsq_grad(x, s, qmin, qmax, upstream) -> float:
    """d/ds of sum(upstream * x_hat), x_hat = s * round(clip(x / s)), round passed straight through (autograd)."""
    import torch

    xt = torch.from_numpy(x)
    st = torch.tensor(float(s), dtype=torch.float64, requires_grad=True)
    v = torch.clamp(xt / st, qmin, qmax)
    v = v + (torch.round(v) - v).detach()          # value round(v), gradient that of v
    (torch.from_numpy(upstream) * v * st).sum().backward()
    return float(st.grad)


def _lsq_verdict(got, x, s, qmin, qmax, upstream):
    pos = lsq_positions(x, s, qmin, qmax)

    def one_hot(i):
        u = np.zeros_like(upstream)
        u[i] = upstream[i]
        return reference_lsq_grad(x, s, qmin, qmax, u)
    name = f"lsq_step_grad(x of {x.size} values, s = {s:g}, {qmin}, {qmax}, upstream)"
    problems = compare(np.array([float(v) for v in got["inside"]]), np.array([one_hot(i) for i in pos["inside"]]),
                       name=f"{name} with the upstream gradient of one element inside the range", rtol=1e-9,
                       atol=1e-12)
    return problems or compare(float(got["full"]), reference_lsq_grad(x, s, qmin, qmax, upstream), name=name,
                               rtol=1e-9, atol=1e-12)


def reference_equalize(w1, b1, w2):
    """Nagel et al. 2019: s_i = sqrt(r1_i / r2_i), so that both ranges become sqrt(r1_i r2_i)."""
    s = np.sqrt(np.abs(w1).max(axis=1) / np.abs(w2).max(axis=0))
    return {"W1": w1 / s[:, None], "b1": b1 / s, "W2": w2 * s[None, :]}


def _equalize_verdict(got, w1, b1, w2):
    ref = reference_equalize(w1, b1, w2)
    return [p for k in ref for p in compare(got[k], ref[k], name=f"equalize(...)[{k!r}]", rtol=1e-9, atol=1e-12)]


@functools.lru_cache(maxsize=1)
def _cnn_and_test():
    import course_lib as cl
    from course_lib.quantization import nn as qt

    folded = qt.fold_batchnorm(cl.load_pretrained("cifar_vgg"))
    test = cl.load_cifar10("test", limit=2000)
    return folded, test, cl.accuracy(folded, test.images, test.labels)


def w8a4_accuracy(answer) -> tuple[float, float]:
    """(float32 accuracy, simulated W8A4 accuracy) on the first 2,000 CIFAR-10 test images.

    The batch norms are folded; every Conv2d / Linear gets the weight codes * scales (per output channel) and its
    input is fake-quantized to 4-bit codes with the answer's scale and zero point (biases stay float32).
    """
    import copy

    import torch

    import course_lib as cl

    folded, test, float_acc = _cnn_and_test()
    model = copy.deepcopy(folded)
    modules = dict(model.named_modules())
    qmin, qmax = -(2 ** (W8A4_ACT_BITS - 1)), 2 ** (W8A4_ACT_BITS - 1) - 1
    for name in W8A4_LAYERS:
        layer, part = modules[name], answer[name]
        codes = part["codes"].astype(np.float64)
        weight = codes * part["scales"].astype(np.float64).reshape(-1, *([1] * (codes.ndim - 1)))
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(weight).float())
        scale, zp = float(part["act_scale"]), int(part["act_zero_point"])
        layer.register_forward_pre_hook(
            lambda mod, inputs, scale=scale, zp=zp: (torch.fake_quantize_per_tensor_affine(inputs[0], scale, zp,
                                                                                           qmin, qmax),))
    return float_acc, cl.accuracy(model, test.images, test.labels)


def _w8a4_verdict(got):
    float_acc, acc = w8a4_accuracy(got)
    return outcome_credit({W8A4_TARGETS[0].name: float_acc - acc}, W8A4_TARGETS)


grade_with("05-lsq-step-grad", _lsq_verdict)
grade_with("05-cross-layer-eq", _equalize_verdict)
grade_with("05-outcome-w8a4-cnn", _w8a4_verdict)

add_cases("05-lsq-step-grad",
          ("hidden: 6-bit, 80 values", lsq_case(seed_of(51), 80, 0.1, -32, 31)),
          ("hidden: 2-bit, 40 values", lsq_case(seed_of(52), 40, 1.3, -2, 1)))
add_cases("05-cross-layer-eq",
          ("hidden: 9 -> 30 -> 7", equalize_case(seed_of(53), 9, 30, 7)),
          ("hidden: 64 -> 5 -> 64", equalize_case(seed_of(54), 64, 5, 64)))
