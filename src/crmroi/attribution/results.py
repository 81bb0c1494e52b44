"""Typed results of the attribution methods and the panel they read.

A panel is a long data frame with one row per unit (team, region or rep) and
period (month start): columns `unit`, `period`, `value` (the KPI in its own unit)
and optionally `weight` (how many observations stand behind the value, e.g.
closed deals). Go-live dates come separately, per unit (None = never went live).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd

from crmroi.attribution import reasons
from crmroi.errors import UserError
from crmroi.messages import code_of

Method = Literal["did", "its", "naive"]

PANEL_COLUMNS = ("unit", "period", "value")


class AttributionError(UserError):
    """The data cannot support the requested attribution (too few periods, no variation)."""


@dataclass(frozen=True)
class EventStudy:
    """Effect by months relative to go-live (leads < 0, lags >= 0), -1 is the reference."""

    relative_month: list[int]
    effect: list[float]
    ci_low: list[float]
    ci_high: list[float]
    pretrend_p_value: float | None
    weight: list[float] = field(default_factory=list)  # summed KPI weight per month (0: leads)

    def to_json(self) -> dict[str, object]:
        """Months since go-live with effect, interval (null: unbounded) and weight."""

        def clean(values: list[float]) -> list[float | None]:
            return [None if v != v else v for v in values]

        return {
            "months_since_go_live": list(self.relative_month),
            "effect": clean(self.effect),
            "ci_low": clean(self.ci_low),
            "ci_high": clean(self.ci_high),
            "weight": list(self.weight),
            "placebo_p_value": self.pretrend_p_value,
        }


@dataclass(frozen=True)
class Attribution:
    """The CRM's effect on one KPI, with a 95% interval and how it was obtained.

    `effect`, `ci_low`, `ci_high` and `naive_change` are in the KPI's own unit
    (fractions for rates, money, days); `effect_rel` divides the effect by the
    treated units' counterfactual level after go-live.
    """

    name: str
    method: Method
    effect: float
    ci_low: float
    ci_high: float
    naive_change: float
    effect_rel: float | None = None
    seasonal_naive_change: float | None = None
    notes: list[str] = field(default_factory=list)
    event_study: EventStudy | None = None
    counterfactual: pd.DataFrame | None = None  # ITS: period, actual, predicted, low, high
    baseline_source: str | None = None  # months before go-live supplied, not measured: whose

    def to_json(self) -> dict[str, object]:
        """The contract's JSON: name, method, effect, ci_low, ci_high, naive_change, notes."""
        return {
            "name": self.name,
            "method": self.method,
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "naive_change": self.naive_change,
            "effect_rel": self.effect_rel,
            "seasonal_naive_change": self.seasonal_naive_change,
            "notes": [str(n) for n in self.notes],
            "note_codes": [code_of(n) for n in self.notes],
            "baseline_basis": "measured" if self.baseline_source is None else "supplied",
            "baseline_source": self.baseline_source,
            **({"event_study": self.event_study.to_json()} if self.event_study else {}),
        }

    @property
    def covers(self) -> bool:
        """True when the interval includes zero (no effect cannot be ruled out)."""
        return self.ci_low <= 0.0 <= self.ci_high


def check_panel(panel: pd.DataFrame, name: str) -> pd.DataFrame:
    """Validate and normalise a panel: sorted, periods as month-start timestamps, no NaN."""
    missing = [c for c in PANEL_COLUMNS if c not in panel.columns]
    if missing:
        raise AttributionError(reasons.panel_lacks(name, missing))
    out = panel.copy()
    out["period"] = pd.to_datetime(out["period"]).dt.to_period("M").dt.to_timestamp()
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    if "weight" not in out.columns:
        out["weight"] = 1.0
    out["weight"] = pd.to_numeric(out["weight"], errors="coerce").fillna(0.0).astype("float64")
    out = out[out["value"].notna() & (out["weight"] > 0)]
    if out.empty:
        raise AttributionError(reasons.panel_empty(name))
    return out.sort_values(["unit", "period"]).reset_index(drop=True)


def month_start(day: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day).to_period("M").to_timestamp()


def months_since(periods: pd.Series, start: pd.Series | pd.Timestamp) -> pd.Series:
    """Whole months from `start` (one date, or one per row; NaT gives NaN) to each period."""
    if isinstance(start, pd.Series):
        years, months = start.dt.year, start.dt.month
    else:
        years, months = start.year, start.month
    since = (periods.dt.year - years) * 12 + (periods.dt.month - months)
    return since.astype("float64")


def company_series(panel: pd.DataFrame) -> pd.DataFrame:
    """Collapse a checked panel to one monthly series: weighted mean value, summed weight."""
    grouped = panel.assign(weighted=panel["value"] * panel["weight"]).groupby("period")
    sums = grouped[["weighted", "weight"]].sum()
    return pd.DataFrame(
        {
            "period": sums.index,
            "value": (sums["weighted"] / sums["weight"]).to_numpy(),
            "weight": sums["weight"].to_numpy(),
        }
    )
