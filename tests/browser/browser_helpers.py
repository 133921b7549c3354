"""Start JupyterLab and headless Chromium for the browser tests, and always stop them.

Everything the tests start carries a marker in its environment (``COURSE_BROWSER_TEST=<random id>``):
the JupyterLab server, the kernels it starts, and the Chromium processes. Stopping a server or a
browser ends with :func:`kill_marked`, which ends whatever still carries the marker, so a failing or
interrupted test never leaves a server, a kernel or a browser behind; if the test process itself is
killed, the server gets SIGTERM from the kernel (parent-death signal) and stops its kernels, and
Playwright's driver closes Chromium. Ports are free ports chosen at random; nothing here uses a
fixed port. The server runs on a temporary copy of the notebooks, with its own Jupyter
configuration, settings, workspaces and runtime folders (nothing of the user's is read or written).

The notebook helpers at the end drive JupyterLab as a student does: its menus, the slider's
keyboard handle; they read what the page shows (the kernel status from the application object
when the test server exposes it, as it does with ``expose_app_in_browser``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from network_guard import attempts, guarded_env

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
MARKER = "COURSE_BROWSER_TEST"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING_CHROMIUM = ("Chromium is needed by the browser tests and was not found (looked for {where}). "
                    "Install it with `apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), "
                    "or point COURSE_CHROMIUM at a Chromium or Chrome binary.")
# run ids of every server and browser started by this process (conftest kills what is left of them)
STARTED_RUN_IDS: list[str] = []
# JupyterLab settings for the test server: every cell attached to the page (so all of them can be
# inspected), and no requests to the internet (news, update checks).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def find_chromium() -> str | None:
    """The system Chromium: ``COURSE_CHROMIUM``, else the Debian package's binary, else one on PATH."""
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for path in CHROMIUM_CANDIDATES:
        if Path(path).is_file():
            return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def free_port() -> int:
    """A TCP port nobody listens on right now (the server is told not to retry others)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In the child, before exec: get SIGTERM when the test process dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def marked_processes(run_id: str) -> list[psutil.Process]:
    """Live processes whose environment carries ``COURSE_BROWSER_TEST=run_id``."""
    needle = f"{MARKER}={run_id}"
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(MARKER) == run_id or needle in " ".join(proc.cmdline()):
                found.append(proc)
    return found


def kill_marked(run_id: str, *, grace: float = 5.0) -> list[str]:
    """SIGTERM, then SIGKILL, every process still carrying the marker; returns what was found."""
    procs = [p for p in marked_processes(run_id) if p.pid != os.getpid()]
    names = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            names.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=grace)
    return names


class LabServer:
    """``jupyter lab`` on a free localhost port, serving a temporary copy of the notebooks.

    Use as a context manager; leaving it (normally or by an exception) stops the server, its
    kernels and anything else started under this server's marker. With ``offline=True`` (the
    default) the server and its kernels run with the network guard (``network_guard``): any
    connection beyond localhost fails and is recorded, see :meth:`network_attempts`.
    """

    def __init__(self, notebooks: Path = ROOT / "notebooks", *, data_dir: str | None = None,
                 startup_timeout: float = 120.0, offline: bool = True, disabled_extensions: tuple = ()):
        self.run_id = secrets.token_hex(8)
        STARTED_RUN_IDS.append(self.run_id)
        self.token = secrets.token_hex(24)
        self.tmp = Path(tempfile.mkdtemp(prefix="course-browser-"))
        self.root_dir = self.tmp / "notebooks"
        shutil.copytree(notebooks, self.root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        self.data_dir = data_dir
        self.startup_timeout = startup_timeout
        self.log_path = self.tmp / "jupyter-lab.log"
        self.offline = offline
        self.disabled_extensions = tuple(disabled_extensions)
        self.network_log = self.tmp / "network-attempts.log"
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            MARKER: self.run_id,
            # nothing of the user's Jupyter configuration, settings or state is read or written
            "JUPYTER_CONFIG_DIR": str(self.tmp / "config"),
            "JUPYTER_DATA_DIR": str(self.tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(self.tmp / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.tmp / "lab-workspaces"),
            "IPYTHONDIR": str(self.tmp / "ipython"),
            "PYTHONUNBUFFERED": "1",
        })
        for name in ("JUPYTER_TOKEN", "JUPYTER_PORT", "JUPYTER_TOKEN_FILE", "COURSE_FULL"):
            env.pop(name, None)
        if self.data_dir is not None:
            env["COURSE_DATA_DIR"] = self.data_dir
        if self.offline:
            env = guarded_env(env, self.tmp / "network-guard", self.network_log)
        return env

    def network_attempts(self) -> str:
        """Every connection beyond localhost that the server or a kernel tried (with stacks)."""
        return attempts(self.network_log)

    def _write_settings(self):
        for rel, values in LAB_SETTINGS.items():
            path = self.tmp / "lab-settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        if self.disabled_extensions:  # what `jupyter labextension disable NAME` writes
            page_config = self.tmp / "config" / "labconfig" / "page_config.json"
            page_config.parent.mkdir(parents=True, exist_ok=True)
            page_config.write_text(json.dumps({"disabledExtensions": dict.fromkeys(self.disabled_extensions, True)}))

    def start(self) -> LabServer:
        self._write_settings()
        jupyter = Path(sys.executable).with_name("jupyter")
        last_error = ""
        for _ in range(3):  # a port taken between free_port() and the bind: try another
            self.port = free_port()
            cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.root_dir}", "--LabApp.expose_app_in_browser=True",
                   "--LabApp.extension_manager=readonly"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.append("--allow-root")  # CI containers run as root
            log = self._log = open(self.log_path, "a")  # closed in stop()
            self.proc = subprocess.Popen(cmd, cwd=self.root_dir, env=self.env(), stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True,
                                         preexec_fn=_die_with_parent if sys.platform == "linux" else None)
            if self._wait_ready():
                return self
            last_error = self.log_text()[-3000:]
            self.stop()
        raise RuntimeError(f"JupyterLab did not start; its log ends with:\n{last_error}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=5) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        return False

    def api(self, method: str, path: str, body=None):
        """A call to the server's REST API; returns the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
        return json.loads(text) if text else None

    def shutdown_sessions(self, path: str | None = None):
        """Stop the kernels of the notebook ``path`` (all notebooks when None)."""
        with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
            for session in self.api("GET", "/api/sessions") or []:
                if path is None or session.get("path") == path:
                    self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> list[str]:
        """Stop the server (its kernels shut down with it), then end anything left with its marker."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # like Ctrl-C: the server stops its kernels
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return kill_marked(self.run_id)

    def cleanup_files(self, keep_log_as: Path | None = None):
        if keep_log_as is not None and self.log_path.exists():
            keep_log_as.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log_path, keep_log_as)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> LabServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            self.cleanup_files()
            raise

    def __exit__(self, *exc):
        self.stop()
        self.cleanup_files()


_PLAYWRIGHT = None


def playwright():
    """This process's Playwright driver (the sync API allows one per thread), started on first use."""
    global _PLAYWRIGHT
    if _PLAYWRIGHT is None:
        from playwright.sync_api import sync_playwright

        _PLAYWRIGHT = sync_playwright().start()
        atexit.register(stop_playwright)
    return _PLAYWRIGHT


