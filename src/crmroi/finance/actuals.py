"""Plan versus actual as months pass, the ROI re-forecast, and people ROI.

- Costs: the plan's monthly flows by category beside `crm_costs` month by month.
- Benefits: each driver re-valued with the KPI engine's measured change (net of
  the market when the engine has it) in place of the planned change. The engine
  measures one change per KPI over its after window, at the adoption reached then,
  so the planned ramp is not applied to it again: the money at the measured change,
  V, is spread over the months by the line's shape s (adoption x benefit ramp, the
  measured adoption where it was measured, the plan's elsewhere) divided by the shape
  over the after window: actual_m = V x s_m / mean(s over the window), or, when the
  share of reps of live teams working in the CRM over the window is known (a phased
  roll-out is measured team by team from each team's go-live), V x s_m / (that share
  x the mean benefit ramp over the window) (`measured_shape`). Drivers whose KPI
  the engine cannot measure on the workspace (and custom drivers) are shown at plan.
- Re-forecast: actual costs to date then the plan's costs, benefits at the
  measured changes over the whole horizon.
- People ROI (computed by `crmroi.casework.actuals.people_roi`) is carried along.
- Adoption: the measured share of users working in the CRM beside the plan's ramp,
  and payback with the measured shares (`crmroi.finance.adoption`).

Pure: `crmroi.casework.plan_vs_actual` reads the workspace and calls `compare_plan`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from crmroi.finance.adoption import (
    AdoptionCheck,
    adoption_with_measured,
    as_planned,
    compare_adoption,
)
from crmroi.finance.case import Case
from crmroi.finance.cashflow import CashFlowTable, FloatArray
from crmroi.finance.drivers import _Driver
from crmroi.finance.inputs import ActualCosts, KpiChangeLike, month_index, to_measured
from crmroi.finance.model import build_model, driver_shape
from crmroi.finance.summary import Summary, summarise
from crmroi.messages import N_, Message, Num, Pct

__all__ = [
    "EXTRAPOLATION_LIMIT",
    "EXTRAPOLATION_WARN",
    "Extrapolation",
    "LineVariance",
    "PlanVsActual",
    "compare_plan",
    "measured_shape",
]

EXTRAPOLATION_WARN = 2.0
"""A measured change booked at more than this multiple of itself in some month (measured
at under half the full effect: most of the re-forecast's benefit is then extrapolated)
warns, code `measured_extrapolated` (docs/business_case.md, "Plan versus actual")."""
EXTRAPOLATION_LIMIT = 5.0
"""Above this multiple (measured at under a fifth of the full effect) the line is not
re-valued from the measurement: it stays at plan, code `measured_not_extrapolated`."""


@dataclass(frozen=True)
class Extrapolation:
    """A measured change the re-forecast scales up by more than `EXTRAPOLATION_WARN`.

    `measured_at` is the shape S the change was measured at (share of the full effect:
    adoption x benefit ramp over the window, `measured_shape`); `factor` the largest
    multiple of the measured change booked in a month of the horizon (max s_m / S);
    `refused`: above `EXTRAPOLATION_LIMIT`, the line stays at plan."""

    line: str
    measured_at: float
    factor: float
    refused: bool

    def message(self) -> Message:
        """The warning, for the reader's language."""
        params: dict[str, Any] = {
            "line": self.line,
            "share": Pct(self.measured_at, 0),
            "factor": Num(self.factor, 1),
        }
        if self.refused:
            params["limit"] = Num(EXTRAPOLATION_LIMIT, 0)
            text = N_(
                "%(line)s: the change was measured at %(share)s of its full effect (adoption x "
                "benefit ramp over the measurement window); at full effect it would be "
                "multiplied by %(factor)s, more than %(limit)s: the line stays at plan in the "
                "actuals and the re-forecast"
            )
            return Message("measured_not_extrapolated", text, params)
        text = N_(
            "%(line)s: the change was measured at %(share)s of its full effect (adoption x "
            "benefit ramp over the measurement window); the re-forecast books up to "
            "%(factor)s times it, assuming the effect grows in proportion to adoption"
        )
        return Message("measured_extrapolated", text, params)

    def to_json(self) -> dict[str, Any]:
        message = self.message()
        return {
            "code": message.code,
            "line": self.line,
            "measured_at": self.measured_at,
            "factor": self.factor,
            "refused": self.refused,
            "message": str(message),
        }


@dataclass
class LineVariance:
    """One line's plan and actual to date (money); variance = actual - plan."""

    name: str
    side: Literal["benefit", "cost"]
    plan: FloatArray
    actual: FloatArray
    measured: bool = True

    @property
    def plan_to_date(self) -> float:
        return float(self.plan.sum())

    @property
    def actual_to_date(self) -> float:
        return float(self.actual.sum())

    @property
    def variance(self) -> float:
        return self.actual_to_date - self.plan_to_date

    @property
    def variance_rel(self) -> float | None:
        return self.variance / self.plan_to_date if self.plan_to_date else None

    @property
    def effect_on_net(self) -> float:
        """What the variance does to the net flow: + for more benefit or less cost."""
        return self.variance if self.side == "benefit" else -self.variance

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "side": self.side,
            "measured": self.measured,
            "plan_by_month": self.plan.round(2).tolist(),
            "actual_by_month": self.actual.round(2).tolist(),
            "plan_to_date": self.plan_to_date,
            "actual_to_date": self.actual_to_date,
            "variance": self.variance,
            "variance_rel": self.variance_rel,
        }


