"""Exercises of notebook 03: iterative pruning.

The student's copy: each case's inputs and the checks a student's kernel makes -- the form of the
answer and the properties a right answer has, never a reference solution. The instructor's references
and the grader's verdicts are in ``hidden_tests/``.
"""

from __future__ import annotations

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["update_case", "retrained_case", "retrained_form", "RETRAINED_TARGETS", "LENET_PARAMETERS"]


def _bool_form(got, shape: tuple, name: str) -> tuple[np.ndarray | None, list[str]]:
    """``got`` as a bool array of ``shape``, or the problems of its form."""
    try:
        arr = np.asarray(got)
    except Exception:
        return None, [f"{name} is not an array"]
    if got is None:
        return None, [f"{name} is None: did you forget to `return` it?"]
    if arr.shape != tuple(shape):
        return None, [f"{name} has shape {arr.shape}, expected {tuple(shape)}"]
    if arr.dtype.kind != "b":
        return None, [f"{name} has dtype {arr.dtype}, expected a boolean mask (True = kept)"]
    return arr, []


# ---------------------------------------------------------------- 03-next-masks

def update_case(seed, shapes, scales, n_before, n_pruned, min_kept, *, grid=None):
    """A case for ``next_masks(weights, masks, n_pruned, min_kept)``: the masks of the next pruning round.

    ``weights`` is a list of layers (``scales`` their typical magnitudes), ``masks`` their masks (True = kept)
    with ``n_before[l]`` weights of layer ``l`` pruned; the weights are those after a round of retraining, in
    which the pruned entries drifted (one of them larger than any survivor). The answer keeps every pruned
    weight pruned and removes the survivors of smallest magnitude over all layers (ties: earlier layer, then
    lower flat index) until ``n_pruned`` weights are pruned in all, skipping a layer once it is down to
    ``min_kept[l]`` weights. Checked here, completely. ``grid`` rounds the weights to multiples of it (ties).
    """
    def inputs():
        rng = np.random.default_rng(seed)
        weights, masks = [], []
        for shape, scale, before in zip(shapes, scales, n_before):
            w = scale * rng.normal(size=int(np.prod(shape)))
            if grid is not None:
                w = np.round(w / grid) * grid
            m = np.ones(w.size, dtype=bool)
            m[rng.choice(w.size, before, replace=False)] = False
            w[~m] = scale * rng.normal(size=before)             # drifted: as large as the survivors ...
            weights.append(w.reshape(shape))
            masks.append(m.reshape(shape))
        big = int(np.argmax([w.size if (~m).any() else -1 for w, m in zip(weights, masks)]))
        flat = weights[big].reshape(-1)
        flat[np.flatnonzero(~masks[big].ravel())[0]] = 1.5 * max(np.abs(w).max() for w in weights)  # ... or larger
        return weights, masks, n_pruned, list(min_kept)

    def verdict(got, weights, masks, n_pruned, min_kept):
        pruned = sum(int((~m).sum()) for m in masks)
        label = f"next_masks({len(weights)} layers, {pruned} pruned, {n_pruned}, {min_kept})"
        if not isinstance(got, (list, tuple)) or len(got) != len(weights):
            return [f"{label} returned {type(got).__name__}, expected a list of {len(weights)} masks"]
        new = []
        for i, (g, w) in enumerate(zip(got, weights)):
            arr, problems = _bool_form(g, w.shape, f"{label}[{i}]")
            if problems:
                return problems
            new.append(arr)
        if any(np.any(n & ~m) for n, m in zip(new, masks)):
            return [f"{label} brings back a pruned weight: a pruned weight stays pruned, whatever its value now"]
        if sum(int((~n).sum()) for n in new) != n_pruned:
            return [f"{label} prunes {sum(int((~n).sum()) for n in new)} weights in all, must prune exactly {n_pruned}"]
        # the order of removal: by magnitude, ties by layer, then by flat index (= the index in all layers joined)
        start = np.cumsum([0] + [w.size for w in weights])
        rank = np.empty(start[-1], dtype=np.int64)
        rank[np.lexsort((np.arange(start[-1]), np.concatenate([np.abs(w).ravel() for w in weights])))] = \
            np.arange(start[-1])
        removed = [rank[s0:s0 + w.size][(m & ~n).ravel()] for w, m, n, s0 in zip(weights, masks, new, start)]
        kept = [rank[s0:s0 + w.size][n.ravel()] for w, n, s0 in zip(weights, new, start)]
        last = max((r.max() for r in removed if r.size), default=-1)
        for i, (r, k, m, floor) in enumerate(zip(removed, kept, masks, min_kept)):
            if k.size < min(floor, int(m.sum())):
                return [f"{label}: layer {i} keeps {k.size} weights, fewer than min_kept[{i}] = {floor}"]
            if r.size and k.size and r.max() > k.min():
                return [f"{label}: layer {i} removes a survivor and keeps a smaller one: within a layer the smallest "
                        "survivors go first (ties: lower flat index)"]
            if k.size > floor and k.size and k.min() < last:
                return [f"{label}: layer {i} is above its floor and keeps a survivor smaller than one removed "
                        "elsewhere: the ranking is over all layers (ties: earlier layer, then lower flat index)"]
        return []
    return Case(inputs, verdict)


