"""Fixtures of the browser tests: one JupyterLab server and one headless Chromium per test module.

Each pytest-xdist worker runs whole modules (``--dist loadfile``), so each has its own server on
its own random port. Both are stopped in finalizers, whatever the tests did.
"""

from __future__ import annotations

import os

import pytest

from browser_helpers import (
    ARTIFACTS,
    MISSING_CHROMIUM,
    STARTED_RUN_IDS,
    Browser,
    LabServer,
    find_chromium,
    kill_marked,
    stop_playwright,
)


def pytest_configure(config):
    # also listed in pyproject.toml; registered here so that --strict-markers never trips on it
    config.addinivalue_line("markers", "browser: runs JupyterLab in headless Chromium (part of `make test`)")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The system Chromium; a missing one fails the tests (they are part of `make test`)."""
    path = find_chromium()
    if path is None:
        where = os.environ.get("COURSE_CHROMIUM") or "/usr/bin/chromium, chromium on PATH"
        pytest.fail(MISSING_CHROMIUM.format(where=where), pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("Playwright is missing: `make install` (or `.venv/bin/pip install -e '.[dev]'`) installs it. "
                    "Never run `playwright install`: the tests use the system Chromium.", pytrace=False)
    return path


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def lab_server(request, artifacts):
    """JupyterLab on a free port, serving a temporary copy of notebooks/ (the repository is never touched)."""
    server = LabServer(data_dir=os.environ.get("COURSE_DATA_DIR"))
    log_name = f"jupyter-lab-{request.module.__name__}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
    try:
        server.start()
    except BaseException:
        server.stop()
        server.cleanup_files(keep_log_as=artifacts / log_name)
        raise
    yield server
    left = server.stop()
    server.cleanup_files(keep_log_as=artifacts / log_name)
    assert not left, f"processes survived the JupyterLab shutdown (now killed): {left}"


@pytest.fixture(scope="module")
def browser(lab_server, chromium):
    """Headless Chromium (the system binary), with requests outside the server blocked and recorded."""
    b = Browser(chromium, allowed_origin=lab_server.url)
    try:
        b.start()
    except BaseException:
        b.stop()
        raise
    yield b
    b.stop()


@pytest.fixture
def page(browser, request, artifacts):
    """A new tab; console errors and page errors are collected in ``page.course_errors``."""
    pg = browser.new_page()
    pg.course_console = []
    pg.course_errors = []

    def on_console(msg):
        pg.course_console.append(f"{msg.type}: {msg.text}")
        if msg.type == "error":
            pg.course_errors.append(f"console error: {msg.text}")

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: pg.course_errors.append(f"page error: {exc}"))
    yield pg
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    name = request.node.callspec.id if hasattr(request.node, "callspec") else request.node.name
    try:
        if failed:
            pg.screenshot(path=str(artifacts / f"{name}-FAILED.png"), full_page=True)
        (artifacts / f"{name}-console.log").write_text("\n".join(pg.course_console) + "\n")
    finally:
        pg.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def pytest_sessionfinish(session):
    # last line of defence: nothing this worker started under a browser-test marker survives it
    stop_playwright()
    for run_id in STARTED_RUN_IDS:
        kill_marked(run_id)
