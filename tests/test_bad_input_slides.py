"""course_lib.slides and the deck builder answer bad input with a TypeError / ValueError naming the parameter.

Truncated or malformed files (seed outline, notebooks, package.json), wrong seed dicts, wrong argument
types; and no side effect: a folder the caller did not ask to replace survives, nothing is written.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest

from course_lib import slides
from course_lib.slides import export, tables
from course_lib.slides.__main__ import main

ROOT = export.ROOT
SEED_TEXT = (ROOT / "slides" / "seed.json").read_text(encoding="utf-8")
SEED = json.loads(SEED_TEXT)
PRINTED = "CPU capability AVX2\nmodel  acc  ms x\n-----  ---  ----\na      1.0  2\nb      2.0  3\n"


@pytest.fixture
def nbs(tmp_path):
    """A folder of notebooks: one good, the others broken in one way each."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    table = nbformat.v4.new_code_cell("print(t)")
    table.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PRINTED)]
    fig = nbformat.v4.new_code_cell("bad png")
    fig.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo"})]
    nb.cells = [table, fig]
    nbformat.write(nb, folder / "00_x.ipynb")
    text = (folder / "00_x.ipynb").read_text()
    (folder / "01_trunc.ipynb").write_text(text[: len(text) // 2])
    (folder / "02_list.ipynb").write_text("[1, 2]")
    (folder / "03_nocells.ipynb").write_text('{"metadata": {}}')
    (folder / "04_badcell.ipynb").write_text('{"cells": [5]}')
    (folder / "05_badout.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x", "outputs": '
                                            '[{"output_type": "stream", "name": "stdout"}]}]}')
    (folder / "06_latin1.ipynb").write_bytes(b'{"cells": [], "x": "\xff"}')
    (folder / "07_src.ipynb").write_text('{"cells": [{"cell_type": "code", "source": 5, "outputs": []}]}')
    return folder


BAD_NOTEBOOKS = [
    ("01_trunc.ipynb", r"notebook == '01_trunc.ipynb' .* is not a readable UTF-8 JSON file \(JSONDecodeError"),
    ("02_list.ipynb", r"notebook == '02_list.ipynb' .* has no list of 'cells', must be a saved Jupyter notebook"),
    ("03_nocells.ipynb", r"notebook == '03_nocells.ipynb' .* has no list of 'cells'"),
    ("04_badcell.ipynb", r"cells\[0\] == 5, must be a dict with a str 'cell_type'"),
    ("05_badout.ipynb", r"cells\[0\]\['outputs'\]\[0\]\['text'\] == None, must be a str or a list of str"),
    ("06_latin1.ipynb", r"notebook == '06_latin1.ipynb' .* not a readable UTF-8 JSON file \(UnicodeDecodeError"),
    ("07_src.ipynb", r"cells\[0\]\['source'\] == 5, must be a str or a list of str"),
]


@pytest.mark.parametrize("call", ["table", "figure", "course"])
@pytest.mark.parametrize("name, message", BAD_NOTEBOOKS)
def test_a_broken_notebook_is_named(nbs, call, name, message):
    with pytest.raises(ValueError, match=message):
        if call == "table":
            slides.notebook_table(name, ["model"], notebooks_dir=nbs)
        elif call == "figure":
            slides.notebook_figure(name, ["plt"], notebooks_dir=nbs)
        else:
            slides.course_table(name, ["model"], notebooks_dir=nbs)


def test_a_figure_that_is_not_base64(nbs):
    with pytest.raises(ValueError, match=r"notebook == '00_x.ipynb': the PNG figure .* is not valid base64"):
        slides.notebook_figure("00_x.ipynb", ["bad png"], notebooks_dir=nbs)


@pytest.mark.parametrize("folder, message", [
    ("missing", r"notebooks_dir == '.*missing' is missing, must be an existing folder of notebooks"),
    ("file", r"notebooks_dir == '.*file.txt' is a file, must be an existing folder"),
    ("empty", r"notebooks_dir == '.*empty' holds no .ipynb file, must be the notebooks' folder"),
])
@pytest.mark.parametrize("call", ["table", "figure", "course", "side_by_side"])
def test_a_wrong_notebooks_dir(tmp_path, folder, message, call):
    path = {"missing": tmp_path / "missing", "file": tmp_path / "file.txt", "empty": tmp_path / "empty"}[folder]
    if folder == "file":
        path.write_text("x")
    elif folder == "empty":
        path.mkdir()
        (path / "not_a_notebook.ipynb").mkdir()  # a folder named like a notebook is no notebook
    with pytest.raises(ValueError, match=message):
        if call == "table":
            slides.notebook_table("00_x.ipynb", ["model"], notebooks_dir=path)
        elif call == "figure":
            slides.notebook_figure("00_x.ipynb", ["plt"], notebooks_dir=path)
        elif call == "course":
            slides.course_table("00_x.ipynb", ["model"], notebooks_dir=path)
        else:
            slides.side_by_side("svd", notebooks_dir=path)


def test_a_missing_table_names_the_header(nbs):
    with pytest.raises(ValueError, match=r"has no stored table with the columns \['nope'\] \(header\)"):
        slides.notebook_table("00_x.ipynb", ["nope"], notebooks_dir=nbs)


def _seed_file(tmp_path, text: str | bytes):
    path = tmp_path / "seed.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


BAD_SEEDS = [
    (SEED_TEXT[:300], r"path == '.*seed.json' is not a readable UTF-8 JSON file \(JSONDecodeError"),
    (b"\xff\xfe\x00", r"path == .* is not a readable UTF-8 JSON file \(UnicodeDecodeError"),
    ("[]", r"path == .* holds list \(\[\]\), must hold the deck's outline"),
    ('{"sections": []}', r"path == .* is not the deck's outline: it lacks 'tables'"),
    (json.dumps({**SEED, "tables": {"x": {"title": "t"}}}), r"seed\['tables'\]\['x'\] lacks 'columns'"),
    (json.dumps({**SEED, "sections": [{"seed": "a"}]}), r"seed\['sections'\]\[0\] == .*, must be a dict with str"),
    (json.dumps({**SEED, "glossary": [["a"]]}), r"seed\['glossary'\]\[0\] == \['a'\], must be a \(Russian, English\)"),
]


@pytest.mark.parametrize("text, message", BAD_SEEDS)
def test_load_seed_refuses_a_broken_outline(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        slides.load_seed(_seed_file(tmp_path, text))


@pytest.mark.parametrize("value, error, message", [
    (5, TypeError, "path must be a str or a path, got int"),
    ("", ValueError, "path is an empty string"),
    ("/nonexistent/seed.json", ValueError, "path == '/nonexistent/seed.json' is missing, must be an existing file"),
])
def test_load_seed_path(value, error, message):
    with pytest.raises(error, match=message):
        slides.load_seed(value)


SVD = SEED["tables"]["svd"]
BAD_SEED_DICTS = [
    (5, TypeError, r"seed must be a dict \(the outline of load_seed\(\)\), got int"),
    ("slides/seed.json", TypeError, "seed must be a dict"),
    ({}, ValueError, "seed is not the deck's outline: it lacks 'tables'"),
    ({"tables": 5}, ValueError, r"seed\['tables'\] == 5, must be a non-empty dict of tables"),
    ({"tables": {"svd": {}}}, ValueError, r"seed\['tables'\]\['svd'\] lacks 'title'"),
    ({"tables": {"svd": {**SVD, "rows": [[1]]}}}, ValueError,
     r"seed\['tables'\]\['svd'\]\['rows'\]\[0\] == \[1\], must be a list of 5 cells"),
    ({"tables": {"svd": {**SVD, "course": [{"notebook": "06_svd.ipynb"}]}}}, ValueError,
     r"seed\['tables'\]\['svd'\]\['course'\]\[0\] lacks 'header'"),
    ({"tables": {"svd": {**SVD, "course": [{**SVD["course"][0], "header": "row"}]}}}, ValueError,
     r"\['course'\]\[0\]\['header'\] == 'row', must be a non-empty list of str"),
]


@pytest.mark.parametrize("seed, error, message", BAD_SEED_DICTS)
def test_side_by_side_checks_the_seed(seed, error, message):
    with pytest.raises(error, match=message):
        slides.side_by_side("svd", seed=seed)


@pytest.mark.parametrize("seed, error, message", [
    (5, TypeError, "seed must be a dict"),
    ({}, ValueError, "it lacks 'glossary'"),
    ({"glossary": 5}, ValueError, r"seed\['glossary'\] == 5, must be a list of \(Russian, English\) pairs"),
    ({"glossary": "ab"}, ValueError, r"seed\['glossary'\] == 'ab', must be a list"),
    ({"glossary": ["ab"]}, ValueError, r"seed\['glossary'\]\[0\] == 'ab', must be a \(Russian, English\) pair"),
    ({"glossary": [[1, 2]]}, ValueError, r"seed\['glossary'\]\[0\] == \[1, 2\], must be a \(Russian, English\) pair"),
    ({"glossary": [None]}, ValueError, r"seed\['glossary'\]\[0\] == None"),
])
def test_glossary_table_checks_the_seed(seed, error, message):
    with pytest.raises(error, match=message):
        slides.glossary_table(seed=seed)


@pytest.mark.parametrize("t, error, message", [
    (None, TypeError, r"t must be a dict \(a table of notebook_table\), got NoneType"),
    ([1], TypeError, "t must be a dict"),
    ({}, ValueError, r"t\['columns'\] == None, must be a list of str"),
    ({"columns": "ab", "before": [], "after": [], "notebook": "x"}, ValueError, r"t\['columns'\] == 'ab'"),
    ({"columns": [], "before": [], "after": []}, ValueError, r"t\['notebook'\] == None, must be the notebook's"),
])
def test_cpu_note_checks_its_table(t, error, message):
    with pytest.raises(error, match=message):
        tables.cpu_note(t)


@pytest.mark.parametrize("kwargs, message", [
    ({"caption": 5}, r"caption must be a str or None, got int \(5\)"),
    ({"caption": ["c"]}, "caption must be a str or None, got list"),
    ({"css_class": None}, "css_class must be a str, got NoneType"),
    ({"css_class": 5}, "css_class must be a str, got int"),
])
def test_html_table_checks_its_texts(kwargs, message):
    with pytest.raises(TypeError, match=message):
        slides.html_table(["a"], [[1]], **kwargs)


def test_html_table_escapes_the_class_and_takes_no_caption_as_none():
    assert 'class="a&quot; onload=&quot;x"' in slides.html_table(["a"], [["x"]], css_class='a" onload="x')
    assert slides.html_table(["a"], [[1]], caption=None) == slides.html_table(["a"], [[1]])


def test_course_table_caption(nbs):
    with pytest.raises(TypeError, match="caption must be a str or None, got int"):
        slides.course_table("00_x.ipynb", ["model"], caption=5, notebooks_dir=nbs)
    none = slides.course_table("00_x.ipynb", ["model"], caption=None, notebooks_dir=nbs)._repr_html_()
    assert "None" not in none
    assert none == slides.course_table("00_x.ipynb", ["model"], notebooks_dir=nbs)._repr_html_()


@pytest.mark.parametrize("rows", [(0,), "0:1", 5, (0, 1, 2)])
def test_course_table_rows_must_be_a_pair(nbs, rows):
    with pytest.raises(TypeError, match=r"rows must be a \(start, stop\) pair"):
        slides.course_table("00_x.ipynb", ["model"], rows=rows, notebooks_dir=nbs)


@pytest.mark.parametrize("text", [None, 5, b"<script src='//x'></script>", ["<a>"]])
def test_remote_references_wants_text(text):
    with pytest.raises(TypeError, match=r"text must be a str \(the page's HTML\)"):
        slides.remote_references(text)


# ---- copy_assets / export_deck: check everything, then delete or write


@pytest.fixture
def fake_modules(tmp_path, monkeypatch):
    """A node_modules with one complete package (ASSETS narrowed to it)."""
    modules = tmp_path / "node_modules"
    pkg = modules / "pkg"
    (pkg / "dist").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "pkg", "version": "1.0.0", "license": "MIT"}))
    (pkg / "dist" / "a.js").write_text("x")
    monkeypatch.setattr(export, "ASSETS", {"pkg": ["dist/a.js"]})
    return modules


