"""The KPI registry: every KPI's name, unit, area, input tables and one-line definition.

The names of the command-line contract (`kpis --format json`) are the first 23
entries; the lead-source KPIs (`leads`, `marketing_spend`, `cost_per_lead`,
`cost_per_won_deal`) extend it for `--by source`. Rates are fractions, money is in
the workspace's base currency, durations in days.

`kind` says how a window's value is formed from the summed numerator and
denominator (see `crmroi.kpi.engine`):

- "total"     sum of the numerator over the window, scaled to the nominal window
              length when the data cover only part of it;
- "ratio"     sum of the numerator / sum of the denominator;
- "annual"    ratio compounded from a half window to a year (retention);
- "median"    median of per-row values (sales cycle).

`effect` says how the demo's truth.json states the KPI's effect: "abs" (rates)
or "rel" (amounts, counts and durations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crmroi.messages import N_

Area = Literal["sales", "marketing", "service", "cost"]
Kind = Literal["total", "ratio", "annual", "median"]
Unit = Literal["account", "rep", "cell", "deal"]


@dataclass(frozen=True)
class KpiDefinition:
    """One KPI: name, unit of its value, area, tables it reads and what it means."""

    name: str
    unit: str
    area: Area
    tables: tuple[str, ...]
    definition: str
    kind: Kind = "ratio"
    resample: Unit = "account"
    effect: Literal["abs", "rel"] = "rel"
    company_level: bool = False  # uses spend, which has no team, rep or segment
    optional: tuple[str, ...] = ()  # tables read when they have rows
    dims: tuple[str, ...] = ("team", "rep", "segment")  # the --by groupings it supports
    needs: tuple[str, ...] = ()  # "table.column"s that must hold at least one value

    @property
    def all_tables(self) -> tuple[str, ...]:
        """Required then optional input tables."""
        return self.tables + self.optional


D = KpiDefinition
ALL = ("team", "rep", "segment", "source")
SRC = ("source",)

_ALL: tuple[KpiDefinition, ...] = (
    # -- sales -------------------------------------------------------------------
    D("sales_volume", "USD", "sales", ("deals",),
      N_("won deal amount closed in the window"), "total", dims=ALL, needs=('deals.amount',)),
    D("won_deals", "deals", "sales", ("deals",),
      N_("number of deals won (closed) in the window"), "total", dims=ALL),
    D("sales_per_rep", "USD per rep-month", "sales", ("deals", "reps"),
      N_("won amount / active rep-months (a rep is active in a month "
         "between hired_on and left_on)"),
      resample="rep", dims=('team', 'rep'), needs=('deals.amount',)),
    D("avg_deal_size", "USD", "sales", ("deals",),
      N_("won amount / won deals"), dims=ALL, needs=('deals.amount',)),
    D("win_rate", "fraction", "sales", ("deals",),
      N_("deals won / deals closed in the window"), effect="abs", dims=ALL),
    D("sales_cycle_days", "days", "sales", ("deals",),
      N_("median days from created_at to closed_at of deals won in the window"), "median",
      resample="deal", dims=ALL),
    D("forecast_accuracy", "fraction", "sales", ("forecasts", "deals", "reps"),
      N_("mean over team-months of 1 - abs(won amount - forecast) / won amount (latest forecast)"),
      resample="cell", effect="abs", dims=('team',), needs=('deals.amount',)),
    D("relationship_concentration", "fraction", "sales", ("activities",),
      N_("share of an account's activities done by its most active rep, mean over active accounts"),
      effect="abs", dims=('team', 'segment')),
    D("calls_inbound", "calls", "sales", ("activities",),
      N_("inbound calls in the window"), "total", resample="rep"),
    D("calls_outbound", "calls", "sales", ("activities",),
      N_("outbound calls in the window"), "total", resample="rep"),
    D("calls_per_won_deal", "calls per deal", "sales", ("activities", "deals"),
      N_("calls (any direction) / deals won in the window"), resample="rep"),
    D("upsell_rate", "fraction", "sales", ("deals",),
      N_("share of existing buying customers with a won upsell or cross-sell deal in the window"),
      effect="abs", optional=("orders",)),
    D("revenue_per_customer", "USD per customer", "sales", ("deals",),
      N_("revenue (won deals and orders) / distinct buying customers in the window"),
      optional=("orders",), needs=('deals.amount',)),
    # -- marketing -----------------------------------------------------------------
    D("lead_conversion_rate", "fraction", "marketing", ("leads",),
      N_("leads created in the window (cohort) that converted / leads created"), resample="rep",
      effect="abs", dims=ALL),
    D("new_customer_revenue", "USD", "marketing", ("deals",),
      N_("revenue in the window from accounts whose first 'new' deal was won in that window"),
      "total", optional=("orders",), needs=('deals.amount',)),
    D("cac", "USD per customer", "marketing", ("spend", "deals"),
      N_("sales and marketing spend / new customers (first 'new' deal won) in the window"),
      company_level=True, dims=()),
    D("leads", "leads", "marketing", ("leads",),
      N_("leads created in the window"), "total", resample="rep", dims=ALL),
    D("marketing_spend", "USD", "marketing", ("spend",),
      N_("marketing spend in the window"), "total", dims=SRC),
    D("cost_per_lead", "USD per lead", "marketing", ("spend", "leads"),
      N_("marketing spend / leads created in the window"), dims=SRC),
    D("cost_per_won_deal", "USD per deal", "marketing", ("spend", "deals"),
      N_("marketing spend / won deals that came from a lead source"), dims=SRC),
    # -- service -------------------------------------------------------------------
    D("csat", "score 1-5", "service", ("tickets",),
      N_("mean satisfaction score of tickets opened in the window"), effect="abs",
      needs=("tickets.csat",)),
    D("service_cost_per_ticket", "USD per ticket", "service", ("tickets",),
      N_("ticket cost / tickets opened in the window"), needs=('tickets.cost',)),
    D("retention_rate", "fraction per year", "service", ("deals",),
      N_("buyers of the window's first half buying again in its second half, compounded to a year"),
      "annual", effect="abs", optional=("orders",)),
    # -- cost ----------------------------------------------------------------------
    D("cost_per_sales_call", "USD per call", "cost", ("activities", "reps"),
      N_("selling cost (reps' monthly cost + sales spend) / outbound calls and visits"),
      resample="rep", company_level=True, optional=("spend",), dims=()),
    D("admin_time_share", "fraction", "cost", ("time_entries",),
      N_("admin hours / (admin + selling hours) of weeks starting in the window"), resample="rep",
      effect="abs", dims=('team', 'rep'), needs=('time_entries.admin_hours',)),
    D("gross_margin", "fraction", "cost", ("deals",),
      N_("(revenue - cost) / revenue of won deals and orders with a cost"), effect="abs",
      optional=("orders",), needs=('deals.cost',)),
    D("cost_per_customer", "USD per customer", "cost", ("spend", "deals"),
      N_("all spend (sales, marketing, service, admin) / distinct buying customers"),
      company_level=True, optional=("orders",), dims=()),
)  # fmt: skip

KPI_DEFINITIONS: dict[str, KpiDefinition] = {d.name: d for d in _ALL}

CONTRACT_KPIS: tuple[str, ...] = (
    "sales_volume", "won_deals", "sales_per_rep", "avg_deal_size", "win_rate",
    "lead_conversion_rate", "sales_cycle_days", "calls_inbound", "calls_outbound",
    "calls_per_won_deal", "cost_per_sales_call", "admin_time_share", "new_customer_revenue",
    "upsell_rate", "cac", "revenue_per_customer", "retention_rate", "gross_margin", "csat",
    "cost_per_customer", "service_cost_per_ticket", "forecast_accuracy",
    "relationship_concentration",
)  # fmt: skip

SOURCE_KPIS: tuple[str, ...] = (
    "leads", "lead_conversion_rate", "sales_volume", "won_deals", "marketing_spend",
    "cost_per_lead", "cost_per_won_deal",
)  # fmt: skip

AREAS: tuple[Area, ...] = ("sales", "marketing", "service", "cost")

BY_CHOICES: tuple[str, ...] = ("team", "rep", "segment", "source")
