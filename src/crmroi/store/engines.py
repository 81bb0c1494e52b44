"""Engine seams for writing: one small class per database engine.

Reads are plain Ibis; writes need real transactions and bulk loading, which Ibis
does not expose uniformly, so each engine gives a `Transaction` with the same
operations. The SQL of the upsert is shared: it runs unchanged on DuckDB and
PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa
from ibis.backends import BaseBackend

from crmroi.errors import ConfigurationError

SQL_TYPES: dict[str, dict[str, str]] = {
    "duckdb": {
        "string": "VARCHAR",
        "timestamp[us]": "TIMESTAMP",
        "date32[day]": "DATE",
        "double": "DOUBLE",
        "int64": "BIGINT",
        "bool": "BOOLEAN",
    },
    "postgres": {
        "string": "TEXT",
        "timestamp[us]": "TIMESTAMP",
        "date32[day]": "DATE",
        "double": "DOUBLE PRECISION",
        "int64": "BIGINT",
        "bool": "BOOLEAN",
    },
}


def q(name: str) -> str:
    """Quote an identifier for both dialects."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class UpsertCounts:
    """What an upsert did: rows new to the table, rows changed, rows already identical."""

    inserted: int
    updated: int
    unchanged: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated


class Transaction(Protocol):
    """The write operations available inside one all-or-nothing unit of work."""

    dialect: str

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def create_table(self, name: str, schema: pa.Schema, *, lineage_index: bool) -> None: ...

    def append(self, name: str, rows: pa.Table) -> None: ...

    def upsert(
        self, name: str, rows: pa.Table, compare: list[str], history: str | None = None
    ) -> UpsertCounts: ...

    def upsert_from(
        self,
        name: str,
        stage: str,
        columns: list[str],
        compare: list[str],
        history: str | None = None,
    ) -> UpsertCounts: ...

    def write_settings(self, values: dict[str, Any]) -> None: ...

    @property
    def placeholder(self) -> str: ...


class _SqlTransaction:
    """Operations written once in SQL both engines accept; subclasses load staging data."""

    dialect = "duckdb"
    _counter = 0

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _stage(self, rows: pa.Table, like: str) -> str:
        """Load `rows` into a temporary table shaped like `like`; return its name."""
        raise NotImplementedError

    def _drop_stage(self, name: str) -> None:
        raise NotImplementedError

    def create_table(self, name: str, schema: pa.Schema, *, lineage_index: bool) -> None:
        types = SQL_TYPES[self.dialect]
        cols = ", ".join(f"{q(f.name)} {types[str(f.type)]}" for f in schema)
        self.execute(f"CREATE TABLE {q(name)} ({cols})")
        if lineage_index and self.dialect == "postgres":
            self.execute(
                f"CREATE INDEX {q(name + '_lineage')} ON {q(name)} (source_system, source_id)"
            )

    def append(self, name: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        stage = self._stage(rows, name)
        cols = ", ".join(q(c) for c in rows.column_names)
        self.execute(f"INSERT INTO {q(name)} ({cols}) SELECT {cols} FROM {q(stage)}")
        self._drop_stage(stage)

    def upsert(
        self, name: str, rows: pa.Table, compare: list[str], history: str | None = None
    ) -> UpsertCounts:
        """Insert new rows, replace changed ones, leave identical ones untouched.

        Rows are matched on (source_system, source_id); `compare` lists the columns
        whose difference makes a row "changed" (lineage columns such as batch_id are
        left out, so re-importing the same file changes nothing).

        With `history` (a table shaped like `name` plus an `undo_batch_id` column),
        the versions about to be replaced are copied there first, tagged with the
        batch id of `rows`, so the batch can be undone (`crmroi.store.undo`). A
        version the same batch wrote a moment earlier is not kept: undoing the batch
        removes it anyway.
        """
        if rows.num_rows == 0:
            return UpsertCounts(0, 0, 0)
        stage = self._stage(rows, name)
        counts = self.upsert_from(name, stage, rows.column_names, compare, history)
        self._drop_stage(stage)
        return counts

    def upsert_from(
        self,
        name: str,
        stage: str,
        columns: list[str],
        compare: list[str],
        history: str | None = None,
    ) -> UpsertCounts:
        """`upsert` from the rows of table `stage` (its `columns`), e.g. a streamed file's
        staged rows; the stage is left in place."""
        t, s = q(name), q(stage)
        total = self.execute(f"SELECT count(*) FROM {s}")[0][0]
        if not total:
            return UpsertCounts(0, 0, 0)
        systems = sorted(str(r[0]) for r in self.execute(f"SELECT DISTINCT source_system FROM {s}"))
        ph = ", ".join([self._ph] * len(systems))
        known = self.execute(
            f"SELECT count(*) FROM {t} WHERE source_system IN ({ph})", tuple(systems)
        )[0][0]
        cols = ", ".join(q(c) for c in columns)
        if not known:  # nothing from this source yet: a plain insert
            self.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {s}")
            return UpsertCounts(inserted=total, updated=0, unchanged=0)
        match = "s.source_system = t.source_system AND s.source_id = t.source_id"
        differs = " OR ".join(f"s.{q(c)} IS DISTINCT FROM t.{q(c)}" for c in compare) or "FALSE"
        existing = self.execute(
            f"SELECT count(*) FROM {s} s WHERE EXISTS (SELECT 1 FROM {t} t WHERE {match})"
        )[0][0]
        changed_rows = f"SELECT 1 FROM {s} s WHERE {match} AND ({differs})"
        changed = self.execute(f"SELECT count(*) FROM {t} t WHERE EXISTS ({changed_rows})")[0][0]
        if changed:
            if history is not None:
                self._keep_previous(history, t, s, columns, changed_rows)
            self.execute(f"DELETE FROM {t} t WHERE EXISTS ({changed_rows})")
        if changed or existing < total:  # else every row is there, unchanged: no join
            self.execute(
                f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {s} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE {match})"
            )
        return UpsertCounts(
            inserted=total - existing, updated=changed, unchanged=existing - changed
        )

    def _keep_previous(
        self, history: str, t: str, s: str, columns: list[str], changed_rows: str
    ) -> None:
        """Copy the rows of `t` that stage `s` replaces into `history`, tagged with the batch."""
        found = self.execute(f"SELECT DISTINCT batch_id FROM {s} WHERE batch_id IS NOT NULL")
        batches = {str(r[0]) for r in found}
        if len(batches) != 1:
            raise ValueError(f"an undoable upsert needs one batch id, got {sorted(batches)}")
        (batch,) = batches
        cols = ", ".join(q(c) for c in columns)
        picked = ", ".join(f"t.{q(c)}" for c in columns)
        self.execute(
            f"INSERT INTO {q(history)} ({cols}, undo_batch_id) SELECT {picked}, {self._ph} "
            f"FROM {t} t WHERE EXISTS ({changed_rows}) AND t.batch_id IS DISTINCT FROM {self._ph}",
            (batch, batch),
        )

    def write_settings(self, values: dict[str, Any]) -> None:
        ph = self._ph
        for key, value in values.items():
            self.execute(f'DELETE FROM "workspace_settings" WHERE key = {ph}', (key,))
            self.execute(
                f'INSERT INTO "workspace_settings" (key, value) VALUES ({ph}, {ph})',
                (key, json.dumps(value, default=str)),
            )

    @property
    def _ph(self) -> str:
        return self.placeholder

    @property
    def placeholder(self) -> str:
        """The query parameter marker of this engine's driver (`?` or `%s`)."""
        return "?" if self.dialect == "duckdb" else "%s"

    @classmethod
    def _stage_name(cls) -> str:
        _SqlTransaction._counter += 1
        return f"crmroi_stage_{_SqlTransaction._counter}"


