"""Exercises of notebook 09: the Pareto front of a measured table, and the best configuration under a budget."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise

__all__ = ["random_table", "pruning_table", "pareto_case", "budget_case"]


def random_table(seed: int, n: int, *, levels: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """``(accuracy, bytes)`` of ``n`` made-up configurations: dearer ones tend to be more accurate, with
    few distinct values, so that ties and identical points occur."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(1, levels + 1, n)
    acc = np.round(0.8 + 0.02 * steps - 0.02 * rng.integers(0, 3, n), 2)
    return acc, (1000 * steps).astype(np.float64)


def pruning_table(sparsities, test_images: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``(accuracy, CSR bytes)`` of the trained LeNet-300-100 pruned (global magnitude) at each sparsity."""
    from ...checkpoints import load_pretrained
    from ...data import load_mnist
    from ...measure import accuracy
    from ...pruning import nn as prune_nn
    from ...summary.nn import pruned_bytes

    model = load_pretrained("lenet300")
    test = load_mnist("test", limit=test_images)
    acc, cost = [], []
    for s in sparsities:
        masks = prune_nn.masks_for(model, s, scope="global")
        pruned = prune_nn.apply_masks(model, masks)
        acc.append(accuracy(pruned, test.images, test.labels))
        cost.append(pruned_bytes(pruned, masks))
    return np.array(acc), np.array(cost, dtype=np.float64)


def _table(source):
    return source() if callable(source) else source


def pareto_case(source, label: str):
    """A case for ``pareto_indices(accuracy, cost)``: the indices of the configurations no other beats on both."""
    def verdict(got, acc, cost):
        from ...summary import pareto_front

        if got is None:
            return [f"pareto_indices({label}) returned None: did you forget to `return` it?"]
        try:
            got = np.sort(np.asarray(got).astype(np.int64).ravel())
        except (TypeError, ValueError):
            return [f"pareto_indices({label}) must return a list of int indices, got {type(got).__name__}"]
        return compare(got, np.sort(pareto_front(acc, cost)), name=f"pareto_indices({label}), sorted")
    return Case(lambda: _table(source), verdict)


def budget_case(source, budget: float, label: str):
    """A case for ``best_under(accuracy, cost, budget)``: the most accurate index within the budget, or None."""
    def verdict(got, acc, cost, budget):
        from ...summary import best_under_budget

        expected = best_under_budget(acc, cost, budget)
        name = f"best_under({label}, budget {budget:g})"
        if expected is None:
            return [] if got is None else [f"{name}: nothing fits this budget, expected None"]
        if got is None or isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
            return [f"{name} must return an int index, got {type(got).__name__}"]
        return compare(int(got), expected, name=name)
    return Case(lambda: (*_table(source), float(budget)), verdict)


def _lenet_sparsities():
    return pruning_table((0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98))


exercise("09-pareto-front", "The Pareto front of an (accuracy, bytes) table").cases.extend([
    ("12 configurations with ties and duplicates", pareto_case(lambda: random_table(0, 12), "12 configurations")),
    ("a single configuration", pareto_case(lambda: random_table(1, 1), "one configuration")),
    ("LeNet-300-100 pruned at 7 sparsities (CSR bytes)", pareto_case(_lenet_sparsities, "pruned LeNet-300-100")),
])

exercise("09-best-under-budget", "The most accurate configuration under a budget").cases.extend([
    ("a mid budget", budget_case(lambda: random_table(2, 10), 3500.0, "10 configurations")),
    ("ties in accuracy: the cheaper wins", budget_case(lambda: random_table(3, 20, levels=3), 2500.0,
                                                        "20 configurations")),
    ("nothing fits", budget_case(lambda: random_table(4, 6), 10.0, "6 configurations")),
    ("LeNet-300-100 pruned, 300 kB", budget_case(_lenet_sparsities, 300_000.0, "pruned LeNet-300-100")),
])