def stop_playwright():
    global _PLAYWRIGHT
    if _PLAYWRIGHT is not None:
        with contextlib.suppress(Exception):
            _PLAYWRIGHT.stop()
        _PLAYWRIGHT = None


class Browser:
    """Headless system Chromium driven by Playwright (never a downloaded browser).

    Requests that leave 127.0.0.1 are blocked and recorded in ``external_requests``: the course's
    pages must work without the internet.
    """

    def __init__(self, executable: str, *, allowed_origin: str):
        self.executable = executable
        self.run_id = "browser-" + secrets.token_hex(8)  # its own marker: stopping it spares the server
        STARTED_RUN_IDS.append(self.run_id)
        self.allowed_origin = allowed_origin
        self.profile = Path(tempfile.mkdtemp(prefix="course-chromium-"))
        self.external_requests: list[str] = []
        self.context = None

    def start(self) -> Browser:
        env = dict(os.environ, **{MARKER: self.run_id})
        self.context = playwright().chromium.launch_persistent_context(
            str(self.profile), executable_path=self.executable, headless=True, args=CHROMIUM_ARGS, env=env,
            viewport={"width": 1280, "height": 1000}, handle_sigint=False, handle_sigterm=False)
        self.context.set_default_timeout(60_000)
        self.context.route("**/*", self._route)
        return self

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.allowed_origin) or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.external_requests.append(url)
            route.abort()

    def new_page(self):
        return self.context.new_page()

    def stop(self) -> list[str]:
        with contextlib.suppress(Exception):
            if self.context is not None:
                self.context.close()
        self.context = None
        left = kill_marked(self.run_id)
        shutil.rmtree(self.profile, ignore_errors=True)
        return left

    def __enter__(self) -> Browser:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


# --- driving a notebook in JupyterLab -----------------------------------------------------------

