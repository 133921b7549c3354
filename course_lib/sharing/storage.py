"""A weight-shared layer as a real file: codebook, Huffman-coded indices and gaps, a header. NumPy only.

The bytes the course reports for a Deep-Compressed layer are the size of this file
(:func:`write_layer` returns ``os.path.getsize``), not a formula: everything needed to rebuild the
layer exactly is in it, and :func:`read_layer` does so.

Layout of a layer (little-endian)::

    magic b"DCWS", version 1, ndim, flags (bit 0: dense, no gaps), gap bits     4 + 4 x uint8
    shape                                                                        ndim x uint32
    k (codebook size), entries, bits of the index stream, bits of the gap stream  2 x uint32, 2 x uint64
    codebook                                                                      k x float32
    code lengths of the index symbols 0 .. k                                      (k + 1) x uint8
    code lengths of the gaps 0 .. 2**gap_bits - 1 (not when dense)                2**gap_bits x uint8
    index stream, then gap stream (Huffman, canonical, MSB first, padded to a byte)

Index symbol ``s >= 1`` is centroid ``s - 1``; symbol ``0`` is a filler zero of the relative
format (:mod:`.relative`). A layer with no pruned weight is stored *dense*: its indices in order,
no gaps. :func:`write_layers` puts several layers and plain float32 arrays (biases) in one file.
"""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from .._validation import check_choice, check_float_array, check_int, check_int_array, check_path, check_text, to_numpy
from .huffman import huffman_decode, huffman_encode, huffman_lengths
from .kmeans import check_mask, index_dtype
from .relative import relative_decode, relative_encode

__all__ = ["encode_layer", "decode_layer", "layer_sections", "write_layer", "read_layer", "write_layers",
           "read_layers", "default_gap_bits", "fixed_lengths", "CODINGS", "MAX_WEIGHTS"]

_MAGIC, _MODEL_MAGIC, _VERSION = b"DCWS", b"DCWM", 1
_HEAD = struct.Struct("<4sBBBB")
_COUNTS = struct.Struct("<IIQQ")


def default_gap_bits(ndim: int) -> int:
    """Han et al.'s gap width: 8 bits for a convolution's weights (4-D), 5 for a fully connected layer's."""
    return 8 if check_int("ndim", ndim, minimum=0) == 4 else 5


def _check_layer(codebook, indices, mask, gap_bits):
    book = check_float_array("codebook", codebook, ndim=1)
    if book.size > 2**16:
        raise ValueError(f"codebook has {book.size} centroids, must have at most 65536 (16-bit indices).")
    idx = check_int_array("indices", indices, low=0, high=book.size - 1)
    if idx.ndim > 255 or any(n >= 2**32 for n in idx.shape) or idx.size > MAX_WEIGHTS:
        raise ValueError(f"indices has shape {idx.shape}, must have < 256 dimensions of < 2**32 each and at most "
                         f"{MAX_WEIGHTS} weights (MAX_WEIGHTS).")
    mask = check_mask(mask, idx.shape)
    gap_bits = default_gap_bits(idx.ndim) if gap_bits is None else check_int("gap_bits", gap_bits, minimum=1,
                                                                               maximum=16)
    return book.astype(np.float32), idx, mask, gap_bits


#: the most weights a layer of this format holds (decoding allocates a few bytes per weight)
MAX_WEIGHTS = 2**26

#: the codings of the index and gap streams: Huffman's, or every symbol that occurs in the same width
CODINGS = ("huffman", "fixed")


def fixed_lengths(counts) -> np.ndarray:
    """Code lengths of a fixed-width code: ``ceil(log2(m))`` bits (at least 1) for each of the ``m`` symbols
    that occur, 0 for the others -- a (canonical) prefix code like Huffman's, so the same decoder reads it.

    Examples
    --------
    >>> fixed_lengths([5, 0, 1, 1]).tolist()
    [2, 0, 2, 2]
    """
    used = np.asarray(counts) > 0
    width = max(1, math.ceil(math.log2(max(int(used.sum()), 1))))
    return np.where(used, width, 0).astype(np.int64)


def _stream(symbols: np.ndarray, n_symbols: int, coding: str = "huffman") -> tuple[np.ndarray, bytes, int]:
    counts = np.bincount(symbols, minlength=n_symbols)
    lengths = huffman_lengths(counts) if coding == "huffman" else fixed_lengths(counts)
    data, n_bits = huffman_encode(symbols, lengths)
    return lengths, data, n_bits


