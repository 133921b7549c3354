"""Grade a class, or check one's own notebook the way the grader will.

Instructor::

    python -m course_lib.grading.grade SUBMISSIONS/ --out gradebook.csv [--feedback feedback/] [--jobs N]

``SUBMISSIONS/`` holds one folder or ``.zip`` per student (the student id is its name)
with the student's notebooks, matched to the course notebooks by file name, else by
content (the exercise ids they hold). Each (student, notebook) pair is graded by
:func:`course_lib.grading.runner.run_nbval` in its own process and kernel; the CSV
has one row per student (sorted by id): ``student_id, <exercise ids in course
order>, total, max_score``. One Markdown feedback file per student says which
exercises passed and why the others did not.

Student::

    python -m course_lib.grading.grade --self 01_weight_pruning.ipynb

or, in a cell, ``from course_lib.grading import self_check; self_check("01_weight_pruning.ipynb")``
(save the notebook first): the same grading, public cases only, printed as a table.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import signal
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import runner
from .notebooks import (
    CourseNotebook,
    SubmissionError,
    find_exercises,
    load_course_notebook,
    parse_submission,
    submission_answers,
    submission_ids,
)
from .runner import Limits, RunResult, build_graded_notebook, reference_line, run_nbval

__all__ = ["Course", "ExerciseResult", "StudentResult", "load_course", "grade_class",
           "write_gradebook", "write_feedback", "self_check", "main"]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_COURSE = REPO / "notebooks"
DEFAULT_HIDDEN = REPO / "hidden_tests"
MAX_NOTEBOOK_MB = 256
MAX_FILES = 500
MAX_SOURCE_CHARS = 1_000_000
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
# Solution code that touches the checking machinery or the file system: flagged for a human to read.
_SUSPICIOUS = re.compile(r"EXERCISES|add_cases|_exercise_bank|exercises\.bank|load_bank|\.cases\b|\bcheck\s*=[^=]|__file__|\.ipynb|hidden_tests"
                         r"|builtins|sys\.stdout|os\.(remove|unlink|system|kill|_exit|fork|walk|listdir)|shutil"
                         r"|subprocess|\bglob\b|\bopen\(")


# --------------------------------------------------------------------------- the course

@dataclass
class Course:
    """The instructor notebooks, the exercises in course order, points and case counts."""

    notebooks: list[CourseNotebook]
    points: dict[str, float]
    case_counts: dict[str, int] = field(default_factory=dict)
    hidden_source: str | None = None

    @property
    def exercise_ids(self) -> list[str]:
        return [e for nb in self.notebooks for e in nb.exercise_ids]

    @property
    def max_score(self) -> float:
        return sum(self.points[e] for e in self.exercise_ids)

    def estimated_seconds(self, nb: CourseNotebook) -> float:
        """How long the instructor's last run of ``nb`` took (from its execution metadata), else 30."""
        total = 0.0
        for cell in nb.nb.cells:
            ex = cell.get("metadata", {}).get("execution", {})
            try:
                total += (datetime.fromisoformat(ex["shell.execute_reply"])
                          - datetime.fromisoformat(ex["iopub.execute_input"])).total_seconds()
            except (KeyError, TypeError, ValueError):
                continue
        return total or 30.0


def _hidden_text(hidden) -> str | None:
    if hidden is None:
        return None
    hidden = Path(hidden)
    files = sorted(hidden.glob("*.py")) if hidden.is_dir() else [hidden]
    parts = [f"# --- {f.name}\n{f.read_text(encoding='utf-8')}" for f in files if not f.name.startswith("_")]
    return "\n".join(parts) or None


def _count_cases(hidden_source: str | None) -> dict[str, int]:
    """Cases per exercise once the hidden file has run (the grader's process is left as it was)."""
    from ..exercises import load_bank

    EXERCISES = load_bank()

    saved = {k: list(v.cases) for k, v in EXERCISES.items()}
    try:
        if hidden_source:
            exec(compile(hidden_source, "<hidden tests>", "exec"), {"__name__": "__hidden_tests__"})
        return {k: len(v.cases) for k, v in EXERCISES.items()}
    finally:
        for k in list(EXERCISES):
            if k in saved:
                EXERCISES[k].cases[:] = saved[k]
            else:
                del EXERCISES[k]


