"""The case's adoption ramp beside the adoption measured so far, and what the gap does.

- Plan: the share of users working in the CRM in each case month (0 before
  `go_live_month`, then the case's `adoption` ramp).
- Measured: shares by case month handed in by the layer that reads the workspace
  (`crmroi.kpi.adoption`).
- As a driver: the plan with the measured shares in place of the ramp for the
  months to date and, after them, the plan's ramp less the gap of the latest
  measured month (the lag persists; never below the latest measured share, never
  above 1). Its payback beside the plan's tells whether the lag moves payback; a
  warning says so when it moves by a month or more.

Pure: numbers in, numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from crmroi.finance.case import Case, Ramp
from crmroi.finance.cashflow import CashFlowTable, FloatArray
from crmroi.finance.model import ramp_shares
from crmroi.finance.summary import summarise
from crmroi.messages import M_, N_, Message, Num, Pct, Said

__all__ = [
    "AdoptionCheck",
    "adoption_with_measured",
    "as_planned",
    "compare_adoption",
    "measured_ramp",
    "measured_then_plan",
    "planned_adoption",
]


def planned_adoption(case: Case) -> FloatArray:
    """Planned share of users working in the CRM for case months 0..horizon (fractions)."""
    shares = np.zeros(case.horizon_months + 1)
    first = case.go_live_month
    n = case.horizon_months - first + 1
    if n > 0:
        shares[first:] = ramp_shares(case.adoption, n)
    return shares


def adoption_with_measured(case: Case, measured: Mapping[int, float]) -> FloatArray:
    """Shares over case months 0..horizon: the measured share in every month from go-live
    that has one, the plan's share elsewhere (no lag carried forward)."""
    shares = planned_adoption(case)
    for m, share in measured.items():
        if case.go_live_month <= m <= case.horizon_months:
            shares[m] = float(share)
    return shares


def as_planned(case: Case) -> Case:
    """`case` with its adoption ramp as planned (a `measured` ramp's own shares)."""
    if not case.adoption.measured:
        return case
    planned = case.adoption.model_copy(update={"measured": False})
    return case.model_copy(update={"adoption": planned})


def measured_then_plan(case: Case, measured: Mapping[int, float]) -> tuple[Case, str]:
    """`case` with its `measured` adoption ramp read: the measured share in the months
    from go-live that have one, the plan's share after them (`adoption_with_measured`),
    as `by_month` shares; and a note saying which months are measured (English text that
    remembers its message, `crmroi.messages.Said`, for the reader's language)."""
    planned = as_planned(case)
    shares = adoption_with_measured(planned, measured)
    ramp = Ramp(by_month=[float(x) for x in shares[case.go_live_month :]] or [0.0])
    used = sorted(m for m in measured if case.go_live_month <= m <= case.horizon_months)
    if not used:
        message = M_(
            "adoption_measured_none",
            "adoption: 'measured', but the workspace has no measured month from go-live on: "
            "the plan's ramp throughout",
        )
        return planned.model_copy(update={"adoption": ramp}), Said(message)
    last = used[-1]
    params = {
        "first": used[0],
        "last": last,
        "share": Pct(measured[last], 0),
        "plan": Pct(float(planned_adoption(planned)[last]), 0),
        "next": last + 1,
    }
    if last < case.horizon_months:
        text = N_(
            "adoption: measured in case months %(first)s-%(last)s (month %(last)s: %(share)s "
            "of users working in the CRM, plan %(plan)s), the plan's ramp from month %(next)s"
        )
    else:
        text = N_(
            "adoption: measured in case months %(first)s-%(last)s (month %(last)s: %(share)s "
            "of users working in the CRM, plan %(plan)s)"
        )
    note = Said(Message("adoption_measured", text, params))
    return planned.model_copy(update={"adoption": ramp}), note


