"""Plan versus actual read from a workspace, and people ROI.

`plan_vs_actual` reads `crm_costs`, the KPI engine's changes, the measured adoption
(`crmroi.kpi.adoption`) and (when the case uses it) the lifetime-value model, then
compares them with the plan (`crmroi.finance.actuals.compare_plan`).

People ROI, over the KPI report's baseline and after windows: revenue (won deals +
orders) and gross profit per sales employee (a year), and the human-capital ROI
(revenue - (operating cost - people cost)) / people cost, with operating cost =
people cost (reps' monthly_cost) + spend + CRM costs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from crmroi.casework.sources import (
    actual_costs,
    adoption_by_case_month,
    adoption_in_window,
    clv_inputs,
    fx_rates_for,
    kpi_report,
    measured_adoption,
)
from crmroi.finance.actuals import PlanVsActual, compare_plan
from crmroi.finance.case import Case
from crmroi.finance.inputs import KpiChangeLike
from crmroi.store import Store

__all__ = ["people_roi", "plan_vs_actual"]


def plan_vs_actual(
    case: Case, store: Store, *, report: Any = None, **kpi_options: Any
) -> PlanVsActual:
    """Compare the plan of `case` with what `store` shows to date.

    `report` is a KPI report already computed on `store`; without it the KPI
    engine runs with `kpi_options` (default: 200 bootstrap resamples, seed 0).
    """
    if report is None:
        report = kpi_report(store, **{"bootstrap": 200, "seed": 0, **kpi_options})
    changes: dict[str, KpiChangeLike] = {k.name: k for k in report.kpis if k.group is None}
    costs = actual_costs(store, case)
    clv = clv_inputs(store, case).values() if case.uses_clv else None
    fx = fx_rates_for(store, case)[0] if case.foreign_currencies else None
    measured = measured_adoption(store)
    result = compare_plan(
        case,
        costs,
        changes,
        after_end=report.after[1],
        after_start=report.after[0],
        adoption_in_window=(
            adoption_in_window(measured, *report.after) if measured is not None else None
        ),
        clv=clv,
        people=people_roi(store, report.baseline, report.after),
        fx=fx,
        adoption=adoption_by_case_month(measured, case) if measured is not None else None,
    )
    if measured is not None:
        result.adoption_measure = measured.describe()
    if measured is not None and measured.months:
        last = measured.months[-1]
        result.adoption_month = last.month
        result.adoption_by_team = dict(last.by_team)
        result.usage = _measured_usage(store, report.after[1])
    return result


def _measured_usage(store: Store, as_of: dt.date) -> Any:
    """`crmroi.kpi.adoption_weekly.measure_usage` up to `as_of`, or None without a go-live."""
    from crmroi.errors import ConfigurationError
    from crmroi.kpi.adoption_weekly import measure_usage

    try:
        return measure_usage(store, as_of)
    except ConfigurationError:
        return None


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
