"""The DuckDB writes of a streamed file's stage, in a thread beside the mapping of blocks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

THREADS = 1
"""DuckDB's threads while a file's blocks are read: its inserts of staged blocks run in a
thread of their own (`Writer`) beside the Python thread mapping blocks and the one reading
ahead (`benchmarks/bench_import.py`). The checks over the whole file and the final write
run with the connection's own threads."""


@contextlib.contextmanager
def few_threads(con: Any) -> Iterator[None]:
    """DuckDB's threads set to `THREADS` for the block (a file's blocks being read), then
    restored."""
    before = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    con.execute(f"SET threads = {THREADS}")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            con.execute(f"SET threads = {before}")


class Writer:
    """The stage's DuckDB writes run in one background thread, in the order given, while
    the caller maps the next blocks (DuckDB leaves the interpreter lock while it runs).
    At most one write is waiting or running; `wait` returns when it is done and raises
    its error. The connection is used by one thread at a time: the caller waits before
    any statement of its own."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._last: Future[None] | None = None

    def submit(self, work: Callable[..., None], *args: Any) -> None:
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="crmroi-stage")
        self._last = self._pool.submit(work, *args)

    def wait(self) -> None:
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def close(self) -> None:
        """Wait for the last write (its error ignored: the caller is failing or done)."""
        with contextlib.suppress(BaseException):
            self.wait()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
