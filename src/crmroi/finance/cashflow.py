"""Monthly cash-flow conventions: rates, discount factors and the cash-flow table.

Convention used throughout crmroi.finance: a business case has a horizon of H
months; its cash flows are an array of H + 1 numbers, index 0 being the initial
outlay "at signing" (time 0, not discounted) and index m = 1..H the net flow of
month m, booked at the end of that month (discounted by m months). This is the
monthly version of the "Initial, Year 1, Year 2, Year 3" layout of Forrester's
Total Economic Impact (TEI) studies.

Rates: an annual rate r_a (fraction per year) is turned into the equivalent
monthly rate r_m = (1 + r_a) ** (1/12) - 1 (compound, so twelve months of r_m
give exactly r_a), and a monthly rate back with r_a = (1 + r_m) ** 12 - 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def monthly_rate(annual_rate: float) -> float:
    """The compound monthly rate equal to `annual_rate` (fractions): (1 + r_a)^(1/12) - 1."""
    return float((1.0 + annual_rate) ** (1.0 / 12.0) - 1.0)


def annualise(monthly: float) -> float:
    """The annual rate equal to a monthly rate (fractions): (1 + r_m)^12 - 1; NaN stays NaN."""
    return float((1.0 + monthly) ** 12 - 1.0)


def discount_factors(annual_rate: float, n_periods: int) -> FloatArray:
    """1 / (1 + r_m)^t for t = 0..n_periods-1 (t in months, r_m from `monthly_rate`)."""
    r = monthly_rate(annual_rate)
    return np.asarray((1.0 + r) ** -np.arange(n_periods, dtype=np.float64), dtype=np.float64)


@dataclass
class CashFlowTable:
    """Monthly flows of a case: money per month, index 0 = initial, 1..H = months.

    `benefits` maps a benefit line (a driver or an avoided loss) to its flows,
    `costs` maps a cost category of the data contract to its flows; both are
    positive numbers (costs are subtracted in `net`).
    """

    horizon_months: int
    benefits: dict[str, FloatArray] = field(default_factory=dict)
    costs: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def n_periods(self) -> int:
        """H + 1: the initial period and the H months."""
        return self.horizon_months + 1

    def total_benefits(self) -> FloatArray:
        """Benefits of every line added up, money per month."""
        return _sum(self.benefits.values(), self.n_periods)

    def total_costs(self) -> FloatArray:
        """Costs of every category added up, money per month."""
        return _sum(self.costs.values(), self.n_periods)

    def net(self) -> FloatArray:
        """Benefits minus costs, money per month."""
        return self.total_benefits() - self.total_costs()

    def truncated(self, months: int) -> CashFlowTable:
        """The same table cut at `months` (e.g. 12 for the first-year view)."""
        n = min(months, self.horizon_months) + 1
        return CashFlowTable(
            horizon_months=n - 1,
            benefits={k: v[:n].copy() for k, v in self.benefits.items()},
            costs={k: v[:n].copy() for k, v in self.costs.items()},
        )


def _sum(arrays: Iterable[FloatArray], n: int) -> FloatArray:
    total = np.zeros(n, dtype=np.float64)
    for a in arrays:
        total += a
    return total
