"""course_lib.slides: the deck's tables read from notebook outputs, the offline export's checks, the deck's layout."""

from __future__ import annotations

import json

import nbformat
import pytest

from course_lib import slides
from course_lib.slides import export

ROOT = export.ROOT
DECK = ROOT / "slides" / "lecture.ipynb"

PRINTED = """CPU capability AVX2, 1 thread
model      test acc %  size
---------  ----------  --------
lenet300         98.4  1.02 MiB
cifar_vgg       86.29  6.08 MiB
a conclusion that is no row: every model fits, measured
"""


@pytest.fixture
def notebooks(tmp_path):
    nb = nbformat.v4.new_notebook()
    table = nbformat.v4.new_code_cell("print(format_table(rows))")
    table.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PRINTED)]
    figure = nbformat.v4.new_code_cell("fig, ax = plt.subplots()  # the figure")
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    figure.outputs = [nbformat.v4.new_output("display_data", data=png)]
    nb.cells = [nbformat.v4.new_markdown_cell("# a notebook"), table, figure]
    nbformat.write(nb, tmp_path / "00_x.ipynb")
    return tmp_path


def test_notebook_table_reads_the_printed_table(notebooks):
    t = slides.notebook_table("00_x.ipynb", ["model", "size"], notebooks_dir=notebooks)
    assert t["columns"] == ["model", "test acc %", "size"]
    assert t["rows"] == [["lenet300", "98.4", "1.02 MiB"], ["cifar_vgg", "86.29", "6.08 MiB"]]
    assert t["before"] == ["CPU capability AVX2, 1 thread"]
    assert t["after"] == ["a conclusion that is no row: every model fits, measured"]


def test_notebook_table_errors(notebooks):
    with pytest.raises(ValueError, match="has no stored table with the columns"):
        slides.notebook_table("00_x.ipynb", ["model", "latency"], notebooks_dir=notebooks)
    with pytest.raises(ValueError, match=r"notebook == '99_y.ipynb', must be one of '00_x.ipynb'"):
        slides.notebook_table("99_y.ipynb", ["model"], notebooks_dir=notebooks)
    with pytest.raises(TypeError, match="notebook must be a str"):
        slides.notebook_table(3, ["model"], notebooks_dir=notebooks)
    with pytest.raises(TypeError, match=r"header must be a list or tuple of names.*write \['model'\]"):
        slides.notebook_table("00_x.ipynb", "model", notebooks_dir=notebooks)
    with pytest.raises(TypeError, match="notebooks_dir must be a str or a path"):
        slides.notebook_table("00_x.ipynb", ["model"], notebooks_dir=1.5)


def test_notebook_figure(notebooks):
    assert slides.notebook_figure("00_x.ipynb", ["plt.subplots", "the figure"], notebooks_dir=notebooks).startswith(
        b"\x89PNG")
    with pytest.raises(ValueError, match="no code cell containing"):
        slides.notebook_figure("00_x.ipynb", ["format_table"], notebooks_dir=notebooks)  # a cell without a figure
    with pytest.raises(TypeError, match="cell_contains must be a list or tuple"):
        slides.notebook_figure("00_x.ipynb", "plt", notebooks_dir=notebooks)


def test_notebook_figure_index_picks_the_cells_nth_figure(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("for cost in costs: pareto_plot(rows, cost)")
    first, second = "iVBORw0KGgo=", "iVBORw0KGgoB"  # two PNG headers, the second one byte longer
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a line\n"),
                    nbformat.v4.new_output("display_data", data={"image/png": first}),
                    nbformat.v4.new_output("display_data", data={"image/png": second})]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "09_x.ipynb")
    pngs = [slides.notebook_figure("09_x.ipynb", ["pareto_plot"], index=i, notebooks_dir=tmp_path) for i in (0, 1)]
    assert pngs[0] == b"\x89PNG\r\n\x1a\n" and pngs[1].startswith(pngs[0]) and len(pngs[1]) == len(pngs[0]) + 1
    assert slides.notebook_figure("09_x.ipynb", ["pareto_plot"], notebooks_dir=tmp_path) == pngs[0]
    with pytest.raises(ValueError, match=r"index == 2, must be < 2: the cell containing \['pareto_plot'\]"):
        slides.notebook_figure("09_x.ipynb", ["pareto_plot"], index=2, notebooks_dir=tmp_path)
    with pytest.raises(ValueError, match="index == -1, must be >= 0"):
        slides.notebook_figure("09_x.ipynb", ["pareto_plot"], index=-1, notebooks_dir=tmp_path)
    with pytest.raises(TypeError, match="index must be an int"):
        slides.notebook_figure("09_x.ipynb", ["pareto_plot"], index="1", notebooks_dir=tmp_path)


