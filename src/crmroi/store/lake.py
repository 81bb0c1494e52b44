"""The open-table workspace: the canonical tables as Parquet files or Delta tables.

A lake workspace is a folder, or an object-store prefix (`s3://bucket/prefix`, see
`crmroi.store.lake_files`), holding `crmroi-lake.json` (the manifest: its version and,
for every table, the Parquet files that make it up, or in a Delta lake the Delta
version of `tables/<name>/`, see `crmroi.store.lake_delta`). Any engine that reads
Parquet reads it; crmroi reads it with DuckDB (a laptop) or Spark (a cluster), running
the same Ibis code as on the other workspaces.

Writes (import, undo, settings) run in an in-memory DuckDB over the files, with the
SQL of the DuckDB workspace. On commit every table the transaction wrote is copied to
a new Parquet file, then the manifest is replaced in one `os.replace`: a reader, or a
process killed half-way, sees the previous version or the new one, never a mix.
Writers take an exclusive lock on the folder and start from the newest version. Each
version's manifest is also kept in `versions/`, so `?version=N` reads the workspace
as it was after version N (time travel; read-only).

On an object store the manifest is replaced by one PUT (atomic per object); there is
no lock, so a writer checks before the swap that no other writer committed meanwhile.

Workspace forms: `parquet:///abs/folder` or `parquet://rel/folder` (DuckDB),
`delta:///abs/folder` (or `?format=delta`: Delta tables), `s3://bucket/prefix` (and
`gs://`, `abfs://`; `?format=delta` for Delta), `...?engine=spark&master=local[2]`
(Spark; `master` may be a `spark://` cluster URL, or `remote=sc://host:15002` for Spark
Connect / Databricks Connect), and a plain folder path that holds `crmroi-lake.json`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend

from crmroi.errors import WorkspaceError
from crmroi.store import lake_delta
from crmroi.store.engines import DuckDBTransaction, Transaction, q
from crmroi.store.lake_files import (
    DELTA_SCHEME,
    MANIFEST,
    SCHEME,
    LakeLocation,
    LakeRoot,
    is_lake,
    parse_location,
    write_atomically,
)

FORMAT = "crmroi-lake/1"
__all__ = [  # where a lake is comes from crmroi.store.lake_files; callers import it here
    "DELTA_SCHEME",
    "MANIFEST",
    "SCHEME",
    "LakeEngine",
    "LakeLocation",
    "Manifest",
    "ReadOnlyEngine",
    "check_root",
    "is_lake",
    "open_duckdb",
    "parse_location",
    "read_manifest",
    "writable_form",
]
_BATCH_ROWS = 122_880  # rows per Arrow batch written to a file (DuckDB vector multiple)
_write_atomically = write_atomically  # the local commit point (tests replace it)

_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE|CREATE\s+TABLE)\s+(?:"((?:[^"]|"")+)"|(\w+))',
    re.IGNORECASE,
)
_CHANGES = ("INSERT", "DELETE", "UPDATE", "CREATE", "ALTER", "DROP", "TRUNCATE", "MERGE", "WITH")
ALL_TABLES = "*"
"""Noted for a statement that may write but whose table is not recognised: publish all."""


@dataclass
class Manifest:
    """One version of the workspace: table name -> Parquet files (relative to the lake's
    root), or in a Delta lake table name -> the Delta version of `tables/<name>/`."""

    version: int = 0
    tables: dict[str, list[str]] = field(default_factory=dict)
    table_format: str = "parquet"
    delta: dict[str, int] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The tables this version holds."""
        return list(self.delta if self.table_format == "delta" else self.tables)

    @classmethod
    def read(cls, root: LakeRoot | Path, version: int | None = None) -> Manifest:
        """The newest manifest (or version `version`'s); version 0 for a lake not
        written yet."""
        root = root if isinstance(root, LakeRoot) else LakeRoot(root)
        relative = MANIFEST if version is None else f"versions/{version}.json"
        text = root.read_text(relative)
        if text is None:
            if version is not None:
                raise WorkspaceError(f"{root}: the workspace has no version {version}")
            return cls()
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            kind = str(data.get("table_format", "parquet"))
            if kind == "delta":
                versions = {str(k): int(v) for k, v in data["tables"].items()}
                return cls(int(data["version"]), {}, kind, versions)
            if kind != "parquet":
                raise ValueError(f"table format {kind!r}")
            tables = {str(k): [str(f) for f in v] for k, v in data["tables"].items()}
            return cls(int(data["version"]), tables)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WorkspaceError(
                f"{root.uri(relative)}: not a crmroi lake manifest ({exc})"
            ) from exc

    def text(self) -> str:
        body: dict[str, Any] = {"format": FORMAT, "version": self.version}
        if self.table_format == "delta":
            body.update(table_format="delta", tables=self.delta)
        else:
            body["tables"] = self.tables
        return json.dumps(body, indent=1, sort_keys=True) + "\n"


