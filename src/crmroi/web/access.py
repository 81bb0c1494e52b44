"""Access to the workspace from request threads, and the web app's own tables.

DuckDB allows one process to open a workspace file; its connection is not safe to
share between threads, so every write holds one re-entrant lock (a single-process app).
Long reads (KPI reports, case evaluations) use `reader()`: each thread its own DuckDB
cursor on the same database and its own Ibis backend, held shared with other readers and
never during a write of the data, so two uncached reports compute side by side; the web
app's own small writes (a login's session row) go beside them (`small()`).
PostgreSQL workspaces get one connection per thread, so several workers and threads
work side by side; users, sessions and the audit log live in the same database, which
is what lets several workers share a login.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import ibis

from crmroi.store import Store
from crmroi.store.engines import DuckDBEngine, Transaction, engine_for
from crmroi.store.store import WORKSPACE_FILE, is_url

T = TypeVar("T")
MEMO_SIZE = 512  # remembered lookups (sessions, tokens, cases): a few KB each at most

# The web app's own tables, in SQL both DuckDB and PostgreSQL accept.
WEB_TABLES: dict[str, str] = {
    "web_users": (
        "user_id VARCHAR PRIMARY KEY, username VARCHAR NOT NULL UNIQUE, "
        "password_hash VARCHAR NOT NULL, role VARCHAR NOT NULL, "
        "created_at TIMESTAMP NOT NULL, disabled BOOLEAN NOT NULL"
    ),
    "web_sessions": (
        "token_hash VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, csrf_token VARCHAR NOT NULL, "
        "created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL"
    ),
    "web_login_failures": (
        "username VARCHAR NOT NULL, ip VARCHAR NOT NULL, failed_at TIMESTAMP NOT NULL"
    ),
    "web_api_tokens": (
        "token_hash VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, label VARCHAR NOT NULL, "
        "created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP"
    ),
    "web_audit": (
        "event_id VARCHAR PRIMARY KEY, occurred_at TIMESTAMP NOT NULL, username VARCHAR NOT NULL, "
        "action VARCHAR NOT NULL, detail VARCHAR NOT NULL"
    ),
    "web_cases": (
        "name VARCHAR PRIMARY KEY, yaml VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL, "
        "updated_by VARCHAR NOT NULL"
    ),
    "web_user_settings": "user_id VARCHAR PRIMARY KEY, language VARCHAR NOT NULL",
    "web_user_display": "user_id VARCHAR PRIMARY KEY, money_units VARCHAR NOT NULL",
}


def sql(tx: Transaction, statement: str) -> str:
    """`statement` with `?` markers turned into the engine's own parameter marker."""
    return statement if tx.placeholder == "?" else statement.replace("?", tx.placeholder)


