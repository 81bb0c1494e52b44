"""Typed responses of the dashboard's improvement routes (`/api/v1/scores`, `/segments`,
`/clv`): scoring hold-out figures and records, ideal-customer segments, lifetime value.

The rest of the dashboard's responses are `crmroi.web.api_models`. Numbers that are
missing, NaN or infinite are null; rates are fractions; money in the workspace currency.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from crmroi.finite import finite
from crmroi.reports.model import (
    ClvSegmentRow,
    Improvements,
    ScoringEvaluation,
    ScoringSection,
    SegmentRow,
)


class EvaluationOut(BaseModel):
    """One model's figures on the time-based hold-out (later months than its training)."""

    model: str = Field(description="logistic or naive_bayes.")
    n_train: int
    n_test: int
    rate_test: float | None = Field(description="Share of positives in the hold-out.")
    auc: float | None
    log_loss: float | None
    calibration_error: float | None
    lift_top_decile: float | None = Field(description="Rate in the top 10% / overall rate.")

    @classmethod
    def of(cls, e: ScoringEvaluation) -> EvaluationOut:
        return cls(
            model=e.model,
            n_train=e.n_train,
            n_test=e.n_test,
            rate_test=finite(e.rate_test),
            auc=finite(e.auc),
            log_loss=finite(e.log_loss),
            calibration_error=finite(e.calibration_error),
            lift_top_decile=finite(e.lift_top_decile),
        )


class ReasonCodeOut(BaseModel):
    """One feature's push on the logistic score (one item of `reasons`, as data)."""

    feature: str = Field(description="The feature's code (source, owner, weekday, ...).")
    value: str = Field(description="Its value, as `reasons` shows it (referral, Thursday, 0).")
    contribution: float = Field(
        description="Log-odds contribution (natural log; positive raises the probability)."
    )

    @classmethod
    def of(cls, reason: Any) -> ReasonCodeOut:
        """From a `crmroi.improve.reasons.Reason` (not imported: it loads scikit-learn)."""
        return cls(
            feature=reason.field, value=reason.shown_value, contribution=float(reason.effect)
        )


def reason_codes(reasons: str) -> list[ReasonCodeOut]:
    """The structured items of a record's reasons (none for a plain text)."""
    items = getattr(reasons, "items", ())
    return [ReasonCodeOut.of(r) for r in items if hasattr(r, "field") and hasattr(r, "effect")]


class ScoredOut(BaseModel):
    """An open lead or deal: both models' calibrated probabilities and the top reasons."""

    id: str
    created: dt.date | None = None
    logistic: float | None = Field(description="Calibrated probability, logistic model.")
    naive_bayes: float | None = Field(description="Probability, naive Bayes baseline.")
    reasons: str = Field(
        description="Fields that pushed the logistic score up or down, in English: "
        "`feature=value (+0.88)`, comma-separated (log-odds)."
    )
    reason_codes: list[ReasonCodeOut] = Field(
        default_factory=list, description="The same reasons as data, in the same order."
    )


class ScoringOut(BaseModel):
    kind: str = Field(description="leads (converted or not) or deals (won or lost).")
    train_until: dt.date = Field(description="Trained on records created before this day.")
    open_records: int = Field(description="Open records scored.")
    evaluations: list[EvaluationOut]
    top: list[ScoredOut] = Field(description="Best open records by logistic probability.")

    @classmethod
    def of(cls, s: ScoringSection, limit: int) -> ScoringOut:
        return cls(
            kind=s.kind,
            train_until=s.train_until,
            open_records=s.open_records,
            evaluations=[EvaluationOut.of(e) for e in s.evaluations],
            top=[
                ScoredOut(
                    id=r.id,
                    created=r.created,
                    logistic=finite(r.logistic),
                    naive_bayes=finite(r.naive_bayes),
                    reasons=str(r.reasons),
                    reason_codes=reason_codes(r.reasons),
                )
                for r in s.top[:limit]
            ],
        )


