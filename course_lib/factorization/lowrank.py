"""What a rank-k factorization of an n x m weight costs and saves. Pure Python.

A dense ``n x m`` layer stores ``n m`` numbers; its rank-``k`` factorization
``W ~ U V`` with ``U`` of shape ``(n, k)`` and ``V`` of shape ``(k, m)`` stores
``k (n + m)``. It is smaller only for ``k < n m / (n + m)`` -- the break-even rank --
and the compression is ``n m / (k (n + m))``, the "reduction" column of the seed's
SVD table (Denton et al. 2014).
"""

from __future__ import annotations

from .._validation import check_int

__all__ = ["check_rank", "low_rank_params", "break_even_rank", "rank_reduction"]


def check_rank(rank, n: int, m: int, name: str = "rank") -> int:
    """A rank for an ``n x m`` matrix: an int in ``1 .. min(n, m)``.

    Raises
    ------
    TypeError
        If ``rank`` is not an int (``bool`` included).
    ValueError
        ``rank == 0, must be >= 1.`` or ``rank == 900, must be <= 784 (min(n, m) of a 784x1000 matrix).``
    """
    n = check_int("n", n, minimum=1)
    m = check_int("m", m, minimum=1)
    rank = check_int(name, rank, minimum=1)
    if rank > min(n, m):
        raise ValueError(f"{name} == {rank}, must be <= {min(n, m)} (min(n, m) of a {n}x{m} matrix).")
    return rank


def low_rank_params(n: int, m: int, k: int) -> int:
    """Numbers stored by a rank-``k`` factorization of an ``n x m`` matrix: ``k (n + m)``.

    Examples
    --------
    >>> low_rank_params(4096, 4096, 250)
    2048000
    """
    k = check_rank(k, n, m, "k")
    return k * (n + m)


def break_even_rank(n: int, m: int) -> int:
    """The largest rank whose factors store fewer numbers than the dense ``n x m`` matrix.

    ``k (n + m) < n m`` holds for ``k < n m / (n + m)``; returns 0 when no rank does
    (a 1 x m matrix cannot be factorized smaller).

    Examples
    --------
    >>> break_even_rank(784, 300), break_even_rank(4096, 4096)
    (216, 2047)
    """
    n = check_int("n", n, minimum=1)
    m = check_int("m", m, minimum=1)
    return max(0, (n * m - 1) // (n + m))


def rank_reduction(n: int, m: int, k: int) -> float:
    """Compression of a rank-``k`` factorization: ``n m / (k (n + m))`` (Denton et al. 2014).

    Examples
    --------
    >>> round(rank_reduction(18432, 4096, 250), 1), round(rank_reduction(4096, 4096, 250), 1)
    (13.4, 8.2)
    """
    return n * m / low_rank_params(n, m, k)
