"""pytest plugin loaded into the grading subprocess (``-p course_lib.grading._nbval_plugin``).

It runs in the pytest process that drives nbval, never in the grader, and does four
things before any submitted code runs:

* applies the resource limits the grader asked for (``COURSE_GRADE_RLIMITS``); the
  kernel that nbval starts inherits them;
* takes the file descriptor of the result pipe (``COURSE_GRADE_REPORT=fd:N``), makes it
  non-inheritable (the kernel never gets it) and removes both variables from the
  environment the kernel will inherit (on Windows, ``file:PATH``: a file outside the
  kernel's working directory); on Linux it makes the pytest process non-dumpable, so
  the kernel cannot reach the pipe through ``/proc/<pid>/fd`` either;
* after collection, deletes the graded notebook from the kernel's working directory
  (nbval has read it; the submission then finds no reference outputs or hidden tests
  on disk);
* reports each cell's outcome, and its outputs cut to a readable size, as one JSON
  line on the pipe as soon as the cell finishes, so a run killed for time or memory
  still reports every cell that ran;
* seals each exercise's records the moment its check cell passes: the report of that cell
  carries the sha256 of every record file of the exercise. The grader scores only records
  that a passed check cell sealed and that are unchanged since (a record written by the
  student's own code with a failed check, or replaced afterwards, scores nothing).

It also makes nbval's comparison ignore ``stderr`` (warnings) and keeps its diff of a
gigantic output short.
"""

from __future__ import annotations

import sys

# nbformat validates with jsonschema, which imports ``rfc3987_syntax`` when it is installed: building that
# grammar costs ~1.6 s of every graded run, for IRI formats that no notebook schema uses. This plugin is
# loaded before nbval (``-p`` order), so the import is refused before nbformat is imported.
sys.modules.setdefault("rfc3987_syntax", None)

import ctypes  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import pytest  # noqa: E402

try:
    import resource  # noqa: E402
except ImportError:  # Windows: no resource limits (the grader's time and memory watchdog still applies)
    resource = None

_MAX_TEXT = 4000
_MAX_SEALED = 4096  # record files sealed per check cell, at most
_META_KEY = "course"  # course_lib.grading.notebooks.META_KEY (not imported: this process stays light)
_channel = None
_exchange = None


