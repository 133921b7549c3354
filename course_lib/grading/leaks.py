"""Answers a student version must not show: find an exercise's values in its outputs and Markdown.

:func:`answer_values` runs the instructor's solutions the way the grader runs a submission (the
setup cell and the exercise cells, in the sandboxed kernel) on the public cases, and returns what
each answer returned. :func:`find_leaks` then looks for those values in a notebook's text outputs
and Markdown cells: a scalar written to its significant digits, a small array as NumPy prints it.
Booleans, integers below 100 and values with fewer than three significant digits are too common to
say anything and are not looked for. The release runs both when it keeps demo outputs
(``--keep-demo-outputs``) and refuses to write a student version that shows an answer.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["answer_values", "case_inputs", "check_release", "find_leaks", "renderings"]

MAX_ARRAY = 64  # arrays with more entries are not looked for as a whole (their printout is elided)


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _scalars(value, out: list) -> None:
    """The parts of an answer worth looking for: its scalars, and its small arrays *as wholes*.

    A list or tuple of plain numbers counts as an array; the entries of an array are not looked
    for one by one (any printed number would match one of a matrix's entries by chance).
    """
    if isinstance(value, dict):
        for v in value.values():
            _scalars(v, out)
    elif isinstance(value, (list, tuple)):
        if value and all(_is_number(v) for v in value):
            _scalars(np.asarray(value), out)
        else:
            for v in value:
                _scalars(v, out)
    elif isinstance(value, np.ndarray):
        if value.size == 1 and value.dtype.kind in "iuf":
            _scalars(value.item(), out)
        elif value.dtype.kind in "iuf" and 0 < value.size <= MAX_ARRAY:
            out.append(value)
    elif _is_number(value):
        out.append(float(value) if isinstance(value, (float, np.floating)) else int(value))


def _given(inputs, out: set) -> None:
    """Every number of a case's inputs (an answer that repeats one shows nothing new)."""
    if isinstance(inputs, dict):
        inputs = list(inputs.values())
    if isinstance(inputs, (list, tuple)):
        for v in inputs:
            _given(v, out)
    elif isinstance(inputs, np.ndarray):
        if inputs.dtype.kind in "iuf" and inputs.size <= 10_000:
            out.update(round(float(v), 12) for v in inputs.ravel())
    elif _is_number(inputs):
        out.add(round(float(inputs), 12))


def renderings(value) -> list[str]:
    """The ways a printed cell could show ``value`` (an answer, as plain data) that say something.

    Parameters
    ----------
    value : object
        Plain data (numbers, arrays, lists, tuples, dicts of them).

    Returns
    -------
    list of str
        Strings to look for: each scalar of at least three significant digits (integers from
        1,000) at 3, 4 and 6 significant digits and with thousands separators; each small
        non-trivial array, as a whole, as ``numpy`` prints it.
    """
    found: list = []
    _scalars(value, found)
    texts = set()
    for v in found:
        if isinstance(v, np.ndarray):
            if np.unique(v).size > 2:
                texts.add(np.array2string(v, separator=", "))
                texts.add(np.array2string(v))
            continue
        if isinstance(v, int):
            if abs(v) >= 1000:
                texts.update({str(v), f"{v:,}"})
            continue
        if not np.isfinite(v) or v == 0:
            continue
        digits = f"{abs(v):.6g}".replace(".", "").lstrip("0").split("e")[0]
        if len(digits.rstrip("0")) < 3:
            continue
        texts.update(f"{v:.{p}g}" for p in (3, 4, 6))
        if abs(v) >= 1000:
            texts.add(f"{v:,.0f}")
    return sorted(texts, key=len, reverse=True)


def _cell_texts(nb) -> list[tuple[int, str, str]]:
    texts = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            texts.append((i, "Markdown", cell.source))
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream":
                texts.append((i, "output", out.get("text", "")))
            for mime in ("text/plain", "text/html", "text/markdown", "text/latex"):
                data = out.get("data", {}).get(mime)
                if data:
                    texts.append((i, "output", data if isinstance(data, str) else "".join(data)))
    return texts


_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")


def _shown_numbers(text: str) -> list[tuple[float, float, str]]:
    """(value, half of its last printed digit, the text) of each number in ``text`` with 3+ significant digits."""
    found = []
    for m in _NUMBER.finditer(text):
        token = m.group(0)
        mantissa, _, exponent = token.replace(",", "").lower().partition("e")
        digits = mantissa.lstrip("+-").replace(".", "").lstrip("0")
        if len(digits) < 3:
            continue
        decimals = len(mantissa.partition(".")[2])
        half = 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))
        found.append((float(token.replace(",", "")), half, token))
    return found


