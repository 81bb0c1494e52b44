"""Typed responses of the dashboard's `/api/v1` routes (the OpenAPI schema shows them;
those of scoring, segments and lifetime value are `crmroi.web.api_improve_models`).

Numbers that are missing, NaN or infinite are null; rates are fractions (0.25, not 25)
and money is in the workspace's (or the case's) currency, as in the CLI's JSON.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pydantic import BaseModel, Field

from crmroi.finance.summary import Summary
from crmroi.finite import finite
from crmroi.kpi import KpiChange, KpiReport
from crmroi.messages import code_of
from crmroi.web.api_types import UtcDateTime
from crmroi.web.dashboard_data import CaseView, SourceRow, cumulative
from crmroi.web.dashboard_filters import Filters


class Window(BaseModel):
    start: dt.date = Field(description="First day (inclusive).")
    end: dt.date = Field(description="Last day (inclusive).")


class FiltersOut(BaseModel):
    team: str | None = None
    region: str | None = None
    segment: str | None = None
    months: int = Field(description="Length of the baseline and after windows, months.")

    @classmethod
    def of(cls, f: Filters) -> FiltersOut:
        return cls(team=f.team, region=f.region, segment=f.segment, months=f.months)


class KpiOut(BaseModel):
    """One KPI's baseline and after values, change, 95% interval and net change."""

    name: str
    unit: str
    area: str
    group: str | None = Field(default=None, description="Team, rep, segment or source when split.")
    baseline: float | None = None
    after: float | None = None
    change_abs: float | None = Field(
        default=None, description="after - baseline, in the KPI's unit."
    )
    change_rel: float | None = Field(default=None, description="change_abs / baseline.")
    ci_low: float | None = Field(default=None, description="95% interval of change_abs, low end.")
    ci_high: float | None = None
    significant: bool = Field(default=False, description="The interval excludes zero.")
    available: bool = True
    reason: str | None = Field(default=None, description="Why the KPI is unavailable.")
    reason_code: str | None = Field(
        default=None, description="A stable machine code of `reason` (no_rows_after, ...)."
    )
    net_change_abs: float | None = Field(
        default=None, description="Change net of not-yet-live teams."
    )
    net_change_rel: float | None = None
    net_ci_low: float | None = None
    net_ci_high: float | None = None
    baseline_basis: str = Field(
        default="measured",
        description="measured, or supplied (from supplied_baselines: figures from outside "
        "the CRM; no interval).",
    )
    baseline_source: str | None = Field(default=None, description="A supplied baseline's source.")
    interval_note: str | None = Field(default=None, description="Why there is no interval.")

    @classmethod
    def of(cls, k: KpiChange) -> KpiOut:
        numbers = {
            key: finite(getattr(k, key))
            for key in (
                "baseline", "after", "change_abs", "change_rel", "ci_low", "ci_high",
                "net_change_abs", "net_change_rel", "net_ci_low", "net_ci_high",
            )
        }  # fmt: skip
        return cls(
            name=k.name,
            unit=k.unit,
            area=k.area,
            group=None if k.group is None else str(k.group),
            significant=bool(k.significant),
            available=bool(k.available),
            reason=k.reason,
            baseline_basis=k.baseline_basis,
            baseline_source=k.baseline_source,
            interval_note=k.interval_note,
            reason_code=k.why.code if k.why is not None else None,
            **numbers,
        )


class KpisOut(BaseModel):
    go_live: dt.date
    baseline: Window
    after: Window
    by: str | None = None
    bootstrap: int = Field(description="Bootstrap replicates behind the intervals.")
    filters: FiltersOut
    notes: list[str] = Field(description="What the filters do not change, in plain words.")
    note_codes: list[str] = Field(
        default_factory=list,
        description="A stable machine code for each of `notes`, in order (docs/api.md).",
    )
    kpis: list[KpiOut]


def windows(report: KpiReport) -> dict[str, Window]:
    return {
        "baseline": Window(start=report.baseline[0], end=report.baseline[1]),
        "after": Window(start=report.after[0], end=report.after[1]),
    }


