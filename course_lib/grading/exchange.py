"""The exchange folder of a graded run: the cases' inputs go in, the recorded answers come out.

The grader writes each case's inputs (:mod:`course_lib.exercises.records`) to ``cases/``,
read-only in the sandbox; the kernel's ``cl.check`` writes what the answers returned to
``results/``. :func:`collect_answers` reads the results back as bytes, trusting nothing:
only regular files with the names the format uses, within a size cap. The verdicts are
computed from them by :mod:`~course_lib.grading.scoring`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["MAX_ANSWER_BYTES", "collect_answers", "write_cases"]

# What a run's records may weigh together (the grader reads no more than this back).
MAX_ANSWER_BYTES = 256 * 2**20
_ANSWER_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,80}/[0-9]{1,4}(\.[0-9]{1,3}\.npy|\.json)$")
_CASE_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,80}/[0-9]{1,4}/inputs(\.[0-9]{1,3}\.npy|\.json)$")


def write_cases(folder: Path, case_files: dict[str, bytes]) -> None:
    """Write the cases' input files (``<id>/<case>/inputs.json`` and ``.npy``) under ``folder``.

    Parameters
    ----------
    folder : Path
        The run's cases folder (created).
    case_files : dict of str -> bytes
        Relative path -> content, from :meth:`~course_lib.grading.course.Course.input_files`.

    Raises
    ------
    ValueError
        If a name is not of that form.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case_files.items():
        if not _CASE_NAME.match(name):
            raise ValueError(f"case file {name!r}: must be <exercise id>/<case>/inputs.json or .npy")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)



def collect_answers(folder: Path) -> dict[str, bytes]:
    """The record files under ``folder``: ``"<id>/<name>"`` -> bytes, regular files with safe names only.

    Parameters
    ----------
    folder : Path
        The run's results folder (written by the kernel: untrusted).

    Returns
    -------
    dict of str -> bytes
        At most :data:`MAX_ANSWER_BYTES` in all; symlinks, folders and odd names are skipped.
    """
    found, budget = {}, MAX_ANSWER_BYTES
    try:
        exercises = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found
    for ex in exercises:
        if not ex.is_dir(follow_symlinks=False):
            continue
        try:
            files = sorted(os.scandir(ex.path), key=lambda e: e.name)
        except OSError:
            continue
        for f in files:
            name = f"{ex.name}/{f.name}"
            if not _ANSWER_NAME.match(name) or not f.is_file(follow_symlinks=False):
                continue
            try:
                size = f.stat(follow_symlinks=False).st_size
                if size > budget:
                    return found
                with open(f.path, "rb") as handle:
                    found[name] = handle.read(size + 1)[:size]
            except OSError:
                continue
            budget -= size
    return found
