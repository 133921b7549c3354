import os
from pathlib import Path

import pytest

# The tests run two workers on two cores, and the notebook kernels, JupyterLab's kernels and the
# graders they start run beside them, each with 2 torch threads (cl.setup). OpenMP threads that spin
# while they wait make such oversubscription ~20x slower (notebook 03 took 750 s instead of 70 s);
# passive waiting costs a single process little. Inherited by every kernel the tests start.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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


@pytest.fixture
def one_thread():
    """One torch/BLAS thread: on a shared 2-core machine two threads can be many times slower."""
    import course_lib as cl

    with cl.fixed_threads(1):
        yield
