"""The course in a real browser: JupyterLab in headless Chromium, every notebook, every widget.

What a student does, step by step, and what is checked:

* JupyterLab starts (``jupyter lab`` on a free localhost port with a random token, serving a
  temporary copy of ``notebooks/``: the repository is never modified) and the page loads with
  the ipywidgets front-end extension, without a single request to the internet;
* each notebook is opened, its outputs cleared (Edit menu) and all its cells run (Run menu) in a
  fresh kernel: the cells run top to bottom (prompts 1, 2, 3, ...), with no error and nothing on
  stderr, and the browser reports no JavaScript error;
* with the data present nothing touches the network: the server and the kernels run with a guard
  that fails and records any connection beyond localhost (``network_guard``), and the browser's
  requests outside the server are blocked and recorded; both records must stay empty;
* every widget cell (a cell whose saved output is an ipywidgets view) renders as a live widget:
  no "Error displaying widget", no "Loading widget...", no text fallback;
* its slider is moved with the keyboard and the widget is shown to change: the numbers of its
  status line and its plot (the image in its Output) both differ from before. Screenshots before
  and after are kept under ``test-artifacts/browser/`` (git-ignored).

The system Chromium is used (Debian's ``chromium`` package); a missing browser fails the tests with
the command that installs it. ``COURSE_BROWSER_TIMEOUT`` (seconds, default 900) bounds each
notebook's run. Server, kernels and browser are stopped in fixture finalizers, and anything left
carrying this run's marker is killed (see ``browser_helpers``).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from browser_helpers import NB, ROOT, WIDGET_PROBLEMS, check_widget, error_outputs, open_notebook, run_all

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RUN_TIMEOUT_S = float(os.environ.get("COURSE_BROWSER_TIMEOUT", "900"))
TIMINGS: dict[str, dict] = {}


def widget_cells(path: Path) -> list[int]:
    """Indices of the explorer cells: those ending in ``something.widget(...)``.

    Other cells may show widgets too (tqdm's progress bars), but those have no slider to move.
    """
    nb = json.loads(path.read_text())
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]).strip().splitlines() or [""]
        if re.match(r"^[\w.]+\.widget\(.*\)$", source[-1].strip()):
            found.append(i)
    return found


def test_notebooks_are_found():
    assert len(NOTEBOOKS) >= 4, "notebooks/ should hold the course's notebooks"
    assert any(widget_cells(nb) for nb in NOTEBOOKS), "at least one notebook should have a widget"


def test_lab_loads_with_the_widget_extension_and_offline(lab_server, browser, page):
    """The JupyterLab page itself: loaded, the ipywidgets manager active, no request leaves localhost."""
    page.goto(f"{lab_server.url}/lab?token={lab_server.token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined", timeout=120_000)
    page.wait_for_selector(".jp-LabShell", timeout=120_000)
    plugins = page.evaluate("() => window.jupyterapp.listPlugins()")
    assert any(p.startswith("@jupyter-widgets/jupyterlab-manager") for p in plugins), (
        "the ipywidgets front-end extension (jupyterlab_widgets) is not loaded: widgets could not render")
    page.wait_for_timeout(1000)
    assert not browser.external_requests, f"JupyterLab tried to reach the internet: {browser.external_requests}"
    assert not page.course_errors, page.course_errors


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_in_the_browser(notebook, lab_server, browser, page, artifacts):
    """Open, run all, no errors; then every widget renders and reacts to its slider."""
    name = notebook.name
    for old in artifacts.glob(f"{notebook.stem}-*"):
        old.unlink()
    n_cells = len(json.loads(notebook.read_text())["cells"])
    timing = TIMINGS.setdefault(notebook.stem, {})
    t0 = time.monotonic()
    try:
        open_notebook(page, lab_server, name)
        timing["open_s"] = round(time.monotonic() - t0, 1)
        assert page.locator(f"{NB} .jp-Cell").count() == n_cells, "not every cell is on the page"

        t1 = time.monotonic()
        prompts = run_all(page, timeout_s=RUN_TIMEOUT_S)
        timing["run_s"] = round(time.monotonic() - t1, 1)
        errors = error_outputs(page)
        assert not errors, f"{name}: error or stderr output in the browser:\n" + "\n---\n".join(errors)
        expected = [f"[{i}]:" for i in range(1, len(prompts) + 1)]
        assert prompts == expected, f"{name} did not run top to bottom in one go: prompts {prompts}"

        cells = page.locator(f"{NB} .jp-Cell")
        for k, index in enumerate(widget_cells(notebook)):
            check_widget(page, cells.nth(index), artifacts / f"{notebook.stem}-widget{k}", timing)

        text = page.locator(NB).inner_text()
        problems = [p for p in WIDGET_PROBLEMS if p in text]
        assert not problems, f"{name}: widget problems shown in the notebook: {problems}"
        assert not page.course_errors, f"{name}: JavaScript errors in the browser: {page.course_errors}"
        assert not browser.external_requests, f"{name}: requests left localhost: {browser.external_requests}"
        net = lab_server.network_attempts()
        assert not net, f"{name}: the kernel or the server tried to use the network:\n{net}"
    finally:
        timing["total_s"] = round(time.monotonic() - t0, 1)
        lab_server.shutdown_sessions(name)
        (artifacts / f"{notebook.stem}-timing.json").write_text(json.dumps(timing, indent=1) + "\n")
