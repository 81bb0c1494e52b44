"""Benefit drivers: formulas from business inputs to money per month.

Each driver declares the one KPI it draws its value from (`KPI`) and how its
`change` is expressed: an absolute change for rates (fractions, e.g. +0.05 win
rate) or a relative change for amounts and durations (e.g. -0.15 cycle days).
That is the unit of the KPI engine's `change_abs` / `change_rel`, so a
`measured` change is read straight from it. Two benefits may not claim the same
KPI (that would count one change twice); `Case` refuses such a case.

Revenue effects are valued at gross margin, never at revenue; time saved is
valued at the loaded hourly cost times the share of freed time that turns
productive. `value` works on numbers or numpy arrays (one value per run) and
returns money per month at full adoption and full benefit ramp.

Some inputs may be `clv` (`CLV_INPUTS`): they are then read from the lifetime-value
model fitted on the workspace's orders (`crmroi clv`; see `crmroi.casework.sources.
clv_inputs`): the expected number of active customers and the expected value per
active customer a month. A driver also lists in `OVERLAPS` the KPIs whose change is
already inside its own KPI (value per customer includes bigger deals and upsell), and
a case may not claim those twice either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from crmroi.finance.estimates import Estimate
from crmroi.messages import N_

Num = float | np.ndarray
Measured = Literal["measured"]
Clv = Literal["clv"]
ClvQuantity = Literal["active_customers", "value_per_customer_month"]


class _Driver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    KPI: ClassVar[str | None] = None
    OVERLAPS: ClassVar[tuple[str, ...]] = ()
    CLV_INPUTS: ClassVar[dict[str, ClvQuantity]] = {}
    CHANGE_FIELD: ClassVar[Literal["change_abs", "change_rel"]] = "change_abs"
    INPUTS: ClassVar[tuple[str, ...]] = ()
    FORMULA: ClassVar[str] = ""
    REVENUE: ClassVar[bool] = False
    """True when `value` is a revenue change valued at `gross_margin` (see `revenue`)."""

    name: str | None = None
    change: Estimate | Measured = 0.0
    source: Literal["kpi", "attributed"] = Field(
        default="kpi",
        description=N_(
            "where a measured change comes from: the KPI engine's change (kpi) or the "
            "attribution's effect net of the market (attributed, see `crmroi attribute`)"
        ),
    )
    risk_adjustment: float | None = Field(default=None, ge=0, le=1)
    ramp_months: int | None = Field(
        default=None,
        ge=1,
        description=N_("months to full effect (overrides the case's benefit ramp)"),
    )

    @property
    def kind_name(self) -> str:
        return str(getattr(self, "kind", type(self).__name__))

    @property
    def label(self) -> str:
        return self.name or self.kind_name

    @property
    def kpi(self) -> str | None:
        return self.KPI

    @property
    def claims(self) -> tuple[str, ...]:
        """Every KPI whose change this benefit counts: its own and `OVERLAPS`."""
        return (self.kpi, *self.OVERLAPS) if self.kpi else self.OVERLAPS

    @property
    def clv_fields(self) -> dict[str, ClvQuantity]:
        """The inputs given as `clv` and the lifetime-value quantity each one reads."""
        return {k: q for k, q in self.CLV_INPUTS.items() if getattr(self, k) == "clv"}

    def estimates(self) -> dict[str, Estimate | Measured | Clv]:
        """The driver's numeric inputs (including `change`) by field name."""
        return {name: getattr(self, name) for name in ("change", *self.INPUTS)}

    def value(self, x: Mapping[str, Num]) -> Num:  # pragma: no cover - abstract
        """Money per month at full adoption, from inputs `x` (numbers or arrays)."""
        raise NotImplementedError

    def relative_change(self, x: Mapping[str, float]) -> float | None:
        """The KPI change relative to its baseline (for the benchmark ranges), if known."""
        return x["change"] if self.CHANGE_FIELD == "change_rel" else None

    def revenue(self, x: Mapping[str, float]) -> float | None:
        """The revenue change a month behind `value` (value / gross margin), for the ROI
        formulas written on revenue; None for a driver that does not change revenue."""
        if not self.REVENUE or not x["gross_margin"]:
            return None
        return float(self.value(x)) / x["gross_margin"]


class WinRate(_Driver):
    kind: Literal["win_rate"]
    REVENUE = True
    KPI = "win_rate"
    INPUTS = ("opportunities_per_month", "win_rate", "avg_deal_size", "gross_margin")
    FORMULA = "opportunities/month x change in win rate x deal size x gross margin"
    opportunities_per_month: Estimate
    win_rate: Estimate = Field(description=N_("baseline win rate (fraction)"))
    avg_deal_size: Estimate
    gross_margin: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["opportunities_per_month"] * x["change"] * x["avg_deal_size"] * x["gross_margin"]

    def relative_change(self, x: Mapping[str, float]) -> float | None:
        return x["change"] / x["win_rate"] if x["win_rate"] else None


