"""What a case takes from a workspace, as plain numbers: actual costs by month, measured
KPI changes and the lifetime-value quantities.

Pure: the reading is done by `crmroi.casework`, which hands rows and engine results
to these functions. `crm_costs` rows are placed in the case's months (month 1
starts on `case.start`; rows before it go to period 0, the initial outlay; rows
after the horizon are left out). A measured change prefers the change net of the
not-yet-treated teams (difference in differences) when the engine has it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from crmroi.errors import ConfigurationError
from crmroi.finance.case import Case
from crmroi.finance.cashflow import FloatArray
from crmroi.finance.model import MeasuredChange
from crmroi.messages import M_, Message, Num, Said

__all__ = [
    "RUN_RATE_MONTHS",
    "ActualCosts",
    "ClvInputs",
    "CostRow",
    "KpiChangeLike",
    "month_index",
    "place_costs",
    "place_rates",
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


@dataclass(frozen=True)
class CostRow:
    """One `crm_costs` row: day, category, amount (case currency), one-time or recurring."""

    incurred_on: dt.date
    category: str
    amount: float | None
    one_time: bool | None


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


def place_costs(case: Case, rows: Iterable[CostRow]) -> ActualCosts:
    """Put `rows` into the case's months (see the module docstring)."""
    if case.start is None:
        raise ConfigurationError("the case needs `start` (first day of month 1) to read actuals")
    n = case.horizon_months + 1
    total: dict[str, FloatArray] = {}
    recurring: dict[str, FloatArray] = {}
    last = 0
    for row in rows:
        k = month_index(case, row.incurred_on)
        if k >= n or row.amount is None:
            continue
        total.setdefault(row.category, np.zeros(n))[k] += row.amount
        if not row.one_time:
            recurring.setdefault(row.category, np.zeros(n))[k] += row.amount
        last = max(last, k)
    extended = {c: v.copy() for c, v in total.items()}
    if 0 < last < n - 1:
        window = slice(max(1, last - RUN_RATE_MONTHS + 1), last + 1)
        for cat, flows in recurring.items():
            rate = float(flows[window].mean())
            extended[cat][last + 1 :] = rate
    return ActualCosts(total, extended, last)


def _month_end(case: Case, k: int) -> dt.date:
    """The last day of case month `k` (month 0: the day before `start`)."""
    assert case.start is not None
    first = dt.date(case.start.year, case.start.month, 1)
    months = first.month - 1 + k
    after = dt.date(first.year + months // 12, months % 12 + 1, 1)
    return after - dt.timedelta(days=1)


def place_rates(
    case: Case, rows: Iterable[tuple[dt.date, str, float]], base_currency: str
) -> tuple[dict[str, FloatArray], list[str]]:
    """Exchange rates into the case currency for each of the case's foreign currencies,
    by period 0..H, and notes saying how they were taken.

    `rows` are (rate_date, currency, rate_to_base) from `fx_rates`, `base_currency` the
    workspace's. A period's rate is the latest dated on or before the end of that month;
    periods after the last dated rate hold it (said in a note); periods before the first
    one are refused. A case currency other than the base currency is converted through
    the base (cross rate), which needs its own rates.
    """
    own, base = case.currency.upper(), base_currency.upper()
    wanted = case.foreign_currencies
    if not wanted:
        return {}, []
    by_cur: dict[str, list[tuple[dt.date, float]]] = {}
    for day, cur, rate in rows:
        if rate is not None and rate > 0:
            by_cur.setdefault(cur.upper(), []).append((day, float(rate)))
    ends = [_month_end(case, k) for k in range(case.horizon_months + 1)]

    def series(cur: str) -> tuple[FloatArray, dt.date]:
        if cur == base:
            return np.ones(len(ends)), ends[-1]
        dated = sorted(by_cur.get(cur, []))
        if not dated:
            raise ConfigurationError(f"no exchange rate for {cur} in the workspace's fx_rates")
        if dated[0][0] > ends[0]:
            raise ConfigurationError(
                f"the first {cur} rate in fx_rates is dated {dated[0][0].isoformat()}, after "
                f"the case's month 0 ({ends[0].isoformat()}): import earlier rates"
            )
        days = np.array([d.toordinal() for d, _ in dated])
        values = np.array([r for _, r in dated])
        idx = np.searchsorted(days, [e.toordinal() for e in ends], side="right") - 1
        return values[idx], dated[-1][0]

    own_rates, own_last = series(own)
    out: dict[str, FloatArray] = {}
    notes: list[str] = []
    for cur in wanted:
        rates, last = series(cur)
        out[cur] = rates / own_rates
        last = min(last, own_last) if own != base else last
        held = f"; held after {last.isoformat()}" if last < ends[-1] else ""
        notes.append(
            f"costs in {cur} converted into {own} at the workspace's dated fx_rates (month-end "
            f"rate, {out[cur][0]:.6g} at month 0, {out[cur][-1]:.6g} at month "
            f"{case.horizon_months}{held})"
        )
    return out, notes


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


def _why(k: KpiChangeLike | None) -> Message | str:
    """Why a KPI has no measured change: its message (KPI engine or attribution) when it
    has one, else its text."""
    if k is None:
        return M_("case_kpi_not_computed", "the KPI engine does not compute it")
    why = getattr(k, "why", None)
    if isinstance(why, Message):
        return why
    reason = k.reason
    return reason.message if isinstance(reason, Said) else str(reason or "")


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
            raise ConfigurationError(
                M_(
                    "case_cannot_measure",
                    "benefit %(label)s: cannot measure %(kpi)s on this workspace (%(reason)s)",
                    label=repr(d.label),
                    kpi=repr(d.kpi),
                    reason=_why(k),
                )
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
    `fit` is the lifetime-value model behind them (`crmroi.improve.lifetime.LifetimeValue`:
    parameters, per customer), kept for the reports.
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
            "gamma_gamma": gg.parameters(),
            "spend_model": gg.model,
            "warnings": self.fit.warnings,
        }

    def describe(self) -> str:
        """One sentence for the roi command and the report's assumptions."""
        return (
            f"lifetime value (BG/NBD x Gamma-Gamma on orders to {self.as_of.isoformat()}): "
            f"{self.active_customers:,.0f} active of {self.customers_with_orders:,} customers "
            f"with orders, {self.value_per_customer_month:,.2f} a customer a month over the "
            f"next {self.horizon_months} months" + "".join(f"; {w}" for w in self.fit.warnings)
        )

    def describe_message(self) -> Message:
        """`describe` as a message, worded in the reader's language (its figures in the
        reader's separators, the date in their calendar; English: the same text)."""
        warnings: Message | str = ""
        for w in reversed(self.fit.warnings):
            said = w.message if isinstance(w, Said) else w
            warnings = M_(
                "clv_inputs_warning", "; %(warning)s%(more)s", warning=said, more=warnings
            )
        return M_(
            "clv_inputs",
            "lifetime value (BG/NBD x Gamma-Gamma on orders to %(as_of)s): %(active)s active "
            "of %(customers)s customers with orders, %(value)s a customer a month over the "
            "next %(months)s months%(warnings)s",
            as_of=self.as_of,
            active=Num(self.active_customers),
            customers=self.customers_with_orders,
            value=Num(self.value_per_customer_month, 2),
            months=Num(self.horizon_months, grouped=False),
            warnings=warnings,
        )

    def values(self) -> dict[str, float]:
        """The quantities by `crmroi.finance.drivers.ClvQuantity` name."""
        return {
            "active_customers": self.active_customers,
            "value_per_customer_month": self.value_per_customer_month,
        }
