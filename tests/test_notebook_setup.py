import re

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib import notebook
from course_lib.data import DataNotFoundError


def test_setup_seeds_threads_and_mode(monkeypatch, capsys, mnist_available, cifar_available):
    monkeypatch.delenv("COURSE_FULL", raising=False)
    before = torch.get_num_threads()
    try:
        cfg = cl.setup(seed=7, threads=1)
        assert torch.get_num_threads() == 1
        a = np.random.rand(), torch.rand(1).item(), cfg.rng.random()
        cl.setup(seed=7, threads=1, quiet=True)
        b = np.random.rand(), torch.rand(1).item(), np.random.default_rng(7).random()
        assert a == b
        assert cfg.full is False and cfg.pick(1, 2) == 1
        assert "fast mode" in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("value,full", [("1", True), ("true", True), ("yes", True), ("0", False), ("", False)])
def test_full_mode_switch(monkeypatch, value, full):
    monkeypatch.setenv("COURSE_FULL", value)
    assert notebook.full_mode() is full


def test_setup_reports_missing_data_clearly(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(tv_utils, "download_url", offline)
    with pytest.raises(DataNotFoundError) as info:
        cl.setup(data_dir=tmp_path, datasets=("mnist",), quiet=True)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "COURSE_DATA_DIR" in message
    assert list(tmp_path.iterdir()) == [] or all(p.name == "MNIST" for p in tmp_path.iterdir())


def test_setup_bad_arguments():
    with pytest.raises(ValueError, match=re.escape("datasets[0] == 'imagenet', must be one of 'mnist', 'cifar10'.")):
        cl.setup(datasets=("imagenet",), quiet=True)
    with pytest.raises(ValueError, match="threads == 0, must be >= 1"):
        cl.setup(threads=0, quiet=True)
    with pytest.raises(TypeError, match="seed must be an int"):
        cl.setup(seed=1.5, quiet=True)
