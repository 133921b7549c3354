"""The processes of one grading run: their result pipe, their memory, and stopping them all.

:func:`~course_lib.grading.runner.run_nbval` starts pytest (which starts a kernel, which
may start anything); :func:`tree_memory` records every process of that tree as it is
polled and sums their resident memory, :func:`kill_processes` kills every process ever
recorded, and :class:`ResultReader` collects the JSON lines ``_nbval_plugin`` sends.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

__all__ = ["ResultReader", "tree_memory", "tree_count", "folder_bytes", "kill_processes"]


class ResultReader(threading.Thread):
    """Reads JSON lines from the result pipe (at most ``limit`` bytes kept).

    Without a pipe (``fd`` None: Windows) :meth:`read_file` reads the report file once
    the process has ended. Lines that are not JSON are skipped.

    Parameters
    ----------
    fd : int or None
        The read end of the result pipe (closed once read), or None.
    path : Path
        The report file, read when ``fd`` is None.
    limit : int
        Bytes read at most; what comes after is discarded.

    Attributes
    ----------
    events : list of dict
        The events read so far, in order.
    """

    def __init__(self, fd: int | None, path: Path, limit: int = 8 * 2**20):
        super().__init__(daemon=True)
        self.fd, self.path, self.limit, self.events, self._size = fd, path, limit, [], 0

    def run(self):
        """Read the pipe until its write end is closed (the thread's body; nothing without a pipe)."""
        if self.fd is None:
            return
        self._read(os.fdopen(self.fd, "r", encoding="utf-8", errors="replace"))

    def read_file(self):
        """Read the report file, when there is no pipe and the file exists."""
        if self.fd is None and self.path.exists():
            self._read(open(self.path, encoding="utf-8", errors="replace"))

    def _read(self, stream):
        with stream as pipe:
            for line in pipe:
                self._size += len(line)
                if self._size > self.limit:
                    continue
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    pass


def tree_count(proc) -> int:
    """Processes and threads of ``proc``'s tree now (a fork bomb shows here before it shows in memory).

    Parameters
    ----------
    proc : subprocess.Popen
        The root of the tree.

    Returns
    -------
    int
        The sum of the thread counts of the tree's processes (a process counts at least 1).
    """
    import psutil

    try:
        root = psutil.Process(proc.pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += max(1, p.num_threads())
        except psutil.Error:
            total += 1
    return total


# every file and folder counts at least one block: a flood of empty files costs too
_BLOCK = 4096
_MAX_ENTRIES = 200_000


def folder_bytes(folders) -> int:
    """What ``folders`` hold on disk, in bytes, walked without recursion or links.

    Parameters
    ----------
    folders : iterable of path
        The run's writable folders.

    Returns
    -------
    int
        The sizes of their files (each entry at least one 4 KiB block); past 200,000 entries the walk stops
        and counts every further entry as unbounded (returns a value larger than any limit).
    """
    total, entries, stack = 0, 0, [os.fspath(f) for f in folders]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    entries += 1
                    if entries > _MAX_ENTRIES:
                        return 2**62
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                            total += _BLOCK
                        else:
                            total += max(_BLOCK, e.stat(follow_symlinks=False).st_size)
                    except OSError:
                        continue
        except OSError:
            continue
    return total


def tree_memory(proc, seen: dict) -> int:
    """Record every process of ``proc``'s tree in ``seen``; return their total resident memory.

    Parameters
    ----------
    proc : subprocess.Popen
        The root of the tree.
    seen : dict of int -> psutil.Process
        Every process seen so far, by pid; updated in place (a process that has left
        the tree, e.g. by daemonizing, stays in it).

    Returns
    -------
    int
        The resident memory of the tree's processes now, in bytes.
    """
    import psutil

    try:
        root = psutil.Process(proc.pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        procs = []
    total = 0
    for p in procs:
        seen.setdefault(p.pid, p)
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def kill_processes(seen: dict) -> None:
    """Kill every process of ``seen`` that is still running; errors are ignored.

    Parameters
    ----------
    seen : dict of int -> psutil.Process
        As filled by :func:`tree_memory`.
    """
    import psutil

    for p in seen.values():
        try:
            if p.is_running():
                p.kill()
        except psutil.Error:
            pass
