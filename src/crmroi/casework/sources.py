"""Workspace reads for a business case: `crm_costs` rows, the KPI engine's changes, the
attribution's effects and the lifetime-value model of the orders.

Each function reads the store and returns the plain inputs of `crmroi.finance.inputs`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crmroi.errors import ConfigurationError
from crmroi.finance.case import Case
from crmroi.finance.cashflow import FloatArray
from crmroi.finance.inputs import (
    ActualCosts,
    ClvInputs,
    CostRow,
    KpiChangeLike,
    month_index,
    place_costs,
    place_rates,
)
from crmroi.store import Store

__all__ = [
    "AttributedChange",
    "actual_costs",
    "adoption_by_case_month",
    "adoption_in_window",
    "attributed_changes",
    "clv_inputs",
    "cost_rows",
    "fx_rates_for",
    "kpi_report",
    "measured_adoption",
    "measured_changes",
]


def cost_rows(store: Store) -> list[CostRow]:
    """Every `crm_costs` row (amounts in the workspace's base currency)."""
    t = store.table("crm_costs")
    rows = t.select("incurred_on", "category", "amount", "one_time").to_pyarrow().to_pylist()
    out = []
    for row in rows:
        day = row["incurred_on"]
        if isinstance(day, dt.datetime):
            day = day.date()
        out.append(CostRow(day, row["category"], row["amount"], row["one_time"]))
    return out


def same_currency(store: Store, case: Case, what: str) -> None:
    """Refuse to mix the workspace's money (in its base currency) into a case kept in
    another currency: `what` names the figures read."""
    base = store.base_currency.upper()
    if case.currency.upper() != base:
        raise ConfigurationError(
            f"{what} are in the workspace's base currency {base}, the case in "
            f"{case.currency}: set the case's currency to {base} (give costs in other "
            "currencies with `currency:` on the item)"
        )


def actual_costs(store: Store, case: Case) -> ActualCosts:
    """`crm_costs` placed in the case's months (`crmroi.finance.inputs.place_costs`)."""
    if case.start is None:
        raise ConfigurationError("the case needs `start` (first day of month 1) to read actuals")
    same_currency(store, case, "crm_costs (actual costs)")
    return place_costs(case, cost_rows(store))


def fx_rates_for(store: Store, case: Case) -> tuple[dict[str, FloatArray], list[str]]:
    """The case's foreign currencies converted into its currency by month from `fx_rates`
    (`crmroi.finance.inputs.place_rates`), with notes on how."""
    t = store.table("fx_rates").select("rate_date", "currency", "rate_to_base")
    rows = []
    for row in t.to_pyarrow().to_pylist():
        day = row["rate_date"]
        if isinstance(day, dt.datetime):
            day = day.date()
        rows.append((day, str(row["currency"]), row["rate_to_base"]))
    return place_rates(case, rows, store.base_currency)


def kpi_report(store: Store, **options: Any) -> Any:
    """The KPI engine's report on `store` (`crmroi.kpi.compute_kpi_report`)."""
    from crmroi.kpi import compute_kpi_report  # type: ignore[attr-defined,unused-ignore]

    return compute_kpi_report(store, **options)


def measured_changes(store: Store, **options: Any) -> dict[str, KpiChangeLike]:
    """The KPI engine's changes on `store` by KPI name (company level, no grouping)."""
    report = kpi_report(store, **options)
    return {k.name: k for k in report.kpis if getattr(k, "group", None) is None}


@dataclass
class AttributedChange:
    """An attribution result seen through the fields the business case reads.

    `baseline` is the treated units' counterfactual level after go-live (what the
    KPI would have been without the CRM), so relative changes and their interval
    are taken against it.
    """

    name: str
    baseline: float | None
    change_abs: float | None
    change_rel: float | None
    ci_low: float | None
    ci_high: float | None
    available: bool
    reason: str | None
    baseline_basis: str = "measured"  # "supplied": the months before go-live were supplied
    baseline_source: str | None = None

    @property
    def baseline_label(self) -> str:
        """'measured', or 'supplied (source: ...)' (as `KpiChange.baseline_label`)."""
        if self.baseline_basis == "supplied":
            return f"supplied (source: {self.baseline_source})"
        return "measured"


def attributed_changes(store: Store, kpis: list[str]) -> dict[str, KpiChangeLike]:
    """The attribution's effects (net of the market) of `kpis` on `store`, by KPI name."""
    from crmroi.attribution.workspace import Unavailable, attribute_workspace

    out: dict[str, KpiChangeLike] = {}
    for result in attribute_workspace(store, kpis=kpis):
        if isinstance(result, Unavailable):
            out[result.name] = AttributedChange(
                result.name, None, None, None, None, None, False, result.reason
            )
            continue
        rel = result.effect_rel
        base = result.effect / rel if rel else None
        supplied = result.baseline_source
        out[result.name] = AttributedChange(
            result.name, base, result.effect, rel, result.ci_low, result.ci_high, True, None,
            "measured" if supplied is None else "supplied", supplied,
        )  # fmt: skip
    return out


def clv_inputs(store: Store, case: Case) -> ClvInputs:
    """Fit the lifetime-value model on `store`'s orders with the case's `clv` settings.

    Too few customers with (repeat) orders is a `ConfigurationError` naming the
    drivers that asked for `clv`.
    """
    import pandas as pd

    from crmroi.errors import UserError
    from crmroi.improve.frames import data_date, load_frames
    from crmroi.improve.lifetime import WEEKS_PER_MONTH, orders_lifetime_value

    same_currency(store, case, "the lifetime values of the orders ('clv' inputs)")
    settings = case.clv
    frames = load_frames(store, ["orders"])
    as_of = pd.Timestamp(settings.as_of) if settings.as_of else data_date(frames)
    weeks = settings.horizon_months * WEEKS_PER_MONTH
    try:
        fit = orders_lifetime_value(frames, as_of, weeks)
    except UserError as exc:
        users = ", ".join(repr(d.label) for d in case.benefits if d.clv_fields)
        raise ConfigurationError(f"benefits {users} read 'clv': {exc}") from None
    return ClvInputs(
        as_of=as_of.date(),
        horizon_months=settings.horizon_months,
        customers_with_orders=len(fit.customers),
        active_customers=fit.active_customers,
        value_per_customer_month=fit.value_per_active_customer_month,
        fit=fit,
    )


def measured_adoption(store: Store) -> Any:
    """`crmroi.kpi.adoption.measure_adoption`, or None when the workspace records no go-live."""
    from crmroi.kpi.adoption import measure_adoption

    try:
        return measure_adoption(store)
    except ConfigurationError:
        return None


def adoption_by_case_month(measured: Any, case: Case) -> dict[int, float]:
    """Measured share of reps working in the CRM (`crmroi.kpi.adoption.Adoption`) by case
    month."""
    return {
        k: share
        for day, share in measured.share_by_month().items()
        if (k := month_index(case, day)) >= 1
    }


def adoption_in_window(measured: Any, first: dt.date, last: dt.date) -> float | None:
    """Reps of live teams working in the CRM over the months from `first`'s to `last`'s
    (sum of active / sum of live, `crmroi.kpi.adoption.Adoption`; with a login export,
    licensed users active / licensed users), or None without any."""
    lo, hi = dt.date(first.year, first.month, 1), last
    months = [m for m in measured.months if lo <= m.month <= hi]
    live = sum(m.live for m in months)
    return sum(m.active for m in months) / live if live else None
