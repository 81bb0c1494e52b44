"""How far the measurement's own uncertainty moves a case's NPV.

A case whose drivers are `measured` shows one NPV, computed at each measured change's
point estimate. That estimate has an interval, and on a company of the demo's size the
win rate's alone leaves the NPV a median 18% from the NPV at the true effects (a bound no
estimator net of the market beats: docs/attribution.md, item 8). So every result with
measured changes says how wide the NPV is on the measurement alone: the central 95% of
the NPV over `MEASUREMENT_RUNS` runs that draw only the measured changes (each from the
PERT whose central 95% is its interval, `crmroi.finance.pert_fit`), every other input at
its most likely value. It is not the case's full uncertainty (`--simulate` draws every
range); it is what the data could not pin down. On 144 demo companies this range held the
NPV at the true effects in 139 (docs/attribution.md, item 8).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from crmroi.finance.cashflow import FloatArray
from crmroi.finance.estimates import pert_draws
from crmroi.finance.model import CaseModel
from crmroi.finance.simulation import SHORT_HORIZON, npv_roi_at

__all__ = ["MEASUREMENT_LEVEL", "MEASUREMENT_RUNS", "MeasuredRange", "measured_range"]

MEASUREMENT_RUNS = 4000  # runs: the 2.5% and 97.5% quantiles to about 1% of their width
MEASUREMENT_LEVEL = 0.95  # central share of the NPVs the range holds


@dataclass(frozen=True)
class MeasuredRange:
    """Central `level` of the NPV (money) with only the measured changes drawn.

    `npv`, `npv_risk_adjusted`: at the horizon, before and after the risk adjustment;
    `npv_short`: at `short_months` (12, or the horizon if shorter), before it.
    """

    inputs: tuple[str, ...]
    runs: int
    seed: int
    level: float
    short_months: int
    horizon_months: int
    npv_short: tuple[float, float]
    npv: tuple[float, float]
    npv_risk_adjusted: tuple[float, float]
    held: tuple[str, ...] = ()
    """Measured inputs without an interval: held at their estimates in every run, so the
    range says nothing of their uncertainty."""

    def at(self, months: int, risk_adjusted: bool) -> tuple[float, float] | None:
        """The range of the figures column (`months`, risk adjusted or not), None where
        none was drawn (12 months risk adjusted)."""
        if months == self.horizon_months:
            return self.npv_risk_adjusted if risk_adjusted else self.npv
        if months == self.short_months and not risk_adjusted:
            return self.npv_short
        return None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: the fields, tuples as lists."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _central(values: FloatArray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def measured_range(
    model: CaseModel, runs: int = MEASUREMENT_RUNS, seed: int = 0
) -> MeasuredRange | None:
    """The NPV's range on the measurement alone, or None when no measured change of the
    case has an interval (a measured change without one enters as a number)."""
    ranged = model.measured_ranges()
    if not ranged:
        return None
    rng = np.random.default_rng(seed)
    draws = {key: pert_draws(ranged[key], runs, rng) for key in sorted(ranged)}
    amounts = model.amounts(draws, runs)
    horizon = model.case.horizon_months
    short = min(SHORT_HORIZON, horizon)
    return MeasuredRange(
        inputs=tuple(sorted(ranged)),
        runs=runs,
        seed=seed,
        level=MEASUREMENT_LEVEL,
        short_months=short,
        horizon_months=horizon,
        npv_short=_central(npv_roi_at(model, amounts, short, False)[0], MEASUREMENT_LEVEL),
        npv=_central(npv_roi_at(model, amounts, horizon, False)[0], MEASUREMENT_LEVEL),
        npv_risk_adjusted=_central(npv_roi_at(model, amounts, horizon, True)[0], MEASUREMENT_LEVEL),
        held=model.measured_held(),
    )
