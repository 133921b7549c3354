"""Exercises of notebook 01: masks per row and per group of M, the break-even of CSR, an outcome on LeNet-300-100.

The checks here are the student's copy: the form of an answer and the properties a right one has.
For the masks and the break-even those properties decide (``checked_here="values"``); the outcome's
accuracy is measured by the grader only (``hidden_tests/ch01_weight_pruning.py``).
"""

from __future__ import annotations

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["row_mask_case", "nm_mask_case", "break_even_case", "outcome_case", "OUTCOME_LAYERS", "OUTCOME_TARGETS"]


def _tied_matrix(seed, shape, decimals):
    """Random weights rounded to ``decimals``: many equal magnitudes, of both signs."""
    return np.round(np.random.default_rng(seed).normal(scale=0.5, size=shape), decimals)


def _bool_matrix(got, shape, label):
    """The problems of ``got`` as a boolean array of ``shape`` (and the array, when there are none)."""
    if got is None:
        return [f"{label} returned None: did you forget to `return` it?"], None
    if isinstance(got, (bool, int, float, str)):
        return [f"{label} returned {type(got).__name__}, expected a bool array of shape {shape}"], None
    try:
        arr = np.asarray(got)
    except Exception:
        return [f"{label} returned a {type(got).__name__} that is not an array"], None
    if arr.dtype != bool:
        return [f"{label} has dtype {arr.dtype}, expected bool (True = kept)"], None
    if arr.shape != tuple(shape):
        return [f"{label} has shape {arr.shape}, expected {tuple(shape)}"], None
    return [], arr


def _groups_problems(mask, mags, keep, label, unit, of=""):
    """Rows of ``mags`` (one group each): exactly ``keep`` kept, the largest magnitudes, ties to the lower index."""
    counts = mask.sum(axis=1)
    wrong = np.flatnonzero(counts != keep)
    if wrong.size:
        return [f"{label}: {wrong.size} of {len(mask)} {unit}s{of} do not keep exactly {keep} "
                f"weight{'s' if keep != 1 else ''} (first: {unit} {int(wrong[0])} keeps {int(counts[wrong[0]])})"]
    smaller, tie = [], []
    for g, (m, a) in enumerate(zip(mask, mags)):
        if m.all() or not m.any():
            continue
        low_kept, high_removed = a[m].min(), a[~m].max()
        if low_kept < high_removed:
            smaller.append(g)
        elif low_kept == high_removed:
            # among the equal magnitudes at the boundary, every kept one comes before every removed one
            if np.flatnonzero(m & (a == low_kept)).max() > np.flatnonzero(~m & (a == low_kept)).min():
                tie.append(g)
    problems = []
    if smaller:
        problems.append(f"{label}: in {len(smaller)} {unit}(s){of} (first: {smaller[0]}) a kept weight is smaller "
                        f"in magnitude than a removed one")
    if tie:
        problems.append(f"{label}: in {len(tie)} {unit}(s){of} (first: {tie[0]}) equal magnitudes are not broken "
                        f"by position (the lower index is kept)")
    return problems


def row_mask_case(seed, shape, k, decimals=1):
    """A case for ``row_mask(w, k)``: in each row of ``w``, keep the ``k`` largest ``|w|``; ties: lower index kept."""
    def inputs():
        return _tied_matrix(seed, shape, decimals), k

    def verdict(got, w, k):
        label = f"row_mask(w of shape {w.shape}, {k})"
        problems, mask = _bool_matrix(got, w.shape, label)
        return problems or _groups_problems(mask, np.abs(w), k, label, "row")
    return Case(inputs, verdict)


exercise("01-row-mask", "Keep the k largest weights of every row", kind="variant",
         checked_here="values").cases.extend([
    ("keep 3 of 8 in each of 5 rows", row_mask_case(0, (5, 8), 3)),
    ("keep 1 of 6 (ties at the top)", row_mask_case(1, (7, 6), 1, decimals=0)),
    ("keep 30 of 100 in each of 40 rows", row_mask_case(2, (40, 100), 30)),
    ("keep 9 of 10", row_mask_case(3, (12, 10), 9)),
])


def nm_mask_case(seed, shape, n, m, decimals=0):
    """A case for ``nm_mask(w, n, m)``: in every ``m`` consecutive weights of a row keep the ``n`` largest ``|w|``."""
    def inputs():
        return _tied_matrix(seed, shape, decimals), n, m

    def verdict(got, w, n, m):
        label = f"nm_mask(w of shape {w.shape}, {n}, {m})"
        problems, mask = _bool_matrix(got, w.shape, label)
        if problems:
            return problems
        return _groups_problems(mask.reshape(-1, m), np.abs(w).reshape(-1, m), n, label, "group", f" of {m}")
    return Case(inputs, verdict)


