"""The exchange folder of a graded run: the cases' inputs go in, the recorded answers come out.

The grader writes each case's inputs (:mod:`course_lib.exercises.records`) to ``cases/``,
read-only in the sandbox; the kernel's ``cl.check`` writes what the answers returned to
``results/``. :func:`collect_answers` reads the results back as bytes, trusting nothing:
only regular files with the names the format uses, within a size cap. The verdicts are
computed from them by :mod:`~course_lib.grading.scoring`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

__all__ = ["ANSWER_NAME", "MAX_ANSWER_BYTES", "collect_answers", "sealed_answers", "write_cases"]

# What a run's records may weigh together (the grader reads no more than this back).
MAX_ANSWER_BYTES = 256 * 2**20
ANSWER_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,80}/[0-9]{1,4}(\.[0-9]{1,3}\.npy|\.json)$")
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
            if not ANSWER_NAME.match(name) or not f.is_file(follow_symlinks=False):
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


def sealed_answers(answers: dict[str, bytes], events) -> dict[str, bytes]:
    """The records a passed check cell sealed and that are unchanged since; nothing else.

    Parameters
    ----------
    answers : dict of str -> bytes
        What the results folder held at the end of the run (:func:`collect_answers`).
    events : iterable of dict
        The run's reports; a passed check cell's carries ``sealed``: its exercise and the sha256 of each
        of its record files at that moment (``course_lib.grading._nbval_plugin``).

    Returns
    -------
    dict of str -> bytes
        The answers of each exercise whose files are exactly the sealed ones (same names, same bytes);
        an exercise with no passed check cell, or with a file added, removed or changed after its
        check, keeps no answer at all.
    """
    seals: dict[str, dict] = {}
    for event in events:
        sealed = event.get("sealed") if isinstance(event, dict) and event.get("event") == "cell" else None
        if (isinstance(sealed, dict) and isinstance(sealed.get("exercise"), str)
                and isinstance(sealed.get("files"), dict)):  # a later check of the same exercise replaces it
            seals[sealed["exercise"]] = {f: h for f, h in sealed["files"].items()
                                         if ANSWER_NAME.match(f"{sealed['exercise']}/{f}")}
    by_exercise: dict[str, dict[str, bytes]] = {}
    for name, data in answers.items():
        ex_id, _, file = name.partition("/")
        by_exercise.setdefault(ex_id, {})[file] = data
    kept = {}
    for ex_id, files in by_exercise.items():
        seal = seals.get(ex_id)
        if seal and set(seal) == set(files) and all(hashlib.sha256(files[f]).hexdigest() == seal[f] for f in files):
            kept.update({f"{ex_id}/{f}": data for f, data in files.items()})
    return kept