class DealSize(_Driver):
    kind: Literal["deal_size"]
    REVENUE = True
    KPI = "avg_deal_size"
    CHANGE_FIELD = "change_rel"
    INPUTS = ("won_deals_per_month", "avg_deal_size", "gross_margin")
    FORMULA = "won deals/month x deal size x relative change x gross margin"
    won_deals_per_month: Estimate
    avg_deal_size: Estimate
    gross_margin: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["won_deals_per_month"] * x["avg_deal_size"] * x["change"] * x["gross_margin"]


class SalesCycle(_Driver):
    kind: Literal["sales_cycle"]
    REVENUE = True
    KPI = "sales_cycle_days"
    CHANGE_FIELD = "change_rel"
    INPUTS = ("monthly_revenue", "gross_margin", "capacity_share")
    FORMULA = (
        "revenue/month x gross margin x (1/(1 + change) - 1) x share of the freed "
        "capacity that turns into sales"
    )
    monthly_revenue: Estimate
    gross_margin: Estimate
    capacity_share: Estimate = 0.5

    def value(self, x: Mapping[str, Num]) -> Num:
        throughput = 1.0 / (1.0 + x["change"]) - 1.0
        return x["monthly_revenue"] * x["gross_margin"] * throughput * x["capacity_share"]


class Retention(_Driver):
    kind: Literal["retention"]
    REVENUE = True
    KPI = "retention_rate"
    INPUTS = ("customers", "revenue_per_customer", "gross_margin")
    CLV_INPUTS = {
        "customers": "active_customers",
        "revenue_per_customer": "value_per_customer_month",
    }
    FORMULA = "customers x change in annual retention x revenue per customer/month x gross margin"
    customers: Estimate | Clv = Field(description=N_("active customers, or clv (sum of P(active))"))
    revenue_per_customer: Estimate | Clv = Field(
        description=N_("money per customer per month, or clv (BG/NBD x Gamma-Gamma)")
    )
    gross_margin: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["customers"] * x["change"] * x["revenue_per_customer"] * x["gross_margin"]


class CustomerValue(_Driver):
    """More value from each customer: they buy more often or spend more per purchase."""

    kind: Literal["customer_value"]
    REVENUE = True
    KPI = "revenue_per_customer"
    OVERLAPS = ("avg_deal_size", "upsell_rate")
    CHANGE_FIELD = "change_rel"
    INPUTS = ("customers", "value_per_customer", "gross_margin")
    CLV_INPUTS = {"customers": "active_customers", "value_per_customer": "value_per_customer_month"}
    FORMULA = "customers x value per customer/month x relative change x gross margin"
    customers: Estimate | Clv = Field(description=N_("active customers, or clv (sum of P(active))"))
    value_per_customer: Estimate | Clv = Field(
        description=N_("money per customer per month, or clv (BG/NBD x Gamma-Gamma)")
    )
    gross_margin: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["customers"] * x["value_per_customer"] * x["change"] * x["gross_margin"]


class Upsell(_Driver):
    kind: Literal["upsell"]
    REVENUE = True
    KPI = "upsell_rate"
    INPUTS = ("customers", "avg_upsell_size", "gross_margin")
    FORMULA = "customers x change in annual upsell rate / 12 x upsell size x gross margin"
    customers: Estimate
    avg_upsell_size: Estimate
    gross_margin: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["customers"] * x["change"] / 12.0 * x["avg_upsell_size"] * x["gross_margin"]


class LeadConversion(_Driver):
    kind: Literal["lead_conversion"]
    REVENUE = True
    KPI = "lead_conversion_rate"
    INPUTS = ("leads_per_month", "win_rate", "avg_deal_size", "gross_margin")
    FORMULA = "leads/month x change in conversion x win rate x deal size x gross margin"
    leads_per_month: Estimate
    win_rate: Estimate
    avg_deal_size: Estimate
    gross_margin: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return (
            x["leads_per_month"]
            * x["change"]
            * x["win_rate"]
            * x["avg_deal_size"]
            * x["gross_margin"]
        )


class Margin(_Driver):
    kind: Literal["margin"]
    KPI = "gross_margin"
    INPUTS = ("monthly_revenue", "gross_margin")
    FORMULA = "revenue/month x change in gross margin (points)"
    monthly_revenue: Estimate
    gross_margin: Estimate = Field(description=N_("baseline gross margin (fraction)"))

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["monthly_revenue"] * x["change"]

    def relative_change(self, x: Mapping[str, float]) -> float | None:
        return x["change"] / x["gross_margin"] if x["gross_margin"] else None