def test_course_table_note_lines(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(format_table(rows))")
    verdicts = "".join(f"verdict {i}\n" for i in range(5))
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PRINTED + verdicts)]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "02_x.ipynb")

    def shown(**kw):
        return slides.course_table("02_x.ipynb", ["model"], notebooks_dir=tmp_path, **kw)._repr_html_()

    assert "a conclusion" in shown() and "verdict 0" in shown() and "verdict 1" not in shown()  # two by default
    assert "verdict 4" in shown(note_lines=6) and "verdict 3" not in shown(note_lines=4)
    assert "verdict" not in shown(note_lines=0) and "CPU capability AVX2" in shown(note_lines=0)
    with pytest.raises(ValueError, match="note_lines == -1, must be >= 0"):
        shown(note_lines=-1)


def test_html_table_escapes_and_checks_rows():
    text = slides.html_table(["a", "b<"], [["1 & 2", "$x$"]], css_class="t", caption="<c>")
    assert text == ('<table class="t"><caption>&lt;c&gt;</caption><thead><tr><th>a</th><th>b&lt;</th></tr></thead>'
                    "<tbody><tr><td>1 &amp; 2</td><td>$x$</td></tr></tbody></table>")
    with pytest.raises(ValueError, match=r"rows\[0\] has 1 cells, must have 2"):
        slides.html_table(["a", "b"], [["1"]])
    with pytest.raises(TypeError, match=r"rows\[1\] must be a list"):
        slides.html_table(["a"], [["1"], "2"])
    with pytest.raises(TypeError, match="rows must be a list of lists"):
        slides.html_table(["a"], "12")
    with pytest.raises(ValueError, match="columns is empty"):
        slides.html_table([], [])


def test_side_by_side_shows_the_seed_and_every_measured_table():
    seed = slides.load_seed()
    assert len(seed["sections"]) == 19 and len(seed["tables"]) == 6
    for name, spec in seed["tables"].items():
        text = slides.side_by_side(name)._repr_html_()
        assert f'data-table="{name}"' in text
        assert text.count('class="seed-table"') == 1
        assert text.count('class="course-table"') == len(spec["course"])
        assert text.count("<tr>") >= 1 + len(spec["rows"]) + 2 * len(spec["course"])
    with pytest.raises(ValueError, match="name == 'mobilenet', must be one of"):
        slides.side_by_side("mobilenet")
    with pytest.raises(TypeError, match="name must be a str"):
        slides.side_by_side(None)
    with pytest.raises(ValueError, match=r"seed\['glossary'\]\[0\] == \['a', 'b', 'c'\], must be a \(Russian, English"):
        slides.glossary_table(seed={"glossary": [["a", "b", "c"]]})


def test_remote_references_finds_what_a_page_would_load():
    page = """<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/y.css">
    <style>@import url(https://fonts.googleapis.com/css?family=Lato); .a { background: url('http://x/z.png') }</style>
    <script type="module">import mermaid from 'https://cdn.example/mermaid.mjs';</script>
    <a href="https://example.org/paper.pdf">a link is no request</a><script src="vendor/ok.js"></script>"""
    found = export.remote_references(page)
    assert "https://cdn.example/x.js" in found and "//cdn.example/y.css" in found
    assert "http://x/z.png" in found and "https://cdn.example/mermaid.mjs" in found
    assert any("fonts.googleapis.com" in f for f in found)
    assert not any("example.org" in f or "vendor/ok.js" in f for f in found)
    assert export.remote_references('<script src="vendor/a.js"></script><a href="https://x.org">x</a>') == []


