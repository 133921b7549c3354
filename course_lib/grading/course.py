"""The course being graded: its notebooks, exercises, points and cases (hidden ones included).

:func:`load_course` reads the instructor notebooks (``notebooks/``) and the hidden
test file(s) (``hidden_tests/``) into a :class:`Course`. The hidden test source runs
here, in the grader's process, and nowhere else (:func:`course_cases`): a graded
kernel receives only the *inputs* of the cases (:meth:`Course.inputs`), never a
verdict, an expected value or the hidden source.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .._validation import check_int
from .notebooks import CourseNotebook, load_course_notebook

__all__ = ["REPO", "DEFAULT_COURSE", "DEFAULT_HIDDEN", "Course", "course_cases", "count_cases",
           "instructor_verdicts", "load_course", "read_hidden"]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_COURSE = REPO / "notebooks"
DEFAULT_HIDDEN = REPO / "hidden_tests"


@dataclass
class Course:
    """The instructor notebooks, the exercises in course order, points and case counts.

    Parameters
    ----------
    notebooks : list of CourseNotebook
        The instructor notebooks that hold exercises, in course order.
    points : dict of str -> float
        The points of each exercise.
    cases : dict of str -> list of (str, Case)
        Each exercise's cases, hidden ones included, in the order the kernel is given their inputs.
    hidden_source : str or None
        The text of the hidden test file(s) (None: public cases only); it runs only in the grader.
    sources : tuple of Path
        The files the course was read from: its instructor notebooks and the hidden test file or
        folder (:func:`load_course` sets them; the grader re-hashes them after every run,
        :func:`~course_lib.grading.journal.source_digests`). Empty: nothing to re-check.
    partial : frozenset of str
        The exercises that earn partial credit (outcome tasks): points times the mean credit of
        their cases (:class:`~course_lib.exercises.Credit`); the others are all or nothing.
    """

    notebooks: list[CourseNotebook]
    points: dict[str, float]
    cases: dict[str, list] = field(default_factory=dict)
    hidden_source: str | None = None
    sources: tuple = field(default=(), compare=False)
    partial: frozenset = frozenset()
    _inputs: dict = field(default_factory=dict, repr=False, compare=False)
    _files: dict = field(default_factory=dict, repr=False, compare=False)
    _public: dict = field(default_factory=dict, repr=False, compare=False)
    _lock: Any = field(default_factory=threading.Lock, repr=False, compare=False)

    def is_hidden(self, exercise_id: str, k: int) -> bool:
        """Whether case ``k`` of ``exercise_id`` is a hidden one (public cases come first).

        Parameters
        ----------
        exercise_id : str
            One of the course's exercises.
        k : int
            The case's position in :attr:`cases`.

        Returns
        -------
        bool
            True for a case the hidden test file added: its inputs and what an answer made of them are
            never quoted in a student's feedback.
        """
        with self._lock:
            if not self._public:
                self._public.update(count_cases(None))
            return k >= self._public.get(exercise_id, 0)

    @property
    def case_counts(self) -> dict[str, int]:
        """The number of cases of each exercise, hidden ones included."""
        return {e: len(c) for e, c in self.cases.items()}

    def inputs(self, exercise_id: str) -> list:
        """The inputs of every case of ``exercise_id`` (made once, then shared by every run).

        Parameters
        ----------
        exercise_id : str
            One of the course's exercises.

        Returns
        -------
        list of tuple or None
            One per case, in order (None: the answer is a value, not called).
        """
        with self._lock:
            if exercise_id not in self._inputs:
                self._inputs[exercise_id] = [c.inputs() if c.inputs is not None else None
                                             for _, c in self.cases[exercise_id]]
            return self._inputs[exercise_id]

    def input_files(self, exercise_ids) -> dict[str, bytes]:
        """The case inputs of ``exercise_ids`` as the files a graded kernel reads (``<id>/<k>/inputs.*``).

        Parameters
        ----------
        exercise_ids : iterable of str
            Exercises of the course.

        Returns
        -------
        dict of str -> bytes
            Relative path -> content (:func:`course_lib.exercises.records.record_files`), made once per exercise.
        """
        from ..exercises.records import record_files

        files = {}
        for ex_id in exercise_ids:
            if ex_id not in self._files:
                made = {f"{ex_id}/{k}/{name}": data for k, args in enumerate(self.inputs(ex_id))
                        for name, data in record_files("inputs", args).items()}
                with self._lock:
                    self._files.setdefault(ex_id, made)
            files.update(self._files[ex_id])
        return files

    @property
    def exercise_ids(self) -> list[str]:
        """The exercise ids of every notebook, in course order."""
        return [e for nb in self.notebooks for e in nb.exercise_ids]

    @property
    def max_score(self) -> float:
        """The sum of the points of every exercise."""
        return sum(self.points[e] for e in self.exercise_ids)

    def estimated_seconds(self, nb: CourseNotebook) -> float:
        """How long the instructor's last run of ``nb`` took (from its execution metadata), else 30.

        Parameters
        ----------
        nb : CourseNotebook
            One of the course's notebooks.

        Returns
        -------
        float
            Seconds: the sum of its cells' execution times, or 30.0 without timing metadata.
        """
        total = 0.0
        for cell in nb.nb.cells:
            ex = cell.get("metadata", {}).get("execution", {})
            try:
                total += (datetime.fromisoformat(ex["shell.execute_reply"])
                          - datetime.fromisoformat(ex["iopub.execute_input"])).total_seconds()
            except (KeyError, TypeError, ValueError):
                continue
        return total or 30.0


# Each hidden test file runs in its own namespace: two files may define helpers of the same name.
_FILE_MARK = "\n# ===== hidden test file: "


def read_hidden(hidden, *, session: int = 0) -> str | None:
    """The text of the hidden test file ``hidden``, or of every ``*.py`` of the folder ``hidden`` (None: None).

    Files whose name starts with ``_`` are left out; each file is marked so that
    :func:`course_cases` runs it in its own namespace. A ``session`` other than 0 is set as
    ``HIDDEN_SEED`` at the top of each file: the files draw their random hidden cases from it
    (:func:`course_lib.exercises.sessions.hidden_seed`), other inputs than in another session. The
    text (and so the journal's course fingerprint) holds the number: a resumed session keeps its cases.

    Raises
    ------
    TypeError, ValueError
        If ``session`` is not an int in ``[0, 2**63)``.
    """
    from ..exercises.sessions import MAX_SESSION

    session = check_int("session", session, minimum=0, maximum=MAX_SESSION)
    if hidden is None:
        return None
    hidden = Path(hidden)
    files = sorted(hidden.glob("*.py")) if hidden.is_dir() else [hidden]
    head = f"HIDDEN_SEED = {session}\n" if session else ""
    parts = [f"{_FILE_MARK}{f.name} =====\n{head}{f.read_text(encoding='utf-8')}" for f in files
             if not f.name.startswith("_")]
    return "".join(parts) or None


def _hidden_files(hidden_source: str) -> list[tuple[str, str]]:
    """(file name, text) of each hidden test file joined in ``hidden_source``."""
    if _FILE_MARK not in hidden_source:
        return [("hidden tests", hidden_source)]
    files = []
    for part in hidden_source.split(_FILE_MARK)[1:]:
        head, _, text = part.partition(" =====\n")
        files.append((head, text))
    return files


def _graded(case, verdict):
    """``case`` with the grader's verdict run after its own checks (see :func:`~course_lib.exercises.judge`)."""
    from ..exercises import Case

    def both(got, *args):
        from ..exercises import judge

        return judge(Case(None, case.verdict), got, args, also=verdict)
    return Case(case.inputs, both)


def _with_hidden(hidden_source: str | None, read):
    """``read(EXERCISES)`` while the hidden files' cases and verdicts are registered; the registry is restored."""
    from ..exercises import load_bank

    EXERCISES = load_bank()

    saved = {k: (list(v.cases), v.grader_verdict) for k, v in EXERCISES.items()}
    try:
        for name, text in _hidden_files(hidden_source or ""):
            if text.strip():
                exec(compile(text, f"<hidden tests: {name}>", "exec"), {"__name__": "__hidden_tests__"})
        return read(EXERCISES)
    finally:
        for k in list(EXERCISES):
            if k in saved:
                EXERCISES[k].cases[:], EXERCISES[k].grader_verdict = saved[k]
            else:
                del EXERCISES[k]


def course_cases(hidden_source: str | None) -> dict[str, list]:
    """Every registered exercise's cases once the hidden files have run here (the registry is left as it was).

    The hidden files add cases with inputs students never see and install each exercise's
    grader verdict (:func:`~course_lib.exercises.grade_with`: the instructor's reference); the
    cases returned run it after their own checks.

    Parameters
    ----------
    hidden_source : str or None
        The text of the hidden test file(s); None or empty: public cases only, checked as in a
        student's kernel.

    Returns
    -------
    dict of str -> list of (str, Case)
        The cases of every registered exercise, public then hidden.
    """
    return _with_hidden(hidden_source, lambda exercises: {
        k: [(label, _graded(case, v.grader_verdict) if v.grader_verdict else case) for label, case in v.cases]
        for k, v in exercises.items()})


def instructor_verdicts(hidden_source: str | None) -> set[str]:
    """The exercises whose grader verdict (the instructor's reference) the hidden files install."""
    return _with_hidden(hidden_source, lambda exercises: {k for k, v in exercises.items() if v.grader_verdict})


def count_cases(hidden_source: str | None) -> dict[str, int]:
    """Cases per exercise once the hidden file has run (see :func:`course_cases`).

    Parameters
    ----------
    hidden_source : str or None
        The text of the hidden test file(s); None or empty: public cases only.

    Returns
    -------
    dict of str -> int
        The number of cases of every registered exercise.
    """
    return {k: len(v) for k, v in course_cases(hidden_source).items()}


def load_course(course_dir=DEFAULT_COURSE, *, hidden=None, names=None, session: int = 0) -> Course:
    """Read the instructor notebooks of ``course_dir`` (or ``names`` in it) and the hidden tests.

    Parameters
    ----------
    course_dir : str or path
        The folder of instructor notebooks (default: the repository's ``notebooks/``).
    hidden : str or path, optional, keyword-only
        A hidden-test file or a folder of them (``None``: public cases only).
    names : list of str, optional, keyword-only
        Only these notebook file names of ``course_dir`` (default: every ``*.ipynb``).
    session : int, keyword-only
        The grading session's number: 0 (default) gives the hidden cases as written; another number draws
        the random ones afresh from it (:func:`read_hidden`). Keep it to yourself, and give it again to resume.

    Returns
    -------
    Course
        The notebooks that hold exercises (the others are left out), with points and case counts.

    Raises
    ------
    ValueError
        If a notebook checks an exercise that is not registered in ``course_lib``, or
        its exercise cells are malformed (see :func:`~course_lib.grading.notebooks.find_exercises`).
    """
    from ..exercises import load_bank

    EXERCISES = load_bank()

    course_dir = Path(course_dir)
    paths = [course_dir / n for n in names] if names else sorted(course_dir.glob("*.ipynb"))
    loaded = [(path, load_course_notebook(path)) for path in paths]
    notebooks = [nb for _, nb in loaded if nb.exercises]
    sources = tuple(path for path, nb in loaded if nb.exercises) + (() if hidden is None else (Path(hidden),))
    hidden_source = read_hidden(hidden, session=session)
    cases = course_cases(hidden_source)
    ids = [e for nb in notebooks for e in nb.exercise_ids]
    unknown = [e for e in ids if e not in cases]
    if unknown:
        raise ValueError(f"exercises {unknown} are checked in the notebooks but not registered in course_lib.")
    points = {e: float(EXERCISES[e].points) for e in ids}
    partial = frozenset(e for e in ids if EXERCISES[e].kind == "outcome")
    return Course(notebooks, points, {e: cases[e] for e in ids}, hidden_source, sources, partial=partial)
