"""Notebook 01's exercises: the library's masks and byte counts earn nothing; the instructor's solutions full marks;
the outcome's published partial credit."""

import numpy as np
import pytest
import torch
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

from course_lib.exercises import EXERCISES, load_bank
from course_lib.exercises.bank.pruning import OUTCOME_TARGETS
from course_lib.pruning import bitmask_bytes, csr_bytes, global_magnitude_prune, magnitude_mask

# ---- the instructor's solutions (as in notebooks/01_weight_pruning.ipynb) ----

def row_mask(w, k):
    order = np.argsort(-np.abs(w), axis=1, kind="stable")   # largest first; equal: lower index first
    mask = np.zeros(w.shape, dtype=bool)
    np.put_along_axis(mask, order[:, :k], True, axis=1)
    return mask


def nm_mask(w, n, m):
    rows, cols = w.shape
    groups = np.abs(w).reshape(rows * cols // m, m)
    order = np.argsort(-groups, axis=1, kind="stable")
    mask = np.zeros(groups.shape, dtype=bool)
    np.put_along_axis(mask, order[:, :n], True, axis=1)
    return mask.reshape(rows, cols)


def csr_break_even(rows, cols):
    def width(largest):
        return next(b for b in (1, 2, 4, 8) if largest < 2 ** (8 * b))

    def csr(nnz):
        return nnz * (4 + width(cols - 1)) + (rows + 1) * width(nnz)

    limits = {"dense": 4 * rows * cols, "bitmask": lambda nnz: -(-rows * cols // 8) + 4 * nnz}
    found = {}
    for fmt in ("dense", "bitmask"):
        other = limits[fmt] if callable(limits[fmt]) else (lambda nnz, b=limits[fmt]: b)
        lo, hi = -1, rows * cols          # csr(nnz) - other(nnz) grows with nnz: bisect on the last nnz that wins
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if csr(mid) < other(mid) else (lo, mid - 1)
        found[fmt] = lo
    return found


# ---- the shortcuts ----

def _torch_mask(fn, w, **kw):
    layer = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(w))
    fn(layer, "weight", **kw)
    return layer.weight_mask.detach().numpy().astype(bool)


def test_row_mask_shortcuts():
    rows = lambda w, k: w.shape[0]  # noqa: E731
    assert_no_shortcut(
        "01-row-mask",
        per_tensor=lambda w, k: magnitude_mask(w, w.size - k * rows(w, k)),
        global_prune=lambda w, k: global_magnitude_prune({"w": w}, w.size - k * rows(w, k))[1]["w"],
        torch_l1_unstructured=lambda w, k: _torch_mask(torch.nn.utils.prune.l1_unstructured, w,
                                                       amount=w.size - k * w.shape[0]),
        torch_ln_structured=lambda w, k: _torch_mask(torch.nn.utils.prune.ln_structured, w,
                                                     amount=1 - k / w.shape[1], n=1, dim=0),
        library_per_row=lambda w, k: np.stack([magnitude_mask(r, r.size - k) for r in w]),
        torch_topk=lambda w, k: torch.zeros(w.shape, dtype=torch.bool).scatter_(
            1, torch.topk(torch.as_tensor(np.abs(w)), k, dim=1).indices, True).numpy(),
    )
    assert_full_marks("01-row-mask", row_mask)


def test_nm_mask_shortcuts():
    def grouped(fn):
        def answer(w, n, m):
            g = w.reshape(-1, m)
            return np.stack([fn(r, m - n) for r in g]).reshape(w.shape)
        return answer

    assert_no_shortcut(
        "01-nm-mask",
        per_tensor=lambda w, n, m: magnitude_mask(w, w.size - w.size * n // m),
        torch_l1_unstructured=lambda w, n, m: _torch_mask(torch.nn.utils.prune.l1_unstructured, w,
                                                          amount=1 - n / m),
        library_per_group=grouped(magnitude_mask),
        per_row=lambda w, n, m: row_mask(w, w.shape[1] * n // m),
        torch_topk=lambda w, n, m: torch.zeros((w.size // m, m), dtype=torch.bool).scatter_(
            1, torch.topk(torch.as_tensor(np.abs(w)).reshape(-1, m), n, dim=1).indices, True).reshape(w.shape).numpy(),
    )
    assert_full_marks("01-nm-mask", nm_mask)


def test_csr_break_even_shortcuts():
    def width(largest):
        return next(b for b in (1, 2, 4, 8) if largest < 2 ** (8 * b))

    assert_no_shortcut(
        "01-csr-break-even",
        old_byte_counts=lambda r, c: {"dense": csr_bytes(np.ones((r, c))), "bitmask": bitmask_bytes(np.ones((r, c)))},
        fractions_of_the_text=lambda r, c: {"dense": int(r * c * 2 / 3), "bitmask": int(r * c / 16)},
        without_row_pointers=lambda r, c: {"dense": (4 * r * c - 1) // (4 + width(c - 1)),
                                           "bitmask": (-(-r * c // 8) - 1) // width(c - 1)},
        one_too_many=lambda r, c: {k: v + 1 for k, v in csr_break_even(r, c).items()},
    )
    assert_full_marks("01-csr-break-even", csr_break_even)


# ---- the outcome ----

def _masks_at(global_sparsity):
    import course_lib as cl
    from course_lib.pruning import nn as prune_nn

    return prune_nn.masks_for(cl.load_pretrained("lenet300"), global_sparsity, scope="global")


def _balanced_masks():
    """The instructor's solution of the notebook (lenet300_masks): per-layer budgets, per row, the mean shift
    of the removed weights cancelled."""
    import course_lib as cl

    net = cl.load_pretrained("lenet300")
    x = cl.to_tensor(cl.load_mnist("train", limit=10000).images)
    keep_fraction = {"fc1": 0.10, "fc2": 0.40, "fc3": 1.0}
    masks, h = {}, net.standardize(x).flatten(1)
    with torch.no_grad():
        for name, keep_frac in keep_fraction.items():
            layer = getattr(net, name)
            w, shift = layer.weight.numpy(), (layer.weight * h.mean(0)).numpy()
            keep = round(keep_frac * w.shape[1])
            spare = round(0.2 * keep)
            order = np.argsort(-np.abs(w), axis=1, kind="stable")
            mask = np.zeros(w.shape, dtype=bool)
            np.put_along_axis(mask, order[:, :keep - spare], True, axis=1)
            cand = order[:, keep - spare:keep + 3 * spare + 1]
            c = np.take_along_axis(shift, cand, axis=1)
            left = np.where(mask, 0.0, shift).sum(axis=1)
            rows, used = np.arange(w.shape[0]), np.zeros(c.shape, dtype=bool)
            for _ in range(spare):
                d = np.abs(left[:, None] - c)
                d[used] = np.inf
                j = d.argmin(axis=1)
                used[rows, j] = True
                left -= c[rows, j]
            mask[rows[:, None], np.where(used, cand, order[:, :1])] = True
            masks[f"{name}.weight"] = mask
            h = torch.relu(h @ (layer.weight * torch.as_tensor(mask)).T + layer.bias)
    return masks


@pytest.fixture(scope="module")
def outcome():
    load_bank()
    return "01-outcome-masks"


def test_outcome_full_partial_and_zero(outcome):
    assert [t.name for t in OUTCOME_TARGETS] == ["sparsity", "accuracy drop"]
    assert grader_credit(outcome, _balanced_masks)[0] == 1.0
    assert selfcheck_credit(outcome, _balanced_masks)[0] == 1.0
    dense = {n: np.ones(s, dtype=bool) for n, s in (("fc1.weight", (300, 784)), ("fc2.weight", (100, 300)),
                                                    ("fc3.weight", (10, 100)))}
    assert grader_credit(outcome, lambda: dense)[0] == 0.0
    # one global magnitude ranking at the target sparsity: partial credit only (the accuracy drop is too large)
    got, problems = grader_credit(outcome, lambda: _masks_at(0.85))
    assert 0.0 < got < 0.7, (got, problems)
    # a little short of the sparsity target, accuracy fine: exactly the published linear credit
    masks = _balanced_masks()
    extra = np.flatnonzero(~masks["fc1.weight"].ravel())[:11800]   # give back ~4.4 % of all the weights
    masks["fc1.weight"].ravel()[extra] = True
    total = sum(m.size for m in masks.values())
    sparsity = 1 - sum(int(m.sum()) for m in masks.values()) / total
    got, problems = grader_credit(outcome, lambda: masks)
    assert got == pytest.approx(OUTCOME_TARGETS[0].credit(sparsity)) and 0 < got < 1, (got, problems)


def test_outcome_form_is_checked_in_the_kernel(outcome):
    assert EXERCISES[outcome].kind == "outcome"
    assert selfcheck_credit(outcome, lambda: {"fc1.weight": np.ones((300, 784))})[0] == 0.0
    assert selfcheck_credit(outcome, lambda: {n: np.ones(s, dtype=int) for n, s in
                                              (("fc1.weight", (300, 784)), ("fc2.weight", (100, 300)),
                                               ("fc3.weight", (10, 100)))})[0] == 0.0
