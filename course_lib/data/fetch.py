"""Where the course's data files come from, and fetching the missing ones.

* the names, mirrors and md5 checksums of the MNIST and CIFAR-10 downloads, and the
  layout of a data folder (``MNIST/raw/``, ``cifar-10-batches-py/``);
* finding which files of a data set are missing from a data folder;
* downloading them with torchvision's utilities (md5 checks, mirrors, a progress
  bar) into a temporary folder, moved into place only when complete, so a failed
  download never leaves a partial file behind.

The public API (``download``, ``load_mnist``, ...) is :mod:`course_lib.data` itself,
which re-exports these names; the file formats are read by :mod:`course_lib.data.readers`.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

__all__ = [
    "DataNotFoundError", "MNIST_MIRRORS", "MNIST_FILES", "MNIST_SIZES", "CIFAR10_URL", "CIFAR10_MD5",
    "CIFAR10_FOLDER", "CIFAR10_BATCHES", "CIFAR10_BATCH_SIZE", "mnist_path", "missing_files",
    "not_found_message", "download_to", "check_writable", "fetch_dataset",
]

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


class DataNotFoundError(FileNotFoundError):
    """The data set is not on disk and could not be downloaded."""


def _dataset(dataset) -> str:
    from .._validation import check_choice

    return check_choice("dataset", dataset, ("mnist", "cifar10"))


def _root(root) -> Path:
    """The data folder as a Path: a str or path that is not an existing file."""
    from .._validation import check_path

    root = check_path("root", root)
    if root.exists() and not root.is_dir():
        raise ValueError(f"root == {str(root)!r} is a file, must be a folder (the one holding the data sets).")
    return root


def _names(name: str, value) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list, got {type(value).__name__} ({value!r:.60}).")
    return list(value)


# --------------------------------------------------------------------------- paths

def mnist_path(root: Path, name: str) -> Path | None:
    """Find an MNIST IDX file under ``root``, raw or gzipped.

    Parameters
    ----------
    root : Path
        The data folder (the one holding ``MNIST/raw/``).
    name : str
        The file's name without ``.gz``, e.g. ``"t10k-images-idx3-ubyte"``.

    Returns
    -------
    Path or None
        ``MNIST/raw/<name>`` if it is a file, else ``MNIST/raw/<name>.gz`` if that
        is one, else None.
    """
    root = _root(root)
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str (an IDX file's name), got {type(name).__name__}.")
    raw = root / "MNIST" / "raw"
    for candidate in (raw / name, raw / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def missing_files(dataset: str, root: Path) -> list[Path]:
    """List the files of a data set that are not in ``root``.

    Parameters
    ----------
    dataset : {"mnist", "cifar10"}
        The data set.
    root : Path
        The data folder.

    Returns
    -------
    list of Path
        Where each missing file should be (MNIST files without ``.gz``); empty when
        the data set is complete.
    """
    dataset, root = _dataset(dataset), _root(root)
    if dataset == "mnist":
        return [root / "MNIST" / "raw" / name
                for split in ("train", "test") for name, _ in MNIST_FILES[split]
                if mnist_path(root, name) is None]
    folder = root / CIFAR10_FOLDER
    names = CIFAR10_BATCHES["train"] + CIFAR10_BATCHES["test"] + ("batches.meta",)
    return [folder / n for n in names if not (folder / n).is_file()]


def not_found_message(dataset: str, root: Path, missing: list[Path], reason: str) -> str:
    """The message of a :class:`DataNotFoundError`: what is missing, why, and how to fix it.

    Parameters
    ----------
    dataset : {"mnist", "cifar10"}
        The data set.
    root : Path
        The data folder that was searched.
    missing : list of Path
        The files needed, as returned by :func:`missing_files`.
    reason : str
        Why the files are not there (e.g. ``"download=False"``).

    Returns
    -------
    str
        A multi-line message listing the files and the ways to provide them.
    """
    dataset, root = _dataset(dataset), Path(root)
    missing = _names("missing", missing)
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

def download_to(folder: Path, urls, filename: str, md5: str) -> Path:
    """Download ``filename`` (trying each mirror) into ``folder``, checking ``md5``.

    Parameters
    ----------
    folder : Path
        Where the file is written.
    urls : iterable of str
        The full address of the file on each mirror, tried in order.
    filename : str
        The name of the file in ``folder``.
    md5 : str
        The file's expected md5 (hex digest).

    Returns
    -------
    Path
        ``folder / filename``, complete and checksummed.

    Raises
    ------
    TypeError, ValueError
        If ``urls`` is not a non-empty list of http(s) addresses (a single string is refused: it
        would be tried letter by letter), ``filename``/``md5`` not non-empty strings, or ``folder``
        a file -- before any download.
    OSError
        If no mirror gave a file that passed its md5 check; the message has one
        reason per mirror.
    """
    urls = _names("urls", urls)
    if not urls or not all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in urls):
        raise ValueError(f"urls == {urls!r:.80}, must be a non-empty list of http(s) addresses.")
    for label, value in (("filename", filename), ("md5", md5)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{label} must be a non-empty str, got {type(value).__name__} ({value!r}).")
    folder = _root(folder)
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


def check_writable(root: Path, dataset: str, missing: list[Path]) -> None:
    """Create ``root`` if needed and check that files can be written in it.

    Parameters
    ----------
    root : Path
        The data folder.
    dataset : {"mnist", "cifar10"}
        The data set to be downloaded (for the error message).
    missing : list of Path
        Its missing files (for the error message).

    Raises
    ------
    DataNotFoundError
        If the folder cannot be created or written to.
    """
    root = _root(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-")
        probe.close()
    except OSError as exc:
        raise DataNotFoundError(not_found_message(
            dataset, root, missing, f"cannot download: the folder is not writable ({exc})")) from exc


def fetch_dataset(dataset: str, root: Path) -> Path:
    """Download the missing files of ``dataset`` into the data folder ``root``.

    Files are fetched into a temporary folder inside ``root`` and moved into place
    only once complete and checksummed. :func:`course_lib.data.download` is the
    public entry point (it validates ``dataset`` and resolves the folder).

    Parameters
    ----------
    dataset : {"mnist", "cifar10"}
        The data set.
    root : Path
        The resolved data folder.

    Returns
    -------
    Path
        ``root``.

    Raises
    ------
    TypeError, ValueError
        If ``dataset`` is not ``"mnist"``/``"cifar10"`` or ``root`` is not a folder path
        (checked before anything is created or downloaded).
    DataNotFoundError
        If the download fails (no network, unwritable folder): the message lists
        the files needed and where to put them.
    """
    dataset, root = _dataset(dataset), _root(root)
    missing = missing_files(dataset, root)
    if not missing:
        return root
    check_writable(root, dataset, missing)
    try:
        with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
            tmp = Path(tmp)
            if dataset == "mnist":
                raw = root / "MNIST" / "raw"
                raw.mkdir(parents=True, exist_ok=True)
                for split in ("train", "test"):
                    for name, md5 in MNIST_FILES[split]:
                        if mnist_path(root, name) is None:
                            got = download_to(tmp, [m + name + ".gz" for m in MNIST_MIRRORS],
                                              name + ".gz", md5)
                            os.replace(got, raw / (name + ".gz"))
            else:
                archive = download_to(tmp, [CIFAR10_URL], "cifar-10-python.tar.gz", CIFAR10_MD5)
                with tarfile.open(archive, "r:gz") as tar:
                    tar.extractall(tmp, filter="data")
                target = root / CIFAR10_FOLDER
                if target.exists():
                    shutil.rmtree(target)
                os.replace(tmp / CIFAR10_FOLDER, target)
    except (OSError, tarfile.TarError) as exc:
        raise DataNotFoundError(not_found_message(dataset, root, missing,
                                                  f"download failed: {exc}")) from exc
    return root