def test_copy_assets_strips_remote_imports_and_keeps_licences(tmp_path, monkeypatch):
    pkg = tmp_path / "node_modules" / "theme-pkg"
    (pkg / "dist").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "theme-pkg", "version": "1.2.3", "license": "MIT"}))
    (pkg / "LICENSE").write_text("MIT licence text")
    (pkg / "dist" / "t.css").write_text("@import url(https://fonts.googleapis.com/css?family=Lato);\n"
                                        "@import url(./fonts/local.css);\nbody { color: red }\n")
    monkeypatch.setattr(export, "ASSETS", {"theme-pkg": ["dist/*.css", "LICENSE"]})
    versions = export.copy_assets(tmp_path / "node_modules", tmp_path / "vendor")
    assert versions == {"theme-pkg": "1.2.3"}
    css = (tmp_path / "vendor" / "theme-pkg" / "dist" / "t.css").read_text()
    assert "googleapis" not in css and "@import url(./fonts/local.css);" in css
    licences = (tmp_path / "vendor" / "LICENSES.md").read_text()
    assert "## theme-pkg 1.2.3 (MIT)" in licences and "MIT licence text" in licences
    monkeypatch.setattr(export, "ASSETS", {"theme-pkg": ["dist/*.js"]})
    with pytest.raises(ValueError, match=r"theme-pkg 1.2.3 has no 'dist/\*.js'"):
        export.copy_assets(tmp_path / "node_modules", tmp_path / "vendor")
    monkeypatch.setattr(export, "ASSETS", {"missing-pkg": ["x"]})
    with pytest.raises(ValueError, match="lacks 'missing-pkg': run npm ci"):
        export.copy_assets(tmp_path / "node_modules", tmp_path / "vendor")


def test_npm_install_and_export_check_their_arguments(tmp_path):
    with pytest.raises(ValueError, match="has no package-lock.json"):
        export.npm_install(tmp_path)
    with pytest.raises(TypeError, match="force must be True or False"):
        export.npm_install(tmp_path, force="yes")
    with pytest.raises(ValueError, match="must be an existing file"):
        export.export_deck(tmp_path / "none.ipynb", tmp_path / "out")
    with pytest.raises(TypeError, match="execute must be True or False"):
        export.export_deck(DECK, tmp_path / "out", execute=1)


def test_the_deck_has_a_slide_per_seed_section_in_order():
    nb = nbformat.read(DECK, as_version=4)
    seed = slides.load_seed()
    marked = [c.metadata["course_slide"]["id"] for c in nb.cells if "course_slide" in c.metadata]
    assert marked == [s["id"] for s in seed["sections"]]
    for cell in nb.cells:
        if "course_slide" in cell.metadata:
            assert cell.metadata["slideshow"]["slide_type"] == "slide"
        # jupyterlab-slideshow hides code cells that carry "-" explicitly
        assert cell.metadata.get("slideshow", {}).get("slide_type") != "-"
    assert nb.cells[0].cell_type == "code" and "cl.setup(" in nb.cells[0].source
    stored = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    for name in seed["tables"]:  # the deck was executed: every side-by-side table is in its outputs
        assert f'data-table=\\"{name}\\"' in stored, name
    widgets = [c for c in nb.cells if c.cell_type == "code" and c.source.strip().splitlines()[-1].endswith(")")
               and ".widget(" in c.source.strip().splitlines()[-1]]
    assert len(widgets) >= 2


def test_the_deck_builder_writes_the_committed_deck(tmp_path):
    """slides/build_deck.py (course_lib.slides.deck) rebuilds slides/lecture.ipynb: same cells, same sources."""
    built = nbformat.read(slides.build_deck(tmp_path / "lecture.ipynb"), as_version=4)
    committed = nbformat.read(DECK, as_version=4)
    assert [c.cell_type for c in built.cells] == [c.cell_type for c in committed.cells]
    assert [c.source for c in built.cells] == [c.source for c in committed.cells]
    # the executed deck adds only the kernel's timestamps to the cells' metadata
    assert [c.metadata for c in built.cells] == [{k: v for k, v in c.metadata.items() if k != "execution"}
                                                 for c in committed.cells]
    assert all(c.get("outputs", []) == [] for c in built.cells)
