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
from crmroi.kpi.coverage import PER_MONTH
from crmroi.messages import M_, Items, Message, render, said_of
from crmroi.reports.i18n import N_, Lang, get_lang
from crmroi.reports.labels import PEOPLE_LABELS, kpi_label, unit_label
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
    "stale_deal": N_("Deals with no activity"),
    "overdue_task": N_("Follow-ups due"),
    "hot_lead": N_("Hot leads not contacted"),
    "credit_hold": N_("Accounts on credit hold with open deals or visits"),
    "rep_dependency": N_("Accounts whose relationship rests on one rep"),
    "key_person": N_("Largest accounts resting on one current rep"),
}
ROWS_PER_LIST = 10
AREA_LABELS: dict[str, str] = {
    "sales": N_("sales"),
    "marketing": N_("marketing"),
    "service": N_("service"),
    "cost": N_("cost"),
}
SUBJECT_LABELS = (N_("deal"), N_("lead"), N_("account"), N_("task"), N_("rep"))
"""Follow-up subjects the engine names (translated in the template)."""
SPLIT_LABELS = (N_("team"), N_("segment"), N_("total"))
"""Units of a KPI's monthly series (translated in the template)."""


class Fmt:
    """Number, date and text formats of the page in its language (missing values as a dash).

    English keeps the plain Python formats (`1,234`, `12.3%`, `2025-03-07`); the other
    languages take CLDR's separators and digits from `Lang` (`1 234`, `۱۲٫۳٪`).
    """

    DASH = "–"
    NO_TEXT = "—"  # a name or id the record does not have

    def __init__(self, lang: Lang | None = None, currency: str = "") -> None:
        self.ui = lang or get_lang("en")
        self.lang = lang if lang is not None and lang.code != "en" else None
        self.currency = currency  # the workspace's base currency: amounts given without one

    def _(self, message: str) -> str:
        return self.ui.gettext(message)

    def t(self, message: Message | str | None) -> str:
        """A message (id and parameters) or a plain text in the page's language."""
        return "" if message is None else render(message, self.ui)

    def kpi_name(self, name: str) -> str:
        """A KPI's display name ('Win rate') in the page's language."""
        return kpi_label(self.ui, name)

    def unit(self, unit: str) -> str:
        """A KPI unit in the page's language ('USD per deal' keeps its code)."""
        if unit.endswith(" " + PER_MONTH):
            base = self.unit(unit.removesuffix(" " + PER_MONTH))
            return self._("%(unit)s per covered month") % {"unit": base}
        return unit_label(self.ui, unit, unit.partition(" ")[0])

    def people(self, key: str) -> str:
        """A people-ROI measure's name in the page's language."""
        return self._(PEOPLE_LABELS.get(key, key.replace("_", " ")))

    def _plus(self, text: str, value: float, signed: bool) -> str:
        if not signed or value <= 0 or self.lang is None:
            return text
        return self.lang.symbols["plusSign"] + text

    def money(self, value: float | None, currency: str = "") -> str:
        """An amount; with the user's money display ('toman', 'wan') as they write it:
        rials as tomans ('۱۲٬۳۴۵ تومان'), zh amounts of 10,000+ in 万/亿 ('1.23亿')."""
        if finite(value) is None:
            return self.DASH
        assert value is not None
        units = self.ui.money_units
        if units == "toman" and (currency or self.currency) == "IRR":
            return self.ui.money(value, "IRR")
        if units == "wan" and abs(value) >= 10_000:
            return f"{self.ui.compact(value)} {currency}".strip()
        text = self.lang.number(value, 0) if self.lang else f"{value:,.0f}"
        return f"{text} {currency}".strip()

    def pct(self, value: float | None, signed: bool = False) -> str:
        if finite(value) is None:
            return self.DASH
        assert value is not None
        if self.lang:
            return self.lang.percent(value, 1, signed)
        return f"{value:+.1%}" if signed else f"{value:.1%}"

    def fixed(self, value: float | None, digits: int, signed: bool = False) -> str:
        """`value` with `digits` decimals and thousands separators."""
        number = finite(value)
        if number is None:
            return self.DASH
        if self.lang:
            return self._plus(self.lang.number(number, digits), number, signed)
        return f"{number:{'+' if signed else ''},.{digits}f}"

    def count(self, value: int | None) -> str:
        """A count with thousands separators."""
        return self.fixed(value, 0)

    def param(self, value: float | None) -> str:
        """A fitted model parameter (four decimals below 10, else one)."""
        number = finite(value)
        if number is None:
            return self.DASH
        return self.fixed(number, 4 if abs(number) < 10 else 1)

    def months(self, value: float | None) -> str:
        if value is None:
            return self.DASH
        return self._("%(n)s months") % {"n": self.fixed(value, 1)}

    def kpi(self, value: float | None, unit: str, signed: bool = False) -> str:
        """A KPI value in its unit (fractions as percentages or points)."""
        if value is None:
            return self.DASH
        if unit == "fraction":
            if signed:
                return self._("%(n)s pts") % {"n": self.fixed(value * 100, 1, True)}
            return self.pct(value)
        return self.fixed(value, 0 if abs(value) >= 1000 else 2, signed)

    def day(self, value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return self.DASH
        if self.lang:
            return self.lang.date(pd.Timestamp(value).date())
        return f"{pd.Timestamp(value):%Y-%m-%d}"

    def month(self, value: Any) -> str:
        """A month in the reader's calendar (English: its first day, 2024-01-01)."""
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return self.DASH
        if self.lang:
            return self.lang.month(pd.Timestamp(value).date())
        return self.day(value)

    def text(self, *values: Any) -> str:
        """The first value that is a real name or id, else an em dash (never 'nan'); the
        engines' "(none)" of a missing group in the page's language."""
        for value in values:
            if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
                continue
            if str(value).strip():
                return str(self.ui.data_value(str(value)))
        return self.NO_TEXT


@dataclass
class Panel:
    """One panel's content, or why it is empty, plus notes on the filters."""

    notes: list[Message | str] = field(default_factory=list)
    error: Message | str | None = None


@dataclass
class KpiPanel(Panel):
    areas: list[tuple[str, list[KpiChange]]] = field(default_factory=list)
    baseline: tuple[Any, Any] | None = None
    after: tuple[Any, Any] | None = None
    scope: Message = field(default_factory=lambda: M_("scope_company", "company"))


@dataclass
class SourcesPanel(Panel):
    rows: list[data.SourceRow] = field(default_factory=list)


@dataclass
class FollowupsPanel(Panel):
    as_of: Any = None
    lists: list[tuple[str, str, int, list[dict[Any, Any]]]] = field(default_factory=list)


def kpi_panel(state: AppState, ws: data.Workspace, f: Filters) -> KpiPanel:
    by, group = kpi_split(f)
    panel = KpiPanel(notes=list(kpi_notes(f)))
    try:
        report = data.kpi_report(state, ws, by, f.months)
    except UserError as exc:
        panel.error = said_of(exc)
        return panel
    panel.areas = data.by_area(data.kpi_rows(report, group))
    panel.baseline, panel.after = report.baseline, report.after
    if by == "team":
        panel.scope = M_("scope_team", "team %(group)s", group=group)
    elif by == "segment":
        panel.scope = M_("scope_segment", "segment %(group)s", group=group)
    if not panel.areas:
        panel.error = M_("no_kpi_figures", "no KPI figures for this selection in these windows")
    return panel


def sources_panel(state: AppState, ws: data.Workspace, f: Filters) -> SourcesPanel:
    panel = SourcesPanel(notes=list(sources_notes(f)))
    try:
        panel.rows = data.source_rows(data.kpi_report(state, ws, "source", f.months))
    except UserError as exc:
        panel.error = said_of(exc)
    if not panel.rows and panel.error is None:
        panel.error = M_("no_lead_sources", "no lead sources in the leads or deals")
    return panel


def followups_panel(state: AppState, ws: data.Workspace, f: Filters) -> FollowupsPanel:
    found = data.followups(state, ws)
    notes = followup_notes(f) + ([found.note] if found.note else [])
    if (kp := found.key_person) is not None and kp.revenue_total:
        fmt = Fmt()
        notes.append(
            M_(
                "key_person_risk",
                "Key-person risk (whole workspace, every filter aside): %(at_risk)s of the "
                "revenue of the last 365 days (%(share)s) rests on one current rep; reps leave "
                "at %(rate)s a year, so %(exposed)s of it is exposed a year.",
                at_risk=fmt.money(kp.current_at_risk),
                share=fmt.pct(kp.current_at_risk / kp.revenue_total),
                rate=fmt.pct(kp.departure_rate),
                exposed=fmt.money(kp.exposed_a_year),
            )
        )
    panel = FollowupsPanel(notes=notes)
    panel.as_of = found.as_of
    items = data.filter_followups(found.items, f)
    for kind, title in FOLLOWUP_TITLES.items():
        rows = items[items["kind"] == kind]
        if len(rows):
            records = rows.head(ROWS_PER_LIST).to_dict(orient="records")
            panel.lists.append((kind, title, len(rows), records))
    return panel


def page_fmt(state: AppState, lang: Lang | None) -> Fmt:
    """The page's `Fmt`, knowing the workspace's base currency (amounts shown without a
    currency are in it: a toman display converts them only when it is IRR)."""
    return Fmt(lang, str(state.access.settings().get("base_currency", "USD")))


def dashboard_context(
    state: AppState, ws: data.Workspace, f: Filters, lang: Lang | None = None
) -> dict[str, Any]:
    """Everything `dashboard_panels.html` shows for these filters, in `lang` (English)."""
    lang = lang or get_lang("en")
    context: dict[str, Any] = {
        "ws": ws,
        "filters": f,
        "periods": PERIODS,
        "ui": lang,
        "fmt": page_fmt(state, lang),
        "query": f.query(),
        "case_notes": case_notes(f),
        "improve_sections": list(improve.TITLES.items()),
        "improve_filtered": f != Filters(),
    }
    try:
        context["case"] = data.case_view(state, ws)
    except UserError as exc:  # the workspace's case.yaml does not validate
        context["case"], context["case_error"] = None, said_of(exc)
    case = context["case"]
    if case is not None and case.result is not None and lang.code != "en":
        from crmroi.reports.build import build_report  # the chart's titles in `lang`

        context["cash_flow"] = build_report(case.result, lang=lang.code).charts["cash_flow"]
    if case is not None and case.actuals is not None and case.case is not None:
        from crmroi.reports.case_sections import adoption_rows
        from crmroi.reports.charts import adoption_chart, weekly_adoption_chart
        from crmroi.reports.usage import usage_section

        rows = adoption_rows(case.actuals, case.case.start)
        context["adoption_chart"] = adoption_chart(rows, lang)
        context["usage"] = usage_section(case.actuals.usage, weeks=6)
        context["adoption_weeks_chart"] = weekly_adoption_chart(context["usage"], lang)
    if ws.has_data:
        context["kpis"] = kpi_panel(state, ws, f)
        context["sources"] = sources_panel(state, ws, f)
        context["followups"] = followups_panel(state, ws, f)
    return context


def panels_key(
    state: AppState, ws: data.Workspace, f: Filters, code: str = "en"
) -> tuple[object, ...]:
    """The cache key of the panels: data version, active case and its text, filters,
    language."""
    from crmroi.web.case_library import CaseLibrary

    library = CaseLibrary(state.access)
    name = library.active_name()
    saved = library.get(name) if name else None
    return ("panels", ws.version, name, saved.digest if saved else None, f.key, code)


def panels_html(state: AppState, ws: data.Workspace, f: Filters, lang: Lang | None = None) -> str:
    """The panels rendered for these filters in `lang` (English), cached per data version,
    case text, filters and language (the panels hold nothing of the user: the CSRF token
    is in the page)."""
    lang = lang or get_lang("en")
    units = f"@{lang.money_units}" if lang.money_units else ""
    key = panels_key(state, ws, f, lang.code + units)

    def compute() -> str:
        context = dashboard_context(state, ws, f, lang)
        template = state.templates.env.get_template("dashboard_panels.html")
        return str(template.render(**context))

    return state.cache.get_or_compute(key, compute)


def series_context(
    state: AppState, ws: data.Workspace, name: str, f: Filters, lang: Lang | None = None
) -> dict[str, Any]:
    """The drill-down of KPI `name`: its monthly series chart and the last months' values."""
    split, keep = series_units(f, ws.options)
    frame = data.series(state, ws, name, split, keep)
    d = KPI_DEFINITIONS[name]
    fmt = page_fmt(state, lang)
    context: dict[str, Any] = {"name": name, "definition": d, "split": split, "fmt": fmt}
    context["notes"] = []
    if f.region and not f.team and not f.segment:
        teams = Items(keep or ()) or "–"
        context["notes"].append(
            M_(
                "region_teams",
                "Teams of region %(region)s: %(teams)s.",
                region=f.region,
                teams=teams,
            )
        )
    if len(frame):
        code = lang.code if lang else "en"
        chart_key = ("series-chart", ws.version, name, split, keep, code)  # read-only, shared
        context["chart"] = state.cache.get_or_compute(
            chart_key, lambda: data.series_chart(name, split, frame, lang)
        )
        shown = "total" if "total" in set(frame["unit"]) else frame["unit"].iloc[0]
        context["recent_unit"] = shown
        recent = frame[frame["unit"] == shown].sort_values("month").tail(6)
        context["recent"] = recent.to_dict(orient="records")
    else:
        context["notes"].append(
            M_(
                "no_series",
                "%(kpi)s has no monthly series by %(unit)s in this workspace.",
                kpi=name,
                unit=split,
            )
        )
    return context


def improve_context(
    state: AppState, ws: data.Workspace, name: improve.Section, lang: Lang | None = None
) -> dict[str, Any]:
    """One section of the Improve area (`dashboard_improve.html`): the report's figures
    for the workspace as it is now, or the reason they cannot be computed."""
    im = improve.section(state, ws.version, name)
    return {
        "name": name,
        "title": improve.TITLES[name],
        "im": im,
        "fmt": page_fmt(state, lang),
        "models": MODEL_NAMES,
        "segments": improve.best_segments(im),
        "per_dimension": improve.SEGMENTS_PER_DIMENSION,
    }


MODEL_NAMES: dict[str, str] = {
    "logistic": N_("regularised logistic regression"),
    "naive_bayes": N_("naive Bayes (frequency baseline)"),
}
