"""Coverage: which part of each window a KPI's own data cover, judged per KPI.

A KPI counts rows of some tables by one date column each (won deals by
`closed_at`, leads by `created_at`, activities by `occurred_at`...: `DATES`). The
data of a column *cover* the days from its first value to its last, the last
one reaching a whole day (a month for monthly columns such as `spend.spent_on`,
a week for `time_entries.week_start`: `REACH`). A KPI's covered span is the
intersection of its columns' spans, and each window is clipped to it: rows
outside the covered span are not counted (a KPI reading two tables compares them
over the days both cover), and the covered months of a window are its clipped
length in months (days / nominal days x nominal months).

Rules (docs/kpis.md, "Windows and coverage"):

- below `COVERAGE_FLOOR` of a window covered, the KPI is unavailable with the reason;
- totals are window totals when every window is whole, otherwise both windows are
  stated *per covered month* (total / covered months), never scaled up;
- ratios whose value depends on the window's length (`WHOLE_WINDOWS`: distinct
  customers, retention, concentration) use only teams whose windows are whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np

from crmroi.kpi import reasons
from crmroi.kpi.buckets import Span
from crmroi.kpi.definitions import KpiDefinition
from crmroi.kpi.stats import Labels, UnitSums
from crmroi.kpi.windows import PERIODS, Window, Windows, add_months
from crmroi.messages import Message
from crmroi.store.store import Store

COVERAGE_FLOOR = 0.25  # share of a window the KPI's data must cover (3 of 12 months)
WHOLE = 1.0 - 1e-9  # a window is whole when the data reach its first and last day

# the date column each KPI counts its rows by, per table it reads (optional tables
# only when they have rows)
DATES: dict[str, tuple[str, ...]] = {
    "sales_volume": ("deals.closed_at",),
    "won_deals": ("deals.closed_at",),
    "sales_per_rep": ("deals.closed_at",),
    "avg_deal_size": ("deals.closed_at",),
    "win_rate": ("deals.closed_at",),
    "sales_cycle_days": ("deals.closed_at",),
    "forecast_accuracy": ("forecasts.period_start", "deals.closed_at"),
    "relationship_concentration": ("activities.occurred_at",),
    "calls_inbound": ("activities.occurred_at",),
    "calls_outbound": ("activities.occurred_at",),
    "calls_per_won_deal": ("activities.occurred_at", "deals.closed_at"),
    "upsell_rate": ("deals.closed_at", "orders.ordered_at"),
    "revenue_per_customer": ("deals.closed_at", "orders.ordered_at"),
    "lead_conversion_rate": ("leads.created_at",),
    "new_customer_revenue": ("deals.closed_at", "orders.ordered_at"),
    "cac": ("spend.spent_on", "deals.closed_at"),
    "leads": ("leads.created_at",),
    "marketing_spend": ("spend.spent_on",),
    "cost_per_lead": ("spend.spent_on", "leads.created_at"),
    "cost_per_won_deal": ("spend.spent_on", "deals.closed_at"),
    "csat": ("tickets.opened_at",),
    "service_cost_per_ticket": ("tickets.opened_at",),
    "retention_rate": ("deals.closed_at", "orders.ordered_at"),
    "cost_per_sales_call": ("activities.occurred_at", "spend.spent_on"),
    "admin_time_share": ("time_entries.week_start",),
    "gross_margin": ("deals.closed_at", "orders.ordered_at"),
    "cost_per_customer": ("spend.spent_on", "deals.closed_at", "orders.ordered_at"),
}
REACH: dict[str, str] = {
    "spend.spent_on": "month",
    "forecasts.period_start": "month",
    "time_entries.week_start": "week",
}
# ratios of a window's distinct customers or accounts: a shorter window gives a
# different value, so only whole windows are compared
WHOLE_WINDOWS: frozenset[str] = frozenset(
    {
        "upsell_rate", "revenue_per_customer", "retention_rate", "cost_per_customer",
        "new_customer_revenue", "relationship_concentration",
    }
)  # fmt: skip

Interval = tuple[dt.datetime, dt.datetime]  # [first, end): end exclusive


def _ts(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def calendar_months(lo: dt.datetime, hi: dt.datetime) -> float:
    """Length of [lo, hi) in calendar months: each month's covered days / its days."""
    if hi <= lo:
        return 0.0
    total, day = 0.0, lo
    while day < hi:
        first = day.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        nxt = _ts(add_months(first.date(), 1))
        total += (min(nxt, hi) - day) / (nxt - first)
        day = nxt
    return total


