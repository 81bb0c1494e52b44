"""Customer KPIs as fact rows: new-customer revenue, upsell, CAC, revenue per customer,
retention, gross margin and cost per customer.

Revenue is won deals (at `closed_at`) plus orders (at `ordered_at`), in the base
currency. An account becomes a *new customer* when its first deal of kind "new"
(or of no kind) is won; accounts without such a deal (customers from before the
data) are existing customers. Account rows belong to the account owner's team
unless the deal's own rep says otherwise.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from crmroi.kpi.facts import FACT_COLUMNS, Ctx, FactSpec, flag, make_facts, real, union
from crmroi.kpi.sales import won_deals


def _revenue_rows(ctx: Ctx) -> ir.Table:
    """Won deals and orders in one shape, with each account's `since` (new-customer date)."""
    d = won_deals(ctx)
    deals = d.select(
        _r_ts=d.closed_at,
        _r_amount=d.amount.cast("float64"),
        _r_cost=d.cost.cast("float64"),
        _r_acc=d.account_id,
        _r_rep=d.owner_rep_id,
        _r_src=d.source,
        _r_up=flag(d.kind.isin(["upsell", "cross_sell"])),
    )
    o = ctx.t("orders")
    orders = o.select(
        _r_ts=o.ordered_at,
        _r_amount=o.amount.cast("float64"),
        _r_cost=o.cost.cast("float64"),
        _r_acc=o.account_id,
        _r_rep=ibis.null("string"),
        _r_src=ibis.null("string"),
        _r_up=real(0),
    )
    rows = deals.union(orders, distinct=False)
    since = customer_since(ctx)
    return rows.left_join(since, rows._r_acc == since.since_acc)


def customer_since(ctx: Ctx) -> ir.Table:
    """account -> time its first deal of kind 'new' (or of no kind) was won."""
    d = won_deals(ctx)
    d = d.filter(d.kind.fill_null("new") == "new")
    return d.group_by(since_acc=d.account_id).aggregate(since=d.closed_at.min())


def _revenue(ctx: Ctx, num: str, den: str) -> ir.Table:
    r = _revenue_rows(ctx)
    parts: dict[str, ir.Value | float] = {
        "amount": r._r_amount.fill_null(0.0),
        "margin": r._r_amount - r._r_cost,
        "upsell": r._r_up,
        "one": 1.0,
        "zero": 0.0,
    }
    return make_facts(
        ctx,
        r,
        ts=r._r_ts,
        num=parts[num],
        den=parts[den],
        unit="account",
        rep=r._r_rep,
        account=r._r_acc,
        source=r._r_src,
        extra={"since": r.since, "_cost": r._r_cost, "_amount": r._r_amount},
    )


def _standard(f: ir.Table) -> ir.Table:
    return f.select(*FACT_COLUMNS)


def new_customer_revenue(ctx: Ctx) -> ir.Table:
    w = ctx.windows
    f = w.attach(_revenue(ctx, "amount", "one"))
    same = w.period(f, f.since) == w.period(f, f.ts)
    return _standard(f.filter(f.since.notnull() & (f.ts >= f.since) & same))


def _new_customers(ctx: Ctx) -> ir.Table:
    """One row per new customer at its `since` time (den = 1)."""
    s = customer_since(ctx)
    return make_facts(ctx, s, ts=s.since, num=0.0, den=1.0, unit="account", account=s.since_acc)


def upsell_rate(ctx: Ctx) -> ir.Table:
    """Purchases by existing customers; per account: any upsell (num) / bought (den)."""
    f = ctx.windows.attach(_revenue(ctx, "upsell", "one"))
    existing = f.since.isnull() | (f.since < ctx.windows.window_start(f, f.ts))
    return _standard(f.filter(existing))


def _spend(ctx: Ctx, categories: list[str]) -> ir.Table:
    s = ctx.t("spend")
    s = s.filter(s.category.isin(categories))
    return make_facts(ctx, s, ts=s.spent_on, num=s.amount.fill_null(0.0), den=0.0, unit="none")


def cac(ctx: Ctx) -> ir.Table:
    return union(_spend(ctx, ["marketing", "sales"]), _new_customers(ctx))


def revenue_per_customer(ctx: Ctx) -> ir.Table:
    return _standard(_revenue(ctx, "amount", "one"))


def retention_rate(ctx: Ctx) -> ir.Table:
    """Purchases flagged by window half: num = second half, den = first half."""
    f = ctx.windows.attach(_revenue(ctx, "zero", "zero"))
    half = ctx.windows.second_half(f, f.ts)
    return _standard(f.mutate(num=half, den=1.0 - half))


def gross_margin(ctx: Ctx) -> ir.Table:
    f = _revenue(ctx, "margin", "amount")
    return _standard(f.filter(f._cost.notnull() & f._amount.notnull()))


def cost_per_customer(ctx: Ctx) -> ir.Table:
    spend = _spend(ctx, ["marketing", "sales", "service", "admin"])
    return union(spend, _standard(_revenue(ctx, "zero", "one")))


def _max_num(t: ir.Table) -> ir.Value:
    return t.num.max()


def _max_den(t: ir.Table) -> ir.Value:
    return t.den.max()


def _both_halves(t: ir.Table) -> ir.Value:
    return t.num.max() * t.den.max()


SPECS: dict[str, FactSpec] = {
    "new_customer_revenue": FactSpec(new_customer_revenue),
    "upsell_rate": FactSpec(upsell_rate, num_agg=_max_num, den_agg=_max_den),
    "cac": FactSpec(cac),
    "revenue_per_customer": FactSpec(revenue_per_customer, den_agg=_max_den),
    "retention_rate": FactSpec(retention_rate, num_agg=_both_halves, den_agg=_max_den),
    "gross_margin": FactSpec(gross_margin),
    "cost_per_customer": FactSpec(cost_per_customer, den_agg=_max_den),
}
