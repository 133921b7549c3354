"""Long-run results kept beside the notebooks: written by ``COURSE_FULL=1``, shown by the fast mode.

A lesson whose fast version cannot show its effect (too few training steps, too few points) shows the
result of its long run instead -- labelled as such, with where it came from -- next to a quick
re-measurement of one point. The long run writes ``notebooks/results/<name>.json``::

    {"name": ..., "command": ..., "date": "2026-12-06", "cpu_capability": "AVX512", "seed": 0,
     "threads": 2, "full_mode": true, "data": {...}}

:func:`save_result` writes it (only from a full-mode run, unless ``force=True``); :func:`load_result`
reads it back and :func:`provenance` is the label printed above the numbers.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

from .notebook import full_mode
from .timing import cpu_capability

__all__ = ["RESULTS_DIR", "save_result", "load_result", "provenance"]

RESULTS_DIR = Path(__file__).resolve().parent.parent / "notebooks" / "results"
_NAME = re.compile(r"^[0-9]{2}_[a-z0-9_]+$")
FIELDS = ("name", "command", "date", "cpu_capability", "seed", "threads", "full_mode", "data")


def _check_name(name) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name == {name!r}, must be the notebook's number and a short snake_case name, "
                         f"e.g. '03_cnn_schedules'.")
    return name


def _folder(directory) -> Path:
    """The results folder: :data:`RESULTS_DIR`, or ``directory`` checked (a path that is not a file)."""
    if directory is None:
        return RESULTS_DIR
    from ._validation import check_path

    folder = check_path("directory", directory)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"directory == {str(folder)!r} is a file, must be a folder.")
    return folder


def _plain(value, where: str):
    """Check that ``value`` is JSON data: dicts with str keys, lists, str, bool, int, finite floats, None."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} == {value!r}, must be a finite number (JSON has no NaN).")
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} has the key {k!r}, keys must be strings.")
            out[k] = _plain(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "item") and callable(value.item):  # NumPy / torch scalars
        if getattr(value, "ndim", 0) != 0:
            raise TypeError(f"{where} is a {type(value).__name__} of shape {tuple(value.shape)}, must be JSON "
                            f"data: convert an array with .tolist().")
        return _plain(value.item(), where)
    raise TypeError(f"{where} is a {type(value).__name__}, must be JSON data (dict, list, str, number, bool).")


def save_result(name: str, data: Mapping, *, command: str, seed: int, threads: int, force: bool = False,
                directory=None) -> Path | None:
    """Write a long run's result to ``notebooks/results/<name>.json``.

    Parameters
    ----------
    name : str
        ``"<notebook number>_<snake_case>"``, e.g. ``"03_cnn_schedules"``.
    data : mapping
        The numbers (JSON data: NumPy scalars are converted).
    command : str, keyword-only
        How to reproduce it, e.g. ``"COURSE_FULL=1 jupyter nbconvert --execute 03_iterative_pruning.ipynb"``.
    seed, threads : int, keyword-only
        The run's seed and thread count.
    force : bool, keyword-only
        Write even outside the full mode (tests, a module's own command line).
    directory : path, optional, keyword-only
        Another folder (tests).

    Returns
    -------
    pathlib.Path or None
        The file written, or None in the fast mode (a fast run never overwrites the long run's result).

    Raises
    ------
    TypeError, ValueError
        For a bad name, non-JSON data (an array included: pass ``.tolist()``), a command that is not a
        non-empty string, a negative seed, a thread count below 1, or a ``directory`` that is a file.
    """
    from ._validation import check_bool, check_int

    name = _check_name(name)
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict of the run's numbers, got {type(data).__name__}.")
    data = _plain(data, "data")
    if not isinstance(command, str) or not command.strip():
        raise ValueError(f"command == {command!r}, must say how to reproduce the run.")
    seed = check_int("seed", seed, minimum=0)
    threads = check_int("threads", threads, minimum=1)
    force = check_bool("force", force)
    folder = _folder(directory)
    if not (full_mode() or force):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "command": command, "date": datetime.date.today().isoformat(),
              "cpu_capability": cpu_capability(), "seed": seed, "threads": threads, "full_mode": full_mode(),
              "data": data}
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load_result(name: str, *, directory=None) -> dict:
    """Read a long run's result written by :func:`save_result`.

    Returns
    -------
    dict
        The whole record (:data:`FIELDS`); the numbers are under ``"data"``.

    Raises
    ------
    TypeError, ValueError
        For a bad name or ``directory``, or a file that is not such a record.
    FileNotFoundError
        If the long run was never saved (the message says the command that writes it).
    """
    name = _check_name(name)
    path = _folder(directory) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run the notebook with COURSE_FULL=1 once to write it.")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}): rerun its long version to write it again.") from None
    missing = [f for f in FIELDS if not isinstance(record, dict) or f not in record]
    if missing:
        raise ValueError(f"{path} misses {missing}: rerun its long version to write it again.")
    return record


def provenance(record: Mapping) -> str:
    """The label printed above a long run's numbers: what ran, when, on which CPU.

    Examples
    --------
    >>> provenance({"command": "COURSE_FULL=1 ...", "date": "2026-12-06", "cpu_capability": "AVX512",
    ...             "seed": 0, "threads": 2})
    'long run (stored result, not this run): COURSE_FULL=1 ..., 2026-12-06, CPU capability AVX512, seed 0, 2 threads'

    Raises
    ------
    TypeError, ValueError
        If ``record`` is not a mapping with ``command``, ``date``, ``cpu_capability``, ``seed`` and ``threads``.
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a dict from load_result, got {type(record).__name__}.")
    missing = [k for k in ("command", "date", "cpu_capability", "seed", "threads") if k not in record]
    if missing:
        raise ValueError(f"record misses {missing}, must be a record from load_result.")
    threads = record["threads"]
    return (f"long run (stored result, not this run): {record['command']}, {record['date']}, "
            f"CPU capability {record['cpu_capability']}, seed {record['seed']}, "
            f"{threads} thread{'' if threads == 1 else 's'}")
