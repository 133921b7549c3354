"""The course's exercises, registered by id. Expected results are computed here
from real models and the library, so no answer is stored as a literal.

The ``*_case`` functions build a case ``run(answer) -> problems`` from its inputs; the
instructors' hidden tests (``hidden_tests/``) call them with inputs students never see."""

from __future__ import annotations

import numpy as np
import torch

from .exercises import compare, exercise
from .measure import count_parameters


def _linear_counts(widths):
    return [count_parameters(torch.nn.Linear(a, b)) for a, b in zip(widths[:-1], widths[1:])]


def mlp_case(widths):
    def run(fn):
        got = fn(list(widths))
        return compare(got, np.array(_linear_counts(widths), dtype=np.int64),
                       name=f"mlp_parameter_counts({list(widths)})")
    return run


def _real_model_case(fn):
    from .models import LeNet300100

    model = LeNet300100()
    expected = np.array([count_parameters(m) for m in (model.fc1, model.fc2, model.fc3)])
    return compare(fn([784, 300, 100, 10]), expected, name="mlp_parameter_counts([784, 300, 100, 10])")


exercise("00-mlp-params", "Parameters of each fully connected layer").cases.extend([
    ("LeNet-300-100", _real_model_case),
    ("the CIFAR-10 CNN's classifier", mlp_case((2048, 512, 512, 10))),
    ("a one-layer network", mlp_case((5, 3))),
])


