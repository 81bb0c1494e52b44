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

from crmroi.finance.measured_range import MeasuredRange
from crmroi.reports.improve_model import (
    ClvComparison,
    ClvSegmentRow,
    ClvSummary,
    FollowupRow,
    FollowupSummary,
    Improvements,
    ScoredRecord,
    ScoringEvaluation,
    ScoringSection,
    SegmentRow,
)
from crmroi.reports.usage import UsageSection

__all__ = [
    "AccountRow",
    "Assumption",
    "AttributionRow",
    "CashFlowRow",
    "CategoryRow",
    "ClvComparison",
    "ClvSegmentRow",
    "ClvSummary",
    "Figures",
    "FollowupRow",
    "FollowupSummary",
    "HistogramBin",
    "Improvements",
    "KpiRow",
    "LineSpec",
    "RampSpec",
    "ReportModel",
    "ScoredRecord",
    "ScoringEvaluation",
    "ScoringSection",
    "SegmentRow",
    "ShapeSpec",
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
class CheckRow:
    """One practitioners' rule applied to the case (`crmroi.finance.sanity.Check`)."""

    rule: str
    subject: str
    passed: bool
    message: str


@dataclass(frozen=True)
class RoiWayRow:
    """One way of writing ROI: label, formula and source in the report's language, and
    its value for each of the report's figure columns (None: no costs)."""

    kind: str
    label: str
    formula: str
    source: str
    values: list[float | None]
    headline: bool
    ratio: bool


@dataclass(frozen=True)
class TcoRow:
    """A TCO group (`category` None) or one of its categories: undiscounted money over
    the first 12 months and the horizon."""

    group: str
    category: str | None
    label: str
    first_year: float
    horizon: float


@dataclass(frozen=True)
class VarianceRow:
    """One benefit line or cost category: plan and actual to date (money), variance."""

    side: Side
    label: str
    plan: float
    actual: float
    variance: float
    variance_rel: float | None
    measured: bool


@dataclass(frozen=True)
class PlanActualMonth:
    """Benefits and costs of one month to date, plan beside actual (money)."""

    month: int
    date: dt.date | None
    plan_benefits: float
    actual_benefits: float
    plan_costs: float
    actual_costs: float


@dataclass(frozen=True)
class AdoptionRow:
    """Share of users working in the CRM in one case month: plan and measured (fractions)."""

    month: int
    date: dt.date | None
    plan: float
    measured: float | None


@dataclass(frozen=True)
class PeopleRow:
    """A people-ROI measure over the baseline and after windows (`ratio`: not money)."""

    label: str
    baseline: float | None
    after: float | None
    ratio: bool


@dataclass(frozen=True)
class PlanActual:
    """Plan versus actual to date, the re-forecast and people ROI
    (`crmroi.finance.actuals.PlanVsActual`)."""

    months_to_date: int
    rows: list[VarianceRow]
    months: list[PlanActualMonth]
    main_driver: str | None
    reforecast_npv: float
    reforecast_roi: float | None
    reforecast_payback_months: float | None
    plan_npv: float | None
    plan_payback_months: float | None
    people: list[PeopleRow]
    adoption: list[AdoptionRow] = field(default_factory=list)
    adoption_payback_months: float | None = None
    """Payback with the measured adoption to date (`crmroi.finance.adoption`)."""
    adoption_warning: str | None = None
    """The `adoption_lag` warning in the report's language, when payback moves."""
    usage: UsageSection | None = None
    """Weekly adoption per team, records per rep-day, next activities, completeness."""
    adoption_basis: str | None = None
    """How adoption was measured: `licensed_users` or `reps_employed` (logins), else the
    activity proxy (`crmroi.kpi.adoption.Adoption.basis`)."""
    adoption_unmatched: int = 0
    """Licensed users matching no rep (logins)."""
    extrapolation_warnings: list[str] = field(default_factory=list)
    """Measured changes the re-forecast scales up more than `EXTRAPOLATION_WARN` times
    (`crmroi.finance.actuals.Extrapolation`), in the report's language."""


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
class RampSpec:
    """A share by month since go-live (`crmroi.finance.case.Ramp`): linear from `start` to
    `end` over `months`, then flat; or `by_month` (the last one held). Fractions."""

    start: float
    end: float
    months: int
    by_month: list[float] | None = None


@dataclass(frozen=True)
class ShapeSpec:
    """How a line's schedule follows the case's inputs, so the workbook can rebuild it.

    `kind`: benefit (adoption x benefit ramp from go-live; `ramp_months` when the driver
    has its own ramp, 1/n to 1 over n months), loss (adoption x (1 + growth)^(years since
    `start_month`)), one_time (1 in `start_month`), recurring (from `start_month` to
    `end_month`, None: the horizon, stepping by (1 + growth) every 12 months), actual
    (money from the workspace, no inputs). `fx`: case currency per unit of the line's
    currency by period 0..H (None: the case's currency). Growth is a year (fraction).
    """

    kind: Literal["benefit", "loss", "one_time", "recurring", "actual"]
    ramp_months: int | None = None
    start_month: int = 0
    end_month: int | None = None
    growth: float = 0.0
    fx: list[float] | None = None


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
    shape: ShapeSpec | None = None
    own_risk: bool = True
    """False: the line takes the case's default risk adjustment for its side."""
    linked: dict[str, str] = field(default_factory=dict)
    """Inputs that are a case parameter (input name -> 'users')."""
    kpi: str | None = None
    """The KPI a benefit driver draws its value from (the practitioners' checks)."""
    relative: str | None = None
    """The driver's relative KPI change as an expression of its inputs (`{name}`)."""
    revenue: bool = False
    """True: the line's value is a revenue change at its `gross_margin` input."""
    measured: bool = False
    """True: the driver's change was measured on the workspace."""


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
    baseline_basis: str = "measured"  # "supplied": from supplied_baselines, no interval
    baseline_source: str | None = None


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
    measured_range: MeasuredRange | None = None
    """The NPV's range on the measured changes' intervals alone (cases with measured drivers)."""
    kpis: list[KpiRow] = field(default_factory=list)
    kpi_windows: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    go_live_by_team: dict[str, dt.date] = field(default_factory=dict)
    sources: list[KpiRow] = field(default_factory=list)
    attributions: list[AttributionRow] = field(default_factory=list)
    accounts: list[AccountRow] = field(default_factory=list)
    workspace: str | None = None
    improvements: Improvements | None = None
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[CheckRow] = field(default_factory=list)
    roi_ways: list[RoiWayRow] = field(default_factory=list)
    tco: list[TcoRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plan_actual: PlanActual | None = None
    adoption: RampSpec | None = None
    benefit_ramp: RampSpec | None = None

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
