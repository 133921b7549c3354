"""The course's benchmarks: ``python -m course_lib.bench [--quick] [NAME ...]`` (``make bench``).

Every benchmark measures two things side by side in the same run and reports their **ratio** -- ours vs
a reference library, compressed vs dense, batched vs single -- because an absolute time on one machine is
not a verdict. One module per family registers its benchmarks (:func:`benchmark`): :mod:`.basics` (data,
latency, models), :mod:`.pruning`, :mod:`.channels`, :mod:`.quantization`, :mod:`.int8`,
:mod:`.factorization` (svd, flattened, tt), :mod:`.sharing`, :mod:`.llmquant`, :mod:`.widgets`,
:mod:`.grading` (grading, grading-dask).
The technique packages never import this one.

Not part of the timed test suite (a smoke run of ``--quick`` is).
"""

from __future__ import annotations

from . import (  # noqa: F401
    basics,
    channels,
    factorization,
    grading,
    int8,
    llmquant,
    pruning,
    quantization,
    sharing,
    widgets,
)
from .core import BENCHMARKS, Row, benchmark, format_rows, main, median_seconds, run
from .widgets import WIDGET_BUDGET_MS

__all__ = ["Row", "BENCHMARKS", "WIDGET_BUDGET_MS", "benchmark", "median_seconds", "run", "format_rows", "main"]
