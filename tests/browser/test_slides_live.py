"""The lecture deck presented live in JupyterLab (jupyterlab-slideshow), in headless Chromium.

As an instructor does it: JupyterLab opens ``slides/lecture.ipynb`` (a temporary copy), all cells
run, the first cell is selected and the slideshow starts (``deck:start``, the toolbar's deck button);
the remote's next / previous buttons step through the slides. Checked on the slides themselves (the
cells the slideshow shows): the title slide's markdown text is there, a slide's math is rendered by
MathJax (no raw ``$...$`` left), next and previous change the slide, and the pruning demo's explorer is
a live widget: its slider moved, its numbers and its plot change. No request leaves localhost, no
JavaScript error.

Why not jupyterlab-rise: with ipywidgets 8 its slideshow page cannot load the widget manager
("Shared module @jupyterlab/console doesn't exist in shared scope default", jupyterlab-contrib/rise
issue 119, still open), so no widget renders there. These same steps, tried with jupyterlab-rise 0.43.1
on JupyterLab 4.6.6, showed the text and the math but no widget.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from browser_helpers import ROOT, Browser, LabServer, check_widget, open_notebook, run_all

DECK = ROOT / "slides" / "lecture.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# the cells the slideshow shows now (jupyterlab-slideshow marks them)
SHOWN_JS = f"""() => [...document.querySelectorAll('{PANEL} .jp-Cell.jp-deck-mod-onscreen.jp-deck-mod-visible')]
    .map(c => c.innerText.trim())"""


@pytest.fixture(scope="module")
def live(tmp_path_factory, chromium, artifacts):
    folder = tmp_path_factory.mktemp("deck") / "slides"
    folder.mkdir()
    shutil.copy(DECK, folder / DECK.name)
    server = LabServer(folder, data_dir=os.environ.get("COURSE_DATA_DIR"))
    try:
        server.start()
        browser = Browser(chromium, allowed_origin=server.url)
        browser.start()
    except BaseException:
        server.stop()
        server.cleanup_files(keep_log_as=artifacts / "jupyter-lab-slides.log")
        raise
    page = browser.new_page()
    page.course_errors = []
    page.on("pageerror", lambda e: page.course_errors.append(f"page error: {e}"))
    page.on("console", lambda m: page.course_errors.append(f"console error: {m.text}") if m.type == "error" else None)
    try:
        yield {"server": server, "browser": browser, "page": page}
    finally:
        browser.stop()
        server.stop()
        server.cleanup_files(keep_log_as=artifacts / "jupyter-lab-slides.log")


def shown(page) -> list[str]:
    return page.evaluate(SHOWN_JS)


def step(page, direction: str, *, until) -> list[str]:
    """Click the remote's arrow until ``until(shown cells)`` holds (30 clicks at most)."""
    for _ in range(30):
        before = shown(page)
        if until(before):
            return before
        page.locator(f".jp-deck-mod-direction-{direction}").click()
        page.wait_for_function(f"b => JSON.stringify(({SHOWN_JS})()) !== b", arg=json.dumps(before),
                               timeout=10_000)
    raise AssertionError(f"no slide matched after 30 '{direction}' steps; last shown: {shown(page)}")


def test_deck_is_presented_live_with_text_math_and_a_live_widget(live, artifacts):
    page, server, browser = live["page"], live["server"], live["browser"]
    open_notebook(page, server, DECK.name)
    plugins = page.evaluate("() => window.jupyterapp.listPlugins()")
    assert any(p.startswith("jupyterlab-slideshow") for p in plugins), "jupyterlab-slideshow is not installed"
    prompts = run_all(page, timeout_s=600)
    assert prompts == [f"[{i}]:" for i in range(1, len(prompts) + 1)], prompts

    page.evaluate("() => { const nb = window.jupyterapp.shell.currentWidget.content; nb.activeCellIndex = 0;"
                  " nb.mode = 'command'; }")
    page.evaluate("() => window.jupyterapp.commands.execute('deck:start')")
    page.wait_for_selector(f"{PANEL}.jp-Deck", timeout=30_000)
    page.wait_for_function(f"() => ({SHOWN_JS})().length > 0", timeout=30_000)
    title = shown(page)
    assert "Networks compression" in title[0] and "Pruning" in title[0], title  # the markdown text

    # next, next: another slide; previous: back
    nxt = step(page, "forward", until=lambda cells: cells != title)
    assert nxt != title
    back = step(page, "back", until=lambda cells: cells == title)
    assert back == title

    # a slide with math: rendered by MathJax, no raw TeX in what the slide shows
    math = step(page, "forward", until=lambda cells: any(c.startswith("Removing synapses") for c in cells))
    cell = page.locator(f"{PANEL} .jp-Cell.jp-deck-mod-visible", has_text="Removing synapses").first
    assert cell.locator("mjx-container").count() >= 2
    assert not re.search(r"\$[^$\n]{1,80}\$", "\n".join(math)), math
    page.screenshot(path=str(artifacts / "slides-live-math.png"))

    # the demo slide below it: a live explorer (slider moved, numbers and plot change)
    step(page, "down", until=lambda cells: any("explorer.widget(" in c for c in cells))
    demo = page.locator(f"{PANEL} .jp-CodeCell.jp-deck-mod-visible", has_text="explorer.widget(").first
    check_widget(page, demo, artifacts / "slides-live-widget", {})

    assert not page.course_errors, page.course_errors
    assert not browser.external_requests, browser.external_requests
    assert not server.network_attempts()
