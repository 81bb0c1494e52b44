"""Routes of the cases area: the business case editor, comparison, downloads (the REST API,
/api/v1/cases, is `crmroi.web.routes.cases_api`).

Routes stay thin: validation is `crmroi.web.case_forms` (the case file's own models),
figures come from `crmroi.casework.evaluate_case` through `crmroi.web.case_results`,
reports from `crmroi.reports`, storage and audit from `CaseLibrary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from crmroi.errors import ConfigurationError, CrmroiError, error_code
from crmroi.languages import LANGUAGES
from crmroi.messages import M_, Message, Said, said_of
from crmroi.reports.i18n import N_, Lang
from crmroi.web.auth import Role, Session
from crmroi.web.case_forms import (
    CaseForm,
    apply_action,
    check_data,
    data_from_form,
    form_from_text,
)
from crmroi.web.case_library import CaseLibrary, SavedCase, check_name
from crmroi.web.case_results import (
    FORMATTERS,
    REPORT_TYPES,
    CaseFigures,
    cashflow_chart,
    content_disposition,
    evaluate_text,
    negotiate_language,
    report_bytes,
    report_languages,
    script_json,
)
from crmroi.web.deps import Analyst, State, Viewer
from crmroi.web.language import page_language
from crmroi.web.pages import render
from crmroi.web.state import AppState

router = APIRouter()

MESSAGES = {
    "saved": N_("Saved."),
    "created": N_("Saved as a new scenario."),
    "deleted": N_("Scenario deleted."),
    "activated": N_("This scenario is now the active one (the dashboard shows it)."),
}
MAX_COMPARE = 8
FIX_FIELDS = N_("Fix the fields marked in red to see the results.")
NEW_CASE = """name: New business case
currency: USD
horizon_months: 36
discount_rate: 0.10
users: 10
costs:
  - {category: licence, kind: recurring, amount: 80, per_user: true}
benefits:
  - {kind: custom, name: estimated benefit, change: {low: 500, likely: 1500, high: 3000}}
"""


def library(state: AppState) -> CaseLibrary:
    """The workspace's saved cases (seeded from its case.yaml when the app starts)."""
    return CaseLibrary(state.access)


def saved_or_404(lib: CaseLibrary, name: str) -> SavedCase:
    saved = lib.get(name)
    if saved is None:
        missing = M_("case_not_found", "no saved case called %(name)s", name=repr(name))
        raise HTTPException(status_code=404, detail=Said(missing))
    return saved


def case_url(name: str, tail: str = "") -> str:
    return "/cases/" + quote(name, safe="") + tail


@dataclass
class Outcome:
    """Figures of a case, or why there are none."""

    figures: CaseFigures | None
    error: str = ""
    error_code: str = ""
    message: Message | str = ""
    """`error` as its message, for the page's language (English text when it has none)."""


