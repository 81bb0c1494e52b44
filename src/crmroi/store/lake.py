"""The open-table workspace: the canonical tables as Parquet files in a folder.

A lake workspace is a folder holding `crmroi-lake.json` (the manifest: its version
and, for every table, the Parquet files that make it up) and `tables/<name>/*.parquet`.
Any engine that reads Parquet reads it; crmroi reads it with DuckDB (a laptop) or
Spark (a cluster), running the same Ibis code as on the other workspaces.

Writes (import, undo, settings) run in an in-memory DuckDB over the files, with the
SQL of the DuckDB workspace. On commit every table the transaction wrote is copied to
a new Parquet file, then the manifest is replaced in one `os.replace`: a reader, or a
process killed half-way, sees the previous version or the new one, never a mix.
Writers take an exclusive lock on the folder and start from the newest version. Each
version's manifest is also kept in `versions/`, so `?version=N` reads the workspace
as it was after version N (time travel; read-only).

Workspace forms: `parquet:///abs/folder` or `parquet://rel/folder` (DuckDB),
`parquet:///abs/folder?engine=spark&master=local[2]` (Spark; `master` may be a
`spark://` cluster URL, or `remote=sc://host:15002` for Spark Connect / Databricks
Connect), and a plain folder path that holds `crmroi-lake.json`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

import pyarrow as pa
from ibis.backends import BaseBackend

from crmroi.errors import ConfigurationError, WorkspaceError
from crmroi.store.engines import DuckDBTransaction, Transaction, q
from crmroi.store.schema import TABLES

SCHEME = "parquet://"
MANIFEST = "crmroi-lake.json"
FORMAT = "crmroi-lake/1"
ENGINES = ("duckdb", "spark")

_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE|CREATE\s+TABLE)\s+(?:"((?:[^"]|"")+)"|(\w+))',
    re.IGNORECASE,
)
_CHANGES = ("INSERT", "DELETE", "UPDATE", "CREATE", "ALTER", "DROP", "TRUNCATE", "MERGE", "WITH")
ALL_TABLES = "*"
"""Noted for a statement that may write but whose table is not recognised: publish all."""


@dataclass(frozen=True)
class LakeLocation:
    """Where a lake workspace is and which engine reads it."""

    folder: Path
    engine: str = "duckdb"
    master: str | None = None
    remote: str | None = None
    version: int | None = None


def is_lake(location: str | Path) -> bool:
    """True for a `parquet://` URL or a folder holding a lake manifest."""
    text = str(location)
    if text.startswith(SCHEME):
        return True
    return "://" not in text and (Path(text) / MANIFEST).is_file()


def parse_location(location: str | Path) -> LakeLocation:
    """Read `parquet://FOLDER?engine=...&master=...&remote=...&version=N` or a folder."""
    text = str(location)
    if not text.startswith(SCHEME):
        return LakeLocation(Path(text))
    path, _, query = text[len(SCHEME) :].partition("?")
    if not path:
        raise ConfigurationError(f"{text}: no folder after {SCHEME}")
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = sorted(set(params) - {"engine", "master", "remote", "version"})
    if unknown:
        raise ConfigurationError(
            f"{text}: unknown parameter {unknown[0]!r} (engine, master, remote, version)"
        )
    engine = params.get("engine", "duckdb")
    if engine not in ENGINES:
        raise ConfigurationError(f"{text}: engine={engine!r}; choose duckdb or spark")
    if engine == "duckdb" and ("master" in params or "remote" in params):
        raise ConfigurationError(f"{text}: master and remote need engine=spark")
    version = params.get("version")
    if version is not None and not version.isdigit():
        raise ConfigurationError(f"{text}: version={version!r} is not a version number")
    return LakeLocation(
        Path(path),
        engine,
        params.get("master"),
        params.get("remote"),
        None if version is None else int(version),
    )


@dataclass
class Manifest:
    """One version of the workspace: table name -> Parquet files (relative to the folder)."""

    version: int = 0
    tables: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path, version: int | None = None) -> Manifest:
        path = folder / MANIFEST if version is None else folder / "versions" / f"{version}.json"
        if not path.exists():
            if version is not None:
                raise WorkspaceError(f"{folder}: the workspace has no version {version}")
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            tables = {str(k): [str(f) for f in v] for k, v in data["tables"].items()}
            return cls(int(data["version"]), tables)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WorkspaceError(f"{path}: not a crmroi lake manifest ({exc})") from exc

    def text(self) -> str:
        body = {"format": FORMAT, "version": self.version, "tables": self.tables}
        return json.dumps(body, indent=1, sort_keys=True) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never a part."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _RecordingTransaction(DuckDBTransaction):
    """The DuckDB transaction, noting which tables its statements write."""

    def __init__(self, con: Any, written: set[str]) -> None:
        super().__init__(con)
        self.written = written

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        result = super().execute(sql, params)
        match = _WRITE.match(sql)
        if match:
            if not _changed_nothing(sql, result):
                quoted, bare = match.groups()
                self.written.add(quoted.replace('""', '"') if quoted else bare.lower())
        elif sql.split(None, 1)[:1] and sql.split(None, 1)[0].upper() in _CHANGES:
            self.written.add(ALL_TABLES)  # a write not recognised: publish every table
        return result


def _changed_nothing(sql: str, result: list[tuple[Any, ...]]) -> bool:
    """True for an INSERT, DELETE or UPDATE that DuckDB reports as touching no row."""
    is_dml = not sql.lstrip()[:6].upper().startswith("CREATE")
    return is_dml and result == [(0,)]


class LakeEngine:
    """Transactions over a lake folder: DuckDB in memory, Parquet files and a manifest."""

    name = "duckdb"

    def __init__(self, backend: BaseBackend, folder: Path) -> None:
        self.con = backend.con
        self.folder = folder
        self.manifest = Manifest.read(folder)
        self._materialized = False
        self._writing = False
        self.attach(self.manifest)

    def attach(self, manifest: Manifest) -> None:
        """Show `manifest`'s files as views (reads stream from Parquet; nothing is copied)."""
        present = {row[0]: row[1] for row in self.con.execute(_OBJECTS).fetchall()}
        for name, kind in present.items():
            self.con.execute(f"DROP {kind} IF EXISTS {q(name)}")
        for name, files in manifest.tables.items():
            paths = ", ".join(_sql_text(str(self.folder / f)) for f in files)
            self.con.execute(f"CREATE VIEW {q(name)} AS SELECT * FROM read_parquet([{paths}])")
        self.manifest = manifest
        self._materialized = False

    def refresh(self) -> None:
        """Show the newest version if another writer committed since (none inside a write)."""
        if self._writing:
            return
        latest = Manifest.read(self.folder)
        if latest.version != self.manifest.version:
            self.attach(latest)

    def _materialize(self) -> None:
        """Turn the views into in-memory tables the transaction can change."""
        if self._materialized:
            return
        for name in self.manifest.tables:
            copy = q(name + "__crmroi_copy")
            self.con.execute(f"CREATE TABLE {copy} AS SELECT * FROM {q(name)}")
            self.con.execute(f"DROP VIEW {q(name)}")
            self.con.execute(f"ALTER TABLE {copy} RENAME TO {q(name)}")
        self._materialized = True

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with _locked(self.folder / ".crmroi-lake.lock"):
            latest = Manifest.read(self.folder)
            if latest.version != self.manifest.version:
                self.attach(latest)  # another writer committed since we opened
            self._materialize()
            written: set[str] = set()
            self._writing = True
            try:
                self.con.execute("BEGIN TRANSACTION")
                try:
                    yield _RecordingTransaction(self.con, written)
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
                self.con.execute("COMMIT")
                try:
                    self._publish(written)
                except BaseException:
                    self.attach(Manifest.read(self.folder))  # back to what is on disk
                    raise
            finally:
                self._writing = False

    def _publish(self, written: set[str]) -> None:
        """Copy the written tables to new Parquet files, then swap the manifest."""
        tables = {name for (name,) in self.con.execute(_TABLES).fetchall()}
        every = ALL_TABLES in written
        changed = sorted(
            n for n in tables if every or n in written or n not in self.manifest.tables
        )
        if not changed:
            return
        version = self.manifest.version + 1
        files = dict(self.manifest.tables)
        for name in changed:
            relative = f"tables/{name}/{version:06d}-{uuid.uuid4().hex[:12]}.parquet"
            target = self.folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            self.con.execute(
                f"COPY (SELECT * FROM {q(name)}) TO {_sql_text(str(target))} "
                "(FORMAT PARQUET, COMPRESSION ZSTD)"
            )
            with open(target, "rb") as handle:
                os.fsync(handle.fileno())
            files[name] = [relative]
        manifest = Manifest(version, {n: files[n] for n in sorted(files)})
        (self.folder / "versions").mkdir(exist_ok=True)
        _write_atomically(self.folder / "versions" / f"{version}.json", manifest.text())
        _write_atomically(self.folder / MANIFEST, manifest.text())  # the commit point
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


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def open_duckdb(location: LakeLocation, *, create: bool) -> tuple[BaseBackend, Any]:
    """An in-memory DuckDB over the lake's files, and its engine (writable at the newest)."""
    import ibis

    _check_folder(location.folder, create=create)
    backend = ibis.duckdb.connect()
    if location.version is None:
        return backend, LakeEngine(backend, location.folder)
    engine = LakeEngine(backend, location.folder)
    engine.attach(Manifest.read(location.folder, location.version))
    return backend, ReadOnlyEngine(
        f"{location.folder}: version {location.version} is read-only (time travel); "
        "open the workspace without ?version= to change it"
    )


