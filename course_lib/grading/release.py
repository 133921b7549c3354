"""Student versions of the course notebooks.

``python -m course_lib.grading.release [--out student/]`` reads the instructor
notebooks (``notebooks/*.ipynb``, never modified) and writes, for each one:

* every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region replaced by
  ``raise NotImplementedError("exercise <id>: write your solution here")`` at the
  region's indentation (the id is the one the following check cell uses);
* all outputs, execution counts, execution timestamps and widget state removed,
  so that no answer is readable anywhere in the file (``--keep-demo-outputs`` keeps
  the outputs of the demo cells, for instructors who have checked that none of them
  shows an answer);
* metadata ``{"course": {"exercise": id, "role": "solution" | "check", "part": k}}``
  on exercise and check cells and ``{"course": {"notebook": name, "exercises": [...]}}``
  on the notebook, so that the grader finds a student's cells even when they were
  moved, and a notebook even when it was renamed.

Demo cells are unchanged and keep working. After writing, the release looks for
every solution line in the student file and refuses to write one that leaks.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

from .notebooks import META_KEY, SOLUTION_BEGIN, SOLUTION_END, CourseNotebook, load_course_notebook, stub_source

__all__ = ["strip_solution", "release_notebook", "release_course", "solution_lines", "main"]

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "notebooks"


def strip_solution(source: str, exercise_id: str, *, markdown: bool = False) -> str:
    """Replace every solution region of ``source`` by the exercise's ``NotImplementedError``.

    In a Markdown cell the region becomes ``*Write your answer here.*``.

    Parameters
    ----------
    source : str
        A cell's source.
    exercise_id : str
        The exercise the stub names.
    markdown : bool, keyword-only
        The cell is a Markdown cell (default False).

    Returns
    -------
    str
        The source without its solution regions.

    Raises
    ------
    ValueError
        When a region is not closed, or an END marker has no BEGIN.
    """
    out, inside = [], False
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith(SOLUTION_BEGIN):
            if inside:
                raise ValueError(f"exercise {exercise_id}: {SOLUTION_BEGIN!r} inside a solution region.")
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}*Write your answer here.*" if markdown else stub_source(exercise_id, indent))
            inside = True
        elif stripped.startswith(SOLUTION_END):
            if not inside:
                raise ValueError(f"exercise {exercise_id}: {SOLUTION_END!r} without {SOLUTION_BEGIN!r}.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"exercise {exercise_id}: {SOLUTION_BEGIN!r} is never closed by {SOLUTION_END!r}.")
    return "\n".join(out)


def solution_lines(source: str) -> list[str]:
    """The non-trivial lines inside the solution regions of ``source`` (for the leak check).

    Parameters
    ----------
    source : str
        A cell's source.

    Returns
    -------
    list of str
        The stripped lines of at least 12 characters that are not comments.
    """
    lines, inside = [], False
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith(SOLUTION_BEGIN):
            inside = True
        elif stripped.startswith(SOLUTION_END):
            inside = False
        elif inside and len(stripped) >= 12 and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def _roles(course_nb: CourseNotebook) -> dict[int, dict]:
    roles = {}
    for ex in course_nb.exercises:
        for part, i in enumerate(ex.solution_cells):
            roles[i] = {"exercise": ex.id, "role": "solution", "part": part}
        roles[ex.check_cell] = {"exercise": ex.id, "role": "check"}
    return roles


def release_notebook(course_nb: CourseNotebook, *, keep_demo_outputs: bool = False) -> nbformat.NotebookNode:
    """The student version of an instructor notebook (a new notebook; the input is unchanged).

    Parameters
    ----------
    course_nb : CourseNotebook
        The instructor notebook.
    keep_demo_outputs : bool, keyword-only
        Keep the outputs of the cells that are not exercise or check cells (default False).

    Returns
    -------
    nbformat.NotebookNode
        The student version, validated.

    Raises
    ------
    ValueError
        When a solution region is malformed, or a solution line would still be in the
        student version (e.g. repeated in a Markdown cell or a demo output).
    """
    nb = copy.deepcopy(course_nb.nb)
    roles = _roles(course_nb)
    nb.metadata.pop("widgets", None)
    nb.metadata[META_KEY] = {"notebook": course_nb.name, "exercises": course_nb.exercise_ids}
    secrets = []
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.pop(META_KEY, None)
        if i in roles:
            cell.metadata[META_KEY] = dict(roles[i])
        if SOLUTION_BEGIN in cell.source or SOLUTION_END in cell.source:
            label = roles.get(i, {}).get("exercise", f"cell {i}")
            secrets += solution_lines(cell.source)
            cell.source = strip_solution(cell.source, label, markdown=cell.cell_type != "code")
        if cell.cell_type == "code" and (i in roles or not keep_demo_outputs):
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    leaked = [line for line in secrets if line in text]
    if leaked:
        raise ValueError(f"{course_nb.name}: the student version would still contain solution lines {leaked[:3]} "
                         "(repeated elsewhere in the notebook, or in a kept output).")
    return nb


def release_course(source=DEFAULT_SOURCE, out="student", *, names=None,
                   keep_demo_outputs: bool = False, check_leaks: bool | None = None, data_dir=None) -> list[Path]:
    """Write the student version of every notebook of ``source`` (or of ``names``) into ``out``.

    Each file is written to a temporary name first, then moved into place.

    Parameters
    ----------
    source : str or path
        The folder of instructor notebooks (default: the repository's ``notebooks/``).
    out : str or path
        The output folder; created if needed.
    names : list of str, optional, keyword-only
        Only these file names of ``source`` (default: every ``*.ipynb``).
    keep_demo_outputs : bool, keyword-only
        See :func:`release_notebook`.
    check_leaks : bool or None, keyword-only
        Run the instructor's solutions on the public cases (as the grader runs a submission) and
        refuse to write any student version whose Markdown or kept outputs show one of their values
        (:mod:`course_lib.grading.leaks`). None (default): only when ``keep_demo_outputs``.
    data_dir : str or path, optional, keyword-only
        The data folder the solutions read when ``check_leaks``.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        If ``source`` is not a folder, ``out`` is ``source`` itself, a notebook
        cannot be released (see :func:`release_notebook`), or (``check_leaks``) a student version
        would show an answer; nothing is written then.
    """
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise ValueError(f"source == {str(source)!r}, must be a folder of instructor notebooks.")
    if out.resolve() == source.resolve():
        raise ValueError(f"out == {str(out)!r} is the instructor folder: the release would overwrite the solutions.")
    paths = sorted(source.glob("*.ipynb")) if not names else [source / n for n in names]
    students, leaks = [], []
    for path in paths:
        course_nb = load_course_notebook(path)
        students.append((path, release_notebook(course_nb, keep_demo_outputs=keep_demo_outputs)))
        if (keep_demo_outputs if check_leaks is None else check_leaks) and course_nb.exercises:
            from .leaks import check_release

            leaks += [f"{path.name}: {leak}" for leak in check_release(course_nb, students[-1][1], data_dir=data_dir)]
    if leaks:
        raise ValueError("the student versions would show answers; remove these outputs or Markdown values "
                         "first:\n  " + "\n  ".join(leaks))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path, student in students:
        target = out / path.name
        tmp = target.with_name(target.name + ".tmp")
        nbformat.write(student, tmp)
        tmp.replace(target)
        written.append(target)
    return written


def main(argv=None) -> int:
    """``python -m course_lib.grading.release``: write the student versions, one line per notebook.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (default: ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    int
        0 on success, 2 if a notebook could not be released (the reason goes to stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading.release",
        description="Write the student versions of the course notebooks (no solutions, no outputs).")
    parser.add_argument("notebooks", nargs="*", help="notebook file names (default: every notebook of --source)")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="instructor notebooks (default: %(default)s)")
    parser.add_argument("--out", default="student", help="output folder (default: %(default)s)")
    parser.add_argument("--keep-demo-outputs", action="store_true",
                        help="keep the outputs of demo cells (runs the solutions and refuses outputs that show "
                             "an answer, as --check-leaks)")
    parser.add_argument("--check-leaks", action="store_true",
                        help="run the instructor's solutions on the public cases and refuse a student version whose "
                             "Markdown or kept outputs show one of their values (minutes: a graded run per notebook)")
    args = parser.parse_args(argv)
    source = Path(args.source)
    if not source.is_dir() or not any(source.glob("*.ipynb")):
        parser.error(f"--source {args.source}: must be a folder of instructor notebooks (.ipynb)")
    for name in args.notebooks:
        if not (source / name).is_file():
            parser.error(f"{name}: not a notebook of --source {args.source}")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        parser.error(f"--out {args.out}: is a file, must be the folder to write the student versions to")
    try:
        written = release_course(args.source, args.out, names=args.notebooks or None,
                                 keep_demo_outputs=args.keep_demo_outputs,
                                 check_leaks=True if args.check_leaks else None)
    except (ValueError, OSError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 2
    for path in written:
        nb = nbformat.read(path, as_version=4)
        ids = nb.metadata[META_KEY]["exercises"]
        print(f"{path}: {len(ids)} exercise(s){': ' + ', '.join(ids) if ids else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
