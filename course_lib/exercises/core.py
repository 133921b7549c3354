"""The exercise mechanism every notebook uses.

An exercise is two cells:

1. the **exercise cell**, where the student's code goes; in the instructor's
   notebook the solution sits between ``### BEGIN SOLUTION`` and
   ``### END SOLUTION`` (the release tool replaces that region with a
   ``NotImplementedError`` naming the exercise);
2. the **check cell**, tagged ``nbval-check-output``, that calls
   ``cl.check("<exercise id>", answer)``.

A **case** is data: how to make its inputs (:attr:`Case.inputs`, plain data: numbers,
strings, NumPy arrays, lists and tuples of them) and its **verdict**
(:attr:`Case.verdict`), which computes the expected result itself -- from the library
or a real model, never from a literal an answer could be copied from -- and compares
it with what the answer returned. Checking a case is three steps, kept apart:

* *collect*: the exercise's probe calls the answer on a copy of the inputs (usually
  ``answer(*inputs)``) and what comes back is reduced to plain data
  (:func:`course_lib.exercises.plain`); an answer that raises is recorded as such;
* *verdict*: ``case.verdict(got, *inputs)`` returns the problems (empty: correct);
* *report*: one line, ``[01-row-mask] correct: 4/4 cases pass.`` or ``not yet:``
  followed by what is wrong (type, shape, dtype, which entries) -- never an expected value.

In a student's notebook the three steps run in the kernel, for immediate feedback. In
a graded run and in the self-check (``$COURSE_EXCHANGE`` names the run's exchange
folder) the kernel only *collects*: it reads each case's inputs (hidden cases included)
from ``<exchange>/cases/<id>/<k>/``, writes what the answer returned to
``<exchange>/results/<id>/<k>.*`` and prints ``[<id>] answers recorded: n cases.``; the
grader, in its own process, reads the records within strict limits and computes the
verdicts (:mod:`course_lib.grading.scoring`). No expected value, verdict or hidden test
source is ever in the student's process, so nothing done there -- patching the checker,
hooking the output, inspecting frames -- changes a verdict.
"""

from __future__ import annotations

import copy
import math
import numbers
import os
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import compare, compare_fields
from .records import Raised, plain, read_inputs, write_record

__all__ = [
    "Case",
    "Credit",
    "KINDS",
    "Exercise",
    "CheckResult",
    "EXCHANGE_ENV",
    "exercise",
    "add_cases",
    "check",
    "collect",
    "judge",
    "compare",
    "compare_fields",
    "credit",
    "grade_with",
    "EXERCISES",
]

# Set (by the grader and the self-check, identically) to the run's exchange folder: the kernel then
# only records what the answers return.
EXCHANGE_ENV = "COURSE_EXCHANGE"


def _call(answer, args):
    return answer(*args)


@dataclass(frozen=True)
class Case:
    """One case of an exercise: its inputs and its verdict.

    Parameters
    ----------
    inputs : callable or None
        ``inputs()`` returns the tuple of arguments the answer is called with (plain data).
        None: the answer is a value (e.g. a matrix worked out by hand), not called.
    verdict : callable
        ``verdict(got, *inputs)`` returns a list of problems (empty when ``got`` is right);
        ``got`` is what the answer returned, as plain data. It computes the expected value itself.
    """

    inputs: Callable[[], tuple] | None
    verdict: Callable[..., list[str]]

    def __post_init__(self):
        if self.inputs is not None and not callable(self.inputs):
            raise TypeError(f"inputs must be callable (returning the arguments) or None, "
                            f"got {type(self.inputs).__name__}.")
        if not callable(self.verdict):
            raise TypeError(f"verdict must be callable (got, *inputs) -> problems, got {type(self.verdict).__name__}.")

    def __call__(self, answer: Any, probe: Callable[[Any, tuple], Any] = _call) -> list[str]:
        """Run the whole case here: make the inputs, call ``answer`` with ``probe``, return the problems."""
        args = self.inputs() if self.inputs is not None else None
        return judge(self, _plain_answer(probe, answer, args), args)


