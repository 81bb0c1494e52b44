"""The figures of a cash-flow table: PV of benefits and costs, NPV, ROI, IRR, payback."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from crmroi.finance.cashflow import CashFlowTable, annualise, discount_factors, monthly_rate
from crmroi.finance.metrics import discounted_payback, irr, payback

__all__ = ["Summary", "summarise"]


@dataclass(frozen=True)
class Summary:
    """Money in the case currency; rates as fractions; paybacks in months (NaN: never).

    roi = npv / pv_costs (discounted); simple_roi = (sum of benefits - sum of
    costs) / sum of costs, undiscounted, the figure the business press quotes.
    irr is annual, (1 + monthly IRR)^12 - 1.
    """

    horizon_months: int
    discount_rate: float
    pv_benefits: float
    pv_costs: float
    npv: float
    roi: float
    simple_roi: float
    irr: float
    irr_monthly: float
    payback_months: float
    discounted_payback_months: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN becomes None."""
        return {k: _clean(v) for k, v in asdict(self).items()}


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def summarise(table: CashFlowTable, discount_rate: float) -> Summary:
    """Figures of `table` (periods 0..H, monthly) at an annual `discount_rate`."""
    disc = discount_factors(discount_rate, table.n_periods)
    benefits, costs = table.total_benefits(), table.total_costs()
    net = benefits - costs
    pv_b, pv_c = float(benefits @ disc), float(costs @ disc)
    total_c = float(costs.sum())
    r_m = irr(net)
    return Summary(
        horizon_months=table.horizon_months,
        discount_rate=discount_rate,
        pv_benefits=pv_b,
        pv_costs=pv_c,
        npv=pv_b - pv_c,
        roi=(pv_b - pv_c) / pv_c if pv_c else math.nan,
        simple_roi=float(benefits.sum() - total_c) / total_c if total_c else math.nan,
        irr=annualise(r_m) if math.isfinite(r_m) else math.nan,
        irr_monthly=r_m,
        payback_months=payback(net),
        discounted_payback_months=discounted_payback(monthly_rate(discount_rate), net),
    )
