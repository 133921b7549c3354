"""Caps on what one cell of a graded run may display or print, installed in the graded kernel.

A cell that calls ``display()`` twenty thousand times, or prints gigabytes, must not stop the kernel and
lose the exercises after it: past :data:`MAX_DISPLAYS` displays or :data:`MAX_STREAM_CHARS` characters of
printed text in one cell, the rest is dropped, with one line that says so. The graded notebook's first
cell calls :func:`install` (:func:`course_lib.grading.graded.build_graded_notebook`); the counts start
again at every cell. A student's code can undo the caps -- and then only floods its own run.
"""

from __future__ import annotations

import sys

__all__ = ["MAX_DISPLAYS", "MAX_STREAM_CHARS", "install", "INSTALL_LINE"]

MAX_DISPLAYS = 200
MAX_STREAM_CHARS = 1_000_000
#: the line the graded notebook's first cell starts with
INSTALL_LINE = "from course_lib.grading._kernel_caps import install as _course_caps; _course_caps(); del _course_caps"


def install(shell=None) -> None:
    """Cap the displays and the printed text of every cell of this kernel (see the module's docstring).

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell, optional
        The kernel's shell (default: the running one; nothing happens outside IPython).
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - a graded run always has IPython
            return
        shell = get_ipython()
    if shell is None or getattr(shell, "_course_caps", False):
        return
    shell._course_caps = True
    state = {"displays": 0, "chars": 0, "noted": set()}

    def reset(*_args):
        state.update(displays=0, chars=0, noted=set())

    def note(kind: str, write) -> None:
        if kind not in state["noted"]:
            state["noted"].add(kind)
            write(f"\n[grader: this cell's further {kind} were dropped]\n")

    shell.events.register("pre_run_cell", reset)
    publish = shell.display_pub.publish

    def capped_publish(*args, **kwargs):
        state["displays"] += 1
        if state["displays"] > MAX_DISPLAYS:
            note(f"displays (more than {MAX_DISPLAYS})", sys.stdout.write)
            return None
        return publish(*args, **kwargs)

    shell.display_pub.publish = capped_publish
    for stream in (sys.stdout, sys.stderr):
        write = stream.write

        def capped_write(text, _write=write):
            text = str(text)
            left = MAX_STREAM_CHARS - state["chars"]
            state["chars"] += len(text)
            if left <= 0:
                return len(text)
            if len(text) > left:
                _write(text[:left])
                note(f"output (more than {MAX_STREAM_CHARS:,} characters)", _write)
                return len(text)
            return _write(text)

        try:
            stream.write = capped_write
        except (AttributeError, TypeError):  # a stream that cannot be patched keeps its own behaviour
            pass
