"""What a case reads from a workspace: actual CRM costs and measured KPI changes.

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
    "KpiChangeLike",
    "actual_costs",
    "attributed_changes",
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
