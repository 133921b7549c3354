"""Exercises of notebook 05: the step size's gradient (LSQ), cross-layer equalization, a W8A4 CIFAR-10 CNN.

The checks here are properties a right answer has (never a reference solution): the grader's
references and hidden cases are the instructor's (``hidden_tests/ch05_quantization_in_practice.py``).
"""

from __future__ import annotations

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["lsq_case", "lsq_probe", "lsq_positions", "equalize_case", "W8A4_LAYERS", "W8A4_TARGETS", "W8A4_ACT_BITS",
           "w8a4_case", "w8a4_form"]


def _number(value) -> float | None:
    """``value`` as a finite float, or None."""
    if isinstance(value, bool):
        return None
    scalar = isinstance(value, np.ndarray) and value.shape == ()
    if isinstance(value, (int, float, np.integer, np.floating)) or scalar:
        out = float(value)
        return out if np.isfinite(out) else None
    return None


def _fields(got, name: str, keys: tuple) -> list[str]:
    if not isinstance(got, dict):
        return [f"{name} returned a {type(got).__name__}, expected a dict with keys {list(keys)}"]
    missing = [k for k in keys if k not in got]
    return [f"{name} has no key {missing}: expected the keys {list(keys)}"] if missing else []


# --- 05-lsq-step-grad ----------------------------------------------------------------------------------------------

def lsq_positions(x, s, qmin, qmax) -> dict:
    """Where the probe puts a one-hot upstream gradient: one element clipped above, one below, three inside."""
    v = x / s
    inside = np.flatnonzero((v > qmin) & (v < qmax))
    by_size = inside[np.argsort(-np.abs(v[inside]), kind="stable")]
    return {"above": int(np.flatnonzero(v > qmax)[0]), "below": int(np.flatnonzero(v < qmin)[0]),
            "inside": [int(i) for i in by_size[:3]]}


def lsq_probe(answer, args):
    """Call ``answer(x, s, qmin, qmax, upstream)`` on the case, then with one-hot upstream gradients."""
    x, s, qmin, qmax, upstream = args
    pos = lsq_positions(x, s, qmin, qmax)

    def one_hot(i):
        u = np.zeros_like(upstream)
        u[i] = upstream[i]
        return answer(x.copy(), s, qmin, qmax, u)
    return {"full": answer(x.copy(), s, qmin, qmax, upstream.copy()), "above": one_hot(pos["above"]),
            "below": one_hot(pos["below"]), "inside": [one_hot(i) for i in pos["inside"]],
            "zero": answer(x.copy(), s, qmin, qmax, np.zeros_like(upstream))}


def _lsq_check(got, x, s, qmin, qmax, upstream):
    name = f"lsq_step_grad(x of {x.size} values, s = {s:g}, {qmin}, {qmax}, upstream)"
    if not isinstance(got, dict):
        return [f"{name}: the answer could not be called on the case"]
    values = [got.get("full"), got.get("above"), got.get("below"), got.get("zero"), *(got.get("inside") or [])]
    if any(_number(v) is None for v in values):
        return [f"{name} must return one finite number (a float), the gradient of the loss with respect to s"]
    pos = lsq_positions(x, s, qmin, qmax)
    if _number(got["zero"]) != 0.0:
        return [f"{name}: with a zero upstream gradient the gradient with respect to s must be 0"]
    for side, code in (("above", qmax), ("below", qmin)):
        u = upstream[pos[side]]
        if not np.isclose(_number(got[side]), code * u, rtol=1e-9, atol=1e-12):
            return [f"{name}: an element clipped {side} the range contributes the wrong amount to the gradient "
                    f"(its fake-quantized value is s * {code}: what is its derivative with respect to s?)"]
    for i, g in zip(pos["inside"], got["inside"]):
        if abs(_number(g)) > 0.5 * abs(upstream[i]) * (1 + 1e-9) + 1e-12:
            return [f"{name}: an element inside the range contributes more than half its upstream gradient: with "
                    "the straight-through estimator, round(x/s) - x/s is at most 1/2 in magnitude"]
    return []


def lsq_case(seed, n, s, qmin, qmax):
    """A case for ``lsq_step_grad(x, s, qmin, qmax, upstream) -> float``: ``n`` values, some clipped on each side."""
    def inputs():
        rng = np.random.default_rng(seed)
        x = rng.normal(0, (qmax - qmin) / 4, size=n) * s
        x[:2] = np.array([qmin - 3.3, qmax + 2.7]) * s    # clipped below and above
        return x, float(s), int(qmin), int(qmax), rng.normal(size=n)
    return Case(inputs, _lsq_check)


exercise("05-lsq-step-grad", "The gradient of the loss with respect to the step size (LSQ)", kind="derivation",
         checked_here="form", probe=lsq_probe).cases.extend([
    ("8-bit codes, 50 values", lsq_case(0, 50, 0.05, -128, 127)),
    ("4-bit symmetric, 200 values", lsq_case(1, 200, 0.2, -7, 7)),
    ("3-bit, 30 values", lsq_case(2, 30, 0.5, -4, 3)),
])


# --- 05-cross-layer-eq ---------------------------------------------------------------------------------------------

