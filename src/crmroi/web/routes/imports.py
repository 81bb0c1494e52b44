"""Routes of the imports area: the import wizard, the history with undo, and /api/v1/imports.

Pages: GET /imports (history; analysts also get the upload form), POST /imports/upload
(stage files), GET /imports/{upload}: detected formats, the column mapping, the
parsed first rows and the refused rows, before anything is written; POST
/imports/{upload}/mapping (htmx re-renders the wizard), .../commit, .../cancel,
GET .../mapping.yaml; POST /imports/batches/{batch}/undo.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from crmroi.errors import MappingError, UserError
from crmroi.ingest.refusals import unknown_source
from crmroi.messages import M_, Message, said_of
from crmroi.reports.i18n import N_
from crmroi.store.schema import TABLES
from crmroi.store.undo import UndoRefused, list_batches, undo_batch
from crmroi.web.auth import Role, Session
from crmroi.web.dashboard_view import Fmt
from crmroi.web.deps import Analyst, State, Viewer
from crmroi.web.import_api import router as api_router
from crmroi.web.import_mapping import (
    DATE_ORDERS,
    DECIMALS,
    ENCODINGS,
    ColumnChoices,
    build_mapping,
    choices_from_form,
    form_encoding,
    mapping_of,
    mapping_yaml,
    read_mapping_upload,
)
from crmroi.web.import_wizard import (
    SOURCES,
    Preview,
    audit_import,
    audit_undo,
    commit,
    dry_run,
    file_forms,
    read_header,
    upload_area,
)
from crmroi.web.language import page_language
from crmroi.web.pages import render
from crmroi.web.state import AppState
from crmroi.web.streamed_form import streamed_post
from crmroi.web.uploads import UPLOAD_GONE, UploadArea, UploadState

BATCH_STATUSES = {"loaded": N_("loaded"), "undone": N_("undone")}
"""Batch states shown translated (a failed batch keeps the engine's reason)."""

router = APIRouter()
router.include_router(api_router)

Source = Literal["salesforce", "hubspot", "pipedrive", "odoo", "bitrix24", "amocrm", "generic"]


# -- history --------------------------------------------------------------------------
@router.get("/imports", include_in_schema=False)
def imports_page(
    request: Request,
    state: State,
    session: Viewer,
    imported: str | None = None,
    undone: str | None = None,
) -> HTMLResponse:
    return _history_page(request, state, session, imported=imported, undone=undone)


def _history_page(
    request: Request,
    state: AppState,
    session: Session,
    *,
    imported: str | None = None,
    undone: str | None = None,
    flash: Message | str | None = None,
    flash_kind: str = "ok",
    status: int = 200,
) -> HTMLResponse:
    with state.access.reader() as store:  # beside other reads, never during a write
        batches = list_batches(store)
    if imported and flash is None:
        batch = next((b for b in batches if b.batch_id == imported), None)
        if batch is not None:
            flash = M_(
                "batch_imported",
                "Imported batch %(batch)s: %(loaded)s rows loaded, %(refused)s refused.",
                batch=batch.batch_id,
                loaded=int(batch.rows_loaded),
                refused=int(batch.rows_rejected),
            )
    if undone and flash is None:
        flash = M_(
            "batch_undone",
            "Batch %(batch)s undone: the workspace is as it was before it.",
            batch=undone,
        )
    context = {
        "batches": batches,
        "sources": SOURCES,
        "can_import": session.user.role.allows(Role.analyst),
        "max_mb": state.settings.max_upload_bytes / 1024 / 1024,
        "flash": flash,
        "flash_kind": flash_kind,
        "fmt": Fmt(page_language(request)),
        "statuses": BATCH_STATUSES,
    }
    return render(request, "imports.html", context, status=status)


@router.post("/imports/batches/{batch_id:path}/undo", include_in_schema=False)
def undo_page(request: Request, state: State, session: Analyst, batch_id: str) -> Response:
    """Undo a batch; a refusal is shown on the history page."""
    try:
        with state.access.store() as store:
            undo_batch(store, batch_id, on_commit=audit_undo(session.user.username))
    except UndoRefused as exc:
        return _history_page(
            request, state, session, flash=said_of(exc), flash_kind="error", status=409
        )
    state.cache.clear()
    return RedirectResponse(f"/imports?undone={quote(batch_id)}", status_code=303)


# -- wizard ---------------------------------------------------------------------------
@streamed_post(router, "/imports/upload", include_in_schema=False)  # parsed off the loop
def upload_page(
    state: State,
    session: Analyst,
    files: Annotated[list[UploadFile], File(description="CSV or XLSX exports")],
    source: Annotated[Source, Form()] = "generic",
    mapping: Annotated[UploadFile | None, File()] = None,
) -> RedirectResponse:
    """Stage the files; the preview page shows what an import would do."""
    area = upload_area(state)
    mapping_text = None
    if mapping is not None and mapping.filename:
        mapping_text = read_mapping_upload(mapping.file.read(1024 * 1024 + 1))
    staged = area.stage(session.user.username, ((f.filename, f.file) for f in files), source)
    if mapping_text is not None:
        staged.mapping_yaml, staged.mode = mapping_text, "yaml"
    elif source == "generic":
        staged.mode = "columns"
    area.save(staged)
    return RedirectResponse(f"/imports/{staged.upload_id}", status_code=303)


def _owned(state: AppState, session: Session, upload_id: str) -> tuple[UploadArea, UploadState]:
    area = upload_area(state)
    upload = area.load(upload_id)
    if upload.username != session.user.username and not session.user.role.allows(Role.admin):
        raise UserError(UPLOAD_GONE)
    return area, upload


def _wizard(
    request: Request,
    state: AppState,
    area: UploadArea,
    upload: UploadState,
    *,
    partial: bool,
    error: str | None = None,
) -> HTMLResponse:
    paths = area.paths(upload)
    try:
        mapping = mapping_of(upload)
    except MappingError as exc:
        mapping, preview = None, Preview(error=said_of(exc))
    else:  # the files are read in the work pool, without the workspace lock
        preview = state.work.call(
            dry_run, state.access.store, paths, mapping, offload=state.work.compute
        )
    if error is not None:
        preview.error = error
    # the files' headers and sample values are read in a worker process too
    source_system, forms = state.work.call(state.work.compute, file_forms, upload, paths, preview)
    context = {
        "upload": upload,
        "preview": preview,
        "forms": forms,
        "source_system": source_system,
        "sources": SOURCES,
        "tables": list(TABLES),
        "date_orders": DATE_ORDERS,
        "decimals": DECIMALS,
        "encodings": ENCODINGS,
        "can_commit": preview.ok and mapping is not None and preview.rows_in > 0,
    }
    template = "import_wizard.html" if partial else "import_preview.html"
    return render(request, template, context)


@router.get("/imports/{upload_id}", include_in_schema=False)
def preview_page(request: Request, state: State, session: Analyst, upload_id: str) -> HTMLResponse:
    area, upload = _owned(state, session, upload_id)
    return _wizard(request, state, area, upload, partial=False)


@router.post("/imports/{upload_id}/mapping", include_in_schema=False)
async def mapping_form(
    request: Request, state: State, session: Analyst, upload_id: str
) -> HTMLResponse:
    """Switch to a preset (`use=preset`, `source`) or to the form's column mapping."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_apply_mapping, request, state, session, upload_id, fields)


def _apply_mapping(
    request: Request, state: AppState, session: Session, upload_id: str, form: dict[str, str]
) -> HTMLResponse:
    area, upload = _owned(state, session, upload_id)
    error = None
    if form.get("use") == "preset":
        source = form.get("source", "")
        if source not in SOURCES:
            raise UserError(unknown_source(source, SOURCES))
        upload.source, upload.mapping_yaml, upload.choices = source, None, None
        upload.mode = "columns" if source == "generic" else "preset"
    else:
        paths = area.paths(upload)
        headers = [
            state.work.call(state.work.compute, read_header, p, form_encoding(form, i))[0]
            for i, p in enumerate(paths)
        ]
        choices: ColumnChoices = choices_from_form(form, upload, headers)
        upload.choices = choices.model_dump()
        upload.mode = "columns"
        try:
            built = build_mapping(choices, [f.name for f in upload.files])
        except MappingError as exc:
            upload.mapping_yaml, error = None, said_of(exc)
        else:
            upload.mapping_yaml = mapping_yaml(built)
    area.save(upload)
    partial = request.headers.get("hx-request") == "true"
    return _wizard(request, state, area, upload, partial=partial, error=error)


@router.get("/imports/{upload_id}/mapping.yaml", include_in_schema=False)
def mapping_download(state: State, session: Analyst, upload_id: str) -> Response:
    """The mapping in use as a YAML file for `crmroi import --mapping`."""
    _, upload = _owned(state, session, upload_id)
    mapping = mapping_of(upload)
    if mapping is None:
        raise MappingError(
            M_("mapping_none_yet", "no mapping yet: choose a preset or map the columns")
        )
    return Response(
        mapping_yaml(mapping),
        media_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="mapping.yaml"'},
    )


@router.post("/imports/{upload_id}/commit", include_in_schema=False)
def commit_page(state: State, session: Analyst, upload_id: str) -> RedirectResponse:
    """Import the staged files in one transaction, then remove them."""
    area, upload = _owned(state, session, upload_id)
    mapping = mapping_of(upload)
    if mapping is None:
        raise MappingError(
            M_(
                "mapping_none_before_import",
                "choose a source preset or map the columns before importing",
            )
        )
    hook = audit_import(session.user.username, upload.source)
    paths = area.paths(upload)
    report = state.work.call(
        commit, state.access.store, paths, mapping, on_commit=hook, offload=state.work.compute
    )
    area.remove(upload_id)
    state.cache.clear()
    return RedirectResponse(f"/imports?imported={quote(report.batch_id)}", status_code=303)


@router.post("/imports/{upload_id}/cancel", include_in_schema=False)
def cancel_page(state: State, session: Analyst, upload_id: str) -> RedirectResponse:
    area, _ = _owned(state, session, upload_id)
    area.remove(upload_id)
    return RedirectResponse("/imports", status_code=303)
