"""Huffman coding from scratch against an independent heapq reference, the entropy bound, round trips. No torch."""

import heapq
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.sharing import (
    canonical_codes,
    encoded_bits,
    entropy_bits,
    huffman_decode,
    huffman_encode,
    huffman_lengths,
)


def reference_total_bits(counts) -> int:
    """Total Huffman length, built independently: the cost of the tree is the sum of all merged weights."""
    heap = [c for c in counts if c > 0]
    if len(heap) == 1:
        return heap[0]  # one symbol: one bit per occurrence (the course's convention)
    heapq.heapify(heap)
    total = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        total += merged
        heapq.heappush(heap, merged)
    return total


def reference_lengths(counts) -> dict:
    """Code lengths from an explicit tree of (count, tiebreak, symbols) built with heapq."""
    tick = itertools.count()
    heap = [(c, next(tick), [s]) for s, c in enumerate(counts) if c > 0]
    heapq.heapify(heap)
    depth = {s: 0 for _, _, (s,) in heap}
    while len(heap) > 1:
        ca, _, a = heapq.heappop(heap)
        cb, _, b = heapq.heappop(heap)
        for s in a + b:
            depth[s] += 1
        heapq.heappush(heap, (ca + cb, next(tick), a + b))
    return depth


COUNTS = st.lists(st.integers(0, 1000), min_size=1, max_size=40).filter(lambda c: sum(c) > 0)


@settings(max_examples=200, deadline=None)
@given(COUNTS)
def test_total_length_equals_the_reference_and_is_within_one_bit_of_the_entropy(counts):
    lengths = huffman_lengths(counts)
    total = encoded_bits(counts, lengths)
    assert total == reference_total_bits(counts)
    assert np.all((lengths > 0) == (np.array(counts) > 0))
    if sum(1 for c in counts if c) >= 2:
        # per-symbol lengths may differ under ties, the total (optimal) may not
        assert total == sum(counts[s] * n for s, n in reference_lengths(counts).items())
        h, average = entropy_bits(counts), total / sum(counts)
        assert h - 1e-9 <= average < h + 1


def test_known_lengths_and_deterministic_ties():
    assert huffman_lengths([5, 2, 1, 1, 0]).tolist() == [1, 2, 3, 3, 0]
    # all equal: a complete tree; the same answer every time
    assert huffman_lengths([1] * 8).tolist() == [3] * 8
    assert huffman_lengths([1, 1, 1]).tolist() == huffman_lengths([1, 1, 1]).tolist() == [2, 2, 1]


def test_edge_cases_one_symbol_and_zero_counts():
    assert huffman_lengths([0, 7, 0]).tolist() == [0, 1, 0]
    assert huffman_lengths([0, 0]).tolist() == [0, 0]
    data, n_bits = huffman_encode([1] * 7, [0, 1, 0])
    assert (data, n_bits) == (b"\x00", 7)
    assert huffman_decode(data, [0, 1, 0], 7).tolist() == [1] * 7
    assert huffman_encode([], [0, 0]) == (b"", 0)
    assert huffman_decode(b"", [0, 0], 0).size == 0
    assert entropy_bits([0, 9]) == 0.0


def test_canonical_codes_are_a_prefix_code_in_order():
    lengths = huffman_lengths([50, 20, 10, 10, 5, 3, 1, 1])
    codes = canonical_codes(lengths)
    words = [format(int(c), f"0{n}b") for c, n in zip(codes, lengths)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)
    ranked = sorted(range(8), key=lambda s: (lengths[s], s))
    # left-aligned to the longest length, the codewords increase in (length, symbol) order
    width = int(lengths.max())
    aligned = [int(codes[s]) << (width - int(lengths[s])) for s in ranked]
    assert aligned == sorted(aligned) and len(set(aligned)) == 8


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 11), min_size=0, max_size=400), st.integers(12, 20))
def test_encode_decode_round_trip_with_exact_bit_count(message, n_symbols):
    counts = np.bincount(np.array(message, dtype=np.int64), minlength=n_symbols)
    lengths = huffman_lengths(counts)
    data, n_bits = huffman_encode(message, lengths)
    assert n_bits == (encoded_bits(counts, lengths) if message else 0)
    assert len(data) == -(-n_bits // 8)
    np.testing.assert_array_equal(huffman_decode(data, lengths, len(message)), message)


def test_round_trip_of_a_skewed_long_message():
    gen = np.random.default_rng(1)
    message = np.minimum(gen.geometric(0.3, size=50_000) - 1, 31)
    lengths = huffman_lengths(np.bincount(message, minlength=32))
    data, n_bits = huffman_encode(message, lengths)
    assert n_bits < 5 * message.size  # fewer bits than the fixed 5-bit code
    np.testing.assert_array_equal(huffman_decode(data, lengths, message.size), message)


def test_decoding_too_few_bits_raises():
    data, _ = huffman_encode([0, 1, 2], [1, 2, 2])
    with pytest.raises(ValueError, match="data ends or is corrupt after"):
        huffman_decode(data, [1, 2, 2], 7)
