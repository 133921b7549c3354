"""Notebook 04's exercises: the library's shortcuts earn nothing, the instructor's solutions full marks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

from course_lib import quantization as q
from course_lib.exercises import Target, linear_credit
from course_lib.exercises.bank.quantization import LOW_BIT_TARGETS

# --- the instructor's solutions (copied from notebooks/04_quantization_from_scratch.ipynb) -------------------------

def requantize(acc, M, z_out):
    n = 0
    while M * 2**n < 0.5:
        n += 1
    M0 = int(round(M * 2 ** (31 + n)))
    if M0 == 2**31:
        M0, n = 2**30, n - 1
    shift = 31 + n
    prod = acc.astype(np.int64) * M0 + (1 << (shift - 1))
    q_out = z_out + (prod >> shift)
    return {"M0": M0, "n": n, "q": np.clip(q_out, -128, 127).astype(np.int8)}


def asym_matvec(W, x, x_low, x_high):
    s_w = np.abs(W).max(axis=1) / 127
    w_q = np.clip(np.round(W / s_w[:, None]), -127, 127).astype(np.int8)
    s_x = (x_high - x_low) / 255
    z = int(np.clip(np.round(-x_low / s_x), 0, 255))
    x_q = np.clip(np.round(x / s_x) + z, 0, 255).astype(np.uint8)
    w32 = w_q.astype(np.int32)
    row_sums = w32.sum(axis=1)
    acc = w32 @ x_q.astype(np.int32) - z * row_sums
    return {"w_q": w_q, "x_q": x_q, "z": z, "acc": acc.astype(np.int32), "y": s_w * s_x * acc}


def low_bit_rows(w, bits=2):
    ratios = np.linspace(0.3, 1.0, 36)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    a = np.abs(w).max(axis=1, keepdims=True)
    best_err, best_s = np.full_like(a, np.inf), a / hi
    for c in ratios:
        s = c * a / hi
        err = ((np.clip(np.round(w / s), lo, hi) * s - w) ** 2).sum(axis=1, keepdims=True)
        best_s = np.where(err < best_err, s, best_s)
        best_err = np.minimum(err, best_err)
    return np.clip(np.round(w / best_s), lo, hi).astype(np.int8), best_s.ravel()


def _lenet_weights():
    import course_lib as cl

    model = cl.load_pretrained("lenet300")
    return {n: getattr(model, n).weight.detach().numpy().astype(np.float64) for n in ("fc1", "fc2", "fc3")}


def low_bit_lenet():
    out = {}
    for name, w in _lenet_weights().items():
        codes, scales = low_bit_rows(w)
        out[name] = {"codes": codes, "scales": scales}
    return out


# --- 04-fixed-point-requant ----------------------------------------------------------------------------------------

def _frexp_m0(M):
    mantissa, exponent = np.frexp(M)
    return int(round(mantissa * 2**31)), -int(exponent)


def float_requant(acc, M, z_out):
    """Rescale in float (what a float engine does), round half up: the fixed-point M0 would round differently."""
    m0, n = _frexp_m0(M)
    return {"M0": m0, "n": n, "q": np.clip(np.floor(acc * M + 0.5) + z_out, -128, 127).astype(np.int8)}


def numpy_round_requant(acc, M, z_out):
    m0, n = _frexp_m0(M)
    return {"M0": m0, "n": n, "q": np.clip(np.round(acc * M) + z_out, -128, 127).astype(np.int8)}


def torch_requant(acc, M, z_out):
    m0, n = _frexp_m0(M)
    codes = torch.quantize_per_tensor(torch.from_numpy(acc.astype(np.float32)), 1 / M, z_out, torch.qint8)
    return {"M0": m0, "n": n, "q": codes.int_repr().numpy()}


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_requant_shortcuts_fail():
    assert_no_shortcut("04-fixed-point-requant", float_requant=float_requant, numpy_round=numpy_round_requant,
                       torch_quantize_per_tensor=torch_requant)


def test_requant_solution():
    assert_full_marks("04-fixed-point-requant", requantize)


# --- 04-zero-point-matvec ------------------------------------------------------------------------------------------

def seed_matvec_answer(W, x, x_low, x_high):
    a_x = max(abs(x_low), abs(x_high))
    r = q.seed_matvec(W, x, a_w=float(np.abs(W).max()), a_x=a_x)
    return {"w_q": r["w_q"].astype(np.int8), "x_q": r["x_q"].astype(np.uint8), "z": 0,
            "acc": r["acc"].astype(np.int32), "y": r["y"]}


def symmetric_int8_answer(W, x, x_low, x_high):
    """Per-row weights right, activations on the library's symmetric int8 grid (no zero point)."""
    right = asym_matvec(W, x, x_low, x_high)
    xt = q.quantize_tensor(x, bits=8)
    acc = q.int8_matmul(right["w_q"], xt.q)
    return {**right, "x_q": xt.q.astype(np.uint8), "z": 0, "acc": acc.astype(np.int32),
            "y": np.abs(W).max(axis=1) / 127 * xt.scale * acc}