def _precious(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precious.txt").write_text("keep")
    return folder / "precious.txt"


def test_copy_assets_keeps_a_folder_it_did_not_write(tmp_path, fake_modules):
    kept = _precious(tmp_path / "mine")
    with pytest.raises(ValueError, match=r"vendor == '.*mine' is a folder that copy_assets did not write .*"
                                         r"nothing was deleted"):
        export.copy_assets(fake_modules, tmp_path / "mine")
    assert kept.read_text() == "keep"
    # its own earlier output is replaced
    assert export.copy_assets(fake_modules, tmp_path / "vendor") == {"pkg": "1.0.0"}
    (tmp_path / "vendor" / "pkg" / "stale.js").write_text("old")
    assert export.copy_assets(fake_modules, tmp_path / "vendor") == {"pkg": "1.0.0"}
    assert not (tmp_path / "vendor" / "pkg" / "stale.js").exists()


@pytest.mark.parametrize("where", ["modules", "parent", "inside"])
def test_copy_assets_refuses_a_vendor_overlapping_node_modules(tmp_path, fake_modules, where):
    vendor = {"modules": fake_modules, "parent": tmp_path, "inside": fake_modules / "pkg"}[where]
    with pytest.raises(ValueError, match=r"vendor == .* overlaps node_modules == .*, must be a folder of its own"):
        export.copy_assets(fake_modules, vendor)
    assert (fake_modules / "pkg" / "dist" / "a.js").read_text() == "x"


def test_copy_assets_refuses_a_file_as_vendor(tmp_path, fake_modules):
    (tmp_path / "v.txt").write_text("x")
    with pytest.raises(ValueError, match=r"vendor == '.*v.txt' is a file, must be a folder"):
        export.copy_assets(fake_modules, tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text() == "x"


@pytest.mark.parametrize("broken, message", [
    ("missing", r"node_modules == '.*' is missing, must be the folder of the installed packages: run npm ci"),
    ("file", r"node_modules == '.*' is a file, must be the folder"),
    ("empty", r"node_modules == '.*' lacks 'pkg': run npm ci"),
    ("truncated", r"node_modules == '.*': pkg/package.json is not readable JSON \(JSONDecodeError\)"),
    ("no version", r"node_modules == '.*': pkg/package.json has no 'version'"),
    ("no file", r"node_modules == '.*': pkg 1.0.0 has no 'dist/a.js': not the pinned version"),
])
def test_copy_assets_checks_node_modules_before_deleting_vendor(tmp_path, fake_modules, broken, message):
    vendor = tmp_path / "vendor"
    export.copy_assets(fake_modules, vendor)  # an earlier copy: it would be replaced
    if broken == "missing":
        modules = tmp_path / "none"
    elif broken == "file":
        modules = tmp_path / "f.txt"
        modules.write_text("x")
    elif broken == "empty":
        modules = tmp_path / "empty"
        modules.mkdir()
    else:
        modules = fake_modules
        if broken == "truncated":
            (modules / "pkg" / "package.json").write_text('{"name": "pk')
        elif broken == "no version":
            (modules / "pkg" / "package.json").write_text('{"name": "pkg"}')
        else:
            (modules / "pkg" / "dist" / "a.js").unlink()
    with pytest.raises(ValueError, match=message):
        export.copy_assets(modules, vendor)
    assert (vendor / "pkg" / "dist" / "a.js").is_file() and (vendor / "LICENSES.md").is_file()


@pytest.fixture
def bad_decks(tmp_path):
    deck = (ROOT / "slides" / "lecture.ipynb").read_text()
    files = {"truncated": deck[:1000], "list": "[]", "empty": "{}", "text": "x"}
    for name, text in files.items():
        (tmp_path / f"{name}.ipynb").write_text(text)
    return tmp_path


@pytest.mark.parametrize("name", ["truncated", "list", "empty", "text"])
def test_export_deck_refuses_a_deck_that_is_no_notebook(bad_decks, name):
    out = bad_decks / "out"
    with pytest.raises(ValueError, match=rf"deck == '.*{name}.ipynb' is not a readable notebook .*must be a saved"):
        export.export_deck(bad_decks / f"{name}.ipynb", out)  # install=True: refused before npm runs
    assert not out.exists()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"deck": 5}, TypeError, "deck must be a str or a path"),
    ({"deck": "/nonexistent.ipynb"}, ValueError, "deck == '/nonexistent.ipynb' is missing, must be an existing file"),
    ({"out": 5}, TypeError, "out must be a str or a path"),
    ({"out": ""}, ValueError, "out is an empty string"),
    ({"execute": 1}, TypeError, "execute must be True or False"),
    ({"install": "no"}, TypeError, "install must be True or False"),
])
def test_export_deck_argument_types(tmp_path, kwargs, error, message):
    args = {"deck": ROOT / "slides" / "lecture.ipynb", "out": tmp_path / "out", **kwargs}
    with pytest.raises(error, match=message):
        export.export_deck(**args)
    assert not (tmp_path / "out").exists()


