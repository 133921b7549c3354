"""A class's submissions on disk: one folder or ``.zip`` per student, and its notebooks.

:func:`list_submissions` finds the students of a submissions folder,
:class:`SubmissionFiles` reads the notebooks of one submission (lazily, with size
caps, never following links out of it), and :func:`match_notebooks` pairs them with
the course notebooks, by file name, else by the exercises they hold.
"""

from __future__ import annotations

import collections
import lzma
import os
import sys
import zipfile
import zlib
from pathlib import Path

from .course import Course
from .gradebook import safe_text
from .notebooks import SubmissionError, parse_submission, submission_ids

__all__ = ["MAX_NOTEBOOK_MB", "MAX_FILES", "MAX_ZIP_ENTRIES", "MAX_UNPACKED_MB", "MAX_RATIO", "SubmissionFiles",
           "match_notebooks", "list_submissions"]

MAX_NOTEBOOK_MB = 256
MAX_FILES = 500
# A zip is refused, before anything is unpacked, when it has more entries than this, when its
# notebooks unpack to more than MAX_UNPACKED_MB in all (which bounds the work of unpacking), or
# when a notebook of over 1 MB unpacks to more than MAX_RATIO times its packed size: deflate, what
# every zip tool uses, cannot exceed about 1032x; bzip2 and LZMA bombs reach 10^5x and more.
MAX_ZIP_ENTRIES = 2000
MAX_UNPACKED_MB = 512
MAX_RATIO = 1100
# A submission folder is walked breadth first (the shallowest notebooks first), without recursion, without
# following links, at most this deep and through at most this many entries: what lies beyond is not looked at.
MAX_DEPTH = 32
MAX_WALK = 20_000
# What reading a corrupt zip can raise besides zipfile's own errors (a bad deflate, LZMA or bzip2 stream,
# an unsupported compression method).
_ZIP_ERRORS = (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, EOFError, zlib.error,
               lzma.LZMAError, NotImplementedError, KeyError)


def _walk_notebooks(root: Path) -> list[Path]:
    """The ``.ipynb`` files under ``root``: breadth first, no links followed, within MAX_DEPTH and MAX_WALK."""
    found, queue, seen = [], collections.deque([(root, 0)]), 0
    while queue and seen < MAX_WALK:
        folder, depth = queue.popleft()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder: nothing of it is graded
        for e in entries[:MAX_WALK - seen]:
            seen += 1
            if e.is_symlink() or e.name.startswith(".") or e.name == "__MACOSX":
                continue
            if e.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH:
                    queue.append((Path(e.path), depth + 1))
            elif e.name.endswith(".ipynb") and e.is_file(follow_symlinks=False):
                found.append(Path(e.path))
    return found


class SubmissionFiles:
    """The notebooks of one submission (a folder or a zip), read lazily and with size caps.

    Hidden files, ``__MACOSX`` and (in a folder) links or files outside it are left out;
    at most :data:`MAX_FILES` notebooks are listed. Opening never raises: a submission
    that cannot be opened has no entries and an :attr:`error`.

    Parameters
    ----------
    path : Path
        The student's folder or ``.zip``.

    Attributes
    ----------
    entries : dict of str -> int
        The notebooks found (POSIX path inside the submission -> size in bytes).
    error : str or None
        Why the submission could not be opened, else None.
    """

    def __init__(self, path: Path):
        self.path, self.error, self.entries = path, None, {}
        try:
            if path.is_symlink():
                self.error = "the submission is a link: hand in a real folder or .zip file"
            elif path.is_dir():
                inside = path.resolve()
                for f in sorted(_walk_notebooks(path)):
                    if len(self.entries) >= MAX_FILES:
                        break
                    rel = f.relative_to(path)
                    if not _ignored(rel.parts) and f.resolve().is_relative_to(inside):
                        self.entries[rel.as_posix()] = f.stat().st_size
            else:
                with zipfile.ZipFile(path) as zf:
                    infos = zf.infolist()
                entries = _zip_notebooks(infos)
                self.error = _zip_bomb(infos, entries)
                if self.error is None:
                    self.entries = {info.filename: info.file_size for info in entries[:MAX_FILES]}
        except (*_ZIP_ERRORS, RecursionError) as exc:
            self.error = safe_text(f"the submission could not be opened: {str(exc)[:200]}")

    def read(self, rel: str) -> bytes:
        """Read one notebook of the submission, at most :data:`MAX_NOTEBOOK_MB` MB.

        Parameters
        ----------
        rel : str
            One of :attr:`entries`.

        Returns
        -------
        bytes
            The file's content.

        Raises
        ------
        SubmissionError
            If the file is too large (as listed, or once unpacked) or cannot be read;
            the message is written for the student.
        """
        size = self.entries[rel]
        if size > MAX_NOTEBOOK_MB * 2**20:
            raise SubmissionError(f"the file is {size / 2**20:.0f} MB, more than {MAX_NOTEBOOK_MB} MB: "
                                  "clear the outputs (Edit > Clear Outputs of All Cells), save and resubmit")
        try:
            if self.path.is_dir():
                return (self.path / rel).read_bytes()
            with zipfile.ZipFile(self.path) as zf, zf.open(rel) as f:
                data = f.read(MAX_NOTEBOOK_MB * 2**20 + 1)  # the size in the zip's header may lie
        except _ZIP_ERRORS as exc:
            raise SubmissionError(safe_text(f"the file could not be read: {str(exc)[:200]}")) from None
        if len(data) > MAX_NOTEBOOK_MB * 2**20:
            raise SubmissionError(f"the file is more than {MAX_NOTEBOOK_MB} MB once unpacked")
        return data


