"""Reading and mapping an import's files: the slow half of an import, and a pure one.

Reading a file and mapping its rows needs nothing from the workspace but its base
currency and FX rates. A server copies those (`MappingInputs`) holding the workspace
for a moment, reads and maps the files without holding it (`map_unlocked`), and holds
it again only to write; the write checks the rates are still the ones it mapped with
(`MappedFiles.fingerprint`) and maps again when another import changed them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from crmroi.errors import InputFileError
from crmroi.ingest import refusals
from crmroi.ingest.baselines import check_baselines
from crmroi.ingest.columns import ValueCount
from crmroi.ingest.currency import FxRates
from crmroi.ingest.headers import check_duplicates, mapping_names
from crmroi.ingest.linking import Linked, link_apart, link_inputs
from crmroi.ingest.mapping import MappingFile, TableMapping, choose_table_mapping
from crmroi.ingest.reading import RawTable, read_raw
from crmroi.ingest.staging import (
    StreamPlan,
    map_stream,
    plan_stream,
    spool_rejects,
    streamable,
)
from crmroi.ingest.streaming import NotStreamable
from crmroi.ingest.transform import MappedTable, map_table
from crmroi.store.store import Store

StoreHolder = Callable[[], AbstractContextManager[Store]]
"""Gives the workspace for the duration of a `with` block (e.g. `WorkspaceAccess.store`)."""

Offload = Callable[..., Any]
"""Runs `fn(*args)` elsewhere (e.g. a worker process) and returns its result."""


@dataclass
class FileReport:
    """What happened to one file."""

    path: Path
    entity: str
    label: str
    rows_in: int
    rejected: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    detected: dict[str, str] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    values: list[ValueCount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True)
class MappingInputs:
    """What mapping reads from the workspace: base currency, FX rates, and their digest."""

    base_currency: str
    fx_rates: pd.DataFrame
    fingerprint: str

    @property
    def rates(self) -> FxRates:
        return FxRates.from_frame(self.base_currency, self.fx_rates)


@dataclass
class MappedFiles:
    """Files read and mapped with the workspace's rates of `fingerprint`, not yet written;
    `linked`: their links and summary, found where they were mapped (`crmroi.ingest.linking`)."""

    batch_id: str
    started: datetime
    fingerprint: str
    files: list[tuple[FileReport, MappedTable]]
    linked: Linked | None = None


def mapping_inputs(store: Store) -> MappingInputs:
    """Copy the base currency and FX rates (sorted, so equal rates give one digest)."""
    base = store.base_currency
    frame = store.table("fx_rates").to_pandas()
    frame = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    digest = hashlib.sha256(base.encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(",".join(map(str, frame.columns)).encode())
    return MappingInputs(base, frame, digest.hexdigest()[:16])


def workspace_fingerprint(store: Store) -> str:
    """The digest of what mapping reads from the workspace now."""
    return mapping_inputs(store).fingerprint


def new_batch_id(source_system: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{source_system}-{stamp}-{uuid.uuid4().hex[:8]}"


def now() -> datetime:
    """The current UTC time, naive (as the workspace stores timestamps)."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()


def map_unlocked(
    hold: StoreHolder,
    paths: list[Path],
    mapping_file: MappingFile,
    entity: str | None = None,
    offload: Offload | None = None,
) -> MappedFiles:
    """Read, map, link and summarise `paths`, holding the workspace only while its rates
    and the rows linking reads are copied.

    `offload(fn, *args)`: where the reading and mapping run (a web server passes its
    worker processes, `crmroi.web.workers.WorkPool.compute`); here when None.
    Raises `InputFileError`/`MappingError` for a file that cannot be read or mapped.
    """
    started = now()
    with hold() as store:
        inputs = mapping_inputs(store)
        links = link_inputs(store, mapping_file, entity)
    batch_id = new_batch_id(mapping_file.source_system)
    if offload is None:
        files = read_and_map(paths, mapping_file, entity, batch_id, inputs)
        linked = None if links is None else link_apart([t for _, t in files], links)
    else:
        from crmroi.ingest.handoff import map_elsewhere

        files, linked = map_elsewhere(offload, paths, mapping_file, entity, batch_id, inputs, links)
    return MappedFiles(batch_id, started, inputs.fingerprint, files, linked)


def read_and_map(
    paths: list[Path],
    mapping_file: MappingFile,
    entity: str | None,
    batch_id: str,
    inputs: MappingInputs,
) -> list[tuple[FileReport, MappedTable]]:
    """Read and map `paths` with the rates of `inputs` (needs no workspace: picklable
    arguments, so it can run in another process)."""
    read = read_files(paths, mapping_file, entity, lambda _: None)
    return map_files(read, mapping_file, batch_id, inputs.rates, lambda _: None)


def read_files(
    paths: list[Path],
    mapping_file: MappingFile,
    entity: str | None,
    step: Callable[[str], None],
    stream: Store | None = None,
) -> list[tuple[RawTable | StreamPlan, TableMapping]]:
    """Read every file with its table mapping(s), fx_rates first (the others use them).

    With `stream` (the workspace), a large text file is only opened (`StreamPlan`): its
    blocks are read and staged in the workspace when it is mapped (`crmroi.ingest.staging`)."""
    read: list[tuple[RawTable | StreamPlan, TableMapping]] = []
    for path in paths:
        step(f"reading {path.name}")
        if stream is not None and streamable(stream, path, mapping_file):
            try:
                plan = plan_stream(path, mapping_file, entity)
                read.append((plan, plan.mapping))
                continue
            except NotStreamable:
                pass
        read.extend(read_for_mapping(path, mapping_file, entity))
    read.sort(key=lambda pair: pair[1].entity != "fx_rates")
    return read


