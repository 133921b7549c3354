"""Readers for the course's data file formats: MNIST's IDX files and CIFAR-10's python batches.

Every reader checks what it reads and raises :class:`CorruptDataError`, whose message
names the file and says how to get a fresh copy (:data:`FIX_HINT`). CIFAR-10 batches
are unpickled with a restricted unpickler, so a tampered file cannot run code.
The loaders built on them are in :mod:`course_lib.data`, which re-exports these names.
"""

from __future__ import annotations

import gzip
import os
import pickle
import zlib
from pathlib import Path

import numpy as np

from .._validation import check_int, check_path

__all__ = ["CorruptDataError", "FIX_HINT", "read_bytes", "read_idx", "read_cifar_batch"]

FIX_HINT = "Delete it and run `python -m course_lib.data --download` to fetch a fresh copy."


class CorruptDataError(ValueError):
    """A data file exists but does not have the expected format or size."""


# --------------------------------------------------------------------------- readers

def read_bytes(path: Path) -> bytes:
    """Read a whole file, un-gzipping it when its name ends in ``.gz``.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    bytes
        Its (decompressed) content.

    Raises
    ------
    CorruptDataError
        If the file cannot be read or is not valid gzip.
    """
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptDataError(f"{path}: cannot be read ({exc}). {FIX_HINT}") from exc


def read_idx(path: str | os.PathLike, *, expected_ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (MNIST's format) into a uint8 array.

    The header is a 4-byte magic number ``0x00 0x00 0x08 ndim`` (0x08: unsigned
    byte) followed by ``ndim`` big-endian int32 sizes; the data follows.

    Parameters
    ----------
    path : str or path
        The IDX file, raw or gzipped (``.gz``).
    expected_ndim : int, keyword-only
        The number of dimensions the file must have (3 for images, 1 for labels).

    Returns
    -------
    numpy.ndarray
        A read-only uint8 array of the shape given in the header.

    Raises
    ------
    TypeError, ValueError
        If ``path`` is not a path to an existing file, or ``expected_ndim`` not an int in 1..255.
    CorruptDataError
        If the file cannot be read, has the wrong magic number, or its size does
        not match its header.
    """
    path = check_path("path", path, must_exist=True)
    expected_ndim = check_int("expected_ndim", expected_ndim, minimum=1, maximum=255)
    raw = read_bytes(path)
    expected_magic = 0x0800 + expected_ndim
    if len(raw) < 4:
        raise CorruptDataError(f"{path}: {len(raw)} bytes, too short for an IDX header. {FIX_HINT}")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise CorruptDataError(f"{path}: magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
                               f"(IDX, unsigned bytes, {expected_ndim} dimension(s)). {FIX_HINT}")
    header = 4 + 4 * expected_ndim
    if len(raw) < header:
        raise CorruptDataError(f"{path}: truncated header ({len(raw)} bytes). {FIX_HINT}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(expected_ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise CorruptDataError(f"{path}: {len(raw)} bytes, expected {expected} for shape {shape} "
                               f"(the file is truncated or has extra data). {FIX_HINT}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


class _BatchUnpickler(pickle.Unpickler):
    """Unpickle a CIFAR-10 batch without running arbitrary code.

    The official batches hold only dicts, lists, strings and NumPy arrays, so
    only the NumPy reconstruction helpers are allowed as globals.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        # what Python 3 re-saves of a batch use (protocols 0-2 and 5)
        ("_codecs", "encode"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")


def read_cifar_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch.

    Parameters
    ----------
    path : str or path
        A batch file (``data_batch_1`` .. ``data_batch_5``, ``test_batch``).

    Returns
    -------
    images : numpy.ndarray
        uint8 array of shape (N, 32, 32, 3), channels last.
    labels : numpy.ndarray
        int64 array of shape (N,), values 0..9.

    Raises
    ------
    TypeError, ValueError
        If ``path`` is not a path to an existing file.
    CorruptDataError
        If the file is not a readable pickle of a dict with ``data`` (N, 3072)
        uint8 and ``labels`` (N integers in 0..9).
    """
    path = check_path("path", path, must_exist=True)
    try:
        with open(path, "rb") as f:
            batch = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as exc:  # truncated pickles raise many kinds of errors
        raise CorruptDataError(f"{path}: not a readable CIFAR-10 batch ({type(exc).__name__}: {exc}). "
                               f"{FIX_HINT}") from exc
    if not isinstance(batch, dict):
        raise CorruptDataError(f"{path}: holds a {type(batch).__name__}, expected a dict. {FIX_HINT}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    missing = [k for k in ("data", "labels") if k not in batch]
    if missing:
        raise CorruptDataError(f"{path}: missing key(s) {missing}, found {sorted(batch)}. {FIX_HINT}")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise CorruptDataError(f"{path}: 'data' has shape {data.shape} and dtype {data.dtype}, "
                               f"expected (N, 3072) uint8. {FIX_HINT}")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise CorruptDataError(f"{path}: labels of dtype {labels.dtype}, expected integers 0..9. {FIX_HINT}")
    if labels.shape != (data.shape[0],):
        raise CorruptDataError(f"{path}: {labels.size} labels for {data.shape[0]} images. {FIX_HINT}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CorruptDataError(f"{path}: labels range {labels.min()}..{labels.max()}, expected 0..9. "
                               f"{FIX_HINT}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)