@dataclass
class PlanVsActual:
    """Plan beside actual for months 0..`months_to_date`, and the re-forecast."""

    months_to_date: int
    lines: list[LineVariance]
    reforecast: Summary
    main_driver: str | None = None
    people: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    plan: Summary | None = None
    """The plan's own figures over the horizon (to set the re-forecast beside)."""
    adoption: AdoptionCheck | None = None
    adoption_month: dt.date | None = None
    """The latest month adoption was measured in."""
    adoption_by_team: dict[str, tuple[int, int]] = field(default_factory=dict)
    """team -> (reps working in the CRM, reps employed) in `adoption_month`; with a
    user-activity export (licensed users active, licensed users), "" for users
    matching no rep."""
    adoption_measure: dict[str, Any] | None = None
    """How adoption was measured: basis, definition, users matching no rep
    (`crmroi.kpi.adoption.Adoption.describe`)."""
    usage: Any = None
    """Weekly adoption per team and rep, records per rep-day, next activities and field
    completeness (`crmroi.kpi.adoption_weekly.Usage`, anything with `to_json`)."""
    extrapolated: list[Extrapolation] = field(default_factory=list)
    """Measured changes scaled up by more than `EXTRAPOLATION_WARN` (warnings)."""

    def monthly(self) -> list[tuple[int, float, float, float, float]]:
        """(month, plan benefits, actual benefits, plan costs, actual costs) to date."""
        n = self.months_to_date + 1
        zero = np.zeros(n)
        sums = {
            (side, kind): sum((getattr(x, kind) for x in self.lines if x.side == side), zero)
            for side in ("benefit", "cost")
            for kind in ("plan", "actual")
        }
        return [
            (
                m,
                float(sums["benefit", "plan"][m]),
                float(sums["benefit", "actual"][m]),
                float(sums["cost", "plan"][m]),
                float(sums["cost", "actual"][m]),
            )
            for m in range(n)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "months_to_date": self.months_to_date,
            "lines": [x.to_json() for x in self.lines],
            "main_driver": self.main_driver,
            "reforecast": self.reforecast.as_dict(),
            "plan": self.plan.as_dict() if self.plan is not None else None,
            "people": {k: {"baseline": b, "after": a} for k, (b, a) in self.people.items()},
            "adoption": self.adoption.to_json() if self.adoption is not None else None,
            "adoption_measure": self.adoption_measure,
            "adoption_by_team": {
                "month": self.adoption_month.isoformat() if self.adoption_month else None,
                "teams": {
                    t: {"active": a, "employed": e} for t, (a, e) in self.adoption_by_team.items()
                },
            },
            "usage": self.usage.to_json() if self.usage is not None else None,
            "warnings": [x.to_json() for x in self.extrapolated],
        }


def _measurable(case: Case, changes: Mapping[str, KpiChangeLike]) -> Case:
    """`case` with every driver whose KPI the engine measured switched to 'measured'."""
    drivers = []
    for d in case.benefits:
        k = changes.get(d.kpi) if d.kpi and d.kind_name != "custom" else None
        ok = k is not None and k.available and (k.change_abs is not None)
        drivers.append(d.model_copy(update={"change": "measured"}) if ok else d)
    return case.model_copy(update={"benefits": drivers})


def measured_at(
    case: Case,
    d: _Driver,
    adoption: FloatArray,
    window: tuple[int, int],
    adoption_in_window: float | None = None,
) -> float:
    """The shape S a change measured over case months `window` (first, last) was measured
    at (see `measured_shape`); 0 when unknown (no month of the window in the horizon, or
    nothing adopted)."""
    lo, hi = max(window[0], 0), min(window[1], case.horizon_months)
    if hi < lo:
        return 0.0
    if adoption_in_window is not None:
        r = driver_shape(case, d, np.ones(case.horizon_months + 1))[lo : hi + 1]
        live = r[np.arange(lo, hi + 1) >= case.go_live_month]
        return adoption_in_window * float(live.mean()) if live.size else 0.0
    return float(driver_shape(case, d, adoption)[lo : hi + 1].mean())


def measured_shape(
    case: Case,
    d: _Driver,
    adoption: FloatArray,
    window: tuple[int, int],
    adoption_in_window: float | None = None,
) -> FloatArray:
    """Periods 0..H of a driver valued at a change measured over case months `window`
    (first, last): its shape s = a x r (adoption shares `adoption` over 0..H times its
    benefit ramp r) divided by the shape it had over the window, so the months of the
    window average the measured change. That shape is the mean of s over the window,
    or, given `adoption_in_window` (the share of reps of live teams working in the CRM
    over the window: what a change measured team by team from each team's go-live was
    measured at), that share times the mean of r over the window's live months. When it
    is 0 (or the window is outside the horizon) the change is taken as it was measured
    in every month from go-live. The result's largest value is how many times the
    measured change the re-forecast books in a month (`Extrapolation`)."""
    s = driver_shape(case, d, adoption)
    at = measured_at(case, d, adoption, window, adoption_in_window)
    if at > 0:
        return s / at
    flat = np.zeros_like(s)
    flat[case.go_live_month :] = 1.0
    return flat


