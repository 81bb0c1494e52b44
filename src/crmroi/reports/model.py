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


@dataclass(frozen=True)
class ScoringEvaluation:
    """One model's figures on the time-based hold-out (see `crmroi.improve.scoring`)."""

    model: str
    n_train: int
    n_test: int
    rate_test: float
    auc: float
    log_loss: float
    calibration_error: float
    lift_top_decile: float


@dataclass(frozen=True)
class ScoredRecord:
    """An open lead or deal with both models' probabilities and the logistic reasons."""

    id: str
    created: dt.date | None
    logistic: float
    naive_bayes: float
    reasons: str
    """The logistic model's top reasons: an `Items` of scoring reasons (English text,
    `crmroi.improve.reasons.Reason`) until a report words it in its language."""


@dataclass(frozen=True)
class ScoringSection:
    """Lead or deal scoring: hold-out figures of both models and the best open records."""

    kind: str
    train_until: dt.date
    evaluations: list[ScoringEvaluation]
    open_records: int
    top: list[ScoredRecord]


@dataclass(frozen=True)
class SegmentRow:
    """An ideal-customer segment: win rate, revenue per account and churn, 95% intervals."""

    dimension: str
    value: str
    accounts: int
    win_rate: tuple[float | None, float | None, float | None]
    revenue_per_account: tuple[float | None, float | None, float | None]
    churn_rate: tuple[float | None, float | None, float | None]


@dataclass(frozen=True)
class FollowupRow:
    """One thing to act on (priority 1 first)."""

    priority: int
    kind: str
    label: str
    subject_id: str
    rep_id: str | None
    detail: str


@dataclass(frozen=True)
class FollowupSummary:
    """Follow-ups on `as_of`: how many of each kind (label -> count) and the first ones."""

    as_of: dt.date
    stale_days: int
    total: int
    counts: dict[str, int]
    top: list[FollowupRow]
    key_person: KeyPersonMoney | None = None


@dataclass(frozen=True)
class ForecastRow:
    """One forecast month (`crmroi.improve.pipeline`): expected won revenue, its open-deal
    and not-yet-created parts, the 80% interval (calibrated on the back-test when
    `calibrated`), the naive three-month mean and its calibrated interval (money)."""

    month: dt.date
    expected: float
    open_deals: float
    new_deals: float
    low: float
    high: float
    naive: float = float("nan")
    blend_low: float | None = None
    blend_high: float | None = None
    calibrated: bool = False
    verdict: str = "untested"
    """"better", "no_better" (the naive mean is the figure to use) or "untested"."""

    @property
    def blend(self) -> float:
        """The mean of the forecast and the naive figure."""
        return (self.expected + self.naive) / 2

    @property
    def recommended(self) -> str:
        """ "pipeline" where the back-test showed it beat the naive mean, else "blend"."""
        return "pipeline" if self.verdict == "better" else "blend"


@dataclass(frozen=True)
class BacktestRow:
    """The back-test at one horizon: forecasts scored, mean accuracy (1 - |actual -
    forecast| / actual), the naive run rate's, bias, calibrated interval coverage, the
    recommended figure's accuracy, the naive interval's and the model's own interval's
    coverage (fractions), and whether the pipeline beat the naive mean."""

    horizon: int
    forecasts: int
    accuracy: float
    naive_accuracy: float
    bias: float
    coverage: float
    recommended_accuracy: float = float("nan")
    blend_coverage: float = float("nan")
    model_coverage: float = float("nan")
    calibrated: int = 0
    """Forecasts that had a calibrated interval (`coverage` is over these)."""
    better_than_naive: str = "untested"


@dataclass(frozen=True)
class PipelineSummary:
    """The pipeline forecast at `as_of` and its back-test over `origins` month starts."""

    as_of: dt.date
    open_deals: int
    open_amount: float
    months: list[ForecastRow]
    origins: int
    backtest: list[BacktestRow]
    backtest_reason: str | None = None
    """Why there is no back-test (too little history): the intervals are the model's."""
    open_without_amount: int = 0
    """Open deals with no amount, counted as 0."""


@dataclass(frozen=True)
class KeyPersonMoney:
    """Key-person risk (`crmroi.improve.key_person`): revenue of the last 365 days resting
    on one current rep, all revenue, reps' departures a year (fraction) and the revenue
    exposed a year (money in the base currency)."""

    at_risk: float
    revenue_total: float
    departure_rate: float | None
    exposed_a_year: float | None
    share: float = 0.8
    """The rep's share of an account's activities that makes it rest on them."""


@dataclass(frozen=True)
class ClvSegmentRow:
    """Expected value per customer of a segment over the horizon (money, undiscounted)."""

    segment: str
    customers: int
    active_share: float
    expected_purchases: float
    expected_value: float
    total_value: float


@dataclass(frozen=True)
class ClvComparison:
    """A customer input of the business case beside what the orders' fit gives for it."""

    benefit: str
    input: str
    case_value: float
    clv_value: float
    from_clv: bool


@dataclass(frozen=True)
class ClvSummary:
    """The lifetime-value fits on the orders and the expected value by segment."""

    as_of: dt.date
    horizon_months: float
    customers: int
    active_customers: float
    value_per_customer_month: float
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    spend_frequency_correlation: float | None
    segments: list[ClvSegmentRow]
    used_by: list[str] = field(default_factory=list)
    comparisons: list[ClvComparison] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """A fit at the edge of its range, or the mean-spend fallback (see improve.spend)."""


@dataclass
class Improvements:
    """The sections of the improvement tools; each is None with a reason when the
    workspace's data do not allow it."""

    as_of: dt.date
    scoring: list[ScoringSection] = field(default_factory=list)
    scoring_reasons: list[str] = field(default_factory=list)
    segments: list[SegmentRow] = field(default_factory=list)
    segments_reason: str | None = None
    followups: FollowupSummary | None = None
    followups_reason: str | None = None
    clv: ClvSummary | None = None
    clv_reason: str | None = None
    forecast: PipelineSummary | None = None
    forecast_reason: str | None = None


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
