"""The import use case: read files, map them, and load them in one transaction.

Everything is read, mapped and validated before the transaction opens; the
writes of all files and the `import_batches` record then commit together or not
at all. Rows are upserted on (source_system, source_id), so importing the same
file twice leaves the tables unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from crmroi.errors import CrmroiError, ImportAborted, InputFileError, MappingError, UserError
from crmroi.ingest.columns import ValueCount
from crmroi.ingest.currency import FxRates
from crmroi.ingest.headers import check_duplicates, mapping_names
from crmroi.ingest.links import TARGETS, name_index, resolve_names
from crmroi.ingest.mapping import MappingFile, TableMapping, choose_table_mapping, load_mapping
from crmroi.ingest.partial import merge_partial
from crmroi.ingest.presets import PRESETS, load_preset
from crmroi.ingest.reading import RawTable, read_raw
from crmroi.ingest.rejects import Reject, most_common_reason, write_rejects_csv
from crmroi.ingest.summary import LINKS, ImportSummary, build_summary
from crmroi.ingest.transform import MappedTable, map_table
from crmroi.store.engines import Transaction
from crmroi.store.schema import ID_COLUMN, IMPORT_BATCHES, TABLES
from crmroi.store.store import BATCHES_TABLE, Store
from crmroi.store.undo import log_batch_table, undo_table

SOURCES = (*PRESETS, "generic")

Progress = Callable[[str, int, int], None]
"""Called with (step description, steps done, steps in all)."""

OnCommit = Callable[[Transaction, "ImportReport"], None]
"""Runs inside the import's transaction after the writes (e.g. an audit record)."""


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


@dataclass
class ImportReport:
    """What an import did, file by file, and the rows it refused."""

    batch_id: str
    source_system: str
    files: list[FileReport]
    rejects: list[Reject]
    rejects_path: Path | None = None
    summary: ImportSummary = field(default_factory=ImportSummary)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rejected for f in self.files)


def resolve_mapping(source: str, mapping: Path | MappingFile | None) -> MappingFile:
    """The mapping to use: the user's file when given, else the vendor preset."""
    if isinstance(mapping, MappingFile):
        return mapping
    if mapping is not None:
        return load_mapping(mapping)
    if source == "generic":
        raise MappingError("the generic source needs a mapping file: --mapping MAP.yaml")
    if source not in PRESETS:
        raise MappingError(f"unknown source {source!r}; sources are: {', '.join(SOURCES)}")
    return load_preset(source)


def set_base_currency(store: Store, code: str) -> None:
    """Fix the workspace's base currency; refused once money is stored in another one."""
    code = code.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise UserError(f"base currency {code!r} is not a three-letter ISO 4217 code")
    current = store.base_currency
    if code == current:
        return
    with_money = [name for name, t in TABLES.items() if t.money_columns and store.count(name)]
    if with_money:
        raise UserError(
            f"the workspace already holds amounts in {current} ({', '.join(with_money)}); "
            f"its base currency cannot become {code}"
        )
    store.set_settings(base_currency=code)


