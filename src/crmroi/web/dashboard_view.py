"""The dashboard page's context: panels built from `dashboard_data`, and number formats.

Pure reshaping for the templates; every figure comes from `crmroi.web.dashboard_data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crmroi.errors import UserError
from crmroi.finite import finite
from crmroi.kpi import KPI_DEFINITIONS, KpiChange
from crmroi.web import dashboard_data as data
from crmroi.web import dashboard_improve as improve
from crmroi.web.dashboard_filters import (
    PERIODS,
    Filters,
    case_notes,
    followup_notes,
    kpi_notes,
    kpi_split,
    series_units,
    sources_notes,
)
from crmroi.web.state import AppState

FOLLOWUP_TITLES: dict[str, str] = {
    "stale_deal": "Deals with no activity",
    "overdue_task": "Follow-ups due",
    "hot_lead": "Hot leads not contacted",
    "credit_hold": "Accounts on credit hold with open deals or visits",
    "rep_dependency": "Accounts whose relationship rests on one rep",
}
ROWS_PER_LIST = 10


class Fmt:
    """Number formats of the page (missing values as a dash)."""

    DASH = "–"

    def money(self, value: float | None, currency: str = "") -> str:
        if finite(value) is None:
            return self.DASH
        assert value is not None
        text = f"{value:,.0f}"
        return f"{text} {currency}".strip()

    def pct(self, value: float | None, signed: bool = False) -> str:
        if finite(value) is None:
            return self.DASH
        assert value is not None
        return f"{value:+.1%}" if signed else f"{value:.1%}"

    def fixed(self, value: float | None, digits: int) -> str:
        """`value` with `digits` decimals and thousands separators."""
        number = finite(value)
        return self.DASH if number is None else f"{number:,.{digits}f}"

    def param(self, value: float | None) -> str:
        """A fitted model parameter (four decimals below 10, else one)."""
        number = finite(value)
        if number is None:
            return self.DASH
        return self.fixed(number, 4 if abs(number) < 10 else 1)

    def months(self, value: float | None) -> str:
        return self.DASH if value is None else f"{value:.1f} months"

    def kpi(self, value: float | None, unit: str, signed: bool = False) -> str:
        """A KPI value in its unit (fractions as percentages or points)."""
        if value is None:
            return self.DASH
        sign = "+" if signed else ""
        if unit == "fraction":
            return f"{value * 100:{sign}.1f} pts" if signed else f"{value:.1%}"
        if abs(value) >= 1000:
            return f"{value:{sign},.0f}"
        return f"{value:{sign},.2f}"

    def day(self, value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return self.DASH
        return f"{pd.Timestamp(value):%Y-%m-%d}"


@dataclass
class Panel:
    """One panel's content, or why it is empty, plus notes on the filters."""

    notes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class KpiPanel(Panel):
    areas: list[tuple[str, list[KpiChange]]] = field(default_factory=list)
    baseline: tuple[Any, Any] | None = None
    after: tuple[Any, Any] | None = None
    scope: str = "company"


@dataclass
class SourcesPanel(Panel):
    rows: list[data.SourceRow] = field(default_factory=list)


@dataclass
class FollowupsPanel(Panel):
    as_of: Any = None
    lists: list[tuple[str, str, int, list[dict[Any, Any]]]] = field(default_factory=list)


def kpi_panel(state: AppState, ws: data.Workspace, f: Filters) -> KpiPanel:
    by, group = kpi_split(f)
    panel = KpiPanel(notes=kpi_notes(f))
    try:
        report = data.kpi_report(state, ws, by, f.months)
    except UserError as exc:
        panel.error = str(exc)
        return panel
    panel.areas = data.by_area(data.kpi_rows(report, group))
    panel.baseline, panel.after = report.baseline, report.after
    panel.scope = f"{by} {group}" if by else "company"
    if not panel.areas:
        panel.error = f"no KPI figures for {panel.scope} in these windows"
    return panel


def sources_panel(state: AppState, ws: data.Workspace, f: Filters) -> SourcesPanel:
    panel = SourcesPanel(notes=sources_notes(f))
    try:
        panel.rows = data.source_rows(data.kpi_report(state, ws, "source", f.months))
    except UserError as exc:
        panel.error = str(exc)
    if not panel.rows and panel.error is None:
        panel.error = "no lead sources in the leads or deals"
    return panel