def library_affine_answer(W, x, x_low, x_high):
    """The library's affine grid (int8 codes -128..127) in place of uint8 codes."""
    right = asym_matvec(W, x, x_low, x_high)
    scale, zp = q.qparams(x_low, x_high, bits=8, symmetric=False)
    x_q = q.quantize(x, bits=8, scale=scale, zero_point=zp)
    acc = right["w_q"].astype(np.int32) @ (x_q.astype(np.int32) - zp)
    return {**right, "x_q": x_q.astype(np.uint8), "z": int(zp), "acc": acc.astype(np.int32),
            "y": np.abs(W).max(axis=1) / 127 * scale * acc}


def no_correction_answer(W, x, x_low, x_high):
    right = asym_matvec(W, x, x_low, x_high)
    acc = right["w_q"].astype(np.int32) @ right["x_q"].astype(np.int32)
    return {**right, "acc": acc.astype(np.int32), "y": np.abs(W).max(axis=1) / 127 * (x_high - x_low) / 255 * acc}


def test_zero_point_shortcuts_fail():
    assert_no_shortcut("04-zero-point-matvec", seed_matvec=seed_matvec_answer, symmetric_int8=symmetric_int8_answer,
                       library_affine=library_affine_answer, no_zero_point_correction=no_correction_answer)


def test_zero_point_solution():
    assert_full_marks("04-zero-point-matvec", asym_matvec)


# --- 04-outcome-low-bit --------------------------------------------------------------------------------------------

def _answer(make):
    return lambda: {name: dict(zip(("codes", "scales"), make(w))) for name, w in _lenet_weights().items()}


def _per_tensor_maxabs(w):
    """The library's default (max-abs, one scale per tensor), 2 bits, the scale repeated per row."""
    t = q.quantize_tensor(w, bits=2)
    return t.q.astype(np.int8), np.full(w.shape[0], float(t.scale))


def _per_row_maxabs(w):
    t = q.quantize_tensor(w, bits=2, per_channel_axis=0)
    return t.q.astype(np.int8), np.asarray(t.scale, dtype=np.float64)


def _per_tensor_mse(w):
    t = q.quantize_tensor(w, bits=2, method="mse")
    return t.q.astype(np.int8), np.full(w.shape[0], float(t.scale))


def _per_row_mse(w):
    """The best single library call (the demo table's best range): MSE ranges, one per row."""
    t = q.quantize_tensor(w, bits=2, method="mse", per_channel_axis=0)
    return t.q.astype(np.int8), np.asarray(t.scale, dtype=np.float64)


def test_low_bit_solution_full_marks():
    assert_full_marks("04-outcome-low-bit", low_bit_lenet)


def test_low_bit_unquantized_and_naive_answers_earn_nothing():
    float_weights = lambda: {n: {"codes": w, "scales": np.ones(w.shape[0])} for n, w in _lenet_weights().items()}  # noqa: E731
    assert_no_shortcut("04-outcome-low-bit", unquantized=float_weights)
    for naive in (_per_tensor_maxabs, _per_row_maxabs, _per_tensor_mse):
        assert selfcheck_credit("04-outcome-low-bit", _answer(naive))[0] == 1.0   # the form is right
        assert grader_credit("04-outcome-low-bit", _answer(naive))[0] == 0.0


def test_low_bit_partial_credit_follows_the_published_rule():
    """The best one library call (MSE ranges per row) misses the target: about 2.5 points lost, (3 - 2.5) / 1.2 of
    the credit."""
    got, problems = grader_credit("04-outcome-low-bit", _answer(_per_row_mse))
    assert 0.0 < got < 1.0 and problems
    dropped = float(problems[0].split(" is ")[1].split(" points")[0]) / 100
    target: Target = LOW_BIT_TARGETS[0]
    assert got == pytest.approx(linear_credit(dropped, target.goal, target.zero_at), abs=1e-3)
    assert got == pytest.approx(0.43, abs=0.08)
