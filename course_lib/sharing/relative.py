"""Deep Compression's sparse format: the positions of the non-zeros as small relative gaps. NumPy only.

Instead of each non-zero's absolute position (an ``int32`` column index in CSR), Han et al. store
how far it is from the previous one, in ``b`` bits -- 8 for convolutions, 5 for fully connected
layers. A gap too long for ``b`` bits is bridged by **filler zeros**: explicit zero entries placed
``2**b`` positions on, each with its own (counted) value slot (Han, Mao & Dally, 2016, fig. 2).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_int_array, to_numpy

__all__ = ["relative_encode", "relative_decode", "filler_count", "gap_dtype"]


def gap_dtype(bits: int) -> np.dtype:
    """The array type that holds gaps of ``bits`` bits (1 to 16): uint8 up to 8 bits, else uint16."""
    bits = check_int("bits", bits, minimum=1, maximum=16)
    return np.dtype(np.uint8) if bits <= 8 else np.dtype(np.uint16)


def _check_dense(name: str, values) -> np.ndarray:
    arr = to_numpy(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype}.")
    if arr.ndim != 1:
        raise ValueError(f"{name} has {arr.ndim} dimension(s) (shape {arr.shape}), must be 1-D (pass .ravel()).")
    return arr


def _positions_and_fillers(values: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    positions = np.flatnonzero(values)
    skipped = np.diff(positions, prepend=-1) - 1  # zeros between one non-zero and the previous (or the start)
    return positions, skipped // 2**bits


def filler_count(values, bits: int) -> int:
    """How many filler zeros :func:`relative_encode` inserts: ``sum(gap // 2**bits)`` over the gaps.

    Examples
    --------
    >>> filler_count([0] * 20 + [1], 3)
    2
    """
    arr = _check_dense("values", values)
    bits = check_int("bits", bits, minimum=1, maximum=16)
    return int(_positions_and_fillers(arr, bits)[1].sum())


def relative_encode(values, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The non-zeros of a flat array as ``(gaps, entries)`` with ``bits``-bit gaps and filler zeros.

    Parameters
    ----------
    values : 1-D array_like of numbers
        The dense (flattened) layer; its zeros are not stored. Trailing zeros are implied by the
        length, which :func:`relative_decode` is told.
    bits : int
        Width of a gap, 1 to 16 (Han et al.: 8 for convolutions, 5 for fully connected layers).

    Returns
    -------
    gaps : ndarray of uint8 (bits <= 8) or uint16
        For each entry, the number of positions skipped since the previous entry (or since the
        start): each in ``[0, 2**bits - 1]``.
    entries : ndarray, dtype of ``values``
        The stored values, in order: the non-zeros, with a filler ``0`` wherever a gap would have
        exceeded ``2**bits - 1``.

    Raises
    ------
    TypeError, ValueError
        If ``values`` is not a 1-D numeric array or ``bits`` is not an int in 1..16.

    Notes
    -----
    Entry ``i`` sits at ``p_i = p_{i-1} + g_i + 1`` (``p_{-1} = -1``). A run of ``g`` zeros before
    a non-zero, ``g >= 2**bits``, becomes ``g // 2**bits`` fillers, each ``2**bits`` positions
    after the previous entry (gap ``2**bits - 1``), then the non-zero with gap ``g mod 2**bits``.
    Total storage: ``len(entries)`` value slots plus as many ``bits``-bit gaps.

    Examples
    --------
    >>> gaps, entries = relative_encode([0, 3.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5.0], 3)
    >>> gaps.tolist(), entries.tolist()
    ([1, 7, 3], [3.0, 0.0, 5.0])
    """
    arr = _check_dense("values", values)
    bits = check_int("bits", bits, minimum=1, maximum=16)
    positions, fillers = _positions_and_fillers(arr, bits)
    skipped = np.diff(positions, prepend=-1) - 1
    per_value = fillers + 1  # each non-zero brings its fillers, then itself
    n = int(per_value.sum())
    gaps = np.full(n, 2**bits - 1, dtype=np.int64)
    entries = np.zeros(n, dtype=arr.dtype)
    last = np.cumsum(per_value) - 1  # where each non-zero lands among the entries
    gaps[last] = skipped % 2**bits
    entries[last] = arr[positions]
    return gaps.astype(gap_dtype(bits)), entries


def relative_decode(gaps, entries, size: int) -> np.ndarray:
    """The dense flat array back from :func:`relative_encode`'s ``(gaps, entries)``.

    Parameters
    ----------
    gaps : 1-D array_like of ints >= 0
    entries : 1-D array_like of numbers, as long as ``gaps``
    size : int
        The dense length (>= the last entry's position + 1).

    Returns
    -------
    ndarray, shape (size,), dtype of ``entries``
        Zeros everywhere but at the entries' positions.

    Raises
    ------
    TypeError, ValueError
        If the arrays differ in length, a gap is negative, or the entries do not fit in ``size``.

    Examples
    --------
    >>> relative_decode([1, 7, 3], [3.0, 0.0, 5.0], 15).tolist()
    [0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 0.0]
    """
    g = check_int_array("gaps", gaps, ndim=1, low=0, allow_empty=True)
    e = _check_dense("entries", entries)
    size = check_int("size", size, minimum=0)
    if g.size != e.size:
        raise ValueError(f"gaps has {g.size} entries and entries {e.size}, must be as many.")
    positions = np.cumsum(g.astype(np.int64) + 1) - 1
    if positions.size and positions[-1] >= size:
        raise ValueError(f"size == {size}, must be > the last entry's position {int(positions[-1])}.")
    out = np.zeros(size, dtype=e.dtype)
    out[positions] = e
    return out