def _reach(column: str, last: dt.datetime) -> dt.datetime:
    """The exclusive end of the days a column's last value covers."""
    day = last.date()
    if REACH.get(column) == "month":
        return _ts(add_months(day.replace(day=1), 1))
    if REACH.get(column) == "week":
        return _ts(day + dt.timedelta(days=7))
    return _ts(day + dt.timedelta(days=1))


def column_spans(store: Store, counts: dict[str, int]) -> dict[str, Interval]:
    """[first day, end) of every KPI date column with values, in one query."""
    columns = sorted({c for cols in DATES.values() for c in cols})
    parts = []
    for qualified in columns:
        table, column = qualified.split(".")
        if counts.get(table, 0):
            t = store.table(table)
            col = t[column].cast("timestamp")
            parts.append(t.aggregate(c=ibis.literal(qualified), lo=col.min(), hi=col.max()))
    if not parts:
        return {}
    rows = ibis.union(*parts).to_pyarrow().to_pylist()
    return {
        r["c"]: (_ts(r["lo"].date()), _reach(r["c"], r["hi"])) for r in rows if r["lo"] is not None
    }


def kpi_columns(name: str, counts: dict[str, int], required: Sequence[str]) -> list[str]:
    """The date columns of KPI `name` that apply: required tables', optional ones with rows."""
    return [c for c in DATES[name] if c.split(".")[0] in required or counts.get(c.split(".")[0])]


def kpi_span(columns: Sequence[str], spans: dict[str, Interval]) -> Interval | None:
    """Intersection of the columns' spans (None: a column has no dates at all)."""
    if any(c not in spans for c in columns):
        return None
    lo = max(spans[c][0] for c in columns)
    hi = min(spans[c][1] for c in columns)
    return lo, max(hi, lo)


