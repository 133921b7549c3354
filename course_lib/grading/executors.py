"""Where the graded runs execute: a local pool of processes, or a Dask cluster.

The grader's unit of work is one (student, notebook) run: the graded notebook (built by the
coordinator from the submission's bytes) and the cases' input files go in; the run's cell
results and the answers its kernel recorded come out, as plain data
(:class:`~course_lib.grading.runner.RunResult`). :func:`run_task` is that unit; it runs in the
sandbox wherever it is executed. The coordinator -- the ``grade`` command -- stays the only
trusted writer: it computes every verdict from the returned records and journals it.

* :class:`LocalExecutor` (the default): a thread per job, each driving its run's subprocesses.
* :class:`DaskExecutor`: ``dask.distributed``. ``--scheduler tcp://host:8786`` connects to a
  running cluster; ``--dask-local N`` starts a ``LocalCluster`` of N single-threaded worker
  processes. Each task asks for one ``grading_slot`` resource, so a worker runs at most as many
  sandboxes as it declares (``dask worker --resources grading_slot=4``); a task whose worker
  dies is rescheduled by the scheduler on another worker (Dask's ``allowed-failures``); the
  dashboard shows the progress. Workers need the course checkout at the same commit (the task
  refuses to run on another library), its Python environment and bubblewrap.
"""

from __future__ import annotations

import concurrent.futures as cf

import nbformat

from . import runner
from .journal import library_fingerprint
from .runner import Limits, RunResult

__all__ = ["LocalExecutor", "DaskExecutor", "run_task", "make_executor"]


def run_task(nb_json: str, case_files: dict, limits: Limits, data_dir, library: str) -> RunResult:
    """One graded run, wherever it executes; checks the worker's course library before and after.

    Parameters
    ----------
    nb_json : str
        The graded notebook, as JSON text.
    case_files : dict of str -> bytes
        The cases' input files.
    limits : Limits
        The run's limits (the sandbox included).
    data_dir : str or None
        The data folder on the worker (None: the worker's ``$COURSE_DATA_DIR``, else ``data/``).
    library : str
        The coordinator's library fingerprint: a worker with another library refuses to run.

    Returns
    -------
    RunResult
        The run; ``status == "crashed"`` with the reason if the library differs or changed during it.
    """
    if library_fingerprint() != library:
        return RunResult(status="library", detail="this worker's course library is not the coordinator's "
                         "(check out the same commit on every worker)")
    run = runner.run_nbval(nbformat.reads(nb_json, as_version=4), limits=limits, data_dir=data_dir,
                           case_files=case_files)
    if library_fingerprint() != library:
        run.status, run.detail = "library", "the course library changed on disk during this run"
    return run


class LocalExecutor:
    """Runs on this machine, ``jobs`` at a time (a thread each; the runs are subprocesses)."""

    name = "local"

    def __init__(self, jobs: int):
        self.slots = jobs
        self._pool = cf.ThreadPoolExecutor(max_workers=jobs)

    def submit(self, *args):
        """Start :func:`run_task` with ``args``; returns a future."""
        return self._pool.submit(run_task, *args)

    def wait(self, futures):
        """The futures that are done, once at least one is."""
        return cf.wait(futures, return_when=cf.FIRST_COMPLETED)[0]

    def cancel(self, futures):
        """Stop everything: the running notebooks are killed."""
        runner.CANCEL.set()
        self._pool.shutdown(cancel_futures=True)
        runner.CANCEL.clear()

    def close(self):
        """Release the threads."""
        self._pool.shutdown()


class DaskExecutor:
    """Runs on a Dask cluster: ``address`` (a scheduler) or a new ``LocalCluster`` of ``local_workers``."""

    name = "dask"

    def __init__(self, address: str | None = None, local_workers: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise RuntimeError("Dask is not installed: pip install 'dask[distributed]' (or pip install -e "
                               "'.[dev]' in the course checkout)") from exc
        self._cluster = None
        if address is None:
            # --dask-local: everything on this machine, so everything on loopback (never the interface address)
            self._cluster = LocalCluster(n_workers=local_workers or 1, threads_per_worker=1, processes=True,
                                         resources={"grading_slot": 1}, dashboard_address=None, host="127.0.0.1")
            address = self._cluster
        self.client = Client(address)
        info = self.client.scheduler_info()
        self.slots = sum(int(w.get("resources", {}).get("grading_slot", 0)) for w in info["workers"].values())
        if not self.slots:
            self.close()
            raise RuntimeError("no Dask worker offers the resource grading_slot: start the workers with "
                               "`dask worker SCHEDULER --nthreads N --resources grading_slot=N`")

    def submit(self, *args):
        """Submit :func:`run_task` with ``args`` as one task holding one grading slot."""
        return self.client.submit(run_task, *args, resources={"grading_slot": 1}, pure=False, retries=1)

    def wait(self, futures):
        """The futures that are done, once at least one is."""
        from dask.distributed import wait

        return wait(list(futures), return_when="FIRST_COMPLETED").done

    def cancel(self, futures):
        """Cancel the tasks (their runs stop with their workers' sandboxes)."""
        self.client.cancel(list(futures), force=True)

    def close(self):
        """Disconnect, and stop the cluster this executor started."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(jobs: int, *, scheduler: str | None = None, dask_local: int | None = None):
    """The executor the command line asks for: Dask when ``scheduler`` or ``dask_local`` is given, else local.

    Parameters
    ----------
    jobs : int
        Runs at once on this machine (local executor).
    scheduler : str, optional, keyword-only
        A Dask scheduler's address, ``tcp://host:8786``.
    dask_local : int, optional, keyword-only
        Start a ``LocalCluster`` of this many workers.

    Returns
    -------
    LocalExecutor or DaskExecutor
        The executor.

    Raises
    ------
    ValueError
        If both ``scheduler`` and ``dask_local`` are given, or ``dask_local`` < 1.
    """
    if scheduler and dask_local:
        raise ValueError("scheduler and dask_local: give one of them, not both.")
    if dask_local is not None and dask_local < 1:
        raise ValueError(f"dask_local must be >= 1, got {dask_local}.")
    if scheduler or dask_local:
        return DaskExecutor(scheduler, dask_local)
    return LocalExecutor(jobs)

