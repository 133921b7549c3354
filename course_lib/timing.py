"""Timing on the CPU: a fixed thread count, warm-up, the median of repeats. Torch-free.

PyTorch's thread count is fixed too, when PyTorch is loaded; NumPy-only code (the
sparse-product benchmark of :mod:`course_lib.pruning.sparse`) times without it.
A timing is shown, never compared by a notebook check: it depends on the machine and its load.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import NamedTuple

from ._validation import check_int

__all__ = ["Latency", "latency", "fixed_threads", "cpu_capability"]


@contextmanager
def fixed_threads(threads: int):
    """Run the block with ``threads`` threads in torch and in NumPy's BLAS, then restore.

    Parameters
    ----------
    threads : int
        At least 1.

    Raises
    ------
    TypeError
        If ``threads`` is not an int.
    ValueError
        If ``threads`` is below 1.
    """
    threads = check_int("threads", threads, minimum=1)
    torch = sys.modules.get("torch")  # only if loaded: NumPy-only callers never import it
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ModuleNotFoundError:  # a NumPy-only environment: BLAS keeps its own thread count
            limits = contextlib.nullcontext()
        else:
            limits = threadpool_limits(limits=threads)
        with limits:
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)



class Latency(NamedTuple):
    """Result of :func:`latency`: median and spread of ``repeats`` timed calls, in ms.

    Parameters
    ----------
    median_ms : float
        The median time of one call.
    iqr_ms : float
        The interquartile range (75th minus 25th percentile).
    min_ms : float
        The fastest call.
    repeats : int
        How many calls were timed (``repeats`` or more, with ``min_time``).
    threads : int
        The thread count during the measurement.
    """

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

    Returns
    -------
    Latency
        Median, interquartile range and minimum in milliseconds.

    Raises
    ------
    TypeError
        If ``fn`` is not callable, or ``warmup``, ``repeats`` or ``threads`` is not an int.
    ValueError
        If ``min_time`` is not a finite number >= 0 (a wrong type included), ``warmup`` is negative,
        or ``repeats`` or ``threads`` is below 1.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}.")
    if (isinstance(min_time, bool) or not isinstance(min_time, (int, float)) or not min_time >= 0
            or not math.isfinite(min_time)):
        raise ValueError(f"min_time == {min_time!r}, must be a finite number of seconds >= 0.")
    warmup = check_int("warmup", warmup, minimum=0)
    repeats = check_int("repeats", repeats, minimum=1)
    times = []
    torch = sys.modules.get("torch")
    no_grad = torch.inference_mode() if torch is not None else contextlib.nullcontext()
    with fixed_threads(threads), no_grad:
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


def cpu_capability() -> str:
    """The vector instructions PyTorch's CPU kernels use here: ``"AVX2"``, ``"AVX512"``, ``"DEFAULT"`` (e.g. ARM).

    Printed beside every speed figure of the course: int8 and sparse speed-ups depend on it.
    ``ATEN_CPU_CAPABILITY=avx2`` makes an AVX-512 machine behave (and answer) as an AVX2-only one.
    Without PyTorch loaded, the machine's architecture is returned (``platform.machine()``).

    Returns
    -------
    str
    """
    torch = sys.modules.get("torch")
    if torch is None:
        import platform

        return platform.machine() or "unknown"
    return torch.backends.cpu.get_cpu_capability()

