"""Lifetime value per customer and per segment from orders: BG/NBD x Gamma-Gamma (scipy).

`lifetime_value(summary, horizon_weeks)` fits both models by maximum likelihood
(`clv.fit_bgnbd`, `spend.fit_gamma_gamma`) and gives, per customer, P(active) at the
end of the data, the expected purchases in the next `horizon_weeks` and the expected
spend per purchase; their product is the expected value over the horizon
(undiscounted, in the orders' currency: the business case discounts it). The fits are
independent, as in Fader, Hardie & Lee (2005, "RFM and CLV"), which assumes spend per
purchase does not depend on how often a customer buys: `spend_frequency_correlation`
is the check they recommend (near 0 is good).

`orders_lifetime_value(frames, as_of)` does the same from the canonical `orders`
table (accounts are the customers). The business case reads `active_customers` and
`value_per_active_customer_month` (see `crmroi.finance.clv_inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmroi.errors import UserError
from crmroi.improve.clv import BgNbdFit, fit_bgnbd, rfm
from crmroi.improve.spend import GammaGammaFit, fit_gamma_gamma

__all__ = [
    "MIN_CUSTOMERS",
    "WEEKS_PER_MONTH",
    "LifetimeValue",
    "NotEnoughOrders",
    "lifetime_value",
    "orders_lifetime_value",
]

MIN_CUSTOMERS = 20
WEEKS_PER_MONTH = 365.25 / 12 / 7  # 4.348 weeks in an average month


class NotEnoughOrders(UserError):
    """Too few customers with orders (or repeat orders) to fit the models."""


@dataclass(frozen=True)
class LifetimeValue:
    """Both fits and the per-customer expectations over `horizon_weeks`."""

    as_of: pd.Timestamp
    horizon_weeks: float
    bgnbd: BgNbdFit
    spend: GammaGammaFit
    customers: pd.DataFrame
    """customer_id, frequency, recency, T, monetary_value, p_alive,
    expected_purchases, expected_spend, expected_value (money over the horizon)."""

    @property
    def warnings(self) -> list[str]:
        """What the reader must know about the fits (a bound reached, a fallback used)."""
        return [w for w in (self.bgnbd.warning, self.spend.warning) if w]

    @property
    def horizon_months(self) -> float:
        return self.horizon_weeks / WEEKS_PER_MONTH

    @property
    def active_customers(self) -> float:
        """Expected number of customers still active at `as_of`: the sum of P(active)."""
        return float(self.customers["p_alive"].sum())

    @property
    def expected_value(self) -> float:
        """Expected value of all customers over the horizon (money, undiscounted)."""
        return float(self.customers["expected_value"].sum())

    @property
    def value_per_active_customer_month(self) -> float:
        """Expected value over the horizon / active customers / horizon months."""
        active = self.active_customers
        return self.expected_value / active / self.horizon_months if active > 0 else 0.0

    @property
    def spend_frequency_correlation(self) -> float:
        """Pearson correlation of repeat purchases and mean spend among repeat buyers."""
        repeat = self.customers[self.customers["frequency"] > 0]
        if len(repeat) < 3 or repeat["monetary_value"].nunique() < 2:
            return float("nan")
        if repeat["frequency"].nunique() < 2:
            return float("nan")
        return float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])

    def by_segment(self, segment: pd.Series) -> pd.DataFrame:
        """Per segment (`segment`: customer id -> segment name): customers, active
        share, expected purchases and value per customer, and the segment's total."""
        frame = self.customers.assign(
            segment=self.customers["customer_id"].map(segment).fillna("(none)").astype(str)
        )
        out = frame.groupby("segment", as_index=False).agg(
            customers=("customer_id", "size"),
            active_share=("p_alive", "mean"),
            expected_purchases=("expected_purchases", "mean"),
            expected_value=("expected_value", "mean"),
            total_value=("expected_value", "sum"),
        )
        return out.sort_values("total_value", ascending=False, ignore_index=True)


def lifetime_value(
    summary: pd.DataFrame, as_of: pd.Timestamp, horizon_weeks: float = 52.0
) -> LifetimeValue:
    """Fit BG/NBD and Gamma-Gamma on an RFM `summary` (weeks) and value each customer."""
    if len(summary) < MIN_CUSTOMERS:
        raise NotEnoughOrders(
            f"lifetime value needs orders of at least {MIN_CUSTOMERS} customers, not {len(summary)}"
        )
    repeaters = int((summary["frequency"] > 0).sum())
    if repeaters < MIN_CUSTOMERS // 2:
        raise NotEnoughOrders(
            f"lifetime value needs at least {MIN_CUSTOMERS // 2} customers who ordered "
            f"again, not {repeaters}"
        )
    bg = fit_bgnbd(summary)
    gg = fit_gamma_gamma(summary)
    with np.errstate(all="ignore"):  # non-finite results are refused by _check_finite
        x = summary["frequency"].to_numpy(dtype=float)
        t_x = summary["recency"].to_numpy(dtype=float)
        T = summary["T"].to_numpy(dtype=float)
        out = summary[["customer_id", "frequency", "recency", "T", "monetary_value"]].copy()
        out["p_alive"] = bg.p_alive(x, t_x, T)
        out["expected_purchases"] = bg.expected_purchases(horizon_weeks, x, t_x, T)
        out["expected_spend"] = gg.expected_spend(x, summary["monetary_value"].to_numpy(float))
        out["expected_value"] = out["expected_purchases"] * out["expected_spend"]
    _check_finite(out, bg)
    return LifetimeValue(as_of, float(horizon_weeks), bg, gg, out.reset_index(drop=True))


def _check_finite(out: pd.DataFrame, bg: BgNbdFit) -> None:
    """Refuse expectations that are not finite or are negative (never pass them on)."""
    columns = ["p_alive", "expected_purchases", "expected_spend", "expected_value"]
    values = out[columns].to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < -1e-9)
    if bad.any():
        column = columns[int(np.argmax(bad.any(axis=0)))]
        raise UserError(
            f"lifetime value: the fitted models give {int(bad.any(axis=1).sum())} customers "
            f"an unusable {column.replace('_', ' ')} (BG/NBD r={bg.r:.4g}, "
            f"alpha={bg.alpha:.4g}, a={bg.a:.4g}, b={bg.b:.4g}); these orders do not "
            "support a lifetime-value model"
        )
    out[columns] = np.maximum(values, 0.0)


def orders_lifetime_value(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, horizon_weeks: float = 52.0
) -> LifetimeValue:
    """`lifetime_value` of the accounts in the canonical `orders` frame up to `as_of`."""
    orders = frames["orders"]
    if not len(orders):
        raise NotEnoughOrders("lifetime value needs the orders table, which is empty")
    data = orders.rename(columns={"account_id": "customer_id", "ordered_at": "date"})
    data = data[data["amount"].notna()]
    return lifetime_value(rfm(data, as_of), as_of, horizon_weeks)
