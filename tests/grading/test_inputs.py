"""What the grader reads from a student is bounded and neutralised before any notebook runs."""

import csv
import io
import json
import zipfile
from pathlib import Path

import nbformat

from course_lib.grading import gradebook, notebooks, submissions
from course_lib.grading.gradebook import csv_safe


def _notebook_bytes(source="x = 1", version=4) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    if version == 3:
        return nbformat.writes(nbformat.convert(nb, 3), version=3).encode()
    return nbformat.writes(nb).encode()


ROOT = Path(__file__).resolve().parents[2]


def test_a_zip_with_too_many_entries_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("00_introduction.ipynb", _notebook_bytes())
        for i in range(submissions.MAX_ZIP_ENTRIES):
            zf.writestr(f"junk/{i}.txt", b"")
    files = submissions.SubmissionFiles(path)
    assert files.entries == {} and f"more than {submissions.MAX_ZIP_ENTRIES}" in files.error


def test_a_zip_bomb_is_refused_from_its_headers(tmp_path, monkeypatch):
    # bzip2 packs 64 MB of one byte into ~50 bytes: a ratio no notebook has
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("01_weight_pruning.ipynb", b" " * (64 * 2**20))
    assert zipfile.ZipFile(path).infolist()[0].compress_size < 2**16
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: read.append(a) or (_ for _ in ()).throw(OSError))
    files = submissions.SubmissionFiles(path)
    assert files.entries == {} and "a zip bomb?" in files.error and not read


def test_a_zip_whose_notebooks_unpack_too_large_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_UNPACKED_MB", 1)
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(3):
            zf.writestr(f"{i}.ipynb", b"0" * (2**19))
    files = submissions.SubmissionFiles(path)
    assert files.entries == {} and "more than 1 MB" in files.error


def test_an_ordinary_zip_still_opens(tmp_path):
    path = tmp_path / "ok.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("s/00_introduction.ipynb", _notebook_bytes("print('hello')\n" * 100_000))  # 1.5 MB, deflates ~1000x
    files = submissions.SubmissionFiles(path)
    assert files.error is None and list(files.entries) == ["s/00_introduction.ipynb"]


def test_an_nbformat_3_notebook_is_upgraded():
    cells = notebooks.parse_submission(_notebook_bytes('cl.check("00-layer-costs", f)', version=3))
    assert json.loads(_notebook_bytes(version=3))["nbformat"] == 3
    assert [c["cell_type"] for c in cells] == ["code"]
    assert "".join(cells[0]["source"]) == 'cl.check("00-layer-costs", f)'
    assert notebooks.submission_ids(cells) == {"00-layer-costs"}


def test_spreadsheet_formulas_in_student_ids_are_neutralised(tmp_path):
    for text in ("=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(text) == "'" + text
    assert csv_safe("s01_alice") == "s01_alice" and csv_safe("") == ""

    class Course:
        exercise_ids, max_score = ["00-a"], 1.0

    result = gradebook.StudentResult("=1+1", {"00-a": gradebook.ExerciseResult("00-a", "00.ipynb", 1.0, 1.0, "passed")})
    path = gradebook.write_gradebook([result], Course(), tmp_path / "g.csv")
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[1][0] == "'=1+1"


def test_files_beyond_the_matched_notebooks_are_not_parsed(tmp_path):
    class Notebook:
        name, exercise_ids = "00_introduction.ipynb", ["00-layer-costs"]

    class Course:
        notebooks = [Notebook()]

    (tmp_path / "00_introduction.ipynb").write_bytes(_notebook_bytes())
    (tmp_path / "scratch.ipynb").write_bytes(b"{not json")
    matched, notes = submissions.match_notebooks(Course(), submissions.SubmissionFiles(tmp_path))
    assert matched == {"00_introduction.ipynb": "00_introduction.ipynb"} and notes == []
    (tmp_path / "00_introduction.ipynb").rename(tmp_path / "renamed.ipynb")  # now the others are read
    matched, notes = submissions.match_notebooks(Course(), submissions.SubmissionFiles(tmp_path))
    assert matched == {} and any("scratch.ipynb: not graded" in n for n in notes)


def test_feedback_quotes_only_a_short_piece_of_what_the_run_raised_or_recorded(tmp_path):
    from course_lib.exercises import records
    from course_lib.grading import scoring
    from course_lib.grading.course import load_course
    from course_lib.grading.runner import CellResult, Limits, RunResult

    secret = "hidden_source " * 2000  # what a run could smuggle out through its exception or a recorded error
    run = RunResult(cells={0: CellResult(0, "failed", error=f"ValueError: {secret}")})
    raised = scoring._why(run, 0, "solution", Limits())
    assert raised.startswith("your exercise cell raised ValueError: hidden_source")
    # a kernel may write any record: an error message as long as it likes
    course = load_course(ROOT / "notebooks", names=["01_weight_pruning.ipynb"])
    nb = course.notebooks[0]
    for k in range(course.case_counts["01-row-mask"]):
        records.write_record(tmp_path / "01-row-mask", str(k), records.Raised(secret))
    run.answers = {f"01-row-mask/{f.name}": f.read_bytes() for f in (tmp_path / "01-row-mask").iterdir()}
    roles = {2 * i + j: (ex_id, role) for i, ex_id in enumerate(nb.exercise_ids)
             for j, role in enumerate(("solution", "check"))}
    result = scoring.score_run(course, nb, run, roles, {}, Limits())["01-row-mask"]
    assert result.points == 0 and "[01-row-mask] not yet: 0/4 cases pass." in result.feedback
    for line in [raised, *result.feedback.splitlines()]:
        assert len(line) < 2 * scoring.MAX_QUOTE_CHARS + 200, line
    assert "more characters not shown" in raised and "more characters not shown" in result.feedback


def _corrupt_zip(path, compression):
    data = _notebook_bytes("print('x')\n" * 2000)
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        zf.writestr("01_weight_pruning.ipynb", data)
    raw = bytearray(path.read_bytes())
    start = raw.index(b"01_weight_pruning.ipynb") + len("01_weight_pruning.ipynb")
    for i in range(start + 20, start + 220):  # scramble the compressed stream, keep the headers
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))


