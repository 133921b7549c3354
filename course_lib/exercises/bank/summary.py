"""Exercises of notebook 09: the Pareto front over three costs, and the most accurate LeNet-300-100 under a byte
budget by pruning and quantization together (an outcome)."""

from __future__ import annotations

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["random_table3", "compromise_table", "pareto3_case", "BUDGET_LAYERS", "BUDGET_BYTES", "BUDGET_TARGETS",
           "STORAGE_RULE", "stored_bytes", "budget_form", "budget_model", "budget_case"]


def random_table3(seed: int, n: int, *, levels: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(accuracy, bytes, latency)`` of ``n`` made-up configurations on few levels, so that ties and identical
    points occur; the last three are a small configuration, a fast one and a compromise between them that
    neither two-cost front keeps."""
    rng = np.random.default_rng(seed)
    acc = np.round(0.80 + 0.02 * rng.integers(0, levels, n), 2)
    size = 1000.0 * rng.integers(2, levels + 3, n)
    lat = 0.5 * rng.integers(2, levels + 3, n)
    top = acc.max() + 0.01
    acc = np.concatenate([acc, [top, top, top]])
    size = np.concatenate([size, [500.0, 9000.0, 4000.0]])
    lat = np.concatenate([lat, [9.0, 0.25, 3.0]])
    return acc, size, lat


def compromise_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Six configurations: a small one, a fast one, a compromise, a duplicate of it, a dominated one and a
    more accurate but slow and large one."""
    return (np.array([0.95, 0.95, 0.95, 0.95, 0.94, 0.97]), np.array([1e3, 1e4, 5e3, 5e3, 6e3, 2e4]),
            np.array([10.0, 1.0, 5.0, 5.0, 6.0, 20.0]))


def _dominates(j: int, i: int, acc, size, lat) -> bool:
    at_least = acc[j] >= acc[i] and size[j] <= size[i] and lat[j] <= lat[i]
    return bool(at_least and (acc[j] > acc[i] or size[j] < size[i] or lat[j] < lat[i]))


def pareto3_case(source, label: str):
    """A case for ``pareto3(accuracy, size, delay)``: the indices (any order) of the configurations no other
    dominates -- at least as accurate, as small *and* as fast, one of the three strictly.

    Checked here, completely: every returned configuration is dominated by none, every other one by some.
    """
    def verdict(got, acc, size, lat):
        name = f"pareto3({label})"
        if got is None:
            return [f"{name} returned None: did you forget to `return` it?"]
        arr = np.asarray(got) if isinstance(got, (list, tuple, np.ndarray)) else None
        if arr is None or arr.dtype.kind not in "iu" or arr.ndim != 1:
            return [f"{name} must return a 1-D list of int indices, got {type(got).__name__}"]
        idx = [int(i) for i in arr]
        if any(i < 0 or i >= len(acc) for i in idx) or len(set(idx)) != len(idx):
            return [f"{name}: the indices must be distinct and in 0..{len(acc) - 1}"]
        kept = set(idx)
        beaten = [i for i in idx if any(_dominates(j, i, acc, size, lat) for j in range(len(acc)))]
        missing = [i for i in range(len(acc)) if i not in kept
                   and not any(_dominates(j, i, acc, size, lat) for j in range(len(acc)))]
        problems = []
        if beaten:
            problems.append(f"{name} keeps {len(beaten)} dominated configuration(s), e.g. index {beaten[0]}")
        if missing:
            problems.append(f"{name} leaves out {len(missing)} configuration(s) that nothing dominates, "
                            f"e.g. index {missing[0]}")
        return problems
    return Case(lambda: source() if callable(source) else source, verdict)


exercise("09-pareto3", "The Pareto front over accuracy, bytes and latency", kind="variant").cases.extend([
    ("a compromise kept by neither two-cost front, and a duplicate",
     pareto3_case(compromise_table, "6 configurations")),
    ("14 configurations with ties", pareto3_case(lambda: random_table3(0, 11), "14 configurations")),
    ("33 configurations on 3 levels", pareto3_case(lambda: random_table3(1, 30, levels=3), "33 configurations")),
])


# The outcome: LeNet-300-100 under a byte budget, pruning and quantization together.
BUDGET_LAYERS = ("fc1", "fc2", "fc3")
BUDGET_BYTES = 42_000
BUDGET_TARGETS = [
    Target("stored bytes", BUDGET_BYTES, 2 * BUDGET_BYTES, higher=False, unit="bytes"),
    Target("test accuracy", 0.97, 0.95, unit="%"),
]
STORAGE_RULE = (
    "Stored bytes, per layer of out x in weights, summed over fc1, fc2, fc3:\n"
    "  ceil(out * in / 8)      the mask, one bit per weight\n"
    "+ ceil(kept * bits / 8)   the codes of the kept weights, `bits` bits each\n"
    "+ 4 * out                 one float32 scale per row\n"
    "+ 4 * out                 the float32 biases\n"
    "A weight is mask * code * scale of its row; codes are ints with |code| <= 2**(bits - 1) - 1, bits in 2..8.")


def stored_bytes(got) -> int:
    """The bytes of an answer by :data:`STORAGE_RULE` (the answer's form checked first: :func:`budget_form`)."""
    total = 0
    for name in BUDGET_LAYERS:
        layer = got[name]
        out, inp = np.shape(layer["mask"])
        kept = int(np.count_nonzero(layer["mask"]))
        total += -(-out * inp // 8) + -(-kept * int(layer["bits"]) // 8) + 8 * out
    return total


def budget_form(got) -> list[str]:
    """The problems of an answer's form: for each of fc1, fc2, fc3 a dict with ``mask`` (bool, the weight's
    shape), ``codes`` (ints, same shape, in the range of ``bits``), ``scales`` (one float per row), ``bias``
    (floats) and ``bits`` (an int in 2..8)."""
    from ...checkpoints import load_pretrained

    shapes = {n: tuple(getattr(load_pretrained("lenet300"), n).weight.shape) for n in BUDGET_LAYERS}
    if not isinstance(got, dict) or any(n not in got for n in BUDGET_LAYERS):
        return [f"the answer must be a dict with the keys {list(BUDGET_LAYERS)}"]
    for n, shape in shapes.items():
        layer = got[n]
        keys = ("mask", "codes", "scales", "bias", "bits")
        if not isinstance(layer, dict) or any(k not in layer for k in keys):
            return [f"answer[{n!r}] must be a dict with the keys {list(keys)}"]
        bits = layer["bits"]
        if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 8:
            return [f"answer[{n!r}]['bits'] must be an int from 2 to 8"]
        mask, codes = layer["mask"], layer["codes"]
        if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != shape:
            return [f"answer[{n!r}]['mask'] must be a bool array of shape {shape}"]
        if not isinstance(codes, np.ndarray) or codes.dtype.kind not in "iu" or codes.shape != shape:
            return [f"answer[{n!r}]['codes'] must be an int array of shape {shape}"]
        if np.abs(codes[mask].astype(np.int64)).max(initial=0) > 2 ** (int(bits) - 1) - 1:
            return [f"answer[{n!r}]['codes']: a kept code is outside +-{2 ** (int(bits) - 1) - 1} ({bits} bits)"]
        for key, size in (("scales", shape[0]), ("bias", shape[0])):
            v = layer[key]
            if not isinstance(v, np.ndarray) or v.dtype.kind != "f" or v.shape != (size,) or not np.all(np.isfinite(v)):
                return [f"answer[{n!r}][{key!r}] must be {size} finite floats"]
    return []


def budget_model(got):
    """LeNet-300-100 with each layer's weight ``mask * codes * scale`` (float32) and the answer's biases."""
    import torch

    from ...checkpoints import load_pretrained

    model = load_pretrained("lenet300")
    with torch.no_grad():
        for n in BUDGET_LAYERS:
            layer, m = got[n], getattr(model, n)
            w = np.where(layer["mask"], layer["codes"].astype(np.float64) * layer["scales"][:, None], 0.0)
            m.weight.copy_(torch.from_numpy(w.astype(np.float32)))
            m.bias.copy_(torch.from_numpy(np.asarray(layer["bias"], dtype=np.float32)))
    return model.eval()


def budget_case():
    """The outcome's one case: ``compress_lenet()`` takes nothing; checked here: the form (the grader measures)."""
    return Case(lambda: (), lambda got: budget_form(got))


exercise("09-outcome-budget", "The most accurate LeNet-300-100 within a byte budget", kind="outcome",
         checked_here="form").cases.append(("LeNet-300-100 within the budget", budget_case()))