class DuckDBTransaction(_SqlTransaction):
    dialect = "duckdb"

    def __init__(self, con: Any) -> None:
        self.con = con
        self.wrote = False  # a statement other than SELECT ran (see DuckDBEngine.writes)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.wrote and sql.lstrip()[:6].upper() != "SELECT":
            self.wrote = True
        cursor = self.con.execute(sql, list(params)) if params else self.con.execute(sql)
        try:
            return list(cursor.fetchall())
        except Exception:  # statements without a result set
            return []

    def _stage(self, rows: pa.Table, like: str) -> str:
        """Copy the Arrow rows into a temporary table (scanned several times by upserts)."""
        name = self._stage_name()
        view = name + "_arrow"
        self.con.register(view, rows)
        self.con.execute(f"CREATE TEMP TABLE {q(name)} AS SELECT * FROM {q(view)}")
        self.con.unregister(view)
        return name

    def _drop_stage(self, name: str) -> None:
        self.con.execute(f"DROP TABLE {q(name)}")


class PostgresTransaction(_SqlTransaction):
    dialect = "postgres"

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, params or None)
        if self.cursor.description is None:
            return []
        return list(self.cursor.fetchall())

    def _stage(self, rows: pa.Table, like: str) -> str:
        name = self._stage_name()
        self.execute(f"CREATE TEMP TABLE {q(name)} (LIKE {q(like)}) ON COMMIT DROP")
        cols = ", ".join(q(c) for c in rows.column_names)
        with self.cursor.copy(f"COPY {q(name)} ({cols}) FROM STDIN") as copy:
            for batch in rows.to_batches(max_chunksize=50_000):
                for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                    copy.write_row(row)
        return name

    def _drop_stage(self, name: str) -> None:
        self.execute(f"DROP TABLE {q(name)}")


class Engine(Protocol):
    """Gives transactions on one backend."""

    name: str

    def transaction(self) -> contextlib.AbstractContextManager[Transaction]: ...


class DuckDBEngine:
    """Transactions on a DuckDB file, which one process at a time can open.

    `writes` counts the committed transactions that ran anything but SELECT: as no
    other process can write the file meanwhile, an unchanged count means unchanged
    data (the web app caches small lookups on it). `open` is True inside a
    transaction: another connection (a report's prefetch worker) would not see its
    uncommitted rows.
    """

    name = "duckdb"

    def __init__(self, backend: BaseBackend) -> None:
        self.con = backend.con
        self.writes = 0
        self.open = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        self.con.execute("BEGIN TRANSACTION")
        tx = DuckDBTransaction(self.con)
        self.open = True
        try:
            yield tx
        except BaseException:
            self.open = False
            self.con.execute("ROLLBACK")
            raise
        self.open = False
        try:
            self.con.execute("COMMIT")
        finally:
            if tx.wrote:
                self.writes += 1


class PostgresEngine:
    name = "postgres"

    def __init__(self, backend: BaseBackend) -> None:
        self.con = backend.con

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.con.transaction(), self.con.cursor() as cursor:
            yield PostgresTransaction(cursor)


def engine_for(name: str, backend: BaseBackend) -> Engine:
    """The write engine for an Ibis backend name."""
    if name == "duckdb":
        return DuckDBEngine(backend)
    if name == "postgres":
        return PostgresEngine(backend)
    raise ConfigurationError(f"crmroi cannot write to a {name} workspace yet (duckdb, postgres)")