def read_manifest(location: LakeLocation) -> Manifest:
    """The manifest the location names (an empty one of its format for a new lake),
    refusing a format other than the one the location asks for."""
    root = location.root
    manifest = Manifest.read(root, location.version)
    if manifest.version == 0:
        return Manifest(table_format=location.table_format or "parquet")
    wanted = location.table_format
    if wanted is not None and wanted != manifest.table_format:
        raise WorkspaceError(
            f"{root}: the lake holds {manifest.table_format} tables, not {wanted} "
            f"(open it with format={manifest.table_format})"
        )
    return manifest


class _RecordingTransaction(DuckDBTransaction):
    """The DuckDB transaction, noting which tables its statements write.

    With `appended_from` (a Delta lake), it also notes for each table written the first
    row id of the rows this transaction adds and the rows it had, as long as it only
    inserts into it (-1 once it deletes, updates or creates): those tables are appended
    to, not rewritten.
    """

    def __init__(
        self,
        con: Any,
        written: set[str],
        appended_from: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(con)
        self.written = written
        self.appended_from = appended_from

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        match = _WRITE.match(sql)
        if match and self.appended_from is not None:
            self._note_kind(_table_of(match), sql.split(None, 1)[0].upper())
        result = super().execute(sql, params)
        if match:
            if not _changed_nothing(sql, result):
                self.written.add(_table_of(match))
        elif sql.split(None, 1)[:1] and sql.split(None, 1)[0].upper() in _CHANGES:
            self.written.add(ALL_TABLES)  # a write not recognised: publish every table
        return result

    def _note_kind(self, name: str, verb: str) -> None:
        assert self.appended_from is not None
        if verb != "INSERT":
            self.appended_from[name] = (-1, 0)
        elif name not in self.appended_from:
            try:  # row ids of committed inserts follow every earlier row's
                first, rows = self.con.execute(
                    f"SELECT coalesce(max(rowid) + 1, 0), count(*) FROM {q(name)}"
                ).fetchone()
                self.appended_from[name] = (int(first), int(rows))
            except Exception:
                self.appended_from[name] = (-1, 0)


def _table_of(match: re.Match[str]) -> str:
    quoted, bare = match.groups()
    return quoted.replace('""', '"') if quoted else bare.lower()


def _changed_nothing(sql: str, result: list[tuple[Any, ...]]) -> bool:
    """True for an INSERT, DELETE or UPDATE that DuckDB reports as touching no row."""
    is_dml = not sql.lstrip()[:6].upper().startswith("CREATE")
    return is_dml and result == [(0,)]


class LakeEngine:
    """Transactions over a lake: DuckDB in memory, table files and a manifest."""

    name = "duckdb"

    def __init__(self, backend: BaseBackend, location: LakeLocation) -> None:
        self.con = backend.con
        self.root = location.root
        self.folder = location.folder
        self.manifest = read_manifest(replace(location, version=None))
        self.table_format = self.manifest.table_format
        self._registered: list[str] = []
        self._materialized = False
        self._writing = False
        self.attach(self.manifest)

    def attach(self, manifest: Manifest) -> None:
        """Show `manifest`'s tables as views (reads stream from the files; nothing is
        copied): local Parquet through DuckDB's reader, the rest as Arrow datasets."""
        present = {row[0]: row[1] for row in self.con.execute(_OBJECTS).fetchall()}
        for name, kind in present.items():
            self.con.execute(f"DROP {kind} IF EXISTS {q(name)}")
        for name in self._registered:
            self.con.unregister(name)
        self._registered = []
        local_parquet = manifest.table_format == "parquet" and self.root.folder is not None
        datasets = {} if local_parquet else self._datasets(manifest)
        for name in manifest.names:
            if self.root.folder is not None and local_parquet:
                files = manifest.tables[name]
                paths = ", ".join(_sql_text(str(self.root.folder / f)) for f in files)
                source = f"read_parquet([{paths}])"
            else:
                arrow = name + "__crmroi_arrow"
                self.con.register(arrow, datasets[name])
                self._registered.append(arrow)
                source = q(arrow)
            self.con.execute(f"CREATE VIEW {q(name)} AS SELECT * FROM {source}")
        self.manifest = manifest
        self._materialized = False

    def _datasets(self, manifest: Manifest) -> dict[str, Any]:
        """Every table of `manifest` as an Arrow dataset, opened side by side (on an
        object store each costs a few requests)."""

        def one(name: str) -> Any:
            if manifest.table_format == "delta":
                return lake_delta.dataset(self.root, name, manifest.delta[name])
            return self.root.dataset(manifest.tables[name])

        with ThreadPoolExecutor(max_workers=8) as pool:
            return dict(zip(manifest.names, pool.map(one, manifest.names), strict=True))

    def refresh(self) -> None:
        """Show the newest version if another writer committed since (none inside a write)."""
        if self._writing:
            return
        latest = Manifest.read(self.root)
        if latest.version != self.manifest.version:
            self.attach(latest)

    def _materialize(self) -> None:
        """Turn the views into in-memory tables the transaction can change."""
        if self._materialized:
            return
        for name in self.manifest.names:
            copy = q(name + "__crmroi_copy")
            self.con.execute(f"CREATE TABLE {copy} AS SELECT * FROM {q(name)}")
            self.con.execute(f"DROP VIEW {q(name)}")
            self.con.execute(f"ALTER TABLE {copy} RENAME TO {q(name)}")
        for name in self._registered:
            self.con.unregister(name)
        self._registered = []
        self._materialized = True

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.root.lock():
            latest = Manifest.read(self.root)
            if latest.version != self.manifest.version:
                self.attach(latest)  # another writer committed since we opened
            self._materialize()
            written: set[str] = set()
            appended_from: dict[str, tuple[int, int]] | None = (
                {} if self.table_format == "delta" else None
            )
            self._writing = True
            try:
                self.con.execute("BEGIN TRANSACTION")
                try:
                    yield _RecordingTransaction(self.con, written, appended_from)
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
                self.con.execute("COMMIT")
                try:
                    self._publish(written, appended_from or {})
                except BaseException:
                    self.attach(Manifest.read(self.root))  # back to what is stored
                    raise
            finally:
                self._writing = False

    def _publish(self, written: set[str], appended_from: dict[str, tuple[int, int]]) -> None:
        """Write the changed tables (new Parquet files, or Delta commits), then swap
        the manifest."""
        tables = {name for (name,) in self.con.execute(_TABLES).fetchall()}
        every = ALL_TABLES in written
        known = set(self.manifest.names)
        changed = sorted(n for n in tables if every or n in written or n not in known)
        if not changed:
            return
        version = self.manifest.version + 1
        self._check_unchanged()
        if self.table_format == "delta":
            lake_delta.restore_unpinned(self.root, self.manifest.delta)
            pinned = dict(self.manifest.delta)
            for name in changed:
                first = (
                    -1
                    if every or name not in known
                    else self._new_rows_from(name, *appended_from.get(name, (-1, 0)))
                )
                where = f" WHERE rowid >= {first}" if first >= 0 else ""
                rows = self._rows(f"SELECT * FROM {q(name)}{where}")
                pinned[name] = lake_delta.write(self.root, name, rows, append=first >= 0)
            manifest = Manifest(version, table_format="delta", delta=dict(sorted(pinned.items())))
        else:
            files = dict(self.manifest.tables)
            for name in changed:
                files[name] = [self._write_parquet(name, version)]
            manifest = Manifest(version, {n: files[n] for n in sorted(files)})
        self._swap(manifest)

    def _new_rows_from(self, name: str, first: int, rows_before: int) -> int:
        """`first` when the rows from row id `first` on are exactly the rows the
        transaction added (so appending them gives the table); else -1 (rewrite it)."""
        if first < 0:
            return -1
        new, total = self.con.execute(
            f"SELECT count(*) FILTER (WHERE rowid >= {first}), count(*) FROM {q(name)}"
        ).fetchone()
        return first if new == total - rows_before else -1

    def _check_unchanged(self) -> None:
        """On an object store (no lock): refuse to commit over another writer's commit."""
        if self.root.folder is not None:
            return  # the folder's lock keeps other writers out
        stored = Manifest.read(self.root)
        if stored.version != self.manifest.version:
            raise WorkspaceError(
                f"{self.root}: another writer committed version {stored.version} while this "
                "one ran; nothing of this write is visible: run it again (on an object "
                "store, run one import at a time)"
            )

    def _rows(self, sql: str) -> pa.RecordBatchReader:
        reader: pa.RecordBatchReader = self.con.execute(sql).to_arrow_reader(_BATCH_ROWS)
        return reader

    def _write_parquet(self, name: str, version: int) -> str:
        """Copy one table to a new Parquet file of the lake; its path in the lake."""
        relative = f"tables/{name}/{version:06d}-{uuid.uuid4().hex[:12]}.parquet"
        if self.root.folder is None:
            self.root.write_parquet(relative, self._rows(f"SELECT * FROM {q(name)}"))
            return relative
        target = self.root.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(
            f"COPY (SELECT * FROM {q(name)}) TO {_sql_text(str(target))} "
            "(FORMAT PARQUET, COMPRESSION ZSTD)"
        )
        with open(target, "rb") as handle:
            os.fsync(handle.fileno())
        return relative

    def _swap(self, manifest: Manifest) -> None:
        """Record the version, then replace the manifest: the commit point."""
        text = manifest.text()
        if self.root.folder is None:
            self._check_unchanged()
            self.root.put_text(f"versions/{manifest.version}.json", text)
            self.root.put_text(MANIFEST, text)  # one PUT: the commit point
        else:
            (self.root.folder / "versions").mkdir(parents=True, exist_ok=True)
            _write_atomically(self.root.folder / "versions" / f"{manifest.version}.json", text)
            _write_atomically(self.root.folder / MANIFEST, text)  # the commit point
        self.manifest = manifest


class ReadOnlyEngine:
    """A lake read through Spark, or an older version: no writes."""

    name = "read-only"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        raise WorkspaceError(self.reason)
        yield  # pragma: no cover  (a generator, for contextmanager)


_OBJECTS = (
    "SELECT table_name, CASE WHEN table_type = 'VIEW' THEN 'VIEW' ELSE 'TABLE' END "
    "FROM information_schema.tables WHERE table_schema = 'main' "
    "AND table_catalog = current_database()"
)
_TABLES = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
    "AND table_catalog = current_database() AND table_type = 'BASE TABLE'"
)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def open_duckdb(location: LakeLocation, *, create: bool) -> tuple[BaseBackend, Any]:
    """An in-memory DuckDB over the lake's files, and its engine (writable at the newest)."""
    import ibis

    check_root(location, create=create)
    backend = ibis.duckdb.connect()
    engine = LakeEngine(backend, location)
    if location.version is None:
        return backend, engine
    engine.attach(read_manifest(location))
    return backend, ReadOnlyEngine(
        f"{location.root}: version {location.version} is read-only (time travel); "
        "open the workspace without ?version= to change it"
    )


def writable_form(location: LakeLocation, table_format: str) -> str:
    """The workspace URL that writes to the lake (through DuckDB, at the newest version)."""
    if location.url is not None:
        return location.url + ("?format=delta" if table_format == "delta" else "")
    return f"{DELTA_SCHEME if table_format == 'delta' else SCHEME}{location.folder}"


def check_root(location: LakeLocation, *, create: bool) -> None:
    """Refuse a local path that is a file, and (without `create`) a lake never written."""
    root = location.root
    if root.folder is not None and root.folder.exists() and not root.folder.is_dir():
        raise WorkspaceError(f"{root}: exists and is not a folder")
    if not create and not root.exists(MANIFEST):
        form = writable_form(location, location.table_format or "parquet")
        raise WorkspaceError(
            f"{root}: not a crmroi lake workspace (no {MANIFEST}); "
            f"create one with `crmroi import {form} ...`"
        )