exercise("03-next-masks", "The next round's masks: one ranking over all layers, pruned weights stay pruned, "
         "a floor per layer", kind="variant", checked_here="values").cases.extend([
    ("2 layers, 3 + 1 pruned -> 10, the small layer's floor 4",
     update_case(0, [(12,), (6,)], [1.0, 0.2], [3, 1], 10, [2, 4])),
    ("3 layers, ties, 20 pruned -> 60, floors 8, 6, 5",
     update_case(1, [(6, 8), (4, 6), (2, 5)], [1.0, 0.5, 0.25], [12, 5, 3], 60, [8, 6, 5], grid=0.25)),
    ("nothing pruned yet in the first layer, its floor 6",
     update_case(2, [(10,), (10,)], [0.1, 1.0], [0, 5], 12, [6, 1])),
    ("a layer already below its floor", update_case(3, [(20,), (5,)], [1.0, 0.3], [4, 3], 12, [5, 4])),
])


# ---------------------------------------------------------------- 03-outcome-retrained

#: every parameter of LeNet-300-100 and its shape (the prunable ones are the three weights)
LENET_PARAMETERS = {"fc1.weight": (300, 784), "fc1.bias": (300,), "fc2.weight": (100, 300), "fc2.bias": (100,),
                    "fc3.weight": (10, 100), "fc3.bias": (10,)}

#: the targets of 03-outcome-retrained (the notebook prints them with rule_text; the grader measures them)
RETRAINED_TARGETS = [
    Target("sparsity", goal=0.95, zero_at=0.5, higher=True, unit="%"),
    Target("accuracy lost", goal=0.01, zero_at=0.03, higher=False, unit="points"),
]


def retrained_form(got) -> list[str]:
    """The problems of the form of an answer to 03-outcome-retrained (what the student's kernel checks)."""
    label = "prune_and_retrain()"
    if not isinstance(got, dict) or sorted(got) != ["masks", "weights"]:
        return [f"{label} must return a dict with the keys 'masks' and 'weights'"]
    masks, weights = got["masks"], got["weights"]
    prunable = [k for k in LENET_PARAMETERS if k.endswith(".weight")]
    if not isinstance(masks, dict) or sorted(masks) != sorted(prunable):
        return [f"{label}['masks'] must be a dict with the keys {prunable}"]
    if not isinstance(weights, dict) or sorted(weights) != sorted(LENET_PARAMETERS):
        return [f"{label}['weights'] must be a dict with the keys {list(LENET_PARAMETERS)}"]
    problems = []
    for name in prunable:
        problems += _bool_form(masks[name], LENET_PARAMETERS[name], f"{label}['masks'][{name!r}]")[1]
    for name, shape in LENET_PARAMETERS.items():
        arr = np.asarray(weights[name]) if not isinstance(weights[name], (dict, str)) else np.asarray(0)
        if arr.shape != shape or arr.dtype.kind != "f":
            problems.append(f"{label}['weights'][{name!r}] must be a float array of shape {shape}")
        elif not np.all(np.isfinite(arr)):
            problems.append(f"{label}['weights'][{name!r}] contains NaN or infinite values")
    return problems


def retrained_case():
    """The case of 03-outcome-retrained: no inputs (the answer loads what it needs); the checks made here are the
    form's, the grader zeroes the weights outside the masks and measures the model on the MNIST test set."""
    return Case(lambda: (), lambda got: retrained_form(got))


exercise("03-outcome-retrained", "Prune and retrain LeNet-300-100 to 95 % sparsity within a point",
         kind="outcome", checked_here="form").cases.append(("LeNet-300-100 on MNIST", retrained_case()))
