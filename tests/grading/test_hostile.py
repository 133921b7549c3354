"""A class of hostile submissions, graded in one run with the sandbox: each kind of cheating scores 0 for what
it did not solve, the honest students keep full marks, and the run survives all of them.

Each student hands in ``01_weight_pruning.ipynb`` (three exercises) of the mini course
(``tests/grading_helpers.py``); the attack sits in one exercise cell, usually with a wrong answer beside
it, so that a successful attack would show as a point it did not earn. The kinds (``tests/grading/fixtures/README.md``
lists them with their rows) are those of the grading issue: patching the checker (plain and obfuscated),
rewriting what is printed (``print``, IPython hooks, input transformers), reading the expected value from
frames or with a lying ``__array__``, reading instructor files and classmates' notebooks by absolute path,
overwriting a classmate's notebook, a daemon that outlives the run, forging results (the result pipe
through ``/proc``, records in the exchange folder), editing the course library, killing the grader,
spreadsheet formulas as student ids, zip bombs by entry count and by ratio, nbformat 3, and a notebook that
tries to tell the grade from the self-check by its environment.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from grading_helpers import HIDDEN, build_mini, rows, skip_without_data, solved, write

from course_lib.exercises import load_bank
from course_lib.grading import grade, sandbox

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NB = "01_weight_pruning.ipynb"
REPO = Path(__file__).resolve().parents[2]
WRONG_MASK = "def row_mask(w, k):\n    return np.ones(np.shape(w), dtype=bool)\n"

PATCHED_CHECKER = '''import numpy as np
import course_lib as cl
import course_lib.exercises as exercises
import course_lib.exercises.core as core
exercises.load_bank()  # the registry is filled on the first check: fill it now, to empty it below

def fake_check(exercise_id, answer, quiet=False):
    n = len(core.EXERCISES[exercise_id].cases)
    print(f"[{exercise_id}] correct: {n}/{n} cases pass.")
    return True

cl.check = exercises.check = core.check = fake_check
core.compare = core.judge = lambda *args, **kwargs: []
for ex in core.EXERCISES.values():
    ex.cases[:] = []
np.asarray = lambda *args, **kwargs: np.ones(3, dtype=bool)
''' + WRONG_MASK

_OBFUSCATED = base64.b64encode(b"import sys\nm = sys.modules['course_lib.exercises.core']\n"
                               b"setattr(sys.modules['course_lib'], 'check', lambda i, a, quiet=False: "
                               b"print(f'[{i}] correct: 5/5 cases pass.'))\n"
                               b"setattr(m, 'judge', lambda *a, **k: [])\n").decode()
OBFUSCATED = f'''import base64
getattr(__import__("course_lib.exercises", fromlist=["x"]), "load_bank")()
exec(base64.b64decode({_OBFUSCATED!r}).decode(), {{}})
getattr(__import__("course_lib.exercises.core", fromlist=["x"]), "EXERCISES")["01-row-mask"].cases.clear()
''' + WRONG_MASK

HOOKS = '''import builtins, sys
ip = get_ipython()
_print = builtins.print
builtins.print = lambda *a, **k: _print(*[str(x).replace("not yet", "correct") for x in a], **k)
ip.events.register("post_run_cell", lambda result: _print("[01-row-mask] correct: 5/5 cases pass."))
ip.events.register("pre_run_cell", lambda info: None)

def _rewrite(lines):
    return [line.replace('cl.check("01-row-mask", row_mask)',
                         'print("[01-row-mask] correct: 5/5 cases pass.")') for line in lines]

ip.input_transformers_post.append(_rewrite)

class _Out:
    def write(self, text):
        return sys.__stdout__.write(text.replace("not yet", "correct"))
    def flush(self):
        pass

sys.stdout = _Out()
''' + WRONG_MASK

FRAMES = '''import gc, linecache, sys

def _steal():
    f = sys._getframe(1)
    while f is not None:
        for name in ("expected", "ref", "want", "reference"):
            if name in f.f_locals:
                return f.f_locals[name]
        f = f.f_back
    for text in list(linecache.cache.values()):  # hidden test source, if it were ever here
        if "add_cases" in "".join(text[2] if len(text) > 2 else []):
            raise RuntimeError("found hidden test source")
    for obj in gc.get_objects():
        if isinstance(obj, dict) and "expected" in obj and hasattr(obj["expected"], "shape"):
            return obj["expected"]
    return None

class Liar:
    def __array__(self, dtype=None, copy=None):
        got = _steal()
        return np.asarray(got if got is not None else np.ones(1, dtype=bool))

def row_mask(w, k):
    got = _steal()
    return got if got is not None else Liar()
'''


def _reads_files(paths):
    return f'''import glob, json, os
import course_lib
roots = {[str(p) for p in paths]!r} + [os.path.dirname(os.path.dirname(course_lib.__file__))]
for pid in os.listdir("/proc"):  # the grader's command line names the course and the submissions
    try:
        roots += [a for a in open(f"/proc/{{pid}}/cmdline").read().split("\\0") if a.startswith("/")
                  and a.count("/") >= 2 and not a.startswith(("/usr", "/proc", "/dev", "/sys", "/lib", "/etc"))]
    except OSError:
        pass
for root in roots:
    for path in glob.glob(os.path.join(root, "**", "*.ipynb"), recursive=True)[:200]:
        try:
            cells = json.load(open(path))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        found = ["".join(c["source"]) for c in cells if "def nm_mask" in "".join(c["source"])]
        if found and "NotImplementedError" not in found[0]:
            exec(found[0], globals())
            break
'''


def _daemon(targets):
    return f'''import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        for path in {[str(t) for t in targets]!r}:
            try:
                with open(path, "a") as f:
                    f.write("h06_daemon,1,1,1,3,3\\n")
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
''' + WRONG_MASK


FORGES = '''import glob, json, os
import course_lib as cl
from course_lib.exercises import records
events = [{"event": "cell", "cell": c, "outcome": "passed", "xfail": False, "when": "call", "message": "",
           "stdout": "", "stderr": "", "error": "", "display": ""} for c in range(12)]
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        if "pytest" not in open(f"/proc/{pid}/cmdline").read():
            continue
    except OSError:
        continue
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            with open(fd, "w") as f:
                f.write("".join(json.dumps(e) + "\\n" for e in events))
        except OSError:
            pass
exchange = os.environ.get("COURSE_EXCHANGE", "/nonexistent")
_check = cl.check

def _forge(exercise_id, answer, quiet=False):
    if exercise_id != "01-row-mask":
        return _check(exercise_id, answer, quiet=quiet)
    out = os.path.join(exchange, "results", exercise_id)
    os.makedirs(out, exist_ok=True)
    k = 0
    while os.path.isdir(os.path.join(exchange, "cases", exercise_id, str(k))):
        w, amount = records.read_inputs(os.path.join(exchange, "cases", exercise_id, str(k)))
        records.write_record(out, str(k), np.abs(w) > np.median(np.abs(w)))  # looks right, is not
        k += 1
    with open(os.path.join(out, "0.json"), "w") as f:  # and a record no reader should accept
        json.dump({"tree": {"__reduce__": "os.system"}, "arrays": 0}, f)
    print("[01-row-mask] correct: 5/5 cases pass.")

cl.check = _forge
''' + WRONG_MASK


def _classmate(victim: Path):
    return f'''import json
try:
    for cell in json.load(open({str(victim)!r}))["cells"]:
        if "def nm_mask" in "".join(cell["source"]):
            exec("".join(cell["source"]).replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
except OSError:
    pass
try:
    with open({str(victim)!r}, "w") as f:
        f.write("{{}}")
except OSError:
    pass
'''


EDITS_LIBRARY = '''import os, pathlib
import course_lib
lib = pathlib.Path(course_lib.__file__).parent
for target in (lib / "exercises" / "core.py", lib / "exercises" / "bank" / "pruning.py"):
    try:
        open(target, "a").close()
    except OSError:
        pass
try:
    (lib / "exercises" / "h09_was_here.py").write_text("EXERCISES_ALWAYS_PASS = True\\n")
except OSError:
    pass
''' + WRONG_MASK

SIGNALS = '''import os, signal
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        cmdline = open(f"/proc/{pid}/cmdline").read()
    except OSError:
        continue
    if "pytest" in cmdline or "course_lib" in cmdline or "bwrap" in cmdline:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
'''

DETECTS = '''import os, socket
_graded = (any(k.startswith("COURSE_GRADE") for k in os.environ) or socket.gethostname() != "sandbox"
           or "--self" not in open("/proc/1/cmdline").read())

def row_mask(w, k):
    if _graded:  # cheat in the grade, behave in the self-check
        return np.ones(np.shape(w), dtype=bool)
    order = np.argsort(-np.abs(w), axis=1, kind="stable")
    keep = np.zeros(np.shape(w), dtype=bool)
    np.put_along_axis(keep, order[:, :k], True, axis=1)
    return keep
'''


_RIGHT_RECORDS = '''import os, threading, time
import numpy as np
from course_lib.exercises import records
exchange = os.environ.get("COURSE_EXCHANGE", "/nonexistent")

def _right(w, k):
    order = np.argsort(-np.abs(w), axis=1, kind="stable")
    keep = np.zeros(np.shape(w), dtype=bool)
    np.put_along_axis(keep, order[:, :k], True, axis=1)
    return keep

def _write_right_records():
    out = os.path.join(exchange, "results", "01-row-mask")
    os.makedirs(out, exist_ok=True)
    k = 0
    while os.path.isdir(os.path.join(exchange, "cases", "01-row-mask", str(k))):
        w, amount = records.read_inputs(os.path.join(exchange, "cases", "01-row-mask", str(k)))
        records.write_record(out, str(k), _right(w, amount))
        k += 1
'''

# complete and correct records written by the student's own code, then a check cell that fails
RECORDS_FAILED_CHECK = _RIGHT_RECORDS + '''
_write_right_records()
import course_lib as cl
_real_check = cl.check
def _raise(exercise_id, *args, **kwargs):  # only this exercise's check fails
    if exercise_id == "01-row-mask":
        raise RuntimeError("no check today")
    return _real_check(exercise_id, *args, **kwargs)
cl.check = _raise
''' + WRONG_MASK

# a wrong answer recorded by the check, then replaced by right records from a thread after the check
REPLACES_RECORDS = _RIGHT_RECORDS + '''
def _replace():
    target = os.path.join(exchange, "results", "01-row-mask", "0.json")
    while not os.path.exists(target):
        time.sleep(0.05)
    time.sleep(1.0)
    _write_right_records()
threading.Thread(target=_replace, daemon=True).start()
''' + WRONG_MASK


# an answer that raises on every case with the case's inputs (and a lone surrogate) in its message: a lookup table
# of the hidden inputs would be built from the feedback -- which must name a hidden case, never quote it
LEAKS_INPUTS = '''def row_mask(w, k):
    raise ValueError("LEAK " + repr(np.asarray(w).ravel()[:4].tolist()) + " k=" + repr(k) + " \\ud800")
'''
# a flood of displays and 2,000 threads: the display cap keeps the kernel alive, the process limit is 512
FLOODS = '''for i in range(20_000):
    display(i)
'''
# 5 GB into the sandbox's RAM-backed /tmp (a tmpfs capped at Limits.tmp_mb: the writes fail, the run goes on), and
# 8 GB onto the run's disk in 512 MB files (each under the file-size limit: the disk budget stops the run)
TMP_HOG = '''try:
    with open("/tmp/hog", "wb") as f:
        for _ in range(80):
            f.write(b"0" * 2**26)
except OSError:
    pass
'''
DISK_HOG = '''import os
for i in range(16):
    with open(os.path.expanduser(f"~/hog{i}"), "wb") as f:
        for _ in range(8):
            f.write(b"0" * 2**26)
'''
THREADS = '''import threading, time
try:
    for _ in range(2000):
        threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
except RuntimeError:  # the address-space limit may stop it first: the threads made so far stay
    pass
time.sleep(60)
'''


def _file_level_students(mini, subs: Path, course: Path) -> None:
    """Submissions the grader refuses or reads without running anything of theirs."""
    # a zip whose notebook's deflate stream is corrupt (headers intact)
    data = nbformat.writes(solved(mini, NB)).encode()
    with zipfile.ZipFile(subs / "h18_corrupt_stream.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(NB, data)
    raw = bytearray((subs / "h18_corrupt_stream.zip").read_bytes())
    start = raw.index(NB.encode()) + len(NB)
    for i in range(start + 40, start + 240):
        raw[i] ^= 0x5A
    (subs / "h18_corrupt_stream.zip").write_bytes(bytes(raw))
    # the notebook 40 folders deep (beyond the walk's 32), beside 300 more empty levels
    deep = subs / "h19_deep_folder"
    for _ in range(40):
        deep = deep / "d"
    write(solved(mini, NB), deep / NB)
    for _ in range(150):
        deep = deep / "e"
    deep.mkdir(parents=True)
    # a link to the instructor's notebooks, handed in as a student's folder
    (subs / "h20_link_to_instructor").symlink_to(course, target_is_directory=True)
    # an honest student whose folder name is not UTF-8 (Latin-1 "café")
    import os
    folder = os.path.join(os.fsencode(subs), b"h21_caf\xe9")
    os.mkdir(folder)
    write(solved(mini, NB), Path(os.fsdecode(folder)) / NB)


def _students(mini, subs: Path, marks: Path) -> dict[str, Path]:
    sol = mini["solutions"]
    honest = write(solved(mini, NB), subs / "h00_honest" / NB)
    victim = write(solved(mini, NB), subs / "h00_victim" / NB)
    write(solved(mini, NB, **{"01-row-mask": PATCHED_CHECKER}), subs / "h01_patched_checker" / NB)
    write(solved(mini, NB, **{"01-row-mask": OBFUSCATED}), subs / "h02_obfuscated_patch" / NB)
    write(solved(mini, NB, **{"01-row-mask": HOOKS}), subs / "h03_print_and_hooks" / NB)
    write(solved(mini, NB, **{"01-row-mask": FRAMES}), subs / "h04_frames_and_lying_array" / NB)
    write(solved(mini, NB, **{"01-nm-mask": _reads_files([REPO, mini["dir"], subs])}),
          subs / "h05_reads_instructor_files" / NB)
    write(solved(mini, NB, **{"01-row-mask": _daemon([marks / "daemon.txt", subs.parent / "hostile.csv"])}),
          subs / "h06_daemon" / NB)
    write(solved(mini, NB, **{"01-row-mask": FORGES}), subs / "h07_forges_results" / NB)
    write(solved(mini, NB, **{"01-nm-mask": _classmate(honest), "01-row-mask": _classmate(victim)
                              + WRONG_MASK}), subs / "h08_classmates" / NB)
    write(solved(mini, NB, **{"01-row-mask": EDITS_LIBRARY}), subs / "h09_edits_library" / NB)
    write(solved(mini, NB, **{"01-csr-break-even": SIGNALS + sol["01-csr-break-even"]}), subs / "h10_kills_grader" / NB)
    for sid in ("=HYPERLINK(1)", "@SUM(A1)", "+cmd"):
        write(solved(mini, NB), subs / sid / NB)
    with zipfile.ZipFile(subs / "h12_zip_entries.zip", "w") as zf:
        zf.writestr(NB, nbformat.writes(solved(mini, NB)))
        for i in range(2100):
            zf.writestr(f"junk/{i}.txt", b"")
    with zipfile.ZipFile(subs / "h13_zip_ratio.zip", "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr(NB, nbformat.writes(solved(mini, NB)) + " " * (64 * 2**20))
    v3 = nbformat.convert(solved(mini, NB), 3)
    (subs / "h14_nbformat3").mkdir()
    (subs / "h14_nbformat3" / NB).write_text(nbformat.writes(v3, version=3))
    write(solved(mini, NB, **{"01-row-mask": DETECTS}), subs / "h15_detects_grader" / NB)
    write(solved(mini, NB, **{"01-row-mask": RECORDS_FAILED_CHECK}), subs / "h16_records_failed_check" / NB)
    write(solved(mini, NB, **{"01-row-mask": REPLACES_RECORDS}), subs / "h17_replaces_records" / NB)
    write(solved(mini, NB, **{"01-row-mask": LEAKS_INPUTS}), subs / "h22_leaks_inputs" / NB)
    write(solved(mini, NB, **{"01-nm-mask": FLOODS + mini["solutions"]["01-nm-mask"]}),
          subs / "h23_display_flood" / NB)
    write(solved(mini, NB, **{"01-row-mask": THREADS + WRONG_MASK}), subs / "h24_thread_bomb" / NB)
    first = next(nb for nb in mini["course"].notebooks if nb.name == NB).exercise_ids[0]
    write(solved(mini, NB, **{first: TMP_HOG + sol[first]}), subs / "h25_tmp_hog" / NB)
    write(solved(mini, NB, **{first: DISK_HOG + sol[first]}), subs / "h26_disk_hog" / NB)
    return {"honest": honest, "victim": victim}


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(os.fsencode(path.relative_to(folder)) + path.read_bytes())  # names need not be UTF-8
    return h.hexdigest()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    skip_without_data()
    assert sandbox.why_unavailable() is None, sandbox.why_unavailable()
    base = tmp_path_factory.mktemp("hostile")
    mini = build_mini(base / "mini")
    course = base / "course01"
    course.mkdir()
    shutil.copy(mini["dir"] / NB, course / NB)
    subs, marks = base / "submissions", base / "marks"
    marks.mkdir()
    paths = _students(mini, subs, marks)
    _file_level_students(mini, subs, course)
    before = _digest(subs)
    start = time.monotonic()
    code = grade.main([str(subs), "--out", str(base / "hostile.csv"), "--course", str(course), "--hidden",
                       str(HIDDEN), "--jobs", "2", "--cell-timeout", "60", "--notebook-timeout", "240"])
    seconds = time.monotonic() - start
    first = (base / "hostile.csv").read_text()
    time.sleep(5)  # a daemon that survived would write now
    return {"code": code, "base": base, "subs": subs, "marks": marks, "course": course, "before": before,
            "first": first, "seconds": seconds, "paths": paths}


EXPECTED = rows(FIXTURES / "expected_hostile.csv")


def test_every_cheat_scores_zero_for_what_it_did_not_solve(hostile):
    assert hostile["code"] == 0
    got = {r[0]: r for r in rows(hostile["base"] / "hostile.csv")[1:]}
    expected = {r[0]: r for r in EXPECTED[1:]}
    assert rows(hostile["base"] / "hostile.csv")[0] == EXPECTED[0]
    assert sorted(got) == sorted(expected)
    feedback = hostile["base"] / "feedback"
    wrong = {s: (got.get(s), expected[s]) for s in expected if got.get(s) != expected[s]}
    assert not wrong, "\n".join(f"{s}: got {g}, expected {e}\n" for s, (g, e) in wrong.items()) + "\n".join(
        (feedback / f"{s}.md").read_text() for s in wrong if (feedback / f"{s}.md").exists())


def test_nothing_outside_the_sandbox_was_touched(hostile):
    assert _digest(hostile["subs"]) == hostile["before"], "a submission was changed during grading"
    assert (hostile["base"] / "hostile.csv").read_text() == hostile["first"], "the gradebook changed after grading"
    assert not any(hostile["marks"].iterdir()), "a daemon outlived its run"
    assert not (REPO / "course_lib" / "exercises" / "h09_was_here.py").exists()


def test_the_feedback_says_what_happened(hostile):
    feedback = hostile["base"] / "feedback"
    said = {
        "h01_patched_checker": "the check cell ran but recorded no answer",
        "h03_print_and_hooks": "the check cell ran but recorded no answer",
        "h10_kills_grader": "not run: pytest stopped early",
        "h04_frames_and_lying_array": "[01-row-mask] not yet: 0/",
        "h07_forges_results": "the recorded answer was refused",
        "h12_zip_entries": "could not be opened",
        "h13_zip_ratio": "could not be opened",
        "h18_corrupt_stream": "your notebook could not be read: the file could not be read",
        "h19_deep_folder": "notebook missing",
        "h20_link_to_instructor": "the submission is a link",
        "h22_leaks_inputs": "your answer raised an exception (a hidden case: its inputs and values are not shown)",
        "h24_thread_bomb": "started more than 512 processes and threads",
        "h26_disk_hog": "wrote more than 2048 MB",
    }
    for student, phrase in said.items():
        text = (feedback / f"{student}.md").read_text()
        assert phrase in text, f"{phrase!r} not in the feedback of {student}:\n{text}"
    # the public cases' messages are quoted, the hidden ones' never: LEAK appears once per public case at most
    leaks = (feedback / "h22_leaks_inputs.md").read_text()
    public = len(load_bank()["01-row-mask"].cases)
    assert 0 < leaks.count("LEAK") <= public and "\\ud800" in leaks
    assert (feedback / "h21_caf\\udce9.md").is_file()


def test_grading_twice_gives_the_same_rows(hostile, tmp_path):
    """The attacks whose effects could vary from run to run (processes, files, signals), graded again."""
    again = tmp_path / "again"
    students = ("h04_frames_and_lying_array", "h06_daemon", "h07_forges_results", "h10_kills_grader")
    for student in students:
        shutil.copytree(hostile["subs"] / student, again / student)
    assert grade.main([str(again), "--out", str(tmp_path / "again.csv"), "--course", str(hostile["course"]),
                       "--hidden", str(HIDDEN), "--jobs", "2", "--cell-timeout", "60",
                       "--notebook-timeout", "240"]) == 0
    first = {r[0]: r for r in rows(hostile["base"] / "hostile.csv")}
    assert rows(tmp_path / "again.csv")[1:] == [first[s] for s in students]


def test_the_self_check_and_the_grade_cannot_be_told_apart(hostile):
    """h15 cheats only where it believes it is graded: the self-check must give it the same verdict."""
    path = hostile["subs"] / "h15_detects_grader" / NB
    mine = {r.exercise_id: r.points for r in grade.self_check(path, course_dir=hostile["course"], quiet=True)}
    row = {r[0]: r for r in rows(hostile["base"] / "hostile.csv")}["h15_detects_grader"]
    header = EXPECTED[0]
    assert mine == {e: float(row[header.index(e)]) for e in mine}


def test_zip_bomb_fixture_is_a_bomb(hostile):
    """The ratio fixture really unpacks to 64 MB from a few hundred bytes (bzip2: deflate stops near 1032:1)."""
    info = zipfile.ZipFile(hostile["subs"] / "h13_zip_ratio.zip").infolist()[0]
    assert info.file_size > 64 * 2**20 and info.file_size / info.compress_size > 1100
