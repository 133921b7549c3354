"""The sandbox every graded run executes in: bubblewrap (``bwrap``), Linux namespaces.

A graded notebook is the student's code. Run plainly, it could read the instructor's
solutions and hidden tests by absolute path, see and signal the grader's processes,
leave a daemon behind, use the network, or edit the course library for the students
graded after it. Inside :func:`sandbox_command`'s sandbox it runs

* in new **user, pid, network, IPC, UTS and mount namespaces**, as an unprivileged uid
  (65534, "nobody"); ``--die-with-parent``: every process of the run -- daemons
  included -- dies with it; ``--new-session``: no terminal to inject keystrokes into;
* with **only these mounts**: the system's programs and libraries (``/usr``, ``/lib*``,
  ``/bin``, a handful of ``/etc`` files), the Python environment and the course
  library's source (``course_lib/``, no notebooks, no ``hidden_tests/``), the data
  folder and the run's case inputs -- all **read-only** -- and, writable, the run's own
  folder (the notebook, a private home), its results folder (where ``cl.check``
  records the answers) and a private ``/tmp`` of a fixed size (``tmp_mb``). Not the instructor's repository, not the
  submissions, not the grader's output, no ``/sys``;
* with the grader's limits on time, memory and file size unchanged (they are applied
  outside, by :mod:`~course_lib.grading.runner`).

The student's own ``self_check`` uses the same sandbox where bubblewrap works, so a
cell cannot tell the self-check from the grade by its environment. Debian/Ubuntu:
``sudo apt-get install bubblewrap``; it needs unprivileged user namespaces (the
default on current kernels), or root.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["SANDBOX_UID", "SandboxUnavailable", "bwrap", "sandbox_available", "sandbox_command", "why_unavailable"]

SANDBOX_UID = 65534
_REPO = Path(__file__).resolve().parents[2]
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
        "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/fonts", "/etc/mime.types")
_INSTALL = ("Install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
            "bubblewrap`) on a Linux machine whose kernel allows unprivileged user namespaces, or grade inside a "
            "Linux container that has it, e.g. `docker run --rm -it -v $PWD:/course ...`. To grade without a "
            "sandbox anyway (the gradebook records it), pass --no-sandbox.")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here; the message says what to do."""


def bwrap() -> str | None:
    """The ``bwrap`` executable on ``PATH`` (or ``$COURSE_BWRAP``), or None."""
    return os.environ.get("COURSE_BWRAP") or shutil.which("bwrap")


@functools.lru_cache(maxsize=1)
def why_unavailable() -> str | None:
    """None when a sandbox can be made here, else why not and what to do (one probe, cached)."""
    if not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux (this is {sys.platform}). {_INSTALL}"
    exe = bwrap()
    if exe is None:
        return f"bubblewrap (bwrap) is not installed. {_INSTALL}"
    try:
        probe = subprocess.run(sandbox_command(["true"], writable=(), readable=()), capture_output=True,
                               timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({exc}). {_INSTALL}"
    if probe.returncode != 0:
        detail = probe.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit {probe.returncode}"]
        return f"bubblewrap cannot create its namespaces here ({detail[-1]}). {_INSTALL}"
    return None


def sandbox_available() -> bool:
    """Whether :func:`sandbox_command` works on this machine."""
    return why_unavailable() is None


def _python_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
    return sorted(r for r in roots if r and r != "/" and not any(r.startswith(s + "/") for s in _SYSTEM))


def sandbox_command(cmd: list[str], *, writable=(), readable=(), tmp_mb: int = 512) -> list[str]:
    """``cmd`` wrapped in bubblewrap with the course's mounts (see the module's docstring).

    Parameters
    ----------
    cmd : list of str
        The program and its arguments, run inside with ``/`` as working directory.
    writable : sequence of path, keyword-only
        Folders bound read-write at the same path (the run's folder).
    readable : sequence of path, keyword-only
        More folders bound read-only at the same path (the data folder).
    tmp_mb : int, keyword-only
        The size of the private ``/tmp`` (RAM-backed: a write past it fails with "No space left on device"
        instead of holding the machine's memory).

    Returns
    -------
    list of str
        The command line to run instead of ``cmd``.
    """
    args = [bwrap() or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
    # /tmp's tmpfs first: what is bound below stays visible even when it lives under /tmp
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(int(tmp_mb) * 2**20), "--tmpfs", "/tmp"]
    for path in _SYSTEM + _ETC:
        args += ["--ro-bind-try", path, path]
    for path in [*_python_roots(), str(_REPO / "course_lib"), *map(str, readable)]:
        args += ["--ro-bind", path, path]
    for path in map(str, writable):
        args += ["--bind", path, path]
    return [*args, "--chdir", "/", "--", *cmd]