class TimeSaved(_Driver):
    kind: Literal["time_saved"]
    KPI = "admin_time_share"
    INPUTS = (
        "users",
        "hours_per_user_month",
        "admin_share",
        "loaded_hourly_cost",
        "productive_share",
    )
    FORMULA = (
        "users x hours/month x -(change in admin share) x loaded hourly cost x "
        "share of freed time that turns productive"
    )
    users: Estimate | None = Field(default=None, description=N_("default: the case's users"))
    hours_per_user_month: Estimate = 160.0
    admin_share: Estimate = Field(description=N_("baseline share of hours spent on admin"))
    loaded_hourly_cost: Estimate
    productive_share: Estimate = 0.5

    def value(self, x: Mapping[str, Num]) -> Num:
        hours = x["users"] * x["hours_per_user_month"] * -x["change"]
        return hours * x["loaded_hourly_cost"] * x["productive_share"]

    def relative_change(self, x: Mapping[str, float]) -> float | None:
        return x["change"] / x["admin_share"] if x["admin_share"] else None


class CostPerCustomer(_Driver):
    kind: Literal["cost_per_customer"]
    KPI = "cost_per_customer"
    CHANGE_FIELD = "change_rel"
    INPUTS = ("customers", "cost_per_customer")
    FORMULA = "customers x cost per customer/month x -(relative change)"
    customers: Estimate
    cost_per_customer: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["customers"] * x["cost_per_customer"] * -x["change"]


class Cac(_Driver):
    kind: Literal["cac"]
    KPI = "cac"
    CHANGE_FIELD = "change_rel"
    INPUTS = ("new_customers_per_month", "cac")
    FORMULA = "new customers/month x acquisition cost x -(relative change)"
    new_customers_per_month: Estimate
    cac: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["new_customers_per_month"] * x["cac"] * -x["change"]


class ServiceCost(_Driver):
    kind: Literal["service_cost"]
    KPI = "service_cost_per_ticket"
    CHANGE_FIELD = "change_rel"
    INPUTS = ("tickets_per_month", "cost_per_ticket")
    FORMULA = "tickets/month x cost per ticket x -(relative change)"
    tickets_per_month: Estimate
    cost_per_ticket: Estimate

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["tickets_per_month"] * x["cost_per_ticket"] * -x["change"]


class Satisfaction(_Driver):
    """More satisfied customers stay longer and refer others (valued at gross margin).

    `change` is the relative change of customer satisfaction (the `csat` KPI, e.g.
    +0.05 for a score of 4.0 -> 4.2). Each +100% of satisfaction adds
    `retention_per_satisfaction` points of annual retention and
    `referrals_per_satisfaction` new customers a year per existing customer; both
    are valued like the retention driver (customers x annual rate x revenue per
    customer/month x gross margin). It includes the retention the satisfaction
    brings, so a case may not also claim `retention_rate` with a retention driver.
    """

    kind: Literal["satisfaction"]
    REVENUE = True
    KPI = "csat"
    OVERLAPS = ("retention_rate",)
    CHANGE_FIELD = "change_rel"
    INPUTS = (
        "customers",
        "revenue_per_customer",
        "gross_margin",
        "retention_per_satisfaction",
        "referrals_per_satisfaction",
    )
    CLV_INPUTS = {
        "customers": "active_customers",
        "revenue_per_customer": "value_per_customer_month",
    }
    FORMULA = (
        "customers x relative change in satisfaction x (retention points + referrals a year "
        "per unit of satisfaction) x revenue per customer/month x gross margin"
    )
    customers: Estimate | Clv = Field(description=N_("active customers, or clv (sum of P(active))"))
    revenue_per_customer: Estimate | Clv = Field(
        description=N_("money per customer per month, or clv (BG/NBD x Gamma-Gamma)")
    )
    gross_margin: Estimate
    retention_per_satisfaction: Estimate = Field(
        description=N_("points of annual retention per +100% of satisfaction (fraction)")
    )
    referrals_per_satisfaction: Estimate = Field(
        default=0.0,
        description=N_("referred new customers a year per customer, per +100% of satisfaction"),
    )

    def value(self, x: Mapping[str, Num]) -> Num:
        per_unit = x["retention_per_satisfaction"] + x["referrals_per_satisfaction"]
        return (
            x["customers"] * x["change"] * per_unit * x["revenue_per_customer"] * x["gross_margin"]
        )


class Custom(_Driver):
    """A benefit given directly as money per month (`change`), optionally claiming a KPI."""

    kind: Literal["custom"]
    FORMULA = "the amount given (money per month)"
    claims_kpi: str | None = Field(default=None, alias="kpi")
    change: Estimate = Field(description=N_("money per month"))

    @property
    def kpi(self) -> str | None:
        return self.claims_kpi

    def value(self, x: Mapping[str, Num]) -> Num:
        return x["change"]


Driver = Annotated[
    WinRate
    | DealSize
    | SalesCycle
    | Retention
    | CustomerValue
    | Upsell
    | LeadConversion
    | Margin
    | TimeSaved
    | CostPerCustomer
    | Cac
    | ServiceCost
    | Satisfaction
    | Custom,
    Field(discriminator="kind"),
]
DRIVER_KINDS: tuple[str, ...] = (
    "win_rate",
    "deal_size",
    "sales_cycle",
    "retention",
    "customer_value",
    "upsell",
    "lead_conversion",
    "margin",
    "time_saved",
    "cost_per_customer",
    "cac",
    "service_cost",
    "satisfaction",
    "custom",
)
