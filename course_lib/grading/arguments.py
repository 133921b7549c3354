"""The grading command line's arguments, checked before any work: one line naming the option and the rule."""

from __future__ import annotations

import math
import os
from pathlib import Path

from .course import DEFAULT_HIDDEN

__all__ = ["check_arguments", "session_default"]


def check_arguments(parser, args) -> None:
    """Refuse nonsense at once, naming the option and the rule, before any work (argparse: exit status 2).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The grading command line's parser (its ``error`` prints the usage and one line, and exits 2).
    args : argparse.Namespace
        What it parsed.
    """
    for option, value in (("--cell-timeout", args.cell_timeout), ("--notebook-timeout", args.notebook_timeout)):
        if not (math.isfinite(value) and value > 0):
            parser.error(f"{option} {value:g}: must be a number of seconds > 0")
    if args.memory_mb < 256:
        parser.error(f"--memory-mb {args.memory_mb}: must be at least 256 (a kernel with PyTorch needs about 500)")
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: must be at least 1 (notebooks run at once)")
    if args.dask_local is not None and args.dask_local < 1:
        parser.error(f"--dask-local {args.dask_local}: must be at least 1 worker")
    if not isinstance(args.hidden_seed, int) or not 0 <= args.hidden_seed < 2**63:
        parser.error(f"--hidden-seed {args.hidden_seed}: must be an int in [0, 2**63) (or $COURSE_HIDDEN_SEED)")
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        parser.error(f"--data-dir {args.data_dir}: not a folder (it must hold MNIST and CIFAR-10)")
    course = Path(args.course)
    if not course.is_dir() or not any(course.glob("*.ipynb")):
        parser.error(f"--course {args.course}: must be a folder of instructor notebooks (.ipynb)")
    for name in args.notebooks or []:
        if not (course / name).is_file():
            parser.error(f"--notebooks {name}: not a notebook of --course {args.course}")
    if not args.no_hidden and args.hidden != str(DEFAULT_HIDDEN):
        hidden = Path(args.hidden)
        if not ((hidden.is_file() and hidden.suffix == ".py") or (hidden.is_dir() and any(hidden.glob("*.py")))):
            parser.error(f"--hidden {args.hidden}: must be a .py file or a folder of .py files (hidden tests)")
    if Path(args.out).is_dir():
        parser.error(f"--out {args.out}: is a folder, must be the CSV file to write")
    if args.feedback is not None and Path(args.feedback).exists() and not Path(args.feedback).is_dir():
        parser.error(f"--feedback {args.feedback}: is a file, must be a folder (one file per student)")
    if args.journal is not None and Path(args.journal).exists():
        journal = Path(args.journal)
        try:
            head = journal.read_bytes()[:16] if journal.is_file() else b""
        except OSError:
            head = b""
        if head and head != b"SQLite format 3\x00" or not journal.is_file():
            parser.error(f"--journal {args.journal}: not an SQLite journal (give a new file, or one the grader wrote)")
    for path in args.self_paths or []:
        if not Path(path).is_file():
            parser.error(f"--self {path}: no such notebook file")


def session_default() -> int | str:
    """``$COURSE_HIDDEN_SEED`` as an int, 0 when unset (its text if not an int: argparse refuses it)."""
    text = os.environ.get("COURSE_HIDDEN_SEED", "").strip()
    try:
        return int(text) if text else 0
    except ValueError:
        return text
