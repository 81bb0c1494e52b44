"""What the dashboard and `/api/v1` show, computed by the core and cached per data version.

Every heavy result (KPI reports, the evaluated case, follow-up lists, monthly series)
goes through `state.cache` under a key holding the workspace's data version, the
case text's digest and the settings it depends on, so fifty clients cause one
computation and an import or undo makes old results unreachable. The functions here
call the same core as the CLI (`crmroi.kpi`, `crmroi.finance`, `crmroi.improve`,
`crmroi.reports`) and only reshape its results.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmroi.casework.actuals import plan_vs_actual
from crmroi.casework.evaluate import evaluate_case, model_for
from crmroi.errors import UserError
from crmroi.finance.actuals import PlanVsActual
from crmroi.finance.case import Case
from crmroi.finance.evaluate import CaseResult
from crmroi.finance.model import CaseModel
from crmroi.finance.simulation import simulate
from crmroi.finance.summary import Summary
from crmroi.finite import finite
from crmroi.kpi import KPI_DEFINITIONS, KpiChange, KpiReport, compute_kpi_report, kpi_panel
from crmroi.messages import M_, Message, said_of
from crmroi.reports.i18n import Lang, get_lang
from crmroi.store.schema import TABLES
from crmroi.web.case_library import CaseLibrary, SavedCase
from crmroi.web.dashboard_filters import Filters, Options, load_options
from crmroi.web.state import AppState

AREAS: tuple[str, ...] = ("sales", "marketing", "service", "cost")
SEED = 0
STALE_DAYS = 14
FOLLOWUP_TABLES = ["reps", "accounts", "leads", "deals", "activities", "orders"]


# -- workspace --------------------------------------------------------------------
@dataclass(frozen=True)
class Workspace:
    """The data version, row counts and filter options of the workspace."""

    version: str
    counts: dict[str, int]
    options: Options

    @property
    def has_data(self) -> bool:
        return any(self.counts.get(t, 0) for t in ("deals", "leads", "activities", "orders"))


def workspace(state: AppState) -> Workspace:
    """The workspace as it is now (cheap once cached for this data version)."""
    version = state.access.data_version()

    def compute() -> Workspace:
        with state.access.reader() as store:  # beside reports, never during a write
            counts = {name: store.count(name) for name in TABLES}
        return Workspace(version, counts, load_options(state.access))

    return state.cache.get_or_compute(("workspace", version), compute)


# -- KPIs -------------------------------------------------------------------------
def kpi_report(state: AppState, ws: Workspace, by: str | None, months: int) -> KpiReport:
    """Every KPI (split `by` team, rep, segment or source) for windows of `months` months."""
    bootstrap = 0 if by == "source" else state.settings.bootstrap
    key = ("kpis", ws.version, by, months, bootstrap)

    def compute() -> KpiReport:
        copy = state.snapshot(ws.version)
        if copy is not None:  # in a worker process, side by side with other reports
            from crmroi.web.snapshots import kpi_report_in

            return state.work.compute(kpi_report_in, str(copy), by, months, bootstrap, SEED)
        with state.access.reader() as store:  # beside other reports, never during a write
            return compute_kpi_report(
                store,
                by=by,
                baseline_months=months,
                after_months=months,
                bootstrap=bootstrap,
                seed=SEED,
            )

    return state.cache.get_or_compute(key, compute)


def kpi_rows(report: KpiReport, group: str | None) -> list[KpiChange]:
    """The report's KPIs of one group (None: the company rows of an unsplit report),
    with the KPIs the split makes unavailable (they carry no group, and the reason)."""
    return [
        k
        for k in report.kpis
        if k.group == group or (group is not None and k.group is None and not k.available)
    ]


def by_area(rows: list[KpiChange]) -> list[tuple[str, list[KpiChange]]]:
    """KPIs grouped by area, in the areas' usual order."""
    out = [(area, [k for k in rows if k.area == area]) for area in AREAS]
    return [(area, items) for area, items in out if items]


