"""Total cost of ownership: the cost categories of a case and their roll-up.

The categories are those of the data contract's `crm_costs` table (the store's
schema checks that it spells them the same way). They roll up into the three
groups the Chinese practitioner article names after IDC ("the CRM's total cost is
IT investment, people cost and process cost"):

- IT: software (licence, subscription), implementation, customisation,
  integration, infrastructure, maintenance, data migration, and exit (retiring
  the old system or leaving the CRM at the end: contract termination, data
  export, decommissioning);
- people: training, internal labour, and the productivity dip while people learn
  (selling time lost in the first months, valued at loaded cost);
- process: process change and parallel running (old and new side by side).

`tco_rollup` adds a cash-flow table's costs (money per month, periods 0..H) by
group, undiscounted, over the first 12 months and the whole horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crmroi.finance.cashflow import CashFlowTable

__all__ = ["COST_CATEGORIES", "COST_GROUPS", "GROUP_OF", "TcoRollup", "tco_rollup"]

CostGroup = Literal["it", "people", "process"]

COST_GROUPS: dict[CostGroup, tuple[str, ...]] = {
    "it": (
        "licence",
        "subscription",
        "implementation",
        "customisation",
        "integration",
        "infrastructure",
        "maintenance",
        "migration",
        "exit",
    ),
    "people": ("training", "internal_labour", "productivity_dip"),
    "process": ("process_change", "parallel_running"),
}
COST_CATEGORIES: tuple[str, ...] = (
    "licence",
    "subscription",
    "implementation",
    "customisation",
    "training",
    "integration",
    "infrastructure",
    "internal_labour",
    "process_change",
    "parallel_running",
    "maintenance",
    "migration",
    "exit",
    "productivity_dip",
)
GROUP_OF: dict[str, CostGroup] = {c: g for g, cats in COST_GROUPS.items() for c in cats}


@dataclass(frozen=True)
class TcoRollup:
    """Undiscounted costs (case currency) by group and category at 12 months and the horizon.

    `by_group[g]` and `by_category[c]` are (first 12 months incl. month 0, whole horizon).
    """

    horizon_months: int
    by_group: dict[str, tuple[float, float]]
    by_category: dict[str, tuple[float, float]]

    @property
    def total_12(self) -> float:
        return sum(v[0] for v in self.by_group.values())

    @property
    def total(self) -> float:
        return sum(v[1] for v in self.by_group.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "horizon_months": self.horizon_months,
            "total_12_months": self.total_12,
            f"total_{self.horizon_months}_months": self.total,
            "by_group": {
                g: {"12": a, str(self.horizon_months): b} for g, (a, b) in self.by_group.items()
            },
            "by_category": {
                c: {"12": a, str(self.horizon_months): b} for c, (a, b) in self.by_category.items()
            },
        }


def tco_rollup(table: CashFlowTable) -> TcoRollup:
    """The TCO of `table`'s costs by IT / people / process group (see the module doc)."""
    short = min(12, table.horizon_months) + 1
    by_category = {
        c: (float(v[:short].sum()), float(v.sum())) for c, v in sorted(table.costs.items())
    }
    by_group: dict[str, tuple[float, float]] = {g: (0.0, 0.0) for g in COST_GROUPS}
    for c, (a, b) in by_category.items():
        g = GROUP_OF[c]
        x, y = by_group[g]
        by_group[g] = (x + a, y + b)
    return TcoRollup(table.horizon_months, by_group, by_category)
