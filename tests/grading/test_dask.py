"""The grader on a Dask cluster: the same gradebook as the local pool, through worker and coordinator deaths.

A small class of the mini course's ``01_weight_pruning.ipynb`` (``tests/grading_helpers.py``) is graded
by the local pool (the reference), by a ``LocalCluster`` of two worker processes (``--dask-local 2``),
and by a scheduler and two workers started as separate processes (``dask scheduler``, ``dask worker``),
once undisturbed, once with one worker killed (SIGKILL) while it is running a notebook (chosen, once the
first result has arrived, among the workers that are executing a task: the scheduler must then see it die
with that run in flight and run it again elsewhere), and once
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
WRONG = {"01-row-mask": "def row_mask(w, k):\n    return np.abs(w) > 0\n",
         "01-csr-break-even": "def csr_break_even(rows, cols):\n    return 1 / 0\n"}


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
    write(solved(mini, NB, **{"01-row-mask": WRONG["01-row-mask"]}), subs / "d2_wrong_mask" / NB)
    write(solved(mini, NB, **{"01-csr-break-even": WRONG["01-csr-break-even"]}), subs / "d3_raises" / NB)
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
    # loopback only: a test's servers never listen on the machine's interface address
    procs = [_dask("scheduler", "--scheduler-file", str(file), "--host", "127.0.0.1", "--port", "0",
                   "--no-dashboard", log=base / "scheduler.log")]
    for _ in range(200):
        if file.exists() and file.stat().st_size:
            break
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]
    assert address.startswith("tcp://127.0.0.1:"), address

    def worker(i):
        return _dask("worker", address, "--nthreads", "1", "--resources", "grading_slot=1", "--no-nanny",
                     "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}", log=base / f"worker{i}.log")

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


def _executing(client) -> dict[str, dict[str, float]]:
    """The tasks each worker is executing now (holding its grading slot), by worker name: key -> seconds running."""

    def running(dask_worker):
        now = time.time()
        return {str(ts.key): round(now - (ts.start_time or now), 1) for ts in dask_worker.state.executing}

    names = {address: w["name"] for address, w in client.scheduler_info()["workers"].items()}
    return {str(names[a]): tasks for a, tasks in client.run(running).items() if tasks and a in names}


def _seen_dying(client, name: str, keys: list[str], timeout: float = 60) -> dict[str, tuple]:
    """Once the scheduler has removed worker ``name``: each of ``keys``' (state, times on a dead worker, worker)."""

    def look(dask_scheduler, name=name, keys=keys):
        if any(str(ws.name) == name for ws in dask_scheduler.workers.values()):
            return None
        tasks = {str(k): ts for k, ts in dask_scheduler.tasks.items()}
        return {k: (tasks[k].state, tasks[k].suspicious, tasks[k].processing_on and str(tasks[k].processing_on.name))
                for k in keys if k in tasks}

    deadline = time.monotonic() + timeout
    while (seen := client.run_on_scheduler(look)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return seen or {}


def test_killing_a_worker_during_the_run_loses_nothing(small_class, cluster):
    from dask.distributed import Client

    _wait_for_workers(cluster["address"], 2)
    out = small_class["base"] / "killed" / "gradebook.csv"
    timeline, victim, killed, seen, coordinator, start = [], None, None, {}, None, time.monotonic()

    def log(text):
        timeline.append(f"{time.monotonic() - start:6.1f} s  {text}")

    try:
        with Client(cluster["address"]) as client:
            coordinator = _coordinator(small_class, out, "--scheduler", cluster["address"])
            for line in coordinator.stderr:
                log(line.strip())
                if "->" in line and victim is None:  # the first result is in: runs remain in flight
                    running = _executing(client)
                    log(f"executing now: {running or 'nothing'}")
                    assert running, "no worker was running a notebook after the first result: nothing to retry"
                    # the worker whose run started last: the furthest from finishing before the kill lands
                    name = min(running, key=lambda w: min(running[w].values()))
                    killed = sorted(running[name])
                    victim = cluster["workers"][int(name[1:])]
                    os.killpg(victim.pid, signal.SIGKILL)  # the worker and the sandbox it was running
                    log(f"killed worker {name} (SIGKILL) while it ran {', '.join(killed)}")
                    seen = _seen_dying(client, name, killed)
                    log(f"the scheduler removed {name}; its runs: " + "; ".join(
                        f"{k}: {state}, on a dead worker {n} time(s), now on {w or 'no worker yet'}"
                        for k, (state, n, w) in seen.items()))
            assert coordinator.wait(timeout=600) == 0, "\n".join(timeline)
            log(f"coordinator finished (exit {coordinator.returncode})")
    finally:
        if coordinator is not None and coordinator.poll() is None:  # a failed assertion: stop the run too
            os.killpg(coordinator.pid, signal.SIGKILL)
            coordinator.wait()
        artifacts = REPO / "test-artifacts" / "grading"
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / "dask-worker-death.log").write_text("\n".join(timeline) + "\n")
    assert victim is not None and victim.poll() is not None
    assert set(seen) == set(killed) and all(n >= 1 for _, n, _ in seen.values()), (
        "the killed worker's runs were not in flight on it when it died: no retry was tested\n" + "\n".join(timeline))
    finished = [t for t in timeline if "->" in t]
    assert len(finished) == 6, "\n".join(timeline)  # every (student, notebook) run, the retried one included
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


def test_dask_local_listens_on_loopback_only():
    """--dask-local's scheduler and workers bind 127.0.0.1, never the machine's interface address."""
    ex = executors.make_executor(1, dask_local=1)
    try:
        info = ex.client.scheduler_info()
        addresses = [info["address"], *info["workers"]]
        assert addresses and all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
    finally:
        ex.close()
