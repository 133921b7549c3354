"""Exercises of notebook 03: iterative pruning."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise

__all__ = ["cubic_case"]


def cubic_case(s_i, s_f, t0, t_end):
    """A case for ``cubic_sparsity(t, s_i, s_f, t0, t_end)``, called for every step from ``t0 - 3`` to ``t_end + 3``."""
    def verdict(got, steps, s_i, s_f, t0, t_end):
        from ...pruning import gradual_sparsity

        expected = np.array([gradual_sparsity(t, final_sparsity=s_f, initial_sparsity=s_i, begin_step=t0,
                                              end_step=t_end) for t in steps])
        try:
            got = np.array(got, dtype=float)
        except (TypeError, ValueError):
            return [f"cubic_sparsity must return a number, got {[type(g).__name__ for g in got][:3]}"]
        return compare(got, expected, name=f"cubic_sparsity(t, {s_i}, {s_f}, {t0}, {t_end}) for t = {steps[0]}.."
                       f"{steps[-1]}", rtol=1e-9, atol=1e-12)
    return Case(lambda: (list(range(max(0, t0 - 3), t_end + 4)), s_i, s_f, t0, t_end), verdict)


def _each_step(fn, args):
    steps, *rest = args
    return [fn(t, *rest) for t in steps]


exercise("03-gradual", "Zhu & Gupta's gradual (cubic) sparsity schedule", probe=_each_step).cases.extend([
    ("0 -> 90% over steps 0..10", cubic_case(0.0, 0.9, 0, 10)),
    ("50% -> 95% over steps 5..25", cubic_case(0.5, 0.95, 5, 25)),
    ("one-step ramp", cubic_case(0.1, 0.8, 3, 4)),
])
