"""Notebook 05's exercises: the library's shortcuts earn nothing, the instructor's solutions full marks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

import course_lib as cl
from course_lib.exercises import linear_credit
from course_lib.exercises.bank.practice import W8A4_TARGETS
from course_lib.quantization import nn as qt

# --- the instructor's solutions (copied from notebooks/05_quantization_in_practice.ipynb) --------------------------


def lsq_step_grad(x, s, qmin, qmax, upstream):
    v = x / s
    inside = (v > qmin) & (v < qmax)
    d_xhat_ds = np.where(inside, np.round(v) - v, np.where(v >= qmax, qmax, qmin))
    return float(np.sum(upstream * d_xhat_ds))


def equalize(W1, b1, W2):
    r1 = np.abs(W1).max(axis=1)      # range of each hidden channel's incoming weights
    r2 = np.abs(W2).max(axis=0)      # ... and of its outgoing weights
    s = np.sqrt(r1 / r2)
    return {"W1": W1 / s[:, None], "b1": b1 / s, "W2": W2 * s[None, :]}


def _layer_inputs(model, images):
    layers = {n: m for n, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))}
    seen = {n: [] for n in layers}
    hooks = [m.register_forward_pre_hook(lambda m, inp, n=n: seen[n].append(inp[0].detach().numpy().ravel()))
             for n, m in layers.items()]
    cl.predict(model, images)
    for h in hooks:
        h.remove()
    return layers, {n: np.concatenate(v) for n, v in seen.items()}


def w8a4_cnn():
    model = qt.fold_batchnorm(cl.load_pretrained("cifar_vgg"))
    layers, seen = _layer_inputs(model, cl.load_cifar10("train", limit=500).images)
    answer = {}
    for name, layer in layers.items():
        w = layer.weight.detach().numpy().astype(np.float64)
        s_w = np.abs(w).reshape(len(w), -1).max(axis=1) / 127
        codes = np.clip(np.round(w / s_w.reshape(-1, *[1] * (w.ndim - 1))), -127, 127).astype(np.int8)
        lo, hi = np.percentile(seen[name], [0.1, 99.9])
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        s_x = (hi - lo) / 15
        answer[name] = {"codes": codes, "scales": s_w, "act_scale": float(s_x),
                        "act_zero_point": int(np.clip(-8 - np.round(lo / s_x), -8, 7))}
    return answer


# --- 05-lsq-step-grad ----------------------------------------------------------------------------------------------

def _ste_autograd(x, s, qmin, qmax, upstream):
    """The library's straight-through fake quantization, back-propagated: the scale gets no gradient."""
    xt = torch.from_numpy(x).requires_grad_(True)
    st = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    out = qt.fake_quantize_ste(xt, st, 0, qmin, qmax)
    (out * torch.from_numpy(upstream)).sum().backward()
    return 0.0 if st.grad is None else float(st.grad)


def _round_derivative(x, s, qmin, qmax, upstream):
    """The derivative of s * clip(round(x / s)) in s with round's own (zero) derivative: round(x/s) inside."""
    return float(np.sum(upstream * np.clip(np.round(x / s), qmin, qmax)))


def _error_over_scale(x, s, qmin, qmax, upstream):
    x_hat = s * np.clip(np.round(x / s), qmin, qmax)
    return float(np.sum(upstream * (x_hat - x) / s))


def test_lsq_shortcuts_fail():
    assert_no_shortcut("05-lsq-step-grad", library_fake_quantize_ste=_ste_autograd,
                       round_not_passed_through=_round_derivative, quantization_error_over_s=_error_over_scale)


def test_lsq_solution():
    assert_full_marks("05-lsq-step-grad", lsq_step_grad)


# --- 05-cross-layer-eq ---------------------------------------------------------------------------------------------

def _unchanged(W1, b1, W2):
    return {"W1": W1, "b1": b1, "W2": W2}


def _one_sided(W1, b1, W2):
    """Every row of W1 scaled to range 1 (as per-channel scales would), W2 compensating."""
    s = np.abs(W1).max(axis=1)
    return {"W1": W1 / s[:, None], "b1": b1 / s, "W2": W2 * s[None, :]}


def _ratio_not_sqrt(W1, b1, W2):
    s = np.abs(W1).max(axis=1) / np.abs(W2).max(axis=0)
    return {"W1": W1 / s[:, None], "b1": b1 / s, "W2": W2 * s[None, :]}


def test_equalize_shortcuts_fail():
    assert_no_shortcut("05-cross-layer-eq", unchanged=_unchanged, one_sided=_one_sided, ratio=_ratio_not_sqrt)


def test_equalize_solution():
    assert_full_marks("05-cross-layer-eq", equalize)


# --- 05-outcome-w8a4-cnn -------------------------------------------------------------------------------------------

def _library_calibrated(method="minmax", bits=4):
    """The library's one-shot recipe: calibrate() (min/max by default), activation_qparams, quantize_weight."""
    def answer():
        model = qt.fold_batchnorm(cl.load_pretrained("cifar_vgg"))
        ranges = qt.calibrate(model, cl.load_cifar10("train", limit=500).images, method=method)
        out = {}
        for name, layer in model.named_modules():
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
                codes, scale = qt.quantize_weight(layer.weight.detach(), bits=8, per_channel=True)
                s, z = qt.activation_qparams(*ranges[name], bits=bits)
                out[name] = {"codes": codes.numpy().astype(np.int8), "scales": scale.numpy().astype(np.float64),
                             "act_scale": s, "act_zero_point": z}
        return out
    return answer


def test_w8a4_solution_full_marks():
    answer = w8a4_cnn()                       # computed once: the grader and the self-check each call the answer
    assert_full_marks("05-outcome-w8a4-cnn", lambda: answer)


def test_w8a4_unquantized_and_8bit_activations_fail_the_form():
    def unquantized():
        model = qt.fold_batchnorm(cl.load_pretrained("cifar_vgg"))
        return {n: {"codes": m.weight.detach().numpy(), "scales": np.ones(m.weight.shape[0]), "act_scale": 1.0,
                    "act_zero_point": 0}
                for n, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))}
    assert_no_shortcut("05-outcome-w8a4-cnn", unquantized=unquantized, library_8bit=_library_calibrated(bits=8))


@pytest.mark.slow
def test_w8a4_min_max_calibration_earns_partial_credit():
    """calibrate()'s default min/max ranges lose about 3 points at 4 bits: part of the credit, by the printed rule."""
    naive = _library_calibrated("minmax")
    assert selfcheck_credit("05-outcome-w8a4-cnn", naive)[0] == 1.0      # the form is right
    got, problems = grader_credit("05-outcome-w8a4-cnn", naive)
    dropped = float(problems[0].split(" is ")[1].split(" points")[0]) / 100
    target = W8A4_TARGETS[0]
    assert 0.0 < got < 1.0
    assert got == pytest.approx(linear_credit(dropped, target.goal, target.zero_at), abs=1e-3)
    assert got == pytest.approx(0.45, abs=0.2)
