"""The browser tests leave nothing behind: no server, no kernel, no browser, no port, no files.

Two ways a run can end badly are reproduced here: a test that raises while JupyterLab, a kernel and
Chromium are all up, and a test process killed outright (SIGKILL, no finalizer runs).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from browser_helpers import Browser, LabServer, marked_processes


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _wait_gone(run_id: str, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while (left := marked_processes(run_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def test_everything_stops_when_a_test_fails(chromium):
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    server = LabServer()
    browser = None
    with pytest.raises(RuntimeError, match="a failing test"):
        with server:
            kernel = server.api("POST", "/api/kernels", {"name": "python3"})
            with Browser(chromium, allowed_origin=server.url) as browser:
                page = browser.new_page()
                page.goto(f"{server.url}/lab?token={server.token}")
                page.wait_for_selector(".jp-LabShell", timeout=120_000)
                names = " ".join(" ".join(p.cmdline()) for p in marked_processes(server.run_id))
                assert "jupyter-lab" in names or "jupyter lab" in names, names
                assert "ipykernel" in names, names
                assert kernel["id"]
                chrome = " ".join(" ".join(p.cmdline()) for p in marked_processes(browser.run_id))
                assert "chrom" in chrome.lower(), chrome
                raise RuntimeError("a failing test")
    assert _wait_gone(server.run_id) == [], "server or kernel processes survived"
    assert _wait_gone(browser.run_id) == [], "browser processes survived"
    assert _port_closed(server.port), f"port {server.port} still answers"
    assert not server.tmp.exists(), "the temporary notebook copy was not removed"
    assert not browser.profile.exists(), "the browser profile was not removed"
    new = [p for p in psutil.Process().children(recursive=True) if p.pid not in children_before]
    # the Playwright driver is shared by this process's browsers and stops at the end of the session
    alive = [p for p in new if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
             and "run-driver" not in " ".join(p.cmdline())]
    assert not alive, f"child processes left: {[' '.join(p.cmdline())[:100] for p in alive]}"


def test_server_and_kernels_stop_when_the_test_process_is_killed(tmp_path):
    """SIGKILL leaves no finalizer to run: the server gets SIGTERM from the kernel (parent-death
    signal) and shuts its kernels down."""
    if sys.platform != "linux":
        pytest.skip("parent-death signals are Linux only")
    info = tmp_path / "server.json"
    script = textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from browser_helpers import LabServer
        server = LabServer().start()
        server.api("POST", "/api/kernels", {{"name": "python3"}})
        open({str(info)!r}, "w").write(json.dumps({{"run_id": server.run_id, "port": server.port,
                                                      "tmp": str(server.tmp)}}))
        time.sleep(600)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 120
        while not info.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.25)
        assert info.exists(), "the helper process did not start a server"
        started = json.loads(info.read_text())
        time.sleep(1)
        assert any("ipykernel" in " ".join(p.cmdline()) for p in marked_processes(started["run_id"]))
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        left = _wait_gone(started["run_id"], timeout=45)
        assert not left, f"survived their test process: {[' '.join(p.cmdline())[:100] for p in left]}"
        assert _port_closed(started["port"])
    finally:
        if child.poll() is None:
            child.kill()
        if info.exists():
            from browser_helpers import kill_marked

            started = json.loads(info.read_text())
            kill_marked(started["run_id"])
            shutil.rmtree(started["tmp"], ignore_errors=True)  # no finalizer ran for it
