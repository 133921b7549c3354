"""Tests for ``course_lib.data``: the MNIST / CIFAR-10 readers, data-folder resolution,
failure modes (bad arguments, corrupt or missing files, failed downloads) and the CLI.

Most tests run on small-to-full-size synthetic files written into ``tmp_path``; the ones
at the end read the real offline copy and are skipped unless ``COURSE_DATA_DIR`` points
at a folder that has both data sets. No test touches the network: ``download_url`` is
replaced for every test.
"""

from __future__ import annotations

import builtins
import gzip
import io
import os
import pickle
import re
import struct
import tarfile
import urllib.error
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets.utils as tv_utils

import course_lib
from course_lib import data
from course_lib.data import (
    CIFAR10_CLASSES,
    MNIST_CLASSES,
    CorruptDataError,
    DataNotFoundError,
    Dataset,
    load_cifar10,
    load_mnist,
)

# Read before the autouse fixture below removes it from the environment of each test.
REAL_DATA_DIR = os.environ.get("COURSE_DATA_DIR")

FIX = "python -m course_lib.data --download"
MNIST_NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MNIST_ALL = MNIST_NAMES["train"] + MNIST_NAMES["test"]
MNIST_N = {"train": 60000, "test": 10000}
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_ALL = (*CIFAR_TRAIN, "test_batch", "batches.meta")
OFFICIAL_CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                            "dog", "frog", "horse", "ship", "truck")
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
# The official t10k label counts (they sum to 10,000; 8 -> 974 and 9 -> 1009).
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

T10K_IMAGES = "MNIST/raw/t10k-images-idx3-ubyte"
T10K_LABELS = "MNIST/raw/t10k-labels-idx1-ubyte"
TEST_BATCH = "cifar-10-batches-py/test_batch"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch):
    """No COURSE_DATA_DIR from the caller's shell, and no network."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)

    def no_network(url, root, filename=None, md5=None, **kwargs):
        raise OSError(f"network disabled in tests ({url})")

    monkeypatch.setattr(tv_utils, "download_url", no_network)


# --------------------------------------------------------------------------- writers

def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    """Serialise ``arr`` as an IDX file of unsigned bytes (MNIST's format)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    magic = 0x0800 + arr.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return header + arr.tobytes()


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=1, mtime=0)


class _Py2StylePickler(pickle._Pickler):
    """Writes ``bytes`` with Python 2's str opcodes, as in the official CIFAR-10 files.

    Python 3 pickles ``bytes`` at protocol 2 as a call to ``_codecs.encode``; the official
    batches (written by Python 2) hold SHORT_BINSTRING/BINSTRING opcodes instead, which
    ``pickle.load(f, encoding="bytes")`` turns into ``bytes``.
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_bytes_as_py2_str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_bytes_as_py2_str


def py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    _Py2StylePickler(buf, protocol=2).dump(obj)
    # The official files name the NumPy 1.x module; NumPy 2 must still accept it.
    return buf.getvalue().replace(b"cnumpy._core.multiarray\n_reconstruct\n",
                                  b"cnumpy.core.multiarray\n_reconstruct\n")


def cifar_batch_dict(arr: np.ndarray, labels, label: bytes = b"testing batch 1 of 1") -> dict:
    return {b"batch_label": label, b"labels": list(labels), b"data": arr,
            b"filenames": [b"img_%05d.png" % i for i in range(len(arr))]}


CIFAR_META = {b"num_cases_per_batch": 10000,
              b"label_names": [c.encode() for c in OFFICIAL_CIFAR10_CLASSES], b"num_vis": 3072}


def make_mnist(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    # An off-centre, non-square random patch: a transposed or shuffled read cannot match,
    # and the mostly-zero images gzip fast.
    images[:, 3:10, 12:27] = rng.integers(0, 256, (n, 7, 15), dtype=np.uint8)
    images[0, 0, 0], images[-1, 27, 27] = 255, 1
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    labels[:10] = np.arange(10)
    return images, labels


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def clone(src: Path, dst: Path, replace: dict[str, bytes | None] | None = None) -> Path:
    """A data folder whose files are symlinks into ``src``, except those in ``replace``:
    written with the given bytes, or left out when the value is None. Nothing is ever
    written through a link, so ``src`` (a shared fixture or the real data) is never modified.
    """
    replace = replace or {}
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if path.is_file() and rel not in replace:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            (dst / rel).symlink_to(path.resolve())
    return write_files(dst, {k: v for k, v in replace.items() if v is not None})


def snapshot(root: Path) -> dict:
    """Names, sizes and modification times of everything under ``root`` (links followed)."""
    return {p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in [root, *root.rglob("*")]}


def leftovers(root: Path) -> list[str]:
    """Files, and hidden entries (``.download-*`` temp folders, write probes), under ``root``."""
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() or p.name.startswith("."))


def spy_on_batches(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = data.read_cifar_batch

    def spy(path):
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(data, "read_cifar_batch", spy)
    return seen


def assert_corrupt(call: Callable, path: Path, *fragments: str) -> str:
    """``call()`` raises CorruptDataError naming ``path``, the fix, and each fragment."""
    with pytest.raises(CorruptDataError) as info:
        call()
    msg = str(info.value)
    assert str(path) in msg
    assert FIX in msg
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def mnist_arrays() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {"train": make_mnist(60000, seed=1), "test": make_mnist(10000, seed=2)}


@pytest.fixture(scope="module")
def mnist_files(mnist_arrays) -> dict[str, bytes]:
    """The four IDX files, uncompressed, keyed by their path under the data folder."""
    files = {}
    for split, (img_name, lab_name) in MNIST_NAMES.items():
        images, labels = mnist_arrays[split]
        files[f"MNIST/raw/{img_name}"] = idx_bytes(images)
        files[f"MNIST/raw/{lab_name}"] = idx_bytes(labels)
    return files


@pytest.fixture(scope="module")
def mnist_gz_files(mnist_files) -> dict[str, bytes]:
    return {rel + ".gz": gz(raw) for rel, raw in mnist_files.items()}


@pytest.fixture(scope="module")
def mnist_raw_dir(tmp_path_factory, mnist_files) -> Path:
    return write_files(tmp_path_factory.mktemp("mnist_raw"), mnist_files)


@pytest.fixture(scope="module")
def mnist_gz_dir(tmp_path_factory, mnist_gz_files) -> Path:
    return write_files(tmp_path_factory.mktemp("mnist_gz"), mnist_gz_files)


@pytest.fixture(scope="module")
def cifar_arrays() -> dict[str, tuple[np.ndarray, list[int]]]:
    """Official-layout rows: (10000, 3072) uint8, R plane then G then B, each row-major."""
    rng = np.random.default_rng(3)
    out = {}
    for name in (*CIFAR_TRAIN, "test_batch"):
        arr = rng.integers(0, 256, (10000, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, 10000)
        labels[:10] = np.arange(10)
        out[name] = (arr, [int(v) for v in labels])
    # Test image 0, hand-made: R has a single 255 at (y=1, x=2), G is all 7, B all 200.
    first = out["test_batch"][0][0]
    first[:] = 0
    first[1 * 32 + 2] = 255
    first[1024:2048] = 7
    first[2048:] = 200
    return out


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory, cifar_arrays) -> Path:
    files = {"cifar-10-batches-py/batches.meta": py2_pickle(CIFAR_META)}
    for i, name in enumerate(CIFAR_TRAIN, start=1):
        arr, labels = cifar_arrays[name]
        files[f"cifar-10-batches-py/{name}"] = py2_pickle(
            cifar_batch_dict(arr, labels, b"training batch %d of 5" % i))
    arr, labels = cifar_arrays["test_batch"]
    files[TEST_BATCH] = py2_pickle(cifar_batch_dict(arr, labels))
    return write_files(tmp_path_factory.mktemp("cifar"), files)


@pytest.fixture(scope="module")
def full_dir(tmp_path_factory, mnist_raw_dir, cifar_dir) -> Path:
    """Both data sets, complete (symlinks into the two fixtures above)."""
    root = tmp_path_factory.mktemp("full")
    clone(mnist_raw_dir, root)
    clone(cifar_dir, root)
    return root


@pytest.fixture(scope="module")
def test_batch_bytes(cifar_dir) -> bytes:
    return (cifar_dir / TEST_BATCH).read_bytes()


def assert_same(actual, desired) -> None:
    """Exact equality; the fast np.array_equal first, numpy's detailed report on failure."""
    if not np.array_equal(actual, desired):
        np.testing.assert_array_equal(actual, desired)