def _ignored(parts) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _zip_notebooks(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    return [i for i in infos
            if i.filename.endswith(".ipynb") and not i.is_dir() and not _ignored(Path(i.filename).parts)]


def _zip_bomb(infos: list[zipfile.ZipInfo], notebooks: list[zipfile.ZipInfo]) -> str | None:
    """Why a zip is refused before unpacking (its headers' counts and sizes), or None."""
    advice = "zip only your notebooks (with their outputs cleared if they are large) and resubmit"
    if len(infos) > MAX_ZIP_ENTRIES:
        return (f"the submission could not be opened: the zip holds {len(infos)} entries, "
                f"more than {MAX_ZIP_ENTRIES}: {advice}")
    total = sum(i.file_size for i in notebooks)
    if total > MAX_UNPACKED_MB * 2**20:
        return (f"the submission could not be opened: its notebooks unpack to {total / 2**20:.0f} MB, "
                f"more than {MAX_UNPACKED_MB} MB: {advice}")
    for i in notebooks:
        if i.file_size > 2**20 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            return (f"the submission could not be opened: {i.filename} unpacks {i.file_size // max(i.compress_size, 1)}"
                    f" times larger than it is packed (more than {MAX_RATIO}x: a zip bomb?): {advice}")
    return None


def match_notebooks(course: Course, files: SubmissionFiles) -> tuple[dict[str, str], list[str]]:
    """Course notebook name -> submitted file, by name, then by content (renamed files); with notes.

    A file of the same name wins (the least deeply nested one, if several); a course
    notebook not found by name gets the remaining file holding most of its exercises.

    Parameters
    ----------
    course : Course
        The course graded.
    files : SubmissionFiles
        One student's submission.

    Returns
    -------
    matched : dict of str -> str
        Course notebook name -> entry of ``files`` to grade for it.
    notes : list of str
        Copies ignored, files graded under another name, files that could not be read.
    """
    matched, notes = {}, []
    depth = {rel: (len(Path(rel).parts), rel) for rel in files.entries}
    for nb in course.notebooks:
        same = sorted((r for r in files.entries if Path(r).name == nb.name), key=depth.get)
        if same:
            matched[nb.name] = same[0]
            notes += [f"{nb.name}: graded {same[0]}, ignored the other copy {other}" for other in same[1:]]
    left = [r for r in sorted(files.entries, key=depth.get) if r not in matched.values()]
    if len(matched) == len(course.notebooks):
        left = []  # every course notebook found by name: the other files are not even parsed
    contents = {}
    for rel in left:
        try:
            contents[rel] = submission_ids(parse_submission(files.read(rel)))
        except SubmissionError as exc:
            notes.append(f"{rel}: not graded, {exc}")
    for nb in course.notebooks:
        if nb.name in matched:
            continue
        scores = [(len(contents[r] & set(nb.exercise_ids)), r) for r in contents if r not in matched.values()]
        best = max((s for s in scores if s[0] > 0), key=lambda s: (s[0], -depth[s[1]][0]), default=None)
        if best is not None:
            matched[nb.name] = best[1]
            notes.append(f"{nb.name}: not found under its name; graded {best[1]} instead (it holds its exercises)")
    return matched, notes


def list_submissions(folder: Path) -> list[tuple[str, Path]]:
    """The students of a submissions folder: each subfolder or ``.zip`` (hidden ones skipped).

    A student with both a folder and a zip is graded on the folder; a line on stderr says so.

    Parameters
    ----------
    folder : Path
        The submissions folder.

    Returns
    -------
    list of (str, Path)
        (student id, folder or zip), sorted by name.
    """
    out, seen = [], set()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not (entry.is_dir() or entry.suffix.lower() == ".zip"):
            continue
        # a name that is not UTF-8 (surrogate escapes) becomes visible escapes: it must reach the journal,
        # the CSV and the feedback's file name
        sid = safe_text(entry.name if entry.is_dir() else entry.stem)
        if sid in seen:
            print(f"grade: {entry.name}: student {sid!r} has both a folder and a zip, graded the folder",
                  file=sys.stderr)
            continue
        seen.add(sid)
        out.append((sid, entry))
    return out
