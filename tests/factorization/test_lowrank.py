"""Low-rank bookkeeping shared by the factorization chapters: hand-worked numbers, the break-even rule, messages."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.factorization import break_even_rank, check_rank, low_rank_params, rank_reduction

from helpers import raises


def test_denton_table_rows_from_the_formula():
    # the seed's SVD table (Denton et al. 2014): reduction = NM / (K (N + M))
    assert round(rank_reduction(18432, 4096, 250), 1) == 13.4
    assert round(rank_reduction(18432, 4096, 950), 1) == 3.5
    assert round(rank_reduction(4096, 4096, 350), 1) == 5.9
    assert low_rank_params(784, 300, 10) == 10 * 1084


@given(st.integers(1, 300), st.integers(1, 300))
def test_break_even_rank_is_the_last_rank_that_saves(n, m):
    k = break_even_rank(n, m)
    assert k * (n + m) < n * m or k == 0
    if k + 1 <= min(n, m):
        assert (k + 1) * (n + m) >= n * m


@pytest.mark.parametrize("args,exc,message", [
    ((0, 784, 300), ValueError, "rank == 0, must be >= 1."),
    ((301, 784, 300), ValueError, "rank == 301, must be <= 300 (min(n, m) of a 784x300 matrix)."),
    ((2.0, 784, 300), TypeError, "rank must be an int, got float (2.0)."),
    ((True, 784, 300), TypeError, "rank must be an int, got bool (True)."),
])
def test_rank_messages(args, exc, message):
    raises(exc, message, check_rank, *args)