def test_a_zip_with_a_corrupt_stream_is_that_students_error(tmp_path):
    import pytest

    for compression in (zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2):
        path = tmp_path / f"corrupt{compression}.zip"
        _corrupt_zip(path, compression)
        files = submissions.SubmissionFiles(path)
        assert files.error is None and list(files.entries) == ["01_weight_pruning.ipynb"]
        with pytest.raises(notebooks.SubmissionError, match="could not be read"):
            files.read("01_weight_pruning.ipynb")


def test_a_deep_or_huge_folder_is_walked_without_recursion(tmp_path, monkeypatch):
    import inspect
    import sys

    root = tmp_path / "student"
    (root / "a").mkdir(parents=True)
    (root / "a" / "01_weight_pruning.ipynb").write_bytes(_notebook_bytes())
    deep = root
    for _ in range(300):
        deep = deep / "d"
        deep.mkdir()
    (deep / "00_introduction.ipynb").write_bytes(_notebook_bytes())
    # 300 levels, and a recursion limit 150 frames above this test's stack: a recursive walk fails
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 150)
    try:
        files = submissions.SubmissionFiles(root)
    finally:
        sys.setrecursionlimit(limit)
    assert files.error is None and list(files.entries) == ["a/01_weight_pruning.ipynb"]
    monkeypatch.setattr(submissions, "MAX_WALK", 3)
    for i in range(10):
        (root / f"junk{i}").mkdir()
    assert submissions.SubmissionFiles(root).entries == {}  # the walk stops; nothing raises


def test_links_are_never_graded_as_a_students_work(tmp_path):
    course = tmp_path / "instructor"
    course.mkdir()
    (course / "01_weight_pruning.ipynb").write_bytes(_notebook_bytes())
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "mallory").symlink_to(course, target_is_directory=True)
    (subs / "eve").mkdir()
    (subs / "eve" / "01_weight_pruning.ipynb").symlink_to(course / "01_weight_pruning.ipynb")
    listed = dict(submissions.list_submissions(subs))
    mallory = submissions.SubmissionFiles(listed["mallory"])
    assert mallory.entries == {} and "is a link" in mallory.error
    assert submissions.SubmissionFiles(listed["eve"]).entries == {}


def test_names_and_messages_that_are_not_utf8_are_stored_and_written(tmp_path):
    import os

    from course_lib.grading.gradebook import ExerciseResult, StudentResult, safe_text, write_feedback, write_gradebook
    from course_lib.grading.journal import Journal

    subs = tmp_path / "subs"
    subs.mkdir()
    os.mkdir(os.path.join(os.fsencode(subs), b"caf\xe9"))  # a Latin-1 folder name
    (sid, path), = submissions.list_submissions(subs)
    assert sid == "caf\\udce9" and path.is_dir()
    bad = "boom \ud800 here"  # a lone surrogate in an answer's exception message
    assert safe_text(bad) == "boom \\ud800 here"
    journal = Journal(tmp_path / "j.sqlite", "course")
    result = ExerciseResult("01-x", "01_weight_pruning.ipynb", 0.0, 1.0, bad)
    journal.record(os.fsdecode(b"caf\xe9"), "n\udce9.ipynb", "sha", {"01-x": result}, [bad], 1.0)
    assert journal.lookup(os.fsdecode(b"caf\xe9"), "n\udce9.ipynb", "sha")[0]["01-x"].feedback == bad
    journal.close()

    class _Course:
        exercise_ids = ["01-x"]
        max_score = 1.0

    student = StudentResult(os.fsdecode(b"caf\xe9"), {"01-x": result}, [bad])
    write_gradebook([student], _Course(), tmp_path / "g.csv")
    (md,) = write_feedback([student], _Course(), tmp_path / "fb")
    assert "\\ud800" in md.read_text(encoding="utf-8") and md.name == "caf\\udce9.md"