def load_course(course_dir=DEFAULT_COURSE, *, hidden=None, names=None) -> Course:
    """Read the instructor notebooks of ``course_dir`` (or ``names`` in it) and the hidden tests.

    ``hidden`` is a hidden-test file or a folder of them (``None``: public cases only).
    Notebooks without exercises are left out.
    """
    from ..exercises import load_bank

    EXERCISES = load_bank()

    course_dir = Path(course_dir)
    paths = [course_dir / n for n in names] if names else sorted(course_dir.glob("*.ipynb"))
    notebooks = [nb for nb in map(load_course_notebook, paths) if nb.exercises]
    hidden_source = _hidden_text(hidden)
    counts = _count_cases(hidden_source)
    ids = [e for nb in notebooks for e in nb.exercise_ids]
    unknown = [e for e in ids if e not in counts]
    if unknown:
        raise ValueError(f"exercises {unknown} are checked in the notebooks but not registered in course_lib.")
    points = {e: float(EXERCISES[e].points) for e in ids}
    return Course(notebooks, points, {e: counts[e] for e in ids}, hidden_source)


# --------------------------------------------------------------------------- results

@dataclass
class ExerciseResult:
    exercise_id: str
    notebook: str
    points: float
    max_points: float
    feedback: str

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


@dataclass
class StudentResult:
    student_id: str
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(r.points for r in self.exercises.values())


def _clean(text: str) -> str:
    return _ADDRESS.sub("0xADDRESS", text).strip()


def _why(run: RunResult, cell: int, role: str, limits: Limits, exercise_id: str = "", expected: str = "") -> str:
    """A sentence for the feedback: why code cell ``cell`` did not pass."""
    res = run.cells.get(cell)
    if res is None:
        if run.status in ("timeout", "memory"):
            return f"not run: {run.detail}, and the run was stopped before this cell"
        return f"not run: {run.detail or 'the notebook stopped before this cell'}"
    msg = res.message
    if "Kernel dead" in msg or ("Timeout" in msg and "waiting for output" in msg):
        return "not run: the kernel had stopped (an earlier cell crashed it or could not be interrupted)"
    if "Timeout" in msg:
        return (f"did not finish within the time limit of {limits.cell_timeout:g} s per cell "
                "(an infinite loop? or code that stopped the kernel?)")
    parts = []
    if role == "check" and res.stdout.strip():
        verdict = re.search(rf"^\[{re.escape(exercise_id)}\] .*", res.stdout, re.M | re.S)
        parts.append(verdict.group(0) if verdict else res.stdout)
        if not verdict or " correct: " in verdict.group(0).splitlines()[0]:
            parts.append(f"(the output differs from the reference, which is exactly the line `{expected}`: "
                         "did your code print something, or change the check?)")
    if res.error:
        parts.append(("your exercise cell raised " if role == "solution" else "the check raised ") + res.error)
    if not parts and res.display.strip():
        parts.append(res.display)
    if not parts:
        parts.append(msg or f"the cell {res.outcome}")
    return _clean("\n".join(parts))


def _score_notebook(course: Course, course_nb: CourseNotebook, run: RunResult, code_roles: dict,
                    found: dict[str, str], limits: Limits) -> dict[str, ExerciseResult]:
    by_exercise: dict[str, dict[str, list[int]]] = {}
    for cell, (ex_id, role) in code_roles.items():
        by_exercise.setdefault(ex_id, {}).setdefault(role, []).append(cell)
    results = {}
    for ex_id in course_nb.exercise_ids:
        check_cell = by_exercise[ex_id]["check"][0]
        res = run.cells.get(check_cell)
        max_points = course.points[ex_id]
        if res is not None and res.passed:
            results[ex_id] = ExerciseResult(ex_id, course_nb.name, max_points, max_points,
                                            "passed" + (" (after an earlier cell timed out)" if res.xfail else ""))
            continue
        reasons = [found[ex_id]] if ex_id in found else []
        for cell in [] if ex_id in found else by_exercise[ex_id].get("solution", []):
            sol = run.cells.get(cell)
            if sol is not None and not sol.passed:
                reasons.append(_why(run, cell, "solution", limits, ex_id))
        check_reason = _why(run, check_cell, "check", limits, ex_id,
                            reference_line(ex_id, course.case_counts.get(ex_id, 0)))
        if check_reason not in reasons:
            reasons.append(check_reason)
        results[ex_id] = ExerciseResult(ex_id, course_nb.name, 0.0, max_points, "\n".join(reasons))
    return results


def _zero(course: Course, course_nb: CourseNotebook, reason: str) -> dict[str, ExerciseResult]:
    return {e: ExerciseResult(e, course_nb.name, 0.0, course.points[e], reason) for e in course_nb.exercise_ids}