def new_batch_id(source_system: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{source_system}-{stamp}-{uuid.uuid4().hex[:8]}"


@dataclass
class PreparedImport:
    """Files read, mapped and validated but not written: a dry run, or the first half of
    an import (`commit_import` writes it)."""

    batch_id: str
    source_system: str
    paths: list[Path]
    started: datetime
    mapped: list[tuple[FileReport, MappedTable]]
    summary: ImportSummary = field(default_factory=ImportSummary)

    @property
    def report(self) -> ImportReport:
        """What the import would do (inserted/updated counts are known after commit)."""
        return ImportReport(
            self.batch_id,
            self.source_system,
            [m[0] for m in self.mapped],
            [r for _, table in self.mapped for r in table.rejects],
            summary=self.summary,
        )


def prepare_import(
    store: Store,
    files: Sequence[Path],
    *,
    source: str = "generic",
    mapping: Path | MappingFile | None = None,
    entity: str | None = None,
    progress: Progress | None = None,
) -> PreparedImport:
    """Read, map and validate `files` without writing anything (the dry run).

    Raises `InputFileError`/`MappingError` for a file that cannot be read or mapped.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise UserError("no files to import")
    started = _now()
    mapping_file = resolve_mapping(source, mapping)
    batch_id = new_batch_id(mapping_file.source_system)
    step = _stepper(progress, len(paths) * 2 + 1)
    mapped = _read_and_map(store, paths, mapping_file, entity, batch_id, step)
    summary = _link_and_summarise(store, mapping_file.source_system, mapped)
    return PreparedImport(batch_id, mapping_file.source_system, paths, started, mapped, summary)


def import_files(
    store: Store,
    files: Sequence[Path],
    *,
    source: str = "generic",
    mapping: Path | MappingFile | None = None,
    entity: str | None = None,
    strict: bool = False,
    rejects_path: Path | None = None,
    base_currency: str | None = None,
    progress: Progress | None = None,
    on_commit: OnCommit | None = None,
) -> ImportReport:
    """Import `files` into `store` atomically; see the module docstring.

    Raises `InputFileError`/`MappingError` (nothing written) for a file that cannot
    be read or mapped at all, `UserError` with `strict` when any row is refused,
    and `ImportAborted` when the database refuses the write (rolled back).
    `on_commit(tx, report)` runs inside the import's transaction, after the writes.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise UserError("no files to import")
    started = _now()
    if base_currency is not None:
        set_base_currency(store, base_currency)
    mapping_file = resolve_mapping(source, mapping)
    batch_id = new_batch_id(mapping_file.source_system)
    step = _stepper(progress, len(paths) * 2 + 1)
    try:
        mapped = _read_and_map(store, paths, mapping_file, entity, batch_id, step)
        summary = _link_and_summarise(store, mapping_file.source_system, mapped)
    except CrmroiError as exc:
        _record_failure(store, batch_id, mapping_file.source_system, paths, started, str(exc))
        raise
    prepared = PreparedImport(batch_id, mapping_file.source_system, paths, started, mapped, summary)
    return commit_import(
        store,
        prepared,
        strict=strict,
        rejects_path=rejects_path,
        step=step,
        on_commit=on_commit,
    )


def commit_import(
    store: Store,
    prepared: PreparedImport,
    *,
    strict: bool = False,
    rejects_path: Path | None = None,
    step: Callable[[str], None] | None = None,
    on_commit: OnCommit | None = None,
) -> ImportReport:
    """Write a prepared import in one transaction, keeping what undo needs."""
    step = step or (lambda _: None)
    batch_id, source_system = prepared.batch_id, prepared.source_system
    paths, started, mapped = prepared.paths, prepared.started, prepared.mapped
    report = prepared.report
    if report.rejects:
        target = rejects_path or _default_rejects_path(store, batch_id)
        if target is not None:
            write_rejects_csv(report.rejects, target)
            report.rejects_path = target
    _refuse_all_refused(store, prepared, report)
    if strict and report.rejects:
        _record_failure(store, batch_id, source_system, paths, started, "rows refused")
        where = f"; see {report.rejects_path}" if report.rejects_path else ""
        raise UserError(
            f"{len(report.rejects)} problems in {report.rows_rejected} rows; nothing was "
            f"imported (--strict){where}"
        )
    try:
        with store.transaction() as tx:
            written: dict[str, list[int]] = {}
            for file_report, table in mapped:
                step(f"loading {file_report.path.name}")
                compare = TABLES[table.entity].content_names
                if TABLES[table.entity].has_currency:
                    compare = [*compare, "currency", "amount_original"]
                counts = tx.upsert(table.entity, table.table, compare, undo_table(table.entity))
                file_report.inserted = counts.inserted
                file_report.updated = counts.updated
                file_report.unchanged = counts.unchanged
                totals = written.setdefault(table.entity, [0, 0])
                totals[0] += counts.inserted
                totals[1] += counts.updated
            for name, (inserted, updated) in written.items():
                log_batch_table(tx, batch_id, name, inserted, updated)
            tx.append(BATCHES_TABLE, _batch_row(report, paths, started, "loaded"))
            if on_commit is not None:
                on_commit(tx, report)
    except CrmroiError:
        raise
    except Exception as exc:  # the database refused the write: it rolled back
        _record_failure(store, batch_id, source_system, paths, started, str(exc))
        raise ImportAborted(f"import rolled back, nothing was written: {exc}") from exc
    step("done")
    return report


def _refuse_all_refused(store: Store, prepared: PreparedImport, report: ImportReport) -> None:
    """A file whose every row was refused fails the import (nothing written): an import
    that loads none of a file's rows is never a success."""
    for file_report, table in prepared.mapped:
        if file_report.rows_in == 0 or file_report.rejected < file_report.rows_in:
            continue
        common = most_common_reason(table.rejects)
        why = f"; most often ({common[1]} rows) {common[0]}" if common else ""
        where = f"; see {report.rejects_path}" if report.rejects_path else ""
        message = (
            f"{file_report.path.name}: all {file_report.rows_in} rows were refused, "
            f"nothing was imported{why}{where}"
        )
        _record_failure(
            store,
            prepared.batch_id,
            prepared.source_system,
            prepared.paths,
            prepared.started,
            message,
        )
        raise UserError(message)


def _read_and_map(
    store: Store,
    paths: list[Path],
    mapping_file: MappingFile,
    entity: str | None,
    batch_id: str,
    step: Callable[[str], None],
) -> list[tuple[FileReport, MappedTable]]:
    """Read and map every file (fx_rates first, so the other files can use them)."""
    read: list[tuple[RawTable, TableMapping]] = []
    for path in paths:
        step(f"reading {path.name}")
        read.extend(_read_for_mapping(path, mapping_file, entity))
    read.sort(key=lambda pair: pair[1].entity != "fx_rates")
    rates = FxRates.from_frame(store.base_currency, store.table("fx_rates").to_pandas())
    out: list[tuple[FileReport, MappedTable]] = []
    for raw, table_mapping in read:
        step(f"mapping {raw.path.name}")
        table = map_table(
            raw,
            table_mapping,
            source_system=mapping_file.source_system,
            batch_id=batch_id,
            rates=rates,
            columns_optional=mapping_file.missing_columns == "ignore",
        )
        table.warnings = [*raw.warnings, *table.warnings]  # e.g. garbled-looking text
        if table.entity == "fx_rates":
            rates = rates.with_rates(
                table.table.select(["rate_date", "currency", "rate_to_base"]).to_pandas()
            )
        report = FileReport(
            path=raw.path,
            entity=table.entity,
            label=table.label,
            rows_in=table.rows_in,
            rejected=len({r.row for r in table.rejects}),
            encoding=raw.encoding,
            delimiter=raw.delimiter,
            detected=table.detected,
            header=[str(c) for c in raw.frame.columns],
            values=table.values,
            warnings=table.warnings,
        )
        out.append((report, table))
    # a partial file updates rows loaded before it: after the full files of the import
    out.sort(key=lambda pair: (pair[1].entity != "fx_rates", pair[1].given is not None))
    partial = sorted({t.entity for _, t in out if t.given is not None})
    if partial:
        system = mapping_file.source_system
        stored = {e: _workspace_rows(store, e, system, TABLES[e].column_names) for e in partial}
        merge_partial([t for _, t in out], stored)
        for file_report, table in out:
            file_report.rejected = len({r.row for r in table.rejects})
    return out


def _link_and_summarise(
    store: Store, source_system: str, mapped: list[tuple[FileReport, MappedTable]]
) -> ImportSummary:
    """Resolve links given by name, then summarise the import against the workspace."""
    tables = [table for _, table in mapped]
    named = {TARGETS[c] for t in tables for c in t.names if c in TARGETS}
    with_names = {
        name: _workspace_rows(store, name, source_system, ["name", ID_COLUMN[name]])
        for name in sorted(named)
        if "name" in TABLES[name].content_names
    }
    warnings = resolve_names(tables, name_index(tables, with_names))
    targets = {LINKS[c] for t in tables for c in t.table.column_names if c in LINKS}
    known = {
        name: _workspace_rows(store, name, source_system, [ID_COLUMN[name]])
        .column(0)
        .combine_chunks()
        .cast(pa.string())
        for name in sorted(targets)
    }
    return build_summary(tables, known, store.base_currency, warnings)


def _workspace_rows(store: Store, name: str, source_system: str, columns: list[str]) -> pa.Table:
    """Some columns of the workspace's rows of one table from one source system."""
    table = store.table(name)
    return table.filter(table.source_system == source_system).select(*columns).to_pyarrow()


def _read_for_mapping(
    path: Path, mapping_file: MappingFile, entity: str | None
) -> list[tuple[RawTable, TableMapping]]:
    """Read a file and pick its table mapping(s).

    A generic mapping may load one file into several tables (each with the file in
    its `files` globs); otherwise one table mapping is chosen by name or header.
    The file is read again when the chosen mapping fixes encoding or delimiter.
    """
    if not path.exists():
        raise InputFileError(path, "file not found")
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


def _default_rejects_path(store: Store, batch_id: str) -> Path | None:
    folder = store.folder
    return None if folder is None else folder / "rejects" / f"{batch_id}.csv"


def _batch_row(report: ImportReport, paths: list[Path], started: datetime, status: str) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "batch_id": report.batch_id,
                "started_at": started,
                "finished_at": _now(),
                "source_system": report.source_system,
                "files": json.dumps([p.name for p in paths], ensure_ascii=False),
                "rows_in": report.rows_in,
                "rows_loaded": report.rows_loaded,
                "rows_rejected": report.rows_rejected,
                "status": status,
            }
        ],
        schema=IMPORT_BATCHES,
    )


def _record_failure(
    store: Store,
    batch_id: str,
    source_system: str,
    paths: list[Path],
    started: datetime,
    reason: str,
) -> None:
    """Log a failed import in its own small transaction (the data itself is untouched)."""
    report = ImportReport(batch_id, source_system, [], [])
    row = _batch_row(report, paths, started, f"failed: {reason}"[:500])
    try:
        with store.transaction() as tx:
            tx.append(BATCHES_TABLE, row)
    except Exception:  # the log is best effort: never mask the real error
        return


def _stepper(progress: Progress | None, total: int) -> Callable[[str], None]:
    done = 0

    def step(description: str) -> None:
        nonlocal done
        done = min(done + 1, total)
        if progress is not None:
            progress(description, done, total)

    return step


def _now() -> datetime:
    return pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()
