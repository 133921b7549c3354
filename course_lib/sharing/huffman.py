"""Huffman coding from scratch: optimal prefix-code lengths, canonical codes, bit packing. NumPy only.

Deep Compression's third stage: the cluster indices (and the gaps of the sparse format) are not
uniformly distributed, so a variable-length code spends fewer bits on frequent symbols. Huffman's
algorithm gives the prefix code of least total length for a histogram; only the code *lengths*
need storing, because the *canonical* code assigns the codewords from the lengths alone (as
DEFLATE does).
"""

from __future__ import annotations

import heapq

import numpy as np

from .._validation import check_int, check_int_array

__all__ = ["huffman_lengths", "canonical_codes", "huffman_encode", "huffman_decode", "encoded_bits",
           "entropy_bits", "MAX_CODE_LENGTH"]

#: The longest codeword the encoder packs (bits): more would need a count above the Fibonacci number F(64).
MAX_CODE_LENGTH = 63


def _check_counts(counts) -> np.ndarray:
    arr = check_int_array("counts", counts, ndim=1, low=0)
    return arr.astype(np.int64)


def huffman_lengths(counts) -> np.ndarray:
    """The Huffman code length of each symbol, from its count; deterministic under ties.

    Parameters
    ----------
    counts : array_like of ints >= 0, shape (n_symbols,)
        How often each symbol ``0 .. n_symbols-1`` occurs.

    Returns
    -------
    ndarray of int64, shape (n_symbols,)
        ``0`` for a symbol that never occurs; a single occurring symbol gets length 1 (one bit per
        occurrence: a code needs at least one bit to be read back); otherwise Huffman's lengths.

    Raises
    ------
    TypeError, ValueError
        If ``counts`` is not a 1-D array of non-negative integers, or is empty.

    Notes
    -----
    Huffman's algorithm: put every occurring symbol in a priority queue keyed by its count,
    repeatedly merge the two lightest nodes into one whose count is their sum, until one tree is
    left; a symbol's length is its depth. **Ties** are broken by an order number: leaves are
    numbered by symbol, each merged node gets the next number after all leaves, and the queue pops
    the smaller ``(count, number)`` first -- so the lengths are a function of the counts alone.
    Any other tie rule may give other lengths but the same total ``sum(counts * lengths)``, which
    is the minimum over all prefix codes and lies in ``[H, H + 1)`` bits per symbol for a source
    of entropy ``H`` (:func:`entropy_bits`).

    Examples
    --------
    >>> huffman_lengths([5, 2, 1, 1, 0])
    array([1, 2, 3, 3, 0])
    """
    c = _check_counts(counts)
    lengths = np.zeros(c.size, dtype=np.int64)
    symbols = np.flatnonzero(c)
    if symbols.size == 1:
        lengths[symbols[0]] = 1
    if symbols.size <= 1:
        return lengths
    # nodes 0 .. n-1 are the leaves (symbols), merged nodes are numbered on from n; parent[] records the tree
    parent = np.full(2 * c.size, -1, dtype=np.int64)
    heap = [(int(c[s]), int(s)) for s in symbols]
    heapq.heapify(heap)
    order = c.size
    while len(heap) > 1:
        count_a, a = heapq.heappop(heap)
        count_b, b = heapq.heappop(heap)
        parent[a] = parent[b] = order
        heapq.heappush(heap, (count_a + count_b, order))
        order += 1
    depth = np.zeros(order, dtype=np.int64)
    for node in range(order - 2, -1, -1):  # a parent is numbered after its children: root first
        if parent[node] >= 0:
            depth[node] = depth[parent[node]] + 1
    lengths[symbols] = depth[symbols]
    return lengths


