"""The grading sandbox (bubblewrap): what a graded notebook can see and do, probed from inside a real run.

``make test`` installs bubblewrap first (the Makefile's ``prereqs``); without it these tests fail with
the message that says what to install, like the grader itself.
"""

import os
import time

import nbformat
import psutil
import pytest

from course_lib.grading import grade, runner, sandbox
from course_lib.grading.runner import Limits

REPO = runner._REPO


def _run(*sources, **limits):
    why = sandbox.why_unavailable()
    assert why is None, why
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    run = runner.run_nbval(nb, limits=Limits(cell_timeout=60, notebook_timeout=180, sandbox=True, **limits))
    assert run.status == "ok", run.detail
    return [run.cells[i] for i in range(len(sources))]


def test_a_graded_notebook_sees_no_instructor_file_no_classmate_no_process_no_network(tmp_path):
    classmate = tmp_path / "submissions" / "bob"
    classmate.mkdir(parents=True)
    (classmate / "01_weight_pruning.ipynb").write_text("{}")
    cells = _run(
        "import os, socket\nprint(os.getuid())",
        f"print([os.path.exists(p) for p in ({str(REPO / 'hidden_tests')!r}, {str(REPO / 'notebooks')!r}, "
        f"{str(classmate)!r}, {str(REPO / '.git')!r}, '/sys', '/home')])",
        "print(len([p for p in os.listdir('/proc') if p.isdigit()]) < 10, os.getppid() < 10)",
        "import course_lib as cl\nprint(os.path.exists(os.path.join(os.path.dirname(cl.__file__), 'exercises')))",
        f"try:\n    open({str(REPO / 'course_lib' / 'evil.py')!r}, 'w')\n"
        "except OSError as e:\n    print(type(e).__name__)",
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\nexcept OSError as e:\n    print('no network')",
        "open('/tmp/scratch', 'w').write('x'); print(open('/tmp/scratch').read())",
    )
    assert cells[0].stdout == f"{sandbox.SANDBOX_UID}\n", "an unprivileged uid"
    assert cells[1].stdout == "[False, False, False, False, False, False]\n", cells[1].stdout
    assert cells[2].stdout == "True True\n", "a new pid namespace: the grader's processes are not there"
    assert cells[3].stdout == "True\n", "the course library is importable"
    assert cells[4].stdout == "OSError\n", "and read-only"
    assert cells[5].stdout == "no network\n"
    assert cells[6].stdout == "x\n", "a private writable /tmp"
    assert not (REPO / "course_lib" / "evil.py").exists()


def test_a_daemon_dies_with_the_run():
    marker = f"sleep {4000 + os.getpid() % 1000}"
    _run("import os, sys\n"
         "if os.fork() == 0:\n"
         "    os.setsid()\n"
         "    if os.fork() == 0:\n"
         f"        os.execvp('sleep', {marker.split()!r})\n"
         "    os._exit(0)\n"
         "print('forked')")
    time.sleep(1)
    left = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == marker.split()]
    assert left == [], "a double-forked daemon outlived the sandboxed run"


def test_without_bubblewrap_grading_refuses_and_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BWRAP", str(tmp_path / "no-such-bwrap"))
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.why_unavailable.cache_clear()
    try:
        why = sandbox.why_unavailable()
        assert "apt-get install bubblewrap" in why and "--no-sandbox" in why
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
            grade.grade_class(tmp_path, jobs=1)
        assert grade.main([str(tmp_path), "--out", str(tmp_path / "g.csv"), "--no-hidden"]) == 4
    finally:
        sandbox.why_unavailable.cache_clear()