@dataclass(frozen=True)
class SourceRow:
    """One lead source: each source KPI's change (None when the KPI is unavailable)."""

    source: str
    kpis: dict[str, KpiChange]


SOURCE_KPIS: tuple[str, ...] = (
    "leads", "lead_conversion_rate", "won_deals", "sales_volume", "win_rate",
    "marketing_spend", "cost_per_lead", "cost_per_won_deal",
)  # fmt: skip


def source_rows(report: KpiReport) -> list[SourceRow]:
    """Lead sources by after-window sales volume, largest first."""
    found: dict[str, dict[str, KpiChange]] = {}
    for k in report.kpis:
        if k.group is not None and k.available:
            found.setdefault(str(k.group), {})[k.name] = k
    rows = [SourceRow(source, kpis) for source, kpis in found.items()]

    def volume(row: SourceRow) -> float:
        k = row.kpis.get("sales_volume")
        return -(k.after or 0.0) if k else 0.0

    return sorted(rows, key=lambda r: (volume(r), r.source))


# -- the business case ----------------------------------------------------------------
@dataclass
class CaseView:
    """The active (or named) case evaluated on this workspace, or why it could not be."""

    saved: SavedCase
    case: Case | None = None
    result: CaseResult | None = None
    probabilities: dict[tuple[int, bool], float | None] = field(default_factory=dict)
    runs: int = 0
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    actuals: PlanVsActual | None = None
    actuals_error: Message | str | None = None

    def figures(self) -> list[tuple[Summary, bool]]:
        """(summary, risk adjusted) at 12 months and at the horizon."""
        if self.result is None:
            return []
        r = self.result
        pairs = [(r.short, False), (r.short_risk, True), (r.summary, False)]
        pairs.append((r.summary_risk, True))
        if r.short.horizon_months == r.summary.horizon_months:
            pairs = pairs[2:]
        return pairs


def roi_probabilities(
    model: CaseModel, runs: int, seed: int, horizons: tuple[int, ...] | None = None
) -> dict[tuple[int, bool], float | None]:
    """P(ROI > 0) by (months, risk adjusted): `SimulationResult.probabilities` of
    `simulate(model, runs, seed)` (12 months and the horizon), optionally only at
    `horizons`."""
    sim = simulate(model, max(runs, 1), seed, with_tornado=False)
    found = sim.probabilities()
    return {k: p for k, p in found.items() if horizons is None or k[0] in horizons}


def case_view(state: AppState, ws: Workspace, name: str | None = None) -> CaseView | None:
    """The named case (or the active one) evaluated; None when no case is saved.

    `LookupError` when `name` is given and no such case is saved.
    """
    library = CaseLibrary(state.access)
    if name is None:
        name = library.active_name()
        if name is None:
            return None
    saved = library.get(name)
    if saved is None:
        raise LookupError(f"no saved case called {name!r}")
    runs = state.settings.simulation_runs
    bootstrap = state.settings.bootstrap
    key = ("case", ws.version, saved.name, saved.digest, runs, bootstrap)
    return state.cache.get_or_compute(key, lambda: _evaluate(state, saved, runs, bootstrap))


def _evaluate(state: AppState, saved: SavedCase, runs: int, bootstrap: int) -> CaseView:
    from crmroi.reports.build import build_report
    from crmroi.web.case_library import case_from_text

    view = CaseView(saved=saved, runs=runs)
    try:
        case = case_from_text(saved.yaml, f"{saved.name}.yaml")
        view.case = case
        with state.access.reader() as store:  # beside reports, never during a write
            model = model_for(case, store, bootstrap=bootstrap, seed=SEED)
            result = evaluate_case(case, store, model=model)
            view.actuals, view.actuals_error = _plan_vs_actual(case, store, bootstrap)
    except UserError as exc:
        view.error = said_of(exc)
        return view
    view.result = result
    if runs:
        view.probabilities = roi_probabilities(model, runs, SEED)
    view.charts = {"cash_flow": build_report(result).charts["cash_flow"]}
    return view


