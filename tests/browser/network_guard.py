"""A ``sitecustomize`` that cuts Python processes off the network, for the offline tests.

:func:`write_guard` writes it into a folder; every Python process started with that folder on
``PYTHONPATH`` (a kernel, a Jupyter server, anything they start) then refuses to connect, resolve
or send anywhere but this machine, and appends each attempt, with a stack, to the file named by
``COURSE_NETWORK_LOG``. Local connections (the kernel protocol, JupyterLab's own page) still work.
"""

from __future__ import annotations

from pathlib import Path

GUARD_SOURCE = r'''
# Written by the course's tests (tests/browser/network_guard.py): no network for this process.
import os as _os
import socket as _socket
import traceback as _traceback

_LOG = _os.environ.get("COURSE_NETWORK_LOG")
BLOCKED = "network access blocked by the course's offline test"


def _is_local(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    return (host in {"", "localhost", "::1", "0.0.0.0", "::", "ip6-localhost"} or host.startswith("127.")
            or host.startswith("::ffff:127."))


def _refuse(what):
    if _LOG:
        with open(_LOG, "a") as f:
            f.write(f"pid {_os.getpid()}: {what}\n{''.join(_traceback.format_stack(limit=12))}\n")
    raise OSError(f"{BLOCKED}: {what}")


def _inet(sock):
    return sock.family in (_socket.AF_INET, _socket.AF_INET6)


_connect, _connect_ex, _sendto = _socket.socket.connect, _socket.socket.connect_ex, _socket.socket.sendto


def connect(self, address):
    if _inet(self) and not _is_local(address[0]):
        _refuse(f"connect to {address!r}")
    return _connect(self, address)


def connect_ex(self, address):
    if _inet(self) and not _is_local(address[0]):
        _refuse(f"connect to {address!r}")
    return _connect_ex(self, address)


def sendto(self, data, *args):
    address = args[-1]
    if _inet(self) and not _is_local(address[0]):
        _refuse(f"sendto {address!r}")
    return _sendto(self, data, *args)


_getaddrinfo, _gethostbyname, _gethostbyname_ex = _socket.getaddrinfo, _socket.gethostbyname, _socket.gethostbyname_ex


def getaddrinfo(host, *args, **kwargs):
    if host is not None and not _is_local(host):
        _refuse(f"name lookup of {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


def gethostbyname(host):
    if not _is_local(host):
        _refuse(f"name lookup of {host!r}")
    return _gethostbyname(host)


def gethostbyname_ex(host):
    if not _is_local(host):
        _refuse(f"name lookup of {host!r}")
    return _gethostbyname_ex(host)


_socket.socket.connect, _socket.socket.connect_ex, _socket.socket.sendto = connect, connect_ex, sendto
_socket.getaddrinfo, _socket.gethostbyname, _socket.gethostbyname_ex = getaddrinfo, gethostbyname, gethostbyname_ex
_os.environ.setdefault("COURSE_NETWORK_GUARD", "1")
'''


def write_guard(folder: Path) -> Path:
    """Write ``sitecustomize.py`` into ``folder``; put ``folder`` on PYTHONPATH to use it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(GUARD_SOURCE)
    return folder


def guarded_env(env: dict, folder: Path, log: Path) -> dict:
    """``env`` with the guard first on PYTHONPATH and attempts logged to ``log``."""
    write_guard(folder)
    out = dict(env)
    out["PYTHONPATH"] = str(folder) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    out["COURSE_NETWORK_LOG"] = str(log)
    return out


def attempts(log: Path) -> str:
    return log.read_text() if log.exists() else ""
