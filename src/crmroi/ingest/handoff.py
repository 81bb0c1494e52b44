"""Mapping files in another process and handing the result back without a large pickle.

`map_in_folder` runs in a worker process (`crmroi.web.workers.WorkPool.compute`): it reads
and maps the files (`crmroi.ingest.mapped.read_and_map`), links and summarises them with
the workspace rows the server copied (`crmroi.ingest.linking.link_apart`), and writes
each mapped table's rows, with the per-row fields beside them (file row, own name, link
names, link ids resolved by name), to an Arrow IPC file in `folder`; only the small rest
(reports, rejects, detected formats, the summary) is pickled back. `take_back`
memory-maps those files in the calling process: no copy and no long hold of the
interpreter lock, so the server's event loop keeps answering.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import overload

import pandas as pd
import pyarrow as pa

from crmroi.ingest.linking import Linked, LinkInputs, link_apart
from crmroi.ingest.mapped import FileReport, MappingInputs, Offload, read_and_map
from crmroi.ingest.mapping import MappingFile
from crmroi.ingest.transform import STR, MappedTable

LINE = "__crmroi_line"
OWN_NAME = "__crmroi_own_name"
NAME = "__crmroi_name:"  # + link column
RESOLVED = "__crmroi_resolved:"  # + link column: its ids once names were resolved


@dataclass(frozen=True)
class HandedFile:
    """One mapped file as it crosses the process boundary: its rows are in `rows`."""

    report: FileReport
    table: MappedTable  # `table`, `lines`, `record_names`, `names` emptied
    rows: Path
    has_own_name: bool
    names: tuple[str, ...]
    resolved: tuple[str, ...] = ()


def map_in_folder(
    paths: list[Path],
    mapping_file: MappingFile,
    entity: str | None,
    batch_id: str,
    inputs: MappingInputs,
    folder: Path,
    links: LinkInputs | None = None,
) -> tuple[list[HandedFile], Linked | None]:
    """Read, map (and with `links`, link and summarise) `paths` in a worker process and
    hand the rows over through `folder`; the resolved link ids travel in the same files."""
    files = read_and_map(paths, mapping_file, entity, batch_id, inputs)
    linked = None if links is None else link_apart([t for _, t in files], links)
    handed = []
    for i, (report, table) in enumerate(files):
        resolved = linked.resolved[i] if linked is not None else {}
        handed.append(_hand(report, table, folder / f"{i}.arrow", resolved))
    if linked is not None:
        linked = replace(linked, resolved=[{} for _ in files])  # in the files, not the pickle
    return handed, linked


def _hand(
    report: FileReport, table: MappedTable, path: Path, resolved: dict[str, pa.ChunkedArray]
) -> HandedFile:
    rows = table.table
    rows = rows.append_column(LINE, pa.array(table.lines, pa.int64()))
    own = table.record_names is not None
    if table.record_names is not None:
        rows = rows.append_column(OWN_NAME, _strings(table.record_names))
    for column, names in table.names.items():
        rows = rows.append_column(NAME + column, _strings(names))
    for column, ids in resolved.items():
        rows = rows.append_column(RESOLVED + column, ids)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, rows.schema) as writer:
        writer.write_table(rows)
    # an empty table of the same schema: a zero-length slice would pickle all its buffers
    empty = table.table.schema.empty_table()
    light = replace(table, table=empty, lines=[], record_names=None, names={})
    return HandedFile(report, light, path, own, tuple(table.names), tuple(resolved))


def _strings(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """Arrow-backed strings (`STR`) as they are, without a copy; missing values null."""
    return pa.array(series.astype(STR), from_pandas=True)


def take_back(
    handed: list[HandedFile], linked: Linked | None = None
) -> list[tuple[FileReport, MappedTable]]:
    """The mapped files `map_in_folder` handed over, their rows memory-mapped; `linked`
    (as it came back) gets its resolved link columns back from the files."""
    out = []
    for i, item in enumerate(handed):
        with pa.memory_map(str(item.rows)) as source:
            rows = pa.ipc.open_file(source).read_all()
        extra = [LINE, *([OWN_NAME] if item.has_own_name else []), *(NAME + n for n in item.names)]
        extra += [RESOLVED + n for n in item.resolved]
        table = item.table
        table.table = rows.drop_columns(extra)
        table.lines = Lines(rows.column(LINE))
        if item.has_own_name:
            table.record_names = _series(rows.column(OWN_NAME))
        table.names = {n: _series(rows.column(NAME + n)) for n in item.names}
        if linked is not None:
            linked.resolved[i] = {n: rows.column(RESOLVED + n) for n in item.resolved}
        out.append((item.report, table))
    return out


class Lines(Sequence[int]):
    """The file rows of a handed-back table, kept as the memory-mapped column: no Python
    list of a million ints is made (holding the interpreter lock) until one is asked for."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        self._rows = column.to_numpy()  # int64 without nulls: no copy

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return list(self._rows[index].tolist())
        return int(self._rows[index])

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def _series(column: pa.ChunkedArray) -> pd.Series:
    """Back to Arrow-backed pandas strings (`STR`), without a copy."""
    return pd.Series(column.to_pandas(types_mapper=lambda _: STR), dtype=STR)


@contextlib.contextmanager
def handoff_folder() -> Iterator[Path]:
    """A private temporary folder for one handover (removed afterwards; the memory-mapped
    rows stay readable until they are no longer used)."""
    with tempfile.TemporaryDirectory(prefix="crmroi-mapped-", ignore_cleanup_errors=True) as folder:
        os.chmod(folder, 0o700)
        yield Path(folder)


def map_elsewhere(
    offload: Offload,
    paths: list[Path],
    mapping_file: MappingFile,
    entity: str | None,
    batch_id: str,
    inputs: MappingInputs,
    links: LinkInputs | None = None,
) -> tuple[list[tuple[FileReport, MappedTable]], Linked | None]:
    """`read_and_map` (and `link_apart`, with `links`) run by `offload` (e.g. in a worker
    process), handed back by file."""
    with handoff_folder() as folder:
        handed, linked = offload(
            map_in_folder, paths, mapping_file, entity, batch_id, inputs, folder, links
        )
        return take_back(handed, linked), linked