def followups_panel(state: AppState, ws: data.Workspace, f: Filters) -> FollowupsPanel:
    found = data.followups(state, ws)
    panel = FollowupsPanel(notes=followup_notes(f) + ([found.note] if found.note else []))
    panel.as_of = found.as_of
    items = data.filter_followups(found.items, f)
    for kind, title in FOLLOWUP_TITLES.items():
        rows = items[items["kind"] == kind]
        if len(rows):
            records = rows.head(ROWS_PER_LIST).to_dict(orient="records")
            panel.lists.append((kind, title, len(rows), records))
    return panel


def dashboard_context(state: AppState, ws: data.Workspace, f: Filters) -> dict[str, Any]:
    """Everything `dashboard_panels.html` shows for these filters."""
    context: dict[str, Any] = {
        "ws": ws,
        "filters": f,
        "periods": PERIODS,
        "fmt": Fmt(),
        "query": f.query(),
        "case_notes": case_notes(f),
        "improve_sections": list(improve.TITLES.items()),
        "improve_filtered": f != Filters(),
    }
    try:
        context["case"] = data.case_view(state, ws)
    except UserError as exc:  # the workspace's case.yaml does not validate
        context["case"], context["case_error"] = None, str(exc)
    if ws.has_data:
        context["kpis"] = kpi_panel(state, ws, f)
        context["sources"] = sources_panel(state, ws, f)
        context["followups"] = followups_panel(state, ws, f)
    return context


def panels_key(state: AppState, ws: data.Workspace, f: Filters) -> tuple[object, ...]:
    """The cache key of the panels: data version, active case and its text, filters."""
    from crmroi.web.case_library import CaseLibrary

    library = CaseLibrary(state.access)
    name = library.active_name()
    saved = library.get(name) if name else None
    return ("panels", ws.version, name, saved.digest if saved else None, f.key)


def panels_html(state: AppState, ws: data.Workspace, f: Filters) -> str:
    """The panels rendered for these filters, cached per data version, case text and
    filters (the panels hold nothing of the user: the CSRF token is in the page)."""
    key = panels_key(state, ws, f)

    def compute() -> str:
        context = dashboard_context(state, ws, f)
        template = state.templates.env.get_template("dashboard_panels.html")
        return str(template.render(**context))

    return state.cache.get_or_compute(key, compute)


def series_context(state: AppState, ws: data.Workspace, name: str, f: Filters) -> dict[str, Any]:
    """The drill-down of KPI `name`: its monthly series chart and the last months' values."""
    split, keep = series_units(f, ws.options)
    frame = data.series(state, ws, name, split, keep)
    d = KPI_DEFINITIONS[name]
    context: dict[str, Any] = {"name": name, "definition": d, "split": split, "fmt": Fmt()}
    context["notes"] = []
    if f.region and not f.team and not f.segment:
        context["notes"].append(f"Teams of region {f.region}: {', '.join(keep or ()) or 'none'}.")
    if len(frame):
        context["chart"] = data.series_chart(name, split, frame)
        shown = "total" if "total" in set(frame["unit"]) else frame["unit"].iloc[0]
        context["recent_unit"] = shown
        recent = frame[frame["unit"] == shown].sort_values("month").tail(6)
        context["recent"] = recent.to_dict(orient="records")
    else:
        context["notes"].append(f"{name} has no monthly series by {split} in this workspace.")
    return context


def improve_context(state: AppState, ws: data.Workspace, name: improve.Section) -> dict[str, Any]:
    """One section of the Improve area (`dashboard_improve.html`): the report's figures
    for the workspace as it is now, or the reason they cannot be computed."""
    im = improve.section(state, ws.version, name)
    return {
        "name": name,
        "title": improve.TITLES[name],
        "im": im,
        "fmt": Fmt(),
        "models": MODEL_NAMES,
        "segments": improve.best_segments(im),
        "per_dimension": improve.SEGMENTS_PER_DIMENSION,
    }


MODEL_NAMES: dict[str, str] = {
    "logistic": "regularised logistic regression",
    "naive_bayes": "naive Bayes (frequency baseline)",
}
