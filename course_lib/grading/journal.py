"""The grading journal: an SQLite gradebook that loses nothing (the idea of nbgrader's ``gradebook.db``).

Each (student, notebook) run is journaled the moment it finishes, in one transaction,
so a grading run that is interrupted -- Ctrl-C, SIGTERM, a crash, a power cut -- and
started again with the same arguments skips what is already done and gives the same
gradebook as an uninterrupted run. The CSV and the feedback files are written from
the results; the journal keeps every run (``regrade=True`` grades again and adds rows:
the history stays, the newest row counts).

A result is reused only for the same **course** (instructor notebooks, points, hidden
tests and the course library's source: :func:`course_fingerprint`) and the same
**submission** (the sha256 of the notebook's bytes): a student who resubmits, or an
instructor who fixes a hidden test, is graded again.

Stdlib only (``sqlite3``); safe to share between the grader's threads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

from .course import REPO, Course
from .gradebook import ExerciseResult, safe_text

__all__ = ["Journal", "course_fingerprint", "library_fingerprint", "source_digests", "changed_sources",
           "CourseChangedError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    course TEXT NOT NULL,
    arguments TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run INTEGER NOT NULL REFERENCES runs(id),
    course TEXT NOT NULL,
    student TEXT NOT NULL,
    notebook TEXT NOT NULL,
    submission TEXT NOT NULL,
    exercises TEXT NOT NULL,
    notes TEXT NOT NULL,
    seconds REAL NOT NULL,
    finished REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS results_key ON results (course, student, notebook, submission);
"""


class CourseChangedError(RuntimeError):
    """The course library, an instructor notebook or a hidden test changed on disk while a class was graded."""


def library_fingerprint(root: Path | None = None) -> str:
    """sha256 over the course library's Python sources (path and bytes of each ``course_lib/**/*.py``).

    Parameters
    ----------
    root : Path, optional
        The repository (default: the one this module belongs to).

    Returns
    -------
    str
        64 hexadecimal digits; any edited, added or removed source changes it.
    """
    lib = (root or REPO) / "course_lib"
    h = hashlib.sha256()
    for path in sorted(lib.rglob("*.py")):
        h.update(path.relative_to(lib).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def source_digests(paths) -> dict[str, str]:
    """The sha256 of each file the course was read from (:attr:`Course.sources <course_lib.grading.course.Course>`).

    Parameters
    ----------
    paths : iterable of path
        Files, and folders that stand for their ``*.py`` files (the hidden tests: an added or
        removed file shows as a key that appears or disappears).

    Returns
    -------
    dict of str -> str
        Path -> 64 hexadecimal digits (``"unreadable"`` for a file that is gone or cannot be read).
    """
    digests = {}
    for path in map(Path, paths):
        for file in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            try:
                digests[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
            except OSError:
                digests[str(file)] = "unreadable"
    return digests


def changed_sources(before: dict[str, str], paths) -> list[str]:
    """The files of ``paths`` whose digest differs from ``before`` (edited, added, removed), sorted.

    Parameters
    ----------
    before : dict of str -> str
        :func:`source_digests` of ``paths`` at the start.
    paths : iterable of path
        The same paths, hashed again now.

    Returns
    -------
    list of str
        The changed files' paths; empty: nothing changed.
    """
    now = source_digests(paths)
    return sorted(f for f in before.keys() | now.keys() if before.get(f) != now.get(f))


def course_fingerprint(course: Course, library: str | None = None) -> str:
    """sha256 that identifies what a result was graded against: the course and the library.

    Parameters
    ----------
    course : Course
        Its notebooks (as loaded), points and hidden tests.
    library : str, optional
        :func:`library_fingerprint` (computed when not given).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    h = hashlib.sha256((library or library_fingerprint()).encode())
    for nb in course.notebooks:
        h.update(nb.name.encode() + b"\0" + json.dumps(nb.nb, sort_keys=True).encode())
    h.update(json.dumps(course.points, sort_keys=True).encode())
    h.update((course.hidden_source or "").encode())
    return h.hexdigest()


class Journal:
    """The SQLite gradebook of one grading folder.

    Parameters
    ----------
    path : str or path
        The database file (created with its folder if missing).
    course : str
        :func:`course_fingerprint` of the course being graded.
    arguments : dict, optional
        What the run was started with (recorded for the history).
    regrade : bool, optional
        Grade everything again (new rows); default False: reuse what is journaled.
    """

    def __init__(self, path, course: str, arguments: dict | None = None, *, regrade: bool = False):
        self.path, self.course, self.regrade = Path(path), course, regrade
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        with self._lock:
            cur = self._db.execute("INSERT INTO runs (started, course, arguments) VALUES (?, ?, ?)",
                                   (time.time(), course, json.dumps(arguments or {}, sort_keys=True, default=str)))
            self.run = cur.lastrowid

    def lookup(self, student: str, notebook: str, submission: str):
        """The newest journaled result of this (student, notebook, submission), or None.

        Returns
        -------
        tuple of (dict of str -> ExerciseResult, list of str, float) or None
            ``(results, notes, seconds)``; always None with ``regrade=True``.
        """
        if self.regrade:
            return None
        student, notebook, submission = safe_text(student), safe_text(notebook), safe_text(submission)
        with self._lock:
            row = self._db.execute(
                "SELECT exercises, notes, seconds FROM results WHERE course = ? AND student = ? AND notebook = ? "
                "AND submission = ? ORDER BY id DESC LIMIT 1", (self.course, student, notebook, submission)).fetchone()
        if row is None:
            return None
        results = {e: ExerciseResult(**fields) for e, fields in json.loads(row[0]).items()}
        return results, json.loads(row[1]), row[2]

    def record(self, student: str, notebook: str, submission: str, results: dict, notes: list, seconds: float):
        """Journal one finished run (one transaction: on disk when this returns)."""
        exercises = json.dumps({e: dataclasses.asdict(r) for e, r in results.items()}, sort_keys=True)
        student, notebook, submission = safe_text(student), safe_text(notebook), safe_text(submission)
        with self._lock:
            self._db.execute(
                "INSERT INTO results (run, course, student, notebook, submission, exercises, notes, seconds, "
                "finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.run, self.course, student, notebook, submission, exercises, json.dumps(list(notes)),
                 float(seconds), time.time()))

    def count(self) -> int:
        """Rows journaled for this course (all runs)."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM results WHERE course = ?", (self.course,)).fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
