"""What a case reads from a workspace: actual CRM costs, measured KPI changes and the
lifetime-value model of its orders (`clv_inputs`).

The only I/O of crmroi.finance. `crm_costs` rows are placed in the case's months
(month 1 starts on `case.start`; rows before it go to period 0, the initial
outlay; rows after the horizon are left out). KPI changes come from the KPI
engine (`crmroi.kpi.compute_kpi_report`), preferring the change net of the
not-yet-treated teams (difference in differences) when the engine has it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from crmroi.errors import ConfigurationError
from crmroi.finance.case import Case
from crmroi.finance.cashflow import FloatArray
from crmroi.finance.model import MeasuredChange
from crmroi.store import Store

__all__ = [
    "ActualCosts",
    "ClvInputs",
    "KpiChangeLike",
    "actual_costs",
    "attributed_changes",
    "clv_inputs",
    "kpi_report",
    "measured_changes",
    "month_index",
    "to_measured",
]

RUN_RATE_MONTHS = 3


class KpiChangeLike(Protocol):
    """The fields of the KPI engine's `KpiChange` that the business case uses."""

    name: str
    baseline: float | None
    change_abs: float | None
    change_rel: float | None
    ci_low: float | None
    ci_high: float | None
    available: bool
    reason: str | None


def month_index(case: Case, day: dt.date) -> int:
    """The case month of `day`: 1 for the month starting at `case.start`, 0 before it."""
    assert case.start is not None
    k = (day.year - case.start.year) * 12 + day.month - case.start.month + 1
    return max(k, 0)


@dataclass
class ActualCosts:
    """crm_costs by category over the periods 0..H (money per month).

    `actual` holds the rows to date; `with_run_rate` continues each category's
    recurring rows after `last_month` at their mean over the last
    `RUN_RATE_MONTHS` observed months (one-time costs are not extended).
    `last_month` is 0 when no row falls in month 1 or later.
    """

    actual: dict[str, FloatArray]
    with_run_rate: dict[str, FloatArray]
    last_month: int


def actual_costs(store: Store, case: Case) -> ActualCosts:
    """Read `crm_costs` into the case's months (see the module docstring)."""
    if case.start is None:
        raise ConfigurationError("the case needs `start` (first day of month 1) to read actuals")
    t = store.table("crm_costs")
    rows = t.select("incurred_on", "category", "amount", "one_time").to_pyarrow().to_pylist()
    n = case.horizon_months + 1
    total: dict[str, FloatArray] = {}
    recurring: dict[str, FloatArray] = {}
    last = 0
    for row in rows:
        day = row["incurred_on"]
        if isinstance(day, dt.datetime):
            day = day.date()
        k = month_index(case, day)
        if k >= n or row["amount"] is None:
            continue
        cat = row["category"]
        total.setdefault(cat, np.zeros(n))[k] += row["amount"]
        if not row["one_time"]:
            recurring.setdefault(cat, np.zeros(n))[k] += row["amount"]
        last = max(last, k)
    extended = {c: v.copy() for c, v in total.items()}
    if 0 < last < n - 1:
        window = slice(max(1, last - RUN_RATE_MONTHS + 1), last + 1)
        for cat, flows in recurring.items():
            rate = float(flows[window].mean())
            extended[cat][last + 1 :] = rate
    return ActualCosts(total, extended, last)


def kpi_report(store: Store, **options: Any) -> Any:
    """The KPI engine's report on `store` (`crmroi.kpi.compute_kpi_report`)."""
    try:
        from crmroi.kpi import compute_kpi_report  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:  # pragma: no cover - the engine ships with crmroi
        raise ConfigurationError(f"the KPI engine is not available: {exc}") from None
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
        out[result.name] = AttributedChange(
            result.name, base, result.effect, rel, result.ci_low, result.ci_high, True, None
        )
    return out