def _short(text: str, limit: int = _MAX_TEXT) -> str:
    """``text`` if short, else its beginning and its end (a check's verdict is at the end)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - 2 * half} characters cut] ...\n{text[-half:]}"


def _apply_limits(spec: str) -> None:
    if resource is None:
        return
    names = {"as": "RLIMIT_AS", "cpu": "RLIMIT_CPU", "fsize": "RLIMIT_FSIZE", "core": "RLIMIT_CORE"}
    for item in filter(None, spec.split(",")):
        key, value = item.split("=")
        which, limit = getattr(resource, names[key], None), int(value)
        if which is None:
            continue
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        try:
            resource.setrlimit(which, (limit, hard))
        except (ValueError, OSError):  # e.g. RLIMIT_AS on macOS
            pass


def _not_dumpable() -> None:
    """Linux: make this process non-dumpable, so that the kernel (same uid) cannot open its
    ``/proc/<pid>/fd/*`` -- the result pipe -- or attach to it (``prctl(PR_SET_DUMPABLE, 0)``)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _patch_nbval() -> None:
    from nbval.plugin import IPyNbCell

    compare, format_compare = IPyNbCell.compare_outputs, IPyNbCell.format_output_compare

    def compare_outputs(self, test, ref, skip_compare=None):
        test = [o for o in test if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        return compare(self, test, ref, skip_compare)

    def format_output_compare(self, key, left, right):
        cut = [_short(v, 500) if isinstance(v, str) else v for v in (left, right)]
        return format_compare(self, key, *cut)

    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell.format_output_compare = format_output_compare


def _send(**event) -> None:
    if _channel is not None:
        try:
            _channel.write(json.dumps(event, sort_keys=True) + "\n")
            _channel.flush()
        except OSError:
            pass


def pytest_configure(config):
    """Apply the resource limits, open the result channel and patch nbval's comparison.

    Parameters
    ----------
    config : pytest.Config
        pytest's configuration (unused).
    """
    global _channel, _exchange
    _apply_limits(os.environ.pop("COURSE_GRADE_RLIMITS", ""))
    _exchange = os.environ.get("COURSE_EXCHANGE")  # the kernel needs it too: read, not removed
    _not_dumpable()
    target = os.environ.pop("COURSE_GRADE_REPORT", "")
    if target.startswith("fd:") and _channel is None:
        os.set_inheritable(int(target[3:]), False)
        _channel = os.fdopen(int(target[3:]), "w", encoding="utf-8")
    elif target.startswith("file:") and _channel is None:  # where there are no pipes to pass (Windows)
        _channel = open(target[5:], "w", encoding="utf-8")  # open for the whole session
    _patch_nbval()


def pytest_collection_finish(session):
    """Delete the collected notebook from the kernel's working directory and report the cell count.

    Parameters
    ----------
    session : pytest.Session
        The session; its items are the notebook's cells.
    """
    for item in session.items:
        try:
            item.path.unlink(missing_ok=True)
        except OSError:
            pass
    _send(event="collected", cells=len(session.items))


def _outputs(item) -> dict:
    stdout, stderr, errors, other = [], [], [], []
    for out in getattr(item, "test_outputs", None) or []:
        kind = out.get("output_type")
        if kind == "stream":
            (stdout if out.get("name") == "stdout" else stderr).append(str(out.get("text", "")))
        elif kind == "error":
            errors.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
        elif kind in ("display_data", "execute_result"):
            other.append(str(out.get("data", {}).get("text/plain", "")))
    return {"stdout": _short("".join(stdout)), "stderr": _short("".join(stderr)),
            "error": _short("\n".join(errors)), "display": _short("\n".join(other))}


def _seal(exercise_id) -> dict:
    """sha256 of each regular file of the exercise's records, as the check cell left them."""
    import hashlib

    if not _exchange or not isinstance(exercise_id, str) or "/" in exercise_id or exercise_id.startswith("."):
        return {}
    sealed = {}
    try:
        entries = sorted(os.scandir(os.path.join(_exchange, "results", exercise_id)), key=lambda e: e.name)
    except OSError:
        return {}
    for e in entries[:_MAX_SEALED]:
        try:
            if e.is_file(follow_symlinks=False):
                digest = hashlib.sha256()
                with open(e.path, "rb") as f:
                    for block in iter(lambda: f.read(2**20), b""):
                        digest.update(block)
                sealed[e.name] = digest.hexdigest()
        except OSError:
            continue
    return sealed


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the cell's number and outputs to the report of its call (or of a failed setup).

    Parameters
    ----------
    item : nbval.plugin.IPyNbCell
        The cell.
    call : pytest.CallInfo
        The phase that ran.

    Returns
    -------
    pytest.TestReport
        pytest's report, with ``course_cell`` set when it is the one to send.
    """
    report = yield
    if call.when == "call" or (call.when == "setup" and report.outcome != "passed"):
        report.course_cell = {"cell": getattr(item, "cell_num", -1), **_outputs(item)}
        cell = getattr(item, "cell", None)
        meta = cell.get("metadata", {}).get(_META_KEY) if isinstance(cell, dict) else None
        checked = isinstance(meta, dict) and meta.get("role") == "check"
        if call.when == "call" and report.outcome == "passed" and checked:
            report.course_cell["sealed"] = {"exercise": meta.get("exercise"), "files": _seal(meta.get("exercise"))}
    return report


def pytest_runtest_logreport(report):
    """Send one ``cell`` event on the result channel for each report that has a ``course_cell``.

    Parameters
    ----------
    report : pytest.TestReport
        A report, as :func:`pytest_runtest_makereport` returned it.
    """
    info = getattr(report, "course_cell", None)
    if info is None:
        return
    message = ""
    if report.longrepr is not None:
        text = str(report.longrepr)
        message = next((line.strip() for line in text.splitlines()
                        if line.strip() and "Notebook cell execution failed" not in line), "")
    _send(event="cell", outcome=report.outcome, xfail=hasattr(report, "wasxfail"), when=report.when,
          message=_short(message, 500), **info)


def pytest_sessionfinish(session, exitstatus):
    """Send the ``finished`` event: a run without it stopped early.

    Parameters
    ----------
    session : pytest.Session
        The session (unused).
    exitstatus : int
        pytest's exit status.
    """
    _send(event="finished", exitstatus=int(exitstatus))
