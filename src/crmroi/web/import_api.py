"""The imports REST API under /api/v1: history, upload (dry run or commit), undo.

Bad input never gives a 5xx: unreadable files and mappings are 400, too large 413,
wrong type 415, unknown batch 404, an undo that later batches block 409.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from pydantic import BaseModel, Field

from crmroi.errors import ConfigurationError, MappingError
from crmroi.ingest.encodings import with_encoding
from crmroi.ingest.pipeline import ImportReport
from crmroi.ingest.rejects import Reject, reason_code
from crmroi.ingest.summary import summary_json
from crmroi.messages import M_, Said, said_of
from crmroi.store.undo import BatchInfo, UndoRefused, UnknownBatch, list_batches, undo_batch
from crmroi.web.api_types import UtcDateTime
from crmroi.web.deps import Analyst, State, Viewer
from crmroi.web.import_mapping import mapping_of, read_mapping_upload
from crmroi.web.import_wizard import (
    Preview,
    audit_import,
    audit_undo,
    commit,
    delimiter_name,
    dry_run,
    upload_area,
)
from crmroi.web.streamed_form import streamed_post

router = APIRouter(tags=["imports"])

Source = Literal[
    "salesforce", "hubspot", "pipedrive", "odoo", "bitrix24", "amocrm", "logins", "generic"
]


class ErrorOut(BaseModel):
    detail: str
    code: str = Field(description="A stable machine code (docs/api.md).")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The files or the mapping cannot be used"},
    401: {"model": ErrorOut, "description": "Not logged in"},
    403: {"model": ErrorOut, "description": "The role does not allow it"},
}


class BatchOut(BaseModel):
    """One import batch of the history."""

    batch_id: str
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    source_system: str
    files: list[str]
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    status: str = Field(description="loaded, undone, or failed: REASON")
    undoable: bool
    tables: dict[str, int] = Field(description="rows written per table")


class RejectOut(BaseModel):
    file: str
    row: int = Field(description="row number as a spreadsheet shows it (header is row 1)")
    column: str
    reason: str = Field(description="why, in English")
    reason_code: str | None = Field(
        default=None,
        description="a stable machine code of `reason` (import_not_a_number, ...); null for a "
        "reason given as plain text",
    )
    reason_params: dict[str, str] = Field(
        default_factory=dict, description="the parameters of `reason` (by name, as text)"
    )
    value: str

    @classmethod
    def of(cls, reject: Reject) -> RejectOut:
        said = reject.reason
        return cls(
            **vars(reject),
            reason_code=reason_code(said),
            reason_params=said.message.worded_params() if isinstance(said, Said) else {},
        )


class FileOut(BaseModel):
    name: str
    table: str
    label: str
    rows_in: int
    rejected: int
    inserted: int | None = Field(default=None, description="set after a commit")
    updated: int | None = None
    unchanged: int | None = None
    encoding: str | None
    delimiter: str | None
    detected: dict[str, str] = Field(description="per column: date order, number format")
    warnings: list[str] = Field(default_factory=list, description="e.g. garbled-looking text")
    columns: list[str] = Field(default_factory=list, description="preview columns (dry run)")
    preview: list[list[str]] = Field(default_factory=list, description="first rows, parsed")


class ImportOut(BaseModel):
    """A dry run (nothing written, `batch_id` null) or a committed import."""

    dry_run: bool
    batch_id: str | None
    source_system: str
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    files: list[FileOut]
    rejects: list[RejectOut] = Field(description="the first 1,000 problems")
    rejects_total: int
    summary: dict[str, Any] = Field(
        default_factory=dict,
        description="date ranges, amounts per currency, source value -> stored value counts "
        "(unmapped values marked), links and warnings, as `crmroi import --format json`",
    )


class UndoOut(BaseModel):
    batch_id: str
    status: str
    deleted: dict[str, int] = Field(description="rows the batch wrote, removed, per table")
    restored: dict[str, int] = Field(description="previous versions put back, per table")


def batch_out(b: BatchInfo) -> BatchOut:
    return BatchOut(
        batch_id=b.batch_id,
        started_at=b.started_at,
        finished_at=b.finished_at,
        source_system=b.source_system,
        files=b.files,
        rows_in=b.rows_in,
        rows_loaded=b.rows_loaded,
        rows_rejected=b.rows_rejected,
        status=b.status,
        undoable=b.undoable,
        tables=b.tables,
    )


@router.get("/api/v1/imports", responses=ERRORS)
def history_api(state: State, session: Viewer, limit: int = 500) -> list[BatchOut]:
    """The import history, newest first."""
    with state.access.reader() as store:  # beside other reads, never during a write
        return [batch_out(b) for b in list_batches(store, max(1, min(limit, 5000)))]


@streamed_post(  # the multipart body is parsed off the event loop
    router,
    "/api/v1/imports",
    responses={
        **ERRORS,
        413: {"model": ErrorOut, "description": "A file is larger than the upload limit"},
        415: {"model": ErrorOut, "description": "A file is not CSV/TSV/TXT/XLSX"},
        503: {"model": ErrorOut, "description": "Busy with other uploads; see Retry-After"},
    },
)
def import_api(
    state: State,
    session: Analyst,
    files: Annotated[list[UploadFile], File(description="CSV, TSV, TXT or XLSX exports")],
    source: Annotated[Source, Form(description="vendor preset, or generic")] = "generic",
    mapping: Annotated[
        UploadFile | None, File(description="mapping YAML (needed for generic)")
    ] = None,
    dry_run_: Annotated[
        bool, Form(alias="dry_run", description="preview and rejects only, write nothing")
    ] = False,
    encoding: Annotated[
        str | None,
        Form(
            description="text encoding of the CSV files (utf-8, cp1252, iso-8859-15, cp1251, "
            "gbk, ...); overrides detection and the preset or mapping"
        ),
    ] = None,
) -> ImportOut:
    """Import the files in one batch, or with `dry_run` only show what would happen."""
    area = upload_area(state)
    mapping_text = None
    if mapping is not None:
        mapping_text = read_mapping_upload(mapping.file.read(1024 * 1024 + 1))
    upload = area.stage(session.user.username, ((f.filename, f.file) for f in files), source)
    try:
        upload.mapping_yaml = mapping_text
        chosen = mapping_of(upload)
        if chosen is None:
            raise MappingError(
                M_(
                    "import_generic_needs_mapping",
                    "the generic source needs a mapping YAML file (field 'mapping')",
                )
            )
        try:
            chosen = with_encoding(chosen, encoding)
        except ValueError as exc:
            raise ConfigurationError(
                M_("import_bad_encoding", "encoding: %(error)s", error=said_of(exc))
            ) from None
        paths = area.paths(upload)
        # read and checked in the work pool; the workspace is held only for the write
        if dry_run_:
            preview = state.work.call(
                dry_run, state.access.store, paths, chosen, offload=state.work.compute
            )
            if preview.error:
                raise MappingError(preview.error)
            return _preview_out(preview)
        hook = audit_import(session.user.username, source)
        report = state.work.call(
            commit, state.access.store, paths, chosen, on_commit=hook, offload=state.work.compute
        )
        state.cache.clear()
        return _report_out(report)
    finally:
        area.remove(upload.upload_id)


@router.post(
    "/api/v1/imports/{batch_id:path}/undo",
    responses={
        **ERRORS,
        404: {"model": ErrorOut, "description": "No such batch"},
        409: {
            "model": ErrorOut,
            "description": "Undone already, or later batches changed its rows",
        },
    },
)
def undo_api(state: State, session: Analyst, batch_id: str) -> UndoOut:
    """Undo a batch: its new rows removed, the rows it replaced restored."""
    try:
        with state.access.store() as store:
            report = undo_batch(store, batch_id, on_commit=audit_undo(session.user.username))
    except UnknownBatch as exc:
        raise HTTPException(404, str(exc)) from None
    except UndoRefused as exc:
        raise HTTPException(409, str(exc)) from None
    state.cache.clear()
    return UndoOut(
        batch_id=batch_id, status="undone", deleted=report.deleted, restored=report.restored
    )


def _preview_out(preview: Preview) -> ImportOut:
    files = [
        FileOut(
            name=f.name,
            table=f.entity,
            label=f.label,
            rows_in=f.rows_in,
            rejected=f.rejected,
            encoding=f.encoding,
            delimiter=f.delimiter,
            detected=f.detected,
            columns=f.columns,
            preview=f.rows,
            warnings=f.warnings,
        )
        for f in preview.files
    ]
    return ImportOut(
        dry_run=True,
        batch_id=None,
        source_system=preview.source_system,
        rows_in=preview.rows_in,
        rows_loaded=0,
        rows_rejected=preview.rows_rejected,
        files=files,
        rejects=[RejectOut.of(r) for r in preview.rejects[:1000]],
        rejects_total=preview.rejects_total,
        summary=summary_json(preview.summary),
    )


def _report_out(report: ImportReport) -> ImportOut:
    files = [
        FileOut(
            name=f.path.name,
            table=f.entity,
            label=f.label,
            rows_in=f.rows_in,
            rejected=f.rejected,
            inserted=f.inserted,
            updated=f.updated,
            unchanged=f.unchanged,
            encoding=f.encoding,
            delimiter=delimiter_name(f.delimiter),
            detected=f.detected,
            warnings=f.warnings,
        )
        for f in report.files
    ]
    return ImportOut(
        dry_run=False,
        batch_id=report.batch_id,
        source_system=report.source_system,
        rows_in=report.rows_in,
        rows_loaded=report.rows_loaded,
        rows_rejected=report.rows_rejected,
        files=files,
        rejects=[RejectOut.of(r) for r in report.rejects[:1000]],
        rejects_total=report.rejects_total,
        summary=summary_json(report.summary),
    )