# the notebook in the visible tab (a test opens one notebook per page, in a workspace of its own)
NB = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# The kernel status of the notebook in view: from the application when the server exposes it
# (the test server does), else as the toolbar and the status bar show it (a plain `make lab`).
# 'idle' only once the notebook is loaded and its kernel has started.
KERNEL_STATUS_JS = f"""() => {{
  const app = window.jupyterapp;
  if (app && app.shell) {{
    const w = app.shell.currentWidget;
    if (!w || !w.context || !w.context.isReady || !w.sessionContext) return null;
    const k = w.sessionContext.session && w.sessionContext.session.kernel;
    return k ? k.status : null;
  }}
  const e = document.querySelector('{PANEL} .jp-Notebook-ExecutionIndicator');
  const bar = [...document.querySelectorAll('.jp-StatusBar-TextItem')].map(x => x.textContent.trim())
      .find(t => / \\| [A-Z][a-z]+$/.test(t));
  if (!e || !bar || bar.startsWith('No Kernel')) return null;
  const status = e.getAttribute('data-status');
  return bar.toLowerCase().endsWith('| ' + status) ? status : null;
}}"""

PROMPTS_JS = f"""() => [...document.querySelectorAll('{NB} .jp-CodeCell .jp-InputPrompt')]
                 .map(e => e.textContent.trim())"""

ERRORS_JS = f"""() => [...document.querySelectorAll(
    '{NB} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"],' +
    '{NB} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.getAttribute('data-mime-type') + ': ' + e.innerText.slice(0, 2000))"""

# finished: something ran and nothing is running or queued ([*]); after an error the cells
# left over show [ ] again
DONE_JS = f"""() => {{
  const prompts = [...document.querySelectorAll('{NB} .jp-CodeCell .jp-InputPrompt')]
      .map(e => e.textContent.trim());
  return prompts.some(t => /\\d/.test(t)) && !prompts.some(t => t.includes('*'));
}}"""

CLEARED_JS = f"""() => [...document.querySelectorAll('{NB} .jp-CodeCell .jp-InputPrompt')]
                     .every(e => !/\\d/.test(e.textContent))"""

WIDGET_PROBLEMS = ("Error displaying widget", "Loading widget...", "model not found",
                   "Could not render", "Failed to load model class")


def open_notebook(page, server: LabServer, name: str):
    """Open ``name`` in JupyterLab, in a new workspace (nothing restored), and wait for an idle kernel."""
    workspace = "test-" + secrets.token_hex(4)
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{name}?token={server.token}")
    page.wait_for_function("name => [...document.querySelectorAll('.lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current"
                           " .lm-TabBar-tabLabel')].some(e => e.textContent.trim() === name)", arg=name,
                           timeout=120_000)
    page.wait_for_selector(f"{NB} .jp-Cell", timeout=120_000)
    page.wait_for_function(f"() => ({KERNEL_STATUS_JS})() === 'idle'", timeout=120_000)


def menu(page, top: str, item: str):
    """Click a JupyterLab menu item, e.g. ``menu(page, "Run", "Run All Cells")``."""
    page.locator(".lm-MenuBar-content").get_by_role("menuitem", name=top, exact=True).click()
    page.locator(".lm-Menu").get_by_role("menuitem", name=item, exact=True).click()


def run_all(page, *, timeout_s: float) -> list[str]:
    """Clear every output, run all cells from the Run menu, wait; return the input prompts."""
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(CLEARED_JS, timeout=30_000)
    menu(page, "Run", "Run All Cells")
    deadline = time.monotonic() + timeout_s
    while True:
        left_ms = max(1000, (deadline - time.monotonic()) * 1000)
        page.wait_for_function(DONE_JS, timeout=left_ms, polling=500)
        wait_idle(page, timeout_s=max(1, deadline - time.monotonic()))
        page.wait_for_timeout(1000)
        if page.evaluate(DONE_JS) and page.evaluate(KERNEL_STATUS_JS) == "idle":
            return page.evaluate(PROMPTS_JS)


def wait_idle(page, timeout_s: float = 120):
    page.wait_for_function(f"() => ({KERNEL_STATUS_JS})() === 'idle'", timeout=timeout_s * 1000, polling=250)


def error_outputs(page) -> list[str]:
    return page.evaluate(ERRORS_JS)