def grade_notebook_data(course: Course, course_nb: CourseNotebook, data: bytes, *, limits: Limits | None = None,
                        data_dir=None) -> tuple[dict[str, ExerciseResult], list[str], float]:
    """Grade one submitted file against ``course_nb``; returns (results, notes, seconds). Never raises."""
    limits = limits or Limits()
    try:
        cells = parse_submission(data)
    except SubmissionError as exc:
        return _zero(course, course_nb, f"your notebook could not be read: {exc}"), [], 0.0
    answers, found, notes = {}, {}, []
    for ex in course_nb.exercises:
        answers[ex.id], how = submission_answers(cells, ex)
        if answers[ex.id] is not None and sum(map(len, answers[ex.id])) > MAX_SOURCE_CHARS:
            answers[ex.id], how = None, f"your exercise cell is longer than {MAX_SOURCE_CHARS:,} characters"
        if answers[ex.id] is None:
            found[ex.id] = how
        elif "copies" in how:
            notes.append(f"{ex.id}: {how.split('(', 1)[1].rstrip(')')}")
        flagged = _SUSPICIOUS.search("\n".join(answers[ex.id])) if answers[ex.id] else None
        if flagged:
            notes.append(f"{ex.id}: the solution uses `{flagged.group(0)}` -- flagged for a human to read "
                         "(not counted against the score)")
    nb, code_roles = build_graded_notebook(course_nb, answers, case_counts=course.case_counts,
                                           hidden_source=course.hidden_source)
    run = run_nbval(nb, limits=limits, data_dir=data_dir)
    if run.status != "ok":
        notes.append(f"{course_nb.name}: {run.detail}")
    return _score_notebook(course, course_nb, run, code_roles, found, limits), notes, run.seconds


# --------------------------------------------------------------------------- submissions

class _Files:
    """The notebooks of one submission (a folder or a zip), read lazily and with size caps."""

    def __init__(self, path: Path):
        self.path, self.error, self.entries = path, None, {}
        try:
            if path.is_dir():
                inside = path.resolve()
                for f in sorted(path.rglob("*.ipynb")):
                    if len(self.entries) >= MAX_FILES:
                        break
                    rel = f.relative_to(path)
                    if (f.is_file() and not f.is_symlink() and not _ignored(rel.parts)
                            and f.resolve().is_relative_to(inside)):
                        self.entries[rel.as_posix()] = f.stat().st_size
            else:
                with zipfile.ZipFile(path) as zf:
                    for info in zf.infolist()[: 20 * MAX_FILES]:
                        parts = Path(info.filename).parts
                        if info.filename.endswith(".ipynb") and not info.is_dir() and not _ignored(parts):
                            self.entries[info.filename] = info.file_size
        except (OSError, zipfile.BadZipFile, ValueError) as exc:
            self.error = f"the submission could not be opened: {exc}"

    def read(self, rel: str) -> bytes:
        size = self.entries[rel]
        if size > MAX_NOTEBOOK_MB * 2**20:
            raise SubmissionError(f"the file is {size / 2**20:.0f} MB, more than {MAX_NOTEBOOK_MB} MB: "
                                  "clear the outputs (Edit > Clear Outputs of All Cells), save and resubmit")
        try:
            if self.path.is_dir():
                return (self.path / rel).read_bytes()
            with zipfile.ZipFile(self.path) as zf, zf.open(rel) as f:
                data = f.read(MAX_NOTEBOOK_MB * 2**20 + 1)  # the size in the zip's header may lie
        except (OSError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError) as exc:
            raise SubmissionError(f"the file could not be read: {exc}") from None
        if len(data) > MAX_NOTEBOOK_MB * 2**20:
            raise SubmissionError(f"the file is more than {MAX_NOTEBOOK_MB} MB once unpacked")
        return data


def _ignored(parts) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def match_notebooks(course: Course, files: _Files) -> tuple[dict[str, str], list[str]]:
    """Course notebook name -> submitted file, by name, then by content (renamed files); with notes."""
    matched, notes = {}, []
    depth = {rel: (len(Path(rel).parts), rel) for rel in files.entries}
    for nb in course.notebooks:
        same = sorted((r for r in files.entries if Path(r).name == nb.name), key=depth.get)
        if same:
            matched[nb.name] = same[0]
            notes += [f"{nb.name}: graded {same[0]}, ignored the other copy {other}" for other in same[1:]]
    left = [r for r in sorted(files.entries, key=depth.get) if r not in matched.values()]
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


