"""Dashboard pages: the executive summary, KPIs, lead sources, improvement lists.

`GET /dashboard` renders the whole page; an htmx request (a filter changed) gets only
the panels. `GET /dashboard/kpi/{name}` is the drill-down to a KPI's monthly series
(a partial for htmx, a page otherwise). `GET /dashboard/improve/{section}` is one
section of the Improve area (scoring, segments, clv), loaded lazily by htmx because
the models take seconds to fit on a large workspace.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from crmroi.kpi import KPI_DEFINITIONS
from crmroi.web import dashboard_data as data
from crmroi.web.dashboard_filters import PERIODS
from crmroi.web.dashboard_improve import SECTIONS, Section
from crmroi.web.dashboard_view import improve_context, page_fmt, panels_html, series_context
from crmroi.web.deps import State, Viewer
from crmroi.web.filter_query import CurrentWorkspace, FiltersQuery
from crmroi.web.language import page_language
from crmroi.web.pages import render

router = APIRouter()


def _partial(request: Request) -> bool:
    """An htmx swap (not a history restore, which needs the whole page)."""
    headers = request.headers
    return bool(headers.get("hx-request")) and not headers.get("hx-history-restore-request")


@router.get("/dashboard", include_in_schema=False)
def dashboard(
    request: Request,
    state: State,
    session: Viewer,
    ws: CurrentWorkspace,
    f: FiltersQuery,
) -> HTMLResponse:
    panels = panels_html(state, ws, f, page_language(request))
    if _partial(request):
        response = HTMLResponse(panels)
    else:
        context = {"ws": ws, "filters": f, "periods": PERIODS, "panels": Markup(panels)}
        context["fmt"] = page_fmt(state, page_language(request))
        response = render(request, "dashboard.html", context)
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/dashboard/kpi/{name}", include_in_schema=False)
def kpi_drilldown(
    request: Request,
    state: State,
    session: Viewer,
    name: str,
    ws: CurrentWorkspace,
    f: FiltersQuery,
) -> HTMLResponse:
    if name not in KPI_DEFINITIONS:
        raise HTTPException(404, f"no KPI called {name!r}")
    context = series_context(state, ws, name, f, page_language(request))
    context["filters"] = f
    template = "dashboard_series.html" if _partial(request) else "dashboard_series_page.html"
    response = render(request, template, context)
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/dashboard/improve/{section}", include_in_schema=False)
def improve_section(request: Request, state: State, session: Viewer, section: str) -> HTMLResponse:
    if section not in SECTIONS:
        raise HTTPException(404, f"no section called {section!r}; sections: {', '.join(SECTIONS)}")
    name: Section = section
    ws = data.workspace(state)
    context = improve_context(state, ws, name, page_language(request))
    template = "dashboard_improve.html" if _partial(request) else "dashboard_improve_page.html"
    response = render(request, template, context)
    response.headers["Vary"] = "HX-Request"
    return response