def expected_cifar_images(arr: np.ndarray) -> np.ndarray:
    return arr.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def status_column(out: str) -> list[str]:
    """The status column of the CLI's table (rows after the header)."""
    return [line.split()[1] for line in out.splitlines()[1:3]]


# =========================================================================== 1. reading

class TestReadIdx:
    @pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
    @pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (0,), (2, 0, 3)])
    def test_round_trip(self, tmp_path, compress, shape):
        arr = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        raw = idx_bytes(arr)
        path = tmp_path / ("f.gz" if compress else "f")
        path.write_bytes(gz(raw) if compress else raw)
        out = data.read_idx(path, expected_ndim=len(shape))
        assert out.dtype == np.uint8
        assert out.shape == shape
        assert_same(out, arr)

    def test_header_is_big_endian(self, tmp_path):
        path = tmp_path / "f"
        path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 1, 2]) + bytes(258))
        assert data.read_idx(str(path), expected_ndim=1).shape == (258,)

    def test_ndim_mismatch_is_corrupt(self, tmp_path):
        path = tmp_path / "f"
        path.write_bytes(idx_bytes(np.zeros((2, 3, 4), np.uint8)))
        assert_corrupt(lambda: data.read_idx(path, expected_ndim=1), path,
                       "magic number 0x00000803, expected 0x00000801")


class TestLoadMnist:
    @pytest.mark.parametrize("split", ["train", "test"])
    @pytest.mark.parametrize("form", ["raw", "gz"])
    def test_shapes_dtypes_and_values(self, split, form, mnist_arrays, mnist_raw_dir, mnist_gz_dir):
        root = mnist_raw_dir if form == "raw" else mnist_gz_dir
        ds = load_mnist(split, data_dir=root, download=False)
        assert isinstance(ds, Dataset)
        images, labels, classes = ds
        n = MNIST_N[split]
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert classes == MNIST_CLASSES == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
        want_images, want_labels = mnist_arrays[split]
        assert_same(images, want_images)
        assert_same(labels, want_labels)
        # Callers may normalise in place: the arrays must not be read-only file buffers.
        assert images.flags.writeable and labels.flags.writeable
        assert images.flags.c_contiguous

    def test_raw_and_gz_files_can_be_mixed(self, tmp_path, mnist_arrays, mnist_raw_dir, mnist_gz_files):
        rels = (T10K_IMAGES, T10K_LABELS)
        root = clone(mnist_raw_dir, tmp_path / "d",
                     {**dict.fromkeys(rels), **{r + ".gz": mnist_gz_files[r + ".gz"] for r in rels}})
        for split in ("train", "test"):
            images, labels, _ = load_mnist(split, data_dir=root, download=False)
            assert_same(images, mnist_arrays[split][0])
            assert_same(labels, mnist_arrays[split][1])

    @pytest.mark.parametrize("split,limit,n", [
        ("test", 0, 0), ("test", 1, 1), ("test", 123, 123), ("test", 10000, 10000),
        ("test", 10001, 10000), ("test", 10**9, 10000), ("train", 60000, 60000),
        ("train", 70000, 60000), ("test", np.int64(5), 5),
    ])
    def test_limit(self, split, limit, n, mnist_arrays, mnist_raw_dir):
        images, labels, _ = load_mnist(split, limit=limit, data_dir=mnist_raw_dir, download=False)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert_same(images, mnist_arrays[split][0][:n])
        assert_same(labels, mnist_arrays[split][1][:n])

    def test_accepts_str_and_path(self, mnist_raw_dir):
        a = load_mnist("test", limit=3, data_dir=str(mnist_raw_dir), download=False)
        b = load_mnist("test", limit=3, data_dir=mnist_raw_dir, download=False)
        assert_same(a.images, b.images)


