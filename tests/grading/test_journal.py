"""The SQLite journal on its own: what is reused, what is graded again, the history."""

import sqlite3

from course_lib.grading.gradebook import ExerciseResult
from course_lib.grading.journal import Journal, changed_sources, library_fingerprint, source_digests


def _results(points=1.0):
    return {"00-a": ExerciseResult("00-a", "00.ipynb", points, 1.0, "passed" if points else "not yet")}


def test_a_result_is_reused_only_for_the_same_course_and_submission(tmp_path):
    db = tmp_path / "g.db"
    j = Journal(db, "course-1", {"jobs": 2})
    assert j.lookup("alice", "00.ipynb", "sha-1") is None
    j.record("alice", "00.ipynb", "sha-1", _results(), ["a note"], 3.5)
    assert j.lookup("alice", "00.ipynb", "sha-1") == (_results(), ["a note"], 3.5)
    assert j.lookup("alice", "00.ipynb", "sha-2") is None  # resubmitted: graded again
    assert j.lookup("bob", "00.ipynb", "sha-1") is None
    j.close()
    assert Journal(db, "course-2").lookup("alice", "00.ipynb", "sha-1") is None  # the course changed
    again = Journal(db, "course-1")
    assert again.lookup("alice", "00.ipynb", "sha-1") == (_results(), ["a note"], 3.5)  # survives a restart
    again.close()


def test_a_regrade_keeps_the_history_and_the_newest_row_counts(tmp_path):
    db = tmp_path / "g.db"
    j = Journal(db, "c")
    j.record("alice", "00.ipynb", "s", _results(0.0), [], 1.0)
    j.close()
    regrade = Journal(db, "c", regrade=True)
    assert regrade.lookup("alice", "00.ipynb", "s") is None
    regrade.record("alice", "00.ipynb", "s", _results(1.0), [], 1.0)
    regrade.close()
    assert Journal(db, "c").lookup("alice", "00.ipynb", "s")[0]["00-a"].points == 1.0
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 2
        assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 3


def test_the_library_fingerprint_sees_any_edited_or_added_source(tmp_path):
    lib = tmp_path / "course_lib"
    (lib / "exercises").mkdir(parents=True)
    (lib / "exercises" / "core.py").write_text("def check(): ...\n")
    first = library_fingerprint(tmp_path)
    assert library_fingerprint(tmp_path) == first
    (lib / "exercises" / "core.py").write_text("def check(): return True\n")
    edited = library_fingerprint(tmp_path)
    (lib / "sitecustomize.py").write_text("")
    assert len({first, edited, library_fingerprint(tmp_path)}) == 3


def test_source_digests_see_an_edited_added_or_removed_course_file(tmp_path):
    hidden, nb = tmp_path / "hidden", tmp_path / "01.ipynb"
    hidden.mkdir()
    (hidden / "cases.py").write_text("a = 1\n")
    nb.write_text("{}")
    paths = (nb, hidden)
    before = source_digests(paths)
    assert changed_sources(before, paths) == []
    (hidden / "cases.py").write_text("a = 2\n")
    assert changed_sources(before, paths) == [str(hidden / "cases.py")]
    (hidden / "more.py").write_text("")
    nb.unlink()
    assert changed_sources(before, paths) == sorted([str(hidden / "cases.py"), str(hidden / "more.py"), str(nb)])
