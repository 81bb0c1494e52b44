"""Service KPIs: satisfaction and cost per ticket.

Tickets count in the window of `opened_at` and belong to their account owner's team.
"""

from __future__ import annotations

from crmroi.kpi.facts import Ctx, Recipe, View, fetch_cube, flag, uses, when
from crmroi.kpi.stats import Cube, UnitSums


def tickets_cube(ctx: Ctx) -> Cube:
    """Tickets per account and bucket: csat (sum of 1-5 scores) and csat_n over answered
    tickets, cost (USD) and cost_n over tickets with a cost."""
    t = ctx.t("tickets")
    return fetch_cube(
        ctx, t, ts=t.opened_at, account=t.account_id, keys=["acc"],
        sums={
            "csat": when(t.csat.notnull(), t.csat), "csat_n": flag(t.csat.notnull()),
            "cost": when(t.cost.notnull(), t.cost), "cost_n": flag(t.cost.notnull()),
        },
    )  # fmt: skip


@uses(tickets_cube)
def csat(v: View) -> UnitSums:
    """Answered tickets: score (1-5) over count."""
    c = v.on(tickets_cube)
    return c.sums("acc", c["csat"], c["csat_n"], c["csat_n"] > 0)


@uses(tickets_cube)
def service_cost_per_ticket(v: View) -> UnitSums:
    """Tickets with a cost: cost (USD) over count."""
    c = v.on(tickets_cube)
    return c.sums("acc", c["cost"], c["cost_n"], c["cost_n"] > 0)


SPECS: dict[str, Recipe] = {
    "csat": csat,
    "service_cost_per_ticket": service_cost_per_ticket,
}