def test_only_records_sealed_by_a_passed_check_count():
    import hashlib

    from course_lib.grading.exchange import sealed_answers

    def sha(b):
        return hashlib.sha256(b).hexdigest()

    answers = {"ex/0.json": b"A", "ex/0.0.npy": b"B", "other/0.json": b"C", "late/0.json": b"D"}
    events = [{"event": "cell", "sealed": {"exercise": "ex", "files": {"0.json": sha(b"A"), "0.0.npy": sha(b"B")}}},
              {"event": "cell", "sealed": {"exercise": "late", "files": {"0.json": sha(b"old")}}},
              {"event": "collected", "sealed": {"exercise": "other", "files": {"0.json": sha(b"C")}}}]
    assert sealed_answers(answers, events) == {"ex/0.json": b"A", "ex/0.0.npy": b"B"}
    # a file added after the seal, or one missing, drops the whole exercise
    assert sealed_answers({**answers, "ex/1.json": b"E"}, events) == {}
    assert sealed_answers({"ex/0.json": b"A"}, events) == {}
    assert sealed_answers(answers, []) == {}
    assert sealed_answers(answers, [{"event": "cell", "sealed": "junk"}, "junk", {"event": "cell"}]) == {}


def test_a_run_the_grader_cannot_prepare_is_that_runs_zero_and_journaled(tmp_path, monkeypatch):
    """A per-run boundary: whatever one submission makes the grader raise, the class goes on."""
    import nbformat as nbf

    from course_lib.grading import grade as grade_module
    from course_lib.grading.course import Course
    from course_lib.grading.journal import Journal
    from course_lib.grading.notebooks import load_course_notebook

    nb_path = ROOT / "notebooks" / "00_introduction.ipynb"
    course_nb = load_course_notebook(nb_path)
    course = Course([course_nb], {e: 1.0 for e in course_nb.exercise_ids},
                    {e: [] for e in course_nb.exercise_ids})
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / nb_path.name).write_text("{ not JSON")  # unreadable: graded 0 without a run
    (subs / "bob").mkdir(parents=True)
    nbf.write(nbf.v4.new_notebook(cells=[nbf.v4.new_code_cell("x = 'bob'")]), subs / "bob" / nb_path.name)
    real = grade_module.prepare_submission

    def explode(nb, data, **kwargs):
        if b"bob" in data:
            raise RecursionError("made by bob's notebook \ud800")
        return real(nb, data, **kwargs)

    monkeypatch.setattr(grade_module, "prepare_submission", explode)
    journal = Journal(tmp_path / "j.db", "course")
    results = grade_module.grade_class(subs, course, journal=journal, sandbox=False, jobs=1)
    by_id = {r.student_id: r for r in results}
    assert sorted(by_id) == ["alice", "bob"]
    bob = " ".join(by_id["bob"].notes)
    assert "internal grader error while preparing the run: RecursionError" in bob and "\\ud800" in bob
    assert by_id["bob"].total == 0 and journal.count() == 1  # bob's run journaled: a resume goes past it
    assert "could not be read" in " ".join(r.feedback for r in by_id["alice"].exercises.values())
    journal.close()


def test_a_lone_surrogate_in_a_cell_still_builds_a_writable_notebook(tmp_path):
    import nbformat as nbf

    from course_lib.grading.notebooks import load_course_notebook
    from course_lib.grading.runner import build_graded_notebook

    course_nb = load_course_notebook(ROOT / "notebooks" / "00_introduction.ipynb")
    ex = course_nb.exercises[0]
    nb, _ = build_graded_notebook(course_nb, {ex.id: ["s = 'boom \ud800'\n"] * len(ex.solution_cells)})
    nbf.write(nb, tmp_path / "graded.ipynb")
    back = nbf.read(tmp_path / "graded.ipynb", as_version=4)
    assert any("boom \\ud800" in c.source for c in back.cells)
