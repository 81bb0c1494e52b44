"""Service KPIs as fact rows: satisfaction and cost per ticket.

Tickets count in the window of `opened_at` and belong to their account owner's team.
"""

from __future__ import annotations

import ibis.expr.types as ir

from crmroi.kpi.facts import Ctx, FactSpec, make_facts


def csat(ctx: Ctx) -> ir.Table:
    """Answered tickets: score (1-5) over count."""
    t = ctx.t("tickets")
    t = t.filter(t.csat.notnull())
    return make_facts(
        ctx, t, ts=t.opened_at, num=t.csat, den=1.0, unit="account", account=t.account_id
    )


def service_cost_per_ticket(ctx: Ctx) -> ir.Table:
    """Tickets with a cost: cost (USD) over count."""
    t = ctx.t("tickets")
    t = t.filter(t.cost.notnull())
    return make_facts(
        ctx, t, ts=t.opened_at, num=t.cost, den=1.0, unit="account", account=t.account_id
    )


SPECS: dict[str, FactSpec] = {
    "csat": FactSpec(csat),
    "service_cost_per_ticket": FactSpec(service_cost_per_ticket),
}
