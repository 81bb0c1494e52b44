"""The import use case: read files, map them, and load them in one transaction.

Everything is read, mapped and validated before the transaction opens; the
writes of all files and the `import_batches` record then commit together or not
at all. Rows are upserted on (source_system, source_id), so importing the same
file twice leaves the tables unchanged.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from crmroi.errors import CrmroiError, ImportAborted, MappingError, UserError
from crmroi.ingest import refusals
from crmroi.ingest.baselines import refusal as baselines_refusal
from crmroi.ingest.linking import (
    link_and_summarise,
    link_targets,
    links_version,
    named_targets,
    workspace_ids,
    workspace_rows,
)
from crmroi.ingest.mapped import (
    FileReport,
    MappedFiles,
    Offload,
    StoreHolder,
    drop_staged,
    map_files,
    map_unlocked,
    mapping_inputs,
    new_batch_id,
    read_files,
)
from crmroi.ingest.mapped import now as _now
from crmroi.ingest.mapping import MappingFile, load_mapping
from crmroi.ingest.partial import merge_partial
from crmroi.ingest.presets import PRESETS, load_preset
from crmroi.ingest.rejects import Reject, most_common_reason, write_rejects_csv
from crmroi.ingest.staging import bounded_memory, streamable
from crmroi.ingest.summary import ImportSummary
from crmroi.ingest.transform import MappedTable
from crmroi.messages import M_, Message, said_of
from crmroi.store.batch_status import failed_status
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
class ImportReport:
    """What an import did, file by file, and the rows it refused."""

    batch_id: str
    source_system: str
    files: list[FileReport]
    rejects: list[Reject]
    rejects_path: Path | None = None
    summary: ImportSummary = field(default_factory=ImportSummary)
    rejects_total: int = -1
    """every problem found; `rejects` holds them all for files read whole, the first
    `reject_spool.SAMPLE` of a streamed file (the rest are in the rejects file)"""

    def __post_init__(self) -> None:
        if self.rejects_total < 0:
            self.rejects_total = len(self.rejects)

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
        raise MappingError(refusals.GENERIC_NEEDS_MAPPING)
    if source not in PRESETS:
        raise MappingError(refusals.unknown_source(source, SOURCES))
    return load_preset(source)


def set_base_currency(store: Store, code: str) -> None:
    """Fix the workspace's base currency; refused once money is stored in another one."""
    code = code.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise UserError(refusals.base_currency_code(code))
    current = store.base_currency
    if code == current:
        return
    with_money = [name for name, t in TABLES.items() if t.money_columns and store.count(name)]
    if with_money:
        raise UserError(refusals.base_currency_held(current, with_money, code))
    store.set_settings(base_currency=code)


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
            rejects_total=sum(t.spool.total if t.spool else len(t.rejects) for _, t in self.mapped),
        )

    def every_reject(self) -> Iterator[Reject]:
        """Every reject, file by file and by row (a streamed file's from its spool)."""
        for _, table in self.mapped:
            yield from table.spool if table.spool else table.rejects


