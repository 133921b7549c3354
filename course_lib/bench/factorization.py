"""Benchmarks of the factorization chapters: SVD methods, factorized layers, flattened convolutions, TT."""

from __future__ import annotations

from .core import Row, benchmark

__all__: list[str] = []


@benchmark("svd")
def _bench_svd(quick: bool) -> list[Row]:
    from ..factorization.svd_bench import bench_svd

    return bench_svd(quick)


@benchmark("flattened")
def _bench_flattened(quick: bool) -> list[Row]:
    from ..factorization.flattened_bench import bench_flattened

    return bench_flattened(quick)


@benchmark("tt")
def _bench_tt(quick: bool) -> list[Row]:
    from ..factorization.tt_bench import bench_tt

    return bench_tt(quick)
