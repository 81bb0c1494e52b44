"""Plan versus actual as months pass, the ROI re-forecast, and people ROI.

- Costs: the plan's monthly flows by category beside `crm_costs` month by month.
- Benefits: each driver re-valued with the KPI engine's measured change (net of
  the market when the engine has it) in place of the planned change, with the
  plan's adoption and benefit ramps. The engine measures one change per KPI over
  its after window, not month by month, so a driver's actual monthly value is
  that change applied to the plan's ramp; drivers whose KPI the engine cannot
  measure on the workspace (and custom drivers) are shown at plan.
- Re-forecast: actual costs to date then the plan's costs, benefits at the
  measured changes over the whole horizon.
- People ROI, over the KPI report's baseline and after windows: revenue (won
  deals + orders) and gross profit per sales employee (a year), and the
  human-capital ROI (revenue - (operating cost - people cost)) / people cost, with
  operating cost = people cost (reps' monthly_cost) + spend + CRM costs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import numpy as np

from crmroi.finance.case import Case
from crmroi.finance.cashflow import CashFlowTable, FloatArray
from crmroi.finance.model import build_model
from crmroi.finance.sources import (
    KpiChangeLike,
    actual_costs,
    clv_inputs,
    kpi_report,
    month_index,
    to_measured,
)
from crmroi.finance.summary import Summary, summarise
from crmroi.store import Store

__all__ = ["LineVariance", "PlanVsActual", "people_roi", "plan_vs_actual"]


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

    def to_json(self) -> dict[str, Any]:
        return {
            "months_to_date": self.months_to_date,
            "lines": [x.to_json() for x in self.lines],
            "main_driver": self.main_driver,
            "reforecast": self.reforecast.as_dict(),
            "people": {k: {"baseline": b, "after": a} for k, (b, a) in self.people.items()},
        }


def _measurable(case: Case, changes: dict[str, KpiChangeLike]) -> Case:
    """`case` with every driver whose KPI the engine measured switched to 'measured'."""
    drivers = []
    for d in case.benefits:
        k = changes.get(d.kpi) if d.kpi and d.kind_name != "custom" else None
        ok = k is not None and k.available and (k.change_abs is not None)
        drivers.append(d.model_copy(update={"change": "measured"}) if ok else d)
    return case.model_copy(update={"benefits": drivers})


def plan_vs_actual(
    case: Case, store: Store, *, report: Any = None, **kpi_options: Any
) -> PlanVsActual:
    """Compare the plan of `case` with what `store` shows to date (see the module doc).

    `report` is a KPI report already computed on `store`; without it the KPI
    engine runs with `kpi_options` (default: 200 bootstrap resamples, seed 0).
    """
    if report is None:
        report = kpi_report(store, **{"bootstrap": 200, "seed": 0, **kpi_options})
    changes: dict[str, KpiChangeLike] = {k.name: k for k in report.kpis if k.group is None}
    costs = actual_costs(store, case)
    clv = clv_inputs(store, case).values() if case.uses_clv else None
    plan_model = build_model(
        case, actual_costs=costs.with_run_rate, measured=to_measured(case, changes), clv=clv
    )
    plan = plan_model.table()
    measured_case = _measurable(case, changes)
    actual_model = build_model(
        measured_case,
        actual_costs=costs.with_run_rate,
        measured=to_measured(measured_case, changes),
        clv=clv,
    )
    actual = actual_model.table()
    assert case.start is not None
    to_date = min(max(costs.last_month, month_index(case, report.after[1])), case.horizon_months)
    n = to_date + 1
    lines: list[LineVariance] = []
    for d_plan, d_act in zip(case.benefits, measured_case.benefits, strict=True):
        name = d_plan.label
        lines.append(
            LineVariance(
                name,
                "benefit",
                plan.benefits[name][:n],
                actual.benefits[name][:n],
                measured=d_act.change == "measured",
            )
        )
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
    return PlanVsActual(
        months_to_date=to_date,
        lines=lines,
        reforecast=summarise(table, case.discount_rate),
        main_driver=main.name if main is not None and main.effect_on_net else None,
        people=people_roi(store, report.baseline, report.after),
    )


def _sum(expr: Any) -> float:
    value = expr.execute()
    return float(value) if value is not None and value == value else 0.0


def _window_figures(store: Store, start: dt.date, end: dt.date) -> dict[str, float]:
    """Revenue, gross profit, people cost, other operating cost, headcount in [start, end]."""
    lo = ibis.literal(start)
    hi = ibis.literal(end)
    deals = store.table("deals")
    won = deals.filter(
        deals.is_won & (deals.closed_at.date() >= lo) & (deals.closed_at.date() <= hi)
    )
    orders = store.table("orders")
    ords = orders.filter((orders.ordered_at.date() >= lo) & (orders.ordered_at.date() <= hi))
    revenue = _sum(won.amount.sum()) + _sum(ords.amount.sum())
    cost_of_sales = _sum(won.cost.sum()) + _sum(ords.cost.sum())
    spend = store.table("spend")
    other = _sum(spend.filter((spend.spent_on >= lo) & (spend.spent_on <= hi)).amount.sum())
    crm = store.table("crm_costs")
    other += _sum(crm.filter((crm.incurred_on >= lo) & (crm.incurred_on <= hi)).amount.sum())
    reps = store.table("reps").select("hired_on", "left_on", "monthly_cost").to_pyarrow()
    hired = reps.column("hired_on").to_pylist()
    left = reps.column("left_on").to_pylist()
    cost = reps.column("monthly_cost").to_pylist()
    months = []
    day = dt.date(start.year, start.month, 1)
    while day <= end:
        months.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    people_cost = 0.0
    heads = 0.0
    for h, left_on, c in zip(hired, left, cost, strict=True):
        active = sum(
            1 for m in months if (h is None or h <= m) and (left_on is None or left_on > m)
        )
        heads += active / max(len(months), 1)
        people_cost += active * float(c or 0.0)
    return {
        "revenue": revenue,
        "gross_profit": revenue - cost_of_sales,
        "people_cost": people_cost,
        "other_cost": other,
        "headcount": heads,
        "months": float(len(months)),
    }


def people_roi(
    store: Store, baseline: tuple[dt.date, dt.date], after: tuple[dt.date, dt.date]
) -> dict[str, tuple[float | None, float | None]]:
    """Revenue and gross profit per sales employee a year, and human-capital ROI (ratio)."""
    out: dict[str, list[float | None]] = {
        "revenue_per_sales_employee": [],
        "gross_profit_per_sales_employee": [],
        "human_capital_roi": [],
    }
    for start, end in (baseline, after):
        f = _window_figures(store, start, end)
        per_year = 12.0 / f["months"] if f["months"] else 0.0
        heads = f["headcount"]
        out["revenue_per_sales_employee"].append(f["revenue"] * per_year / heads if heads else None)
        out["gross_profit_per_sales_employee"].append(
            f["gross_profit"] * per_year / heads if heads else None
        )
        people = f["people_cost"]
        out["human_capital_roi"].append(
            (f["revenue"] - f["other_cost"]) / people if people else None
        )
    return {k: (v[0], v[1]) for k, v in out.items()}