def said(exc: BaseException) -> Message | str:
    """An error's message (worded in the page's language), else its English text."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Message) else str(exc)


def outcome(state: AppState, text: str, name: str) -> Outcome:
    try:
        return Outcome(evaluate_text(state, text, name))
    except CrmroiError as exc:
        return Outcome(None, said_of(exc), error_code(exc))
    except (ArithmeticError, ValueError) as exc:
        return Outcome(None, f"the case cannot be evaluated: {exc}", "case_not_evaluable")


def results_context(result: Outcome, lang: Lang | None = None) -> dict[str, Any]:
    chart = cashflow_chart([result.figures], lang=lang) if result.figures else None
    return {
        "result": result.figures,
        "result_error": result.message or result.error,
        "chart_json": script_json(chart) if chart else None,
        **FORMATTERS,
    }


# -- pages ----------------------------------------------------------------------------
@router.get("/cases", include_in_schema=False)
def cases_page(request: Request, state: State, session: Viewer, done: str = "") -> HTMLResponse:
    lib = library(state)
    active = lib.active_name()
    rows = []
    for name in lib.names():
        saved = lib.get(name)
        if saved is not None:
            rows.append((saved, outcome(state, saved.yaml, name)))
    context: dict[str, Any] = {"rows": rows, "active": active, "flash": MESSAGES.get(done)}
    context |= FORMATTERS
    context["case_url"] = case_url
    return render(request, "cases.html", context)


@router.post("/cases", include_in_schema=False)
def create_case(
    state: State, session: Analyst, name: Annotated[str, Form(max_length=200)]
) -> RedirectResponse:
    """A new scenario from a small template."""
    lib = library(state)
    name = check_name(name)
    if lib.get(name) is not None:
        raise ConfigurationError(
            M_("case_exists", "a case called %(name)s exists already", name=repr(name))
        )
    lib.save(name, NEW_CASE, session.user.username)
    return RedirectResponse(case_url(name, "?done=created"), status_code=303)


@router.get("/cases/compare", include_in_schema=False)
def compare_page(
    request: Request,
    state: State,
    session: Viewer,
    names: Annotated[list[str], Query(max_length=200)] = [],  # noqa: B006
) -> HTMLResponse:
    lib = library(state)
    chosen = list(dict.fromkeys(names))[:MAX_COMPARE]
    scenarios: list[CaseFigures] = []
    problems: list[tuple[str, str]] = []
    for name in chosen:
        saved = lib.get(name)
        if saved is None:
            problems.append((name, "no saved case of this name"))
            continue
        result = outcome(state, saved.yaml, name)
        if result.figures is None:
            problems.append((name, result.error))
        else:
            scenarios.append(result.figures)
    chart = cashflow_chart(scenarios, lang=page_language(request)) if scenarios else None
    context = {
        "scenarios": scenarios,
        "problems": problems,
        "all_names": lib.names(),
        "chosen": chosen,
        "chart_json": script_json(chart) if chart else None,
        "case_url": case_url,
        **FORMATTERS,
    }
    return render(request, "case_compare.html", context)


def editor_context(
    state: AppState,
    saved: SavedCase,
    form: CaseForm,
    text: str,
    result: Outcome,
    can_edit: bool = True,
    lang: Lang | None = None,
) -> dict[str, Any]:
    lib = CaseLibrary(state.access)
    return {
        "saved": saved,
        "name": saved.name,
        "form": form,
        "yaml_text": text,
        "is_active": lib.active_name() == saved.name,
        "case_url": case_url,
        "can_edit": can_edit,
        "report_languages": report_languages(),
        **results_context(result, lang),
    }


def _page(
    request: Request,
    state: AppState,
    saved: SavedCase,
    *,
    tab: str = "form",
    form: CaseForm | None = None,
    text: str | None = None,
    yaml_error: Message | str = "",
    flash: Message | str | None = None,
    status: int = 200,
) -> HTMLResponse:
    text = saved.yaml if text is None else text
    form = form or form_from_text(text)
    result = outcome(state, text, saved.name)
    session: Session | None = getattr(request.state, "session", None)
    can_edit = session is not None and session.user.role.allows(Role.analyst)
    context = editor_context(state, saved, form, text, result, can_edit, page_language(request))
    context |= {"tab": tab if tab in ("form", "yaml") else "form", "yaml_error": yaml_error}
    context["report_lang"] = report_language(request)
    if flash:
        context |= {"flash": flash, "flash_kind": "error" if status >= 400 else "ok"}
    return render(request, "case.html", context, status=status)


@router.get("/cases/{name}", include_in_schema=False)
def case_page(
    request: Request, state: State, session: Viewer, name: str, tab: str = "form", done: str = ""
) -> HTMLResponse:
    saved = saved_or_404(library(state), name)
    return _page(request, state, saved, tab=tab, flash=MESSAGES.get(done))


async def _form_items(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


@router.post("/cases/{name}/form", include_in_schema=False)
async def editor_fragment(
    request: Request, state: State, session: Analyst, name: str
) -> HTMLResponse:
    """The editor re-rendered after a structural change (add or remove a row, a kind)."""
    saved = saved_or_404(library(state), name)
    items = await _form_items(request)
    action = next((v for k, v in items if k == "action"), "")
    data = apply_action(data_from_form(items), action)
    lang = page_language(request)

    def build() -> dict[str, Any]:
        checked = check_data(data, f"{name}.yaml")
        if checked.case is None:
            result = Outcome(None, FIX_FIELDS)
        else:
            result = outcome(state, checked.text, name)
        return editor_context(state, saved, checked.form, checked.text, result, lang=lang)

    return render(request, "case_editor.html", await run_in_threadpool(build))


@router.post("/cases/{name}/preview", include_in_schema=False)
async def preview(request: Request, state: State, session: Analyst, name: str) -> HTMLResponse:
    """The results panel for the form as it stands, with field errors swapped in place."""
    saved_or_404(library(state), name)
    items = await _form_items(request)
    lang = page_language(request)

    def build() -> dict[str, Any]:
        checked = check_data(data_from_form(items), f"{name}.yaml")
        if checked.case is None:
            result = Outcome(None, FIX_FIELDS)
        else:
            result = outcome(state, checked.text, name)
        return {
            "form": checked.form,
            "oob": True,
            "name": name,
            **results_context(result, lang),
        }

    return render(request, "case_results.html", await run_in_threadpool(build))


@router.post("/cases/{name}/yaml/preview", include_in_schema=False)
def yaml_preview(
    request: Request,
    state: State,
    session: Analyst,
    name: str,
    yaml_text: Annotated[str, Form(alias="yaml", max_length=1_000_000)] = "",
) -> HTMLResponse:
    saved_or_404(library(state), name)
    result = outcome(state, yaml_text, name)
    context = {"name": name, "yaml_check": True, **results_context(result, page_language(request))}
    return render(request, "case_results.html", context)


def _store(
    state: AppState, session: Analyst, name: str, text: str, action: str, target: str
) -> str:
    """Save under `name` or, with action save_as, under `target`; the URL to go to."""
    lib = library(state)
    if action == "save_as":
        new = check_name(target)
        if lib.get(new) is not None:
            raise ConfigurationError(
                M_(
                    "case_exists_choose",
                    "a case called %(name)s exists already; choose another name",
                    name=repr(new),
                )
            )
        lib.save(new, text, session.user.username)
        return case_url(new, "?done=created")
    lib.save(name, text, session.user.username)
    return case_url(name, "?done=saved")


@router.post("/cases/{name}", include_in_schema=False)
async def save_form(request: Request, state: State, session: Analyst, name: str) -> Response:
    """Save the form (or save it as a new scenario); invalid input stores nothing."""
    saved = saved_or_404(library(state), name)
    items = await _form_items(request)
    action = next((v for k, v in items if k == "action"), "save")
    target = next((v for k, v in items if k == "save_as"), "")

    def run() -> Response:
        checked = check_data(data_from_form(items), f"{name}.yaml")
        if checked.case is None:
            flash = N_("Nothing was saved: fix the fields marked in red.")
            return _page(
                request, state, saved, form=checked.form, text=checked.text, flash=flash, status=400
            )
        try:
            url = _store(state, session, name, checked.text, action, target)
        except ConfigurationError as exc:
            return _page(
                request,
                state,
                saved,
                form=checked.form,
                text=checked.text,
                flash=said(exc),
                status=400,
            )
        return RedirectResponse(url, status_code=303)

    return await run_in_threadpool(run)


@router.post("/cases/{name}/yaml", include_in_schema=False)
def save_yaml(
    request: Request,
    state: State,
    session: Analyst,
    name: str,
    yaml_text: Annotated[str, Form(alias="yaml", max_length=1_000_000)],
    action: Annotated[str, Form(max_length=20)] = "save",
    save_as: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Save the raw YAML exactly as typed; errors name the line."""
    saved = saved_or_404(library(state), name)
    try:
        url = _store(state, session, name, yaml_text, action, save_as)
    except ConfigurationError as exc:
        flash = N_("Nothing was saved.")
        return _page(
            request,
            state,
            saved,
            tab="yaml",
            text=yaml_text,
            yaml_error=said(exc),
            flash=flash,
            status=400,
        )
    return RedirectResponse(url, status_code=303)