def _check_lengths(lengths) -> np.ndarray:
    arr = check_int_array("lengths", lengths, ndim=1, low=0, high=MAX_CODE_LENGTH).astype(np.int64)
    used = arr[arr > 0]
    if sum(1 << (MAX_CODE_LENGTH - int(n)) for n in used.tolist()) > 1 << MAX_CODE_LENGTH:
        raise ValueError(f"lengths {arr.tolist()[:20]} break Kraft's inequality (sum 2**-length > 1), "
                         f"must be the lengths of a prefix code.")
    return arr


def canonical_codes(lengths) -> np.ndarray:
    """The canonical prefix code of the given lengths: each symbol's codeword as an integer.

    Parameters
    ----------
    lengths : array_like of ints in ``[0, 63]``, shape (n_symbols,)
        ``0`` = the symbol has no codeword; they must satisfy Kraft's inequality.

    Returns
    -------
    ndarray of uint64, shape (n_symbols,)
        Codeword ``j`` is read as the ``lengths[j]`` low bits, most significant first (0 where the
        length is 0).

    Raises
    ------
    TypeError, ValueError
        On lengths that are not integers in range or no prefix code can have.

    Notes
    -----
    Sort the symbols by ``(length, symbol)``; the first gets ``0``, each next one the previous
    codeword plus one, shifted left by the increase in length. Codes of one length are
    consecutive integers, so a decoder needs only the lengths.

    Examples
    --------
    >>> [format(int(c), f"0{n}b") for c, n in zip(canonical_codes([1, 2, 3, 3]), [1, 2, 3, 3])]
    ['0', '10', '110', '111']
    """
    n = _check_lengths(lengths)
    codes = np.zeros(n.size, dtype=np.uint64)
    code, previous = 0, 0
    for s in sorted(np.flatnonzero(n), key=lambda s: (n[s], s)):
        code <<= int(n[s]) - previous
        previous = int(n[s])
        codes[s] = code
        code += 1
    return codes


def encoded_bits(counts, lengths) -> int:
    """The exact number of bits of the coded message: ``sum(counts * lengths)``.

    Examples
    --------
    >>> encoded_bits([5, 2, 1, 1], [1, 2, 3, 3])
    15
    """
    c, n = _check_counts(counts), _check_lengths(lengths)
    if c.shape != n.shape:
        raise ValueError(f"counts has {c.size} symbols, must have as many as lengths ({n.size}).")
    if np.any((c > 0) & (n == 0)):
        raise ValueError("lengths gives no codeword to a symbol that counts says occurs, must give each one.")
    return int(np.sum(c * n))


def entropy_bits(counts) -> float:
    """The entropy of the histogram, in bits per symbol: ``H = -sum p log2 p`` (0 for one symbol).

    Examples
    --------
    >>> entropy_bits([1, 1, 2])
    1.5
    """
    c = _check_counts(counts)
    if c.sum() == 0:
        raise ValueError("counts are all 0, must count at least one symbol.")
    p = c[c > 0] / c.sum()
    return float(-np.sum(p * np.log2(p))) + 0.0


