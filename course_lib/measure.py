"""Measuring what compression buys: parameters, bytes, accuracy and latency.

Storage formats are a small registry: :func:`storage_bytes` looks the format
up by name, so later lessons add ``"csr"``, ``"int8"``, ``"float16"``,
``"low_rank"``, ``"tt"`` ... with :func:`register_format` without touching
this module.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ._validation import check_choice, check_int

__all__ = [
    "count_parameters",
    "storage_bytes",
    "register_format",
    "STORAGE_FORMATS",
    "accuracy",
    "predict",
    "Latency",
    "latency",
    "fixed_threads",
]


def _arrays(obj) -> list[np.ndarray]:
    """The arrays held by a model, a state dict, a tensor, an array or a list of them."""
    if isinstance(obj, torch.nn.Module):
        return [p.detach().cpu().numpy() for p in obj.parameters()]
    if isinstance(obj, torch.Tensor):
        return [obj.detach().cpu().numpy()]
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in _arrays(v)]
    if isinstance(obj, (list, tuple)) and not (obj and np.isscalar(obj[0])):
        return [a for v in obj for a in _arrays(v)]
    arr = np.asarray(obj)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"obj must be a torch model, a tensor, an array or a list/dict of them, "
                        f"got {type(obj).__name__}.")
    return [arr]


def count_parameters(obj, *, nonzero: bool = False) -> int:
    """Number of parameters (trainable weights and biases) in ``obj``.

    ``obj`` is a ``torch.nn.Module`` (its ``parameters()``; buffers such as
    batch-norm statistics are not counted), a tensor, an array or a list or
    dict of them. With ``nonzero=True`` only non-zero entries count -- the
    measure pruning reports.
    """
    arrays = _arrays(obj)
    if nonzero:
        return int(sum(np.count_nonzero(a) for a in arrays))
    return int(sum(a.size for a in arrays))


def _dense_bytes(itemsize: int) -> Callable[[np.ndarray], int]:
    def size(arr: np.ndarray) -> int:
        return int(arr.size) * itemsize
    return size


STORAGE_FORMATS: dict[str, Callable[[np.ndarray], int]] = {
    "float32": _dense_bytes(4),
    "float64": _dense_bytes(8),
}


# modules that register more formats when imported (sparse, quantized, low-rank, ...)
_FORMAT_PROVIDERS = ("pruning", "quantization")


def _load_format_providers() -> None:
    import importlib

    for module in _FORMAT_PROVIDERS:
        try:
            importlib.import_module(f"course_lib.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"course_lib.{module}":
                raise


def register_format(name: str, bytes_of_array: Callable[[np.ndarray], int]) -> None:
    """Add a storage format: ``bytes_of_array(array) -> int`` for one weight array."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}.")
    if not callable(bytes_of_array):
        raise TypeError(f"bytes_of_array must be callable, got {type(bytes_of_array).__name__}.")
    STORAGE_FORMATS[name] = bytes_of_array


def storage_bytes(obj, fmt: str = "float32") -> int:
    """Bytes needed to store the parameters of ``obj`` in format ``fmt``.

    ``"float32"``: 4 bytes per parameter, the dense baseline every other format
    is compared with. The figure counts the numbers only -- no file headers,
    no names -- so it is the size any serialisation must at least pay.
    """
    if fmt not in STORAGE_FORMATS:
        _load_format_providers()
    check_choice("fmt", fmt, tuple(STORAGE_FORMATS))
    size = STORAGE_FORMATS[fmt]
    return int(sum(size(a) for a in _arrays(obj)))


@contextmanager
def fixed_threads(threads: int):
    """Run the block with ``threads`` threads in torch and in NumPy's BLAS, then restore."""
    threads = check_int("threads", threads, minimum=1)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


def predict(model: torch.nn.Module, images, *, batch_size: int = 1000) -> np.ndarray:
    """Predicted class of each uint8 image, computed in batches (int64 array)."""
    from .models import to_tensor

    batch_size = check_int("batch_size", batch_size, minimum=1)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    was_training = model.training
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            out.append(model(to_tensor(images[start:start + batch_size])).argmax(1).numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def accuracy(model: torch.nn.Module, images, labels, *, batch_size: int = 1000) -> float:
    """Fraction of ``images`` (uint8, as loaded) that ``model`` classifies as ``labels``."""
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} != {len(labels)}.")
    if len(labels) == 0:
        raise ValueError("labels is empty, must have at least one example.")
    return float(np.mean(predict(model, images, batch_size=batch_size) == labels))


class Latency(NamedTuple):
    """Result of :func:`latency`: median and spread of ``repeats`` timed calls, in ms."""

    median_ms: float
    iqr_ms: float
    min_ms: float
    repeats: int
    threads: int

    def __str__(self):
        return f"{self.median_ms:.3g} ms (IQR {self.iqr_ms:.2g}, {self.repeats} runs, {self.threads} thread(s))"


def latency(fn: Callable[[], object], *, warmup: int = 3, repeats: int = 20, threads: int = 1,
            min_time: float = 0.0) -> Latency:
    """Wall-clock latency of ``fn()`` on the CPU: warm-up, then the median of repeats.

    Parameters
    ----------
    fn : callable
        Called with no arguments (wrap yours: ``lambda: model(x)``).
    warmup : int
        Untimed calls first (caches, lazy initialisation, allocator).
    repeats : int
        Timed calls; the median is robust to the odd slow one.
    threads : int
        Thread count for torch and BLAS during the measurement (restored after),
        so that numbers compare across machines and runs.
    min_time : float
        Keep repeating (beyond ``repeats``) until this many seconds have been timed.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}.")
    warmup = check_int("warmup", warmup, minimum=0)
    repeats = check_int("repeats", repeats, minimum=1)
    times = []
    with fixed_threads(threads), torch.inference_mode():
        for _ in range(warmup):
            fn()
        total = 0.0
        while len(times) < repeats or total < min_time:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            times.append(elapsed * 1e3)
            total += elapsed
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return Latency(statistics.median(times), q[2] - q[0], min(times), len(times), threads)
