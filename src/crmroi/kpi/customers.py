"""Customer KPIs: new-customer revenue, upsell, CAC, revenue per customer, retention,
gross margin and cost per customer.

Revenue is won deals (at `closed_at`) plus orders (at `ordered_at`), in the base
currency. An account becomes a *new customer* when its first deal of kind "new"
(or of no kind) is won (its `since`); accounts without such a deal (customers from
before the data) are existing customers. Account rows belong to the account owner's
team unless the deal's own rep says otherwise. One query aggregates the revenue per
account and bucket, with the bucket of the account's `since`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np

from crmroi.kpi.buckets import NO_BUCKET
from crmroi.kpi.facts import Ctx, Recipe, View, fetch_cube, flag, real, uses, when
from crmroi.kpi.sales import won_filter
from crmroi.kpi.sources import spend, spend_cube
from crmroi.kpi.stats import Cube, Placed, UnitSums


def customer_since(ctx: Ctx) -> ir.Table:
    """account -> time its first deal of kind 'new' (or of no kind) was won."""
    d = ctx.t("deals")
    d = d.filter(won_filter(d) & (d.kind.fill_null("new") == "new"))
    return d.group_by(since_acc=d.account_id).aggregate(since=d.closed_at.min())


def revenue_cube(ctx: Ctx) -> Cube:
    """Won deals and orders per team, grp, account, bucket and bucket of `since` (sb).

    n: rows; amount (USD, NULL as 0); since_amount/since_n: amount and rows at or
    after `since`; up: 1 when a row is an upsell or cross-sell deal (max);
    margin/margin_base/margin_n: amount - cost, amount and rows with both.
    """
    d = ctx.t("deals")
    d = d.filter(won_filter(d))
    deals = d.select(
        _r_ts=d.closed_at.cast("timestamp"), _r_amount=d.amount.cast("float64"),
        _r_cost=d.cost.cast("float64"), _r_acc=d.account_id.cast("string"),
        _r_rep=d.owner_rep_id.cast("string"), _r_src=d.source.cast("string"),
        _r_up=flag(d.kind.isin(["upsell", "cross_sell"])),
    )  # fmt: skip
    o = ctx.t("orders")
    orders = o.select(
        _r_ts=o.ordered_at.cast("timestamp"), _r_amount=o.amount.cast("float64"),
        _r_cost=o.cost.cast("float64"), _r_acc=o.account_id.cast("string"),
        _r_rep=ibis.null("string"), _r_src=ibis.null("string"), _r_up=real(0),
    )  # fmt: skip
    rows = deals.union(orders, distinct=False)
    since = customer_since(ctx)
    since = since.mutate(sb=ctx.buckets.expr(since.since))  # once per account, not per row
    r = rows.left_join(since, rows._r_acc == since.since_acc)
    both = r._r_cost.notnull() & r._r_amount.notnull()
    after = r.since.notnull() & (r._r_ts >= r.since)
    amount = r._r_amount.fill_null(0.0)
    return fetch_cube(
        ctx, r, ts=r._r_ts, rep=r._r_rep, account=r._r_acc, source=r._r_src,
        keys=["acc", "sb"], extra={"sb": r.sb.fill_null(NO_BUCKET)}, halves=True,
        sums={
            "amount": amount, "since_amount": when(after, amount), "since_n": flag(after),
            "margin": when(both, r._r_amount - r._r_cost), "margin_base": when(both, r._r_amount),
            "margin_n": flag(both),
        },
        maxes={"up": r._r_up},
    )  # fmt: skip


def new_customers_cube(ctx: Ctx) -> Cube:
    """New customers per account owner's team and bucket of their `since`."""
    s = customer_since(ctx)
    return fetch_cube(ctx, s, ts=s.since, account=s.since_acc, keys=["acc"])


@uses(revenue_cube)
def new_customer_revenue(v: View) -> UnitSums:
    """Revenue at or after `since`, when `since` falls in the same window as the row."""
    c = v.on(revenue_cube)
    since = c.period_of("sb")
    same = (c["since_n"] > 0) & (since == c.period)
    return c.sums("acc", c["since_amount"], c["since_n"], same)


def _existing(c: Placed) -> np.ndarray:
    """Rows of accounts that were customers before the row's window started."""
    sb = c["sb"]
    return (sb < 0) | (sb <= c.start)


@uses(revenue_cube)
def upsell_rate(v: View) -> UnitSums:
    """Existing buying customers: any upsell (num) / bought (den), per account and window."""
    c = v.on(revenue_cube)
    return c.maxima("acc", {"num": c["up"], "den": np.ones(len(c.cube))}, _existing(c))


@uses(new_customers_cube, spend_cube)
def cac(v: View) -> UnitSums:
    n = v.on(new_customers_cube)
    return UnitSums.concat([spend(v, ("marketing", "sales")), n.sums("acc", 0.0, n["n"])])


@uses(revenue_cube)
def revenue_per_customer(v: View) -> UnitSums:
    c = v.on(revenue_cube)
    bought = c.maxima("acc", {"num": c["amount"], "den": np.ones(len(c.cube))}, c["n"] > 0)
    amount = c.runs("acc", c["n"] > 0).reduce(np.add, c["amount"])
    bought.num = amount
    return bought


@uses(revenue_cube)
def retention_rate(v: View) -> UnitSums:
    """Per account and window: bought in the first half (den) and in both halves (num)."""
    c = v.on(revenue_cube)
    h2 = (c.cube["b"] > c.mid).astype(np.float64)
    both = c.maxima("acc", {"num": h2, "den": 1.0 - h2}, c["n"] > 0)
    both.num = both.num * both.den
    return both


@uses(revenue_cube)
def gross_margin(v: View) -> UnitSums:
    c = v.on(revenue_cube)
    return c.sums("acc", c["margin"], c["margin_base"], c["margin_n"] > 0)


@uses(revenue_cube, spend_cube)
def cost_per_customer(v: View) -> UnitSums:
    c = v.on(revenue_cube)
    n = len(c.cube)
    buyers = c.maxima("acc", {"num": np.zeros(n), "den": np.ones(n)}, c["n"] > 0)
    return UnitSums.concat([spend(v, ("marketing", "sales", "service", "admin")), buyers])


SPECS: dict[str, Recipe] = {
    "new_customer_revenue": new_customer_revenue,
    "upsell_rate": upsell_rate,
    "cac": cac,
    "revenue_per_customer": revenue_per_customer,
    "retention_rate": retention_rate,
    "gross_margin": gross_margin,
    "cost_per_customer": cost_per_customer,
}
