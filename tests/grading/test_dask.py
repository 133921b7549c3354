"""The grader on a Dask cluster: the same gradebook as the local pool, through worker and coordinator deaths.

A small class of the mini course's ``01_weight_pruning.ipynb`` (``tests/grading_helpers.py``) is graded
by the local pool (the reference), by a ``LocalCluster`` of two worker processes (``--dask-local 2``),
and by a scheduler and two workers started as separate processes (``dask scheduler``, ``dask worker``),
once undisturbed, once with one worker killed (SIGKILL) as soon as the first result arrives, and once
with the coordinator killed after its first journaled run and started again with the same arguments.
Every one of them must write a byte-identical gradebook.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grading_helpers import HIDDEN, build_mini, skip_without_data, solved, write

from course_lib.grading import executors, grade, sandbox

NB = "01_weight_pruning.ipynb"
REPO = Path(__file__).resolve().parents[2]
WRONG = {"01-magnitude-mask": "def magnitude_mask(w, k):\n    return np.abs(w) > 0\n",
         "01-storage-bytes": "def storage_bytes(w):\n    return 1 / 0\n"}


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    skip_without_data()
    assert sandbox.why_unavailable() is None, sandbox.why_unavailable()
    base = tmp_path_factory.mktemp("dask")
    mini = build_mini(base / "mini")
    course = base / "course"
    course.mkdir()
    (course / NB).write_bytes((mini["dir"] / NB).read_bytes())
    subs = base / "submissions"
    write(solved(mini, NB), subs / "d1_correct" / NB)
    write(solved(mini, NB, **{"01-magnitude-mask": WRONG["01-magnitude-mask"]}), subs / "d2_wrong_mask" / NB)
    write(solved(mini, NB, **{"01-storage-bytes": WRONG["01-storage-bytes"]}), subs / "d3_raises" / NB)
    write(mini["student"][NB], subs / "d4_untouched" / NB)
    write(solved(mini, NB), subs / "d5_correct" / NB)
    write(solved(mini, NB, **WRONG), subs / "d6_two_wrong" / NB)
    args = [str(subs), "--course", str(course), "--hidden", str(HIDDEN), "--cell-timeout", "60",
            "--notebook-timeout", "240"]
    reference = base / "local" / "gradebook.csv"
    start = time.monotonic()
    assert grade.main([*args, "--out", str(reference), "--jobs", "2"]) == 0
    return {"base": base, "args": args, "reference": reference.read_bytes(), "local_s": time.monotonic() - start}


def _env():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.pop("COURSE_EXCHANGE", None)
    return env


def _dask(*args, log: Path):
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"), start_new_session=True)


@pytest.fixture(scope="module")
def cluster(small_class):
    """A scheduler and two single-slot workers, each its own process (no nanny: a killed worker stays dead)."""
    base = small_class["base"]
    file = base / "scheduler.json"
    procs = [_dask("scheduler", "--scheduler-file", str(file), "--port", "0", "--no-dashboard",
                   log=base / "scheduler.log")]
    for _ in range(200):
        if file.exists() and file.stat().st_size:
            break
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]

    def worker(i):
        return _dask("worker", address, "--nthreads", "1", "--resources", "grading_slot=1", "--no-nanny",
                     "--no-dashboard", "--name", f"w{i}", log=base / f"worker{i}.log")

    state = {"address": address, "procs": procs, "worker": worker, "workers": [worker(i) for i in range(2)]}
    procs += state["workers"]
    yield state
    for p in procs + state.get("more", []):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def _wait_for_workers(address, n):
    from dask.distributed import Client

    with Client(address) as client:
        client.wait_for_workers(n, timeout=120)


def _coordinator(small_class, out: Path, *extra):
    return subprocess.Popen([sys.executable, "-m", "course_lib.grading.grade", *small_class["args"], "--out",
                             str(out), *extra], env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def test_a_local_cluster_gives_the_local_pools_gradebook(small_class):
    out = small_class["base"] / "localcluster" / "gradebook.csv"
    start = time.monotonic()
    assert grade.main([*small_class["args"], "--out", str(out), "--dask-local", "2"]) == 0
    small_class["dask_local_s"] = time.monotonic() - start
    assert out.read_bytes() == small_class["reference"]


def test_a_scheduler_and_two_worker_processes_give_the_same_gradebook(small_class, cluster):
    _wait_for_workers(cluster["address"], 2)
    out = small_class["base"] / "cluster" / "gradebook.csv"
    assert grade.main([*small_class["args"], "--out", str(out), "--scheduler", cluster["address"]]) == 0
    assert out.read_bytes() == small_class["reference"]


def test_killing_a_worker_during_the_run_loses_nothing(small_class, cluster):
    _wait_for_workers(cluster["address"], 2)
    out = small_class["base"] / "killed" / "gradebook.csv"
    coordinator = _coordinator(small_class, out, "--scheduler", cluster["address"])
    timeline, victim, start = [], cluster["workers"][0], time.monotonic()
    for line in coordinator.stderr:
        timeline.append(f"{time.monotonic() - start:6.1f} s  {line.strip()}")
        if "->" in line and victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)  # the worker and the sandbox it was running
            timeline.append(f"{time.monotonic() - start:6.1f} s  killed worker w0 (SIGKILL)")
    assert coordinator.wait(timeout=600) == 0, "\n".join(timeline)
    artifacts = REPO / "test-artifacts" / "grading"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "dask-worker-death.log").write_text("\n".join(timeline) + "\n")
    assert victim.poll() is not None and any("killed worker w0" in t for t in timeline)
    assert out.read_bytes() == small_class["reference"], "\n".join(timeline)
    cluster["more"] = [cluster["worker"](9)]  # a spare worker for the next test


def test_a_coordinator_killed_and_restarted_resumes_from_the_journal(small_class, cluster):
    _wait_for_workers(cluster["address"], 2)
    out = small_class["base"] / "resumed" / "gradebook.csv"
    first = _coordinator(small_class, out, "--scheduler", cluster["address"])
    for line in first.stderr:
        if "->" in line:  # one run journaled
            os.killpg(first.pid, signal.SIGKILL)
            break
    first.wait()
    assert not out.exists()
    second = _coordinator(small_class, out, "--scheduler", cluster["address"])
    log = second.stderr.read()
    assert second.wait(timeout=600) == 0, log
    assert "resumed from" in log
    assert out.read_bytes() == small_class["reference"]


def test_executor_arguments_are_checked():
    with pytest.raises(ValueError, match="give one of them"):
        executors.make_executor(2, scheduler="tcp://127.0.0.1:1", dask_local=2)
    with pytest.raises(ValueError, match="dask_local must be >= 1"):
        executors.make_executor(2, dask_local=0)
    local = executors.make_executor(3)
    assert isinstance(local, executors.LocalExecutor) and local.slots == 3
    local.close()
