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
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._validation import check_choice, check_int

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

REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"

MNIST_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
# (name, md5 of the .gz download) -- the values torchvision lists.
MNIST_FILES = {
    "train": (("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
              ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432")),
    "test": (("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
             ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c")),
}
MNIST_SIZES = {"train": 60000, "test": 10000}

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
CIFAR10_BATCH_SIZE = 10000

FIX_HINT = "Delete it and run `python -m course_lib.data --download` to fetch a fresh copy."


class Dataset(NamedTuple):
    """A split of a data set: ``images, labels, classes = load_mnist("test")``."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple


class DataNotFoundError(FileNotFoundError):
    """The data set is not on disk and could not be downloaded."""


class CorruptDataError(ValueError):
    """A data file exists but does not have the expected format or size."""


# --------------------------------------------------------------------------- paths

def data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder the course reads data from (see the module docstring)."""
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a str, a path or None, got {type(data_dir).__name__}.")
        return Path(data_dir).expanduser().resolve()
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return REPO_DATA_DIR


def _mnist_path(root: Path, name: str) -> Path | None:
    raw = root / "MNIST" / "raw"
    for candidate in (raw / name, raw / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _missing_files(dataset: str, root: Path) -> list[Path]:
    if dataset == "mnist":
        return [root / "MNIST" / "raw" / name
                for split in ("train", "test") for name, _ in MNIST_FILES[split]
                if _mnist_path(root, name) is None]
    folder = root / CIFAR10_FOLDER
    names = CIFAR10_BATCHES["train"] + CIFAR10_BATCHES["test"] + ("batches.meta",)
    return [folder / n for n in names if not (folder / n).is_file()]


def _not_found_message(dataset: str, root: Path, missing: list[Path], reason: str) -> str:
    files = "\n".join(f"  {p}" for p in missing)
    if dataset == "mnist":
        source = "the four MNIST IDX files (raw or .gz) from " + MNIST_MIRRORS[0]
    else:
        source = f"the folder extracted from {CIFAR10_URL}"
    return (f"{dataset} data not found in {root} ({reason}).\n"
            f"Files needed:\n{files}\n"
            f"To fix it: put {source} there, or point the course at a folder that has them "
            f"with COURSE_DATA_DIR=/path/to/data (or data_dir=...), or run "
            f"`python -m course_lib.data --download` on a machine with internet access.")


# --------------------------------------------------------------------------- downloads

def _download_to(folder: Path, urls, filename: str, md5: str) -> Path:
    """Download ``filename`` (trying each mirror) into ``folder``, checking ``md5``."""
    from torchvision.datasets.utils import download_url

    errors = []
    for url in urls:
        try:
            download_url(url, str(folder), filename=filename, md5=md5)
        except Exception as exc:  # network errors come in many types
            errors.append(f"{url}: {exc}")
            partial = folder / filename
            if partial.exists():
                partial.unlink()
            continue
        path = folder / filename
        if path.is_file():
            return path
        errors.append(f"{url}: the file failed its md5 check")
    raise OSError("; ".join(errors))


def _writable_root(root: Path, dataset: str, missing: list[Path]) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-")
        probe.close()
    except OSError as exc:
        raise DataNotFoundError(_not_found_message(
            dataset, root, missing, f"cannot download: the folder is not writable ({exc})")) from exc


def download(dataset: str, *, data_dir: str | os.PathLike | None = None) -> Path:
    """Download ``"mnist"`` or ``"cifar10"`` if any of its files is missing.

    Files are fetched into a temporary folder next to the target and moved into
    place only once complete and checksummed. Returns the data folder.

    Raises
    ------
    DataNotFoundError
        If the download fails (no network, unwritable folder): the message lists
        the files needed and where to put them.
    """
    check_choice("dataset", dataset, ("mnist", "cifar10"))
    root = globals()["data_dir"](data_dir)
    missing = _missing_files(dataset, root)
    if not missing:
        return root
    _writable_root(root, dataset, missing)
    try:
        with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
            tmp = Path(tmp)
            if dataset == "mnist":
                raw = root / "MNIST" / "raw"
                raw.mkdir(parents=True, exist_ok=True)
                for split in ("train", "test"):
                    for name, md5 in MNIST_FILES[split]:
                        if _mnist_path(root, name) is None:
                            got = _download_to(tmp, [m + name + ".gz" for m in MNIST_MIRRORS],
                                               name + ".gz", md5)
                            os.replace(got, raw / (name + ".gz"))
            else:
                archive = _download_to(tmp, [CIFAR10_URL], "cifar-10-python.tar.gz", CIFAR10_MD5)
                with tarfile.open(archive, "r:gz") as tar:
                    tar.extractall(tmp, filter="data")
                target = root / CIFAR10_FOLDER
                if target.exists():
                    shutil.rmtree(target)
                os.replace(tmp / CIFAR10_FOLDER, target)
    except (OSError, tarfile.TarError) as exc:
        raise DataNotFoundError(_not_found_message(dataset, root, missing,
                                                   f"download failed: {exc}")) from exc
    return root


def _ensure(dataset: str, root: Path, download_missing: bool) -> None:
    missing = _missing_files(dataset, root)
    if not missing:
        return
    if not download_missing:
        raise DataNotFoundError(_not_found_message(dataset, root, missing, "download=False"))
    download(dataset, data_dir=root)


# --------------------------------------------------------------------------- readers

def _read_bytes(path: Path) -> bytes:
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
    """
    path = Path(path)
    raw = _read_bytes(path)
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
        For a bad ``split`` or ``limit``.
    DataNotFoundError
        If the files are missing and cannot be downloaded.
    CorruptDataError
        If a file is truncated or not an IDX file of the expected kind.
    """
    check_choice("split", split, ("train", "test"))
    limit = check_int("limit", limit, minimum=0, allow_none=True)
    root = globals()["data_dir"](data_dir)
    _ensure("mnist", root, download)
    (img_name, _), (lab_name, _) = MNIST_FILES[split]
    img_path, lab_path = _mnist_path(root, img_name), _mnist_path(root, lab_name)
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
    """Read one CIFAR-10 python batch: images (N, 32, 32, 3) uint8, labels (N,) int64."""
    path = Path(path)
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

    Notes
    -----
    Files are parsed with the dataset's documented ``pickle.load(f,
    encoding="bytes")`` recipe (with a restricted unpickler); the md5 of the
    extracted batches is not checked, so re-encoded copies load too.
    """
    check_choice("split", split, ("train", "test"))
    limit = check_int("limit", limit, minimum=0, allow_none=True)
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
    """One row per data set: name, folder, ``"found"``/``"missing"`` and bytes on disk."""
    root = globals()["data_dir"](data_dir)
    rows = []
    for dataset, folder in (("mnist", root / "MNIST" / "raw"), ("cifar10", root / CIFAR10_FOLDER)):
        missing = _missing_files(dataset, root)
        size = sum(p.stat().st_size for p in folder.glob("*") if p.is_file()) if folder.is_dir() else 0
        rows.append({"dataset": dataset, "path": str(folder),
                     "status": "missing" if missing else "found", "bytes": size,
                     "missing": [str(p) for p in missing]})
    return rows


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.data",
                                     description="Show (and fetch) the course's data sets.")
    parser.add_argument("--data-dir", help="data folder (default: $COURSE_DATA_DIR, else data/)")
    parser.add_argument("--download", action="store_true", help="download what is missing")
    parser.add_argument("--check", action="store_true",
                        help="also read every file fully; exit 1 if anything is missing or corrupt")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
