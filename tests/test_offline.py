"""Offline first: once the data is present, nothing in the course touches the network.

A ``sitecustomize`` guard (``tests/browser/network_guard.py``) is put on the kernel's PYTHONPATH:
every connection, name lookup or datagram beyond this machine raises and is recorded. Then

* the guard itself is shown to work (a download attempt in a guarded Python fails and is logged);
* the library's data and model paths (``setup``, the loaders, the checkpoints, ``--check``) run
  in a guarded Python;
* notebook 00 (data, all three models, the widget) runs top to bottom in a guarded kernel (nbclient;
  the kernel protocol stays on localhost).

The browser tests (tests/browser) run every notebook with the same guard on JupyterLab's kernels,
so the whole course is covered there; this module is the quick, browser-free check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
from network_guard import attempts, guarded_env  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def guard(tmp_path):
    log = tmp_path / "network-attempts.log"
    env = guarded_env(dict(os.environ), tmp_path / "guard", log)
    env.pop("COURSE_FULL", None)
    return env, log


def _python(code: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_the_guard_blocks_and_records_network_access(guard):
    env, log = guard
    code = (
        "import socket, urllib.request\n"
        "for attempt in (lambda: urllib.request.urlopen('http://example.com', timeout=5),\n"
        "                lambda: socket.create_connection(('203.0.113.7', 443), timeout=5),\n"
        "                lambda: socket.getaddrinfo('pypi.org', 443)):\n"
        "    try:\n"
        "        attempt()\n"
        "    except OSError as exc:\n"
        "        assert 'blocked by the course' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit('network access was not blocked')\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); c = socket.create_connection(s.getsockname())\n"
        "c.close(); s.close(); print('local ok')\n")
    result = _python(code, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "local ok" in result.stdout
    logged = attempts(log)
    assert "example.com" in logged and "203.0.113.7" in logged and "pypi.org" in logged


def test_library_data_and_models_work_offline(guard, mnist_available, cifar_available):
    env, log = guard
    code = (
        "import course_lib as cl\n"
        "cfg = cl.setup(quiet=True)\n"
        "mnist, cifar = cl.load_mnist('test'), cl.load_cifar10('test', limit=500)\n"
        "for name in cl.MODELS:\n"
        "    cl.load_pretrained(name)\n"
        "from course_lib import data\n"
        "data.download('mnist'); data.download('cifar10')   # present: must not connect\n"
        "print('offline ok', len(mnist.labels), len(cifar.labels))\n")
    result = _python(code, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "offline ok 10000 500" in result.stdout
    check = subprocess.run([sys.executable, "-m", "course_lib.data", "--check"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert attempts(log) == "", f"the course tried to use the network:\n{attempts(log)}"


def test_notebook_00_runs_offline(guard, tmp_path, monkeypatch, mnist_available, cifar_available):
    from nbclient import NotebookClient

    env, log = guard
    for name in ("PYTHONPATH", "COURSE_NETWORK_LOG"):
        monkeypatch.setenv(name, env[name])  # the kernel inherits them
    monkeypatch.delenv("COURSE_FULL", raising=False)
    nb = nbformat.read(ROOT / "notebooks" / "00_introduction.ipynb", as_version=4)
    probe = nbformat.v4.new_code_cell(
        "import socket\nprint('guard active:', socket.socket.connect.__module__ == 'sitecustomize')")
    nb.cells.insert(0, probe)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert "guard active: True" in "".join(o.get("text", "") for o in nb.cells[0].outputs)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert attempts(log) == "", f"notebook 00 tried to use the network:\n{attempts(log)}"