def widget_state(root) -> dict:
    """What a widget shows: its text (status lines, readouts), the numbers in it, and its images."""
    state = root.evaluate("""el => ({
        text: [...el.querySelectorAll('.widget-html-content, .widget-label, .widget-readout')]
                  .map(e => e.innerText.trim()).join(' | '),
        status: [...el.querySelectorAll('.widget-html-content')].map(e => e.innerText.trim()).join(' | '),
        images: [...el.querySelectorAll('img')].map(i => i.src),
        readouts: [...el.querySelectorAll('.widget-readout')].map(e => e.innerText.trim()),
    })""")
    state["numbers"] = re.findall(r"-?\d+(?:[.,]\d+)*", state["status"])
    return state


def wait_settled(page, root, *, timeout_s: float = 60) -> dict:
    """Wait until the kernel is idle and the widget shows the same thing twice in a row."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        if page.evaluate(KERNEL_STATUS_JS) != "idle":
            last = None
            continue
        now = widget_state(root)
        if now == last:
            return now
        last = now
    return widget_state(root)


def move_slider(page, root, index: int, *, presses: int = 5) -> str:
    """Focus slider ``index`` of the widget and press arrow keys, as a user would; returns the key."""
    handle = root.locator(".widget-slider .noUi-handle").nth(index)
    handle.scroll_into_view_if_needed()
    now = float(handle.get_attribute("aria-valuenow") or 0)
    top = float(handle.get_attribute("aria-valuemax") or 0)
    bottom = float(handle.get_attribute("aria-valuemin") or 0)
    key = "ArrowRight" if now <= bottom + 0.5 * (top - bottom) else "ArrowLeft"
    handle.focus()
    for _ in range(presses):
        handle.press(key)
    return key


def widget_changed(before: dict, after: dict) -> bool:
    return after["numbers"] != before["numbers"] and after["images"] != before["images"]


def check_widget(page, cell, shot_prefix: Path, timing: dict, *, change_timeout_s: float = 90,
                 render_timeout_s: float = 30):
    """One explorer: rendered, screenshot, slider moved, numbers and plot changed, screenshot.

    ``cell`` is the notebook cell (a Playwright locator) whose output is the widget.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # imported late: see conftest.chromium

    outputs = cell.locator(".jp-OutputArea-output")
    roots = cell.locator(".jp-OutputArea-output > .jupyter-widgets")
    try:  # views render after the kernel is done
        roots.first.wait_for(state="attached", timeout=render_timeout_s * 1000)
    except PlaywrightTimeout:
        pass
    assert roots.count() >= 1, (
        f"{shot_prefix.name}: the widget did not render (outputs: {outputs.all_inner_texts()!r}); "
        "is the jupyterlab_widgets front-end extension installed?")
    root = roots.first
    root.scroll_into_view_if_needed()
    text = root.inner_text()
    assert not any(p in text for p in WIDGET_PROBLEMS), f"{shot_prefix.name}: {text[:300]}"
    sliders = root.locator(".widget-slider .noUi-handle")
    assert sliders.count() >= 1, f"{shot_prefix.name}: the explorer has no slider"

    before = wait_settled(page, root)
    assert before["status"], f"{shot_prefix.name}: the status line is empty"
    assert before["images"], f"{shot_prefix.name}: the widget shows no plot"
    root.screenshot(path=f"{shot_prefix}-before.png")

    t0 = time.monotonic()
    after, tried = before, []
    for i in range(sliders.count()):
        tried.append(f"slider {i}: {move_slider(page, root, i)} x5")
        try:
            page.wait_for_function(
                "([el, imgs, status]) => { const s = [...el.querySelectorAll('.widget-html-content')]"
                ".map(e => e.innerText.trim()).join(' | '); const i = [...el.querySelectorAll('img')].map(x => x.src);"
                " return s !== status && JSON.stringify(i) !== JSON.stringify(imgs); }",
                arg=[root.element_handle(), before["images"], before["status"]], timeout=change_timeout_s * 1000,
                polling=250)
        except PlaywrightTimeout:  # this slider did not act (some act only in another mode): try the next
            continue
        after = wait_settled(page, root)
        break
    timing.setdefault("slider_s", []).append(round(time.monotonic() - t0, 1))
    root.screenshot(path=f"{shot_prefix}-after.png")
    assert widget_changed(before, after), (
        f"{shot_prefix.name}: moving the slider ({tried}) did not change both the numbers and the plot:\n"
        f"before: {before['status']!r} readouts {before['readouts']}\nafter:  {after['status']!r} "
        f"readouts {after['readouts']}; image changed: {after['images'] != before['images']}")
    assert after["readouts"] != before["readouts"], "the slider's readout did not move"
    # the widget still renders after the update (no error view replaced it)
    assert widget_state(root)["images"], f"{shot_prefix.name}: the plot disappeared after the update"