def accuracy_case(seed, n, k):
    def run(fn):
        rng = np.random.default_rng(seed)
        logits = rng.normal(size=(n, k)).astype(np.float32)
        labels = rng.integers(0, k, size=n)
        labels[: n // 2] = logits[: n // 2].argmax(1)  # make it better than chance
        expected = float((logits.argmax(1) == labels).mean())
        got = fn(logits.copy(), labels.copy())
        return compare(np.asarray(got, dtype=float) if np.isscalar(got) else got, np.float64(expected),
                       name=f"top1_accuracy(logits of shape {logits.shape}, labels)", rtol=0, atol=1e-9)
    return run


exercise("00-accuracy", "Top-1 accuracy from logits").cases.extend([
    ("100 examples, 10 classes", accuracy_case(0, 100, 10)),
    ("7 examples, 3 classes", accuracy_case(1, 7, 3)),
    ("1 example", accuracy_case(2, 1, 10)),
])


def rarely_case(seed, n, units, threshold, max_rate):
    def run(fn):
        from . import neurons

        rng = np.random.default_rng(seed)
        acts = np.maximum(rng.normal(size=(n, units)) - rng.uniform(-0.5, 2.5, size=units), 0).astype(np.float32)
        expected = neurons.rarely_active(neurons.activation_stats(acts, threshold=threshold),
                                         max_fire_rate=max_rate)
        got = fn(acts.copy(), threshold, max_rate)
        return compare(np.asarray(got, dtype=np.int64) if isinstance(got, (list, tuple)) else got, expected,
                       name=f"rarely_firing(acts of shape {acts.shape}, {threshold}, {max_rate})")
    return run


exercise("02-rarely-active", "Which neurons rarely fire?").cases.extend([
    ("8 neurons, 50 images", rarely_case(0, 50, 8, 0.5, 0.1)),
    ("30 neurons, 200 images", rarely_case(1, 200, 30, 1.0, 0.05)),
    ("a strict rule (max rate 0)", rarely_case(2, 100, 12, 0.2, 0.0)),
])


# --------------------------------------------------------------------------- 01 weight pruning

EXAMPLE_W = np.array([[0.31, -0.02, 0.75], [-0.48, 0.09, -0.11], [0.05, -0.93, 0.2]])
EXAMPLE_C = 0.1


def _threshold_by_hand(answer):
    from .pruning import threshold_prune

    return compare(answer, threshold_prune(EXAMPLE_W, EXAMPLE_C)[0], name="W_pruned", atol=1e-9)


exercise("01-threshold-by-hand", "Prune a small matrix by hand with C = 0.1").cases.append(
    ("the 3x3 matrix W", _threshold_by_hand))


def mask_case(seed, shape, amount, ties=False):
    def run(fn):
        from .pruning import magnitude_mask

        rng = np.random.default_rng(seed)
        w = rng.normal(size=shape)
        if ties:
            w = np.round(w, 1)
        expected = magnitude_mask(w, amount)
        return compare(fn(w.copy(), amount), expected, name=f"magnitude_mask(w of shape {shape}, {amount})")
    return run


exercise("01-magnitude-mask", "A count-based magnitude mask").cases.extend([
    ("remove 3 of 10", mask_case(0, (10,), 3)),
    ("remove 20 of a 6x8 matrix", mask_case(1, (6, 8), 20)),
    ("ties: equal magnitudes", mask_case(2, (5, 5), 12, ties=True)),
    ("remove none", mask_case(3, (4,), 0)),
    ("remove all", mask_case(4, (3, 2), 6)),
])

# Seed question 1, as true/false statements (see notebook 01). Only a digest of the
# right set is stored, so the answer cannot be read here.
ZEROING_STATEMENTS = "ABCDEF"
_ZEROING_DIGEST = "5e5d4666bcc26f8f90ed20dafb1fe6321d671b2c39e346fa7eac24dcd0745beb"


def _digest(letters) -> str:
    import hashlib

    return hashlib.sha256(("01-zeroing-problems:" + "".join(sorted(letters))).encode()).hexdigest()


def _zeroing_case(answer):
    if not isinstance(answer, (set, frozenset, list, tuple, str)):
        return [f"answer is a {type(answer).__name__}, expected a set of letters like {{'A', 'C'}}"]
    letters = {str(a).strip().upper() for a in answer}
    unknown = sorted(letters - set(ZEROING_STATEMENTS))
    if unknown:
        return [f"answer contains {unknown}: the statements are A to F"]
    if _digest(letters) != _ZEROING_DIGEST:
        return ["at least one statement is judged wrongly: re-read the notebook's measurements"]
    return []


exercise("01-zeroing-problems", "Seed question 1: problems of zeroing weights").cases.append(
    ("the six statements", _zeroing_case))


# --------------------------------------------------------------------------- 03 iterative pruning

def cubic_case(s_i, s_f, t0, t_end):
    def run(fn):
        from .pruning import gradual_sparsity

        steps = list(range(max(0, t0 - 3), t_end + 4))
        expected = np.array([gradual_sparsity(t, final_sparsity=s_f, initial_sparsity=s_i, begin_step=t0,
                                              end_step=t_end) for t in steps])
        got = np.array([fn(t, s_i, s_f, t0, t_end) for t in steps], dtype=float)
        return compare(got, expected, name=f"cubic_sparsity(t, {s_i}, {s_f}, {t0}, {t_end}) for t = {steps[0]}.."
                       f"{steps[-1]}", rtol=1e-9, atol=1e-12)
    return run


exercise("03-gradual", "Zhu & Gupta's gradual (cubic) sparsity schedule").cases.extend([
    ("0 -> 90% over steps 0..10", cubic_case(0.0, 0.9, 0, 10)),
    ("50% -> 95% over steps 5..25", cubic_case(0.5, 0.95, 5, 25)),
    ("one-step ramp", cubic_case(0.1, 0.8, 3, 4)),
])


# --------------------------------------------------------------------------- 04 quantization from scratch

SEED_Q4_MATRIX = np.array([[3.0, -0.5], [1.0, 2.0]])


def _seed_q4(answer):
    from .quantization import quantize_seed

    expected = quantize_seed(SEED_Q4_MATRIX, float(np.abs(SEED_Q4_MATRIX).max()))
    return compare(answer, expected.astype(np.int64), name="Q")


exercise("04-seed-q4", "Seed question 4: quantize [[3, -0.5], [1, 2]]").cases.append(("the matrix", _seed_q4))


def matvec_case(seed, out, inp, a_w, a_x):
    def run(fn):
        from .quantization import seed_matvec

        rng = np.random.default_rng(seed)
        w = rng.uniform(-a_w, a_w, size=(out, inp)) * 0.999
        x = rng.uniform(-a_x, a_x, size=inp) * 0.999
        expected = seed_matvec(w, x, a_w=a_w, a_x=a_x)["y"]
        return compare(fn(w.copy(), x.copy(), a_w, a_x), expected, name=f"int8_matvec(W {w.shape}, x, {a_w}, {a_x})",
                       rtol=1e-9, atol=1e-12)
    return run


def _seed_example_case(fn):
    w = np.array([[-0.18120981, -0.29043840], [0.49722983, 0.22141714]])
    x = np.array([0.77412377, 0.49299395])
    return compare(fn(w, x, 1.0, 1.0), np.array([-0.29113770, 0.48834229]), name="the seed's example",
                   rtol=0, atol=1e-7)


exercise("04-int8-matvec", "An int8 matrix-vector product with dequantization").cases.extend([
    ("the seed's 2x2 example (a = 1)", _seed_example_case),
    ("a 5x7 layer, a_w = 0.5, a_x = 2", matvec_case(0, 5, 7, 0.5, 2.0)),
    ("a 64x300 layer, a_w = 0.2, a_x = 4", matvec_case(1, 64, 300, 0.2, 4.0)),
])

# Seed question 2, as true/false statements (notebook 04); only a digest is stored.
_SPEED_DIGEST = "92e22fa2f3709b4a628d827632ebb19ffa64f5e4a9b70b4f1ba26a75b45c72d6"


def _speed_case(answer):
    import hashlib

    if not isinstance(answer, (set, frozenset, list, tuple, str)):
        return [f"answer is a {type(answer).__name__}, expected a set of letters like {{'A', 'C'}}"]
    letters = {str(a).strip().upper() for a in answer}
    if letters - set("ABCDEF"):
        return [f"answer contains {sorted(letters - set('ABCDEF'))}: the statements are A to F"]
    digest = hashlib.sha256(("04-speed-memory:" + "".join(sorted(letters))).encode()).hexdigest()
    if digest != _SPEED_DIGEST:
        return ["at least one statement is judged wrongly: compare with the notebook's measurements"]
    return []


exercise("04-speed-memory", "Seed question 2: when does quantization save memory and time?").cases.append(
    ("the six statements", _speed_case))
