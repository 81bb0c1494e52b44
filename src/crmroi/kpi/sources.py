"""Lead and lead-source KPIs as fact rows: leads, conversion, marketing spend and its yield.

Leads count in the window of `created_at` (a cohort: a lead converted later still
counts for the window it was created in) and belong to their owner rep's team.
Marketing spend has a source but no team: it uses the company go-live.
"""

from __future__ import annotations

import ibis.expr.types as ir

from crmroi.kpi.facts import Ctx, FactSpec, flag, make_facts, union
from crmroi.kpi.sales import won_deals


def _leads(ctx: Ctx, num: str, den: float) -> ir.Table:
    """Lead rows; converted = converted_at set, status 'converted' or a deal carries its id.

    A deal carries a lead's id when `leads.deal_id` names it or when the deal's own
    id is the lead's id (exports that key deals by their lead, as Olist does).
    """
    t = ctx.t("leads")
    d = ctx.t("deals")
    ids = d.select(_deal=d.deal_id).distinct()
    t = t.left_join(ids, t.lead_id == ids._deal)
    by_deal = t._deal.notnull() | t.deal_id.notnull()
    converted = flag(t.converted_at.notnull() | (t.status.lower() == "converted") | by_deal)
    values = {"one": 1.0, "zero": 0.0}
    f = make_facts(
        ctx,
        t,
        ts=t.created_at,
        num=converted if num == "converted" else values[num],
        den=den,
        unit="rep",
        rep=t.owner_rep_id,
        account=t.account_id,
        source=t.source,
        segment=t.segment,
        extra={"_lead": t.lead_id.cast("string")},
    )
    # leads without an owner rep are resampled one by one
    return f.mutate(unit=f.unit.coalesce(f._lead)).drop("_lead")


def _marketing(ctx: Ctx, den: float) -> ir.Table:
    s = ctx.t("spend")
    s = s.filter(s.category == "marketing")
    return make_facts(
        ctx, s, ts=s.spent_on, num=s.amount.fill_null(0.0), den=den, unit="none", source=s.source
    )


def leads(ctx: Ctx) -> ir.Table:
    return _leads(ctx, "one", 1.0)


def lead_conversion_rate(ctx: Ctx) -> ir.Table:
    return _leads(ctx, "converted", 1.0)


def marketing_spend(ctx: Ctx) -> ir.Table:
    return _marketing(ctx, 1.0)


def cost_per_lead(ctx: Ctx) -> ir.Table:
    return union(_marketing(ctx, 0.0), _leads(ctx, "zero", 1.0))


def cost_per_won_deal(ctx: Ctx) -> ir.Table:
    """Marketing spend over won deals that came from a lead source."""
    d = won_deals(ctx)
    d = d.filter(d.source.notnull() & (d.source != "customer_base"))
    won = make_facts(
        ctx,
        d,
        ts=d.closed_at,
        num=0.0,
        den=1.0,
        unit="account",
        rep=d.owner_rep_id,
        account=d.account_id,
        source=d.source,
    )
    return union(_marketing(ctx, 0.0), won)


SPECS: dict[str, FactSpec] = {
    "leads": FactSpec(leads),
    "lead_conversion_rate": FactSpec(lead_conversion_rate),
    "marketing_spend": FactSpec(marketing_spend),
    "cost_per_lead": FactSpec(cost_per_lead),
    "cost_per_won_deal": FactSpec(cost_per_won_deal),
}