def prepare_import(
    store: Store,
    files: Sequence[Path],
    *,
    source: str = "generic",
    mapping: Path | MappingFile | None = None,
    entity: str | None = None,
    progress: Progress | None = None,
    mapped: MappedFiles | None = None,
) -> PreparedImport:
    """Read, map and validate `files` without writing anything (the dry run).

    `mapped`: the files as `map_unlocked` read and mapped them (read again only when
    the workspace's FX rates changed since). Raises `InputFileError`/`MappingError` for
    a file that cannot be read or mapped.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise UserError(refusals.NO_FILES)
    started = mapped.started if mapped else _now()
    mapping_file = resolve_mapping(source, mapping)
    batch_id = mapped.batch_id if mapped else new_batch_id(mapping_file.source_system)
    step = _stepper(progress, len(paths) * 2 + 1)
    mapped_files = _read_and_map(store, paths, mapping_file, entity, batch_id, step, mapped)
    summary = _summarise(store, mapping_file.source_system, mapped_files, mapped)
    return PreparedImport(
        batch_id, mapping_file.source_system, paths, started, mapped_files, summary
    )


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
    mapped: MappedFiles | None = None,
) -> ImportReport:
    """Import `files` into `store` atomically; see the module docstring.

    Raises `InputFileError`/`MappingError` (nothing written) for a file that cannot
    be read or mapped at all, `UserError` with `strict` when any row is refused,
    and `ImportAborted` when the database refuses the write (rolled back).
    `on_commit(tx, report)` runs inside the import's transaction, after the writes.
    `mapped`: as for `prepare_import`.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise UserError(refusals.NO_FILES)
    started = mapped.started if mapped else _now()
    if base_currency is not None:
        set_base_currency(store, base_currency)
    mapping_file = resolve_mapping(source, mapping)
    batch_id = mapped.batch_id if mapped else new_batch_id(mapping_file.source_system)
    step = _stepper(progress, len(paths) * 2 + 1)
    system = mapping_file.source_system
    stream = mapped is None and any(streamable(store, p, mapping_file) for p in paths)
    tables: list[tuple[FileReport, MappedTable]] = []
    with contextlib.ExitStack() as cleanup:
        if stream:  # large files are read in blocks and staged in the workspace
            cleanup.enter_context(bounded_memory(store))
            cleanup.callback(drop_staged, tables)
        try:
            read = _read_and_map(store, paths, mapping_file, entity, batch_id, step, mapped, stream)
            tables += read
            summary = _summarise(store, system, read, mapped)
        except CrmroiError as exc:
            _record_failure(store, batch_id, system, paths, started, said_of(exc))
            raise
        prepared = PreparedImport(batch_id, system, paths, started, tables, summary)
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
    if report.rejects_total:
        target = rejects_path or _default_rejects_path(store, batch_id)
        if target is not None:
            write_rejects_csv(prepared.every_reject(), target)
            report.rejects_path = target
    _refuse_all_refused(store, prepared, report)
    whole = baselines_refusal([t for _, t in mapped])
    if whole is not None:
        _record_failure(store, batch_id, source_system, paths, started, whole)
        raise UserError(whole)
    if strict and report.rejects_total:
        refused = M_("import_strict_rows_refused", "rows refused")
        _record_failure(store, batch_id, source_system, paths, started, refused)
        raise UserError(
            refusals.strict_refused(report.rejects_total, report.rows_rejected, report.rejects_path)
        )
    try:
        with store.transaction() as tx:
            written: dict[str, list[int]] = {}
            for file_report, table in mapped:
                step(f"loading {file_report.path.name}")
                compare = TABLES[table.entity].content_names
                if TABLES[table.entity].has_currency:
                    compare = [*compare, "currency", "amount_original"]
                history = undo_table(table.entity)
                if table.staged is not None:  # a streamed file: its rows are staged
                    counts = table.staged.write(tx, compare, history)
                else:
                    counts = tx.upsert(table.entity, table.table, compare, history)
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
        refused = M_("import_database_refused", "%(error)s", error=str(exc))
        _record_failure(store, batch_id, source_system, paths, started, refused)
        store.reclaim_space()  # e.g. a full disk: give the rolled-back rows' space back
        raise ImportAborted(
            M_(
                "import_aborted",
                "import rolled back, nothing was written: %(error)s",
                error=str(exc),
            )
        ) from exc
    step("done")
    return report


def _refuse_all_refused(store: Store, prepared: PreparedImport, report: ImportReport) -> None:
    """A file whose every row was refused fails the import (nothing written): an import
    that loads none of a file's rows is never a success."""
    for file_report, table in prepared.mapped:
        if file_report.rows_in == 0 or file_report.rejected < file_report.rows_in:
            continue
        common = table.spool.most_common() if table.spool else most_common_reason(table.rejects)
        message = refusals.all_refused(
            file_report.path.name, file_report.rows_in, common, report.rejects_path
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
    mapped: MappedFiles | None = None,
    stream: bool = False,
) -> list[tuple[FileReport, MappedTable]]:
    """Read and map every file (fx_rates first, so the other files can use them), or take
    `mapped` when it was mapped from what the workspace holds now; then merge partial files
    with the stored rows. With `stream`, large text files are staged in the workspace."""
    inputs = mapping_inputs(store)
    if mapped is not None and mapped.fingerprint == inputs.fingerprint:
        out = mapped.files
    else:
        staging = store if stream else None
        read = read_files(paths, mapping_file, entity, step, staging)
        out = map_files(read, mapping_file, batch_id, inputs.rates, step, staging)
    # a partial file updates rows loaded before it: after the full files of the import
    partial = sorted({t.entity for _, t in out if t.given is not None})
    if partial:
        system = mapping_file.source_system
        stored = {e: workspace_rows(store, e, system, TABLES[e].column_names) for e in partial}
        merge_partial([t for _, t in out], stored)
        for file_report, table in out:
            file_report.rejected = len({r.row for r in table.rejects})
    return out