def layer_sections(codebook, indices, mask=None, *, gap_bits: int | None = None,
                   coding: str = "huffman") -> dict[str, bytes]:
    """The parts of :func:`encode_layer`'s bytes, by name, in file order (their sizes explain the file's).

    ``coding="fixed"`` writes every occurring symbol of a stream in the same number of bits
    (:func:`fixed_lengths`): the file of the stage before Huffman coding, read by the same decoder.

    Returns
    -------
    dict of str -> bytes
        ``"header"``, ``"codebook"``, ``"index lengths"``, ``"gap lengths"``, ``"indices"``, ``"gaps"``
        (the gap parts are empty for a dense layer). Concatenated, they are the layer's bytes.

    Examples
    --------
    >>> parts = layer_sections(np.array([-1.0, 1.0]), np.array([[0, 1], [1, 1]]))
    >>> {name: len(b) for name, b in parts.items()}
    {'header': 40, 'codebook': 8, 'index lengths': 3, 'gap lengths': 0, 'indices': 1, 'gaps': 0}
    """
    book, idx, mask, gap_bits = _check_layer(codebook, indices, mask, gap_bits)
    coding = check_choice("coding", coding, CODINGS)
    k = book.size
    dense = mask is None or bool(mask.all())
    symbols = idx.ravel().astype(np.int64) + 1
    gap_lengths, gap_data, gap_nbits = np.zeros(0, dtype=np.int64), b"", 0
    if not dense:
        gaps, symbols = relative_encode(np.where(mask.ravel(), symbols, 0), gap_bits)
        gap_lengths, gap_data, gap_nbits = _stream(gaps.astype(np.int64), 2**gap_bits, coding)
    index_lengths, index_data, index_nbits = _stream(symbols, k + 1, coding)
    header = (_HEAD.pack(_MAGIC, _VERSION, idx.ndim, int(dense), gap_bits)
              + struct.pack(f"<{idx.ndim}I", *idx.shape) + _COUNTS.pack(k, symbols.size, index_nbits, gap_nbits))
    return {"header": header, "codebook": book.astype("<f4").tobytes(),
            "index lengths": index_lengths.astype(np.uint8).tobytes(),
            "gap lengths": gap_lengths.astype(np.uint8).tobytes(), "indices": index_data, "gaps": gap_data}


def encode_layer(codebook, indices, mask=None, *, gap_bits: int | None = None, coding: str = "huffman") -> bytes:
    """A weight-shared layer as bytes (the layout in the module's docstring).

    Parameters
    ----------
    codebook : array_like of real numbers, shape (k,)
        The centroids, stored as float32; ``k <= 65536``.
    indices : array_like of ints in ``[0, k)``
        One per weight, the layer's shape.
    mask : bool array of the indices' shape, or None
        ``True`` where the weight is kept; pruned weights are stored only as gaps. ``None`` (or all
        True): the layer is stored dense.
    gap_bits : int or None, keyword-only
        Width of a relative gap, 1 to 16; ``None``: 8 for a 4-D (convolution) layer, else 5.
    coding : {"huffman", "fixed"}, keyword-only
        Huffman codes, or one width for every symbol that occurs (:func:`fixed_lengths`).

    Returns
    -------
    bytes

    Raises
    ------
    TypeError, ValueError
        On an index out of range, a mask of another shape, or a bad ``gap_bits``.
    """
    return b"".join(layer_sections(codebook, indices, mask, gap_bits=gap_bits, coding=coding).values())


def _take(data: bytes, start: int, n: int, what: str) -> tuple[bytes, int]:
    if start + n > len(data):
        raise ValueError(f"data ends inside the {what} ({len(data)} bytes, need {start + n}), must be a whole layer.")
    return data[start:start + n], start + n