def huffman_encode(symbols, lengths) -> tuple[bytes, int]:
    """Encode ``symbols`` with the canonical code of ``lengths``; returns ``(data, n_bits)``.

    Parameters
    ----------
    symbols : array_like of ints in ``[0, n_symbols)``
        The message (read flat); may be empty.
    lengths : array_like of ints, shape (n_symbols,)
        The code lengths (:func:`huffman_lengths`); every symbol in the message needs one > 0.

    Returns
    -------
    data : bytes
        The codewords one after the other, most significant bit first, packed 8 to a byte; the
        last byte is padded with zero bits. ``len(data) == ceil(n_bits / 8)``.
    n_bits : int
        The exact number of bits, ``sum(lengths[symbols])``.

    Raises
    ------
    TypeError, ValueError
        If a symbol is out of range or has no codeword, or the lengths are not a prefix code's.

    Examples
    --------
    >>> huffman_encode([0, 1, 0, 3], [1, 2, 3, 3])  # 0 10 0 111, then one padding bit: 0b01001110
    (b'N', 7)
    """
    n = _check_lengths(lengths)
    if isinstance(symbols, (list, tuple)) and len(symbols) == 0:
        symbols = np.zeros(0, dtype=np.int64)  # [] is float64 to NumPy
    msg = check_int_array("symbols", symbols, low=0, high=n.size - 1, allow_empty=True).ravel().astype(np.intp)
    if msg.size and np.any(n[msg] == 0):
        bad = int(msg[n[msg] == 0][0])
        raise ValueError(f"symbols holds {bad}, which has no codeword (lengths[{bad}] == 0), must all have one.")
    codes = canonical_codes(n)
    if msg.size == 0:
        return b"", 0
    width = int(n[msg].max())
    lens = n[msg]
    # row i: the codeword of symbol i, left-aligned in `width` bits; keep its first lens[i] bits
    aligned = codes[msg] << (width - lens).astype(np.uint64)
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64)
    bits = ((aligned[:, None] >> shifts[None, :]) & np.uint64(1)).astype(np.uint8)
    keep = np.arange(width)[None, :] < lens[:, None]
    return np.packbits(bits[keep]).tobytes(), int(lens.sum())


def huffman_decode(data, lengths, count: int) -> np.ndarray:
    """Decode ``count`` symbols from ``data`` written by :func:`huffman_encode` with the same lengths.

    Parameters
    ----------
    data : bytes
        The packed codewords.
    lengths : array_like of ints, shape (n_symbols,)
        The code lengths used to encode.
    count : int
        How many symbols to read (>= 0); the padding bits after them are ignored.

    Returns
    -------
    ndarray of int64, shape (count,)

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not bytes, the lengths are not a prefix code's, or the data run out (or
        hold a bit pattern no codeword starts) before ``count`` symbols.

    Notes
    -----
    For every bit position the next ``L`` bits (``L`` the longest length) are read as an integer
    ``w``, in one vectorised pass; a codeword of length ``l`` starts there when
    ``w >> (L - l)`` falls among the canonical codes of length ``l``. The symbols are then
    chained: the next one starts where the previous one ended.

    Examples
    --------
    >>> huffman_decode(b'N', [1, 2, 3, 3], 4)
    array([0, 1, 0, 3])
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}.")
    n = _check_lengths(lengths)
    count = check_int("count", count, minimum=0)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.any(n):
        raise ValueError("lengths are all 0 (no codeword), must give one to the symbols to decode.")
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8)).astype(np.uint64)
    width = int(n.max())
    padded = np.concatenate([bits, np.zeros(width, dtype=np.uint64)])
    windows = np.zeros(bits.size, dtype=np.uint64)
    for j in range(width):
        windows = (windows << np.uint64(1)) | padded[j:j + bits.size]
    codes = canonical_codes(n)
    symbol_at = np.full(bits.size, -1, dtype=np.int64)
    length_at = np.zeros(bits.size, dtype=np.int64)
    for length in np.unique(n[n > 0])[::-1]:  # a prefix code: at most one length matches a position
        of_length = np.flatnonzero(n == length)
        ordered = of_length[np.argsort(codes[of_length], kind="stable")]
        first = codes[ordered[0]]
        top = windows >> np.uint64(width - int(length))
        offset = top - first
        hit = (top >= first) & (offset < np.uint64(ordered.size))
        symbol_at[hit] = ordered[offset[hit].astype(np.intp)]
        length_at[hit] = length
    out = np.empty(count, dtype=np.int64)
    symbol_list, length_list = symbol_at.tolist(), length_at.tolist()
    pos, end = 0, bits.size
    for i in range(count):
        if pos >= end or symbol_list[pos] < 0 or pos + length_list[pos] > end:
            raise ValueError(f"data ends or is corrupt after {i} of count == {count} symbols, must hold them all.")
        out[i] = symbol_list[pos]
        pos += length_list[pos]
    return out
