"""The benchmark machinery: a :class:`Row` per comparison, the registry, the runner and its table.

Every benchmark measures two things side by side in the same run and reports their **ratio** --
ours vs a reference library, compressed vs dense, batched vs single -- because an absolute time on
one machine is not a verdict. A family's module (:mod:`course_lib.bench.pruning`, ...) registers its
benchmarks with :func:`benchmark`; times are medians (:func:`course_lib.timing.latency`, the course's
one timing statistic).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

from .._validation import check_int
from ..report import format_table
from ..timing import latency

__all__ = ["Row", "BENCHMARKS", "benchmark", "median_seconds", "run", "format_rows", "main"]


class Row(NamedTuple):
    """One comparison: ``ratio = a / b`` with what a and b are.

    Parameters
    ----------
    benchmark : str
        The benchmark's name (a key of :data:`BENCHMARKS`).
    case : str
        What was measured, e.g. ``"1024x1024, batch 1, 90% zeros"``.
    a_label, b_label : str
        What ``a`` and ``b`` are (``"CSR"``, ``"dense"``).
    a, b : float
        The two measurements, in ``unit``.
    unit : str
        ``"ms"``, ``"s"`` or ``"bytes"``.
    """

    benchmark: str
    case: str
    a_label: str
    a: float
    b_label: str
    b: float
    unit: str

    @property
    def ratio(self) -> float:
        """``a / b`` (infinite when ``b`` is 0)."""
        return self.a / self.b if self.b else float("inf")


BENCHMARKS: dict[str, Callable[[bool], list[Row]]] = {}


def benchmark(name: str):
    """Register ``fn(quick: bool) -> list[Row]`` under ``name`` (a decorator).

    ``quick`` asks for few repeats and small sizes (a smoke run); the rows are the comparisons.

    Parameters
    ----------
    name : str
        The benchmark's name on the command line and in :data:`BENCHMARKS`.

    Returns
    -------
    callable
        The decorator; it returns ``fn`` unchanged.
    """
    def register(fn):
        BENCHMARKS[name] = fn
        return fn
    return register


def median_seconds(fn, repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``fn()`` in seconds (no warm-up: a first load counts).

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    repeats : int
        Timed calls (>= 1).

    Returns
    -------
    float
        Seconds.
    """
    import torch

    repeats = check_int("repeats", repeats, minimum=1)
    return latency(fn, warmup=0, repeats=repeats, threads=torch.get_num_threads()).median_ms / 1e3


def run(names=None, *, quick: bool = False) -> list[Row]:
    """Run the named benchmarks (all when None) and return their rows.

    Parameters
    ----------
    names : sequence of str or None
        Keys of :data:`BENCHMARKS`, run in this order; all of them when None or empty.
    quick : bool, keyword-only
        Few repeats: a smoke run.

    Returns
    -------
    list of Row
        The rows of every benchmark run, in order.

    Raises
    ------
    ValueError
        If a name is not a benchmark.
    """
    names = list(BENCHMARKS) if not names else list(names)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise ValueError(f"names contains {unknown}, must be among {sorted(BENCHMARKS)}.")
    rows = []
    for name in names:
        rows.extend(BENCHMARKS[name](quick))
    return rows


def format_rows(rows: list[Row]) -> str:
    """The rows as an aligned text table (:func:`course_lib.report.format_table`): benchmark, case, A, B, A/B.

    Parameters
    ----------
    rows : list of Row
        As returned by :func:`run`.

    Returns
    -------
    str
        A header line, a line of dashes and one line per row.
    """
    def value(label, x, unit):
        return f"{label} {x:.4g}{unit if unit != 'bytes' else 'B'}"

    return format_table([{"benchmark": r.benchmark, "case": r.case, "A": value(r.a_label, r.a, r.unit),
                          "B": value(r.b_label, r.b, r.unit), "A/B": f"{r.ratio:.3f}"} for r in rows],
                        ["benchmark", "case", "A", "B", "A/B"])


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.bench [--quick] [NAME ...]``; prints the table.

    Parameters
    ----------
    argv : list of str or None
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m course_lib.bench",
                                     description="the course's benchmarks: ratios, measured side by side")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run")
    args = parser.parse_args(argv)
    print(format_rows(run(args.names, quick=args.quick)))
    return 0