def _check_counts(n_bytes: int, size: int, dense: bool, gap_bits: int, k: int, n_entries: int, index_nbits: int,
                  gap_nbits: int) -> None:
    """Refuse a header whose counts the data cannot hold -- before anything of their size is allocated."""
    streams = -(-index_nbits // 8) + (0 if dense else -(-gap_nbits // 8))
    problems = []
    if not 1 <= k <= 2**16:
        problems.append(f"k == {k} centroids, must be 1 to 65536")
    if 8 * n_bytes < index_nbits + gap_nbits or streams > n_bytes:
        problems.append(f"streams of {index_nbits} + {gap_nbits} bits, must fit in the {n_bytes} bytes")
    if n_entries > index_nbits or (not dense and n_entries > gap_nbits):
        problems.append(f"{n_entries} entries in {index_nbits} and {gap_nbits} bits, must take >= 1 bit each")
    if size > MAX_WEIGHTS:
        problems.append(f"{size} weights, must be at most {MAX_WEIGHTS} (MAX_WEIGHTS)")
    if (dense and size != n_entries) or size < n_entries:
        problems.append(f"{size} weights for {n_entries} entries, must be {'as many' if dense else 'at least as many'}")
    if problems:
        raise ValueError(f"data has a header that does not fit it ({'; '.join(problems)}), must be a whole layer.")


def decode_layer(data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codebook, indices, mask)`` from :func:`encode_layer`'s bytes.

    Returns
    -------
    codebook : ndarray of float32, shape (k,)
    indices : ndarray of uint8 (k <= 256) or uint16, the layer's shape
        0 where the weight is pruned.
    mask : ndarray of bool, the layer's shape
        All True for a dense layer.

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not bytes, or not a whole layer of this format.

    Examples
    --------
    >>> data = encode_layer(np.array([-1.0, 1.0]), np.array([[0, 1], [1, 1]]), np.array([[True, False], [True, True]]))
    >>> book, idx, mask = decode_layer(data)
    >>> book.tolist(), idx.tolist(), mask.tolist()
    ([-1.0, 1.0], [[0, 0], [1, 1]], [[True, False], [True, True]])
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}.")
    data = bytes(data)
    head, pos = _take(data, 0, _HEAD.size, "header")
    magic, version, ndim, flags, gap_bits = _HEAD.unpack(head)
    if magic != _MAGIC or version != _VERSION:
        raise ValueError(f"data starts with {magic!r} version {version}, "
                         f"must be a {_MAGIC!r} version {_VERSION} layer.")
    dense = bool(flags & 1)
    if flags > 1 or not 1 <= gap_bits <= 16:
        raise ValueError(f"data has flags {flags} and gap bits {gap_bits}, must have flags 0 or 1 and 1 to 16 "
                         "gap bits.")
    raw, pos = _take(data, pos, 4 * ndim, "shape")
    shape = struct.unpack(f"<{ndim}I", raw)
    raw, pos = _take(data, pos, _COUNTS.size, "header")
    k, n_entries, index_nbits, gap_nbits = _COUNTS.unpack(raw)
    _check_counts(len(data), math.prod(shape), dense, gap_bits, k, n_entries, index_nbits, gap_nbits)
    raw, pos = _take(data, pos, 4 * k, "codebook")
    book = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    raw, pos = _take(data, pos, k + 1, "index code lengths")
    index_lengths = np.frombuffer(raw, dtype=np.uint8).astype(np.int64)
    if not dense:
        raw, pos = _take(data, pos, 2**gap_bits, "gap code lengths")
        gap_lengths = np.frombuffer(raw, dtype=np.uint8).astype(np.int64)
    raw, pos = _take(data, pos, -(-index_nbits // 8), "index stream")
    symbols = huffman_decode(raw, index_lengths, n_entries)
    size = math.prod(shape)
    if not dense:
        raw, pos = _take(data, pos, -(-gap_nbits // 8), "gap stream")
        symbols = relative_decode(huffman_decode(raw, gap_lengths, n_entries), symbols, size)
    if pos != len(data) or symbols.size != size:
        raise ValueError(f"data holds {len(data)} bytes and {symbols.size} weights, must be exactly one layer "
                         f"({pos} bytes, {size} weights).")
    mask = (symbols > 0).reshape(shape)
    indices = np.where(mask, symbols.reshape(shape) - 1, 0).astype(index_dtype(k))
    return book, indices, mask


def write_layer(path, codebook, indices, mask=None, *, gap_bits: int | None = None) -> int:
    """Write :func:`encode_layer`'s bytes to ``path``; returns the file's size (``os.path.getsize``).

    Raises
    ------
    TypeError, ValueError
        As :func:`encode_layer`, or if ``path`` is not a file in an existing folder (checked first).
    """
    path = check_path("path", path, parent_must_exist=True)
    if path.is_dir():
        raise ValueError(f"path == {str(path)!r} is a folder, must name the file to write.")
    data = encode_layer(codebook, indices, mask, gap_bits=gap_bits)
    path.write_bytes(data)
    return os.path.getsize(path)


def read_layer(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codebook, indices, mask)`` from a file of :func:`write_layer` (:func:`decode_layer`)."""
    return decode_layer(check_path("path", path, must_exist=True).read_bytes())


def _name_bytes(name: str, what: str) -> bytes:
    raw = check_text(what, name).encode()
    if len(raw) > 65535:
        raise ValueError(f"{what} == {name[:40]!r}... is {len(raw)} bytes long, must be < 65536.")
    return struct.pack("<H", len(raw)) + raw


def write_layers(path, layers: dict, arrays: dict | None = None, *, coding: str = "huffman") -> int:
    """Several weight-shared layers and plain float32 arrays (biases) in one file; returns its size.

    Parameters
    ----------
    path : str or path
        The file to write, in an existing folder.
    layers : dict of str -> (codebook, indices, mask)
        Each stored as :func:`encode_layer` (default gap width) after its name.
    arrays : dict of str -> float array, or None
        Stored as float32, with name and shape.
    coding : {"huffman", "fixed"}, keyword-only
        The streams' coding (:func:`encode_layer`).

    Returns
    -------
    int
        The file's size in bytes.

    Raises
    ------
    TypeError, ValueError
        On a bad path, a layer that is not a ``(codebook, indices, mask)`` triple, or a bad array,
        all checked before the file is written.
    """
    path = check_path("path", path, parent_must_exist=True)
    if path.is_dir():
        raise ValueError(f"path == {str(path)!r} is a folder, must name the file to write.")
    if not isinstance(layers, dict):
        raise TypeError(f"layers must be a dict of name -> (codebook, indices, mask), got {type(layers).__name__}.")
    coding = check_choice("coding", coding, CODINGS)
    arrays = {} if arrays is None else arrays
    if not isinstance(arrays, dict):
        raise TypeError(f"arrays must be a dict of name -> float array or None, got {type(arrays).__name__}.")
    parts = [_MODEL_MAGIC, struct.pack("<I", len(layers))]
    for name, triple in layers.items():
        if not isinstance(triple, (tuple, list)) or len(triple) != 3:
            raise TypeError(f"layers[{name!r}] must be a (codebook, indices, mask) tuple, got {type(triple).__name__}.")
        section = encode_layer(*triple, coding=coding)
        parts += [_name_bytes(name, "layers' name"), struct.pack("<Q", len(section)), section]
    parts.append(struct.pack("<I", len(arrays)))
    for name, value in arrays.items():
        arr = check_float_array(f"arrays[{name!r}]", to_numpy(value), allow_empty=True).astype("<f4")
        parts += [_name_bytes(name, "arrays' name"), struct.pack(f"<B{arr.ndim}I", arr.ndim, *arr.shape),
                  arr.tobytes()]
    path.write_bytes(b"".join(parts))
    return os.path.getsize(path)


def read_layers(path) -> tuple[dict, dict]:
    """``(layers, arrays)`` from a file of :func:`write_layers`: the triples and the float32 arrays by name."""
    data = check_path("path", path, must_exist=True).read_bytes()
    magic, pos = _take(data, 0, 4, "header")
    if magic != _MODEL_MAGIC:
        raise ValueError(f"path holds a file starting with {magic!r}, must start with {_MODEL_MAGIC!r}.")

    def name_at(pos):
        raw, pos = _take(data, pos, 2, "name")
        raw, end = _take(data, pos, struct.unpack("<H", raw)[0], "name")
        return raw.decode(), end

    layers, arrays = {}, {}
    raw, pos = _take(data, pos, 4, "header")
    for _ in range(struct.unpack("<I", raw)[0]):
        name, pos = name_at(pos)
        raw, pos = _take(data, pos, 8, "section length")
        section, pos = _take(data, pos, struct.unpack("<Q", raw)[0], f"layer {name!r}")
        layers[name] = decode_layer(section)
    raw, pos = _take(data, pos, 4, "array count")
    for _ in range(struct.unpack("<I", raw)[0]):
        name, pos = name_at(pos)
        raw, pos = _take(data, pos, 1, f"array {name!r}")
        ndim = raw[0]
        raw, pos = _take(data, pos, 4 * ndim, f"array {name!r}")
        shape = struct.unpack(f"<{ndim}I", raw)
        raw, pos = _take(data, pos, 4 * math.prod(shape), f"array {name!r}")
        arrays[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
    if pos != len(data):
        raise ValueError(f"path has {len(data) - pos} bytes after the last array, must end there.")
    return layers, arrays