class Credit(list):
    """What a verdict returns for an answer that earns part of a case: its problems and the fraction earned.

    An outcome task's verdict returns one (e.g. a target missed by a little: ``Credit(0.5, ["..."])``);
    the grader gives the exercise its points times the mean fraction of its cases. Any other
    exercise is all or nothing: a case with problems earns nothing, whatever the fraction.
    """

    def __init__(self, fraction: float, problems=()):
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
            raise TypeError(f"fraction must be a real number in [0, 1], got {type(fraction).__name__} "
                            f"({fraction!r}).")
        if not math.isfinite(fraction) or not -1e-9 <= fraction <= 1 + 1e-9:
            hint = " (not a percentage)" if math.isfinite(fraction) and 1 < fraction <= 100 else ""
            raise ValueError(f"fraction == {fraction!r}, must be a fraction in [0, 1]{hint}.")
        if isinstance(problems, str) or not isinstance(problems, (list, tuple)):
            raise TypeError(f"problems must be a list of str, got {type(problems).__name__} ({problems!r}).")
        super().__init__(problems)
        self.fraction = min(1.0, max(0.0, float(fraction)))


# What an exercise asks for: the step the library does not hand over.
KINDS = ("variant", "derivation", "implementation", "outcome")


@dataclass
class Exercise:
    """A registered exercise: an id that never changes, a title, points, its cases and its probe.

    ``cases`` is a list of ``(label, Case)``. ``probe(answer, args)`` calls the answer on
    one case's inputs in the student's kernel and returns what is recorded (default:
    ``answer(*args)``); it never sees an expected value.

    The cases' verdicts in the student's copy are *checks*: the form of the answer and the
    properties a right answer has, never a reference solution. ``checked_here`` says how far
    they go: ``"values"`` (they decide: a right answer and only a right one passes) or ``"form"``
    (they cannot: the grader compares the values with its reference). The reference solutions
    live with the instructor (``hidden_tests/``), which installs the grader's verdict with
    :func:`grade_with`; it runs only in the grader's process.
    """

    id: str
    title: str
    points: int = 1
    cases: list[tuple[str, Case]] = field(default_factory=list)
    probe: Callable[[Any, tuple], Any] = _call
    kind: str = "implementation"
    checked_here: str = "values"
    grader_verdict: Callable[..., list[str]] | None = None


EXERCISES: dict[str, Exercise] = {}


@dataclass
class CheckResult:
    """What :func:`check` found; truthy when the answer is correct.

    ``recorded`` is True in a graded run: the answers were recorded for the grader,
    which alone knows whether they are right (the result is then falsy).
    """

    exercise_id: str
    passed: int
    total: int
    problems: list[str]
    recorded: bool = False
    checked_here: str = "values"
    kind: str = "implementation"

    def __bool__(self):
        return not self.recorded and self.passed == self.total and not self.problems

    def _ipython_display_(self):
        """Show nothing when a check is the last line of a cell: check() already printed."""

    @property
    def line(self) -> str:
        if self.recorded:
            return f"[{self.exercise_id}] answers recorded: {self.total} cases."
        if self and self.kind == "outcome":
            return (f"[{self.exercise_id}] passes the checks made here: {self.passed}/{self.total} cases "
                    "(the grader measures the outcome on its own data).")
        if self and self.checked_here == "form":
            return (f"[{self.exercise_id}] passes the checks made here: {self.passed}/{self.total} cases "
                    "(the grader compares the values with its reference).")
        if self:
            return f"[{self.exercise_id}] correct: {self.passed}/{self.total} cases pass."
        return f"[{self.exercise_id}] not yet: {self.passed}/{self.total} cases pass."


