"""The browser checks catch what they are meant to catch, shown on three tiny notebooks.

* a working explorer (slider, status line, plot) passes :func:`check_widget`;
* an explorer whose slider changes nothing fails it;
* a cell that raises is reported by :func:`run_all` / :func:`error_outputs`;
* with the ipywidgets front-end extension disabled (``jupyter labextension disable``), the widget
  does not render, and :func:`check_widget` says so.
"""

from __future__ import annotations

import nbformat
import pytest

from browser_helpers import (
    NB,
    Browser,
    LabServer,
    check_widget,
    error_outputs,
    open_notebook,
    run_all,
)

EXPLORER = '''\
import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import display

slider = w.IntSlider(value=2, min=0, max=20, description="n", continuous_update=False)
status, out = w.HTML(), w.Output()
with plt.ioff():
    fig = plt.figure(figsize=(3, 1.5))

def redraw(*_):
    n = slider.value
    status.value = f"n = {n}, n squared = {n * n}"
    fig.clear()
    fig.gca().bar(range(n + 1), [k * k for k in range(n + 1)])
    with out:
        out.clear_output(wait=True)
        display(fig)

{hook}
redraw()
w.VBox([slider, status, out])'''


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def tiny_notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-notebooks")
    _notebook(folder / "explorer.ipynb", EXPLORER.replace("{hook}", 'slider.observe(redraw, names="value")'))
    _notebook(folder / "frozen.ipynb", EXPLORER.replace("{hook}", "# the slider is connected to nothing"))
    _notebook(folder / "broken.ipynb", "print('one')", "raise ValueError('a broken cell')", "print('three')")
    return folder


@pytest.fixture(scope="module")
def lab_server(tiny_notebooks):
    """Overrides conftest's server: this module's server serves the tiny notebooks."""
    server = LabServer(tiny_notebooks)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.cleanup_files()


def _run(page, server, name):
    open_notebook(page, server, name)
    return run_all(page, timeout_s=120)


def test_a_working_explorer_passes(lab_server, page, tmp_path):
    prompts = _run(page, lab_server, "explorer.ipynb")
    assert prompts == ["[1]:"] and not error_outputs(page)
    timing = {}
    check_widget(page, page.locator(f"{NB} .jp-Cell").nth(0), tmp_path / "explorer", timing)
    assert (tmp_path / "explorer-before.png").stat().st_size > 0 and (tmp_path / "explorer-after.png").exists()


def test_an_explorer_that_does_not_react_fails(lab_server, page, tmp_path):
    _run(page, lab_server, "frozen.ipynb")
    with pytest.raises(AssertionError, match="did not change both the numbers and the plot"):
        check_widget(page, page.locator(f"{NB} .jp-Cell").nth(0), tmp_path / "frozen", {}, change_timeout_s=5)


def test_an_error_in_a_cell_is_reported(lab_server, page):
    prompts = _run(page, lab_server, "broken.ipynb")
    errors = error_outputs(page)
    assert any("a broken cell" in e for e in errors), errors
    assert prompts != ["[1]:", "[2]:", "[3]:"], "the cells after the error should not have run"


def test_a_missing_widget_extension_is_reported(tiny_notebooks, chromium, tmp_path):
    with LabServer(tiny_notebooks, disabled_extensions=("@jupyter-widgets/jupyterlab-manager",)) as server:
        with Browser(chromium, allowed_origin=server.url) as browser:
            page = browser.new_page()
            _run(page, server, "explorer.ipynb")
            with pytest.raises(AssertionError, match="did not render"):
                check_widget(page, page.locator(f"{NB} .jp-Cell").nth(0), tmp_path / "missing", {},
                             render_timeout_s=10)