def _plan_vs_actual(
    case: Case, store: Any, bootstrap: int
) -> tuple[PlanVsActual | None, Message | str | None]:
    """Plan versus actual to date (`crmroi.casework.plan_vs_actual`), or why not."""
    if case.start is None:
        no_start = M_(
            "actuals_no_start",
            "the case has no `start` date, so its months cannot be set beside the data",
        )
        return None, no_start
    try:
        return plan_vs_actual(case, store, bootstrap=bootstrap, seed=SEED), None
    except UserError as exc:
        return None, said_of(exc)


def cumulative(result: CaseResult) -> list[dict[str, float | int | None]]:
    """Month, net flow and cumulative net flow (plain and risk adjusted) per month."""
    net, net_risk = result.table.net(), result.table_risk.net()
    cum, cum_risk = np.cumsum(net), np.cumsum(net_risk)
    return [
        {
            "month": m,
            "net": finite(net[m]),
            "cumulative": finite(cum[m]),
            "cumulative_risk_adjusted": finite(cum_risk[m]),
        }
        for m in range(len(net))
    ]


# -- improvement lists ----------------------------------------------------------------
@dataclass(frozen=True)
class Followups:
    """Follow-ups as of the latest record, with account and rep attributes for filters."""

    as_of: pd.Timestamp | None
    items: pd.DataFrame
    note: str = ""
    key_person: Any = None
    """Key-person risk over the whole workspace (`crmroi.improve.key_person.KeyPersonRisk`)."""


def followups(state: AppState, ws: Workspace, stale_days: int = STALE_DAYS) -> Followups:
    """Every follow-up of `crmroi followups` (cached), labelled for the filters."""
    key = ("followups", ws.version, stale_days)
    return state.cache.get_or_compute(key, lambda: _followups(state, stale_days))


def _followups(state: AppState, stale_days: int) -> Followups:
    from crmroi.improve.followups import COLUMNS
    from crmroi.improve.followups import followups as find
    from crmroi.improve.frames import data_date, load_frames

    with state.access.reader() as store:  # beside other reads, never during a write
        frames = load_frames(store, FOLLOWUP_TABLES)
    if not any(len(frames[t]) for t in ("deals", "activities", "leads")):
        return Followups(None, pd.DataFrame(columns=[*COLUMNS, *LABELS]))
    day = data_date(frames)
    from crmroi.improve.followups import open_lead_scores

    scores, note = open_lead_scores(frames, day)
    items = find(frames, day, stale_days, scores)
    accounts = frames["accounts"].drop_duplicates("account_id").set_index("account_id")
    reps = frames["reps"].drop_duplicates("rep_id").set_index("rep_id")
    items = items.assign(
        account_name=items["account_id"].map(accounts["name"]),
        account_region=items["account_id"].map(accounts["region"]),
        account_segment=items["account_id"].map(accounts["segment"]),
        rep_name=items["rep_id"].map(reps["name"]),
        rep_team=items["rep_id"].map(reps["team"]),
        rep_region=items["rep_id"].map(reps["region"]),
    )
    from crmroi.improve.key_person import key_person_risk

    return Followups(day, items, note, key_person_risk(frames, day))


LABELS = ["account_name", "account_region", "account_segment", "rep_name", "rep_team"]
LABELS.append("rep_region")


