"""One call at the top of every notebook: ``cfg = cl.setup()``.

It seeds Python, NumPy and torch; fixes the thread count of torch and BLAS (so
timings and results compare between runs); sets the plot style; keeps
deprecation warnings of libraries out of the notebook's outputs; checks that
the data is there (downloading it when missing, or saying exactly how to get
it); and reads the fast/full switch, ``COURSE_FULL=1``.
"""

from __future__ import annotations

import os
import random
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data as course_data
from ._validation import check_int, check_names

__all__ = ["CourseConfig", "setup", "full_mode"]


def full_mode() -> bool:
    """True when ``COURSE_FULL`` is set to 1/true/yes/on: run the long versions.

    Returns
    -------
    bool
        Whether the environment variable ``COURSE_FULL`` asks for the full mode (any case).
    """
    return os.environ.get("COURSE_FULL", "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class CourseConfig:
    """What :func:`setup` decided; ``cfg.pick(fast, full)`` chooses by mode.

    Parameters
    ----------
    full : bool
        The full mode (``COURSE_FULL=1``), else the fast one.
    seed : int
        The seed of every generator.
    threads : int
        The thread count of torch and BLAS.
    data_dir : pathlib.Path
        Where the data sets are.
    rng : numpy.random.Generator
        A generator seeded with ``seed``, for the notebook's own draws.
    """

    full: bool
    seed: int
    threads: int
    data_dir: Path
    rng: np.random.Generator

    def pick(self, fast, full):
        """``full`` in the long mode (COURSE_FULL=1), else ``fast``.

        Parameters
        ----------
        fast, full : object
            The values for the fast and the full mode (sizes, epochs, lists of settings).

        Returns
        -------
        object
            One of them, unchanged.
        """
        return full if self.full else fast


def setup(*, seed: int = 0, threads: int = 2, datasets=("mnist", "cifar10"), data_dir=None,
          quiet: bool = False) -> CourseConfig:
    """Prepare a notebook; returns a :class:`CourseConfig`.

    Parameters
    ----------
    seed : int
        Seeds ``random``, NumPy's legacy global state, torch, and ``cfg.rng``.
    threads : int
        Threads for torch and BLAS (default 2: the course's reference laptop).
    datasets : tuple of {"mnist", "cifar10"}
        Data sets the notebook needs; missing ones are downloaded or reported.
    data_dir : str, path or None
        The data folder (default: ``$COURSE_DATA_DIR``, else the repository's ``data/``).
    quiet : bool
        Do not print the one-line summary.

    Returns
    -------
    CourseConfig
        The mode, seed, threads, data folder and a seeded generator.

    Raises
    ------
    TypeError
        If ``seed`` or ``threads`` is not an int, or a data set name not a str.
    ValueError
        If ``seed`` is negative, ``threads`` below 1 or a data set unknown.
    course_lib.data.DataNotFoundError
        If a data set is missing and cannot be downloaded (the message says how to get it).
    """
    import matplotlib
    import torch
    from threadpoolctl import threadpool_limits

    seed = check_int("seed", seed, minimum=0)
    threads = check_int("threads", threads, minimum=1)
    datasets = check_names("datasets", datasets, allowed=("mnist", "cifar10"), allow_empty=True)

    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*")

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (student code may use the legacy global generator)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)

    matplotlib.rcParams.update({
        "figure.figsize": (7.0, 3.6), "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "font.size": 10,
        "image.cmap": "gray", "axes.prop_cycle": matplotlib.cycler(color=[
            "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]),
    })

    root = course_data.data_dir(data_dir)
    for name in datasets:
        course_data.download(name, data_dir=root)  # no-op when present; clear error when impossible

    cfg = CourseConfig(full_mode(), seed, threads, root, np.random.default_rng(seed))
    if not quiet:
        mode = "full mode (COURSE_FULL=1)" if cfg.full else "fast mode (set COURSE_FULL=1 for the full runs)"
        print(f"course_lib ready: {mode}, seed {seed}, {threads} threads, data: {', '.join(datasets)} found.")
    return cfg
