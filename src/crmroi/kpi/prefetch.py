"""Cube queries sent ahead to a second DuckDB connection, so the database works while
Python forms the KPIs of the cubes already back.

The KPI report fetches a dozen aggregate queries (`crmroi.kpi.facts.fetch_cube`) and
forms each KPI from them in Python. One after the other, the CPU idles half the time:
DuckDB waits while numpy works, and numpy waits while DuckDB scans. DuckDB releases
the GIL while it runs a query, so a worker thread with its own connection (a DuckDB
cursor: the same database, its own session) runs the queries in the order the report
will need them, while the main thread builds KPIs from the earlier ones.

Only the database work moves to the worker: the queries are compiled in the calling
thread, and the Arrow results are converted and coded there too, in the same order
as without prefetching, so labels, codes and every number are the same. A result is
handed back only for the very expression that was sent (compared structurally);
anything else (another engine, an in-memory table the cursor cannot see, a query
built differently the second time) runs in the calling thread as before.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from crmroi.store.engines import DuckDBEngine
from crmroi.store.store import Store


class Planned(Exception):
    """Raised by `fetch_cube` when a cube builder runs only to send its query ahead."""


def prefetchable(store: Store) -> bool:
    """True for a DuckDB workspace file (one process, a second connection is free) with
    no transaction open: the worker's connection would read the committed rows, not the
    transaction's."""
    return isinstance(store.engine, DuckDBEngine) and not store.engine.open


class Prefetch:
    """Queries of cubes, keyed by cube name, run in order on a worker connection."""

    def __init__(self, store: Store) -> None:
        backend: Any = store.backend
        self._backend = backend
        self._cursor = backend.con.cursor()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmroi-prefetch")
        self._sent: dict[str, tuple[ir.Table, Future[pa.Table]]] = {}

    def send(self, key: str, expr: ir.Table) -> None:
        """Compile `expr` here and run it on the worker (unless the worker cannot see
        a table of it: in-memory tables belong to the main connection)."""
        if key in self._sent or expr.op().find(ops.InMemoryTable):
            return
        sql = self._backend.compile(expr)
        self._sent[key] = (expr, self._pool.submit(self._run, sql))

    def _run(self, sql: str) -> pa.Table:
        return self._cursor.sql(sql).to_arrow_table()

    def take(self, key: str, expr: ir.Table) -> pa.Table | None:
        """The result of `expr` sent under `key`, None when it was not sent (or a
        different expression was). Errors of the query are raised here."""
        sent = self._sent.pop(key, None)
        if sent is None or not sent[0].equals(expr):
            return None
        from ibis.backends.duckdb.converter import DuckDBPyArrowData

        return expr.__pyarrow_result__(sent[1].result(), data_mapper=DuckDBPyArrowData)

    def close(self) -> None:
        """Drop what was never taken: the queries not started are cancelled and a running
        one interrupted (a report that failed, or was stopped with Ctrl-C, does not wait
        for it); then the worker stops and its connection closes."""
        running = [f for _, f in self._sent.values() if not f.cancel() and not f.done()]
        self._sent.clear()
        for future in running:  # again until it stops: an interrupt sent just before
            while not future.done():  # the query reached DuckDB would be lost
                with contextlib.suppress(Exception):
                    self._cursor.interrupt()
                with contextlib.suppress(Exception):
                    future.exception(timeout=0.05)
        self._pool.shutdown(wait=True)
        with contextlib.suppress(Exception):
            self._cursor.close()