class SeriesPoint(BaseModel):
    unit: str = Field(description='Team or segment, or "total" (all shown units pooled).')
    month: dt.date = Field(description="First day of the month.")
    num: float | None = None
    den: float | None = None
    value: float | None = None


class SeriesOut(BaseModel):
    name: str
    unit: str = Field(description="The KPI's unit.")
    kind: str = Field(description="total, ratio, median or annual.")
    split: str = Field(description="team or segment: what each line is.")
    filters: FiltersOut
    notes: list[str]
    note_codes: list[str] = Field(
        default_factory=list,
        description="A stable machine code for each of `notes`, in order (docs/api.md).",
    )
    points: list[SeriesPoint]

    @staticmethod
    def points_of(frame: pd.DataFrame) -> list[SeriesPoint]:
        return [
            SeriesPoint(
                unit=str(r.unit),
                month=pd.Timestamp(str(r.month)).date(),
                num=finite(r.num),
                den=finite(r.den),
                value=finite(r.value),
            )
            for r in frame.itertuples(index=False)
        ]


class FiguresOut(BaseModel):
    """ROI (fraction), NPV, IRR (annual fraction) and payback (months) at one horizon."""

    horizon_months: int
    risk_adjusted: bool
    pv_benefits: float | None = None
    pv_costs: float | None = None
    npv: float | None = None
    roi: float | None = None
    simple_roi: float | None = None
    irr: float | None = None
    payback_months: float | None = Field(
        default=None, description="null: no payback in the horizon."
    )
    discounted_payback_months: float | None = None

    @classmethod
    def of(cls, s: Summary, risk_adjusted: bool) -> FiguresOut:
        return cls(
            horizon_months=s.horizon_months,
            risk_adjusted=risk_adjusted,
            pv_benefits=finite(s.pv_benefits),
            pv_costs=finite(s.pv_costs),
            npv=finite(s.npv),
            roi=finite(s.roi),
            simple_roi=finite(s.simple_roi),
            irr=finite(s.irr),
            payback_months=finite(s.payback_months),
            discounted_payback_months=finite(s.discounted_payback_months),
        )


class ProbabilityOut(BaseModel):
    horizon_months: int
    risk_adjusted: bool
    p_roi_positive: float | None = Field(default=None, description="Share of simulated runs, 0-1.")


class CashFlowPoint(BaseModel):
    month: int = Field(description="0: initial costs; 1..horizon: months after the start.")
    net: float | None = None
    cumulative: float | None = None
    cumulative_risk_adjusted: float | None = None


class MeasuredRangeOut(BaseModel):
    """The NPV's central 95% with only the measured changes drawn within their intervals,
    every other input at its most likely value (`crmroi.finance.measured_range`)."""

    inputs: list[str] = Field(description="The measured inputs drawn (line.input).")
    runs: int
    seed: int
    level: float = Field(description="Share of the runs the range holds, 0-1.")
    horizon_months: int
    short_months: int
    npv: tuple[float, float] = Field(description="At the horizon, before risk adjustment.")
    npv_risk_adjusted: tuple[float, float]
    npv_short: tuple[float, float] = Field(description="At short_months, before risk adjustment.")
    held: list[str] = Field(
        default_factory=list,
        description="Measured inputs without an interval, held at their estimates in every run.",
    )


