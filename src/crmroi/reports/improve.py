"""The report's improvement sections: lead scoring, ideal-customer segments, follow-ups
and lifetime value, from the canonical frames (pure; `gather.py` reads the store).

Each section calls the same code as its command (`crmroi score | segments | followups
| clv`) with the commands' defaults, and is left empty with a reason (in the report's
language, with the engine's detail) when the data do not allow it. One cheap setting
keeps the report fast: open leads and deals are scored by the hold-out's models
(trained on the records before the hold-out) instead of models refitted on all the
closed history (`score_kind(refit=False)`); the hold-out figures are the command's.

Fitting and wording are apart: `fit_improvements` runs the engines once and gives
language-free `ImprovementResults` (reasons as untranslated `Reason`s, follow-ups by
kind); `label_improvements` words them in one language, cheaply, for each report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crmroi.errors import UserError
from crmroi.finite import finite
from crmroi.messages import M_, Items, Message, Said, Worded, render, said_of
from crmroi.reports.i18n import N_, Lang
from crmroi.reports.improve_model import (
    BacktestRow,
    ClvComparison,
    ClvSegmentRow,
    ClvSummary,
    FollowupRow,
    FollowupSummary,
    ForecastRow,
    Improvements,
    KeyPersonMoney,
    PipelineSummary,
    ScoredRecord,
    ScoringEvaluation,
    ScoringSection,
    SegmentRow,
)
from crmroi.reports.labels import followup_label

__all__ = [
    "FRAMES",
    "CaseInput",
    "ImprovementResults",
    "Reason",
    "fit_improvements",
    "improvements",
    "label_improvements",
]

CaseInput = tuple[str, str, str, float, bool]
"""(benefit, input name, lifetime-value quantity, the case's value, read from `clv`)."""

FRAMES = ("reps", "accounts", "leads", "deals", "activities", "orders")
"""The canonical tables the sections read."""
TOP = 10
STALE_DAYS = 14
FORECAST_REFIT = 6  # the report's back-test refits the model every six origins
HOT_THRESHOLD = 0.3
CLV_HORIZON_WEEKS = 52.0
MIN_SEGMENT_ACCOUNTS = 10


@dataclass(frozen=True)
class Reason:
    """Why a section is empty, before translation: a message id of the catalogue, the
    %-mapping it is formatted with (None: used as is) and the engine's detail."""

    message: str
    values: Mapping[str, Any] | None = None
    detail: str = ""
    """The engine's detail, in brackets after the reason (a `messages.Said` is worded)."""

    def text(self, lang: Lang) -> str:
        """The reason in `lang` (an engine error's `messages.Said` worded from its message)."""
        text = render(self.message, lang)
        if self.values is not None:  # whole numbers in the reader's digits (English as is)
            english = lang.code == "en"
            text %= {
                k: lang.number(v) if type(v) is int and not english else v
                for k, v in self.values.items()
            }
        return f"{text} ({render(self.detail, lang)})" if self.detail else text

    def render(self, lang: Lang) -> str:
        """The reason in `lang` (`messages.render` words it: a page's `fmt.t`)."""
        return self.text(lang)


@dataclass(frozen=True)
class FollowupItem:
    """One follow-up before labelling (its `kind` is worded per language)."""

    priority: int
    kind: str
    subject_id: str
    rep_id: str | None
    detail: str


@dataclass(frozen=True)
class FollowupResults:
    """Follow-ups on `as_of`, language-free: how many of each kind (in the engine's
    order) and the first `TOP` items."""

    as_of: dt.date
    stale_days: int
    total: int
    counts: dict[str, int]
    top: list[FollowupItem]
    key_person: KeyPersonMoney | None = None


@dataclass
class ImprovementResults:
    """The improvement tools' results in no language: `Improvements` with its reasons
    untranslated and its follow-ups by kind; `label_improvements` words them."""

    as_of: dt.date
    scoring: list[ScoringSection] = field(default_factory=list)
    scoring_reasons: list[Reason] = field(default_factory=list)
    segments: list[SegmentRow] = field(default_factory=list)
    segments_reason: Reason | None = None
    followups: FollowupResults | None = None
    followups_reason: Reason | None = None
    clv: ClvSummary | None = None
    clv_reason: Reason | None = None
    forecast: PipelineSummary | None = None
    forecast_reason: Reason | None = None


def fit_forecast(frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, out: Any) -> None:
    """Fill `out`'s pipeline forecast (six months) with its back-test over every past
    month start, whose errors calibrate the interval and say per horizon whether the
    pipeline beats the naive mean (the model refitted every six origins, half the CLI's
    cost)."""
    from crmroi.improve.pipeline import forecast_and_backtest

    if not len(frames["deals"]):
        out.forecast_reason = Reason(N_("the workspace has no deals"))
        return
    try:
        f, b = forecast_and_backtest(frames, as_of, 6, refit_months=FORECAST_REFIT)
    except UserError as exc:
        out.forecast_reason = Reason(said_of(exc))
        return
    out.forecast = PipelineSummary(
        as_of=as_of.date(),
        open_deals=f.open_count,
        open_amount=f.open_amount,
        months=[
            ForecastRow(
                m.month.date(),
                m.expected,
                m.open_deals,
                m.new_deals,
                m.low,
                m.high,
                m.naive,
                m.blend_low,
                m.blend_high,
                m.calibrated,
                m.verdict,
            )
            for m in f.months
        ],
        origins=0 if b is None else int(b.rows["origin"].nunique()),
        backtest_reason=f.backtest_reason,
        open_without_amount=f.open_without_amount,
        backtest=[]
        if b is None
        else [
            BacktestRow(
                int(r["horizon"]),
                int(r["forecasts"]),
                float(r["accuracy"]),
                float(r["naive_accuracy"]),
                float(r["bias"]),
                float(r["coverage"]),
                float(r["recommended_accuracy"]),
                float(r["blend_coverage"]),
                float(r["model_coverage"]),
                int(r["calibrated"]),
                str(r["better_than_naive"]),
            )
            for r in b.by_horizon().to_dict(orient="records")
        ],
    )


def fit_scoring(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, out: ImprovementResults
) -> pd.Series | None:
    """Fill `out`'s scoring sections; return the open leads' logistic scores (for hot
    leads)."""
    from crmroi.improve.scoring import NotEnoughHistory, score_workspace

    if not len(frames["leads"]) and not len(frames["deals"]):
        out.scoring_reasons.append(Reason(N_("the workspace has no leads or deals")))
        return None
    try:
        report = score_workspace(frames, as_of=as_of, refit=False)
    except NotEnoughHistory as exc:
        out.scoring_reasons.append(Reason(N_("not enough closed history"), detail=said_of(exc)))
        return None
    lead_scores = None
    for result in report.results:
        scores = result.scores
        if result.kind == "leads" and len(scores):
            lead_scores = scores.set_index("id")["logistic_probability"]
        out.scoring.append(
            ScoringSection(
                kind=result.kind,
                train_until=result.train_until.date(),
                evaluations=[
                    ScoringEvaluation(
                        e.model,
                        e.n_train,
                        e.n_test,
                        e.rate_test,
                        e.auc,
                        e.log_loss,
                        e.calibration_error,
                        e.lift_top_decile,
                    )
                    for e in result.evaluations
                ],
                open_records=len(scores),
                top=[
                    ScoredRecord(
                        id=str(r["id"]),
                        created=None if pd.isna(r["created_at"]) else r["created_at"].date(),
                        logistic=float(r["logistic_probability"]),
                        naive_bayes=float(r["naive_bayes_probability"]),
                        reasons=Items(r["logistic_reasons"]),
                    )
                    for r in scores.head(TOP).to_dict(orient="records")
                ],
            )
        )
    for kind, reason in report.skipped.items():
        said = reason.message if isinstance(reason, Said) else reason
        skipped = M_(
            "scoring_skipped",
            "%(kind)s: %(reason)s",
            kind=Message("scoring_kind", kind.capitalize()),  # Leads, Deals: in the catalogue
            reason=said,
        )
        out.scoring_reasons.append(Reason(Said(skipped)))
    return lead_scores


def fit_segments(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, out: ImprovementResults
) -> None:
    """Fill `out`'s ideal-customer segments section (or its reason when data are short)."""
    from crmroi.improve.segments import segments

    if not len(frames["accounts"]):
        out.segments_reason = Reason(N_("the workspace has no accounts"))
        return
    table = segments(frames, as_of, min_accounts=MIN_SEGMENT_ACCOUNTS)
    if not len(table):
        out.segments_reason = Reason(
            N_("no industry, size, region or source has %(n)s accounts or more"),
            {"n": MIN_SEGMENT_ACCOUNTS},
        )
        return
    out.segments = [
        SegmentRow(
            dimension=str(r["dimension"]),
            value=str(r["value"]),
            accounts=int(r["accounts"]),
            win_rate=(finite(r["win_rate"]), finite(r["win_rate_low"]), finite(r["win_rate_high"])),
            revenue_per_account=(
                finite(r["revenue_per_account"]),
                finite(r["revenue_low"]),
                finite(r["revenue_high"]),
            ),
            churn_rate=(finite(r["churn_rate"]), finite(r["churn_low"]), finite(r["churn_high"])),
        )
        for r in table.to_dict(orient="records")
    ]


def fit_followups(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    lead_scores: pd.Series | None,
    out: ImprovementResults,
) -> None:
    """Fill `out`'s follow-ups (hot leads by `lead_scores`, probabilities 0-1)."""
    from crmroi.improve.followups import followups

    if not len(frames["deals"]) and not len(frames["activities"]):
        out.followups_reason = Reason(N_("the workspace has no deals or activities"))
        return
    items = followups(frames, as_of, STALE_DAYS, lead_scores, HOT_THRESHOLD)
    key_person = None
    if "orders" in frames:
        from crmroi.improve.key_person import key_person_risk

        kp = key_person_risk(frames, as_of)
        key_person = KeyPersonMoney(
            kp.current_at_risk, kp.revenue_total, kp.departure_rate, kp.exposed_a_year, kp.share
        )
    counts = items["kind"].value_counts(sort=False) if len(items) else pd.Series(dtype=int)
    out.followups = FollowupResults(
        as_of=as_of.date(),
        stale_days=STALE_DAYS,
        total=len(items),
        counts={str(k): int(n) for k, n in counts.items()},
        top=[
            FollowupItem(
                priority=int(r["priority"]),
                kind=str(r["kind"]),
                subject_id=str(r["subject_id"]),
                rep_id=None if pd.isna(r["rep_id"]) else str(r["rep_id"]),
                detail=r["detail"] if isinstance(r["detail"], str) else str(r["detail"]),
            )  # a `messages.Said` detail is worded in each report language below
            for r in items.head(TOP).to_dict(orient="records")
        ],
        key_person=key_person,
    )


def fit_clv(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    out: ImprovementResults,
    fit: Any,
    used_by: Sequence[str],
    case_inputs: Sequence[CaseInput],
) -> None:
    """Fill `out`'s lifetime-value section: `fit` (None: fitted here from the orders), the
    case drivers in `used_by` that read it, and the case's customer inputs beside it."""
    from crmroi.improve.lifetime import orders_lifetime_value

    if not len(frames["orders"]):
        out.clv_reason = Reason(N_("the workspace has no orders"))
        return
    if fit is None:
        try:
            fit = orders_lifetime_value(frames, as_of, CLV_HORIZON_WEEKS)
        except UserError as exc:
            out.clv_reason = Reason(N_("too few customers with repeat orders"), detail=said_of(exc))
            return
    segment = frames["accounts"].set_index("account_id")["segment"]
    bg, gg = fit.bgnbd, fit.spend
    quantities = {
        "active_customers": fit.active_customers,
        "value_per_customer_month": fit.value_per_active_customer_month,
    }
    out.clv = ClvSummary(
        as_of=fit.as_of.date(),
        horizon_months=fit.horizon_months,
        customers=len(fit.customers),
        active_customers=fit.active_customers,
        value_per_customer_month=fit.value_per_active_customer_month,
        bgnbd={"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
        gamma_gamma=gg.parameters(),
        spend_frequency_correlation=finite(fit.spend_frequency_correlation),
        warnings=fit.warnings,
        segments=[
            ClvSegmentRow(
                segment=str(r["segment"]),
                customers=int(r["customers"]),
                active_share=float(r["active_share"]),
                expected_purchases=float(r["expected_purchases"]),
                expected_value=float(r["expected_value"]),
                total_value=float(r["total_value"]),
            )
            for r in fit.by_segment(segment).to_dict(orient="records")
        ],
        used_by=list(used_by),
        comparisons=[
            ClvComparison(benefit, name, value, quantities[quantity], from_clv)
            for benefit, name, quantity, value, from_clv in case_inputs
        ],
    )


def fit_improvements(
    frames: dict[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp | None = None,
    clv_fit: Any = None,
    clv_used_by: Sequence[str] = (),
    case_inputs: Sequence[CaseInput] = (),
) -> ImprovementResults:
    """Every improvement section the frames allow (`FRAMES` must be present), fitted
    once and in no language.

    `clv_fit` is a `LifetimeValue` already fitted for the business case (reused, so the
    report shows the very numbers the case used); `clv_used_by` names those benefits;
    `case_inputs` are the case's customer inputs to set beside the fit (`CaseInput`).
    """
    from crmroi.improve.frames import data_date

    day = data_date(frames) if as_of is None else as_of
    out = ImprovementResults(as_of=day.date())
    lead_scores = fit_scoring(frames, day, out)
    fit_segments(frames, day, out)
    fit_followups(frames, day, lead_scores, out)
    fit_clv(frames, day, out, clv_fit, clv_used_by, case_inputs)
    fit_forecast(frames, day, out)
    return out


def _label_followups(fu: FollowupResults, lang: Lang) -> FollowupSummary:
    return FollowupSummary(
        as_of=fu.as_of,
        stale_days=fu.stale_days,
        total=fu.total,
        counts={followup_label(lang, kind): n for kind, n in fu.counts.items()},
        top=[
            FollowupRow(
                priority=f.priority,
                kind=f.kind,
                label=followup_label(lang, f.kind),
                subject_id=f.subject_id,
                rep_id=f.rep_id,
                detail=render(f.detail, lang),
            )
            for f in fu.top
        ],
        key_person=fu.key_person,
    )


def _worded_clv(clv: Any, lang: Lang) -> Any:
    """The lifetime-value section with its fit warnings (`messages.Said`) in `lang`, each
    a `messages.Worded` (a page computed in English words it again in its language)."""
    if clv is None or not clv.warnings:
        return clv
    return dataclasses.replace(clv, warnings=[Worded(render(w, lang), w) for w in clv.warnings])


def _worded_forecast(forecast: Any, lang: Lang) -> Any:
    """The pipeline forecast with why it has no back-test in `lang`."""
    if forecast is None or not forecast.backtest_reason:
        return forecast
    reason = forecast.backtest_reason
    return dataclasses.replace(forecast, backtest_reason=Worded(render(reason, lang), reason))


def _worded_scoring(section: ScoringSection, lang: Lang) -> ScoringSection:
    """The scoring section with its records' reasons in `lang` (English: kept as they
    are, an `Items` of `Reason`s whose text is the English, for pages to word later)."""
    if lang.code == "en":
        return section
    top = [dataclasses.replace(r, reasons=render(r.reasons, lang)) for r in section.top]
    return dataclasses.replace(section, top=top)


def label_improvements(results: ImprovementResults, lang: Lang) -> Improvements:
    """`results` worded in `lang` (cheap: no model is fitted; `results` is not changed)."""

    def text(reason: Reason | None) -> str | None:
        return None if reason is None else Worded(reason.text(lang), reason)

    return Improvements(
        as_of=results.as_of,
        scoring=[_worded_scoring(s, lang) for s in results.scoring],
        scoring_reasons=[Worded(r.text(lang), r) for r in results.scoring_reasons],
        segments=list(results.segments),
        segments_reason=text(results.segments_reason),
        followups=None if results.followups is None else _label_followups(results.followups, lang),
        followups_reason=text(results.followups_reason),
        clv=_worded_clv(results.clv, lang),
        clv_reason=text(results.clv_reason),
        forecast=_worded_forecast(results.forecast, lang),
        forecast_reason=text(results.forecast_reason),
    )


def improvements(
    frames: dict[str, pd.DataFrame],
    lang: Lang,
    *,
    as_of: pd.Timestamp | None = None,
    clv_fit: Any = None,
    clv_used_by: Sequence[str] = (),
    case_inputs: Sequence[CaseInput] = (),
) -> Improvements:
    """`fit_improvements` worded in `lang` (one language; a report in several fits once
    and calls `label_improvements` for each)."""
    results = fit_improvements(
        frames, as_of=as_of, clv_fit=clv_fit, clv_used_by=clv_used_by, case_inputs=case_inputs
    )
    return label_improvements(results, lang)


# -- one section at a time (what the web dashboard loads lazily) ------------------------
def add_scoring(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, lang: Lang, out: Improvements
) -> pd.Series | None:
    """Fill `out`'s scoring sections in `lang`; return the open leads' logistic scores."""
    results = ImprovementResults(as_of=out.as_of)
    lead_scores = fit_scoring(frames, as_of, results)
    labelled = label_improvements(results, lang)
    out.scoring += labelled.scoring
    out.scoring_reasons += labelled.scoring_reasons
    return lead_scores


def add_segments(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, lang: Lang, out: Improvements
) -> None:
    """Fill `out`'s ideal-customer segments section in `lang`."""
    results = ImprovementResults(as_of=out.as_of)
    fit_segments(frames, as_of, results)
    out.segments = results.segments
    out.segments_reason = label_improvements(results, lang).segments_reason


def add_clv(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    lang: Lang,
    out: Improvements,
    fit: Any,
    used_by: Sequence[str],
    case_inputs: Sequence[CaseInput],
) -> None:
    """Fill `out`'s lifetime-value section in `lang` (arguments as `fit_clv`'s)."""
    results = ImprovementResults(as_of=out.as_of)
    fit_clv(frames, as_of, results, fit, used_by, case_inputs)
    labelled = label_improvements(results, lang)
    out.clv, out.clv_reason = labelled.clv, labelled.clv_reason


def add_forecast(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, lang: Lang, out: Improvements
) -> None:
    """Fill `out`'s pipeline forecast section in `lang`."""
    results = ImprovementResults(as_of=out.as_of)
    fit_forecast(frames, as_of, results)
    labelled = label_improvements(results, lang)
    out.forecast, out.forecast_reason = labelled.forecast, labelled.forecast_reason