class ScoresOut(BaseModel):
    as_of: dt.date = Field(description="The workspace's latest record.")
    available: bool = Field(description="At least one kind could be scored.")
    reasons: list[str] = Field(description="Why a kind (or all) could not be scored.")
    scoring: list[ScoringOut]

    @classmethod
    def of(cls, im: Improvements, kind: str | None, limit: int) -> ScoresOut:
        sections = [s for s in im.scoring if kind is None or s.kind == kind]
        return cls(
            as_of=im.as_of,
            available=bool(im.scoring),
            reasons=list(im.scoring_reasons),
            scoring=[ScoringOut.of(s, limit) for s in sections],
        )


class IntervalOut(BaseModel):
    value: float | None
    low: float | None = Field(description="95% interval, low end.")
    high: float | None = Field(description="95% interval, high end.")

    @classmethod
    def of(cls, triple: tuple[float | None, float | None, float | None]) -> IntervalOut:
        value, low, high = (finite(x) for x in triple)
        return cls(value=value, low=low, high=high)


class SegmentOut(BaseModel):
    dimension: str = Field(description="industry, segment, region or source.")
    value: str
    accounts: int = Field(description="Accounts behind the figures.")
    win_rate: IntervalOut = Field(description="Won / closed deals, Wilson interval.")
    revenue_per_account: IntervalOut
    churn_rate: IntervalOut

    @classmethod
    def of(cls, g: SegmentRow) -> SegmentOut:
        return cls(
            dimension=g.dimension,
            value=g.value,
            accounts=g.accounts,
            win_rate=IntervalOut.of(g.win_rate),
            revenue_per_account=IntervalOut.of(g.revenue_per_account),
            churn_rate=IntervalOut.of(g.churn_rate),
        )


class SegmentsOut(BaseModel):
    as_of: dt.date
    available: bool
    reason: str | None = Field(default=None, description="Why there are no segments.")
    min_accounts: int = Field(description="Values with fewer accounts are left out.")
    total: int = Field(description="Segments after the dimension filter (before the limit).")
    segments: list[SegmentOut] = Field(
        description="Each dimension's values, best revenue per account first."
    )


class ClvSegmentOut(BaseModel):
    segment: str
    customers: int
    active_share: float | None = Field(description="Mean P(active) of the customers.")
    expected_purchases: float | None = Field(description="Per customer over the horizon.")
    expected_value: float | None = Field(description="Per customer over the horizon.")
    total_value: float | None

    @classmethod
    def of(cls, g: ClvSegmentRow) -> ClvSegmentOut:
        return cls(
            segment=g.segment,
            customers=g.customers,
            active_share=finite(g.active_share),
            expected_purchases=finite(g.expected_purchases),
            expected_value=finite(g.expected_value),
            total_value=finite(g.total_value),
        )


class ClvOut(BaseModel):
    as_of: dt.date
    available: bool
    reason: str | None = Field(default=None, description="Why no fit could be made.")
    horizon_months: float | None = None
    customers: int | None = Field(default=None, description="Customers with orders.")
    active_customers: float | None = Field(default=None, description="Sum of P(active).")
    value_per_customer_month: float | None = Field(
        default=None, description="Expected value per active customer a month."
    )
    bgnbd: dict[str, float | None] = Field(
        default_factory=dict, description="Fitted BG/NBD r, alpha, a, b."
    )
    gamma_gamma: dict[str, float | None] = Field(
        default_factory=dict, description="Fitted Gamma-Gamma p, q, gamma."
    )
    spend_frequency_correlation: float | None = None
    segments: list[ClvSegmentOut] = Field(default_factory=list)

    @classmethod
    def of(cls, im: Improvements) -> ClvOut:
        lv = im.clv
        if lv is None:
            return cls(as_of=im.as_of, available=False, reason=im.clv_reason)
        return cls(
            as_of=im.as_of,
            available=True,
            horizon_months=finite(lv.horizon_months),
            customers=lv.customers,
            active_customers=finite(lv.active_customers),
            value_per_customer_month=finite(lv.value_per_customer_month),
            bgnbd={k: finite(v) for k, v in lv.bgnbd.items()},
            gamma_gamma={k: finite(v) for k, v in lv.gamma_gamma.items()},
            spend_frequency_correlation=finite(lv.spend_frequency_correlation),
            segments=[ClvSegmentOut.of(g) for g in lv.segments],
        )
