"""MNIST and CIFAR-10 as NumPy arrays, read from their original file formats.

Where the data lives
--------------------
1. the ``data_dir`` argument, else
2. the ``COURSE_DATA_DIR`` environment variable, else
3. the repository's ``data/`` folder, found from this package's location (not from
   the working directory: Jupyter starts kernels in ``notebooks/``).

Inside that folder the layout is the one torchvision uses::

    MNIST/raw/train-images-idx3-ubyte[.gz]   (and the three other IDX files)
    cifar-10-batches-py/data_batch_1 .. 5, test_batch, batches.meta

Missing files are downloaded with torchvision's download utilities (md5 checks,
mirrors, a progress bar) into a temporary folder and moved into place only when
complete, so a failed download never leaves a partial file behind. Reading never
writes, so a read-only data folder works.

Run ``python -m course_lib.data`` for a status table, ``--download`` to fetch.

This module holds the public API (folder resolution, the loaders, the status CLI);
:mod:`course_lib.data.fetch` (file names, checksums, downloads) and
:mod:`course_lib.data.readers` (the IDX and CIFAR-10 batch readers) do the file work.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._validation import check_bool, check_choice, check_int, short_repr

# Defined in the two modules below and kept importable from here (``data.MNIST_MIRRORS``, ...).
from .fetch import (  # noqa: F401
    CIFAR10_BATCH_SIZE,
    CIFAR10_BATCHES,
    CIFAR10_FOLDER,
    CIFAR10_MD5,
    CIFAR10_URL,
    MNIST_FILES,
    MNIST_MIRRORS,
    MNIST_SIZES,
    DataNotFoundError,
    fetch_dataset,
    missing_files,
    mnist_path,
    not_found_message,
)
from .readers import FIX_HINT, CorruptDataError, read_cifar_batch, read_idx  # noqa: F401

__all__ = [
    "Dataset",
    "DataNotFoundError",
    "CorruptDataError",
    "MNIST_CLASSES",
    "CIFAR10_CLASSES",
    "data_dir",
    "load_mnist",
    "load_cifar10",
    "download",
    "data_status",
]

REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"

MNIST_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


class Dataset(NamedTuple):
    """A split of a data set: ``images, labels, classes = load_mnist("test")``."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple


# --------------------------------------------------------------------------- paths

