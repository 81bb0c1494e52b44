"""Where a lake's files live: a local folder, or an object-store prefix (pyarrow.fs).

`parse_location` reads a workspace URL (`parquet://`, `delta://`, `s3://`, …) into a
`LakeLocation`.

`LakeRoot` gives the lake the few file operations it needs (read and replace a small
text file, write a Parquet file from a stream of record batches, open Parquet files
as one Arrow dataset, the URI another engine reads a file by) on either kind of place.
A local folder keeps what only a local file system has: `fsync`, an atomic rename and
an exclusive lock. An object store (`s3://bucket/prefix`, `gs://…`, `abfs://…`) has
none of these; a PUT of one object is atomic (a reader sees the old object or the new
one), which is what the manifest swap needs, and concurrent writers are detected (the
manifest changed under us) instead of waited for (see `crmroi.store.lake`).

Credentials and the endpoint come from the environment, as every S3 tool reads them:
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL` (an
S3-compatible server such as MinIO), and `GOOGLE_APPLICATION_CREDENTIALS` or
`AZURE_STORAGE_ACCOUNT_NAME`/`AZURE_STORAGE_ACCOUNT_KEY` for the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import parse_qs

import pyarrow as pa
import pyarrow.fs as pafs

from crmroi.errors import ConfigurationError, WorkspaceError

if TYPE_CHECKING:  # loaded where used: pyarrow.dataset loads pandas (0.4 s per command)
    import pyarrow.dataset as pads

OBJECT_STORES = ("s3://", "gs://", "gcs://", "abfs://", "abfss://")
"""URL schemes of the object stores pyarrow.fs reaches (the lake's own URL scheme)."""
SCHEME = "parquet://"
DELTA_SCHEME = "delta://"
MANIFEST = "crmroi-lake.json"
ENGINES = ("duckdb", "spark")
TABLE_FORMATS = ("parquet", "delta")
_PARAMETERS = ("engine", "master", "remote", "version", "format")


def is_object_store(location: str) -> bool:
    """True for an `s3://`, `gs://`, `gcs://`, `abfs://` or `abfss://` URL."""
    return location.startswith(OBJECT_STORES)


class LakeRoot:
    """The lake's top folder: `folder` (local) or `url` (an object-store prefix)."""

    def __init__(self, folder: Path | None = None, url: str | None = None) -> None:
        if (folder is None) == (url is None):
            raise ValueError("a lake root is a local folder or an object-store URL")
        self.folder = folder
        self.url = None if url is None else url.rstrip("/")
        self._fs: pafs.FileSystem | None = None
        self._base = ""

    @property
    def local(self) -> bool:
        return self.folder is not None

    def __str__(self) -> str:
        return str(self.folder) if self.folder is not None else str(self.url)

    @property
    def fs(self) -> pafs.FileSystem:
        """The pyarrow file system (connected on first use)."""
        if self._fs is None:
            if self.folder is not None:
                self._fs, self._base = pafs.LocalFileSystem(), str(self.folder.resolve())
            else:
                try:
                    self._fs, self._base = pafs.FileSystem.from_uri(str(self.url))
                except (OSError, ValueError, pa.ArrowException) as exc:
                    raise WorkspaceError(
                        f"{self.url}: cannot reach the object store ({exc})"
                    ) from exc
        return self._fs

    def path(self, relative: str) -> str:
        """The file system path of a file of the lake (for `fs`)."""
        self.fs  # noqa: B018  (sets _base)
        return f"{self._base.rstrip('/')}/{relative}" if relative else self._base

    def uri(self, relative: str = "") -> str:
        """What another engine (Spark, delta-rs) opens the file by: a path or a URL."""
        if self.folder is not None:
            return str((self.folder / relative).resolve()) if relative else str(self.folder)
        return f"{self.url}/{relative}" if relative else str(self.url)

    # -- small text files (the manifest) -----------------------------------------
    def read_text(self, relative: str) -> str | None:
        """A text file's content, or None when it does not exist."""
        if self.folder is not None:
            path = self.folder / relative
            return path.read_text(encoding="utf-8") if path.exists() else None
        try:
            with self.fs.open_input_stream(self.path(relative)) as stream:
                return bytes(stream.read()).decode("utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            if "NoSuchKey" in str(exc) or "not found" in str(exc).lower():
                return None
            raise WorkspaceError(f"{self.uri(relative)}: cannot read ({exc})") from exc

    def put_text(self, relative: str, text: str) -> None:
        """Replace an object in one PUT (object stores: readers see old or new, never a part)."""
        with self.fs.open_output_stream(self.path(relative)) as stream:
            stream.write(text.encode("utf-8"))

    def exists(self, relative: str) -> bool:
        if self.folder is not None:
            return (self.folder / relative).exists()
        return bool(self.fs.get_file_info(self.path(relative)).type != pafs.FileType.NotFound)

    # -- table files ------------------------------------------------------------------
    def write_parquet(self, relative: str, reader: pa.RecordBatchReader) -> None:
        """Write a stream of record batches as one ZSTD Parquet file (bounded memory)."""
        import pyarrow.parquet as pq

        with (
            self.fs.open_output_stream(self.path(relative)) as stream,
            pq.ParquetWriter(stream, reader.schema, compression="zstd") as writer,
        ):
            for batch in reader:
                writer.write_batch(batch)

    def dataset(self, relatives: list[str], schema: pa.Schema | None = None) -> pads.Dataset:
        """Parquet files of the lake as one Arrow dataset (read lazily, as scanned)."""
        import pyarrow.dataset as pads

        paths = [self.path(r) for r in relatives]
        return pads.dataset(paths, schema=schema, format="parquet", filesystem=self.fs)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive among writers on a local folder; on an object store, nothing to
        hold (the writer checks the manifest did not change before it swaps it)."""
        if self.folder is None:
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with _locked(self.folder / ".crmroi-lake.lock"):
            yield

    def storage_options(self) -> dict[str, str] | None:
        """delta-rs options for this store: plain HTTP allowed for an `http://` endpoint."""
        if self.folder is not None:
            return None
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        s3 = self.url is not None and self.url.startswith("s3://")
        if s3 and endpoint and endpoint.startswith("http://"):
            return {"AWS_ALLOW_HTTP": "true"}
        return None


@dataclass(frozen=True)
class LakeLocation:
    """Where a lake workspace is, its table format and which engine reads it.

    `folder` is a local folder; `url` an object-store prefix (then `folder` is None).
    `table_format` None: the format the manifest says (Parquet for a new lake).
    """

    folder: Path | None
    engine: str = "duckdb"
    master: str | None = None
    remote: str | None = None
    version: int | None = None
    url: str | None = None
    table_format: str | None = None

    @property
    def root(self) -> LakeRoot:
        return LakeRoot(self.folder, self.url)


def is_lake(location: str | Path) -> bool:
    """True for a `parquet://`, `delta://` or object-store URL, or a folder holding a
    lake manifest."""
    text = str(location)
    if text.startswith((SCHEME, DELTA_SCHEME)) or is_object_store(text):
        return True
    return "://" not in text and (Path(text) / MANIFEST).is_file()


def parse_location(location: str | Path) -> LakeLocation:
    """Read `parquet://FOLDER`, `delta://FOLDER` or `s3://BUCKET/PREFIX`, each with
    `?engine=...&master=...&remote=...&version=N&format=parquet|delta`, or a folder."""
    text = str(location)
    scheme = next((s for s in (SCHEME, DELTA_SCHEME) if text.startswith(s)), None)
    if scheme is None and not is_object_store(text):
        return LakeLocation(Path(text))
    path, _, query = text[len(scheme or "") :].partition("?")
    if not path or (scheme is None and not path.split("://", 1)[1].strip("/")):
        raise ConfigurationError(f"{text}: no folder after {scheme or path}")
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = sorted(set(params) - set(_PARAMETERS))
    if unknown:
        raise ConfigurationError(
            f"{text}: unknown parameter {unknown[0]!r} ({', '.join(_PARAMETERS)})"
        )
    table_format = params.get("format", "delta" if scheme == DELTA_SCHEME else None)
    if table_format is not None and table_format not in TABLE_FORMATS:
        raise ConfigurationError(f"{text}: format={table_format!r}; choose parquet or delta")
    if scheme == DELTA_SCHEME and table_format != "delta":
        raise ConfigurationError(f"{text}: a delta:// workspace is in the delta format")
    engine = params.get("engine", "duckdb")
    if engine not in ENGINES:
        raise ConfigurationError(f"{text}: engine={engine!r}; choose duckdb or spark")
    if engine == "duckdb" and ("master" in params or "remote" in params):
        raise ConfigurationError(f"{text}: master and remote need engine=spark")
    version = params.get("version")
    if version is not None and not version.isdigit():
        raise ConfigurationError(f"{text}: version={version!r} is not a version number")
    return LakeLocation(
        None if scheme is None else Path(path),
        engine,
        params.get("master"),
        params.get("remote"),
        None if version is None else int(version),
        url=path if scheme is None else None,
        table_format=table_format,
    )


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never a part."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def spark_uri(uri: str) -> str:
    """The URI Spark (Hadoop) reads an object-store file by: `s3://` is `s3a://` there."""
    return "s3a://" + uri.removeprefix("s3://") if uri.startswith("s3://") else uri