def open_spark(location: LakeLocation) -> tuple[BaseBackend, ReadOnlyEngine, Any]:
    """An Ibis PySpark backend with every table of the lake as a temporary view."""
    import ibis

    _check_folder(location.folder, create=False)
    manifest = Manifest.read(location.folder, location.version)
    if not manifest.tables:
        raise WorkspaceError(f"{location.folder}: the lake has no tables yet; import first")
    session, owned = spark_session(location)
    try:
        for name, files in manifest.tables.items():
            frame = session.read.parquet(*(str((location.folder / f).resolve()) for f in files))
            frame.createOrReplaceTempView(name)
        for name in _missing_tables(manifest):  # a lake written before the table existed
            session.createDataFrame(
                [], _spark_ddl(TABLES[name].arrow_schema())
            ).createOrReplaceTempView(name)
        backend = ibis.pyspark.connect(session)
    except Exception as exc:
        if owned:
            session.stop()
        raise WorkspaceError(f"{location.folder}: Spark cannot read the lake ({exc})") from exc
    reason = (
        f"{location.folder}: Spark reads this workspace; write to it (import, undo, settings) "
        f"through DuckDB: parquet://{location.folder}"
    )
    return backend, ReadOnlyEngine(reason), session if owned else None


_SPARK_TYPES = {
    "string": "STRING", "timestamp[us]": "TIMESTAMP", "date32[day]": "DATE",
    "double": "DOUBLE", "int64": "BIGINT", "bool": "BOOLEAN",
}  # fmt: skip