def exercise(exercise_id: str, title: str, *, points: int = 1, probe: Callable | None = None,
             kind: str = "implementation", checked_here: str = "values") -> Exercise:
    """Register (or return the already registered) exercise ``exercise_id``.

    ``probe(answer, args)`` is how the answer is called on a case's inputs (default ``answer(*args)``);
    ``kind`` is one of :data:`KINDS` (an ``"outcome"`` earns partial credit, :class:`Credit`);
    ``checked_here`` is ``"values"`` or ``"form"`` (see :class:`Exercise`).
    """
    if not isinstance(exercise_id, str) or not exercise_id:
        raise TypeError(f"exercise_id must be a non-empty str, got {exercise_id!r}.")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__} ({title!r}).")
    if isinstance(points, bool) or not isinstance(points, int):
        raise TypeError(f"points must be an int, got {type(points).__name__} ({points!r}).")
    if points < 1:
        raise ValueError(f"points == {points}, must be >= 1.")
    if probe is not None and not callable(probe):
        raise TypeError(f"probe must be callable or None, got {type(probe).__name__}.")
    if kind not in KINDS:
        raise ValueError(f"kind == {kind!r}, must be one of {KINDS}.")
    if checked_here not in ("values", "form"):
        raise ValueError(f"checked_here == {checked_here!r}, must be 'values' or 'form'.")
    if exercise_id not in EXERCISES:
        EXERCISES[exercise_id] = Exercise(exercise_id, title, points, probe=probe or _call, kind=kind,
                                          checked_here=checked_here)
    return EXERCISES[exercise_id]


def grade_with(exercise_id: str, verdict: Callable[..., list[str]]) -> None:
    """Install the grader's verdict of ``exercise_id`` (instructors' files only, ``hidden_tests/``).

    ``verdict(got, *inputs)`` compares what the answer returned with the instructor's reference
    and returns the problems (or a :class:`Credit`); the grader runs it on every case, public and
    hidden, after the case's own checks pass. It never runs in a student's kernel.
    """
    _check_id(exercise_id)
    if not callable(verdict):
        raise TypeError(f"verdict must be callable, got {type(verdict).__name__}.")
    EXERCISES[exercise_id].grader_verdict = verdict


def _check_id(exercise_id) -> str:
    """A registered exercise's id (a str, not a list of them)."""
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a str such as '01-nm-mask', got {type(exercise_id).__name__}.")
    if exercise_id not in EXERCISES:
        raise ValueError(f"exercise_id == {exercise_id!r}, must be one of {sorted(EXERCISES)}.")
    return exercise_id


def add_cases(exercise_id: str, *cases: tuple[str, Case]) -> None:
    """Add ``(label, Case)`` pairs to a registered exercise (used for hidden tests).

    Raises
    ------
    TypeError, ValueError
        If ``exercise_id`` is not a registered exercise's id, or a case is not a ``(str, Case)`` pair.
    """
    _check_id(exercise_id)
    for item in cases:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], Case)):
            raise TypeError(f"cases must be (label, Case) pairs, got {type(item).__name__}.")
    EXERCISES[exercise_id].cases.extend(cases)


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "not implemented yet (replace the `raise NotImplementedError` with your code)"
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (line {frame.lineno})" if frame and frame.filename.startswith("<ipython") else ""
    return f"your code raised {type(exc).__name__}: {str(exc)[:300]}{where}"


def _call_answer(probe, answer: Any, args: tuple | None) -> Any:
    """What the answer returns (``args`` None: the answer itself), or a Raised marker."""
    try:
        return answer if args is None else probe(answer, copy.deepcopy(args))
    except Exception as exc:  # the student's code may raise anything
        return Raised(_describe_error(exc))


def _plain_answer(probe, answer: Any, args: tuple | None) -> Any:
    value = _call_answer(probe, answer, args)
    try:
        return plain(value)
    except Exception as exc:  # e.g. an __array__ that raises something odd
        return Raised(_describe_error(exc))


def collect(ex: Exercise, answer: Any, args: tuple | None) -> Any:
    """Call ``answer`` on a copy of ``args`` with the exercise's probe; what it returned, as plain data.

    ``args`` None: the answer is a value, taken as it is. An answer that raises gives a
    :class:`~course_lib.exercises.Raised` marker, never an exception.

    Raises
    ------
    TypeError
        If ``ex`` is not an :class:`Exercise` or ``args`` is not a tuple or None.
    """
    if not isinstance(ex, Exercise):
        raise TypeError(f"ex must be an Exercise (see exercise()), got {type(ex).__name__}.")
    if args is not None and not isinstance(args, tuple):
        raise TypeError(f"args must be a tuple of the case's inputs or None, got {type(args).__name__}.")
    return _plain_answer(ex.probe, answer, args)