class TestLoadCifar10:
    def test_test_split(self, cifar_arrays, cifar_dir):
        images, labels, classes = load_cifar10("test", data_dir=cifar_dir, download=False)
        assert images.shape == (10000, 32, 32, 3) and images.dtype == np.uint8
        assert labels.shape == (10000,) and labels.dtype == np.int64
        assert classes == CIFAR10_CLASSES == OFFICIAL_CIFAR10_CLASSES
        arr, want_labels = cifar_arrays["test_batch"]
        assert_same(images, expected_cifar_images(arr))
        assert_same(labels, want_labels)
        assert images.flags.c_contiguous and images.flags.writeable and labels.flags.writeable
        # The official layout, element by element: row n = R plane, G plane, B plane, row-major.
        rng = np.random.default_rng(0)
        for n, y, x, c in zip(rng.integers(0, 10000, 50), rng.integers(0, 32, 50),
                              rng.integers(0, 32, 50), rng.integers(0, 3, 50), strict=True):
            assert images[n, y, x, c] == arr[n, c * 1024 + y * 32 + x]

    def test_channels_last_rgb(self, cifar_dir):
        first = load_cifar10("test", limit=1, data_dir=cifar_dir, download=False).images[0]
        red = np.zeros((32, 32), np.uint8)
        red[1, 2] = 255  # (y=1, x=2): a swapped x/y would put it at [2, 1]
        assert_same(first[:, :, 0], red)
        assert (first[:, :, 1] == 7).all()
        assert (first[:, :, 2] == 200).all()

    @pytest.mark.parametrize("limit", [None, 10**9])
    def test_train_split_concatenates_batches_in_order(self, monkeypatch, cifar_arrays, cifar_dir, limit):
        seen = spy_on_batches(monkeypatch)
        images, labels, _ = load_cifar10("train", limit=limit, data_dir=cifar_dir, download=False)
        assert seen == list(CIFAR_TRAIN)
        assert images.shape == (50000, 32, 32, 3) and labels.shape == (50000,)
        assert labels.dtype == np.int64
        for i, name in enumerate(CIFAR_TRAIN):
            arr, want = cifar_arrays[name]
            sl = slice(i * 10000, (i + 1) * 10000)
            assert_same(images[sl], expected_cifar_images(arr))
            assert_same(labels[sl], want)

    @pytest.mark.parametrize("limit,n,batches", [
        (1, 1, ["data_batch_1"]),
        (10000, 10000, ["data_batch_1"]),
        (12000, 12000, ["data_batch_1", "data_batch_2"]),
    ])
    def test_train_limit_reads_only_needed_batches(self, monkeypatch, cifar_arrays, cifar_dir,
                                                   limit, n, batches):
        seen = spy_on_batches(monkeypatch)
        images, labels, _ = load_cifar10("train", limit=limit, data_dir=cifar_dir, download=False)
        assert seen == batches
        assert images.shape == (n, 32, 32, 3) and labels.shape == (n,)
        want = np.concatenate([cifar_arrays[b][0] for b in batches])[:n]
        assert_same(images, expected_cifar_images(want))
        assert_same(labels, sum((cifar_arrays[b][1] for b in batches), [])[:n])

    @pytest.mark.parametrize("split", ["train", "test"])
    def test_limit_zero(self, monkeypatch, cifar_dir, split):
        seen = spy_on_batches(monkeypatch)
        images, labels, classes = load_cifar10(split, limit=0, data_dir=cifar_dir, download=False)
        assert images.shape == (0, 32, 32, 3) and images.dtype == np.uint8
        assert labels.shape == (0,) and labels.dtype == np.int64
        assert classes == CIFAR10_CLASSES
        assert len(seen) <= 1

    def test_test_limit_larger_than_split(self, cifar_dir):
        images, labels, _ = load_cifar10("test", limit=10001, data_dir=cifar_dir, download=False)
        assert images.shape == (10000, 32, 32, 3) and labels.shape == (10000,)

    def test_batch_with_str_keys_and_default_protocol(self, tmp_path):
        # A batch re-saved from Python 3 with pickle.dump(d, f): str keys, protocol 4.
        arr = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
        path = tmp_path / "batch"
        path.write_bytes(pickle.dumps({"data": arr, "labels": [3, 9]}))
        images, labels = data.read_cifar_batch(path)
        assert_same(images, expected_cifar_images(arr))
        assert labels.tolist() == [3, 9] and labels.dtype == np.int64

    @pytest.mark.parametrize("protocol", [2, 5])
    def test_batch_repickled_by_python3(self, tmp_path, protocol):
        arr = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
        path = tmp_path / "batch"
        path.write_bytes(pickle.dumps(cifar_batch_dict(arr, [3, 9]), protocol=protocol))
        images, labels = data.read_cifar_batch(path)
        assert_same(images, expected_cifar_images(arr))


# =========================================================================== data folder resolution

