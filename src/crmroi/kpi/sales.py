"""Sales KPIs as fact rows: volume, won deals, deal size, win rate, cycle, forecasts.

Won deals count in the window of their `closed_at`; their team is the owner rep's
team. Amounts are in the base currency (USD in the demo).
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from crmroi.kpi.facts import Ctx, FactSpec, days_between, flag, make_facts, real, union


def won_deals(ctx: Ctx) -> ir.Table:
    """Deals won with a closing time."""
    d = ctx.t("deals")
    return d.filter(d.is_won.fill_null(False) & d.closed_at.notnull())


Part = Callable[[ir.Table], ir.Value] | float


def won_facts(ctx: Ctx, num: Part, den: Part, unit: str) -> ir.Table:
    """Fact rows of won deals; `num`/`den` are constants or functions of the deals table."""
    d = won_deals(ctx)
    return make_facts(
        ctx,
        d,
        ts=d.closed_at,
        num=num(d) if callable(num) else num,
        den=den(d) if callable(den) else den,
        unit=unit,
        rep=d.owner_rep_id,
        account=d.account_id,
        source=d.source,
    )


def _amount(d: ir.Table) -> ir.Value:
    return d.amount.fill_null(0.0)


def _has_amount(d: ir.Table) -> ir.Value:
    return flag(d.amount.notnull())


def rep_months(ctx: Ctx, cost: bool) -> ir.Table:
    """One row per rep and calendar month the rep was employed (hired_on..left_on).

    `num` is the rep's monthly cost when `cost`, else 0; `den` is 0 with `cost`
    and 1 (a rep-month) without.
    """
    r = ctx.t("reps")
    months = ibis.memtable({"m0": ctx.month_starts[:-1], "m1": ctx.month_starts[1:]})
    j = r.cross_join(months)
    hired = j.hired_on.isnull() | (j.hired_on.cast("timestamp") < j.m1)
    left = j.left_on.isnull() | (j.left_on.cast("timestamp") > j.m0)
    j = j.filter(hired & left)
    return make_facts(
        ctx,
        j,
        ts=j.m0,
        num=j.monthly_cost.fill_null(0.0) if cost else 0.0,
        den=0.0 if cost else 1.0,
        unit="rep",
        rep=j.rep_id,
        team=j.team,
    )


def sales_volume(ctx: Ctx) -> ir.Table:
    return won_facts(ctx, _amount, 1.0, "account")


def won_count(ctx: Ctx) -> ir.Table:
    return won_facts(ctx, 1.0, 1.0, "account")


def sales_per_rep(ctx: Ctx) -> ir.Table:
    return union(won_facts(ctx, _amount, 0.0, "rep"), rep_months(ctx, cost=False))


def avg_deal_size(ctx: Ctx) -> ir.Table:
    return won_facts(ctx, _amount, _has_amount, "account")


def win_rate(ctx: Ctx) -> ir.Table:
    d = ctx.t("deals")
    d = d.filter(d.is_closed.fill_null(False) & d.closed_at.notnull())
    return make_facts(
        ctx,
        d,
        ts=d.closed_at,
        num=flag(d.is_won),
        den=1.0,
        unit="account",
        rep=d.owner_rep_id,
        account=d.account_id,
        source=d.source,
    )


def sales_cycle_days(ctx: Ctx) -> ir.Table:
    """Won deals with their cycle length in days as `num` (the engine takes the median)."""
    d = won_deals(ctx)
    d = d.filter(d.created_at.notnull() & (d.closed_at >= d.created_at))
    return make_facts(
        ctx,
        d,
        ts=d.closed_at,
        num=days_between(d.created_at, d.closed_at),
        den=1.0,
        unit="account",
        rep=d.owner_rep_id,
        account=d.account_id,
        source=d.source,
    )


def forecast_accuracy(ctx: Ctx) -> ir.Table:
    """Per team-month: 1 - |won amount - latest forecast| / won amount (months with wins)."""
    f = ctx.t("forecasts")
    made = f.made_at.cast("timestamp").fill_null(ibis.timestamp("1900-01-01 00:00:00"))
    f = f.mutate(_made=made, _period=f.period_start.cast("timestamp"))
    latest = f.group_by(["team", "_period"]).aggregate(_last=f._made.max())
    j = f.join(latest, ["team", "_period"]).filter(lambda t: t._made == t._last)
    fc = j.group_by(["team", "_period"]).aggregate(forecast=j.forecast_amount.mean())
    w = won_deals(ctx)
    rl = ctx.rep_lookup
    w = w.left_join(rl, w.owner_rep_id == rl._lk_rep)
    actual = (
        w.mutate(_month=w.closed_at.truncate("M"))
        .group_by([w._lk_team.name("team"), "_month"])
        .aggregate(actual=lambda t: t.amount.sum())
    )
    cell = fc.join(actual, (fc.team == actual.team) & (fc._period == actual._month))
    cell = cell.filter(cell.actual > 0)
    acc = 1.0 - (cell.actual - cell.forecast).abs() / cell.actual
    return (
        make_facts(
            ctx,
            cell,
            ts=cell._period,
            num=acc,
            den=1.0,
            unit="none",
            team=cell.team,
            extra={"_cell": cell.team.cast("string").concat(cell._period.cast("string"))},
        )
        .mutate(unit=lambda t: t._cell)
        .drop("_cell")
    )


def relationship_concentration(ctx: Ctx) -> ir.Table:
    """Per account and window: share of its activities by its most active rep."""
    a = ctx.t("activities")
    a = a.filter(a.account_id.notnull() & a.rep_id.notnull())
    f = make_facts(
        ctx,
        a,
        ts=a.occurred_at,
        num=1.0,
        den=1.0,
        unit="account",
        account=a.account_id,
        extra={"_by": a.rep_id.cast("string")},
    )
    # the account owner's team places the account (and all its activities) in one window
    f = ctx.windows.attach(f)
    f = f.filter(ctx.windows.period(f, f.ts).notnull())
    f = f.mutate(_w=ctx.windows.window_start(f, f.ts))
    per_rep = f.group_by(["account_id", "team", "segment", "_w", "_by"]).aggregate(n=f.num.sum())
    per_acc = per_rep.group_by(["account_id", "team", "segment", "_w"]).aggregate(
        top=per_rep.n.max(), total=per_rep.n.sum()
    )
    s = "string"
    return per_acc.select(
        ts=per_acc._w.cast("timestamp"),
        team=per_acc.team,
        rep_id=ibis.null(s),
        account_id=per_acc.account_id,
        segment=per_acc.segment,
        source=ibis.null(s),
        unit=per_acc.account_id,
        num=per_acc.top.cast("float64") / per_acc.total.cast("float64"),
        den=real(1),
    )


SPECS: dict[str, FactSpec] = {
    "sales_volume": FactSpec(sales_volume),
    "won_deals": FactSpec(won_count),
    "sales_per_rep": FactSpec(sales_per_rep),
    "avg_deal_size": FactSpec(avg_deal_size),
    "win_rate": FactSpec(win_rate),
    "sales_cycle_days": FactSpec(sales_cycle_days),
    "forecast_accuracy": FactSpec(forecast_accuracy),
    "relationship_concentration": FactSpec(relationship_concentration),
}
