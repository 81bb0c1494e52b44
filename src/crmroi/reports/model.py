"""The report model: every figure, table and chart spec of a report, in one typed object.

`crmroi.reports.build.build_report` fills it from a business case result, a KPI report and
the attribution; the HTML, PDF and XLSX renderers only format and lay out what it holds
(no figure is computed in a template). Money is in the case currency, rates and shares
are fractions, paybacks in months (None: never within the horizon). Labels of
data-derived rows (KPI and category names, chart titles) are already in the report's
language; user text (case, line, account and rep names) is kept as given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "AccountRow",
    "Assumption",
    "AttributionRow",
    "CashFlowRow",
    "CategoryRow",
    "Figures",
    "HistogramBin",
    "KpiRow",
    "LineSpec",
    "ReportModel",
    "SimulationSummary",
    "TornadoBar",
]

Side = Literal["benefit", "cost"]


@dataclass(frozen=True)
class Figures:
    """The case's figures at one horizon, before or after the risk adjustment."""

    horizon_months: int
    risk_adjusted: bool
    pv_benefits: float
    pv_costs: float
    npv: float
    roi: float | None
    simple_roi: float | None
    irr: float | None
    payback_months: float | None
    discounted_payback_months: float | None


@dataclass(frozen=True)
class CashFlowRow:
    """One period (0 = at signing, then months) of the cash flow, money per month."""

    month: int
    date: dt.date | None
    benefits: float
    costs: float
    net: float
    net_risk_adjusted: float
    cumulative: float
    cumulative_discounted: float
    cumulative_risk_adjusted: float


@dataclass(frozen=True)
class CategoryRow:
    """A benefit line or a cost category: money by year of the horizon, total and PV."""

    side: Side
    key: str
    label: str
    initial: float
    by_year: list[float]
    total: float
    present_value: float


@dataclass(frozen=True)
class LineSpec:
    """One line of the case as the workbook rebuilds it from its inputs.

    Money per month = `expression` of `inputs` (most likely values) x `schedule[month]`;
    `schedule` is the line's shape (adoption x benefit ramp, growth steps, one-time
    month). `expression` is None for lines without inputs (actual costs): the schedule
    then holds the money itself.
    """

    name: str
    side: Side
    category: str
    risk: float
    inputs: dict[str, tuple[float | None, float, float | None]]
    expression: str | None
    schedule: list[float]


@dataclass(frozen=True)
class Assumption:
    """One input of a line with its range and where it comes from."""

    line: str
    input: str
    low: float | None
    likely: float
    high: float | None
    source: str


@dataclass(frozen=True)
class KpiRow:
    """A KPI's baseline and after values, change and 95% interval (see `KpiChange`)."""

    name: str
    label: str
    unit: str
    area: str
    group: str | None
    baseline: float | None
    after: float | None
    change_abs: float | None
    change_rel: float | None
    ci_low_rel: float | None
    ci_high_rel: float | None
    net_change_rel: float | None
    significant: bool
    available: bool
    reason: str | None


@dataclass(frozen=True)
class AttributionRow:
    """The CRM's effect on a KPI net of the market, or why it is unavailable."""

    name: str
    label: str
    method: str | None
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    naive_change: float | None
    effect_rel: float | None
    unit: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccountRow:
    """A customer account by won revenue after go-live, with its owner."""

    name: str
    owner: str | None
    won_amount: float
    won_deals: int


@dataclass(frozen=True)
class HistogramBin:
    """Runs with NPV in [start, end)."""

    start: float
    end: float
    runs: int


@dataclass(frozen=True)
class TornadoBar:
    """NPV with one input at its low and its high value (others most likely)."""

    input: str
    low: float
    high: float
    npv_at_low: float
    npv_at_high: float
    swing: float


@dataclass(frozen=True)
class SimulationSummary:
    """Monte Carlo percentiles (before risk adjustment), NPV histogram and tornado."""

    runs: int
    seed: int
    p_roi_positive: float
    roi: tuple[float | None, float | None, float | None]
    npv: tuple[float | None, float | None, float | None]
    payback_months: tuple[float | None, float | None, float | None]
    p_payback_within_horizon: float
    histogram: list[HistogramBin]
    tornado: list[TornadoBar]
    base_npv: float


@dataclass
class ReportModel:
    """Everything a report shows, in the order the page shows it."""

    lang: str
    title: str
    case_name: str
    currency: str
    generated_on: dt.date
    start: dt.date | None
    horizon_months: int
    discount_rate: float
    discount_rate_monthly: float
    users: int
    go_live_month: int
    risk_benefits: float
    risk_costs: float
    figures: list[Figures]
    cash_flow: list[CashFlowRow]
    categories: list[CategoryRow]
    lines: list[LineSpec]
    assumptions: list[Assumption]
    warnings: list[str]
    intangible_benefits: list[str]
    risks: list[str]
    simulation: SimulationSummary | None = None
    kpis: list[KpiRow] = field(default_factory=list)
    kpi_windows: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    go_live_by_team: dict[str, dt.date] = field(default_factory=dict)
    sources: list[KpiRow] = field(default_factory=list)
    attributions: list[AttributionRow] = field(default_factory=list)
    accounts: list[AccountRow] = field(default_factory=list)
    workspace: str | None = None
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def figure(self, horizon: int, risk_adjusted: bool) -> Figures:
        """The figures at `horizon` months, plain or risk adjusted."""
        for f in self.figures:
            if f.horizon_months == horizon and f.risk_adjusted == risk_adjusted:
                return f
        raise KeyError(f"no figures at {horizon} months (risk adjusted: {risk_adjusted})")

    @property
    def horizons(self) -> list[int]:
        """The horizons reported (12 and the case's horizon), shortest first."""
        return sorted({f.horizon_months for f in self.figures})