class TestDataDir:
    def test_argument_wins_over_env(self, tmp_path, monkeypatch):
        monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
        assert data.data_dir(tmp_path / "arg") == (tmp_path / "arg").resolve()
        assert data.data_dir(str(tmp_path / "arg")) == (tmp_path / "arg").resolve()

    def test_env_wins_over_repo(self, tmp_path, monkeypatch):
        monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
        assert data.data_dir() == (tmp_path / "env").resolve()
        assert data.data_dir(None) == (tmp_path / "env").resolve()

    def test_empty_env_falls_back_to_repo(self, monkeypatch):
        monkeypatch.setenv("COURSE_DATA_DIR", "")
        assert data.data_dir() == data.REPO_DATA_DIR

    def test_repo_default_does_not_depend_on_cwd(self, tmp_path, monkeypatch):
        package_root = Path(course_lib.__file__).resolve().parent.parent
        assert data.REPO_DATA_DIR == package_root / "data"
        assert data.REPO_DATA_DIR.is_absolute()
        (tmp_path / "data").mkdir()
        for cwd in (tmp_path, package_root / "course_lib"):
            monkeypatch.chdir(cwd)
            assert data.data_dir() == data.REPO_DATA_DIR

    def test_relative_and_home_paths_are_made_absolute(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert data.data_dir("rel") == (tmp_path / "rel").resolve()
        assert data.data_dir("~/d") == (tmp_path / "home" / "d").resolve()
        monkeypatch.setenv("COURSE_DATA_DIR", "envrel")
        assert data.data_dir() == (tmp_path / "envrel").resolve()

    @pytest.mark.parametrize("bad", [3, 1.5, b"bytes", ["a"]])
    def test_rejects_non_paths(self, bad):
        with pytest.raises(TypeError, match="data_dir"):
            data.data_dir(bad)

    def test_loaders_follow_resolution_order(self, tmp_path, monkeypatch, full_dir, mnist_arrays):
        empty = tmp_path / "empty"
        empty.mkdir()
        # A decoy data/ folder in the working directory, full of junk: it must never be read.
        cwd = tmp_path / "cwd"
        write_files(cwd, {f"data/MNIST/raw/{n}": b"junk" for n in MNIST_ALL})
        write_files(cwd, {f"data/cifar-10-batches-py/{n}": b"junk" for n in CIFAR_ALL})
        monkeypatch.chdir(cwd)

        monkeypatch.setattr(data, "REPO_DATA_DIR", empty)
        with pytest.raises(DataNotFoundError, match=re.escape(str(empty))):
            load_mnist("test", download=False)
        with pytest.raises(DataNotFoundError, match=re.escape(str(empty))):
            load_cifar10("test", download=False)

        monkeypatch.setattr(data, "REPO_DATA_DIR", full_dir)
        assert_same(load_mnist("test", limit=5, download=False).labels,
                                      mnist_arrays["test"][1][:5])
        assert load_cifar10("test", limit=5, download=False).images.shape == (5, 32, 32, 3)

        monkeypatch.setenv("COURSE_DATA_DIR", str(empty))  # env beats the repository folder
        with pytest.raises(DataNotFoundError, match=re.escape(str(empty))):
            load_mnist("test", download=False)

        monkeypatch.setattr(data, "REPO_DATA_DIR", empty)
        monkeypatch.setenv("COURSE_DATA_DIR", str(full_dir))
        assert load_mnist("test", limit=5, download=False).images.shape == (5, 28, 28)

        monkeypatch.setenv("COURSE_DATA_DIR", str(empty))  # the argument beats env
        assert load_mnist("test", limit=5, data_dir=full_dir, download=False).labels.shape == (5,)
        assert load_cifar10("test", limit=5, data_dir=full_dir, download=False).labels.shape == (5,)


# =========================================================================== 2. bad arguments

LOADERS = pytest.mark.parametrize("loader", [load_mnist, load_cifar10], ids=["mnist", "cifar10"])


@LOADERS
class TestBadArguments:
    """Arguments are checked before the data folder is even looked at (tmp_path is empty)."""

    def test_unknown_split(self, loader, tmp_path):
        with pytest.raises(ValueError, match=r"split == 'validation', must be one of 'train', 'test'"):
            loader("validation", data_dir=tmp_path, download=False)

    def test_split_not_a_str(self, loader, tmp_path):
        with pytest.raises(TypeError, match="split must be a str"):
            loader(None, data_dir=tmp_path, download=False)

    def test_negative_limit(self, loader, tmp_path):
        with pytest.raises(ValueError, match=r"limit == -1, must be >= 0"):
            loader("train", limit=-1, data_dir=tmp_path, download=False)

    @pytest.mark.parametrize("limit", ["10", 1.5, 10.0, True, False, [1]])
    def test_limit_of_wrong_type(self, loader, tmp_path, limit):
        with pytest.raises(TypeError, match=r"limit must be an int or None, got " + type(limit).__name__):
            loader("train", limit=limit, data_dir=tmp_path, download=False)

    def test_limit_is_keyword_only(self, loader, tmp_path):
        with pytest.raises(TypeError):
            loader("train", 10, data_dir=tmp_path, download=False)

    def test_nothing_is_created(self, loader, tmp_path):
        with pytest.raises(ValueError):
            loader("valid", data_dir=tmp_path / "new")
        assert not (tmp_path / "new").exists()


def test_download_rejects_unknown_dataset(tmp_path):
    with pytest.raises(ValueError, match=r"dataset == 'imagenet', must be one of 'mnist', 'cifar10'"):
        data.download("imagenet", data_dir=tmp_path)


def test_error_classes():
    assert issubclass(CorruptDataError, ValueError)
    assert issubclass(DataNotFoundError, FileNotFoundError)


# =========================================================================== 3. corrupt files

MNIST_CORRUPTIONS = {
    # id: (file, function of (images, labels) -> bytes, expected fragment)
    "images-wrong-magic": (T10K_IMAGES, lambda x, y: idx_bytes(x, magic=0x0801),
                           "magic number 0x00000801, expected 0x00000803"),
    "images-float-type": (T10K_IMAGES, lambda x, y: idx_bytes(x, magic=0x0D03), "magic number 0x00000d03"),
    "labels-wrong-magic": (T10K_LABELS, lambda x, y: b"\x00\x00\x08\x03" + idx_bytes(y)[4:],
                           "expected 0x00000801"),
    "images-truncated": (T10K_IMAGES, lambda x, y: idx_bytes(x)[:-100], "truncated"),
    "labels-truncated": (T10K_LABELS, lambda x, y: idx_bytes(y)[:-1], "10007 bytes, expected 10008"),
    "labels-extra-bytes": (T10K_LABELS, lambda x, y: idx_bytes(y) + b"\x00", "extra data"),
    "images-extra-bytes": (T10K_IMAGES, lambda x, y: idx_bytes(x) + b"\x00" * 784, "extra data"),
    "header-truncated": (T10K_IMAGES, lambda x, y: b"\x00\x00\x08\x03\x00\x00", "truncated header"),
    "too-short": (T10K_LABELS, lambda x, y: b"\x00\x00", "too short"),
    "empty": (T10K_LABELS, lambda x, y: b"", "too short"),
    "label-10": (T10K_LABELS, lambda x, y: idx_bytes(np.where(np.arange(y.size) == 77, 10, y)),
                 "label 10 found, expected 0..9"),
    "label-255": (T10K_LABELS, lambda x, y: idx_bytes(np.full_like(y, 255)), "label 255"),
    "too-few-images": (T10K_IMAGES, lambda x, y: idx_bytes(x[:-1]), "expected (10000, 28, 28)"),
    "wrong-image-size": (T10K_IMAGES, lambda x, y: idx_bytes(x[:, :, :27]), "(10000, 28, 27)"),
    "too-many-labels": (T10K_LABELS, lambda x, y: idx_bytes(np.concatenate([y, y[:1]])),
                        "10001 labels, expected 10000"),
}


@pytest.mark.parametrize("case", list(MNIST_CORRUPTIONS))
def test_corrupt_mnist_file(case, tmp_path, mnist_arrays, mnist_raw_dir):
    rel, make, fragment = MNIST_CORRUPTIONS[case]
    root = clone(mnist_raw_dir, tmp_path / "d", {rel: make(*mnist_arrays["test"])})
    assert_corrupt(lambda: load_mnist("test", data_dir=root, download=False), root / rel, fragment)
    # The other split is untouched and still loads.
    assert load_mnist("train", limit=2, data_dir=root, download=False).images.shape == (2, 28, 28)


def _gz_not_gzip(raw: bytes) -> bytes:
    return b"this is not a gzip file at all"


def _gz_truncated(raw: bytes) -> bytes:
    return gz(raw)[:-200]


def _gz_bad_crc(raw: bytes) -> bytes:
    blob = bytearray(gz(raw))
    blob[-8] ^= 0xFF
    return bytes(blob)


def _gz_gzip_of_garbage(raw: bytes) -> bytes:
    return gz(b"garbage")


def _gz_bad_deflate_stream(raw: bytes) -> bytes:
    blob = gz(raw)
    return blob[:10] + b"\xff" + blob[11:]  # first deflate block: BTYPE=11, "invalid block type"


GZ_CASES = [_gz_not_gzip, _gz_truncated, _gz_bad_crc, _gz_gzip_of_garbage,
            _gz_bad_deflate_stream]


@pytest.mark.parametrize("make", GZ_CASES, ids=lambda f: f.__name__.removeprefix("_gz_"))
def test_corrupt_mnist_gz(make, tmp_path, mnist_files, mnist_raw_dir):
    rel = T10K_LABELS
    root = clone(mnist_raw_dir, tmp_path / "d", {rel: None, rel + ".gz": make(mnist_files[rel])})
    assert_corrupt(lambda: load_mnist("test", data_dir=root, download=False), root / (rel + ".gz"))


class _Evil:
    """Unpickling this calls ``func(arg)``: a safe loader must refuse it before calling."""

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


def _labels_with(labels: list[int], index: int, value) -> list:
    out = list(labels)
    out[index] = value
    return out


CIFAR_CORRUPTIONS = {
    # id: (function of (arr, labels) -> bytes, expected fragment)
    "truncated-pickle": (lambda a, y: py2_pickle(cifar_batch_dict(a, y))[:15_000_000], "not a readable"),
    "truncated-header": (lambda a, y: py2_pickle(cifar_batch_dict(a, y))[:40], "not a readable"),
    "empty-file": (lambda a, y: b"", "not a readable"),
    "not-a-pickle": (lambda a, y: b"\x00garbage" * 100, "not a readable"),
    "list-not-dict": (lambda a, y: py2_pickle([a, y]), "holds a list, expected a dict"),
    "none-not-dict": (lambda a, y: py2_pickle(None), "holds a NoneType, expected a dict"),
    "missing-labels": (lambda a, y: py2_pickle({b"data": a, b"batch_label": b"x"}), "missing key(s) ['labels']"),
    "missing-data": (lambda a, y: py2_pickle({b"labels": y}), "missing key(s) ['data']"),
    "data-3071-columns": (lambda a, y: py2_pickle(cifar_batch_dict(a[:, :3071], y)), "(10000, 3071)"),
    "data-images-shape": (lambda a, y: py2_pickle(cifar_batch_dict(a.reshape(-1, 3, 32, 32), y)),
                          "expected (N, 3072) uint8"),
    "data-int64": (lambda a, y: py2_pickle(cifar_batch_dict(a[:, :10].astype(np.int64), y)), "int64"),
    "too-few-labels": (lambda a, y: py2_pickle(cifar_batch_dict(a, y[:-1])), "9999 labels for 10000 images"),
    "label-10": (lambda a, y: py2_pickle(cifar_batch_dict(a, _labels_with(y, 5, 10))), "expected 0..9"),
    "label-minus-1": (lambda a, y: py2_pickle(cifar_batch_dict(a, _labels_with(y, 5, -1))), "-1..9"),
    "9999-images": (lambda a, y: py2_pickle(cifar_batch_dict(a[:-1], y[:-1])), "9999 images, expected 10000"),
}


@pytest.mark.parametrize("case", list(CIFAR_CORRUPTIONS))
def test_corrupt_cifar_batch(case, tmp_path, cifar_arrays, cifar_dir):
    make, fragment = CIFAR_CORRUPTIONS[case]
    arr, labels = cifar_arrays["test_batch"]
    root = clone(cifar_dir, tmp_path / "d", {TEST_BATCH: make(arr, labels)})
    assert_corrupt(lambda: load_cifar10("test", data_dir=root, download=False), root / TEST_BATCH, fragment)


@pytest.mark.parametrize("bad", [b"cat", 1.5], ids=["bytes", "float"])
def test_cifar_non_integer_labels(tmp_path, cifar_arrays, cifar_dir, bad):
    arr, _ = cifar_arrays["test_batch"]
    root = clone(cifar_dir, tmp_path / "d", {TEST_BATCH: py2_pickle(cifar_batch_dict(arr, [bad] * 10000))})
    assert_corrupt(lambda: load_cifar10("test", data_dir=root, download=False), root / TEST_BATCH, "labels")


def test_truncated_copy_of_a_real_style_batch(tmp_path, cifar_dir, test_batch_bytes):
    for cut in (len(test_batch_bytes) - 1, len(test_batch_bytes) // 2, 2):
        root = clone(cifar_dir, tmp_path / f"d{cut}", {TEST_BATCH: test_batch_bytes[:cut]})
        assert_corrupt(lambda r=root: load_cifar10("test", data_dir=r, download=False), root / TEST_BATCH)


@pytest.mark.parametrize("func", [os.system, builtins.exec, builtins.eval], ids=lambda f: f.__name__)
def test_pickle_with_disallowed_global_is_refused_not_run(func, tmp_path, cifar_dir):
    marker = tmp_path / "executed"
    if func is os.system:
        arg = f"touch '{marker}'"
    else:
        arg = f"open({str(marker)!r}, 'w').close()"
    payload = py2_pickle({b"data": _Evil(func, arg), b"labels": []})
    assert f"\n{func.__name__}\n".encode() in payload  # a GLOBAL opcode naming the function
    root = clone(cifar_dir, tmp_path / "d", {TEST_BATCH: payload})
    assert_corrupt(lambda: load_cifar10("test", data_dir=root, download=False), root / TEST_BATCH,
                   f".{func.__name__} is not allowed")
    assert not marker.exists(), "the pickled call was executed"


def test_corrupt_train_batch_is_only_read_when_needed(tmp_path, cifar_dir):
    rel = "cifar-10-batches-py/data_batch_3"
    root = clone(cifar_dir, tmp_path / "d", {rel: b"garbage"})
    assert load_cifar10("train", limit=12000, data_dir=root, download=False).labels.shape == (12000,)
    assert_corrupt(lambda: load_cifar10("train", data_dir=root, download=False), root / rel)


# =========================================================================== 4. missing data, downloads

@pytest.mark.parametrize("dataset,loader,paths", [
    ("mnist", load_mnist, [f"MNIST/raw/{n}" for n in MNIST_ALL]),
    ("cifar10", load_cifar10, [f"cifar-10-batches-py/{n}" for n in CIFAR_ALL]),
])
def test_missing_without_download(tmp_path, dataset, loader, paths):
    root = tmp_path / "data"
    for where in (root, tmp_path):  # a folder that does not exist, and an empty one
        with pytest.raises(DataNotFoundError) as info:
            loader("test", data_dir=where, download=False)
        msg = str(info.value)
        assert f"{dataset} data not found in {where}" in msg
        assert "download=False" in msg and "COURSE_DATA_DIR" in msg and FIX in msg
        for rel in paths:
            assert str(where / rel) in msg
    assert not root.exists()
    assert leftovers(tmp_path) == []


def test_missing_single_file_is_listed_alone(tmp_path, mnist_raw_dir):
    root = clone(mnist_raw_dir, tmp_path / "d", {T10K_LABELS: None})
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("train", data_dir=root, download=False)  # every MNIST file is required
    msg = str(info.value)
    assert str(root / T10K_LABELS) in msg
    for name in MNIST_ALL[:3]:
        assert name not in msg


def test_missing_cifar_meta_is_reported(tmp_path, cifar_dir):
    root = clone(cifar_dir, tmp_path / "d", {"cifar-10-batches-py/batches.meta": None})
    with pytest.raises(DataNotFoundError, match=re.escape(str(root / "cifar-10-batches-py/batches.meta"))):
        load_cifar10("test", data_dir=root, download=False)


def _failing(calls: list, exc: Exception, partial: bytes = b"\x1f\x8b\x08 partial download"):
    def fake(url, root, filename=None, md5=None, **kwargs):
        calls.append((url, Path(root), filename, md5))
        Path(root, filename).write_bytes(partial)
        raise exc
    return fake


FAILURES = [urllib.error.URLError("no route to host"), ConnectionResetError("connection reset"),
            TimeoutError("timed out"), RuntimeError("File not found or corrupted.")]


@pytest.mark.parametrize("exc", FAILURES, ids=lambda e: type(e).__name__)
def test_failed_mnist_download_leaves_nothing(tmp_path, monkeypatch, exc):
    calls: list = []
    monkeypatch.setattr(tv_utils, "download_url", _failing(calls, exc))
    root = tmp_path / "data"
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("test", data_dir=root)
    msg = str(info.value)
    for name in MNIST_ALL:
        assert str(root / "MNIST" / "raw" / name) in msg
    assert "COURSE_DATA_DIR" in msg and "download failed" in msg and str(exc) in msg
    # Both mirrors tried for the first file, each into a temporary folder inside the data folder.
    first = MNIST_ALL[0] + ".gz"
    assert [c[0] for c in calls] == [m + first for m in data.MNIST_MIRRORS]
    assert all(c[2] == first and c[3] == data.MNIST_FILES["train"][0][1] for c in calls)
    assert all(c[1].parent == root and c[1].name.startswith(".download-") for c in calls)
    assert leftovers(root) == []


@pytest.mark.parametrize("exc", FAILURES[:2], ids=lambda e: type(e).__name__)
def test_failed_cifar_download_leaves_nothing(tmp_path, monkeypatch, exc):
    calls: list = []
    monkeypatch.setattr(tv_utils, "download_url", _failing(calls, exc))
    root = tmp_path / "data"
    with pytest.raises(DataNotFoundError) as info:
        load_cifar10("train", limit=5, data_dir=root)
    msg = str(info.value)
    for name in CIFAR_ALL:
        assert str(root / "cifar-10-batches-py" / name) in msg
    assert "COURSE_DATA_DIR" in msg and "download failed" in msg
    assert [(c[0], c[2], c[3]) for c in calls] == [(data.CIFAR10_URL, "cifar-10-python.tar.gz",
                                                   data.CIFAR10_MD5)]
    assert leftovers(root) == []


def test_download_that_writes_nothing_is_a_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(tv_utils, "download_url", lambda url, root, filename=None, md5=None: None)
    with pytest.raises(DataNotFoundError, match="md5"):
        data.download("mnist", data_dir=tmp_path)
    assert leftovers(tmp_path) == []


def _serving(files: dict[str, bytes], calls: list, fail_urls=()):
    """A fake download_url that "downloads" from ``files`` (keyed by file name)."""
    def fake(url, root, filename=None, md5=None, **kwargs):
        calls.append(url)
        if url.startswith(tuple(fail_urls)) or filename not in files:
            raise urllib.error.URLError(f"cannot fetch {url}")
        Path(root, filename).write_bytes(files[filename])
    return fake


def test_successful_mnist_download(tmp_path, monkeypatch, mnist_arrays, mnist_gz_files):
    served = {Path(rel).name: blob for rel, blob in mnist_gz_files.items()}
    calls: list = []
    monkeypatch.setattr(tv_utils, "download_url", _serving(served, calls))
    root = tmp_path / "data"
    images, labels, _ = load_mnist("test", data_dir=root)
    assert_same(images, mnist_arrays["test"][0])
    assert_same(labels, mnist_arrays["test"][1])
    assert calls == [data.MNIST_MIRRORS[0] + n + ".gz" for n in MNIST_ALL]
    raw = root / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(n + ".gz" for n in MNIST_ALL)
    for name in MNIST_ALL:
        assert (raw / (name + ".gz")).read_bytes() == served[name + ".gz"]
    assert leftovers(root) == sorted(f"MNIST/raw/{n}.gz" for n in MNIST_ALL)
    # Now complete: no further download, and the train split loads from the .gz files too.
    assert_same(load_mnist("train", limit=100, data_dir=root).images,
                                  mnist_arrays["train"][0][:100])
    assert data.download("mnist", data_dir=root) == root.resolve()
    assert len(calls) == 4


def test_mnist_download_falls_back_to_second_mirror(tmp_path, monkeypatch, mnist_arrays, mnist_gz_files):
    served = {Path(rel).name: blob for rel, blob in mnist_gz_files.items()}
    calls: list = []
    monkeypatch.setattr(tv_utils, "download_url", _serving(served, calls, fail_urls=[data.MNIST_MIRRORS[0]]))
    assert data.download("mnist", data_dir=tmp_path) == tmp_path.resolve()
    assert calls == [m + n + ".gz" for n in MNIST_ALL for m in data.MNIST_MIRRORS]
    assert_same(load_mnist("test", data_dir=tmp_path, download=False).labels,
                                  mnist_arrays["test"][1])
    assert leftovers(tmp_path) == sorted(f"MNIST/raw/{n}.gz" for n in MNIST_ALL)


def test_partial_mnist_download_keeps_only_complete_files(tmp_path, monkeypatch, mnist_gz_files):
    served = {Path(rel).name: blob for rel, blob in mnist_gz_files.items() if "train" in rel}
    calls: list = []
    monkeypatch.setattr(tv_utils, "download_url", _serving(served, calls))
    with pytest.raises(DataNotFoundError):
        data.download("mnist", data_dir=tmp_path)
    assert leftovers(tmp_path) == sorted(f"MNIST/raw/{n}.gz" for n in MNIST_NAMES["train"])
    # Only what is still missing is fetched on the next attempt.
    calls.clear()
    served.update({Path(rel).name: blob for rel, blob in mnist_gz_files.items()})
    data.download("mnist", data_dir=tmp_path)
    assert calls == [data.MNIST_MIRRORS[0] + n + ".gz" for n in MNIST_NAMES["test"]]


def test_successful_cifar_download(tmp_path, monkeypatch, cifar_arrays, test_batch_bytes):
    # Only test_batch is read by load_cifar10("test"); the other members just have to exist.
    members = {name: b"not read" for name in CIFAR_ALL}
    members["test_batch"] = test_batch_bytes
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    calls: list = []
    monkeypatch.setattr(tv_utils, "download_url",
                        _serving({"cifar-10-python.tar.gz": buf.getvalue()}, calls))
    root = tmp_path / "data"
    images, labels, _ = load_cifar10("test", data_dir=root)
    assert calls == [data.CIFAR10_URL]
    arr, want = cifar_arrays["test_batch"]
    assert_same(images, expected_cifar_images(arr))
    assert_same(labels, want)
    assert leftovers(root) == sorted(f"cifar-10-batches-py/{n}" for n in CIFAR_ALL)


def test_read_only_data_dir_loads_without_writing(tmp_path, full_dir, mnist_arrays):
    root = clone(full_dir, tmp_path / "ro")
    dirs = [root, *(p for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]
    for d in dirs:
        d.chmod(0o555)
    try:
        before = snapshot(root)
        assert_same(load_mnist("test", data_dir=root).labels, mnist_arrays["test"][1])
        assert load_mnist("train", limit=10, data_dir=root).images.shape == (10, 28, 28)
        assert load_cifar10("test", limit=10, data_dir=root).images.shape == (10, 32, 32, 3)
        assert load_cifar10("train", limit=10, data_dir=root).labels.shape == (10,)
        assert data.download("mnist", data_dir=root) == root.resolve()  # complete: a no-op
        assert all(row["status"] == "found" for row in data.data_status(root))
        assert snapshot(root) == before
    finally:
        for d in dirs:
            d.chmod(0o755)


def test_download_into_unwritable_dir_explains(tmp_path):
    # A folder below a regular file can never be created, even by root (chmod does not stop root).
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    root = blocker / "data"
    with pytest.raises(DataNotFoundError, match="not writable") as info:
        load_mnist("test", data_dir=root)
    assert "COURSE_DATA_DIR" in str(info.value)
    assert blocker.read_text() == "not a folder"


# =========================================================================== 5. status and CLI

def test_data_status_missing(tmp_path):
    rows = data.data_status(tmp_path)
    assert [r["dataset"] for r in rows] == ["mnist", "cifar10"]
    assert [r["status"] for r in rows] == ["missing", "missing"]
    assert [r["bytes"] for r in rows] == [0, 0]
    assert rows[0]["path"] == str(tmp_path.resolve() / "MNIST" / "raw")
    assert rows[1]["path"] == str(tmp_path.resolve() / "cifar-10-batches-py")
    assert len(rows[0]["missing"]) == 4 and len(rows[1]["missing"]) == 7


def test_data_status_found_and_partial(tmp_path, full_dir, mnist_files):
    rows = {r["dataset"]: r for r in data.data_status(full_dir)}
    assert rows["mnist"]["status"] == rows["cifar10"]["status"] == "found"
    assert rows["mnist"]["missing"] == rows["cifar10"]["missing"] == []
    assert rows["mnist"]["bytes"] == sum(len(b) for b in mnist_files.values())
    assert rows["cifar10"]["bytes"] == sum(p.stat().st_size for p in (full_dir / "cifar-10-batches-py").iterdir())

    root = clone(full_dir, tmp_path / "d", {T10K_IMAGES: None})
    rows = {r["dataset"]: r for r in data.data_status(root)}
    assert rows["mnist"]["status"] == "missing" and rows["cifar10"]["status"] == "found"
    assert rows["mnist"]["missing"] == [str(root / T10K_IMAGES)]


def test_data_status_uses_env(tmp_path, monkeypatch, full_dir):
    monkeypatch.setenv("COURSE_DATA_DIR", str(full_dir))
    assert [r["status"] for r in data.data_status()] == ["found", "found"]
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert [r["status"] for r in data.data_status()] == ["missing", "missing"]


def test_cli_status_found(capsys, full_dir):
    assert data.main(["--data-dir", str(full_dir)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["dataset", "status", "size", "path"]
    assert re.match(r"mnist\s+found\s+[\d.]+MB\s+" + re.escape(str(full_dir / "MNIST" / "raw")), lines[1])
    assert re.match(r"cifar10\s+found\s+[\d.]+MB\s+", lines[2])
    assert status_column(out) == ["found", "found"] and err == ""


def test_cli_status_missing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert data.main([]) == 1
    out, err = capsys.readouterr()
    assert status_column(out) == ["missing", "missing"]
    assert str(tmp_path / "MNIST" / "raw") in out
    assert FIX in err and "COURSE_DATA_DIR" in err
    assert leftovers(tmp_path) == []


def test_cli_check_reads_every_file(capsys, full_dir):
    assert data.main(["--data-dir", str(full_dir), "--check"]) == 0
    out, err = capsys.readouterr()
    for line in ("mnist train: 60000 examples read", "mnist test: 10000 examples read",
                 "cifar10 train: 50000 examples read", "cifar10 test: 10000 examples read"):
        assert line in out
    assert err == ""


def test_cli_check_reports_corrupt_file(capsys, tmp_path, full_dir):
    batch_1 = "cifar-10-batches-py/data_batch_1"
    root = clone(full_dir, tmp_path / "d", {batch_1: b"garbage", T10K_LABELS: b"\x00\x00\x08\x01"})
    assert data.main(["--data-dir", str(root), "--check"]) == 1
    out, err = capsys.readouterr()
    assert status_column(out) == ["found", "found"]  # the files exist: only --check notices
    assert "mnist train: 60000 examples read" in out and "cifar10 test: 10000 examples read" in out
    assert f"cifar10 train: {root / batch_1}" in err
    assert f"mnist test: {root / T10K_LABELS}" in err
    assert FIX in err


def test_cli_check_without_data_does_not_read(capsys, tmp_path):
    assert data.main(["--data-dir", str(tmp_path), "--check"]) == 1
    out, err = capsys.readouterr()
    assert "examples read" not in out and FIX in err


def test_cli_download_failure(capsys, tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(tv_utils, "download_url", _failing(calls, urllib.error.URLError("offline")))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert data.main(["--download"]) == 1
    out, err = capsys.readouterr()
    assert "mnist data not found" in err and "cifar10 data not found" in err and "offline" in err
    assert status_column(out) == ["missing", "missing"]
    assert {c[0] for c in calls} >= {data.CIFAR10_URL}
    assert leftovers(tmp_path) == []


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as info:
        data.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--download" in out and "--check" in out and "--data-dir" in out


# =========================================================================== 6. the real offline copy

def _real_data_complete() -> bool:
    if not REAL_DATA_DIR or not Path(REAL_DATA_DIR).is_dir():
        return False
    return all(row["status"] == "found" for row in data.data_status(REAL_DATA_DIR))


real_data = pytest.mark.skipif(not _real_data_complete(), reason=(
    "set COURSE_DATA_DIR to a folder with MNIST and CIFAR-10 (e.g. ../shared/data) to run"))


@pytest.fixture(scope="module")
def real_root() -> Path:
    return Path(REAL_DATA_DIR).resolve()


@real_data
class TestRealData:
    @pytest.mark.parametrize("split,counts", [("train", MNIST_TRAIN_COUNTS), ("test", MNIST_TEST_COUNTS)])
    def test_mnist(self, real_root, split, counts):
        images, labels, classes = load_mnist(split, data_dir=real_root, download=False)
        n = sum(counts)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert np.bincount(labels, minlength=10).tolist() == counts
        assert images.min() == 0 and images.max() == 255
        assert classes == MNIST_CLASSES

    def test_mnist_matches_torchvision(self, real_root):
        from torchvision.datasets import MNIST

        ours = load_mnist("test", data_dir=real_root, download=False)
        theirs = MNIST(root=str(real_root), train=False, download=False)
        assert_same(ours.images, theirs.data.numpy())
        assert_same(ours.labels, theirs.targets.numpy())
        assert theirs.targets.numpy().dtype == ours.labels.dtype == np.int64

    def test_mnist_gz_matches_raw(self, tmp_path, real_root):
        rels = (T10K_IMAGES, T10K_LABELS)
        root = clone(real_root, tmp_path / "d", {
            **dict.fromkeys(rels), **{r + ".gz": gz((real_root / r).read_bytes()) for r in rels}})
        a = load_mnist("test", data_dir=root, download=False)
        b = load_mnist("test", data_dir=real_root, download=False)
        assert_same(a.images, b.images)
        assert_same(a.labels, b.labels)

    def test_cifar_test(self, real_root):
        images, labels, classes = load_cifar10("test", data_dir=real_root, download=False)
        assert images.shape == (10000, 32, 32, 3) and images.dtype == np.uint8
        assert labels.shape == (10000,) and labels.dtype == np.int64
        assert np.bincount(labels, minlength=10).tolist() == [1000] * 10
        assert images.min() == 0 and images.max() == 255
        assert classes == CIFAR10_CLASSES

    def test_cifar_matches_plain_pickle(self, real_root):
        folder = real_root / "cifar-10-batches-py"
        with open(folder / "test_batch", "rb") as f:
            batch = pickle.load(f, encoding="bytes")  # the dataset's documented recipe
        with open(folder / "batches.meta", "rb") as f:
            meta = pickle.load(f, encoding="bytes")
        images, labels, classes = load_cifar10("test", data_dir=real_root, download=False)
        assert_same(images, expected_cifar_images(batch[b"data"]))
        assert_same(labels, batch[b"labels"])
        assert tuple(n.decode() for n in meta[b"label_names"]) == classes

    def test_cifar_train_limit_reads_two_batches(self, monkeypatch, real_root):
        seen = spy_on_batches(monkeypatch)
        images, labels, _ = load_cifar10("train", limit=12000, data_dir=real_root, download=False)
        assert seen == ["data_batch_1", "data_batch_2"]
        assert images.shape == (12000, 32, 32, 3) and labels.shape == (12000,)
        want = []
        for name in seen:
            with open(real_root / "cifar-10-batches-py" / name, "rb") as f:
                want += pickle.load(f, encoding="bytes")[b"labels"]
        assert_same(labels, want[:12000])

    def test_cifar_train_full(self, real_root):
        images, labels, _ = load_cifar10("train", data_dir=real_root, download=False)
        assert images.shape == (50000, 32, 32, 3)
        assert np.bincount(labels, minlength=10).tolist() == [5000] * 10

    def test_env_var_and_no_writes(self, monkeypatch, capsys, real_root):
        before = snapshot(real_root)
        monkeypatch.setenv("COURSE_DATA_DIR", str(real_root))
        assert load_mnist("test", limit=7).images.shape == (7, 28, 28)
        assert load_cifar10("test", limit=7).images.shape == (7, 32, 32, 3)
        assert data.main([]) == 0
        assert status_column(capsys.readouterr().out) == ["found", "found"]
        assert snapshot(real_root) == before