def _summarise(
    store: Store,
    source_system: str,
    files: list[tuple[FileReport, MappedTable]],
    mapped: MappedFiles | None,
) -> ImportSummary:
    """The links and summary `mapped` brought (found where the files were mapped) when
    these are its files and the workspace has not changed since; else found here."""
    linked = mapped.linked if mapped is not None and files is mapped.files else None
    if linked is not None and linked.version == links_version(store):
        return linked.apply([t for _, t in files])
    return _link_and_summarise(store, source_system, files)


def _link_and_summarise(
    store: Store, source_system: str, mapped: list[tuple[FileReport, MappedTable]]
) -> ImportSummary:
    """Resolve links given by name, then summarise the import against the workspace."""
    tables = [table for _, table in mapped]
    with_names = {
        name: workspace_rows(store, name, source_system, ["name", ID_COLUMN[name]])
        for name in sorted(named_targets(tables))
    }
    targets = sorted(link_targets(tables))
    known = {name: workspace_ids(store, name, source_system) for name in targets}
    return link_and_summarise(tables, with_names, known, store.base_currency)


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
    reason: str | Message,
) -> None:
    """Log a failed import in its own small transaction (the data itself is untouched)."""
    report = ImportReport(batch_id, source_system, [], [])
    row = _batch_row(report, paths, started, failed_status(reason))
    try:
        with store.transaction() as tx:
            tx.append(BATCHES_TABLE, row)
    except Exception:  # the log is best effort: never mask the real error
        return


class _Steps:
    """Counts the steps of an import for `Progress`; `note` changes the description only
    (a streamed file's rows read so far and rows per second)."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, description: str) -> None:
        self.done = min(self.done + 1, self.total)
        self.note(description)

    def note(self, description: str) -> None:
        if self.progress is not None:
            self.progress(description, self.done, self.total)


def _stepper(progress: Progress | None, total: int) -> _Steps:
    return _Steps(progress, total)


# -- a workspace others use too (the web app) ----------------------------------------
def prepare_shared(
    hold: StoreHolder,
    files: Sequence[Path],
    *,
    mapping: MappingFile,
    offload: Offload | None = None,
) -> PreparedImport:
    """`prepare_import` holding the workspace (`hold()`) only to copy its FX rates and to
    link and summarise: the files are read and mapped without it (by `offload`, see
    `map_unlocked`)."""
    paths = [Path(f) for f in files]
    mapped = map_unlocked(hold, paths, mapping, offload=offload)
    with hold() as store:
        return prepare_import(store, paths, mapping=mapping, mapped=mapped)


def import_shared(
    hold: StoreHolder,
    files: Sequence[Path],
    *,
    mapping: MappingFile,
    on_commit: OnCommit | None = None,
    offload: Offload | None = None,
) -> ImportReport:
    """`import_files` holding the workspace (`hold()`) only to copy its FX rates and to
    write: the files are read and mapped without it (by `offload`, see `map_unlocked`).
    A file that cannot be read is logged as a failed import, as `import_files` does."""
    paths = [Path(f) for f in files]
    if not paths:
        raise UserError(refusals.NO_FILES)
    started = _now()
    try:
        mapped = map_unlocked(hold, paths, mapping, offload=offload)
    except CrmroiError as exc:
        batch_id = new_batch_id(mapping.source_system)
        with hold() as store:
            reason = said_of(exc)
            _record_failure(store, batch_id, mapping.source_system, paths, started, reason)
        raise
    with hold() as store:
        return import_files(store, paths, mapping=mapping, on_commit=on_commit, mapped=mapped)
