"""Exercises of notebook 10: Deep Compression -- Huffman's total length, the centroid gradient, the smallest file.

The student's copy: each case's inputs and the checks a student's kernel makes -- the form of the
answer and properties a right answer has (Shannon's bounds for a Huffman code, the sum of a
centroid gradient), never a reference solution. The instructor's references and the grader's
verdicts are in ``hidden_tests/ch10_deep_compression.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["huffman_case", "centroid_case", "FILE_TARGETS", "FILE_MAGIC", "MAX_FILE_BYTES", "file_form", "file_case"]


# ---------------------------------------------------------------- 10-huffman-bits

def _entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def _huffman_checks(got, counts):
    label = f"huffman_bits({list(counts)})"
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float, np.floating)) \
            or got != int(got) or got < 0:
        return [f"{label} must return a whole number of bits >= 0, got {type(got).__name__}"]
    bits, c = int(got), np.asarray(counts, dtype=np.int64)
    n, used = int(c.sum()), int(np.count_nonzero(c))
    if used == 1:
        return [] if bits == n else [f"{label}: a message of one symbol still costs a bit per symbol"]
    h = n * _entropy_bits(c)
    problems = []
    if bits < h - 1e-9:
        problems.append(f"{label}: below the entropy bound n H (Shannon): no prefix code is that short")
    if bits >= h + n:
        problems.append(f"{label}: a Huffman code costs less than H + 1 bits per symbol")
    if bits > n * math.ceil(math.log2(used)):
        problems.append(f"{label}: longer than the fixed-width code of the symbols that occur, "
                        "which Huffman's code never is")
    return problems


def huffman_case(counts):
    """A case for ``huffman_bits(counts)``: the histogram of a message (count of symbol 0, 1, ...; zeros allowed)."""
    return Case(lambda: (list(counts),), _huffman_checks)


exercise("10-huffman-bits", "The length of a Huffman-coded message, in bits, from its histogram",
         kind="derivation", checked_here="form").cases.extend([
    ("4 symbols and an absent one: [9, 5, 1, 1, 0]", huffman_case([9, 5, 1, 1, 0])),
    ("6 symbols, equally frequent", huffman_case([7] * 6)),
    ("a skewed index stream: 1000, 300, 90, 40, 12, 5, 2, 1", huffman_case([1000, 300, 90, 40, 12, 5, 2, 1])),
    ("one symbol only", huffman_case([0, 0, 13, 0])),
])


# ---------------------------------------------------------------- 10-centroid-grad

def centroid_case(seed, n, n_in, n_out, k, kept, unused=()):
    """A case for ``centroid_grad(x, grad_out, indices, mask, k)`` of a Linear layer ``y = x W^T + b``.

    ``x`` (n, n_in) is the layer's input on a batch, ``grad_out`` (n, n_out) the loss's gradient with
    respect to its output, ``indices`` (n_out, n_in) each weight's centroid, ``mask`` (n_out, n_in)
    ``True`` where the weight is kept (a pruned weight is 0 whatever its index), ``k`` the number of
    centroids. ``unused``: centroids no kept weight uses. Checked here: the form, a zero gradient for a
    centroid no kept weight uses, and the sum over the centroids (the grader compares each value).
    """
    def inputs():
        rng = np.random.default_rng(seed)
        choices = np.setdiff1d(np.arange(k), unused)
        mask = rng.random((n_out, n_in)) < kept
        mask.flat[0], mask.flat[-1] = False, True  # at least one pruned weight, at least one kept
        return (rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out)),
                rng.choice(choices, size=(n_out, n_in)).astype(np.int64), mask, k)

    def checks(got, x, grad_out, indices, mask, k):
        label = f"centroid_grad(batch of {n}, {n_out}x{n_in} layer, k={k})"
        try:
            g = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return [f"{label} must return an array of numbers"]
        if g.shape != (k,):
            return [f"{label} has shape {g.shape}, expected ({k},): one gradient per centroid"]
        if not np.all(np.isfinite(g)):
            return [f"{label} contains NaN or infinite values"]
        problems = []
        idle = np.setdiff1d(np.arange(k), indices[mask])
        if np.any(g[idle] != 0):
            problems.append(f"{label}: a centroid that no kept weight uses must get a zero gradient")
        dw = grad_out.T @ x
        if not np.isclose(g.sum(), dw[mask].sum(), rtol=1e-9, atol=1e-9):
            problems.append(f"{label}: the centroids' gradients must add up to the kept weights' (pruned weights "
                            "are always 0: their gradient reaches no centroid)")
        return problems
    return Case(inputs, checks)


exercise("10-centroid-grad", "The gradient of the loss with respect to a layer's shared centroids",
         kind="implementation", checked_here="form").cases.extend([
    ("4x6 layer, 4 centroids, a batch of 5, 60% kept", centroid_case(0, 5, 6, 4, 4, 0.6)),
    ("30x50 layer, 32 centroids, 10% kept", centroid_case(1, 16, 50, 30, 32, 0.1)),
    ("3x3 layer, 8 centroids, centroids 2 and 5 unused", centroid_case(2, 4, 3, 3, 8, 0.9, unused=(2, 5))),
])


# ---------------------------------------------------------------- 10-outcome-file

#: the targets of 10-outcome-file (the notebook prints them with rule_text; the grader measures them)
FILE_TARGETS = [
    Target("file size", goal=32_000, zero_at=160_000, higher=False, unit="bytes"),
    Target("accuracy lost", goal=0.005, zero_at=0.015, higher=False, unit="points"),
]
#: the first bytes of a file of course_lib.sharing.nn.save_shared_model
FILE_MAGIC = b"DCWM"
#: the largest answer the grader reads (the dense float32 LeNet-300-100 is about 1 MB)
MAX_FILE_BYTES = 4 * 2**20


def file_form(got) -> list[str]:
    """The problems of the form of an answer to 10-outcome-file (what the student's kernel checks)."""
    label = "smallest_file()"
    if not isinstance(got, np.ndarray) or got.dtype != np.uint8 or got.ndim != 1:
        return [f"{label} must return a 1-D np.uint8 array (the file's bytes: np.frombuffer(data, np.uint8)), "
                f"got {type(got).__name__}"]
    if not 4 < got.size <= MAX_FILE_BYTES:
        return [f"{label} holds {got.size} bytes, must hold 5 to {MAX_FILE_BYTES} (a file of save_shared_model)"]
    if got[:4].tobytes() != FILE_MAGIC:
        return [f"{label} does not start with {FILE_MAGIC!r}: it must be a file of save_shared_model"]
    return []


def file_case():
    """The case of 10-outcome-file: no inputs (the answer trains what it needs); the checks made here are the
    form's, the grader loads the file with load_shared_model and measures it on the MNIST test set."""
    return Case(lambda: (), lambda got: file_form(got))


exercise("10-outcome-file", "The smallest LeNet-300-100 file within half a point of the dense accuracy",
         kind="outcome", checked_here="form").cases.append(("LeNet-300-100 on MNIST", file_case()))