def filter_followups(items: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows of the filtered team (rep's team), segment (account's) and region
    (the account's region, else the rep's)."""
    keep = pd.Series(True, index=items.index)
    if filters.team:
        keep &= items["rep_team"] == filters.team
    if filters.segment:
        keep &= items["account_segment"] == filters.segment
    if filters.region:
        region = items["account_region"].where(items["account_region"].notna(), items["rep_region"])
        keep &= region == filters.region
    return items[keep]


# -- monthly series -----------------------------------------------------------------
def series(
    state: AppState, ws: Workspace, name: str, unit: str, keep: tuple[str, ...] | None
) -> pd.DataFrame:
    """KPI `name` per `unit` (team or segment) and month, restricted to `keep` units,
    plus a "total" unit summing numerators and denominators (totals and ratios only)."""
    key = ("series", ws.version, name, unit)

    def compute() -> pd.DataFrame:
        with state.access.reader() as store:  # beside other reads, never during a write
            return kpi_panel(store, [name], unit=unit)

    def with_total() -> pd.DataFrame:
        panel = state.cache.get_or_compute(key, compute)
        if keep is not None:
            panel = panel[panel["unit"].isin(keep)]
        kind = KPI_DEFINITIONS[name].kind
        if len(panel) and kind in ("total", "ratio") and panel["unit"].nunique() > 1:
            sums = panel.groupby("month", as_index=False)[["num", "den"]].sum()
            with np.errstate(divide="ignore", invalid="ignore"):
                values = sums["num"] if kind == "total" else sums["num"] / sums["den"]
            total = sums.assign(kpi=name, unit="total", value=values)
            panel = pd.concat([panel, total[panel.columns]], ignore_index=True)
        return panel.reset_index(drop=True)

    # shared by every request of these filters: callers read it, never change it
    return state.cache.get_or_compute((*key, "shown", keep), with_total)


def series_chart(
    name: str, unit_label: str, frame: pd.DataFrame, lang: Lang | None = None
) -> dict[str, Any]:
    """A Vega-Lite line chart of the series (month on x, value on y, one line per unit),
    its titles in `lang` (English by default)."""
    import altair as alt

    from crmroi.reports.labels import kpi_label
    from crmroi.reports.labels import unit_label as unit_text

    lang = lang or get_lang("en")
    _ = lang.gettext
    d = KPI_DEFINITIONS[name]
    label = name if lang.code == "en" else kpi_label(lang, name)
    unit = d.unit if lang.code == "en" else unit_text(lang, d.unit, d.unit.partition(" ")[0])
    months = sorted({pd.Timestamp(m).date() for m in frame["month"]})
    names = {m.strftime("%Y-%m"): lang.month(m) for m in months}
    values = [
        {
            "month": m.strftime("%Y-%m-%d"),
            "label": names[m.strftime("%Y-%m")],
            "unit": _(str(u)) if u == "total" else str(u),  # a team's name stays as it is
            "value": finite(v),
        }
        for m, u, v in zip(frame["month"], frame["unit"], frame["value"], strict=True)
    ]
    fmt = ".0%" if d.unit == "fraction" else ",.2~f"
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=_("Month"), axis=month_axis(months, names)),
            y=alt.Y("value:Q", title=f"{label} ({unit})", axis=alt.Axis(format=fmt)),
            color=alt.Color("unit:N", title=_(unit_label), legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("label:N", title=_("Month")),
                alt.Tooltip("unit:N", title=_(unit_label)),
                alt.Tooltip("value:Q", format=fmt, title=label),
            ],
        )
        .properties(width="container", height=240, title=_("%(kpi)s by month") % {"kpi": label})
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


MONTH_TICKS = 12
"""At most this many month labels on a chart's time axis (every k-th month beyond)."""


def month_axis(months: list[dt.date], names: dict[str, str]) -> Any:
    """A time axis whose ticks are first days of `months` labelled by `names` (keyed
    'YYYY-MM', the reader's calendar: Vega itself writes English Gregorian months).

    The data's dates are ISO days, which Vega reads as UTC midnight: ticks and the
    lookup are in UTC so that no time zone moves a label to the previous month.
    """
    import altair as alt

    step = max(1, math.ceil(len(months) / MONTH_TICKS))
    ticks = [{"year": m.year, "month": m.month, "date": 1, "utc": True} for m in months[::step]]
    lookup = json.dumps(names, ensure_ascii=False)
    return alt.Axis(
        values=ticks,
        labelExpr=f"({lookup})[utcFormat(datum.value, '%Y-%m')] || ''",
        labelOverlap=True,
    )
