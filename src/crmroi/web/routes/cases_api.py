"""Routes of the cases REST API: /api/v1/cases (list, read, put, delete, activate, evaluate).

The pages of the cases area are `crmroi.web.routes.cases`; both use its library,
lookup and evaluation helpers, so a case reads the same on a page and through the API.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from crmroi.errors import ConfigurationError, error_code
from crmroi.finance.case import Case
from crmroi.finance.case_errors import problem_list
from crmroi.messages import M_, Message
from crmroi.web.api_types import CodedHTTPException, UtcDateTime
from crmroi.web.case_library import CaseLibrary, SavedCase, case_from_text, check_name
from crmroi.web.case_results import CaseFigures
from crmroi.web.deps import Analyst, State, Viewer
from crmroi.web.routes.cases import library, outcome, saved_or_404
from crmroi.web.state import AppState

router = APIRouter()


class CaseInfo(BaseModel):
    name: str
    active: bool
    updated_at: UtcDateTime
    updated_by: str
    digest: str


class CaseOutline(BaseModel):
    """The parsed case in brief."""

    title: str
    currency: str
    horizon_months: int
    discount_rate: float
    users: int
    go_live_month: int
    costs: list[str] | str
    benefits: list[str]
    avoided_losses: list[str]
    needs_workspace: bool

    @classmethod
    def of(cls, case: Case) -> CaseOutline:
        costs = case.costs if isinstance(case.costs, str) else [c.label for c in case.costs]
        return cls(
            title=case.name,
            currency=case.currency,
            horizon_months=case.horizon_months,
            discount_rate=case.discount_rate,
            users=case.users,
            go_live_month=case.go_live_month,
            costs=costs,
            benefits=[d.label for d in case.benefits],
            avoided_losses=[x.name for x in case.do_nothing],
            needs_workspace=case.needs_workspace,
        )


class CaseDetail(CaseInfo):
    yaml: str
    outline: CaseOutline | None
    results: CaseFigures | None
    results_error: str | None
    results_error_code: str | None = Field(
        default=None, description="A stable machine code of `results_error` (docs/api.md)."
    )


def _info(lib: CaseLibrary, saved: SavedCase, active: str | None) -> CaseInfo:
    return CaseInfo(
        name=saved.name,
        active=saved.name == active,
        updated_at=saved.updated_at,
        updated_by=saved.updated_by,
        digest=saved.digest,
    )


def _detail(state: AppState, lib: CaseLibrary, saved: SavedCase) -> CaseDetail:
    info = _info(lib, saved, lib.active_name())
    try:
        outline: CaseOutline | None = CaseOutline.of(case_from_text(saved.yaml))
    except ConfigurationError:
        outline = None
    result = outcome(state, saved.yaml, saved.name)
    return CaseDetail(
        **info.model_dump(),
        yaml=saved.yaml,
        outline=outline,
        results=result.figures,
        results_error=result.error or None,
        results_error_code=result.error_code or None,
    )


def _validate(text: str, source: str) -> None:
    """422 with the case file's message (naming the line) when `text` is not a valid case."""
    try:
        case_from_text(text, source)
    except ConfigurationError as exc:
        first = exc.args[0] if exc.args else None
        errors = problem_list(first) if isinstance(first, Message) else None
        raise CodedHTTPException(422, str(exc), error_code(exc), errors) from None


YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/yaml": {"schema": {"type": "string", "description": "case.yaml text"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": '{"yaml": TEXT}, or the case itself as JSON',
                }
            },
        }
    }
}


def _body_text(body: bytes, content_type: str) -> str:
    """case.yaml text from a request body: YAML text, {"yaml": TEXT}, or the case as JSON."""
    try:
        decoded = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigurationError(M_("body_not_utf8", "the body is not UTF-8 text")) from None
    if "json" not in content_type.lower():
        return decoded
    try:
        value = json.loads(decoded)
    except ValueError:
        raise ConfigurationError(M_("body_not_json", "the body is not valid JSON")) from None
    if isinstance(value, dict) and set(value) == {"yaml"} and isinstance(value["yaml"], str):
        return value["yaml"]
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise ConfigurationError(
            M_("body_not_a_case", 'send the case as YAML text, {"yaml": TEXT} or a JSON object')
        )
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)


@router.get("/api/v1/cases", tags=["cases"])
def list_cases_api(state: State, session: Viewer) -> list[CaseInfo]:
    """Every saved case (scenario) and which one is active."""
    lib = library(state)
    active = lib.active_name()
    out = []
    for name in lib.names():
        saved = lib.get(name)
        if saved is not None:
            out.append(_info(lib, saved, active))
    return out


@router.get("/api/v1/cases/{name}", tags=["cases"])
def get_case_api(state: State, session: Viewer, name: str) -> CaseDetail:
    """One saved case: its YAML, an outline of the parsed case and its key figures."""
    lib = library(state)
    return _detail(state, lib, saved_or_404(lib, name))


@router.put(
    "/api/v1/cases/{name}",
    tags=["cases"],
    openapi_extra=YAML_BODY,
    responses={422: {"description": "the case is not valid (the message names the line)"}},
)
async def put_case_api(request: Request, state: State, session: Analyst, name: str) -> CaseDetail:
    """Create or replace a case from case.yaml text (or JSON); audited."""
    name = check_name(name)
    text = _body_text(await request.body(), request.headers.get("content-type", ""))

    def run() -> CaseDetail:
        lib = library(state)
        _validate(text, f"{name}.yaml")
        saved = lib.save(name, text, session.user.username)
        return _detail(state, lib, saved)

    return await run_in_threadpool(run)


@router.delete("/api/v1/cases/{name}", tags=["cases"], status_code=204)
def delete_case_api(state: State, session: Analyst, name: str) -> Response:
    """Delete a saved case (audited)."""
    lib = library(state)
    saved_or_404(lib, name)
    lib.delete(name, session.user.username)
    return Response(status_code=204)


@router.post("/api/v1/cases/{name}/activate", tags=["cases"])
def activate_case_api(state: State, session: Analyst, name: str) -> CaseInfo:
    """Make a case the active one (the dashboard shows it; audited)."""
    lib = library(state)
    saved = saved_or_404(lib, name)
    lib.activate(name, session.user.username)
    return _info(lib, saved, name)


@router.post(
    "/api/v1/cases/{name}/evaluate",
    tags=["cases"],
    openapi_extra=YAML_BODY,
    responses={
        422: {"description": "the case is not valid or cannot be evaluated"},
        503: {"description": "busy evaluating other cases; try again after Retry-After"},
    },
)
async def evaluate_case_api(
    request: Request, state: State, session: Viewer, name: str
) -> CaseFigures:
    """Key figures of the saved case, or of the case in the body, without saving anything."""
    body = await request.body()
    if body.strip():
        text = _body_text(body, request.headers.get("content-type", ""))
    else:
        text = saved_or_404(library(state), name).yaml

    def run() -> CaseFigures:
        _validate(text, "case.yaml")
        result = outcome(state, text, name)
        if result.figures is None:
            raise HTTPException(status_code=422, detail=result.error)
        return result.figures

    return await state.work.run(run)  # the bounded pool: see crmroi.web.workers