def measured_ramp(case: Case, measured: Mapping[int, float], to_date: int) -> Ramp:
    """The adoption ramp with measured shares for case months up to `to_date` (see the
    module doc); months without a measure keep the plan's share."""
    plan = planned_adoption(case)
    first = case.go_live_month
    shares = plan.copy()
    last = None
    for m in range(first, min(to_date, case.horizon_months) + 1):
        if m in measured:
            shares[m] = measured[m]
            last = m
    if last is not None and last < case.horizon_months:
        gap = plan[last] - shares[last]
        later = plan[last + 1 :] - gap
        shares[last + 1 :] = np.clip(later, shares[last], 1.0)
    by_month = [float(x) for x in shares[first:]] or [0.0]
    return Ramp(by_month=by_month)


@dataclass
class AdoptionCheck:
    """Planned and measured adoption by case month, and payback with each."""

    months: list[tuple[int, float, float | None]]
    """(case month, planned share, measured share or None) for months go-live..to date."""
    payback_plan: float | None
    payback_measured: float | None
    npv_plan: float
    npv_measured: float

    @property
    def payback_moves(self) -> bool:
        """True when the measured adoption moves payback by a month or more."""
        a, b = self.payback_plan, self.payback_measured
        fa = a is not None and math.isfinite(a)
        fb = b is not None and math.isfinite(b)
        if fa != fb:
            return True
        return fa and fb and abs(float(b) - float(a)) >= 1.0  # type: ignore[arg-type]

    @property
    def latest(self) -> tuple[int, float, float] | None:
        """The latest month with a measure: (case month, planned, measured)."""
        for m, p, a in reversed(self.months):
            if a is not None:
                return m, p, a
        return None

    def warning(self) -> str | None:
        """A sentence (English) when the measured adoption moves payback, else None."""
        message = self.warning_message()
        return None if message is None else str(message)

    def warning_message(self) -> Message | None:
        """`warning` as a message (code `adoption_lag`), for the reader's language."""
        if not self.payback_moves or (last := self.latest) is None:
            return None

        def fmt(v: float | None) -> Message | Num:
            return M_("never", "never") if v is None or not math.isfinite(v) else Num(v, 1)

        m, plan, actual = last
        text = (
            N_(
                "measured adoption lags the plan (month %(month)s: %(actual)s of users working "
                "in the CRM, plan %(plan)s): with it, payback (months): %(measured)s "
                "(plan: %(planned)s)"
            )
            if actual < plan
            else N_(
                "measured adoption runs ahead of the plan (month %(month)s: %(actual)s of users "
                "working in the CRM, plan %(plan)s): with it, payback (months): %(measured)s "
                "(plan: %(planned)s)"
            )
        )
        params = {
            "month": m,
            "actual": Pct(actual, 0),
            "plan": Pct(plan, 0),
            "measured": fmt(self.payback_measured),
            "planned": fmt(self.payback_plan),
        }
        return Message("adoption_lag", text, params)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: a payback that never comes (infinite) or NaN becomes None."""
        return {
            "months": [{"month": m, "plan": p, "measured": a} for m, p, a in self.months],
            "payback_plan": _finite(self.payback_plan),
            "payback_measured": _finite(self.payback_measured),
            "npv_plan": _finite(self.npv_plan),
            "npv_measured": _finite(self.npv_measured),
            "warning": self.warning(),
        }


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def compare_adoption(
    case: Case,
    measured: Mapping[int, float],
    to_date: int,
    table_for: Callable[[Case], CashFlowTable],
) -> AdoptionCheck:
    """Planned against `measured` adoption (case month -> share) for months up to
    `to_date`, and payback with each; `table_for` builds a case's cash flows."""
    plan = planned_adoption(case)
    last = min(to_date, case.horizon_months)
    months = [(m, float(plan[m]), measured.get(m)) for m in range(case.go_live_month, last + 1)]
    base = summarise(table_for(case), case.discount_rate)
    ramp = measured_ramp(case, measured, to_date)
    with_measured = case.model_copy(update={"adoption": ramp})
    alt = summarise(table_for(with_measured), case.discount_rate)
    return AdoptionCheck(
        months=months,
        payback_plan=base.payback_months,
        payback_measured=alt.payback_months,
        npv_plan=base.npv,
        npv_measured=alt.npv,
    )