def _equalize_check(got, w1, b1, w2, x):
    name = f"equalize(W1 {w1.shape}, b1, W2 {w2.shape})"
    problems = _fields(got, name, ("W1", "b1", "W2"))
    if problems:
        return problems
    for key, ref in (("W1", w1), ("b1", b1), ("W2", w2)):
        v = got[key]
        if not isinstance(v, np.ndarray) or v.shape != ref.shape or v.dtype.kind != "f" or not np.all(np.isfinite(v)):
            return [f"{name}[{key!r}] must be a finite float array of shape {ref.shape}"]
    e1, c1, e2 = got["W1"], got["b1"], got["W2"]
    r1 = np.abs(e1).max(axis=1)
    if np.any(r1 <= 0):
        return [f"{name}['W1'] has a row of zeros"]
    s = np.abs(w1).max(axis=1) / r1          # the scale each channel was divided by, read off the answer
    if not (np.allclose(e1, w1 / s[:, None], rtol=1e-9, atol=1e-12) and np.allclose(c1, b1 / s, rtol=1e-9, atol=1e-12)
            and np.allclose(e2, w2 * s[None, :], rtol=1e-9, atol=1e-12)):
        return [f"{name}: each hidden channel i must be rescaled by one positive s_i: row i of W1 and b1[i] divided "
                "by it, column i of W2 multiplied by it (and nothing else changed)"]
    ref_out = np.maximum(x @ w1.T + b1, 0) @ w2.T
    out = np.maximum(x @ e1.T + c1, 0) @ e2.T
    if not np.allclose(out, ref_out, rtol=1e-9, atol=1e-9):
        return [f"{name}: the two layers with a ReLU between them no longer compute the same function"]
    if not np.allclose(r1, np.abs(e2).max(axis=0), rtol=1e-9, atol=1e-12):
        return [f"{name}: the ranges are not equalized: max|W1'[i, :]| must equal max|W2'[:, i]| for every channel"]
    return []


def equalize_case(seed, n_in, hidden, n_out):
    """A case for ``equalize(W1, b1, W2) -> {"W1", "b1", "W2"}``: channels of very different ranges."""
    def inputs():
        rng = np.random.default_rng(seed)
        w1 = rng.normal(size=(hidden, n_in)) * np.exp(rng.normal(0, 1.5, size=(hidden, 1)))
        w2 = rng.normal(size=(n_out, hidden)) * np.exp(rng.normal(0, 1.0, size=(1, hidden)))
        return w1, rng.normal(size=hidden), w2
    return Case(inputs, lambda got, w1, b1, w2: _equalize_check(
        got, w1, b1, w2, np.random.default_rng(seed + 1000).normal(size=(16, n_in))))


exercise("05-cross-layer-eq", "Cross-layer equalization of two layers with a ReLU between them",
         kind="variant").cases.extend([
    ("4 -> 3 -> 2", equalize_case(0, 4, 3, 2)),
    ("20 -> 12 -> 5", equalize_case(1, 20, 12, 5)),
    ("LeNet-sized: 784 -> 300 -> 100", equalize_case(2, 784, 300, 100)),
])


# --- 05-outcome-w8a4-cnn -------------------------------------------------------------------------------------------

W8A4_ACT_BITS = 4
W8A4_LAYERS = {"features.0": (32, 3, 3, 3), "features.4": (64, 32, 3, 3), "features.7": (64, 64, 3, 3),
               "features.11": (128, 64, 3, 3), "features.14": (128, 128, 3, 3), "classifier.1": (512, 2048),
               "classifier.4": (512, 512), "classifier.7": (10, 512)}
W8A4_TARGETS = [Target("accuracy drop (float32 minus W8A4, first 2,000 CIFAR-10 test images)", goal=0.015,
                       zero_at=0.04, higher=False, unit="points")]


def w8a4_form(got) -> list[str]:
    """The problems of the form of a ``w8a4_cnn()`` answer."""
    name = "w8a4_cnn()"
    problems = _fields(got, name, tuple(W8A4_LAYERS))
    if problems:
        return problems
    amin, amax = -(2 ** (W8A4_ACT_BITS - 1)), 2 ** (W8A4_ACT_BITS - 1) - 1
    for layer, shape in W8A4_LAYERS.items():
        part, where = got[layer], f"{name}[{layer!r}]"
        problems = _fields(part, where, ("codes", "scales", "act_scale", "act_zero_point"))
        if problems:
            return problems
        codes = part["codes"]
        if not isinstance(codes, np.ndarray) or codes.shape != shape or codes.dtype != np.int8:
            return [f"{where}['codes'] must be an int8 array of shape {shape} (the folded layer's weight)"]
        scales = part["scales"]
        if (not isinstance(scales, np.ndarray) or scales.shape != (shape[0],) or scales.dtype.kind != "f"
                or not np.all(np.isfinite(scales)) or np.any(scales <= 0)):
            return [f"{where}['scales'] must be {shape[0]} positive finite floats (one per output channel)"]
        act_scale = _number(part["act_scale"])
        if act_scale is None or act_scale <= 0:
            return [f"{where}['act_scale'] must be a positive number"]
        zp = part["act_zero_point"]
        if isinstance(zp, bool) or not isinstance(zp, (int, np.integer)) or not amin <= int(zp) <= amax:
            return [f"{where}['act_zero_point'] must be an integer code in [{amin}, {amax}] ({W8A4_ACT_BITS} bits)"]
    return []


def w8a4_case():
    """The case of ``w8a4_cnn()``: no inputs; the checks made here are the answer's form."""
    return Case(lambda: (), lambda got: w8a4_form(got))


exercise("05-outcome-w8a4-cnn", "The CIFAR-10 CNN with int8 weights and 4-bit activations", kind="outcome",
         checked_here="form").cases.append(("the CNN's eight layers", w8a4_case()))
