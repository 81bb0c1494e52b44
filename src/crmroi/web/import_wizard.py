"""The import wizard's logic: which mapping applies, the dry-run preview, the commit.

Pages and the API call these; the work itself is `crmroi.ingest.pipeline` (the same
core as `crmroi import`). A mapping is a vendor preset, a mapping YAML the user
uploaded, or one built from the column choices of the wizard's form (file columns,
value maps and constants, see `crmroi.web.import_values`); the last is a plain
`MappingFile`, so it can be downloaded as YAML and used with the CLI.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from crmroi.errors import InputFileError, MappingError, UserError
from crmroi.finance.case_errors import error_message
from crmroi.ingest.encodings import ENCODING_CHOICES, check_encoding_name
from crmroi.ingest.mapped import Offload, StoreHolder
from crmroi.ingest.mapping import (
    MappingFile,
    TableMapping,
    choose_table_mapping,
    parse_mapping,
)
from crmroi.ingest.pipeline import ImportReport, OnCommit, import_shared, prepare_shared
from crmroi.ingest.presets import PRESETS, load_preset
from crmroi.ingest.reading import read_raw
from crmroi.ingest.rejects import Reject
from crmroi.ingest.summary import ImportSummary
from crmroi.messages import M_, said_of
from crmroi.store.engines import Transaction
from crmroi.store.schema import TABLES, Column
from crmroi.store.undo import UndoReport
from crmroi.web.audit import record
from crmroi.web.import_values import Pairs, form_values, table_values, value_errors, value_map
from crmroi.web.state import AppState
from crmroi.web.uploads import UploadArea, UploadState, staging_root

SOURCES: tuple[str, ...] = (*PRESETS, "generic")
DATE_ORDERS = ("", "DMY", "MDY", "YMD")
DECIMALS = ("", ",", ".")
ENCODINGS = ("", *ENCODING_CHOICES)
PREVIEW_ROWS = 10
REJECTS_SHOWN = 200
SAMPLE_VALUES = 50
SAMPLE_ROWS = 20_000
SOURCE_SYSTEM = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class FileChoice(BaseModel):
    """The form's choices for one file: target table, source column per canonical column,
    value pairs and other-values default per mapped column, constants for the others."""

    entity: str
    columns: dict[str, str] = Field(default_factory=dict)
    date_order: str = ""
    decimal: str = ""
    encoding: str = ""
    maps: dict[str, Pairs] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)

    def settings(self) -> TableMapping:
        """A table mapping with only this file's date order and decimal separator."""
        return TableMapping.model_validate(
            {
                "entity": self.entity,
                "dates": {"order": self.date_order or None},
                "numbers": {"decimal": self.decimal or None},
            }
        )

    def errors(self) -> dict[str, str]:
        """Field errors of the value maps and constants (`crmroi.web.import_values`)."""
        return value_errors(
            self.entity, self.columns, self.maps, self.defaults, self.constants, self.settings()
        )


class ColumnChoices(BaseModel):
    """The interactive mapping of every file of an upload."""

    source_system: str = "generic"
    files: list[FileChoice]


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


# -- mappings -------------------------------------------------------------------------
def mapping_of(state: UploadState) -> MappingFile | None:
    """The mapping the upload currently uses, or None when it still needs one."""
    if state.mapping_yaml:
        return parse_mapping(state.mapping_yaml, "mapping.yaml")
    if state.source in PRESETS:
        return load_preset(state.source)
    return None


def mapping_yaml(mapping: MappingFile) -> str:
    """The mapping as the YAML `crmroi import --mapping` reads."""
    data = mapping.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("tables", [])
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return text