def _submissions(folder: Path) -> list[tuple[str, Path]]:
    out, seen = [], set()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not (entry.is_dir() or entry.suffix.lower() == ".zip"):
            continue
        sid = entry.name if entry.is_dir() else entry.stem
        if sid in seen:
            print(f"grade: {entry.name}: student {sid!r} has both a folder and a zip, graded the folder",
                  file=sys.stderr)
            continue
        seen.add(sid)
        out.append((sid, entry))
    return out


def grade_class(submissions, course: Course | None = None, *, jobs: int | None = None,
                limits: Limits | None = None, data_dir=None, progress=None) -> list[StudentResult]:
    """Grade every student of the ``submissions`` folder; results sorted by student id.

    Every (student, notebook) pair is one nbval run in its own process; ``jobs`` of them
    run at once (default: the number of CPUs).
    """
    course = course or load_course(hidden=DEFAULT_HIDDEN if DEFAULT_HIDDEN.exists() else None)
    limits = limits or Limits()
    jobs = jobs or os.cpu_count() or 1
    entries = _submissions(Path(submissions))
    students = {sid: StudentResult(sid) for sid, _ in entries}
    tasks = []
    for sid, path in entries:
        files = _Files(path)
        if files.error:
            students[sid].notes.append(files.error)
            matched = {}
        else:
            matched, notes = match_notebooks(course, files)
            students[sid].notes += notes
        for nb in course.notebooks:
            if nb.name in matched:
                tasks.append((sid, files, nb, matched[nb.name]))
            else:
                students[sid].exercises.update(_zero(course, nb, f"notebook missing: no {nb.name} in the submission"))
                if not files.error:
                    students[sid].notes.append(f"{nb.name}: notebook missing")

    def work(task):
        sid, files, nb, rel = task
        try:
            data = files.read(rel)
        except SubmissionError as exc:
            return task, _zero(course, nb, f"your notebook could not be read: {exc}"), [], 0.0
        try:
            return (task, *grade_notebook_data(course, nb, data, limits=limits, data_dir=data_dir))
        except Exception as exc:  # the grader must go on with the others whatever happens
            return task, _zero(course, nb, f"internal grader error: {type(exc).__name__}: {exc}"), [], 0.0

    tasks.sort(key=lambda t: -course.estimated_seconds(t[2]))  # longest first: better packing
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            for future in as_completed([pool.submit(work, t) for t in tasks]):
                (sid, _, _nb, rel), results, notes, seconds = future.result()
                students[sid].exercises.update(results)
                students[sid].notes += notes
                students[sid].seconds += seconds
                if progress:
                    passed = sum(r.passed for r in results.values())
                    progress(f"{sid}: {rel} -> {passed}/{len(results)} exercises passed ({seconds:.1f} s)")
        except BaseException:  # Ctrl-C, SIGTERM: stop the running notebooks (and their kernels) too
            runner.CANCEL.set()
            pool.shutdown(cancel_futures=True)
            runner.CANCEL.clear()
            raise
    for s in students.values():
        s.exercises = {e: s.exercises[e] for e in course.exercise_ids}
        s.notes = sorted(set(s.notes))
    return [students[sid] for sid in sorted(students)]


# --------------------------------------------------------------------------- outputs

def _fmt(points: float) -> str:
    return f"{points:g}"


def write_gradebook(results: list[StudentResult], course: Course, path) -> Path:
    """The CSV: ``student_id, <exercise ids>, total, max_score``, one row per student, sorted."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_id", *course.exercise_ids, "total", "max_score"])
    for s in sorted(results, key=lambda r: r.student_id):
        writer.writerow([s.student_id, *(_fmt(s.exercises[e].points) for e in course.exercise_ids),
                         _fmt(s.total), _fmt(course.max_score)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def feedback_markdown(result: StudentResult, course: Course) -> str:
    """One student's feedback: a table of exercises, then why each failed one did not pass."""
    lines = [f"# Feedback for {result.student_id}", "",
             f"**Total: {_fmt(result.total)} / {_fmt(course.max_score)}**", "",
             "| notebook | exercise | points | result |", "|---|---|---|---|"]
    for r in result.exercises.values():
        status = "passed" if r.passed else "not passed"
        lines.append(f"| {r.notebook} | {r.exercise_id} | {_fmt(r.points)} / {_fmt(r.max_points)} | {status} |")
    failed = [r for r in result.exercises.values() if not r.passed]
    if failed:
        lines += ["", "## Why these exercises did not pass"]
        for r in failed:
            lines += ["", f"### {r.exercise_id} ({r.notebook})", "", "```", r.feedback.replace("```", "'''"), "```"]
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def write_feedback(results: list[StudentResult], course: Course, folder) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in results:
        path = folder / f"{r.student_id}.md"
        path.write_text(feedback_markdown(r, course), encoding="utf-8")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- self-check