def _pick(k: KpiChangeLike, field: str) -> tuple[float | None, float | None, float | None]:
    """(value, ci low, ci high) of the change in `field`'s unit, net of market when known."""
    net = getattr(k, "net_" + field, None)
    if net is not None and math.isfinite(net):
        lo, hi = getattr(k, "net_ci_low", None), getattr(k, "net_ci_high", None)
        value = net
    else:
        lo, hi, value = k.ci_low, k.ci_high, getattr(k, field)
    if field == "change_rel" and lo is not None and hi is not None:
        base = k.baseline
        lo, hi = (lo / base, hi / base) if base else (None, None)
    return value, lo, hi


def to_measured(case: Case, changes: Mapping[str, KpiChangeLike]) -> dict[str, MeasuredChange]:
    """The measured change of each KPI a `measured` driver of `case` draws from.

    A KPI the engine could not compute is a `ConfigurationError` naming the driver
    and the engine's reason.
    """
    out: dict[str, MeasuredChange] = {}
    for d in case.benefits:
        if d.change != "measured" or d.kpi is None:
            continue
        k = changes.get(d.kpi)
        if k is None or not k.available:
            reason = k.reason if k is not None else "the KPI engine does not compute it"
            raise ConfigurationError(
                f"benefit {d.label!r}: cannot measure {d.kpi!r} on this workspace ({reason})"
            )
        value, lo, hi = _pick(k, d.CHANGE_FIELD)
        if value is None:
            raise ConfigurationError(f"benefit {d.label!r}: no measured change of {d.kpi!r}")
        out[d.kpi] = MeasuredChange(value, lo, hi)
    return out


@dataclass(frozen=True)
class ClvInputs:
    """The lifetime-value quantities drivers read as `clv`, and the fit behind them.

    `active_customers`: expected customers still active at `as_of` (sum over accounts
    with orders of the BG/NBD P(active)); `value_per_customer_month`: their expected
    value over the next `horizon_months` (BG/NBD purchases x Gamma-Gamma spend,
    undiscounted, in the base currency) / active customers / `horizon_months`.
    `fit` is the `crmroi.improve.lifetime.LifetimeValue` (parameters, per customer).
    """

    as_of: dt.date
    horizon_months: int
    customers_with_orders: int
    active_customers: float
    value_per_customer_month: float
    fit: Any

    def as_dict(self) -> dict[str, Any]:
        """The quantities and the fitted parameters (the `clv` key of `roi --format json`)."""
        bg, gg = self.fit.bgnbd, self.fit.spend
        return {
            "as_of": self.as_of.isoformat(),
            "horizon_months": self.horizon_months,
            "customers_with_orders": self.customers_with_orders,
            "active_customers": self.active_customers,
            "value_per_customer_month": self.value_per_customer_month,
            "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
            "gamma_gamma": {"p": gg.p, "q": gg.q, "gamma": gg.gamma},
        }

    def describe(self) -> str:
        """One sentence for the roi command and the report's assumptions."""
        return (
            f"lifetime value (BG/NBD x Gamma-Gamma on orders to {self.as_of.isoformat()}): "
            f"{self.active_customers:,.0f} active of {self.customers_with_orders:,} customers "
            f"with orders, {self.value_per_customer_month:,.2f} a customer a month over the "
            f"next {self.horizon_months} months"
        )

    def values(self) -> dict[str, float]:
        """The quantities by `crmroi.finance.drivers.ClvQuantity` name."""
        return {
            "active_customers": self.active_customers,
            "value_per_customer_month": self.value_per_customer_month,
        }


def clv_inputs(store: Store, case: Case) -> ClvInputs:
    """Fit the lifetime-value model on `store`'s orders with the case's `clv` settings.

    Too few customers with (repeat) orders is a `ConfigurationError` naming the
    drivers that asked for `clv`.
    """
    import pandas as pd

    from crmroi.errors import UserError
    from crmroi.improve.frames import data_date, load_frames
    from crmroi.improve.lifetime import WEEKS_PER_MONTH, orders_lifetime_value

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