exercise("01-nm-mask", "N:M sparsity: keep N of every M consecutive weights", kind="variant",
         checked_here="values").cases.extend([
    ("2:4 on a 6x16 matrix", nm_mask_case(0, (6, 16), 2, 4)),
    ("2:4 on a 30x64 matrix", nm_mask_case(1, (30, 64), 2, 4)),
    ("1:4 on a 5x12 matrix", nm_mask_case(2, (5, 12), 1, 4)),
    ("4:8 on a 10x24 matrix", nm_mask_case(3, (10, 24), 4, 8, decimals=1)),
])


def _csr_smaller(rows, cols, nnz, other):
    """Measured: does a ``rows x cols`` float32 matrix with ``nnz`` non-zeros take fewer bytes in CSR than in
    ``other`` ("dense" or "bitmask")? The course's byte counts (:mod:`course_lib.pruning.storage`)."""
    from ...pruning.storage import bitmask_bytes, csr_bytes

    w = np.zeros(rows * cols, dtype=np.float32)
    w[:nnz] = 1.0
    w = w.reshape(rows, cols)
    return csr_bytes(w) < (4 * w.size if other == "dense" else bitmask_bytes(w))


def break_even_case(rows, cols):
    """A case for ``csr_break_even(rows, cols) -> {"dense": n, "bitmask": n}``: the largest number of non-zeros at
    which CSR is smaller than each format (-1 when not even an all-zero matrix is); measured on real matrices."""
    def verdict(got, rows, cols):
        label = f"csr_break_even({rows}, {cols})"
        if not isinstance(got, dict):
            return [f"{label} returned {type(got).__name__}, expected a dict with keys 'dense' and 'bitmask'"]
        if sorted(got) != ["bitmask", "dense"]:
            return [f"{label} has keys {sorted(map(str, got))}, expected exactly 'dense' and 'bitmask'"]
        problems = []
        for fmt in ("dense", "bitmask"):
            n = got[fmt]
            if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
                problems.append(f"{label}[{fmt!r}] is a {type(n).__name__}, expected an int")
            elif not -1 <= n <= rows * cols:
                problems.append(f"{label}[{fmt!r}] is {n}: a count of non-zeros is between 0 and {rows * cols} "
                                f"(or -1)")
            elif n >= 0 and not _csr_smaller(rows, cols, int(n), fmt):
                problems.append(f"{label}[{fmt!r}]: with that many non-zeros CSR is not smaller than {fmt} "
                                f"(measured): too many")
            elif n < rows * cols and _csr_smaller(rows, cols, int(n) + 1, fmt):
                problems.append(f"{label}[{fmt!r}]: with one non-zero more CSR is still smaller than {fmt} "
                                f"(measured): too few")
        return problems
    return Case(lambda: (rows, cols), verdict)


# Seed question 1 ("what problems can arise when zeroing weights?"), derived then measured: zeros save
# memory only in a sparse format, and only below a number of non-zeros that its indices set.
exercise("01-csr-break-even", "Seed question 1: how many non-zeros can CSR afford?", kind="derivation",
         checked_here="values").cases.extend([
    ("LeNet-300-100's fc1, 300x784", break_even_case(300, 784)),
    ("fc3, 10x100 (1-byte column indices)", break_even_case(10, 100)),
    ("one row of 70,000 (4-byte column indices)", break_even_case(1, 70000)),
    ("a 1x1 matrix", break_even_case(1, 1)),
])


# The outcome: masks for LeNet-300-100, applied without retraining, graded on the test set by the grader.
OUTCOME_LAYERS = {"fc1.weight": (300, 784), "fc2.weight": (100, 300), "fc3.weight": (10, 100)}
OUTCOME_TARGETS = [
    Target("sparsity", 0.85, 0.80, unit="%"),
    Target("accuracy drop", 0.025, 0.045, higher=False, unit="points"),
]


def outcome_case():
    """The case of ``lenet300_masks()``: one bool mask per weight matrix (the checks here: the form only)."""
    def verdict(got):
        label = "lenet300_masks()"
        if not isinstance(got, dict):
            return [f"{label} returned {type(got).__name__}, expected a dict of layer name -> bool array"]
        if sorted(map(str, got)) != sorted(OUTCOME_LAYERS):
            return [f"{label} has keys {sorted(map(str, got))}, expected exactly {sorted(OUTCOME_LAYERS)}"]
        problems = []
        for name, shape in OUTCOME_LAYERS.items():
            problems += _bool_matrix(got[name], shape, f"{label}[{name!r}]")[0]
        return problems
    return Case(lambda: (), verdict)


exercise("01-outcome-masks", "Prune LeNet-300-100 without retraining: a sparsity and an accuracy to reach",
         kind="outcome", checked_here="form").cases.append(
    ("LeNet-300-100, masks applied without retraining", outcome_case()))
