"""Exercises of notebook 06: a cost model's break-even ranks, a low-rank fit on the layer's inputs, ranks to reach.

The checks made here are the form of each answer and properties a right one has; the grader compares
the values with the instructor's references (``hidden_tests/ch06_svd.py``).
"""

from __future__ import annotations

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["crossover_case", "lenet_inputs", "trained_lowrank_case", "synthetic_lowrank_case", "ranks_case",
           "OUTCOME_LAYERS", "OUTCOME_SHAPES", "RANK_BUDGET", "TARGETS", "SVD_MARGIN"]


# --- 06-time-crossover: the break-even rank of a timing model (derivation, then measured in the notebook) ----

def _crossover_checks(got, n, m, batches, peak, bandwidth, overhead, below):
    label = f"crossover_ranks({n}, {m}, batches {list(batches)}, ...)"
    try:
        ranks = np.asarray(got)
    except Exception:
        return [f"{label} must return a list of integers, one per batch size"]
    if ranks.dtype == object or ranks.shape != (len(batches),):
        return [f"{label} must return {len(batches)} integers, one per batch size (got shape "
                f"{getattr(ranks, 'shape', '?')})"]
    if ranks.dtype.kind not in "iu" and not (ranks.dtype.kind == "f" and np.all(np.isfinite(ranks))
                                             and np.all(ranks == np.round(ranks))):
        return [f"{label} must return whole numbers (ranks)"]
    problems = []
    if np.any(ranks < 0) or np.any(ranks > min(n, m)):
        problems.append(f"{label}: a rank is outside 0 .. min(n, m)")
    if np.any(ranks * (n + m) >= n * m):
        problems.append(f"{label}: a rank whose factors hold as many multiply-adds as the dense layer cannot be "
                        "faster under the model (each of its terms is at least the dense one's)")
    for i in below:
        if ranks[i] * (n + m) >= n * m - (n + m):
            problems.append(f"{label}: at batch {batches[i]} the call overhead alone makes the factorized layer "
                            "slower at the break-even rank of the multiply-adds: the rank must be lower")
    return problems


def crossover_case(n, m, batches, peak, bandwidth, overhead, below=()):
    """A case for ``crossover_ranks(n, m, batches, peak, bandwidth, overhead)``.

    ``below``: the indices of the batch sizes at which the overhead is large enough that the answer must be
    below the break-even rank ``nm/(n+m)`` (a property the check verifies; the grader compares the values).
    """
    return Case(lambda: (n, m, list(batches), float(peak), float(bandwidth), float(overhead)),
                lambda got, *args: _crossover_checks(got, *args, below))


exercise("06-time-crossover", "The ranks at which the factorized layer's modelled time beats the dense one's",
         kind="derivation", checked_here="form").cases.extend([
    ("wide_mlp's fc2, 1024x1024, a laptop core", crossover_case(1024, 1024, (1, 8, 100, 1000), 3e10, 1.5e10,
                                                               5e-6, below=(0, 1))),
    ("LeNet-300-100's fc1, 300x784, slow calls", crossover_case(300, 784, (1, 32, 512), 2e10, 1e10, 2e-5,
                                                               below=(0, 1))),
    ("the CNN's classifier.1, 512x2048", crossover_case(512, 2048, (1, 4, 64, 256), 5e10, 2e10, 3e-6,
                                                       below=(0,))),
])


# --- 06-data-aware-lowrank: min ||(W - AB) X||_F over rank-k products (variant of the truncated SVD) ------

SVD_MARGIN = 0.95  # the factors' error on X must be at most this share of the plain truncated SVD's


def lenet_inputs(layer: str, n_images: int) -> tuple[np.ndarray, np.ndarray]:
    """``(W, X)``: LeNet-300-100's ``layer`` weight (n x m) and its inputs on the first ``n_images`` training
    images (m x N, one column per image), both float64."""
    import torch

    from ...checkpoints import load_pretrained
    from ...data import load_mnist
    from ...models import to_tensor

    model = load_pretrained("lenet300")
    with torch.no_grad():
        h = model.standardize(to_tensor(load_mnist("train", limit=n_images).images)).flatten(1)
        for name in ("fc1", "fc2", "fc3"):
            if name == layer:
                return model.get_submodule(name).weight.detach().double().numpy(), h.double().numpy().T.copy()
            h = torch.relu(model.get_submodule(name)(h))
    raise ValueError(f"layer == {layer!r}, must be 'fc1', 'fc2' or 'fc3'.")


