"""Small helpers shared by the test modules (``from helpers import ...``: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import pytest

import course_lib as cl

# torch is imported by the helpers that need it: the NumPy-only tests also run where torch is not installed


def raises(exc, message, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` raises ``exc`` whose message is exactly ``message``."""
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert str(info.value) == message, f"got:      {info.value}\nexpected: {message}"


def fresh_model(name: str = "lenet300", seed: int = 0):
    """An untrained course model with seeded initial weights."""
    import torch

    torch.manual_seed(seed)
    return cl.build_model(name)


def state_copy(model) -> dict:
    """A detached copy of ``model``'s state dict."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_state_equal(model, state: dict) -> None:
    """``model``'s state equals ``state`` (same keys, identical tensors)."""
    import torch

    now = model.state_dict()
    assert now.keys() == state.keys()
    assert all(torch.equal(now[k], state[k]) for k in state)


def mnist_subset(n_train: int, n_test: int):
    """``(train, test)`` MNIST subsets; skips the test (with the fix) when MNIST is not on disk."""
    try:
        return (cl.load_mnist("train", limit=n_train, download=False),
                cl.load_mnist("test", limit=n_test, download=False))
    except cl.DataNotFoundError:
        pytest.skip("MNIST not present: set COURSE_DATA_DIR or run `make data`")