class WorkspaceAccess:
    """Opens the workspace once (DuckDB) or once per thread (PostgreSQL).

    On a DuckDB file (which no other process can write while the app holds it) small
    lookups every request makes (data version, sessions, saved cases, settings) are
    remembered until the next write transaction commits (`memo`); elsewhere they are
    read each time.
    """

    def __init__(self, location: str, *, create: bool = True) -> None:
        """Open `location`; a missing workspace folder is created (the import wizard fills it)."""
        self.location = location
        self.shared = not is_url(location)
        self._lock = threading.RLock()  # held by writers (and to admit a reader)
        self._readers = 0  # readers inside `reader()` now
        self._no_readers = threading.Condition(threading.Lock())
        self._local = threading.local()
        first = Store.open(location, create=create)
        self._stores: list[Store] = [first]
        if not self.shared:
            self._local.store = first  # this thread's connection
        engine = first.engine
        self._engine = engine if self.shared and isinstance(engine, DuckDBEngine) else None
        self._memo: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        with self.store() as store:
            ensure_web_tables(store)

    @property
    def duckdb_file(self) -> Path | None:
        """The workspace's DuckDB file (a folder workspace), else None."""
        path = Path(self.location) / WORKSPACE_FILE
        return path if self._engine is not None and path.is_file() else None

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """The workspace, held exclusively for the duration of the block on DuckDB."""
        if self.shared:
            if getattr(self._local, "reading", 0):
                raise RuntimeError("workspace written from inside reader(): would deadlock")
            with self._lock:
                self._wait_for_readers()
                self._local.writing = getattr(self._local, "writing", 0) + 1
                try:
                    yield self._open_shared()
                finally:
                    self._local.writing -= 1
        else:
            store = getattr(self._local, "store", None)
            if store is None:
                store = Store.open(self.location)
                self._local.store = store
                with self._lock:
                    self._stores.append(store)
            yield store

    def _writing(self) -> bool:
        """True when this thread is inside `store()` (a writer)."""
        return int(getattr(self._local, "writing", 0)) > 0

    def _wait_for_readers(self) -> None:
        """Block (holding `_lock`, so no new reader enters) until no reader is inside."""
        with self._no_readers:
            self._no_readers.wait_for(lambda: self._readers == 0)

    @contextlib.contextmanager
    def reader(self) -> Iterator[Store]:
        """The workspace for reading only, shared with other readers (DuckDB: this thread's
        own cursor and Ibis backend; no write runs meanwhile). Elsewhere: `store()`."""
        if self._engine is None or self._writing():
            with self.store() as own:  # PostgreSQL, a lake, or a writer reading its own
                yield own
            return
        store = self._enter_reader(timeout=-1)
        assert store is not None
        try:
            yield store
        finally:
            self._leave_reader()

    def _enter_reader(self, timeout: float) -> Store | None:
        """Wait (up to `timeout` s; -1: as long as it takes) for a running write to end,
        then count this thread as a reader; None when the wait timed out."""
        if not self._lock.acquire(timeout=timeout):
            return None
        try:
            store = self._cursor_store()
            with self._no_readers:
                self._readers += 1
        finally:
            self._lock.release()
        self._local.reading = getattr(self._local, "reading", 0) + 1
        return store

    def _leave_reader(self) -> None:
        self._local.reading -= 1
        with self._no_readers:
            self._readers -= 1
            self._no_readers.notify_all()

    def _cursor_store(self) -> Store:
        """This thread's read store: a cursor of the shared DuckDB connection (made once per
        opening of the workspace). Called holding `_lock`."""
        main = self._open_shared()
        made = getattr(self._local, "cursor_store", None)
        if made is not None and made[0] is main:
            return cast(Store, made[1])
        backend = ibis.duckdb.from_connection(main.backend.con.cursor())
        store = Store(backend, engine_for("duckdb", backend), self.location)
        self._local.cursor_store = (main, store)
        self._stores.append(store)  # closed with the others
        return store

    def _open_shared(self) -> Store:
        if not self._stores:
            self._stores.append(Store.open(self.location))
        return self._stores[0]

    @contextlib.contextmanager
    def small(self) -> Iterator[Store]:
        """The workspace for the web app's own small reads and writes (its `WEB_TABLES`:
        sessions, logins, tokens, audit, cases, settings) and short lookups: exclusive
        among writers (the lock is held on DuckDB) but beside running readers, which read
        only the imported data and see a write of these tables only once it commits
        (DuckDB's transactions), so a login does not wait for a report to finish.
        Imports and undo, which change what readers read, use `store()`."""
        if self._engine is None or self._writing():
            with self.store() as own:
                yield own
            return
        if getattr(self._local, "reading", 0):
            raise RuntimeError("workspace written from inside reader(): would deadlock")
        with self._lock:
            self._local.writing = getattr(self._local, "writing", 0) + 1
            try:
                yield self._open_shared()
            finally:
                self._local.writing -= 1

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One unit of work on the web app's own tables (`small()`: the lock is held
        throughout on DuckDB, beside running readers)."""
        with self.small() as store, store.transaction() as tx:
            yield tx

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (with `?` markers) and return its rows (`transaction()`)."""
        with self.transaction() as tx:
            return tx.execute(sql(tx, statement), params)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, remembered until the workspace is next written (DuckDB only).

        A hit costs no lock: the write count is read first, so a value computed while a
        write was still open is stored under the old count and recomputed after it.
        """
        if self._engine is None:
            return compute()
        hit = self._memo.get(key)
        writes = self._engine.writes
        if hit is not None and hit[0] == writes:
            return cast(T, hit[1])
        with self._lock:
            writes = self._engine.writes
            value = compute()
            self._memo[key] = (writes, value)
            self._memo.move_to_end(key)
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return value

    def lookup(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """`query` for a read whose answer changes only with a write (`memo`)."""
        return list(self.memo(("query", statement, params), lambda: self.query(statement, params)))

    def settings(self) -> dict[str, Any]:
        """The workspace settings (`Store.settings`), remembered until the next write."""

        def read() -> dict[str, Any]:
            with self.small() as store:
                return store.settings()

        return dict(self.memo(("settings",), read))

    def ping(self, wait_seconds: float = 0.05) -> bool:
        """True when the workspace answers `SELECT 1`; False when a write holds it (DuckDB)
        for longer than `wait_seconds`, so a health check never queues behind an import."""
        if self.shared and self._engine is not None and not self._writing():
            store = self._enter_reader(timeout=wait_seconds)  # beside running readers
            if store is None:
                return False
            try:
                store.backend.con.execute("SELECT 1").fetchall()
            finally:
                self._leave_reader()
            return True
        if self.shared:
            if not self._lock.acquire(timeout=wait_seconds):
                return False
            try:
                self.query("SELECT 1")
            finally:
                self._lock.release()
            return True
        self.query("SELECT 1")
        return True

    def data_version(self) -> str:
        """A fingerprint of the imported data: changes with every import or undo."""

        def compute() -> str:
            rows = self.query("SELECT batch_id, status FROM import_batches ORDER BY batch_id")
            return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]

        return self.memo(("data_version",), compute)

    def close(self) -> None:
        with self._lock:
            for store in reversed(self._stores):  # cursors before their connection
                store.close()
            self._stores.clear()


def ensure_web_tables(store: Store) -> None:
    """Create the web app's tables that are missing (existing rows are kept)."""
    existing = set(store.backend.list_tables())
    missing = [name for name in WEB_TABLES if name not in existing]
    added = [  # columns newer than the workspace: (table, column definition)
        (table, column)
        for table, column in ADDED_COLUMNS
        if table in existing and column.split()[0] not in store.backend.get_schema(table).names
    ]
    if not missing and not added:
        return
    with store.transaction() as tx:
        for name in missing:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {name} ({WEB_TABLES[name]})")
        for table, column in added:
            tx.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


ADDED_COLUMNS: tuple[tuple[str, str], ...] = (("web_api_tokens", "expires_at TIMESTAMP"),)
