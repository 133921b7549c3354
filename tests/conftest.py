import os
from pathlib import Path

import pytest


def _has_real_data(*parts) -> bool:
    root = os.environ.get("COURSE_DATA_DIR")
    if root is None:
        from course_lib.data import REPO_DATA_DIR as root
    return Path(root, *parts).is_dir()


@pytest.fixture
def mnist_available():
    if not _has_real_data("MNIST", "raw"):
        pytest.skip("MNIST not present: set COURSE_DATA_DIR or run `make data`")


@pytest.fixture
def cifar_available():
    if not _has_real_data("cifar-10-batches-py"):
        pytest.skip("CIFAR-10 not present: set COURSE_DATA_DIR or run `make data`")
