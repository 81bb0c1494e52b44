"""The Delta Lake table format of a lake workspace, through delta-rs (`deltalake`).

In a Delta lake each canonical table is a Delta table, `tables/<name>/` with its
`_delta_log/`; Spark with delta-spark, Databricks, Trino, DuckDB's delta extension and
delta-rs read it, and a Delta table's own versions give time travel and `RESTORE`.

Delta commits one table at a time, and a crmroi write (an import) changes several
tables at once. So the lake's manifest stays the commit point: it pins, for each
table, the Delta version that belongs to the workspace version. A process killed after
some tables' commits and before the manifest swap leaves Delta versions no manifest
names; readers never see them (they read the pinned versions), and the next writer
restores each such table to its pinned version (a Delta `RESTORE`, itself a commit)
before it writes.

delta-rs (Rust, no JVM) was chosen over delta-spark, which needs Spark's JVM and its
jars from Maven to write at all, and over DuckDB's `delta` extension, which DuckDB
downloads from its own server at run time: delta-rs is one wheel from PyPI that writes
and reads Delta tables on a local disk and on S3, GCS and Azure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from crmroi.errors import ConfigurationError, WorkspaceError
from crmroi.store.lake_files import LakeRoot

if TYPE_CHECKING:  # pyarrow.dataset loads pandas: 0.4 s for every command that opens a store
    import pyarrow.dataset as pads


def _deltalake() -> Any:
    try:
        import deltalake
    except ImportError:
        raise ConfigurationError(
            "Delta Lake workspaces need the deltalake package: pip install 'crmroi[delta]'"
        ) from None
    return deltalake


def table_uri(root: LakeRoot, name: str) -> str:
    """Where the Delta table of canonical table `name` lives."""
    return root.uri(f"tables/{name}")


def open_table(root: LakeRoot, name: str, version: int | None = None) -> Any:
    """The `deltalake.DeltaTable` of `name`, at `version` (the newest without one)."""
    deltalake = _deltalake()
    try:
        return deltalake.DeltaTable(
            table_uri(root, name), version=version, storage_options=root.storage_options()
        )
    except Exception as exc:  # TableNotFoundError, DeltaError, OSError
        raise WorkspaceError(
            f"{table_uri(root, name)}: cannot read Delta version {version} ({exc})"
        ) from exc


def dataset(root: LakeRoot, name: str, version: int) -> pads.Dataset:
    """Version `version` of the Delta table as an Arrow dataset (read lazily)."""
    result: pads.Dataset = open_table(root, name, version).to_pyarrow_dataset()
    return result


def files(root: LakeRoot, name: str, version: int) -> tuple[list[str], pa.Schema]:
    """The Parquet files of one version (what Spark without delta-spark reads) and its
    schema (for a version without any file: an empty table)."""
    table = open_table(root, name, version)
    schema: pa.Schema = table.to_pyarrow_dataset().schema
    return [str(uri) for uri in table.file_uris()], schema


def write(root: LakeRoot, name: str, rows: pa.RecordBatchReader, *, append: bool) -> int:
    """Commit `rows` to the Delta table (appended, or replacing its content); the new
    Delta version."""
    deltalake = _deltalake()
    options = root.storage_options()
    deltalake.write_deltalake(
        table_uri(root, name),
        rows,
        mode="append" if append else "overwrite",
        schema_mode=None if append else "overwrite",
        storage_options=options,
    )
    return int(open_table(root, name).version())


def restore_unpinned(root: LakeRoot, pinned: dict[str, int]) -> list[str]:
    """Restore every table whose newest Delta version is not the pinned one (a writer
    killed before its manifest swap); the tables restored."""
    restored = []
    for name, version in sorted(pinned.items()):
        table = open_table(root, name)
        if int(table.version()) != version:
            table.restore(version)
            restored.append(name)
    return restored
