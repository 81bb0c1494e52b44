"""ROI five ways, each labelled with its formula and where it comes from.

The practitioner articles a reader may hold write ROI differently, so a case shows
them side by side (money in the case currency, periods 0..H of a cash-flow table):

- `net_roi`: NPV / PV of costs, discounted (Forrester's Total Economic Impact);
- `benefit_cost_ratio`: PV of benefits / PV of costs, discounted;
- `simple_roi`: (sum of benefits - sum of costs) / sum of costs, undiscounted;
- `revenue_roi` (Persian practitioner article): (revenue increase - costs) / costs,
  undiscounted, with the revenue behind the benefits (revenue drivers' value / gross
  margin) in place of their margin; cost savings count nothing here;
- `idc_roi` (Chinese practitioner article, after IDC): benefit / investment x 100% =
  (cost reductions + revenue increase) / total cost, undiscounted: the revenue
  drivers at revenue, every other benefit (savings, avoided losses) at its value.

Both revenue-based ratios overstate the return, because revenue is not profit:
the case's decision figure is the one it names as `headline_roi` (net ROI unless
it says otherwise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from crmroi.finance.cashflow import CashFlowTable, FloatArray, discount_factors

__all__ = ["ROI_KINDS", "RoiKind", "RoiVariant", "roi_variants"]

RoiKind = Literal["net_roi", "benefit_cost_ratio", "simple_roi", "revenue_roi", "idc_roi"]
ROI_KINDS: tuple[RoiKind, ...] = (
    "net_roi",
    "benefit_cost_ratio",
    "simple_roi",
    "revenue_roi",
    "idc_roi",
)
_ABOUT: dict[RoiKind, tuple[str, str, str]] = {
    "net_roi": (
        "net ROI",
        "NPV / PV of costs (discounted)",
        "Forrester Total Economic Impact (TEI)",
    ),
    "benefit_cost_ratio": (
        "benefit-cost ratio",
        "PV of benefits / PV of costs (discounted)",
        "cost-benefit analysis",
    ),
    "simple_roi": (
        "simple ROI",
        "(sum of benefits - sum of costs) / sum of costs (undiscounted)",
        "the figure the business press quotes",
    ),
    "revenue_roi": (
        "revenue-based ROI",
        "(revenue increase - costs) / costs (undiscounted; revenue, not margin)",
        "Persian practitioner article on CRM ROI",
    ),
    "idc_roi": (
        "IDC benefit / investment",
        "(cost reductions + revenue increase) / total cost x 100% (undiscounted)",
        "Chinese practitioner article on CRM ROI, after IDC",
    ),
}


@dataclass(frozen=True)
class RoiVariant:
    """One way of writing ROI: its value (a fraction; a ratio for the benefit-cost ratio),
    a label, its formula and its source. NaN when the costs are zero."""

    kind: RoiKind
    value: float

    @property
    def label(self) -> str:
        return _ABOUT[self.kind][0]

    @property
    def formula(self) -> str:
        return _ABOUT[self.kind][1]

    @property
    def source(self) -> str:
        return _ABOUT[self.kind][2]

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "label": self.label,
            "formula": self.formula,
            "source": self.source,
            "value": self.value if math.isfinite(self.value) else None,
        }


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def roi_variants(
    table: CashFlowTable, revenue: FloatArray, revenue_value: FloatArray, discount_rate: float
) -> list[RoiVariant]:
    """The five ROI figures of `table` (see the module doc). `revenue` is the revenue
    change behind the revenue drivers' benefits and `revenue_value` those benefits
    (at margin), over at least the same periods (`CaseModel.revenue_flows`)."""
    n = table.n_periods
    disc = discount_factors(discount_rate, n)
    benefits, costs = table.total_benefits(), table.total_costs()
    revenue = revenue[:n]
    pv_b, pv_c = float(benefits @ disc), float(costs @ disc)
    sum_b, sum_c, sum_rev = float(benefits.sum()), float(costs.sum()), float(revenue.sum())
    # the benefits that are not revenue changes: savings, avoided losses, custom lines
    other = sum_b - float(revenue_value[:n].sum())
    values: dict[RoiKind, float] = {
        "net_roi": _ratio(pv_b - pv_c, pv_c),
        "benefit_cost_ratio": _ratio(pv_b, pv_c),
        "simple_roi": _ratio(sum_b - sum_c, sum_c),
        "revenue_roi": _ratio(sum_rev - sum_c, sum_c),
        "idc_roi": _ratio(other + sum_rev, sum_c),
    }
    return [RoiVariant(k, values[k]) for k in ROI_KINDS]
