"""Exercises of notebook 07: one ALS update of a layer's flattened factors; the multiply-adds of each stage of a
strided flattened layer; ranks per layer of the CIFAR CNN under a multiply-add budget.

The checks made here are the form of each answer and properties a right one has; where they cannot decide,
the grader compares the values with the instructor's references (``hidden_tests/ch07_flattened_convolutions.py``).
"""

from __future__ import annotations

import numpy as np

from ..core import Case, exercise
from ..outcomes import CNN_EVAL_IMAGES, Target

__all__ = ["als_case", "trained_als_case", "stage_macs_case", "flattened_ranks_case", "STAGES", "FLAT_LAYERS",
           "LAYER_SHAPES", "MAC_BUDGET", "MAX_RANK", "TARGETS", "EVAL_IMAGES", "layer_macs"]

AXES = {"vertical": 2, "horizontal": 3}  # the filter axis each mode's vectors run along


# --- 07-als-update: the least-squares update of one factor, the other two fixed (variant) ---------------------

def _als_checks(got, w, lateral, vertical, horizontal, mode):
    f, c, y, x = w.shape
    r = lateral.shape[1]
    label = f"als_update(W {f}x{c}x{y}x{x}, R = {r}, mode={mode!r})"
    try:
        new = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return [f"{label} must return an array of numbers"]
    want = (f, r, w.shape[AXES[mode]])
    if new.shape != want:
        return [f"{label} returned shape {new.shape}, expected {want} (filters, terms, length)"]
    if not np.all(np.isfinite(new)):
        return [f"{label} contains NaN or infinite values"]
    factors = {"lateral": lateral, "vertical": vertical, "horizontal": horizontal, mode: new}
    residual = w - np.einsum("frc,fry,frx->fcyx", factors["lateral"], factors["vertical"], factors["horizontal"])
    old = w - np.einsum("frc,fry,frx->fcyx", lateral, vertical, horizontal)
    problems = []
    if np.linalg.norm(residual) > np.linalg.norm(old) * (1 + 1e-12) + 1e-12:
        problems.append(f"{label}: the residual ||W - [[Z, V, H]]|| grew: an ALS update never increases it")
    # the gradient of ||W - [[Z, V, H]]||^2 with respect to the updated factor, the other two fixed
    if mode == "vertical":
        grad = np.einsum("fcyx,frc,frx->fry", residual, lateral, horizontal)
        scale = np.linalg.norm(w) * np.linalg.norm(lateral) * np.linalg.norm(horizontal)
    else:
        grad = np.einsum("fcyx,frc,fry->frx", residual, lateral, vertical)
        scale = np.linalg.norm(w) * np.linalg.norm(lateral) * np.linalg.norm(vertical)
    if np.linalg.norm(grad) > 1e-9 * scale:
        problems.append(f"{label}: the normal equations do not hold (with the other two factors fixed, another "
                        f"{mode} factor fits W better)")
    return problems


def _random_factors(rng, f, r, c, y, x):
    return tuple(rng.standard_normal((f, r, n)) for n in (c, y, x))


def als_case(seed, f, c, y, x, rank, mode):
    """A case for ``als_update(W, lateral, vertical, horizontal, mode)`` on a random ``F x C x Y x X`` weight."""
    def inputs():
        rng = np.random.default_rng(seed)
        return (rng.standard_normal((f, c, y, x)), *_random_factors(rng, f, rank, c, y, x), mode)
    return Case(inputs, _als_checks)


def trained_als_case(layer, filters, rank, mode, seed=0):
    """A case on the first ``filters`` filters of the trained CNN's ``layer``, from random starting factors."""
    def inputs():
        from ...checkpoints import load_pretrained

        w = load_pretrained("cifar_vgg").get_submodule(layer).weight.detach().double().numpy()[:filters]
        return (w, *_random_factors(np.random.default_rng(seed), filters, rank, *w.shape[1:]), mode)
    return Case(inputs, _als_checks)


exercise("07-als-update", "One ALS update of the vertical or horizontal factors of a layer's filters",
         kind="variant", checked_here="values").cases.extend([
    ("a random 2x4x3x3 weight, R = 2, vertical", als_case(0, 2, 4, 3, 3, 2, "vertical")),
    ("the trained CNN's features.7, 8 filters, R = 2, horizontal", trained_als_case("features.7", 8, 2, "horizontal")),
    ("a random 3x6x5x3 weight (Y != X), R = 3, vertical", als_case(1, 3, 6, 5, 3, 3, "vertical")),
])


# --- 07-stage-macs: the multiply-adds of each stage of a strided/padded flattened layer (derivation) ---------

STAGES = ("dense", "lateral", "vertical", "horizontal")