def map_files(
    read: list[tuple[RawTable | StreamPlan, TableMapping]],
    mapping_file: MappingFile,
    batch_id: str,
    rates: FxRates,
    step: Callable[[str], None],
    store: Store | None = None,
) -> list[tuple[FileReport, MappedTable]]:
    """Map every read file; fx_rates files first, partial files last (they update the rest).

    A `StreamPlan` is mapped block by block into `store`; a file that turns out to need
    reading whole (`NotStreamable`) is read whole."""
    out: list[tuple[FileReport, MappedTable]] = []
    system = mapping_file.source_system
    optional = mapping_file.missing_columns == "ignore"
    try:
        for item, table_mapping in read:
            if isinstance(item, StreamPlan):
                assert store is not None, "a streamed file is staged in the workspace"
                step(f"reading and mapping {item.stream.path.name}")
                try:
                    table = map_stream(
                        store,
                        item,
                        source_system=system,
                        batch_id=batch_id,
                        rates=rates,
                        columns_optional=optional,
                        note=getattr(step, "note", step),
                    )
                except NotStreamable:
                    path, entity = item.stream.path, item.mapping.entity
                    whole = read_for_mapping(path, mapping_file, entity)
                    for raw, tm in whole:
                        out.append(_map_raw(raw, tm, system, batch_id, rates, optional))
                        spool_rejects(store, out[-1][1])
                    continue
                s = item.stream
                out.append((_file_report(table, s.path, s.encoding, s.delimiter, s.names), table))
                continue
            step(f"mapping {item.path.name}")
            report, table = _map_raw(item, table_mapping, system, batch_id, rates, optional)
            if store is not None and streamable(store, item.path, mapping_file):
                spool_rejects(store, table)  # a large file read whole after all
            if table.entity == "fx_rates":
                rates = rates.with_rates(
                    table.table.select(["rate_date", "currency", "rate_to_base"]).to_pandas()
                )
            out.append((report, table))
    except BaseException:  # a later file failed: the staged rows of earlier ones go too
        drop_staged(out)
        raise
    out.sort(key=lambda pair: (pair[1].entity != "fx_rates", pair[1].given is not None))
    return out


def _map_raw(
    raw: RawTable,
    table_mapping: TableMapping,
    source_system: str,
    batch_id: str,
    rates: FxRates,
    columns_optional: bool,
) -> tuple[FileReport, MappedTable]:
    """Map one file read whole."""
    table = map_table(
        raw,
        table_mapping,
        source_system=source_system,
        batch_id=batch_id,
        rates=rates,
        columns_optional=columns_optional,
    )
    table = check_baselines(table)  # supplied baselines: one value a month
    table.warnings = [*raw.warnings, *table.warnings]  # e.g. garbled-looking text
    header = [str(c) for c in raw.frame.columns]
    return _file_report(table, raw.path, raw.encoding, raw.delimiter, header), table


def _file_report(
    table: MappedTable, path: Path, encoding: str | None, delimiter: str | None, header: list[str]
) -> FileReport:
    return FileReport(
        path=path,
        entity=table.entity,
        label=table.label,
        rows_in=table.rows_in,
        rejected=table.spool.rows if table.spool else len({r.row for r in table.rejects}),
        encoding=encoding,
        delimiter=delimiter,
        detected=table.detected,
        header=header,
        values=table.values,
        warnings=table.warnings,
    )


def drop_staged(files: list[tuple[FileReport, MappedTable]]) -> None:
    """Drop the staged rows of streamed files (after their import's write or failure)."""
    for _, table in files:
        if table.staged is not None:
            table.staged.drop()
        elif table.spool is not None:
            table.spool.drop()


def read_for_mapping(
    path: Path, mapping_file: MappingFile, entity: str | None
) -> list[tuple[RawTable, TableMapping]]:
    """Read a file and pick its table mapping(s).

    A generic mapping may load one file into several tables (each with the file in
    its `files` globs); otherwise one table mapping is chosen by name or header.
    The file is read again when the chosen mapping fixes encoding or delimiter.
    """
    if not path.exists():
        raise InputFileError(path, refusals.FILE_NOT_FOUND)
    hinted = [t for t in mapping_file.tables if t.matches_file(path) and entity in (None, t.entity)]
    first = hinted[0].csv if hinted else None
    expected = mapping_names([t for t in mapping_file.tables if entity in (None, t.entity)])
    raw = read_raw(
        path,
        encoding=first.encoding if first else None,
        delimiter=first.delimiter if first else None,
        sheet=first.sheet if first else None,
        header_row=first.header_row if first else None,
        header_names=expected,
    )
    if len(hinted) > 1 and len({t.entity for t in hinted}) == len(hinted):
        chosen = hinted
    else:
        header = [str(c) for c in raw.frame.columns]
        chosen = [choose_table_mapping(mapping_file, path, header, entity)]
    out = []
    for table_mapping in chosen:
        settings = table_mapping.csv
        fixed = settings.encoding or settings.delimiter or settings.sheet or settings.header_row
        read = raw
        if first != settings and fixed:
            read = read_raw(
                path,
                encoding=settings.encoding,
                delimiter=settings.delimiter,
                sheet=settings.sheet,
                header_row=settings.header_row,
                header_names=mapping_names([table_mapping]),
            )
        header = [str(c) for c in read.frame.columns]
        check_duplicates(path.name, header, read.duplicates, table_mapping)
        out.append((read, table_mapping))
    return out
