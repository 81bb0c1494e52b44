"""Lead and lead-source KPIs: leads, conversion, marketing spend and its yield.

Leads count in the window of `created_at` (a cohort: a lead converted later still
counts for the window it was created in) and belong to their owner rep's team.
Spend has a category and a source but no team: it uses the company go-live.
"""

from __future__ import annotations

import ibis
import numpy as np

from crmroi.kpi.facts import Ctx, Recipe, View, fetch_cube, flag, uses
from crmroi.kpi.sales import deals_cube, worked
from crmroi.kpi.stats import NONE, Cube, UnitSums


def leads_cube(ctx: Ctx) -> Cube:
    """Leads per team, grp, unit and bucket: n and converted.

    Converted: converted_at set, status 'converted', or a deal carries its id
    (`leads.deal_id` names it, or the deal's own id is the lead's id, as in exports
    that key deals by their lead, like Olist). The unit is the owner rep; leads
    without one are resampled one by one (unit = lead id).
    """
    t = ctx.t("leads")
    d = ctx.t("deals")
    ids = d.select(_deal=d.deal_id).distinct()
    t = t.left_join(ids, t.lead_id == ids._deal)
    by_deal = t._deal.notnull() | t.deal_id.notnull()
    converted = flag(t.converted_at.notnull() | (t.status.lower() == "converted") | by_deal)
    lead = ibis.cases(
        (t.owner_rep_id.isnull(), t.lead_id.cast("string")), else_=ibis.null("string")
    )
    return fetch_cube(
        ctx, t, ts=t.created_at, rep=t.owner_rep_id, account=t.account_id, source=t.source,
        segment=t.segment, keys=["unit"], extra={"_lead": lead}, sums={"converted": converted},
        derived={"unit": lambda c: np.where(c["_rep"] != NONE, c["_rep"], c["_lead"])},
    )  # fmt: skip


def spend_cube(ctx: Ctx) -> Cube:
    """Spend per category, source (grp with --by source) and bucket: amount (USD), n."""
    s = ctx.t("spend")
    return fetch_cube(
        ctx, s, ts=s.spent_on, source=s.source, keys=["category"],
        extra={"category": s.category.cast("string")}, sums={"amount": s.amount.fill_null(0.0)},
    )  # fmt: skip


def spend(v: View, categories: tuple[str, ...], den: str | None = None) -> UnitSums:
    """Spend of `categories` as fixed rows: num = amount, den = `den` measure or 0."""
    s = v.on(spend_cube)
    mask = np.isin(s["category"], [s.code(c) for c in categories])
    return s.sums(None, s["amount"], s[den] if den else 0.0, mask)


@uses(leads_cube)
def leads(v: View) -> UnitSums:
    c = v.on(leads_cube)
    return c.sums("unit", c["n"], c["n"])


@uses(leads_cube)
def lead_conversion_rate(v: View) -> UnitSums:
    c = v.on(leads_cube)
    return c.sums("unit", c["converted"], c["n"])


@uses(spend_cube)
def marketing_spend(v: View) -> UnitSums:
    return spend(v, ("marketing",), "n")


@uses(leads_cube, spend_cube)
def cost_per_lead(v: View) -> UnitSums:
    c = v.on(leads_cube)
    return UnitSums.concat([spend(v, ("marketing",)), c.sums("unit", 0.0, c["n"])])


@uses(deals_cube, spend_cube)
def cost_per_won_deal(v: View) -> UnitSums:
    """Marketing spend over won deals that came from a lead source."""
    d = v.on(deals_cube)
    won = d.sums("acc", 0.0, d["won_sourced"], (d["won_sourced"] > 0) & worked(d))
    return UnitSums.concat([spend(v, ("marketing",)), won])


SPECS: dict[str, Recipe] = {
    "leads": leads,
    "lead_conversion_rate": lead_conversion_rate,
    "marketing_spend": marketing_spend,
    "cost_per_lead": cost_per_lead,
    "cost_per_won_deal": cost_per_won_deal,
}