def _missing_tables(manifest: Manifest) -> list[str]:
    """Canonical tables a lake's manifest lacks (it was written before they existed)."""
    return [name for name in TABLES if name not in manifest.tables]


def _spark_ddl(schema: pa.Schema) -> str:
    """A Spark DDL schema string ("kpi STRING, value DOUBLE") for an Arrow schema."""
    return ", ".join(f"`{f.name}` {_SPARK_TYPES[str(f.type)]}" for f in schema)


def spark_session(location: LakeLocation) -> tuple[Any, bool]:
    """The Spark session to use, and whether crmroi started it (and so stops it)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigurationError(
            "Spark workspaces need pyspark: pip install 'crmroi[spark]' (and Java 17+)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None and location.master is None and location.remote is None:
        return active, False
    builder: Any = SparkSession.builder.appName("crmroi")
    if location.remote is not None:
        builder = builder.remote(location.remote)
    else:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.master(location.master or os.environ.get("SPARK_MASTER", "local[2]"))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        )
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise WorkspaceError(f"cannot start Spark ({_first_line(exc)})") from exc
    with contextlib.suppress(Exception):  # Spark Connect sessions have no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    return session, True


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _check_folder(folder: Path, *, create: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"{folder}: exists and is not a folder")
    if not create and not (folder / MANIFEST).is_file():
        raise WorkspaceError(
            f"{folder}: not a crmroi lake workspace (no {MANIFEST}); "
            f"create one with `crmroi import {SCHEME}{folder} ...`"
        )
