"""The exercise mechanism every notebook uses.

An exercise is two cells:

1. the **exercise cell**, where the student's code goes; in the instructor's
   notebook the solution sits between ``### BEGIN SOLUTION`` and
   ``### END SOLUTION`` (the release tool replaces that region with a
   ``NotImplementedError`` naming the exercise);
2. the **check cell**, tagged ``nbval-check-output``, that calls
   ``cl.check("<exercise id>", answer)``.

The check runs the exercise's registered checker, which computes the expected
result itself (from the library or a real model -- never from a literal an
answer could be copied from) and compares. It prints **one** short line:

* ``[00-mlp-params] correct: 3/3 cases pass.`` when everything matches -- this
  line is deterministic and is what nbval compares with the reference notebook;
* ``[00-mlp-params] not yet: ...`` followed by what is wrong (type, shape,
  dtype, which entries) when it does not. The feedback never prints expected
  values, so the answer cannot be read from the output.

Checkers receive the student's answer (usually a function, so that it can be
called on cases the student never saw -- the hook for hidden tests: extra
cases registered with :func:`add_cases`).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Exercise",
    "CheckResult",
    "exercise",
    "add_cases",
    "check",
    "compare",
    "compare_fields",
    "EXERCISES",
]


@dataclass
class Exercise:
    """A registered exercise: an id that never changes, a title, points and its cases.

    ``cases`` is a list of ``(label, run)`` where ``run(answer)`` returns a list of
    problems (empty when the answer is right for that case).
    """

    id: str
    title: str
    points: int = 1
    cases: list[tuple[str, Callable[[Any], list[str]]]] = field(default_factory=list)


EXERCISES: dict[str, Exercise] = {}


@dataclass
class CheckResult:
    """What :func:`check` found; truthy when the answer is correct."""

    exercise_id: str
    passed: int
    total: int
    problems: list[str]

    def __bool__(self):
        return self.passed == self.total and not self.problems

    def _ipython_display_(self):
        """Show nothing when a check is the last line of a cell: check() already printed."""

    @property
    def line(self) -> str:
        if self:
            return f"[{self.exercise_id}] correct: {self.passed}/{self.total} cases pass."
        return f"[{self.exercise_id}] not yet: {self.passed}/{self.total} cases pass."


def exercise(exercise_id: str, title: str, *, points: int = 1) -> Exercise:
    """Register (or return the already registered) exercise ``exercise_id``."""
    if not isinstance(exercise_id, str) or not exercise_id:
        raise TypeError(f"exercise_id must be a non-empty str, got {exercise_id!r}.")
    if exercise_id not in EXERCISES:
        EXERCISES[exercise_id] = Exercise(exercise_id, title, points)
    return EXERCISES[exercise_id]


def add_cases(exercise_id: str, *cases: tuple[str, Callable[[Any], list[str]]]) -> None:
    """Add ``(label, run)`` cases to a registered exercise (used for hidden tests)."""
    if exercise_id not in EXERCISES:
        raise ValueError(f"exercise_id == {exercise_id!r}, must be one of {sorted(EXERCISES)}.")
    EXERCISES[exercise_id].cases.extend(cases)


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "not implemented yet (replace the `raise NotImplementedError` with your code)"
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (line {frame.lineno})" if frame and frame.filename.startswith("<ipython") else ""
    return f"your code raised {type(exc).__name__}: {exc}{where}"


def check(exercise_id: str, answer: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``answer`` for exercise ``exercise_id``; print one line of feedback.

    Returns a :class:`CheckResult` (truthy when correct). Never raises because
    of the answer: an answer that crashes is reported as a problem.
    """

    if exercise_id not in EXERCISES:
        raise ValueError(f"exercise_id == {exercise_id!r}, must be one of {sorted(EXERCISES)}.")
    ex = EXERCISES[exercise_id]
    passed, problems = 0, []
    for label, run in ex.cases:
        try:
            found = run(answer)
        except Exception as exc:  # the student's code may raise anything
            found = [_describe_error(exc)]
        if found:
            problems.extend(f"{label}: {p}" for p in found)
        else:
            passed += 1
    result = CheckResult(exercise_id, passed, len(ex.cases), problems)
    if not quiet:
        print(result.line)
        for p in problems[:8]:
            print("  -", p)
        if len(problems) > 8:
            print(f"  - ... and {len(problems) - 8} more")
    return result


def compare(answer: Any, expected: Any, *, name: str = "answer", rtol: float = 1e-6,
            atol: float = 0.0, check_dtype_kind: bool = True) -> list[str]:
    """Compare an answer with the expected array; return problems, never values.

    Reports, in order: not convertible to an array, wrong shape, wrong kind of
    dtype (integer vs floating point vs boolean), NaN/inf, and which entries
    differ (their indices, at most five, never the expected numbers).
    """
    expected = np.asarray(expected)
    try:
        got = np.asarray(answer)
    except Exception:
        return [f"{name} is a {type(answer).__name__} that is not a regular array of numbers"]
    if answer is None:
        return [f"{name} is None: did you forget to `return` it?"]
    if got.dtype == object:
        return [f"{name} is a {type(answer).__name__} that is not a regular array of numbers"]
    if got.shape != expected.shape:
        return [f"{name} has shape {got.shape}, expected {expected.shape}"]
    if check_dtype_kind and got.dtype.kind != expected.dtype.kind and not (
            got.dtype.kind in "iu" and expected.dtype.kind in "iu"):
        kinds = {"i": "integer", "u": "integer", "f": "floating point", "b": "boolean", "c": "complex"}
        return [f"{name} has dtype {got.dtype} ({kinds.get(got.dtype.kind, got.dtype.kind)}), "
                f"expected {kinds.get(expected.dtype.kind, expected.dtype.kind)} values"]
    if got.dtype.kind in "fc" and not np.all(np.isfinite(got)):
        return [f"{name} contains NaN or infinite values"]
    if expected.dtype.kind in "fc":
        ok = np.isclose(got, expected, rtol=rtol, atol=atol)
    else:
        ok = got == expected
    ok = np.asarray(ok)
    if not ok.all():
        bad = np.argwhere(~ok) if ok.ndim else np.zeros((1, 0), dtype=int)
        shown = ", ".join(str(tuple(int(i) for i in idx)) if len(idx) != 1 else str(int(idx[0]))
                          for idx in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        where = f" at index {shown}{more}" if ok.ndim else ""
        return [f"{name} is wrong in {int((~ok).sum())} of {ok.size} entries{where}"]
    return []


def compare_fields(name: str, answer: Any, expected: dict) -> list[str]:
    """Compare an answer that must be a dict with ``expected``'s keys, each value with :func:`compare`.

    Like :func:`compare`, the problems never contain an expected value.
    """
    if not isinstance(answer, dict):
        return [f"{name} returned a {type(answer).__name__}, expected a dict with keys {sorted(expected)}"]
    missing = sorted(k for k in expected if k not in answer)
    if missing:
        return [f"{name} has no key {missing}: expected the keys {sorted(expected)}"]
    return [p for key, value in expected.items() for p in compare(answer[key], value, name=f"{name}[{key!r}]")]