@dataclass(frozen=True)
class Clipped:
    """An evaluation (see `crmroi.kpi.buckets.Evaluation`): `windows` clipped to `span`."""

    windows: Windows
    span: Interval
    _shares: dict[tuple[str | None, str], float] = field(
        default_factory=dict, compare=False, repr=False
    )  # `share` per (team, period), computed once: the engine asks for it per KPI and row group

    def window(self, team: str | None) -> Window:
        return self.windows.window(team)

    def clip(self, team: str | None, period: str) -> Interval:
        """[start, end) of a team's window inside the span (empty: start == end)."""
        start, end = (_ts(d) for d in self.window(team).bounds(period))
        lo, hi = max(start, self.span[0]), min(end, self.span[1])
        return lo, max(hi, lo)

    def share(self, team: str | None, period: str) -> float:
        """Covered share of a team's window (0..1): covered months / nominal months."""
        found = self._shares.get((team, period))
        if found is None:
            start, end = (_ts(d) for d in self.window(team).bounds(period))
            found = calendar_months(*self.clip(team, period)) / calendar_months(start, end)
            self._shares[(team, period)] = found
        return found

    def months(self, team: str | None, period: str) -> float:
        """Covered months of a team's window (share x nominal months)."""
        return self.share(team, period) * self.windows.months(period)

    def spans(self, team: str | None) -> list[Span]:
        out = []
        for period in PERIODS:
            lo, hi = self.clip(team, period)
            out.append(Span(lo, hi, lo + (hi - lo) // 2))
        return out

    def teams(self) -> list[str | None]:
        """Every team with windows of its own (None: the company windows alone)."""
        return list(self.windows.by_team) or [None]


def span_text(span: Interval | None) -> str:
    """'first to last' day of a span (inclusive), for reasons."""
    if span is None:
        return "no dates"
    last = span[1] - dt.timedelta(days=1)
    return f"{span[0]:%Y-%m-%d} to {last:%Y-%m-%d}"


def period_coverage(ev: Clipped, period: str) -> dict[str, Any]:
    """A period's coverage over every team: covered span (first and last day),
    months covered of nominal months, and share."""
    clips = [ev.clip(t, period) for t in ev.teams()]
    used = [c for c in clips if c[1] > c[0]]
    months = sum(ev.months(t, period) for t in ev.teams())
    nominal = ev.windows.months(period) * len(ev.teams())
    return {
        "start": min(c[0] for c in used).date().isoformat() if used else None,
        "end": (max(c[1] for c in used) - dt.timedelta(days=1)).date().isoformat()
        if used
        else None,
        "months": round(months / len(ev.teams()), 4),
        "nominal_months": ev.windows.months(period),
        "share": round(months / nominal, 4) if nominal else 0.0,
    }


# -- applied by the engine (crmroi.kpi.engine) ------------------------------------


def row_windows(sums: UnitSums, ev: Clipped, labels: Labels, of: str) -> np.ndarray:
    """Per row, its (team, period) window's covered `of` ("share" or "months")."""
    out = np.ones(len(sums))
    measure = ev.share if of == "share" else ev.months
    for team in np.unique(sums.team):
        name = labels.name(int(team))
        for p, period in enumerate(PERIODS):
            out[(sums.team == team) & (sums.period == p)] = measure(name, period)
    return out


def whole(ev: Clipped) -> bool:
    """True when every window (each team's and the company's) is whole."""
    teams = [None, *ev.windows.by_team]
    return all(ev.share(t, p) >= WHOLE for t in teams for p in PERIODS)


def adjust(d: KpiDefinition, sums: UnitSums, ev: Clipped, labels: Labels) -> np.ndarray:
    """Totals per covered month unless every window is whole (in place); returns the
    rows to keep: KPIs that need whole windows keep only the rows of teams (or the
    company) whose baseline and after windows are both whole."""
    if d.kind == "total" and not whole(ev):
        months = row_windows(sums, ev, labels, "months")
        sums.num = sums.num / np.maximum(months, 1e-9)
    if d.name not in WHOLE_WINDOWS:
        return np.ones(len(sums), dtype=bool)
    share = np.full(len(sums), min(ev.share(None, p) for p in PERIODS))
    for team in np.unique(sums.team):
        name = labels.name(int(team))
        share[sums.team == team] = min(ev.share(name, p) for p in PERIODS)
    return share >= WHOLE


def floor_reason(
    d: KpiDefinition, ev: Clipped, columns: list[str], span: Interval
) -> Message | None:
    """Why the KPI's data cover too little of a window (None: enough)."""
    for period in PERIODS:
        cov = period_coverage(ev, period)
        if float(cov["share"]) < COVERAGE_FLOOR:
            months, nominal = float(cov["months"]), int(cov["nominal_months"])
            return reasons.below_floor(columns, span, months, nominal, period, COVERAGE_FLOOR)
    if d.name in WHOLE_WINDOWS:
        teams = [None] if not ev.windows.by_team else list(ev.windows.by_team)
        if not any(min(ev.share(t, p) for p in PERIODS) >= WHOLE for t in teams):
            return reasons.whole_windows(columns, span)
    return None


PER_MONTH = "per covered month"


def coverage_info(ev: Clipped, d: KpiDefinition) -> dict[str, Any]:
    """What the KPI's data cover: per window the covered span, months and share; the
    basis of totals (window totals or per covered month)."""
    basis = PER_MONTH if d.kind == "total" and not whole(ev) else "window"
    return {"basis": basis, **{p: period_coverage(ev, p) for p in PERIODS}}
