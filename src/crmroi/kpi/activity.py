"""Activity KPIs as fact rows: calls, calls per won deal, cost per sales call, admin time.

Activities count in the window of `occurred_at` and belong to their rep's team;
time entries count in the window of `week_start`.
"""

from __future__ import annotations

import ibis.expr.types as ir

from crmroi.kpi.facts import Ctx, FactSpec, make_facts, union
from crmroi.kpi.sales import rep_months, won_facts


def _activities(ctx: Ctx, cond: ir.BooleanValue | None, num: float, den: float) -> ir.Table:
    a = ctx.t("activities")
    if cond is not None:
        a = a.filter(cond(a) if callable(cond) else cond)
    return make_facts(
        ctx,
        a,
        ts=a.occurred_at,
        num=num,
        den=den,
        unit="rep",
        rep=a.rep_id,
        account=a.account_id,
    )


def _is_call(a: ir.Table) -> ir.BooleanValue:
    return a.kind == "call"


def calls_inbound(ctx: Ctx) -> ir.Table:
    return _activities(ctx, lambda a: _is_call(a) & (a.direction == "inbound"), 1.0, 1.0)


def calls_outbound(ctx: Ctx) -> ir.Table:
    return _activities(ctx, lambda a: _is_call(a) & (a.direction == "outbound"), 1.0, 1.0)


def calls_per_won_deal(ctx: Ctx) -> ir.Table:
    return union(_activities(ctx, _is_call, 1.0, 0.0), won_facts(ctx, 0.0, 1.0, "rep"))


def cost_per_sales_call(ctx: Ctx) -> ir.Table:
    """Reps' monthly cost and sales spend over outbound calls and visits."""
    s = ctx.t("spend")
    s = s.filter(s.category == "sales")
    spend = make_facts(ctx, s, ts=s.spent_on, num=s.amount.fill_null(0.0), den=0.0, unit="none")
    visits = _activities(
        ctx, lambda a: (_is_call(a) & (a.direction == "outbound")) | (a.kind == "visit"), 0.0, 1.0
    )
    return union(rep_months(ctx, cost=True), spend, visits)


def admin_time_share(ctx: Ctx) -> ir.Table:
    t = ctx.t("time_entries")
    admin = t.admin_hours.fill_null(0.0)
    return make_facts(
        ctx,
        t,
        ts=t.week_start,
        num=admin,
        den=admin + t.selling_hours.fill_null(0.0),
        unit="rep",
        rep=t.rep_id,
    )


SPECS: dict[str, FactSpec] = {
    "calls_inbound": FactSpec(calls_inbound),
    "calls_outbound": FactSpec(calls_outbound),
    "calls_per_won_deal": FactSpec(calls_per_won_deal),
    "cost_per_sales_call": FactSpec(cost_per_sales_call),
    "admin_time_share": FactSpec(admin_time_share),
}
