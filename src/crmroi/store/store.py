"""The workspace store: one Ibis connection over the canonical tables.

Reads go through Ibis expressions (`Store.table`), so the same KPI code runs on
DuckDB and PostgreSQL. Writes go through `Store.transaction()`, which gives one
database transaction for a whole multi-file import: the caller owns the unit of
work and nothing is visible until it commits (a killed process leaves the
workspace as it was).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from crmroi.errors import ConfigurationError, WorkspaceError
from crmroi.messages import M_
from crmroi.store.engines import SQL_TYPES, Engine, engine_for, q
from crmroi.store.lake import is_lake
from crmroi.store.schema import ADDED_COLUMNS, IMPORT_BATCHES, SETTINGS, TABLES
from crmroi.store.undo import UNDO_BATCH_COLUMN, undo_table, undo_tables

WORKSPACE_FILE = "workspace.duckdb"
SETTINGS_TABLE = "workspace_settings"
BATCHES_TABLE = "import_batches"
STAGE_PREFIX = "crmroi_staged_"
"""Tables a streamed import stages its rows in (`crmroi.ingest.staging`); one left in a
DuckDB workspace was an import's that was killed before it ended, and is dropped."""
ACTIVE_STAGES: set[str] = set()
"""Stage tables of imports running in this process (another process cannot have the
DuckDB file open meanwhile): never dropped as stray."""

DEFAULT_SETTINGS = {"base_currency": "USD", "schema_version": "1"}


def is_url(location: str | Path) -> bool:
    """True when `location` is a database URL rather than a workspace folder."""
    return "://" in str(location)