def _lowrank_checks(got, w, x, k):
    n, m = w.shape
    label = f"data_aware_lowrank(W {n}x{m}, X {x.shape[0]}x{x.shape[1]}, k={k})"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return [f"{label} must return a pair (A, B)"]
    try:
        a, b = np.asarray(got[0], dtype=np.float64), np.asarray(got[1], dtype=np.float64)
    except (TypeError, ValueError):
        return [f"{label}: A and B must be arrays of numbers"]
    if a.shape != (n, k) or b.shape != (k, m):
        return [f"{label}: A has shape {a.shape} and B {b.shape}, expected ({n}, {k}) and ({k}, {m})"]
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return [f"{label}: A or B contains NaN or infinite values"]
    residual = (w - a @ b) @ x
    u, s, vt = np.linalg.svd(w, full_matrices=False)  # the baseline the answer must beat, not the answer
    plain = np.linalg.norm((w - (u[:, :k] * s[:k]) @ vt[:k]) @ x)
    problems = []
    if np.linalg.norm(residual) > SVD_MARGIN * plain:
        problems.append(f"{label}: the error on the inputs, ||(W - AB) X||_F, is not below {SVD_MARGIN:.0%} of the "
                        "plain truncated SVD's: the factors do not use X")
    wx = np.linalg.norm(w @ x)
    scale_a = wx * np.linalg.norm(x) * max(np.linalg.norm(b), 1e-300)
    scale_b = wx * np.linalg.norm(x) * max(np.linalg.norm(a), 1e-300)
    if np.linalg.norm(residual @ x.T @ b.T) > 1e-6 * scale_a:
        problems.append(f"{label}: with B fixed, another A fits X better (the normal equations "
                        "(W - AB) X X^T B^T = 0 do not hold)")
    if np.linalg.norm(a.T @ residual @ x.T) > 1e-6 * scale_b:
        problems.append(f"{label}: with A fixed, another B fits X better (the normal equations "
                        "A^T (W - AB) X X^T = 0 do not hold)")
    return problems


def trained_lowrank_case(layer, n_images, k):
    """A case for ``data_aware_lowrank(W, X, k)`` on a trained LeNet-300-100 layer and its real inputs."""
    return Case(lambda: (*lenet_inputs(layer, n_images), k), _lowrank_checks)


def synthetic_lowrank_case(seed, n, m, n_samples, k, decay=0.3):
    """A case on a random ``n x m`` weight and ``m x n_samples`` inputs whose covariance decays as ``exp(-decay i)``
    along random directions (``n_samples < m``: ``X X^T`` is singular)."""
    def inputs():
        rng = np.random.default_rng(seed)
        w = rng.standard_normal((n, m)) / np.sqrt(m)
        q, _ = np.linalg.qr(rng.standard_normal((m, m)))
        x = (q * np.exp(-decay * np.arange(m))) @ rng.standard_normal((m, n_samples))
        return w, x, k
    return Case(inputs, _lowrank_checks)


exercise("06-data-aware-lowrank", "The rank-k factors with the smallest error on the layer's inputs",
         kind="variant", checked_here="form").cases.extend([
    ("LeNet-300-100's fc2 on 400 images, k = 10", trained_lowrank_case("fc2", 400, 10)),
    ("LeNet-300-100's fc1 on 300 images (X X^T singular), k = 20", trained_lowrank_case("fc1", 300, 20)),
    ("a random 12x9 weight, 30 correlated inputs, k = 3", synthetic_lowrank_case(0, 12, 9, 30, 3)),
])


# --- 06-outcome-ranks: per-layer ranks of the wide MLP under a parameter budget (outcome) ------------------

OUTCOME_LAYERS = ("fc1", "fc2")
OUTCOME_SHAPES = {"fc1": (1024, 784), "fc2": (1024, 1024)}
# 1/24 of the two layers' 1,851,392 weights, counting k (n + m) per factorized layer
RANK_BUDGET = sum(n * m for n, m in OUTCOME_SHAPES.values()) // 24
TARGETS = [Target("test accuracy", 0.97, 0.90, unit="%")]


def _ranks_checks(got, budget):
    if not isinstance(got, dict) or set(got) != set(OUTCOME_LAYERS):
        return [f"choose_ranks must return a dict with the keys {list(OUTCOME_LAYERS)}"]
    problems, stored = [], 0
    for name, (n, m) in OUTCOME_SHAPES.items():
        k = got[name]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer, float)) or k != int(k):
            return [f"choose_ranks()[{name!r}] must be an integer rank"]
        if not 1 <= int(k) <= min(n, m):
            problems.append(f"choose_ranks()[{name!r}] must be between 1 and {min(n, m)}")
        stored += int(k) * (n + m)
    if not problems and stored > budget:
        problems.append(f"the factors store {stored:,} numbers, over the budget of {budget:,}")
    return problems


def ranks_case(budget):
    """A case for ``choose_ranks(budget)``: ranks of wide_mlp's fc1 and fc2 whose factors store at most ``budget``
    numbers. Checked here: the form and the budget; the grader truncates the SVDs and measures the test accuracy."""
    return Case(lambda: (budget,), _ranks_checks)


exercise("06-outcome-ranks", "Ranks for the wide MLP's two hidden layers: accuracy under a parameter budget",
         kind="outcome", checked_here="form").cases.append(
    (f"wide_mlp, at most {RANK_BUDGET:,} stored numbers", ranks_case(RANK_BUDGET)))
