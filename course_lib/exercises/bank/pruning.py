"""Exercises of notebook 01: weight pruning."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, compare_fields, exercise

__all__ = ["EXAMPLE_W", "EXAMPLE_C", "storage_case", "mask_case"]


EXAMPLE_W = np.array([[0.31, -0.02, 0.75], [-0.48, 0.09, -0.11], [0.05, -0.93, 0.2]])
EXAMPLE_C = 0.1


def _threshold_by_hand(answer):
    from ...pruning import threshold_prune

    return compare(answer, threshold_prune(EXAMPLE_W, EXAMPLE_C)[0], name="W_pruned", atol=1e-9)


exercise("01-threshold-by-hand", "Prune a small matrix by hand with C = 0.1").cases.append(
    ("the 3x3 matrix W", Case(None, _threshold_by_hand)))


def mask_case(seed, shape, amount, ties=False):
    """A case for ``magnitude_mask(w, amount)``: keep all but the ``amount`` smallest magnitudes."""
    def inputs():
        w = np.random.default_rng(seed).normal(size=shape)
        return (np.round(w, 1) if ties else w), amount

    def verdict(got, w, amount):
        from ...pruning import magnitude_mask

        return compare(got, magnitude_mask(w, amount), name=f"magnitude_mask(w of shape {shape}, {amount})")
    return Case(inputs, verdict)


exercise("01-magnitude-mask", "A count-based magnitude mask").cases.extend([
    ("remove 3 of 10", mask_case(0, (10,), 3)),
    ("remove 20 of a 6x8 matrix", mask_case(1, (6, 8), 20)),
    ("ties: equal magnitudes", mask_case(2, (5, 5), 12, ties=True)),
    ("remove none", mask_case(3, (4,), 0)),
    ("remove all", mask_case(4, (3, 2), 6)),
])

def storage_case(seed, shape, sparsity):
    """A case for ``storage_bytes(w) -> {"dense", "csr", "bitmask"}`` on a pruned float32 matrix."""
    def inputs():
        rng = np.random.default_rng(seed)
        w = rng.normal(size=shape).astype(np.float32)
        w[rng.random(shape) < sparsity] = 0.0
        return (w,)

    def verdict(got, w):
        from ...pruning import bitmask_bytes, csr_bytes

        expected = {"dense": 4 * w.size, "csr": csr_bytes(w), "bitmask": bitmask_bytes(w)}
        return compare_fields(f"storage_bytes(w of shape {shape}, {np.mean(w == 0):.0%} zeros)", got, expected)
    return Case(inputs, verdict)


# Seed question 1 ("what problems can arise when zeroing weights?"), measured: zeroing alone
# saves no byte; a sparse format saves memory only past a sparsity that its indices set.
exercise("01-storage-bytes", "Seed question 1, measured: the bytes of a pruned matrix").cases.extend([
    ("a 4x5 matrix, about half zeros", storage_case(0, (4, 5), 0.6)),
    ("no zeros: CSR costs more than dense", storage_case(1, (6, 7), 0.0)),
    ("300x784, 90% zeros (2-byte column indices)", storage_case(2, (300, 784), 0.9)),
    ("all zeros: the row pointers remain", storage_case(3, (5, 3), 1.0)),
])


