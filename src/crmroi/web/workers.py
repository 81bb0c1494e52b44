"""The bounded pool that slow request work runs in: reading uploads, evaluating cases.

A job (`submit`, `run`, `call`) runs in one of `workers` threads, off the event loop and
without the workspace lock (only the final write takes it). At most `workers` jobs run at
once and `queue` more wait; one more is refused with `ServerBusy` (503 and Retry-After)
rather than piling up threads and memory.

The CPU-heavy middle of a job (parsing and mapping files, the Monte Carlo of a case) is
handed by the job's thread to `compute`, which runs it in a worker process
(`kind="process"`, the default: `CRMROI_WORKER_KIND`), so that it does not hold the
interpreter lock the event loop needs: `/healthz` and the login page keep answering
within milliseconds. A `compute` function and its arguments must be picklable (file
paths, mappings, frames); large results come back as Arrow files (`crmroi.ingest.handoff`),
not as pickles. Errors cross the boundary as the same `crmroi.errors` classes, with their
file, row and column. `kind="thread"` runs `compute` in the job's thread instead: for
platforms or sandboxes where processes cannot be started.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal, ParamSpec, TypeVar

from crmroi.errors import ServerBusy

T = TypeVar("T")
P = ParamSpec("P")
RETRY_AFTER_SECONDS = 5
WorkerKind = Literal["process", "thread"]
PRELOAD = [
    "crmroi.ingest.handoff",
    "crmroi.web.case_results",
    "crmroi.web.streamed_form",
    "crmroi.web.snapshots",
    "crmroi.kpi.engine",
]
"""Modules a worker process imports once (forkserver), not per job."""
SERVER_CHECK_SECONDS = 1.0
"""How often a worker process checks that the server that started it still runs."""


class WorkPool:
    """A fixed number of worker threads and a bounded queue in front of them, and (for
    `kind="process"`) as many worker processes for their CPU-heavy parts."""

    def __init__(self, workers: int, queue: int, kind: WorkerKind = "process") -> None:
        self.workers = workers
        self.kind = kind
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crmroi-work")
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._processes: ProcessPoolExecutor | None = None
        self._processes_lock = threading.Lock()

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue `fn(*args, **kwargs)`; raises `ServerBusy` when the queue is full."""
        if not self._slots.acquire(blocking=False):
            raise ServerBusy(RETRY_AFTER_SECONDS)
        try:
            future = self._executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in the pool, awaited from the event loop."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in the pool, waited for by a request thread (sync routes)."""
        return self.submit(fn, *args, **kwargs).result()

    def compute(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in a worker process (kind "process"), else here.

        Called from a job's thread (which holds one of the pool's slots) or a request's
        thread (a case page); either way no more than `workers` computations run at once,
        the others wait. `fn` must be a module-level function, its arguments picklable.
        """
        if self.kind != "process":
            return fn(*args, **kwargs)
        processes = self._process_pool()
        try:
            return processes.submit(fn, *args, **kwargs).result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh
            with self._processes_lock:
                if self._processes is processes:
                    self._processes = None
            processes.shutdown(wait=False, cancel_futures=True)
            raise ServerBusy(
                RETRY_AFTER_SECONDS,
                "a worker process stopped before it finished (out of memory?); nothing was "
                f"written; try again in {RETRY_AFTER_SECONDS} seconds",
            ) from None

    def start_processes(self) -> None:
        """Start the worker processes now (in the background), so the first upload does not
        wait seconds for them to import pandas and pyarrow."""
        if self.kind != "process":
            return
        processes = self._process_pool()
        for _ in range(self.workers):  # one process is started per job until all run
            processes.submit(int)

    def _process_pool(self) -> ProcessPoolExecutor:
        with self._processes_lock:
            if self._processes is None:
                self._processes = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=process_context(),
                    initializer=watch_server,
                    initargs=(os.getpid(),),
                )
            return self._processes

    def stop_processes(self, wait: bool = False) -> None:
        """End the worker processes (started again by the next `compute`); `wait`: until
        they have exited (at server shutdown: uvicorn ends the process by re-raising the
        signal, so nothing would tell idle workers to stop afterwards)."""
        with self._processes_lock:
            processes, self._processes = self._processes, None
        if processes is not None:
            processes.shutdown(wait=wait, cancel_futures=True)

    def close(self) -> None:
        """Stop taking work; queued jobs are dropped, running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.stop_processes()


def watch_server(server_pid: int) -> None:
    """In a worker process: end it once the server process `server_pid` is gone.

    A worker waits on its job queue forever, and a forkserver lives as long as its workers,
    so a server killed (kill -9, out of memory, a signal re-raised after shutdown) would
    leave them behind holding memory and the server's pipes."""

    def watch() -> None:
        while True:
            time.sleep(SERVER_CHECK_SECONDS)
            if not _alive(server_pid):
                os._exit(0)

    threading.Thread(target=watch, name="crmroi-server-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def process_context() -> multiprocessing.context.BaseContext:
    """Forkserver where the platform has it (a clean, single-threaded parent that has
    imported `PRELOAD` once), else spawn. Never plain fork: the server's threads and
    DuckDB connection must not be copied into a child."""
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")