def _match_course_notebook(course_dir: Path, path: Path, cells) -> CourseNotebook | None:
    candidates = sorted(course_dir.glob("*.ipynb")) if course_dir.is_dir() else []
    exact = [c for c in candidates if c.name == path.name]
    if exact:
        return load_course_notebook(exact[0])
    ids = submission_ids(cells)
    best = None
    for c in candidates:
        nb = load_course_notebook(c)
        overlap = len(ids & set(nb.exercise_ids))
        if overlap and (best is None or overlap > best[0]):
            best = (overlap, nb)
    return best[1] if best else None


def self_check(path, *, course_dir=None, limits: Limits | None = None, data_dir=None, quiet: bool = False
               ) -> list[ExerciseResult]:
    """Check a saved notebook the way the grader will (public cases only) and print a table.

    The reference is the course's notebook of the same name (else the one holding the
    same exercises; else the file's own structure). Save the notebook first: what is
    checked is the file on disk.
    """
    import nbformat

    path = Path(path)
    limits = limits or Limits()
    data = path.read_bytes()
    cells = parse_submission(data)
    template = _match_course_notebook(Path(course_dir) if course_dir else DEFAULT_COURSE, path, cells)
    if template is None:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        template = CourseNotebook(path.name, nb, find_exercises(nb, path.name))
    from ..exercises import EXERCISES

    counts = _count_cases(None)
    course = Course([template], {e: float(EXERCISES[e].points) for e in template.exercise_ids},
                    {e: counts[e] for e in template.exercise_ids})
    results, notes, seconds = grade_notebook_data(course, template, data, limits=limits, data_dir=data_dir)
    if not quiet:
        print(self_check_table(path.name, results, notes, seconds))
    return list(results.values())


def self_check_table(name: str, results: dict[str, ExerciseResult], notes: list[str], seconds: float) -> str:
    width = max([len(e) for e in results] + [8])
    lines = [f"{name}: checked like the grader does (public cases only) in {seconds:.0f} s", "",
             f"{'exercise':{width}s}  points  result"]
    for r in results.values():
        first, *rest = r.feedback.splitlines() or [""]
        lines.append(f"{r.exercise_id:{width}s}  {_fmt(r.points):>2s}/{_fmt(r.max_points):<3s}  {first}")
        lines += [f"{'':{width}s}          {line}" for line in rest]
    total = sum(r.points for r in results.values())
    lines += ["", f"total: {_fmt(total)} / {_fmt(sum(r.max_points for r in results.values()))}"]
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line

def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
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
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="notebooks run at once (default: %(default)s)")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout, help="seconds per cell")
    parser.add_argument("--notebook-timeout", type=float, default=Limits.notebook_timeout, help="seconds per notebook")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory per notebook run, MB")
    parser.add_argument("--data-dir", help="data folder for the kernels (default: $COURSE_DATA_DIR, else data/)")
    args = parser.parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return _run(parser, args)
    except KeyboardInterrupt:
        print("grading interrupted: the running notebooks were stopped, nothing was written", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(parser, args) -> int:
    limits = Limits(args.cell_timeout, args.notebook_timeout, args.memory_mb)
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
    course = load_course(args.course, hidden=hidden, names=args.notebooks)
    start = time.monotonic()
    results = grade_class(args.submissions, course, jobs=args.jobs, limits=limits, data_dir=args.data_dir,
                          progress=lambda line: print(line, file=sys.stderr, flush=True))
    out = write_gradebook(results, course, args.out)
    feedback = Path(args.feedback) if args.feedback else out.parent / "feedback"
    write_feedback(results, course, feedback)
    elapsed = time.monotonic() - start
    runs = sum(s.seconds for s in results)
    print(f"graded {len(results)} student(s) in {elapsed:.0f} s with {args.jobs} job(s) "
          f"({elapsed / max(len(results), 1):.1f} s per student; {runs:.0f} s of notebook runs); "
          f"hidden tests: {'yes' if course.hidden_source else 'no'}", file=sys.stderr)
    print(f"gradebook: {out}\nfeedback:  {feedback}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