def test_export_deck_writes_nothing_when_out_or_its_vendor_is_wrong(tmp_path, monkeypatch):
    deck = ROOT / "slides" / "lecture.ipynb"
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match=r"out == '.*a_file' is a file, must be a folder"):
        export.export_deck(deck, tmp_path / "a_file", install=False)
    kept = _precious(tmp_path / "out" / "vendor")
    with pytest.raises(ValueError, match=r"out / 'vendor' == '.*vendor' is a folder that copy_assets did not write"):
        export.export_deck(deck, tmp_path / "out")  # install=True: refused before npm runs
    assert kept.read_text() == "keep"
    monkeypatch.setattr(export, "SLIDES", tmp_path / "no_slides")  # no node_modules
    with pytest.raises(ValueError, match=r"node_modules == '.*no_slides/node_modules' is missing"):
        export.export_deck(deck, tmp_path / "new_out", install=False)
    assert not (tmp_path / "new_out").exists()


@pytest.mark.parametrize("argv, message", [
    (["--deck", "{tmp}/none.ipynb"], r"deck == '.*none.ipynb' is missing, must be an existing file"),
    (["--deck", "{tmp}"], r"deck == '.*' is a folder, must be an existing file"),
    (["--deck", "{tmp}/truncated.ipynb"], r"deck == '.*truncated.ipynb' is not a readable notebook"),
    (["--deck", ""], "deck is an empty string"),
    (["--out", ""], "out is an empty string"),
    (["--out", "{tmp}/text.ipynb"], r"out == '.*text.ipynb' is a file, must be a folder"),
])
def test_command_line_errors_are_one_line(bad_decks, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(bad_decks)  # "--out ''" must not export into the current folder
    before = sorted(p.name for p in bad_decks.iterdir())
    with pytest.raises(SystemExit) as exit_:
        main([a.format(tmp=bad_decks) for a in argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert err[-1].startswith("python -m course_lib.slides: error: ")
    assert re.search(message, err[-1])
    assert sorted(p.name for p in bad_decks.iterdir()) == before


# ---- the deck builder (course_lib.slides.deck, python slides/build_deck.py)


def _outline_without(kind: str) -> dict:
    seed = json.loads(SEED_TEXT)
    if kind == "section":
        seed["sections"] = [s for s in seed["sections"] if s["id"] != "svd"]
    else:
        del seed["tables"]["svd"]
    return seed


@pytest.mark.parametrize("out, seed, error, message", [
    (5, None, TypeError, "out must be a str or a path, got int"),
    ("", None, ValueError, "out is an empty string"),
    ("{tmp}", None, ValueError, r"out == '.*' is a folder, must be the notebook file to write"),
    ("{tmp}/no/deck.ipynb", None, ValueError, r"out == '.*deck.ipynb': the folder '.*no' does not exist"),
    ("{tmp}/deck.ipynb", 5, TypeError, r"seed must be a dict \(the outline of load_seed\(\)\)"),
    ("{tmp}/deck.ipynb", {}, ValueError, "seed is not the deck's outline: it lacks 'sections'"),
    ("{tmp}/deck.ipynb", {**SEED, "glossary": [["a"]]}, ValueError, r"seed\['glossary'\]\[0\] == \['a'\]"),
    ("{tmp}/deck.ipynb", _outline_without("section"), ValueError, "seed\\['sections'\\] has no section with id 'svd'"),
    ("{tmp}/deck.ipynb", _outline_without("table"), ValueError, "seed\\['tables'\\] has no table 'svd'"),
])
def test_build_deck_checks_before_writing(tmp_path, out, seed, error, message):
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(error, match=message):
        slides.build_deck(out.format(tmp=tmp_path) if isinstance(out, str) else out, seed=seed)
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("argv, message", [
    (["--seed", "{tmp}/truncated.json"], r"path == '.*truncated.json' is not a readable UTF-8 JSON file"),
    (["--seed", "{tmp}/list.json"], r"path == '.*list.json' holds list"),
    (["--seed", "{tmp}/none.json"], r"path == '.*none.json' is missing, must be an existing file"),
    (["--seed", ""], "path is an empty string"),
    (["--out", ""], "out is an empty string"),
    (["--out", "{tmp}"], r"out == '.*' is a folder"),
])
def test_the_deck_builder_command_line(tmp_path, monkeypatch, capsys, argv, message):
    from course_lib.slides import deck

    (tmp_path / "truncated.json").write_text(SEED_TEXT[:500])
    (tmp_path / "list.json").write_text("[]")
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as exit_:
        deck.main([a.format(tmp=tmp_path) for a in argv] + ([] if "--out" in argv else ["--out", "x.ipynb"]))
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err) and err[-1].startswith("build_deck.py: error: ")
    assert re.search(message, err[-1])
    assert sorted(tmp_path.rglob("*")) == before


def test_the_deck_builder_script_refuses_a_broken_seed(tmp_path):
    (tmp_path / "seed.json").write_text(SEED_TEXT[:500])
    done = subprocess.run([sys.executable, str(ROOT / "slides" / "build_deck.py"), "--seed", "seed.json",
                           "--out", "deck.ipynb"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert re.search(r"build_deck.py: error: path == 'seed.json' is not a readable UTF-8 JSON file", done.stderr)
    assert not (tmp_path / "deck.ipynb").exists()