def compare_plan(
    case: Case,
    costs: ActualCosts,
    changes: Mapping[str, KpiChangeLike],
    *,
    after_end: dt.date,
    clv: Mapping[str, float] | None = None,
    people: dict[str, tuple[float | None, float | None]] | None = None,
    fx: Mapping[str, FloatArray] | None = None,
    adoption: Mapping[int, float] | None = None,
    after_start: dt.date | None = None,
    adoption_in_window: float | None = None,
) -> PlanVsActual:
    """Compare the plan of `case` with actual costs and measured changes (see the module doc).

    `after_start`..`after_end` is the KPI engine's after window (start default: the
    go-live month), over which measured changes were measured; `clv` the
    lifetime-value quantities when the case reads them; `people` the people ROI; `fx` the
    exchange rates of costs in other currencies (`build_model`); `adoption` the measured
    share of users working in the CRM by case month, `adoption_in_window` the share of
    reps of live teams working in it over the after window (`measured_shape`). A case
    whose adoption is `measured` is compared as planned (its ramp's own shares;
    `as_planned`).
    """
    case = as_planned(case)
    plan_model = build_model(
        case,
        actual_costs=costs.with_run_rate,
        measured=to_measured(case, changes),
        clv=clv,
        fx=fx,
    )
    plan = plan_model.table()
    assert case.start is not None
    window = (
        month_index(case, after_start) if after_start is not None else case.go_live_month,
        month_index(case, after_end),
    )
    shares = adoption_with_measured(case, adoption or {})
    measured_case = _measurable(case, changes)
    shapes: dict[int, FloatArray] = {}
    extrapolated: list[Extrapolation] = []
    benefits = list(measured_case.benefits)
    for i, d_act in enumerate(measured_case.benefits):
        if d_act.change != "measured":
            continue
        shape = measured_shape(measured_case, d_act, shares, window, adoption_in_window)
        factor = float(shape.max())
        refused = factor > EXTRAPOLATION_LIMIT
        if factor > EXTRAPOLATION_WARN:
            at = measured_at(measured_case, d_act, shares, window, adoption_in_window)
            extrapolated.append(Extrapolation(d_act.label, at, factor, refused))
        if refused:  # not re-valued from the measurement: the plan's driver
            benefits[i] = case.benefits[i]
        else:
            shapes[i] = shape
    measured_case = measured_case.model_copy(update={"benefits": benefits})
    actual_model = build_model(
        measured_case,
        actual_costs=costs.with_run_rate,
        measured=to_measured(measured_case, changes),
        clv=clv,
        fx=fx,
    )
    for i, line in enumerate(actual_model.lines[: len(benefits)]):
        if i in shapes:
            line.shape = shapes[i]
    actual = actual_model.table()
    to_date = min(max(costs.last_month, month_index(case, after_end)), case.horizon_months)
    n = to_date + 1
    lines: list[LineVariance] = []
    for i, d_plan in enumerate(case.benefits):
        name = d_plan.label
        lines.append(
            LineVariance(
                name, "benefit", plan.benefits[name][:n], actual.benefits[name][:n],
                measured=i in shapes,
            )
        )  # fmt: skip
    for loss in case.do_nothing:
        flows = plan.benefits[loss.name][:n]
        lines.append(LineVariance(loss.name, "benefit", flows, flows.copy(), measured=False))
    zero = np.zeros(n)
    for cat in sorted(set(plan.costs) | set(costs.actual)):
        planned = plan.costs.get(cat, zero)[:n]
        lines.append(LineVariance(cat, "cost", planned, costs.actual.get(cat, zero)[:n]))
    main = max(lines, key=lambda x: abs(x.effect_on_net), default=None)
    reforecast_costs = {}
    for cat in set(plan.costs) | set(costs.actual):
        flows = plan.costs.get(cat, np.zeros(plan.n_periods)).copy()
        flows[:n] = costs.actual.get(cat, zero)[:n]
        reforecast_costs[cat] = flows
    table = CashFlowTable(case.horizon_months, dict(actual.benefits), reforecast_costs)
    check = None
    if adoption:

        def table_for(c: Case) -> CashFlowTable:
            model = build_model(
                c,
                actual_costs=costs.with_run_rate,
                measured=to_measured(c, changes),
                clv=clv,
                fx=fx,
            )
            return model.table()

        check = compare_adoption(case, adoption, to_date, table_for)
    return PlanVsActual(
        months_to_date=to_date,
        lines=lines,
        reforecast=summarise(table, case.discount_rate),
        main_driver=main.name if main is not None and main.effect_on_net else None,
        people=dict(people or {}),
        plan=summarise(plan, case.discount_rate),
        adoption=check,
        extrapolated=extrapolated,
    )
