"""Grade a class, or check one's own notebook the way the grader will.

Instructor (``course-grade`` is the same command)::

    python -m course_lib.grading.grade SUBMISSIONS/ --out gradebook.csv [--feedback feedback/] [--jobs N]

``SUBMISSIONS/`` holds one folder or ``.zip`` per student (the student id is its name)
with the student's notebooks, matched to the course notebooks by file name, else by
content (the exercise ids they hold). Each (student, notebook) pair is graded by
:func:`course_lib.grading.runner.run_nbval` in its own process and kernel; the CSV
has one row per student (sorted by id): ``student_id, <exercise ids in course
order>, total, max_score``. One Markdown feedback file per student says which
exercises passed and why the others did not.

Student: ``course-grade --self 01_weight_pruning.ipynb`` or, in a cell,
``from course_lib.grading import self_check; self_check("01_weight_pruning.ipynb")``
(save the notebook first): the same grading, public cases only, printed as a table.

This module is the grading loop and the command line; the pieces are in
:mod:`~course_lib.grading.course` (the course: notebooks, points, hidden tests),
:mod:`~course_lib.grading.submissions` (reading and matching a student's files),
:mod:`~course_lib.grading.scoring` (one notebook: run and score) and
:mod:`~course_lib.grading.gradebook` (results, CSV, feedback). Their public names
are re-exported here.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat

from . import runner  # noqa: F401  (runner.CANCEL, for callers)

# This module held all of grading before it was split: the names it defined or imported then
# stay importable from here (``grade.DEFAULT_HIDDEN``, ``grade.feedback_markdown``, ...), hence the noqa.
from .arguments import check_arguments, session_default
from .course import DEFAULT_COURSE, DEFAULT_HIDDEN, REPO, Course, count_cases, course_cases, load_course  # noqa: F401
from .executors import LocalExecutor, make_executor
from .gradebook import (  # noqa: F401
    ExerciseResult,
    StudentResult,
    feedback_markdown,
    safe_text,
    self_check_table,
    write_feedback,
    write_gradebook,
)
from .journal import (
    CourseChangedError,
    Journal,
    changed_sources,
    course_fingerprint,
    library_fingerprint,
    source_digests,
)
from .notebooks import (  # noqa: F401
    CourseNotebook,
    SubmissionError,
    find_exercises,
    load_course_notebook,
    parse_submission,
    submission_answers,
    submission_ids,
)
from .runner import Limits, RunResult, build_graded_notebook, recorded_line, run_nbval  # noqa: F401
from .sandbox import SandboxUnavailable, why_unavailable
from .scoring import MAX_SOURCE_CHARS, finish_submission, grade_notebook_data, prepare_submission, zero_results  # noqa: F401
from .selfcheck import self_check
from .submissions import MAX_FILES, MAX_NOTEBOOK_MB, SubmissionFiles, list_submissions, match_notebooks  # noqa: F401

__all__ = ["Course", "ExerciseResult", "StudentResult", "load_course", "grade_class",
           "write_gradebook", "write_feedback", "self_check", "main"]


# --------------------------------------------------------------------------- a class

def grade_class(submissions, course: Course | None = None, *, jobs: int | None = None,
                limits: Limits | None = None, data_dir=None, progress=None,
                journal: Journal | None = None, sandbox: bool = True, executor=None) -> list[StudentResult]:
    """Grade every student of the ``submissions`` folder; results sorted by student id.

    Every (student, notebook) pair is one sandboxed nbval run, executed by ``executor``
    (this machine's processes by default, or a Dask cluster); this process prepares each
    run from the submission's bytes, computes every verdict from the answers the run
    recorded and journals it as it arrives. A notebook that is missing or cannot be read
    gets zero points, and an error of the grader itself zero points for that notebook
    only: one student never stops the others. On an interruption (Ctrl-C, SIGTERM) the
    running notebooks are stopped and the exception propagates.

    Parameters
    ----------
    submissions : str or path
        A folder with one subfolder or ``.zip`` per student (the student id is its name).
    course : Course, optional
        The course to grade against (default: :func:`~course_lib.grading.course.load_course`
        of the repository's notebooks, with its hidden tests if present).
    jobs : int, optional, keyword-only
        Notebooks run at once by the default executor (default: the number of CPUs).
    limits : Limits, optional, keyword-only
        Time and memory limits of each run (default: :class:`~course_lib.grading.runner.Limits`).
    data_dir : str or path, optional, keyword-only
        The data folder the kernels read (default: ``$COURSE_DATA_DIR``, else ``data/``).
    progress : callable, optional, keyword-only
        Called with one line of text as each (student, notebook) run finishes.
    journal : Journal, optional, keyword-only
        Journal each finished run there, and reuse the runs it already holds for the same
        course and submission (:mod:`~course_lib.grading.journal`): an interrupted class
        graded again with the same journal resumes.
    sandbox : bool, keyword-only
        Run every notebook in the bubblewrap sandbox (:mod:`~course_lib.grading.sandbox`;
        default). False runs them as plain processes: only for a machine without one.
    executor : LocalExecutor or DaskExecutor, optional, keyword-only
        Where the runs execute (:mod:`~course_lib.grading.executors`; default: a
        :class:`~course_lib.grading.executors.LocalExecutor` of ``jobs``, closed at the end).

    Returns
    -------
    list of StudentResult
        One per student, sorted by id, each with every exercise of the course in course order.

    Raises
    ------
    SandboxUnavailable
        If ``sandbox`` is true and no sandbox can be made here (the message says what to install).
    CourseChangedError
        If the course library's source, one of the instructor notebooks graded or a hidden test
        file (``course.sources``) changed on disk during a run (a submission that edits the
        instructor's files), or a worker runs another library: the class stops, what was
        journaled before stays.
    """
    course = course or load_course(hidden=DEFAULT_HIDDEN if DEFAULT_HIDDEN.exists() else None)
    if sandbox and why_unavailable() and executor is None:
        raise SandboxUnavailable(why_unavailable())
    limits = dataclasses.replace(limits or Limits(), sandbox=bool(sandbox))
    own = executor is None
    executor = executor or LocalExecutor(jobs or os.cpu_count() or 1)
    entries = list_submissions(Path(submissions))
    students = {sid: StudentResult(sid) for sid, _ in entries}
    tasks = []
    for sid, path in entries:
        files = SubmissionFiles(path)
        try:
            if files.error:
                students[sid].notes.append(files.error)
                matched = {}
            else:
                matched, notes = match_notebooks(course, files)
                students[sid].notes += notes
        except Exception as exc:  # this student's files: this student's zero, never the class's end
            files.error = _internal("reading the submission", exc)
            students[sid].notes.append(files.error)
            matched = {}
        for nb in course.notebooks:
            if nb.name in matched:
                tasks.append((sid, files, nb, matched[nb.name]))
            else:
                students[sid].exercises.update(
                    zero_results(course, nb, f"notebook missing: no {nb.name} in the submission"))
                if not files.error:
                    students[sid].notes.append(f"{nb.name}: notebook missing")

    library, sources = library_fingerprint(), source_digests(course.sources)
    data_dir = None if data_dir is None else str(data_dir)

    def done(task, results, notes, seconds):
        sid, _, _nb, rel = task
        students[sid].exercises.update(results)
        students[sid].notes += notes
        students[sid].seconds += seconds
        if progress:
            passed = sum(r.passed for r in results.values())
            progress(f"{sid}: {rel} -> {passed}/{len(results)} exercises passed ({seconds:.1f} s)")

    def failed(task, digest, what, exc):
        """A run the grader itself could not complete: this run's zero, journaled (a resume does not stop on it)."""
        sid, nb = task[0], task[2]
        reason = _internal(what, exc)
        results = zero_results(course, nb, reason)
        if journal is not None and digest is not None:
            journal.record(sid, nb.name, digest, results, [reason], 0.0)
        return done(task, results, [reason], 0.0)

    def start(task):
        """Journaled, unreadable or failed: done here, returns None; else the submitted run."""
        sid, files, nb, _ = task
        digest = None
        try:
            try:
                data = files.read(task[3])
            except SubmissionError as exc:
                return done(task, zero_results(course, nb, f"your notebook could not be read: {exc}"), [], 0.0)
            digest = hashlib.sha256(data).hexdigest()
            found = journal.lookup(sid, nb.name, digest) if journal is not None else None
            if found is not None:
                return done(task, *found)
            prepared = prepare_submission(nb, data, skip_demos=limits.skip_demos)
            if prepared.unreadable is not None:
                return done(task, *finish_submission(course, prepared, None, limits))
            future = executor.submit(nbformat.writes(prepared.nb), course.input_files(nb.exercise_ids), limits,
                                     data_dir, library)
        except Exception as exc:  # this run's files or notebook: this run's zero, the class goes on
            return failed(task, digest, "preparing the run", exc)
        pending[future] = (task, digest, prepared)
        return None

    def finish(future):
        task, digest, prepared = pending.pop(future)
        sid, nb = task[0], task[2]
        try:
            run = future.result()
        except Exception as exc:  # the grader must go on with the others whatever happens (not journaled: retried)
            return done(task, zero_results(course, nb, f"internal grader error: {type(exc).__name__}: {exc}"), [], 0.0)
        if run.status == "library" or library_fingerprint() != library:
            raise CourseChangedError(f"{run.detail or 'the course library (course_lib/) changed on disk'} while "
                                     f"{sid}'s {nb.name} was graded: restore it (git status, git checkout) and "
                                     "grade again")
        changed = changed_sources(sources, course.sources)
        if changed:
            raise CourseChangedError(f"the instructor notebooks or hidden tests changed on disk "
                                     f"({', '.join(changed)}) while {sid}'s {nb.name} was graded: restore them "
                                     "(git status, git checkout) and grade again")
        try:
            results, notes, seconds = finish_submission(course, prepared, run, limits)
        except Exception as exc:  # scoring this run failed: this run's zero, the class goes on
            return failed(task, digest, "scoring the run", exc)
        if journal is not None:
            journal.record(sid, nb.name, digest, results, notes, seconds)
        done(task, results, notes, seconds)

    tasks.sort(key=lambda t: -course.estimated_seconds(t[2]))  # longest first: better packing
    queue, pending = list(reversed(tasks)), {}
    window = 2 * max(executor.slots, 1)  # runs handed to the executor ahead of the free slots
    try:
        while queue or pending:
            while queue and len(pending) < window:
                start(queue.pop())
            if pending:
                for future in executor.wait(list(pending)):
                    finish(future)
    except BaseException:  # Ctrl-C, SIGTERM: stop the running notebooks (and their kernels) too
        executor.cancel(list(pending))
        raise
    finally:
        if own:
            executor.close()
    for s in students.values():
        s.exercises = {e: s.exercises[e] for e in course.exercise_ids}
        s.notes = sorted(set(s.notes))
    return [students[sid] for sid in sorted(students)]


# --------------------------------------------------------------------------- command line

def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _internal(what: str, exc: BaseException) -> str:
    """The note of a run the grader could not complete (the exception's type and a short, encodable message)."""
    return safe_text(f"internal grader error while {what}: {type(exc).__name__}: {str(exc)[:200]} "
                     "(this run scores 0; tell your instructor)")


def main(argv=None) -> int:
    """``python -m course_lib.grading.grade``: grade a submissions folder, or ``--self`` check notebooks.

    Writes the CSV gradebook (``--out``) and the feedback files (``--feedback``, default
    ``feedback/`` next to the CSV); progress and a summary go to stderr. SIGTERM is
    handled like Ctrl-C: the running notebooks are stopped and no CSV or feedback is written;
    the runs that had finished stay journaled, and the same command resumes from them.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (default: ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    int
        0 on success, 2 if a ``--self`` notebook cannot be read, 3 if the course library,
        an instructor notebook graded or a hidden test changed during grading, 4 if no
        sandbox can be made (and no ``--no-sandbox``), 5 if the Dask cluster cannot be reached
        or offers no grading slot, 130 if interrupted (argparse exits with 2 for bad arguments).
    """
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading.grade",
        description="Grade a folder of submissions into a CSV gradebook, or --self check one notebook.")
    parser.add_argument("submissions", nargs="?", help="folder with one subfolder or .zip per student")
    parser.add_argument("--self", dest="self_paths", nargs="+", metavar="NOTEBOOK",
                        help="check these notebooks like the grader does (public cases only)")
    parser.add_argument("--out", default="gradebook.csv", help="CSV gradebook (default: %(default)s)")
    parser.add_argument("--feedback", help="folder for one feedback file per student (default: next to --out)")
    parser.add_argument("--course", default=str(DEFAULT_COURSE), help="instructor notebooks (default: %(default)s)")
    parser.add_argument("--notebooks", nargs="+", help="grade only these course notebooks (file names)")
    parser.add_argument("--hidden", default=str(DEFAULT_HIDDEN),
                        help="hidden test file or folder (default: %(default)s)")
    parser.add_argument("--no-hidden", action="store_true", help="public cases only")
    parser.add_argument("--hidden-seed", type=int, default=session_default(), metavar="N", help="draw the random "
                        "hidden cases from N, a secret (default: $COURSE_HIDDEN_SEED, else 0: as written)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="notebooks run at once (default: %(default)s)")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout, help="seconds per cell")
    parser.add_argument("--notebook-timeout", type=float, default=Limits.notebook_timeout, help="seconds per notebook")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory per notebook run, MB")
    parser.add_argument("--data-dir", help="data folder for the kernels (default: $COURSE_DATA_DIR, else data/)")
    parser.add_argument("--journal", help="SQLite gradebook journal (default: --out with the suffix .db); "
                                          "a run started again with the same arguments resumes from it")
    parser.add_argument("--no-sandbox", action="store_true", help="run the notebooks without the bubblewrap "
                                                                   "sandbox (recorded in the journal)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run the notebooks on a Dask cluster, e.g. "
                                                               "tcp://host:8786 (docs/GRADING.md)")
    parser.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster of N workers here")
    parser.add_argument("--all-cells", action="store_true", help="run every cell of each notebook, the "
                                                                   "demonstrations too (default: only the setup, "
                                                                   "the answers, their checks and what they use)")
    parser.add_argument("--regrade", action="store_true", help="grade every notebook again (the journal keeps "
                                                                "the earlier results as history)")
    args = parser.parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return _run(parser, args)
    except KeyboardInterrupt:
        print("grading interrupted: the running notebooks were stopped and no CSV was written; the finished "
              "runs are journaled: the same command resumes", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(parser, args) -> int:
    check_arguments(parser, args)
    limits = Limits(args.cell_timeout, args.notebook_timeout, args.memory_mb, skip_demos=not args.all_cells)
    if args.self_paths:
        for p in args.self_paths:
            try:
                self_check(p, course_dir=args.course, limits=limits, data_dir=args.data_dir)
            except (OSError, ValueError) as exc:
                print(f"{p}: {exc}", file=sys.stderr)
                return 2
        return 0
    if not args.submissions:
        parser.error("give a SUBMISSIONS folder, or --self NOTEBOOK")
    if not Path(args.submissions).is_dir():
        parser.error(f"{args.submissions} is not a folder")
    hidden = None if args.no_hidden or not Path(args.hidden).exists() else args.hidden
    course = load_course(args.course, hidden=hidden, names=args.notebooks, session=args.hidden_seed)
    start = time.monotonic()
    journal = Journal(args.journal or Path(args.out).with_suffix(".db"), course_fingerprint(course),
                      {k: v for k, v in vars(args).items() if k != "regrade"}, regrade=args.regrade)
    before = journal.count()
    if not args.no_sandbox and why_unavailable() and not args.scheduler:
        print(f"grading refused: {why_unavailable()}", file=sys.stderr)
        return 4
    try:
        executor = make_executor(args.jobs, scheduler=args.scheduler, dask_local=args.dask_local)
    except (RuntimeError, ValueError, OSError) as exc:
        journal.close()
        print(f"grading refused: {exc}", file=sys.stderr)
        return 5
    print(f"running the notebooks on {executor.name} ({executor.slots} at once)", file=sys.stderr)
    try:
        results = grade_class(args.submissions, course, limits=limits, data_dir=args.data_dir,
                              progress=lambda line: print(line, file=sys.stderr, flush=True), journal=journal,
                              sandbox=not args.no_sandbox, executor=executor)
    except CourseChangedError as exc:
        print(f"grading stopped: {exc}", file=sys.stderr)
        return 3
    except SandboxUnavailable as exc:
        print(f"grading refused: {exc}", file=sys.stderr)
        return 4
    finally:
        executor.close()
        journal.close()
    if before and not args.regrade:
        print(f"resumed from {journal.path}: runs already journaled were not graded again", file=sys.stderr)
    out = write_gradebook(results, course, args.out)
    feedback = Path(args.feedback) if args.feedback else out.parent / "feedback"
    write_feedback(results, course, feedback)
    elapsed = time.monotonic() - start
    runs = sum(s.seconds for s in results)
    print(f"graded {len(results)} student(s) in {elapsed:.0f} s with {executor.slots} at once "
          f"({elapsed / max(len(results), 1):.1f} s per student; {runs:.0f} s of notebook runs); "
          f"hidden tests: {'yes' if course.hidden_source else 'no'}", file=sys.stderr)
    print(f"gradebook: {out}\nfeedback:  {feedback}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
