"""Benchmarks of the pruning chapters: a pruned layer in CSR against the dense product, and its bytes."""

from __future__ import annotations

import numpy as np

from .core import Row, benchmark

__all__: list[str] = []


@benchmark("pruning")
def _bench_pruning(quick: bool) -> list[Row]:
    """Sparse (SciPy CSR) vs dense (BLAS) product of the same pruned 1024x1024 layer, and stored bytes."""
    from ..pruning import csr_bytes, dense_vs_sparse_times, magnitude_prune

    sparsities = (0.5, 0.9, 0.95, 0.99) if quick else (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99)
    rows = []
    for batch in (1, 100):
        for r in dense_vs_sparse_times((1024, 1024), sparsities, batch=batch, repeats=5 if quick else 30, rng=0):
            rows.append(Row("pruning", f"1024x1024, batch {batch}, {100 * r['sparsity']:.0f}% zeros", "CSR",
                            r["sparse_ms"], "dense", r["dense_ms"], "ms"))
    w = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    for s in (0.5, 0.9):
        pruned, _ = magnitude_prune(w, s)
        rows.append(Row("pruning", f"1024x1024 storage, {100 * s:.0f}% zeros", "CSR", csr_bytes(pruned),
                        "dense", 4 * pruned.size, "bytes"))
    return rows