def _run_verdict(verdict, got, args) -> list[str]:
    try:
        found = verdict(copy.deepcopy(got), *copy.deepcopy(args or ()))
    except Exception as exc:  # a value of a shape no verdict expects
        return [f"your answer could not be compared ({type(exc).__name__}): check what it returns"]
    if isinstance(found, Credit):
        return Credit(found.fraction, [str(p) for p in found])
    return [str(p) for p in found]


def judge(case: Case, got: Any, args: tuple | None, also: Callable | None = None) -> list[str]:
    """The problems of ``got`` (plain data, as :func:`collect` returns it) for ``case``.

    The case's own checks run first; when they pass and ``also`` (the grader's verdict,
    :func:`grade_with`) is given, it runs too. The result is a :class:`Credit` when a verdict
    gave partial credit.
    """
    if not isinstance(case, Case):
        raise TypeError(f"case must be a Case, got {type(case).__name__}.")
    if also is not None and not callable(also):
        raise TypeError(f"also must be callable or None, got {type(also).__name__}.")
    if isinstance(got, Raised):
        return [got.message]
    found = _run_verdict(case.verdict, got, args)
    if found or also is None:
        return found
    return _run_verdict(also, got, args)


def credit(found: list[str]) -> float:
    """The fraction of a case an answer earned, from what :func:`judge` returned."""
    if not isinstance(found, list):
        raise TypeError(f"found must be the list judge returned, got {type(found).__name__}.")
    if not found:
        return 1.0
    return found.fraction if isinstance(found, Credit) else 0.0


def _record(ex: Exercise, answer: Any, exchange: Path) -> CheckResult:
    """A graded run: call the answer on the grader's inputs and record what it returns, nothing more."""
    cases_dir, out = exchange / "cases" / ex.id, exchange / "results" / ex.id
    shutil.rmtree(out, ignore_errors=True)  # a later check replaces an earlier one
    out.mkdir(parents=True, exist_ok=True)
    k = 0
    while (cases_dir / str(k) / "inputs.json").is_file():
        value = _call_answer(ex.probe, answer, read_inputs(cases_dir / str(k)))
        try:
            write_record(out, str(k), value)
        except Exception as exc:  # an answer whose value cannot even be encoded
            write_record(out, str(k), Raised(_describe_error(exc)))
        k += 1
    return CheckResult(ex.id, 0, k, [], recorded=True)


def check(exercise_id: str, answer: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``answer`` for exercise ``exercise_id``; print one line of feedback.

    Returns a :class:`CheckResult` (truthy when correct). Never raises because
    of the answer: an answer that crashes is reported as a problem. In a graded run
    (``$COURSE_EXCHANGE`` set) the answers are only recorded (see the module's docstring).
    """

    _check_id(exercise_id)
    if not isinstance(quiet, bool):
        raise TypeError(f"quiet must be a bool, got {type(quiet).__name__}.")
    ex = EXERCISES[exercise_id]
    exchange = os.environ.get(EXCHANGE_ENV)
    if exchange:
        result = _record(ex, answer, Path(exchange))
        if not quiet:
            print(result.line)
        return result
    passed, problems = 0, []
    for label, case in ex.cases:
        args = case.inputs() if case.inputs is not None else None
        found = judge(case, collect(ex, answer, args), args)
        if found:
            problems.extend(f"{label}: {p}" for p in found)
        else:
            passed += 1
    result = CheckResult(exercise_id, passed, len(ex.cases), problems, checked_here=ex.checked_here, kind=ex.kind)
    if not quiet:
        print(result.line)
        for p in problems[:8]:
            print("  -", p)
        if len(problems) > 8:
            print(f"  - ... and {len(problems) - 8} more")
    return result
