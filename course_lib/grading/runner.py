"""Run one graded notebook through nbval, in a subprocess, with limits.

The **graded notebook** is the instructor notebook with each exercise's solution
cells replaced by the student's source; every other cell (setup, demos, *check
cells*) is the instructor's, so a student cannot edit a check. It holds no stored
output at all: the student's outputs are never read, and nbval compares nothing --
it only executes the cells, one at a time, with time limits.

The verdicts are not computed in the kernel. :func:`run_nbval` writes each case's
*inputs* (hidden cases included, as plain data: :mod:`course_lib.exercises.records`)
to the run's exchange folder and sets ``$COURSE_EXCHANGE``; each check cell's
``cl.check`` then only calls the answer on them and records what it returned. The
records come back as bytes (:attr:`RunResult.answers`), and the grader compares them
with the expected values it computes itself (:mod:`~course_lib.grading.scoring`). The
hidden test source never enters the kernel.

:func:`run_nbval` writes the graded notebook to a fresh, empty temporary folder and
runs ``python -m pytest --nbval-lax`` there in a new session, with

* per-cell time limit (nbval's ``--nbval-cell-timeout``: the kernel is interrupted and
  the cell fails; later cells still run),
* per-notebook wall-clock limit (the whole process tree is killed),
* memory limit: the resident memory of the process tree (polled) and, per process, an
  address-space limit (``RLIMIT_AS``) above it for sudden huge allocations; plus
  ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` and no core files.

Results come back over a pipe that the kernel does not inherit, one JSON line per cell
(see ``_nbval_plugin``), so files a submission writes or deletes cannot change them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import sandbox
from .exchange import collect_answers, sealed_answers, write_cases
from .graded import build_graded_notebook  # noqa: F401  (runner.build_graded_notebook, for callers)
from .processes import ResultReader, folder_bytes, kill_processes, tree_count, tree_memory

__all__ = ["Limits", "CellResult", "RunResult", "build_graded_notebook", "run_nbval", "recorded_line"]


# Set to stop every run at once (the grader was interrupted): their process trees are killed.
CANCEL = threading.Event()
_REPO = Path(__file__).resolve().parents[2]
# Results come back over a pipe the kernel does not inherit; Windows has no pass_fds: a file.
USE_PIPE = os.name == "posix"
# RLIMIT_AS counts address space, not memory: a kernel that imported torch reserves
# about 4.5 GB of it while using about 1 GB, hence the headroom.
ADDRESS_SPACE_HEADROOM_MB = 6144


@dataclass(frozen=True)
class Limits:
    """Time and memory limits of one notebook run.

    Parameters
    ----------
    cell_timeout, notebook_timeout : float
        Seconds per cell (the kernel is interrupted) and per run (the process tree is killed).
    memory_mb, max_file_mb : int
        Resident memory of the run's process tree, and largest file it may write, in MB.
    disk_mb : int
        What the run may write in all, in MB: its folder and its results on disk (measured by the watchdog),
        and the size of its private ``/tmp`` in the sandbox (RAM-backed: half of this, at most 1024).
    max_processes : int
        Processes (and threads) the run's tree may hold at once; more stops the run.
    skip_demos : bool
        Run only the cells the verdicts need (:func:`~course_lib.grading.graded.needed_cells`), not the
        demonstrations (False: every cell, ``--all-cells``).
    sandbox : bool or None
        Run inside the bubblewrap sandbox (:mod:`~course_lib.grading.sandbox`): True (a run
        where it cannot be made fails), False (never), None (where it works: the self-check).
    """

    cell_timeout: float = 300.0
    notebook_timeout: float = 1200.0
    memory_mb: int = 4096
    max_file_mb: int = 1024
    sandbox: bool | None = None
    disk_mb: int = 2048
    max_processes: int = 512
    skip_demos: bool = True

    @property
    def tmp_mb(self) -> int:
        """The size of the sandbox's RAM-backed ``/tmp``, in MB."""
        return max(16, min(self.disk_mb // 2, 1024))

    def rlimits(self) -> str:
        """The resource limits as ``COURSE_GRADE_RLIMITS`` passes them to the nbval process.

        Returns
        -------
        str
            ``"as=<bytes>,cpu=<seconds>,fsize=<bytes>,core=0"``.
        """
        cpu = int(self.notebook_timeout) + 60
        address = (self.memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 2**20
        return f"as={address},cpu={cpu},fsize={self.max_file_mb * 2**20},core=0"


@dataclass
class CellResult:
    """What nbval reported for one code cell.

    Parameters
    ----------
    cell : int
        The cell's number, counting code cells only, from 0.
    outcome : str
        pytest's outcome: ``"passed"``, ``"failed"``, ``"skipped"``.
    xfail : bool
        nbval marked the cell as expected to fail (an earlier cell timed out).
    message : str
        The first line of pytest's report of a failure.
    stdout, stderr, error, display : str
        The cell's outputs (cut to a readable size): streams, errors, displayed values.
    """

    cell: int
    outcome: str
    xfail: bool = False
    message: str = ""
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    display: str = ""

    @property
    def passed(self) -> bool:
        """Whether the cell ran and its output matched the reference."""
        return self.outcome == "passed"


@dataclass
class RunResult:
    """The cells of one run, and how the run ended.

    Parameters
    ----------
    cells : dict of int -> CellResult
        The cells that reported, by code-cell number.
    status : str
        ``"ok"``, ``"timeout"``, ``"memory"``, ``"disk"``, ``"processes"``, ``"cancelled"`` or ``"crashed"``.
    detail, seconds : str, float
        Why the run stopped (for the feedback), and how long it took.
    answers : dict of str -> bytes
        The records the check cells wrote, ``"<exercise id>/<case>.json"`` (and ``.npy``) -> bytes;
        only names of that form, regular files, :data:`MAX_ANSWER_BYTES` in all.
    """

    cells: dict[int, CellResult] = field(default_factory=dict)
    status: str = "ok"
    detail: str = ""
    seconds: float = 0.0
    answers: dict[str, bytes] = field(default_factory=dict)


def recorded_line(exercise_id: str, n: int) -> str:
    """The line a check cell prints in a graded run, from :class:`course_lib.exercises.CheckResult` itself.

    Parameters
    ----------
    exercise_id : str
        The exercise.
    n : int
        Its number of cases.

    Returns
    -------
    str
        ``"[<id>] answers recorded: n cases."``.
    """
    from ..exercises import CheckResult

    return CheckResult(exercise_id, 0, n, [], recorded=True).line


def run_nbval(nb: nbformat.NotebookNode, *, limits: Limits | None = None, data_dir=None,
              case_files: dict[str, bytes] | None = None) -> RunResult:
    """Execute ``nb`` with nbval in a separate process and return each code cell's result.

    Never raises because of the notebook's content; a run that exceeds its time or
    memory limit is killed with every process it started, and returns what it
    reported before (``status`` says why it stopped).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The graded notebook (see :func:`build_graded_notebook`).
    limits : Limits, optional, keyword-only
        Time and memory limits (default: ``Limits()``).
    data_dir : str or path, optional, keyword-only
        The data folder the kernel reads (default: ``$COURSE_DATA_DIR``, else ``data/``).
    case_files : dict of str -> bytes, optional, keyword-only
        The case inputs as files (:meth:`Course.input_files`), given to the kernel as plain data;
        its check cells record what the answers return into :attr:`RunResult.answers`.

    Returns
    -------
    RunResult
        One :class:`CellResult` per code cell that reported, how the run ended, the answers recorded.
    """
    limits = limits or Limits()
    root = Path(tempfile.mkdtemp(prefix="course-grade-"))
    work, home = root / "work", root / "home"
    work.mkdir()
    home.mkdir()
    # The exchange lives apart from the run's folder (a notebook that wipes `..` keeps its inputs and
    # answers); in the sandbox its inputs are read-only.
    exchange = Path(tempfile.mkdtemp(prefix="course-exchange-"))
    (exchange / "results").mkdir()
    write_cases(exchange / "cases", case_files or {})
    nb_path = work / "submission.ipynb"
    try:
        nbformat.write(nb, nb_path)
    except (UnicodeError, ValueError, OSError) as exc:  # never leave the cases' inputs behind in a temp folder
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(exchange, ignore_errors=True)
        return RunResult(status="crashed", detail=f"the notebook could not be written: {type(exc).__name__}")
    ini = root / "pytest.ini"
    ini.write_text("[pytest]\n")
    use_pipe = USE_PIPE
    report = root / "report.jsonl"
    read_fd, write_fd = os.pipe() if use_pipe else (-1, -1)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
        "PYTHONPATH": str(_REPO), "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "JUPYTER_PLATFORM_DIRS": "1", "MPLBACKEND": "agg",
        "MPLCONFIGDIR": str(home / "matplotlib"), "IPYTHONDIR": str(home / "ipython"),
        # parallel runs share the cores: idle OpenMP threads sleep instead of spinning
        "OMP_WAIT_POLICY": "PASSIVE",
        "COURSE_GRADE_REPORT": f"fd:{write_fd}" if use_pipe else f"file:{report}",
        "COURSE_GRADE_RLIMITS": limits.rlimits(),
        "COURSE_EXCHANGE": str(exchange),
    }
    for name in ("COURSE_DATA_DIR", "COURSE_FULL", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    if data_dir is not None:
        env["COURSE_DATA_DIR"] = str(Path(data_dir).resolve())
    cmd = [sys.executable, "-m", "pytest", str(nb_path), "-c", str(ini), "--rootdir", str(work),
           "-p", "course_lib.grading._nbval_plugin", "-p", "nbval", "-p", "no:cacheprovider",
           "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={limits.cell_timeout:g}",
           "--nbval-kernel-startup-timeout=120", "-q", "--tb=no", "--color=no"]
    if limits.sandbox or (limits.sandbox is None and sandbox.sandbox_available()):
        if sandbox.why_unavailable():
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(exchange, ignore_errors=True)
            return RunResult(status="crashed", detail=sandbox.why_unavailable())
        env["TMPDIR"] = "/tmp"
        env.setdefault("COURSE_DATA_DIR", str(_REPO / "data"))
        readable = [p for p in (env["COURSE_DATA_DIR"], str(_REPO / "data" / "checkpoints")) if os.path.isdir(p)]
        cmd = sandbox.sandbox_command(cmd, writable=[root, exchange / "results"],
                                      readable=[*readable, exchange / "cases"], tmp_mb=limits.tmp_mb)
    result = RunResult()
    start = time.monotonic()
    seen: dict = {}
    try:
        # pytest itself runs from "/" so that a notebook deleting its working directory cannot upset it
        proc = subprocess.Popen(cmd, cwd="/", env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, pass_fds=(write_fd,) if use_pipe else (),
                                start_new_session=True)
    except OSError as exc:
        if use_pipe:
            os.close(read_fd)
            os.close(write_fd)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(exchange, ignore_errors=True)
        return RunResult(status="crashed", detail=f"could not start pytest: {exc}")
    if use_pipe:
        os.close(write_fd)
    reader = ResultReader(read_fd if use_pipe else None, report)
    reader.start()
    stderr_tail: list[bytes] = []

    def drain():  # in blocks: a line of gigabytes without a newline is never held whole
        while True:
            block = proc.stderr.read1(65536)
            if not block:
                break
            stderr_tail.append(block[-2000:])
            del stderr_tail[:-4]

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    memory_limit, disk_limit = limits.memory_mb * 2**20, limits.disk_mb * 2**20
    polls = 0
    while proc.poll() is None:
        rss = tree_memory(proc, seen)
        elapsed = time.monotonic() - start
        polls += 1
        written = folder_bytes([root, exchange / "results"]) if polls % 5 == 0 else 0
        count = tree_count(proc)
        if CANCEL.is_set():
            result.status, result.detail = "cancelled", "grading was interrupted"
        elif elapsed > limits.notebook_timeout:
            result.status, result.detail = "timeout", f"the notebook ran longer than {limits.notebook_timeout:g} s"
        elif rss > memory_limit:
            result.status, result.detail = "memory", (f"the notebook used more than {limits.memory_mb} MB "
                                                      f"of memory ({rss / 2**20:.0f} MB)")
        elif written > disk_limit:
            result.status, result.detail = "disk", (f"the notebook wrote more than {limits.disk_mb} MB "
                                                    f"of files ({written / 2**20:.0f} MB)")
        elif count > limits.max_processes:
            result.status, result.detail = "processes", (f"the notebook started more than {limits.max_processes} "
                                                         f"processes and threads ({count})")
        if result.status != "ok":
            kill_processes(seen)
            break
        time.sleep(0.2)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_processes(seen)
        proc.wait()
    kill_processes(seen)  # whatever the notebook started and left behind
    reader.join(timeout=10)
    reader.read_file()
    drainer.join(timeout=5)
    result.seconds = time.monotonic() - start
    for event in list(reader.events):
        if event.get("event") == "cell" and isinstance(event.get("cell"), int):
            fields = {k: str(event.get(k, "")) for k in ("message", "stdout", "stderr", "error", "display")}
            result.cells[event["cell"]] = CellResult(event["cell"], str(event.get("outcome")),
                                                     bool(event.get("xfail")), **fields)
    finished = any(e.get("event") == "finished" for e in reader.events)
    if result.status == "ok" and not finished:
        tail = b"".join(stderr_tail)[-2000:].decode("utf-8", "replace").strip().splitlines()
        result.status = "crashed"
        result.detail = f"pytest stopped early (exit status {proc.returncode})" + (f": {tail[-1]}" if tail else "")
    result.answers = sealed_answers(collect_answers(exchange / "results"), reader.events)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(exchange, ignore_errors=True)
    return result