class Store:
    """A workspace: the canonical tables behind one Ibis connection.

    Open it with `Store.open(path_or_url)`; use it as a context manager to close it.
    """

    def __init__(
        self,
        backend: BaseBackend,
        engine: Engine,
        location: str,
        *,
        folder: Path | None = None,
        on_close: Any = None,
    ) -> None:
        self.backend = backend
        self.engine = engine
        self.location = location
        self._folder = folder
        self._on_close = on_close  # e.g. stops the Spark session crmroi started
        self._reading = threading.local()  # `reading`: this thread's looked-up tables

    # -- opening ------------------------------------------------------------------
    @classmethod
    def open(cls, workspace: str | Path, *, create: bool = False) -> Store:
        """Open a workspace folder (DuckDB) or a `postgresql://` URL.

        With `create`, a missing folder is made and the tables are created;
        without it a missing workspace is a `WorkspaceError`.
        """
        location = str(workspace)
        if is_lake(location):
            return cls._open_lake(location, create=create)
        if is_url(location):
            backend = _connect_url(location)
            engine_name = backend.name
        else:
            folder = Path(workspace)
            db_file = folder / WORKSPACE_FILE
            if not db_file.exists() and not create:
                raise WorkspaceError(
                    M_(
                        "workspace_missing",
                        "%(folder)s: not a crmroi workspace (no %(file)s); "
                        "create one with `crmroi demo` or `crmroi import`",
                        folder=str(folder),
                        file=WORKSPACE_FILE,
                    )
                )
            if folder.exists() and not folder.is_dir():
                raise WorkspaceError(
                    M_(
                        "workspace_not_folder",
                        "%(folder)s: exists and is not a folder",
                        folder=str(folder),
                    )
                )
            if not folder.exists():
                folder.mkdir(parents=True, mode=0o700)  # it will hold password hashes
            try:
                backend = ibis.duckdb.connect(str(db_file))
            except Exception as exc:  # duckdb raises IOException on a lock or bad file
                raise _open_error(folder, db_file, exc) from None
            _owner_only(db_file)
            engine_name = "duckdb"
        store = cls(backend, engine_for(engine_name, backend), location)
        store.ensure_schema()
        if engine_name == "duckdb":
            store.drop_stray_stages()
        return store

    @classmethod
    def _open_lake(cls, location: str, *, create: bool) -> Store:
        """A lake folder of Parquet files, read by DuckDB or Spark (`crmroi.store.lake`)."""
        from crmroi.store import lake, lake_spark

        where = lake.parse_location(location)
        if where.engine == "spark":
            backend, engine, session = lake_spark.open_spark(where)
            stop = None if session is None else session.stop
            return cls(backend, engine, location, folder=where.folder, on_close=stop)
        backend, writer = lake.open_duckdb(where, create=create)
        store = cls(backend, writer, location, folder=where.folder)
        if where.version is None:
            store.ensure_schema()
        return store

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.backend.disconnect()
        if self._on_close is not None:
            with contextlib.suppress(Exception):
                self._on_close()
            self._on_close = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def folder(self) -> Path | None:
        """The workspace folder (also of a lake), or None for a database URL."""
        if self._folder is not None:
            return self._folder
        return None if is_url(self.location) else Path(self.location)

    # -- schema -------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create any canonical table that is missing (existing data is never touched)."""
        existing = set(self.backend.list_tables())
        wanted: dict[str, pa.Schema] = {name: t.arrow_schema() for name, t in TABLES.items()}
        wanted[BATCHES_TABLE] = IMPORT_BATCHES
        wanted[SETTINGS_TABLE] = SETTINGS
        wanted.update(undo_tables())  # previous versions of replaced rows (batch undo)
        missing = {n: s for n, s in wanted.items() if n not in existing}
        added = self._columns_to_add(existing, wanted)
        if not missing and not added:
            return
        with self.engine.transaction() as tx:
            for name, columns in added.items():
                types = SQL_TYPES[tx.dialect]
                for field in columns:
                    tx.execute(
                        f"ALTER TABLE {q(name)} ADD COLUMN {q(field.name)} {types[str(field.type)]}"
                    )
            for name, schema in missing.items():
                tx.create_table(name, schema, lineage_index=name in TABLES)
                if UNDO_BATCH_COLUMN in schema.names and tx.dialect == "postgres":
                    tx.execute(f'CREATE INDEX "{name}_batch" ON "{name}" ({UNDO_BATCH_COLUMN})')
            if SETTINGS_TABLE in missing:
                rows = pa.table(
                    {
                        "key": list(DEFAULT_SETTINGS),
                        "value": list(DEFAULT_SETTINGS.values()),
                    },
                    schema=SETTINGS,
                )
                tx.append(SETTINGS_TABLE, rows)

    def drop_stray_stages(self) -> None:
        """Drop the stage tables of imports killed before they ended (DuckDB: one process
        at a time opens the file, so no import is running)."""
        con = self.backend.con
        found = con.execute(  # no bound parameter: DuckDB imports pandas to bind one (0.4 s)
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
            f"AND database_name = current_database() AND starts_with(table_name, '{STAGE_PREFIX}')"
        ).fetchall()
        for (name,) in found:
            if name not in ACTIVE_STAGES:
                con.execute(f"DROP TABLE IF EXISTS {q(name)}")

    def _columns_to_add(
        self, existing: set[str], wanted: dict[str, pa.Schema]
    ) -> dict[str, list[pa.Field]]:
        """Columns of `ADDED_COLUMNS` an older workspace's tables (and their undo
        tables) lack."""
        out: dict[str, list[pa.Field]] = {}
        for table_name, columns in ADDED_COLUMNS.items():
            for name in (table_name, undo_table(table_name)):
                if name not in existing:
                    continue
                have = set(self.backend.table(name).schema().names)
                lacking = [wanted[name].field(c) for c in columns if c not in have]
                if lacking:
                    out[name] = lacking
        return out

    # -- reading ------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """The Ibis expression for a canonical table (lazy: nothing is read yet)."""
        if name not in TABLES and name not in (BATCHES_TABLE, SETTINGS_TABLE):
            raise WorkspaceError(f"unknown table {name!r}; tables are: {', '.join(TABLES)}")
        cache: dict[str, ibis.Table] | None = getattr(self._reading, "tables", None)
        if cache is not None and name in cache:
            return cache[name]
        refresh = getattr(self.engine, "refresh", None)
        if refresh is not None:  # a lake: see a version another process committed since
            refresh()
        found = self.backend.table(name)
        if cache is not None:
            cache[name] = found
        return found

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """A read-only run (a report): within it each table is looked up once, in this
        thread (every lookup asks the database for the table's columns: about 50 per
        KPI report, 0.2 s at demo scale 20). Nested blocks share the outer one."""
        if getattr(self._reading, "tables", None) is not None:
            yield
            return
        self._reading.tables = {}
        try:
            yield
        finally:
            self._reading.tables = None

    def to_arrow(self, name: str, *, order_by: list[str] | None = None) -> pa.Table:
        """A whole table as Arrow, optionally sorted (for stable comparisons)."""
        expr = self.table(name)
        if order_by:
            expr = expr.order_by(order_by)
        return expr.to_pyarrow()

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def counts(self) -> dict[str, int]:
        """Row count of every canonical table."""
        return {name: self.count(name) for name in TABLES}

    # -- settings -----------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """Workspace settings (base currency, go-live dates...), values JSON-decoded."""
        frame = self.table(SETTINGS_TABLE).to_pyarrow().to_pylist()
        out: dict[str, Any] = {}
        for row in frame:
            try:
                out[row["key"]] = json.loads(row["value"])
            except (TypeError, ValueError):
                out[row["key"]] = row["value"]
        return out

    def set_settings(self, **values: Any) -> None:
        """Store settings (JSON-encoded) in one transaction."""
        with self.engine.transaction() as tx:
            tx.write_settings(values)

    @property
    def base_currency(self) -> str:
        return str(self.settings().get("base_currency", "USD"))

    def reclaim_space(self) -> None:
        """Give the space of rolled-back or deleted rows back to the disk, best effort.

        DuckDB writes a large import's row groups to the file before the commit; after a
        rollback the file keeps them (free inside, but not for the WAL, temporary files or
        the rejects file the next import needs on a full disk) until a checkpoint that
        follows a committed write (here: the failed import's log entry). PostgreSQL's
        autovacuum reclaims dead rows by itself (`VACUUM` by hand after a large undo).
        """
        if self.engine.name != "duckdb":
            return
        with contextlib.suppress(Exception):  # never hide the error that brought us here
            self.backend.con.execute("CHECKPOINT")

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One all-or-nothing unit of work (see `crmroi.store.engines.Transaction`)."""
        return self.engine.transaction()


P = ParamSpec("P")
R = TypeVar("R")


def within_reading(run: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """`run(store, ...)` within `store.reading()`: each table it reads looked up once."""

    @functools.wraps(run)
    def within(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with store.reading():
            return run(store, *args, **kwargs)

    return within


def _connect_url(url: str) -> BaseBackend:
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "PostgreSQL workspaces need the postgres extra: pip install 'crmroi[postgres]'"
            ) from None
        try:
            return ibis.connect(url.replace("postgresql://", "postgres://", 1))
        except Exception as exc:
            raise WorkspaceError(f"cannot connect to {_redact(url)}: {exc}") from exc
    raise ConfigurationError(f"unsupported workspace URL {_redact(url)}; use postgresql://...")


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def _open_error(folder: Path, db_file: Path, exc: Exception) -> WorkspaceError:
    """A one-line error for a DuckDB file that cannot be opened, saying what to do."""
    message = str(exc)
    if "lock" in message.lower():
        pid = re.search(r"PID (\d+)", message)
        holder = (
            M_("process_pid", "process %(pid)s", pid=pid.group(1))
            if pid
            else M_("another_process", "another process")
        )
        return WorkspaceError(
            M_(
                "workspace_in_use",
                "%(folder)s: the workspace is in use by %(holder)s (a running `crmroi serve`?); "
                "DuckDB lets one process open it: use the web app or its API while the server "
                "runs, stop the server first, or move the team to a PostgreSQL workspace "
                "(postgresql://...), which the server and the command line can share",
                folder=str(folder),
                holder=holder,
            )
        )
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return WorkspaceError(
        M_(
            "workspace_cannot_open",
            "%(file)s: cannot open workspace (%(reason)s)",
            file=str(db_file),
            reason=first,
        )
    )


def _owner_only(db_file: Path) -> None:
    """Make the database (and its write-ahead log) readable by its owner only (0600).

    The workspace keeps the app's secret key and password hashes.
    """
    for path in (db_file, db_file.with_name(db_file.name + ".wal")):
        with contextlib.suppress(OSError):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)


@contextlib.contextmanager
def open_store(workspace: str | Path, *, create: bool = False) -> Iterator[Store]:
    """`Store.open` as a context manager that always closes the connection."""
    store = Store.open(workspace, create=create)
    try:
        yield store
    finally:
        store.close()
