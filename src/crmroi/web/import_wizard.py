"""The import wizard's logic: the column-mapping form of each file, the dry-run preview,
the commit and its audit.

Pages and the API call these; the work itself is `crmroi.ingest.pipeline` (the same
core as `crmroi import`). Which mapping applies, and the mapping the form's column
choices make, are `crmroi.web.import_mapping`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crmroi.errors import InputFileError, MappingError, UserError
from crmroi.ingest.mapped import Offload, StoreHolder
from crmroi.ingest.mapping import (
    MappingFile,
    choose_table_mapping,
)
from crmroi.ingest.pipeline import ImportReport, OnCommit, import_shared, prepare_shared
from crmroi.ingest.presets import PRESETS
from crmroi.ingest.reading import read_raw
from crmroi.ingest.rejects import Reject
from crmroi.ingest.summary import ImportSummary
from crmroi.messages import said_of
from crmroi.store.engines import Transaction
from crmroi.store.schema import TABLES, Column
from crmroi.store.undo import UndoReport
from crmroi.web.audit import record
from crmroi.web.import_mapping import (
    FileChoice,
    canonical_columns,
    encoding_choice,
    guess_column,
    guess_entity,
    mapping_of,
    stored_choices,
)
from crmroi.web.import_values import table_values
from crmroi.web.state import AppState
from crmroi.web.uploads import UploadArea, UploadState, staging_root

SOURCES: tuple[str, ...] = (*PRESETS, "generic")
PREVIEW_ROWS = 10
REJECTS_SHOWN = 200
SAMPLE_VALUES = 50
SAMPLE_ROWS = 20_000
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class FilePreview:
    """One file as the dry run read it."""

    name: str
    entity: str
    label: str
    rows_in: int
    rejected: int
    encoding: str | None
    delimiter: str | None
    detected: dict[str, str]
    header: list[str]
    columns: list[str]
    rows: list[list[str]]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Preview:
    """The dry run of an upload: per-file previews and the rows that would be refused."""

    source_system: str = ""
    files: list[FilePreview] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rejects_total: int = 0
    rows_in: int = 0
    rows_rejected: int = 0
    error: str | None = None
    summary: ImportSummary = field(default_factory=ImportSummary)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class FileForm:
    """What the column-mapping form shows for one file."""

    index: int
    name: str
    header: list[str]
    choice: FileChoice
    columns: list[Column]
    error: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)


def read_header(path: Path, encoding: str = "") -> tuple[list[str], str | None]:
    """The file's header (read in `encoding`, '' detects), or an empty list and the reason
    it cannot be read."""
    try:
        raw = read_raw(path, encoding=encoding or None)
    except InputFileError as exc:
        return [], said_of(exc)
    return [str(c) for c in raw.frame.columns], None


def read_samples(
    path: Path, encoding: str = ""
) -> tuple[list[str], dict[str, list[str]], str | None]:
    """The file's header and up to `SAMPLE_VALUES` distinct values of each column in its
    first `SAMPLE_ROWS` rows (the value maps' suggestions), or empty ones and the reason
    the file cannot be read (read in `encoding`, '' detects)."""
    try:
        raw = read_raw(path, encoding=encoding or None)
    except InputFileError as exc:
        return [], {}, said_of(exc)
    header = [str(c) for c in raw.frame.columns]
    samples: dict[str, list[str]] = {}
    for name, column in zip(header, raw.frame.columns, strict=True):
        values = raw.frame[column].head(SAMPLE_ROWS).dropna().astype(str).str.strip()
        distinct = values[values != ""].drop_duplicates()
        samples[name] = [v[:200] for v in distinct.head(SAMPLE_VALUES)]
    return header, samples, None


def file_forms(
    state: UploadState, paths: list[Path], preview: Preview | None
) -> tuple[str, list[FileForm]]:
    """The column-mapping form for every file, filled from the stored choices, else
    from the preset's mapping, else guessed from the header."""
    stored = stored_choices(state)
    source_system = "generic"
    if state.choices:
        source_system = str(state.choices.get("source_system", "generic"))
    mapping: MappingFile | None = None
    try:
        mapping = mapping_of(state)
    except MappingError:
        mapping = None
    if mapping is not None and not state.choices:
        source_system = mapping.source_system
    forms = []
    for i, (staged, path) in enumerate(zip(state.files, paths, strict=True)):
        if i < len(stored):
            choice = stored[i]
            header, samples, error = read_samples(path, choice.encoding)
        else:
            header, samples, error = read_samples(path)
            choice = _choice_from_mapping(mapping, path, header) or _guessed_choice(header)
            if choice.encoding:
                header, samples, error = read_samples(path, choice.encoding)
        columns = canonical_columns(choice.entity)
        forms.append(
            FileForm(i, staged.name, header, choice, columns, error, choice.errors(), samples)
        )
    return source_system, forms


def _choice_from_mapping(
    mapping: MappingFile | None, path: Path, header: list[str]
) -> FileChoice | None:
    if mapping is None or not header:
        return None
    try:
        table = choose_table_mapping(mapping, path, header, None)
    except MappingError:
        return None
    present = {h.strip().casefold(): h for h in header}
    columns: dict[str, str] = {}
    for name, spec in table.columns.items():
        found = next(
            (present[a.casefold()] for a in spec.alternatives if a.casefold() in present), None
        )
        if found:
            columns[name] = found
    for col in canonical_columns(table.entity):
        if col.name not in columns and col.name not in table.constants:
            guessed = guess_column(col.name, header)
            if guessed:
                columns[col.name] = guessed
    maps, defaults, constants = table_values(table, set(columns))
    return FileChoice(
        entity=table.entity,
        columns=columns,
        date_order=table.dates.order or "",
        decimal=table.numbers.decimal or "",
        encoding=encoding_choice(table.csv.encoding),
        maps=maps,
        defaults=defaults,
        constants=constants,
    )


def _guessed_choice(header: list[str]) -> FileChoice:
    entity = guess_entity(header)
    columns = {c.name: g for c in canonical_columns(entity) if (g := guess_column(c.name, header))}
    return FileChoice(entity=entity, columns=columns)


# -- dry run and commit ---------------------------------------------------------------
def dry_run(
    hold: StoreHolder,
    paths: list[Path],
    mapping: MappingFile | None,
    *,
    offload: Offload | None = None,
) -> Preview:
    """Read and map the files without writing; errors become `Preview.error`.

    The workspace (`hold()`, e.g. `WorkspaceAccess.store`) is held only to copy its FX
    rates and to link and summarise, never while the files are read; `offload` (the work
    pool's processes, `WorkPool.compute`) reads and maps them."""
    if mapping is None:
        return Preview(error="choose a source preset or map the columns below")
    try:
        prepared = prepare_shared(hold, paths, mapping=mapping, offload=offload)
    except UserError as exc:
        return Preview(source_system=mapping.source_system, error=said_of(exc))
    report = prepared.report
    files = []
    for file_report, table in prepared.mapped:
        columns = [c.name for c in TABLES[table.entity].all_columns if c.name != "batch_id"]
        head = table.table.slice(0, PREVIEW_ROWS).select(columns).to_pylist()
        files.append(
            FilePreview(
                name=file_report.path.name,
                entity=file_report.entity,
                label=file_report.label,
                rows_in=file_report.rows_in,
                rejected=file_report.rejected,
                encoding=file_report.encoding,
                delimiter=delimiter_name(file_report.delimiter),
                detected=dict(file_report.detected),
                header=list(file_report.header),
                columns=columns,
                rows=[[show(row[c]) for c in columns] for row in head],
                warnings=list(file_report.warnings),
            )
        )
    return Preview(
        source_system=report.source_system,
        files=files,
        rejects=report.rejects[:REJECTS_SHOWN],
        rejects_total=report.rejects_total,
        rows_in=report.rows_in,
        rows_rejected=report.rows_rejected,
        summary=prepared.summary,
    )


def commit(
    hold: StoreHolder,
    paths: list[Path],
    mapping: MappingFile,
    on_commit: OnCommit | None = None,
    *,
    offload: Offload | None = None,
) -> ImportReport:
    """Import the files in one transaction (one batch), as `crmroi import` does; the
    workspace (`hold()`) is held to write, not while `offload` reads the files."""
    return import_shared(hold, paths, mapping=mapping, on_commit=on_commit, offload=offload)


def delimiter_name(delimiter: str | None) -> str | None:
    return None if delimiter is None else DELIMITER_NAMES.get(delimiter, repr(delimiter))


def show(value: object) -> str:
    """A parsed value as the preview shows it (ISO dates, plain numbers, blank for null)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# -- app glue -------------------------------------------------------------------------
def upload_area(state: AppState) -> UploadArea:
    """The staging folders of this app's workspace."""
    root = staging_root(state.workspace_folder, state.settings.workspace)
    return UploadArea(root, state.settings.max_upload_bytes)


def audit_import(username: str, source: str) -> OnCommit:
    """An `on_commit` hook writing the import's audit event inside its transaction."""

    def hook(tx: Transaction, report: ImportReport) -> None:
        record(
            tx,
            username,
            "import",
            batch_id=report.batch_id,
            source=source,
            files=[f.path.name for f in report.files],
            rows_loaded=report.rows_loaded,
            rows_rejected=report.rows_rejected,
        )

    return hook


def audit_undo(username: str) -> Callable[[Transaction, UndoReport], None]:
    """An `on_commit` hook writing the undo's audit event inside its transaction."""

    def hook(tx: Transaction, report: UndoReport) -> None:
        record(
            tx,
            username,
            "undo",
            batch_id=report.batch_id,
            deleted=report.deleted,
            restored=report.restored,
        )

    return hook
