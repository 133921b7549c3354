"""The grading command line refuses nonsense at once: exit status 2, one error naming the option and the rule,
nothing written."""

from pathlib import Path

import pytest

from course_lib.grading import grade

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def folders(tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    course = tmp_path / "course"
    course.mkdir()
    (course / "01_weight_pruning.ipynb").write_text("{}")
    text = tmp_path / "notes.txt"
    text.write_text("print('I am not a hidden test')\n")
    notdb = tmp_path / "journal.db"
    notdb.write_text("not a database")
    return {"subs": subs, "course": course, "text": text, "notdb": notdb, "tmp": tmp_path}


CASES = [
    (["--cell-timeout", "-1"], "--cell-timeout -1: must be a number of seconds > 0"),
    (["--cell-timeout", "nan"], "--cell-timeout nan: must be a number of seconds > 0"),
    (["--notebook-timeout", "0"], "--notebook-timeout 0: must be a number of seconds > 0"),
    (["--memory-mb", "0"], "--memory-mb 0: must be at least 256"),
    (["--jobs", "-1"], "--jobs -1: must be at least 1"),
    (["--dask-local", "0"], "--dask-local 0: must be at least 1 worker"),
    (["--data-dir", "{tmp}/missing"], "--data-dir {tmp}/missing: not a folder"),
    (["--course", "{tmp}/missing"], "--course {tmp}/missing: must be a folder of instructor notebooks"),
    (["--course", "{subs}"], "must be a folder of instructor notebooks"),
    (["--notebooks", "99_missing.ipynb"], "--notebooks 99_missing.ipynb: not a notebook of --course"),
    (["--hidden", "{text}"], "must be a .py file or a folder of .py files"),
    (["--out", "{tmp}"], "is a folder, must be the CSV file to write"),
    (["--feedback", "{text}"], "is a file, must be a folder"),
    (["--journal", "{notdb}"], "not an SQLite journal"),
    (["--journal", "{tmp}"], "not an SQLite journal"),
    (["--hidden-seed", "-1"], "--hidden-seed -1: must be an int in [0, 2**63)"),
    (["--hidden-seed", str(2**63)], f"--hidden-seed {2**63}: must be an int in [0, 2**63)"),
]


@pytest.mark.parametrize("extra, message", CASES, ids=[c[0][0] + " " + c[0][1] for c in CASES])
def test_refused_before_any_work(folders, capsys, extra, message):
    fmt = {k: str(v) for k, v in folders.items()}
    args = [str(folders["subs"]), "--course", str(folders["course"]), "--out", str(folders["tmp"] / "g.csv")]
    with pytest.raises(SystemExit) as exc:
        grade.main(args + [a.format(**fmt) for a in extra])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message.format(**fmt) in err, err
    assert not (folders["tmp"] / "g.csv").exists() and not (folders["tmp"] / "g.db").exists()


def test_self_check_of_a_missing_notebook_is_refused(folders, capsys):
    with pytest.raises(SystemExit) as exc:
        grade.main(["--self", str(folders["tmp"] / "nope.ipynb"), "--course", str(folders["course"])])
    assert exc.value.code == 2 and "--self" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--source", "{tmp}/missing"], "--source {tmp}/missing: must be a folder of instructor notebooks"),
    (["--source", "{subs}"], "must be a folder of instructor notebooks"),
    (["--source", "{course}", "99.ipynb"], "99.ipynb: not a notebook of --source"),
    (["--source", "{course}", "--out", "{text}"], "is a file, must be the folder"),
])
def test_release_refuses_nonsense(folders, capsys, extra, message):
    from course_lib.grading import release

    fmt = {k: str(v) for k, v in folders.items()}
    with pytest.raises(SystemExit) as exc:
        release.main([a.format(**fmt) for a in extra])
    assert exc.value.code == 2 and message.format(**fmt) in capsys.readouterr().err


def test_a_hidden_seed_in_the_environment_that_is_not_a_number_is_refused(folders, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_HIDDEN_SEED", "my secret")
    with pytest.raises(SystemExit) as exc:
        grade.main([str(folders["subs"]), "--course", str(folders["course"]), "--out", str(folders["tmp"] / "g.csv")])
    assert exc.value.code == 2 and "argument --hidden-seed: invalid int value: 'my secret'" in capsys.readouterr().err
    assert not (folders["tmp"] / "g.csv").exists()