@router.post("/cases/{name}/delete", include_in_schema=False)
def delete_case(state: State, session: Analyst, name: str) -> RedirectResponse:
    lib = library(state)
    saved_or_404(lib, name)
    lib.delete(name, session.user.username)
    return RedirectResponse("/cases?done=deleted", status_code=303)


@router.post("/cases/{name}/activate", include_in_schema=False)
def activate_case(state: State, session: Analyst, name: str) -> RedirectResponse:
    lib = library(state)
    saved_or_404(lib, name)
    lib.activate(name, session.user.username)
    return RedirectResponse(case_url(name, "?done=activated"), status_code=303)


# -- downloads -------------------------------------------------------------------------
@router.get("/cases/{name}/case.yaml", tags=["cases"])
def download_yaml(state: State, session: Viewer, name: str) -> Response:
    """The saved case.yaml, byte for byte."""
    saved = saved_or_404(library(state), name)
    return Response(
        saved.yaml.encode("utf-8"),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": content_disposition(saved.name, ".yaml")},
    )


@router.get("/cases/{name}/report.{fmt}", tags=["cases"])
def download_report(
    request: Request,
    state: State,
    session: Viewer,
    name: str,
    fmt: str,
    lang: Annotated[
        str | None,
        Query(
            description=f"Language of the report ({', '.join(LANGUAGES)}); "
            "without it, the Accept-Language header's choice, else English.",
        ),
    ] = None,
) -> Response:
    """The report of the case over the workspace: html, pdf or xlsx, in `lang`."""
    if fmt not in REPORT_TYPES:
        raise HTTPException(
            status_code=404, detail=Said(M_("report_type_unknown", "reports are html, pdf or xlsx"))
        )
    code = lang if lang is not None else report_language(request)
    if code not in report_languages():
        raise ConfigurationError(
            f"unknown report language {code[:20]!r}; choose one of: {', '.join(report_languages())}"
        )
    saved = saved_or_404(library(state), name)
    body = report_bytes(state, saved, fmt, code)
    return Response(
        body,
        media_type=REPORT_TYPES[fmt],
        headers={
            "Content-Disposition": content_disposition(saved.name, f".{fmt}"),
            "Content-Language": code,
            "Vary": "Accept-Language",
        },
    )


def report_language(request: Request) -> str:
    """The report language the request's Accept-Language prefers (English by default)."""
    return negotiate_language(request.headers.get("accept-language"))