def data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder the course reads data from (see the module docstring).

    Parameters
    ----------
    data_dir : str or path, optional
        An explicit folder; else ``$COURSE_DATA_DIR``, else the repository's ``data/``.

    Returns
    -------
    Path
        The folder, absolute (``~`` expanded).

    Raises
    ------
    TypeError
        If ``data_dir`` is not a str, a path or None.
    ValueError
        If ``data_dir`` (or ``$COURSE_DATA_DIR``) is an empty string or names a file, not a folder.
    """
    if data_dir is not None:
        if isinstance(data_dir, bytes) or not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a str, a path or None, got {type(data_dir).__name__} "
                            f"({short_repr(data_dir)}).")
        return _folder("data_dir", data_dir)
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        return _folder("COURSE_DATA_DIR", env)
    return REPO_DATA_DIR


def _folder(name: str, value) -> Path:
    """``value`` as an absolute folder path; refuses an empty string and an existing file."""
    if str(value) == "":
        raise ValueError(f"{name} is an empty string, must name a folder.")
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} == {str(path)!r} is a file, must be a folder (the one holding the data sets).")
    return path


# --------------------------------------------------------------------------- downloads

def download(dataset: str, *, data_dir: str | os.PathLike | None = None) -> Path:
    """Download ``"mnist"`` or ``"cifar10"`` if any of its files is missing.

    Files are fetched into a temporary folder next to the target and moved into
    place only once complete and checksummed.

    Parameters
    ----------
    dataset : {"mnist", "cifar10"}
        The data set.
    data_dir : str or path, optional
        The data folder; see :func:`data_dir`.

    Returns
    -------
    Path
        The data folder.

    Raises
    ------
    TypeError, ValueError
        For a bad ``dataset``.
    DataNotFoundError
        If the download fails (no network, unwritable folder): the message lists
        the files needed and where to put them.
    """
    check_choice("dataset", dataset, ("mnist", "cifar10"))
    root = globals()["data_dir"](data_dir)
    return fetch_dataset(dataset, root)


def _ensure(dataset: str, root: Path, download_missing: bool) -> None:
    missing = missing_files(dataset, root)
    if not missing:
        return
    if not download_missing:
        raise DataNotFoundError(not_found_message(dataset, root, missing, "download=False"))
    download(dataset, data_dir=root)


# --------------------------------------------------------------------------- loaders

def load_mnist(split: str = "train", *, limit: int | None = None,
               data_dir: str | os.PathLike | None = None, download: bool = True) -> Dataset:
    """Load an MNIST split.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test digits.
    limit : int or None, keyword-only
        Return only the first ``limit`` examples (all of them when None).
    data_dir : str or path, optional
        Folder holding ``MNIST/raw/``; see :func:`data_dir`.
    download : bool
        Download missing files (default True).

    Returns
    -------
    Dataset
        ``images``: uint8 array of shape (N, 28, 28), 0 = background;
        ``labels``: int64 array of shape (N,), values 0..9;
        ``classes``: the ten class names ``"0" .. "9"``.

    Raises
    ------
    TypeError, ValueError
        For a bad ``split``, ``limit``, ``download`` (not True/False: ``"False"`` is refused before
        any download) or ``data_dir`` (see :func:`data_dir`).
    DataNotFoundError
        If the files are missing and cannot be downloaded.
    CorruptDataError
        If a file is truncated or not an IDX file of the expected kind.
    """
    check_choice("split", split, ("train", "test"))
    limit = check_int("limit", limit, minimum=0, allow_none=True)
    download = check_bool("download", download)
    root = globals()["data_dir"](data_dir)
    _ensure("mnist", root, download)
    (img_name, _), (lab_name, _) = MNIST_FILES[split]
    img_path, lab_path = mnist_path(root, img_name), mnist_path(root, lab_name)
    images = read_idx(img_path, expected_ndim=3)
    labels = read_idx(lab_path, expected_ndim=1)
    n = MNIST_SIZES[split]
    if images.shape != (n, 28, 28):
        raise CorruptDataError(f"{img_path}: images of shape {images.shape}, expected ({n}, 28, 28). "
                               f"{FIX_HINT}")
    if labels.shape != (n,):
        raise CorruptDataError(f"{lab_path}: {labels.shape[0]} labels, expected {n}. {FIX_HINT}")
    if labels.max() > 9:
        raise CorruptDataError(f"{lab_path}: label {int(labels.max())} found, expected 0..9. {FIX_HINT}")
    stop = n if limit is None else min(limit, n)
    return Dataset(images[:stop].copy(), labels[:stop].astype(np.int64), MNIST_CLASSES)


def load_cifar10(split: str = "train", *, limit: int | None = None,
                 data_dir: str | os.PathLike | None = None, download: bool = True) -> Dataset:
    """Load a CIFAR-10 split.

    Parameters
    ----------
    split : {"train", "test"}
        50,000 training or 10,000 test images.
    limit : int or None, keyword-only
        Return only the first ``limit`` examples (all of them when None); only
        the batch files needed are read.
    data_dir : str or path, optional
        Folder holding ``cifar-10-batches-py/``; see :func:`data_dir`.
    download : bool
        Download missing files (default True).

    Returns
    -------
    Dataset
        ``images``: uint8 array of shape (N, 32, 32, 3), channels last (RGB);
        ``labels``: int64 array of shape (N,), values 0..9;
        ``classes``: ``CIFAR10_CLASSES``.

    Raises
    ------
    TypeError, ValueError
        For a bad ``split``, ``limit``, ``download`` (not True/False: ``"False"`` is refused before
        any download) or ``data_dir`` (see :func:`data_dir`).
    DataNotFoundError
        If the files are missing and cannot be downloaded.
    CorruptDataError
        If a batch file is not a readable CIFAR-10 batch of 10,000 images.

    Notes
    -----
    Files are parsed with the dataset's documented ``pickle.load(f,
    encoding="bytes")`` recipe (with a restricted unpickler); the md5 of the
    extracted batches is not checked, so re-encoded copies load too.
    """
    check_choice("split", split, ("train", "test"))
    limit = check_int("limit", limit, minimum=0, allow_none=True)
    download = check_bool("download", download)
    root = globals()["data_dir"](data_dir)
    _ensure("cifar10", root, download)
    want = len(CIFAR10_BATCHES[split]) * CIFAR10_BATCH_SIZE if limit is None else limit
    images, labels, have = [], [], 0
    for name in CIFAR10_BATCHES[split]:
        if have >= want and images:
            break
        x, y = read_cifar_batch(root / CIFAR10_FOLDER / name)
        if x.shape[0] != CIFAR10_BATCH_SIZE:
            raise CorruptDataError(f"{root / CIFAR10_FOLDER / name}: {x.shape[0]} images, expected "
                                   f"{CIFAR10_BATCH_SIZE}. {FIX_HINT}")
        images.append(x)
        labels.append(y)
        have += x.shape[0]
    images, labels = np.concatenate(images), np.concatenate(labels)
    return Dataset(images[:want], labels[:want], CIFAR10_CLASSES)


# --------------------------------------------------------------------------- status CLI

def data_status(data_dir: str | os.PathLike | None = None) -> list[dict]:
    """One row per data set: name, folder, ``"found"``/``"missing"`` and bytes on disk.

    Parameters
    ----------
    data_dir : str or path, optional
        The data folder; see :func:`data_dir`.

    Returns
    -------
    list of dict
        ``{"dataset", "path", "status", "bytes", "missing"}`` for MNIST, then CIFAR-10.
    """
    root = globals()["data_dir"](data_dir)
    rows = []
    for dataset, folder in (("mnist", root / "MNIST" / "raw"), ("cifar10", root / CIFAR10_FOLDER)):
        missing = missing_files(dataset, root)
        size = sum(p.stat().st_size for p in folder.glob("*") if p.is_file()) if folder.is_dir() else 0
        rows.append({"dataset": dataset, "path": str(folder),
                     "status": "missing" if missing else "found", "bytes": size,
                     "missing": [str(p) for p in missing]})
    return rows


def main(argv=None) -> int:
    """``python -m course_lib.data [--data-dir DIR] [--download] [--check]``: print the status table.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 if every data set is present (and, with ``--check``, reads), else 1.
    """
    parser = argparse.ArgumentParser(prog="python -m course_lib.data",
                                     description="Show (and fetch) the course's data sets.")
    parser.add_argument("--data-dir", help="data folder (default: $COURSE_DATA_DIR, else data/)")
    parser.add_argument("--download", action="store_true", help="download what is missing")
    parser.add_argument("--check", action="store_true",
                        help="also read every file fully; exit 1 if anything is missing or corrupt")
    args = parser.parse_args(argv)
    try:
        globals()["data_dir"](args.data_dir)
    except (TypeError, ValueError) as exc:
        parser.error(f"--data-dir: {exc}")
    if args.download:
        for dataset in ("mnist", "cifar10"):
            try:
                download(dataset, data_dir=args.data_dir)
            except DataNotFoundError as exc:
                print(exc, file=sys.stderr)
    rows = data_status(args.data_dir)
    print(f"{'dataset':<9} {'status':<8} {'size':>9}  path")
    for row in rows:
        print(f"{row['dataset']:<9} {row['status']:<8} {row['bytes'] / 2**20:>7.1f}MB  {row['path']}")
    ok = all(row["status"] == "found" for row in rows)
    if args.check and ok:
        loaders = {"mnist": load_mnist, "cifar10": load_cifar10}
        for dataset, loader in loaders.items():
            for split in ("train", "test"):
                try:
                    n = len(loader(split, data_dir=args.data_dir, download=False).labels)
                except (CorruptDataError, DataNotFoundError) as exc:
                    print(f"{dataset} {split}: {exc}", file=sys.stderr)
                    ok = False
                else:
                    print(f"{dataset} {split}: {n} examples read")
    if not ok:
        print("\nSome data is missing or corrupt: run `python -m course_lib.data --download`, "
              "or set COURSE_DATA_DIR to a folder that has it.", file=sys.stderr)
    return 0 if ok else 1
