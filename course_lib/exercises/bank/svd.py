"""Exercises of notebook 06: the rank for a target compression, the break-even rank, the seed's question 3."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise

__all__ = ["rank_plan_case", "break_even_case", "q3_case", "Q3_KINDS"]

Q3_KINDS = ("svd", "pruned", "int8")


def rank_plan_case(n, m, compression):
    """A case for ``rank_plan(n, m, compression) -> (K, stored)``: the largest rank that compresses an
    ``n x m`` weight at least ``compression`` times, and the numbers its two factors store."""
    def verdict(got, n, m, compression):
        from ...factorization import low_rank_params, rank_for_compression

        k = rank_for_compression(n, m, compression)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return [f"rank_plan returned {type(got).__name__}, expected a pair (K, stored numbers)"]
        return compare(np.asarray(got), np.array([k, low_rank_params(n, m, k)]),
                       name=f"rank_plan({n}, {m}, {compression})")
    return Case(lambda: (n, m, compression), verdict)


exercise("06-rank-for-compression", "The rank K that meets a target compression, and what it stores").cases.extend([
    ("Denton's FC1, 18432x4096, 13.4x", rank_plan_case(18432, 4096, 13.4)),
    ("Denton's FC2, 4096x4096, 5.8x", rank_plan_case(4096, 4096, 5.8)),
    ("LeNet-300-100's fc1, 300x784, 4x", rank_plan_case(300, 784, 4.0)),
    ("the CNN's 512x2048 classifier layer, 10x", rank_plan_case(512, 2048, 10.0)),
])


def break_even_case(n, m):
    """A case for ``break_even(n, m)``: the largest rank whose factors store fewer numbers (0 if none)."""
    def verdict(got, n, m):
        from ...factorization import break_even_rank

        return compare(got, break_even_rank(n, m), name=f"break_even({n}, {m})")
    return Case(lambda: (n, m), verdict)


exercise("06-break-even", "The break-even rank of an n x m layer").cases.extend([
    ("LeNet-300-100's fc1, 300x784", break_even_case(300, 784)),
    ("a square 4096x4096 layer", break_even_case(4096, 4096)),
    ("a 10x512 classifier", break_even_case(10, 512)),
    ("a 2x2 matrix (no rank saves)", break_even_case(2, 2)),
])


def q3_expected(weight: np.ndarray, rank: int, sparsity: float) -> np.ndarray:
    """``[[bytes, relative error], ...]`` for the rank-``rank`` SVD, the magnitude-pruned CSR weight and int8."""
    from ...factorization import low_rank_params, truncated_svd
    from ...pruning import magnitude_prune
    from ...pruning.storage import csr_bytes
    from ...quantization import quantize_tensor
    from ...quantization.storage import int8_bytes

    norm = np.linalg.norm(weight)
    svd = truncated_svd(weight, rank)
    pruned, _ = magnitude_prune(weight, sparsity)
    deq = quantize_tensor(weight, bits=8, method="maxabs", symmetric=True).dequantize()
    return np.array([[4 * low_rank_params(*weight.shape, rank), svd.error / norm],
                     [csr_bytes(pruned), np.linalg.norm(weight - pruned) / norm],
                     [int8_bytes(weight), np.linalg.norm(weight - deq) / norm]], dtype=np.float64)


def q3_case(seed, shape, rank, sparsity, decay):
    """A case for ``compare_compressions(weight, rank, sparsity)`` on a matrix with a decaying spectrum."""
    def inputs():
        from ...factorization import matrix_with_spectrum

        s = np.exp(-decay * np.arange(min(shape)))
        return matrix_with_spectrum(s, shape, rng=seed, dtype=np.float64), rank, sparsity

    def verdict(got, weight, rank, sparsity):
        label = f"compare_compressions(a {shape[0]}x{shape[1]} weight, rank {rank}, sparsity {sparsity})"
        if not isinstance(got, dict) or set(got) != set(Q3_KINDS):
            return [f"{label} must return a dict with the keys {', '.join(Q3_KINDS)}, got "
                    f"{sorted(got) if isinstance(got, dict) else type(got).__name__}"]
        try:
            table = np.array([[float(got[k][0]), float(got[k][1])] for k in Q3_KINDS])
        except (TypeError, ValueError, IndexError):
            return [f"{label}: each value must be a pair (bytes, relative error)"]
        return compare(table, q3_expected(weight, rank, sparsity), name=f"{label} as rows svd, pruned, int8",
                       rtol=1e-6, atol=1e-9)
    return Case(inputs, verdict)


exercise("06-seed-q3", "Seed question 3: bytes and error of SVD vs pruning vs int8, measured").cases.extend([
    ("a 64x48 weight, rank 6, 90% pruned", q3_case(0, (64, 48), 6, 0.9, 0.2)),
    ("a 200x120 weight, rank 20, 90% pruned", q3_case(1, (200, 120), 20, 0.9, 0.05)),
    ("a 30x90 weight, rank 3, 75% pruned", q3_case(2, (30, 90), 3, 0.75, 0.5)),
])
