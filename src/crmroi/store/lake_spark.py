"""A lake workspace read by Spark: every table of one version as a temporary view.

Spark reads the Parquet files the manifest lists, or, in a Delta lake, the Parquet files
of each table's pinned Delta version (delta-rs lists them), so plain Spark reads a
Delta lake without the delta-spark jars. On an object store the files are read by
their `s3a://` (`gs://`, `abfs://`) URIs: the cluster needs the Hadoop connector of
that store (hadoop-aws for S3) and its credentials.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend

from crmroi.errors import ConfigurationError, WorkspaceError
from crmroi.store import lake_delta
from crmroi.store.lake import (
    LakeLocation,
    Manifest,
    ReadOnlyEngine,
    check_root,
    read_manifest,
    writable_form,
)
from crmroi.store.lake_files import spark_uri
from crmroi.store.schema import TABLES


def open_spark(location: LakeLocation) -> tuple[BaseBackend, ReadOnlyEngine, Any]:
    """An Ibis PySpark backend with every table of the lake as a temporary view."""
    import ibis

    check_root(location, create=False)
    root = location.root
    manifest = read_manifest(location)
    if not manifest.names:
        raise WorkspaceError(f"{root}: the lake has no tables yet; import first")
    session, owned = spark_session(location)
    try:
        for name in manifest.names:
            if manifest.table_format == "delta":
                uris, schema = lake_delta.files(root, name, manifest.delta[name])
            else:
                uris, schema = [root.uri(f) for f in manifest.tables[name]], None
            if uris:
                frame = session.read.parquet(*(spark_uri(u) for u in uris))
            else:  # a Delta version without a file: an empty table
                frame = session.createDataFrame([], _spark_ddl(schema or pa.schema([])))
            frame.createOrReplaceTempView(name)
        for name in _missing_tables(manifest):  # a lake written before the table existed
            session.createDataFrame(
                [], _spark_ddl(TABLES[name].arrow_schema())
            ).createOrReplaceTempView(name)
        backend = ibis.pyspark.connect(session)
    except Exception as exc:
        if owned:
            session.stop()
        raise WorkspaceError(f"{root}: Spark cannot read the lake ({_why(exc)})") from exc
    reason = (
        f"{root}: Spark reads this workspace; write to it (import, undo, settings) "
        f"through DuckDB: {writable_form(location, manifest.table_format)}"
    )
    return backend, ReadOnlyEngine(reason), session if owned else None


_SPARK_TYPES = {
    "string": "STRING", "timestamp[us]": "TIMESTAMP", "date32[day]": "DATE",
    "double": "DOUBLE", "int64": "BIGINT", "bool": "BOOLEAN",
}  # fmt: skip


def _missing_tables(manifest: Manifest) -> list[str]:
    """Canonical tables a lake's manifest lacks (it was written before they existed)."""
    return [name for name in TABLES if name not in manifest.names]


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


def _why(exc: BaseException) -> str:
    """The Java error's cause in one line, and what to do about a missing file system."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line.removeprefix(": ") for line in lines if "Exception" in line][:1]
    reason = causes[0] if causes else _first_line(exc)
    if "S3AFileSystem not found" in reason or "No FileSystem for scheme" in reason:
        reason += (
            "; Spark needs the Hadoop connector of this object store (hadoop-aws for s3a://, "
            "with its credentials in spark.hadoop.fs.s3a.*): see docs/workspaces.md"
        )
    return reason


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