def read_mapping_upload(data: bytes) -> str:
    """A mapping YAML the user uploaded, validated; returns its text."""
    if len(data) > 1024 * 1024:
        raise MappingError(M_("mapping_upload_too_large", "mapping.yaml: larger than 1 MB"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingError(M_("mapping_upload_not_utf8", "mapping.yaml: not UTF-8 text")) from None
    parse_mapping(text, "mapping.yaml")
    return text


def canonical_columns(entity: str) -> list[Column]:
    """The columns a user maps for `entity` (content columns, and the currency)."""
    table = TABLES[entity]
    columns = list(table.columns)
    if table.has_currency:
        columns.append(table.column("currency"))
    return columns


def build_mapping(choices: ColumnChoices, names: list[str]) -> MappingFile:
    """The mapping file equivalent to the form's choices (one table per file)."""
    if not SOURCE_SYSTEM.match(choices.source_system):
        raise MappingError(
            M_(
                "mapping_source_system_name",
                "the source system name must be 1-40 letters, digits, dots, dashes or underscores",
            )
        )
    tables: list[dict[str, Any]] = []
    for name, choice in zip(names, choices.files, strict=True):
        if choice.entity not in TABLES:
            raise MappingError(
                M_(
                    "mapping_unknown_table",
                    "%(file)s: unknown table %(table)s",
                    file=name,
                    table=repr(choice.entity),
                )
            )
        if choice.errors():
            raise MappingError(
                M_(
                    "mapping_fix_marked",
                    "%(file)s: fix the value maps and constants marked in red",
                    file=name,
                )
            )
        columns: dict[str, dict[str, Any]] = {}
        for column, source in choice.columns.items():
            if not source:
                continue
            spec: dict[str, Any] = {"column": source}
            if choice.maps.get(column):
                spec["map"] = value_map(choice.maps[column])
            if choice.defaults.get(column):
                spec["default"] = choice.defaults[column]
            columns[column] = spec
        table: dict[str, Any] = {
            "entity": choice.entity,
            "files": [_glob_escape(name)],
            "columns": columns,
        }
        if choice.constants:
            table["constants"] = dict(choice.constants)
        if choice.date_order in DATE_ORDERS[1:]:
            table["dates"] = {"order": choice.date_order}
        if choice.decimal in DECIMALS[1:]:
            table["numbers"] = {"decimal": choice.decimal}
        if choice.encoding in ENCODINGS[1:]:
            table["csv"] = {"encoding": choice.encoding}
        tables.append(table)
    try:
        return MappingFile.model_validate(
            {"source_system": choices.source_system, "tables": tables}
        )
    except ValidationError as exc:
        first = error_message(exc.errors()[0], prefix="mapping_")
        raise MappingError(
            M_("mapping_columns_invalid", "the column mapping is invalid: %(reason)s", reason=first)
        ) from None


def _glob_escape(name: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[]" else ch for ch in name)


def choices_from_form(
    form: Mapping[str, str], state: UploadState, headers: list[list[str]]
) -> ColumnChoices:
    """Read the column-mapping form: `source_system`, and per file i `f{i}.entity`,
    `f{i}.col.{column}`, `f{i}.dates`, `f{i}.decimal`, `f{i}.encoding`, and the value maps and
    constants (`crmroi.web.import_values.form_values`). Unknown values are ignored."""
    source_system = str(form.get("source_system", "")).strip() or "generic"
    files = []
    previous = _stored_choices(state)
    for i, header in enumerate(headers):
        entity = str(form.get(f"f{i}.entity", ""))
        if entity not in TABLES:
            entity = previous[i].entity if i < len(previous) else guess_entity(header)
        allowed = set(header)
        columns: dict[str, str] = {}
        for col in canonical_columns(entity):
            key = f"f{i}.col.{col.name}"
            if key in form:
                value = str(form[key])
                if value in allowed:
                    columns[col.name] = value
            else:  # the table changed: guess the columns it did not have
                guessed = guess_column(col.name, header)
                if guessed:
                    columns[col.name] = guessed
        date_order = str(form.get(f"f{i}.dates", ""))
        decimal = str(form.get(f"f{i}.decimal", ""))
        encoding = form_encoding(form, i)
        maps, defaults, constants = form_values(form, i, canonical_columns(entity))
        files.append(
            FileChoice(
                entity=entity,
                columns=columns,
                date_order=date_order if date_order in DATE_ORDERS else "",
                decimal=decimal if decimal in DECIMALS else "",
                encoding=encoding,
                maps=maps,
                defaults=defaults,
                constants=constants,
            )
        )
    return ColumnChoices(source_system=source_system[:40], files=files)


def _stored_choices(state: UploadState) -> list[FileChoice]:
    if not state.choices:
        return []
    try:
        return ColumnChoices.model_validate(state.choices).files
    except ValidationError:
        return []


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-zа-яё]", "", text.casefold())


def guess_column(name: str, header: list[str]) -> str | None:
    """The header column that looks like canonical column `name`, if any."""
    target = _norm(name)
    by_norm = {_norm(h): h for h in header}
    if target in by_norm:
        return by_norm[target]
    short = _norm(name.removesuffix("_id").removesuffix("_at").removesuffix("_on"))
    if short and short in by_norm:
        return by_norm[short]
    return None


def guess_entity(header: list[str]) -> str:
    """The canonical table whose column names the header matches best."""
    scores = [
        (sum(guess_column(c.name, header) is not None for c in t.columns), -i, name)
        for i, (name, t) in enumerate(TABLES.items())
    ]
    return max(scores)[2]


def form_encoding(form: Mapping[str, str], index: int) -> str:
    """The text encoding the form chose for file `index` ('' detects; unknown ones too)."""
    encoding = str(form.get(f"f{index}.encoding", ""))
    return encoding if encoding in ENCODINGS else ""


def encoding_choice(encoding: str | None) -> str:
    """A mapping's encoding as one of the form's `ENCODINGS` ('' when not offered)."""
    if not encoding:
        return ""
    try:
        name = check_encoding_name(encoding)
    except ValueError:
        return ""
    return next((e for e in ENCODING_CHOICES if check_encoding_name(e) == name), "")


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
    stored = _stored_choices(state)
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
