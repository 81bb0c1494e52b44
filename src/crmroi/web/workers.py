"""The bounded pool that slow request work runs in: reading uploads, evaluating cases.

Such work runs in these threads, off the event loop and without the workspace lock
(only the final write takes it), so logins and `/healthz` keep answering while it runs.
At most `workers` jobs run at once and `queue` more wait; one more is refused with
`ServerBusy` (503 and Retry-After) rather than piling up threads and memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from crmroi.errors import ServerBusy

T = TypeVar("T")
P = ParamSpec("P")
RETRY_AFTER_SECONDS = 5


class WorkPool:
    """A fixed number of worker threads and a bounded queue in front of them."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crmroi-work")
        self._slots = threading.BoundedSemaphore(workers + queue)

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

    def close(self) -> None:
        """Stop taking work; queued jobs are dropped, running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)