def _matches(shown: tuple[float, float, str], value) -> bool:
    number, half, _ = shown
    if isinstance(value, int):
        return abs(value) >= 1000 and number == value
    return value != 0 and abs(number - value) <= half * (1 + 1e-9) and abs(number) >= 0.5 * abs(value)


def find_leaks(nb, values: dict[str, list], inputs: dict[str, list] | None = None) -> list[str]:
    """Where ``nb`` shows a value an exercise asks for.

    A number printed with at least three significant digits leaks a scalar answer when the
    scalar rounds to it (``0.012345678`` and ``0.01235`` both show 0.0123456789); a small array
    leaks when it is printed as NumPy prints it.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A student version (or any notebook).
    values : dict of str -> list
        Exercise id -> the answers (plain data) of its public cases (:func:`answer_values`).
    inputs : dict of str -> list, optional
        Exercise id -> its cases' inputs: a number the inputs hold is not an answer's to show.

    Returns
    -------
    list of str
        ``"cell N (output): shows a value of <id> (<text>)"``, one per cell and exercise.
    """
    leaks = []
    texts = _cell_texts(nb)
    for ex_id, answers in values.items():
        found: list = []
        for answer in answers:
            _scalars(answer, found)
        given: set = set()
        _given((inputs or {}).get(ex_id, []), given)
        scalars = [v for v in found if not isinstance(v, np.ndarray) and renderings(v)
                   and round(float(v), 12) not in given]
        arrays = [t for v in found if isinstance(v, np.ndarray) for t in renderings(v)]
        for i, where, text in texts:
            hit = next((a for a in arrays if a in text), None)
            if hit is None:
                hit = next((token for shown in _shown_numbers(text) for token in [shown[2]]
                            if any(_matches(shown, v) for v in scalars)), None)
            if hit is not None:
                leaks.append(f"cell {i} ({where}): shows a value of {ex_id} ({hit[:60]})")
    return leaks


def answer_values(course_nb, *, data_dir=None, limits=None) -> dict[str, list]:
    """The instructor's answers to the public cases of ``course_nb``'s exercises, as the grader records them.

    Parameters
    ----------
    course_nb : CourseNotebook
        An instructor notebook (its solutions are run as a submission would be).
    data_dir : str or path, optional, keyword-only
        The data folder the kernel reads.
    limits : Limits, optional, keyword-only
        The run's limits (default: generous time limits, demos skipped).

    Returns
    -------
    dict of str -> list
        Exercise id -> what the solution returned on each public case (plain data); a case whose
        answer was not recorded is left out, and so are outcome tasks (many answers reach a target:
        none is *the* answer to give away).
    """
    import nbformat

    from ..exercises import load_bank
    from ..exercises.records import RecordError, read_record
    from .course import Course
    from .runner import Limits, run_nbval
    from .scoring import prepare_submission

    bank = load_bank()
    # an outcome task has no answer to give away: many answers reach its target, and the grader measures it
    ids = [e for e in course_nb.exercise_ids if bank[e].kind != "outcome"]
    course = Course([course_nb], {e: 1.0 for e in ids}, {e: list(bank[e].cases) for e in ids})
    limits = limits or Limits(cell_timeout=900, notebook_timeout=3000)
    prepared = prepare_submission(course_nb, nbformat.writes(course_nb.nb).encode(), skip_demos=True)
    run = run_nbval(prepared.nb, limits=limits, data_dir=data_dir, case_files=course.input_files(ids))
    values: dict[str, list] = {}
    for ex_id in ids:
        files = {n[len(ex_id) + 1:]: d for n, d in run.answers.items() if n.startswith(f"{ex_id}/")}
        for k in range(len(course.cases[ex_id])):
            try:
                values.setdefault(ex_id, []).append(read_record(files, str(k)))
            except (FileNotFoundError, RecordError):
                continue
    return values


def case_inputs(course_nb) -> dict[str, list]:
    """Exercise id -> the inputs of its public cases (for :func:`find_leaks`)."""
    from ..exercises import load_bank

    bank = load_bank()
    return {e: [case.inputs() for _, case in bank[e].cases if case.inputs is not None] for e in course_nb.exercise_ids}


def check_release(course_nb, student_nb, *, data_dir=None) -> list[str]:
    """The leaks of ``student_nb`` (a release of ``course_nb``): :func:`find_leaks` of its answers."""
    return find_leaks(student_nb, answer_values(course_nb, data_dir=data_dir), case_inputs(course_nb))

