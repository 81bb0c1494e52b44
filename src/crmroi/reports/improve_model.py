"""The report model's sections of the improvement tools: lead and deal scoring, segments,
follow-ups, key-person money, lifetime value and the pipeline forecast.

Part of the report model (`crmroi.reports.model`, which re-exports every name here);
filled by `crmroi.reports.improve`. Money in the case currency, rates as fractions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

__all__ = [
    "BacktestRow",
    "ClvComparison",
    "ClvSegmentRow",
    "ClvSummary",
    "FollowupRow",
    "FollowupSummary",
    "ForecastRow",
    "Improvements",
    "KeyPersonMoney",
    "PipelineSummary",
    "ScoredRecord",
    "ScoringEvaluation",
    "ScoringSection",
    "SegmentRow",
]


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
