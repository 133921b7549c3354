"""Where the exercises are in a course notebook, and what a student wrote for them.

An exercise is one or more **solution cells** (instructor version: the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION``; student version: metadata
``{"course": {"exercise": id, "role": "solution"}}`` and a ``NotImplementedError``
naming the exercise) followed by a **check cell** that calls ``check("<id>", ...)``.
Everything here is computed from the notebooks on the fly: the instructor's source
notebooks are never edited.

Student files are read *tolerantly*: a submission is untrusted data, so it is parsed
as plain JSON and only the cells' sources and metadata are looked at (never its
outputs). Anything malformed raises :class:`SubmissionError` with a short reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "SOLUTION_BEGIN", "SOLUTION_END", "META_KEY", "ExerciseCells", "CourseNotebook", "SubmissionError",
    "find_exercises", "load_course_notebook", "parse_submission", "submission_answers", "submission_ids",
    "stub_source", "cell_source",
]

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
META_KEY = "course"
CHECK_CALL = re.compile(r"""\bcheck\(\s*(['"])([A-Za-z0-9_.\-]+)\1""")
STUB_CALL = re.compile(r"""NotImplementedError\(\s*['"]exercise ([A-Za-z0-9_.\-]+)""")


class SubmissionError(ValueError):
    """A submitted notebook that cannot be read; the message says why, for the feedback."""


@dataclass(frozen=True)
class ExerciseCells:
    """One exercise of a notebook: indices (into ``nb.cells``) of its cells.

    Parameters
    ----------
    id : str
        The exercise id, as its check cell's ``check("<id>", ...)`` names it.
    solution_cells : tuple of int
        Its solution cells, in order.
    check_cell : int
        The check cell after them.
    """

    id: str
    solution_cells: tuple[int, ...]
    check_cell: int


@dataclass
class CourseNotebook:
    """An instructor (or released) notebook and its exercises, in cell order.

    Parameters
    ----------
    name : str
        The file name, e.g. ``"01_weight_pruning.ipynb"``.
    nb : nbformat.NotebookNode
        The notebook.
    exercises : list of ExerciseCells
        Its exercises, as found by :func:`find_exercises`.
    """

    name: str
    nb: nbformat.NotebookNode
    exercises: list[ExerciseCells]

    @property
    def exercise_ids(self) -> list[str]:
        """The ids of the notebook's exercises, in cell order."""
        return [e.id for e in self.exercises]


def cell_source(cell) -> str:
    """A cell's source as one string (on disk it may be a list of lines); '' if malformed.

    Parameters
    ----------
    cell : dict
        A notebook cell (an untrusted JSON dict or an ``nbformat`` node).

    Returns
    -------
    str
        Its source; non-string pieces are dropped.
    """
    src = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def _course_meta(cell) -> dict:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    info = meta.get(META_KEY) if isinstance(meta, dict) else None
    return info if isinstance(info, dict) else {}


def _is_solution_cell(cell) -> bool:
    if cell.get("cell_type") != "code":
        return False
    src = cell_source(cell)
    return SOLUTION_BEGIN in src or _course_meta(cell).get("role") == "solution" or bool(STUB_CALL.search(src))


def find_exercises(nb, name: str = "notebook") -> list[ExerciseCells]:
    """The exercises of ``nb``: solution cells, each group closed by the next check cell.

    Works on instructor versions (``### BEGIN SOLUTION`` markers) and on released
    student versions (metadata and ``NotImplementedError`` stubs).

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        The notebook.
    name : str
        Its name, for the error messages.

    Returns
    -------
    list of ExerciseCells
        The exercises, in cell order.

    Raises
    ------
    ValueError
        When a solution cell has no check cell after it, or an id is used twice.
    """
    exercises: list[ExerciseCells] = []
    pending: list[int] = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        if _is_solution_cell(cell):
            pending.append(i)
            continue
        match = CHECK_CALL.search(cell_source(cell))
        if match and pending:
            exercises.append(ExerciseCells(match.group(2), tuple(pending), i))
            pending = []
    if pending:
        raise ValueError(f"{name}: solution cell(s) {pending} have no check cell calling check(\"<id>\") after them.")
    ids = [e.id for e in exercises]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"{name}: exercise ids {duplicated} are checked more than once, each must be checked once.")
    return exercises


def load_course_notebook(path) -> CourseNotebook:
    """Read an instructor notebook (trusted) and locate its exercises.

    Parameters
    ----------
    path : str or path
        The ``.ipynb`` file.

    Returns
    -------
    CourseNotebook
        The notebook, named by its file name, with its exercises.

    Raises
    ------
    ValueError
        If its exercise cells are malformed (see :func:`find_exercises`).
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    return CourseNotebook(path.name, nb, find_exercises(nb, path.name))


def stub_source(exercise_id: str, indent: str = "") -> str:
    """The line that replaces a solution region in the student version.

    Parameters
    ----------
    exercise_id : str
        The exercise.
    indent : str
        Put before the line (the region's indentation).

    Returns
    -------
    str
        ``raise NotImplementedError("exercise <id>: write your solution here")``.
    """
    return f'{indent}raise NotImplementedError("exercise {exercise_id}: write your solution here")'


# --------------------------------------------------------------------------- submissions (untrusted)

def parse_submission(data: bytes) -> list[dict]:
    """The cells of a submitted ``.ipynb`` (raw JSON dicts), read without trusting it.

    Parameters
    ----------
    data : bytes
        The file's content.

    Returns
    -------
    list of dict
        The cells that are JSON objects, in order.

    Raises
    ------
    SubmissionError
        If the file is not UTF-8, not JSON, or not a notebook; the message is for the student.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"the file is not UTF-8 text (byte {exc.start})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}): "
                              "was it edited outside Jupyter or saved incompletely?") from None
    except RecursionError:
        raise SubmissionError("the file is not a notebook (JSON nested too deeply)") from None
    if isinstance(doc, dict) and doc.get("nbformat") == 3 and isinstance(doc.get("worksheets"), list):
        doc = _upgrade_v3(doc)
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise SubmissionError("the file is JSON but not a Jupyter notebook (no list of cells)")
    return [c for c in doc["cells"] if isinstance(c, dict)]


def _upgrade_v3(doc: dict) -> dict:
    """An nbformat 3 notebook (an old Jupyter or another tool's "save as") as nbformat 4 JSON."""
    try:
        return json.loads(nbformat.writes(nbformat.convert(nbformat.from_dict(doc), 4)))
    except Exception as exc:  # a malformed v3 file: whatever nbformat's converter trips on
        raise SubmissionError(f"the file is an nbformat 3 notebook that could not be upgraded to nbformat 4 "
                              f"({type(exc).__name__}): open and save it in JupyterLab, then resubmit") from None


def submission_ids(cells: list[dict]) -> set[str]:
    """Exercise ids a submitted notebook mentions (metadata, check calls, stubs).

    Parameters
    ----------
    cells : list of dict
        As returned by :func:`parse_submission`.

    Returns
    -------
    set of str
        The ids found.
    """
    ids = set()
    for cell in cells:
        if isinstance(_course_meta(cell).get("exercise"), str):
            ids.add(_course_meta(cell)["exercise"])
        if cell.get("cell_type") == "code":
            src = cell_source(cell)
            ids.update(m.group(2) for m in CHECK_CALL.finditer(src))
            ids.update(m.group(1) for m in STUB_CALL.finditer(src))
    return ids


def submission_answers(cells: list[dict], exercise: ExerciseCells) -> tuple[list[str] | None, str]:
    """The student's source for each solution cell of ``exercise``, and how it was found.

    Looks for, in this order: cells whose metadata names the exercise (what the
    release writes: survives moved and reordered cells); the code cell(s) just before
    a cell that calls ``check("<id>"``; a cell holding the exercise's stub.

    Parameters
    ----------
    cells : list of dict
        As returned by :func:`parse_submission`.
    exercise : ExerciseCells
        The exercise, as found in the instructor notebook.

    Returns
    -------
    sources : list of str or None
        One source per solution cell of ``exercise`` (missing parts: the stub); None when
        nothing matches (the cell was deleted).
    how : str
        How the cells were found, or why they were not (for the feedback).
    """
    k = len(exercise.solution_cells)
    tagged = []
    for i, c in enumerate(cells):
        meta = _course_meta(c)
        if c.get("cell_type") == "code" and meta.get("exercise") == exercise.id and meta.get("role") == "solution":
            part = meta.get("part", 0)
            tagged.append((part if isinstance(part, int) and 0 <= part < k else 0, i))
    if tagged:
        by_part: dict[int, str] = {}
        for part, i in sorted(tagged):
            by_part.setdefault(part, cell_source(cells[i]))
        how = "cell metadata"
        if len(tagged) > len(by_part):
            how += f" ({len(tagged) - len(by_part)} more copies of the exercise cell: the first one was graded)"
        return [by_part.get(p, stub_source(exercise.id)) for p in range(k)], how
    code = [i for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    for pos, i in enumerate(code):
        ids = [m.group(2) for m in CHECK_CALL.finditer(cell_source(cells[i]))]
        if exercise.id in ids and pos >= k:
            before = [cells[j] for j in code[pos - k:pos]]
            if not any(CHECK_CALL.search(cell_source(c)) for c in before):
                return [cell_source(c) for c in before], "the cell before its check"
    for i in code:
        if exercise.id in [m.group(1) for m in STUB_CALL.finditer(cell_source(cells[i]))]:
            return [cell_source(cells[i])] + [stub_source(exercise.id)] * (k - 1), "its NotImplementedError"
    return None, "exercise cell not found in your notebook (deleted?)"
