"""Where replications and sweep points run: in this process, on a pool of local processes, or on a
Dask cluster.

Every executor takes a function and a list of tasks and yields ``(index, outcome)`` as tasks
finish, in any order, where ``outcome`` is the task's result or the exception it raised. Callers
put the results back in task order, so the tables they build are the same whatever the executor
and the number of workers: a task's result depends on the task alone (``sim.engine.streams``).

A ``KeyboardInterrupt`` stops the executor at once: tasks not started are cancelled, local worker
processes are ended, and the interrupt propagates to the caller, which keeps what was finished.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any


class ExecutorError(RuntimeError):
    """The executor cannot start (no ``distributed`` package, no scheduler at the address)."""


class Interrupted(Exception):
    """A worker was interrupted (it got the terminal's Ctrl-C): the run stops, nothing failed."""


def default_jobs() -> int:
    """The cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Executor:
    """Runs ``fn(task)`` for each task; ``describe()`` says how, for manifests."""

    workers = 1

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Generator[tuple[int, Any], None, None]:
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the executor holds (a Dask client it opened)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """One task after another, in this process."""

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Generator[tuple[int, Any], None, None]:
        for i, task in enumerate(tasks):
            try:
                outcome = fn(task)
            except Exception as exc:  # recorded by the caller; KeyboardInterrupt propagates
                outcome = exc
            yield i, outcome

    def describe(self) -> dict:
        return {"executor": "serial", "workers": 1}


def _worker(parent: int) -> None:
    """A pool worker's start: it leaves Ctrl-C to the parent, which ends it (no traceback from
    every worker), and it ends itself when the parent is gone, however the parent died (killed
    with SIGKILL, say): a watchdog thread sees the worker adopted by another process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class ProcessExecutor(Executor):
    """A pool of ``jobs`` local processes (``concurrent.futures``)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.workers = max(1, int(jobs or default_jobs()))

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Generator[tuple[int, Any], None, None]:
        if not tasks:
            return
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)), initializer=_worker, initargs=(os.getpid(),)
        )
        futures = {}
        try:
            futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.__getitem__):
                    exc = future.exception()
                    if isinstance(exc, KeyboardInterrupt):
                        raise KeyboardInterrupt
                    yield futures[future], exc if exc is not None else future.result()
        except BaseException:
            _stop_pool(pool)
            raise
        else:
            pool.shutdown(wait=True)

    def describe(self) -> dict:
        return {"executor": "processes", "workers": self.workers}


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (a finished task's output is safe)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: ``scheduler`` is an address (``tcp://host:8786``) or a
    ``distributed.Client``. Workers need this package installed (``pip install -e .[dask]``)."""

    def __init__(self, scheduler: Any):
        try:
            import distributed
        except ImportError:  # pragma: no cover - depends on the installation
            raise ExecutorError(
                "a Dask scheduler needs the 'distributed' package: pip install -e '.[dask]'"
            ) from None
        self._distributed = distributed
        if isinstance(scheduler, distributed.Client):
            self.client, self._own = scheduler, False
        else:
            try:
                self.client = distributed.Client(str(scheduler), timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            self._own = True
        self.address = self.client.scheduler.address
        self.workers = max(1, sum(self.client.nthreads().values()))

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Generator[tuple[int, Any], None, None]:
        if not tasks:
            return
        futures = self.client.map(fn, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in self._distributed.as_completed(futures):
                i = index[future.key]
                if future.status == "error":
                    exc = future.exception()
                    if isinstance(exc, KeyboardInterrupt):
                        raise Interrupted("a Dask worker was interrupted")
                    yield i, exc
                elif future.status == "cancelled":
                    yield i, RuntimeError("the task was cancelled by the Dask cluster")
                else:
                    yield i, future.result()
                future.release()
        except BaseException:
            self.client.cancel(futures)
            raise

    def describe(self) -> dict:
        return {"executor": "dask", "scheduler": self.address, "workers": self.workers}

    def close(self) -> None:
        if self._own:
            self.client.close()


def make_executor(jobs: int | None = None, scheduler: Any = None, tasks: int | None = None) -> Executor:
    """Dask when ``scheduler`` is given; otherwise serial for ``jobs == 1``, else a process pool
    (all cores when ``jobs`` is None). Knowing the number of ``tasks``, a pool never starts more
    processes than there are tasks, and a single task runs in this process."""
    if scheduler is not None:
        return DaskExecutor(scheduler)
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, found {jobs}")
    if tasks is not None:
        jobs = max(1, min(jobs, tasks))
    return SerialExecutor() if jobs == 1 else ProcessExecutor(jobs)