def _out(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def _stage_checks(got, c, f, y, x, r, h, w, stride, padding):
    label = f"flattened_stage_macs({c}, {f}, {y}, {x}, {r}, {h}, {w}, stride={stride}, padding={padding})"
    if not isinstance(got, dict) or set(got) != set(STAGES):
        return [f"{label} must return a dict with the keys {list(STAGES)}"]
    values = {}
    for key in STAGES:
        v = got[key]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer, float)) or v != int(v) or v < 0:
            return [f"{label}[{key!r}] must be a whole number >= 0"]
        values[key] = int(v)
    problems = []
    if values["dense"] % (f * c * y * x):
        problems.append(f"{label}['dense']: each output value of each filter costs C Y X multiply-adds")
    for key in STAGES[1:]:
        if values[key] == 0:
            problems.append(f"{label}[{key!r}]: every stage does multiply-adds")
        elif values[key] % (f * r):
            problems.append(f"{label}[{key!r}]: each of the F R maps of this stage costs the same")
    if values["dense"] >= f * c * y * x * h * w:
        problems.append(f"{label}['dense']: with this stride and padding the 3-D layer has fewer output positions "
                        "than its input has")
    positions = _out(h, y, stride, padding) * _out(w, x, stride, padding)
    if values["lateral"] <= f * r * c * positions:
        problems.append(f"{label}['lateral']: the 1x1 lateral stage runs before any stride or padding is applied: "
                        "on more positions than the output has")
    return problems


def stage_macs_case(c, f, y, x, r, h, w, stride, padding):
    """A case for ``flattened_stage_macs(C, F, Y, X, R, H, W, stride, padding)`` (an ``H x W`` input)."""
    return Case(lambda: (c, f, y, x, r, h, w, stride, padding), _stage_checks)


exercise("07-stage-macs", "The multiply-adds of each stage of a strided, padded flattened layer",
         kind="derivation", checked_here="form").cases.extend([
    ("3x3 128 -> 128 on 14x14, stride 2, R = 1", stage_macs_case(128, 128, 3, 3, 1, 14, 14, 2, 1)),
    ("3x3 64 -> 64 on 16x16, no padding, R = 2", stage_macs_case(64, 64, 3, 3, 2, 16, 16, 1, 0)),
    ("7x7 3 -> 96 on 30x30, stride 2, padding 3, R = 1", stage_macs_case(3, 96, 7, 7, 1, 30, 30, 2, 3)),
])


# --- 07-outcome-flattened: a rank per flattened layer of the CIFAR CNN under a multiply-add budget (outcome) ----

FLAT_LAYERS = ("features.4", "features.7", "features.11", "features.14")
# (C, F, output side) of each: 3x3 kernels, stride 1, "same" padding
LAYER_SHAPES = {"features.4": (32, 64, 16), "features.7": (64, 64, 16), "features.11": (64, 128, 8),
                "features.14": (128, 128, 8)}
MAX_RANK = 8
EVAL_IMAGES = CNN_EVAL_IMAGES  # the grader measures on the first 2,000 CIFAR-10 test images


def layer_macs(name: str, rank: int) -> int:
    """Multiply-adds per image of ``name`` flattened at ``rank`` (0: the 3-D layer), stride 1, same padding."""
    c, f, side = LAYER_SHAPES[name]
    return f * c * 9 * side * side if rank == 0 else f * rank * (c + 6) * side * side


MAC_BUDGET = sum(layer_macs(n, 0) for n in FLAT_LAYERS) * 2 // 5  # 40 % of the four 3-D layers' multiply-adds
TARGETS = [Target("test accuracy", 0.77, 0.70, unit="%")]


def _flattened_ranks_checks(got, budget):
    if not isinstance(got, dict) or set(got) != set(FLAT_LAYERS):
        return [f"choose_flattened_ranks must return a dict with the keys {list(FLAT_LAYERS)}"]
    for name in FLAT_LAYERS:
        r = got[name]
        if isinstance(r, bool) or not isinstance(r, (int, np.integer, float)) or r != int(r) \
                or not 0 <= int(r) <= MAX_RANK:
            return [f"choose_flattened_ranks()[{name!r}] must be an integer from 0 (keep the 3-D layer) to {MAX_RANK}"]
    total = sum(layer_macs(n, int(got[n])) for n in FLAT_LAYERS)
    if total > budget:
        return [f"the four layers cost {total:,} multiply-adds per image, over the budget of {budget:,}"]
    return []


def flattened_ranks_case(budget):
    """A case for ``choose_flattened_ranks(budget)``: checked here, the form and the budget; the grader decomposes
    the layers with ``flatten_filters`` at these ranks and measures the test accuracy, without fine-tuning."""
    return Case(lambda: (budget,), _flattened_ranks_checks)


exercise("07-outcome-flattened", "Ranks of the CIFAR CNN's flattened layers: accuracy under a multiply-add budget",
         kind="outcome", checked_here="form").cases.append(
    (f"cifar_vgg, at most {MAC_BUDGET:,} multiply-adds in the four layers", flattened_ranks_case(MAC_BUDGET)))