class RoiOut(BaseModel):
    case: str = Field(description="Saved case name.")
    title: str = Field(description="The case's own name (from case.yaml).")
    currency: str
    horizon_months: int
    discount_rate: float
    simulation_runs: int
    figures: list[FiguresOut]
    probabilities: list[ProbabilityOut]
    cash_flow: list[CashFlowPoint]
    warnings: list[str]
    warning_codes: list[str] = Field(
        default_factory=list,
        description="A stable machine code for each of `warnings`, in order (integration, "
        "benchmark, horizon).",
    )
    measured_range: MeasuredRangeOut | None = Field(
        default=None, description="How wide the NPV is on the measurement alone (measured drivers)."
    )

    @classmethod
    def of(cls, view: CaseView) -> RoiOut:
        result = view.result
        assert result is not None and view.case is not None
        return cls(
            case=view.saved.name,
            title=view.case.name,
            currency=view.case.currency,
            horizon_months=view.case.horizon_months,
            discount_rate=view.case.discount_rate,
            simulation_runs=view.runs,
            figures=[FiguresOut.of(s, risk) for s, risk in view.figures()],
            probabilities=[
                ProbabilityOut(horizon_months=h, risk_adjusted=r, p_roi_positive=finite(p))
                for (h, r), p in sorted(view.probabilities.items())
            ],
            cash_flow=[CashFlowPoint.model_validate(row) for row in cumulative(result)],
            warnings=[w.message for w in result.warnings],
            warning_codes=[w.code for w in result.warnings],
            measured_range=(
                MeasuredRangeOut.model_validate(result.measured_range.as_dict())
                if result.measured_range is not None
                else None
            ),
        )


class SourceOut(BaseModel):
    source: str
    kpis: list[KpiOut]

    @classmethod
    def of(cls, row: SourceRow) -> SourceOut:
        return cls(source=row.source, kpis=[KpiOut.of(k) for k in row.kpis.values()])


class SourcesOut(BaseModel):
    baseline: Window
    after: Window
    filters: FiltersOut
    notes: list[str]
    note_codes: list[str] = Field(
        default_factory=list,
        description="A stable machine code for each of `notes`, in order (docs/api.md).",
    )
    sources: list[SourceOut]


class FollowupOut(BaseModel):
    kind: str = Field(description="stale_deal, overdue_task, hot_lead, credit_hold, ...")
    priority: int = Field(description="1 act today, 2 this week, 3 when convenient.")
    subject: str
    subject_id: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    rep_id: str | None = None
    rep_name: str | None = None
    team: str | None = None
    since: UtcDateTime | None = None
    detail: str
    detail_code: str | None = Field(
        default=None, description="A stable machine code of `detail` (stale_deal, ...)."
    )


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def followup_items(frame: pd.DataFrame) -> list[FollowupOut]:
    out = []
    for r in frame.to_dict(orient="records"):
        since = r.get("since")
        out.append(
            FollowupOut(
                kind=str(r["kind"]),
                priority=int(r["priority"]),
                subject=str(r["subject"]),
                subject_id=_text(r.get("subject_id")),
                account_id=_text(r.get("account_id")),
                account_name=_text(r.get("account_name")),
                rep_id=_text(r.get("rep_id")),
                rep_name=_text(r.get("rep_name")),
                team=_text(r.get("rep_team")),
                since=None if since is None or pd.isna(since) else pd.Timestamp(since),
                detail=str(r["detail"]),
                detail_code=code_of(r["detail"]),
            )
        )
    return out


class FollowupsOut(BaseModel):
    as_of: dt.date | None = Field(description="The workspace's latest record (the lists' today).")
    total: int = Field(description="Rows after the filters (before the limit).")
    counts: dict[str, int] = Field(description="Rows by kind after the filters.")
    filters: FiltersOut
    notes: list[str]
    note_codes: list[str] = Field(
        default_factory=list,
        description="A stable machine code for each of `notes`, in order (docs/api.md).",
    )
    items: list[FollowupOut]


class SummaryOut(BaseModel):
    data_version: str
    has_data: bool
    counts: dict[str, int] = Field(description="Rows per canonical table.")
    case: str | None = Field(default=None, description="The active case, if any.")
    case_error: str | None = None
    figures: list[FiguresOut] = Field(default_factory=list)
    probabilities: list[ProbabilityOut] = Field(default_factory=list)
    kpis_significant_up: int = Field(
        default=0, description="KPIs rising beyond their 95% interval."
    )
    kpis_significant_down: int = Field(default=0, description="KPIs falling beyond their interval.")
    followups: int = 0
