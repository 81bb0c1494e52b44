"""Ideal-customer segments: which industries, sizes, regions and sources buy best.

For every value of each dimension (`DIMENSIONS`), over the accounts behind it:

- win rate: won / closed deals, with a 95 % Wilson interval (statsmodels);
- revenue per account: mean of won-deal plus order revenue per account in the base
  currency, with a 95 % normal interval (mean +- 1.96 s / sqrt(n));
- churn: among accounts that bought in the year before the last `churn_days` days,
  the share with no order since, with a 95 % Wilson interval.

An account's source is the source of its first deal. Values with fewer than
`min_accounts` accounts are dropped (too few to aim marketing at).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

DIMENSIONS = ("industry", "segment", "region", "source")
Z95 = 1.959963984540054


def wilson(successes: int, trials: int) -> tuple[float, float, float]:
    """Rate and 95 % Wilson interval (NaNs when there are no trials)."""
    if trials == 0:
        return (np.nan, np.nan, np.nan)
    lo, hi = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    return (successes / trials, float(lo), float(hi))


def account_facts(
    accounts: pd.DataFrame,
    deals: pd.DataFrame,
    orders: pd.DataFrame | None,
    as_of: pd.Timestamp,
    churn_days: int = 365,
) -> pd.DataFrame:
    """One row per account: dimensions, won/closed deals, revenue, churn flags."""
    facts = accounts.set_index("account_id")[["segment", "industry", "region"]].copy()
    deals = deals[deals["account_id"].notna()]
    first = deals.sort_values("created_at").drop_duplicates("account_id")
    facts["source"] = first.set_index("account_id")["source"]
    closed = deals[deals["is_closed"].fillna(False).astype(bool)]
    won = closed[closed["is_won"].fillna(False).astype(bool)]
    facts["closed"] = closed.groupby("account_id").size()
    facts["won"] = won.groupby("account_id").size()
    revenue = won.groupby("account_id")["amount"].sum()
    if orders is not None and len(orders):
        past = orders[orders["ordered_at"] <= as_of]
        revenue = revenue.add(past.groupby("account_id")["amount"].sum(), fill_value=0.0)
        cut = as_of - pd.Timedelta(days=churn_days)
        before = past[
            (past["ordered_at"] > cut - pd.Timedelta(days=365)) & (past["ordered_at"] <= cut)
        ]
        after = past[past["ordered_at"] > cut]
        at_risk = pd.Index(before["account_id"].unique())
        facts["churn_base"] = facts.index.isin(at_risk)
        facts["churned"] = facts["churn_base"] & ~facts.index.isin(after["account_id"].unique())
    else:
        facts["churn_base"] = False
        facts["churned"] = False
    facts["revenue"] = revenue
    for column in ("closed", "won", "revenue"):
        facts[column] = facts[column].fillna(0.0)
    for column in DIMENSIONS:
        facts[column] = facts[column].astype("object").fillna("(none)")
    return facts


def segment_table(facts: pd.DataFrame, dimension: str, min_accounts: int = 10) -> pd.DataFrame:
    """Per value of `dimension`: accounts, win rate, revenue per account, churn."""
    rows = []
    for value, group in facts.groupby(dimension, sort=True):
        n = len(group)
        if n < min_accounts:
            continue
        win = wilson(int(group["won"].sum()), int(group["closed"].sum()))
        churn = wilson(int(group["churned"].sum()), int(group["churn_base"].sum()))
        revenue = group["revenue"].to_numpy(dtype=float)
        half = Z95 * revenue.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        rows.append(
            {
                "dimension": dimension,
                "value": str(value),
                "accounts": n,
                "closed_deals": int(group["closed"].sum()),
                "win_rate": win[0],
                "win_rate_low": win[1],
                "win_rate_high": win[2],
                "revenue_per_account": float(revenue.mean()),
                "revenue_low": float(revenue.mean() - half),
                "revenue_high": float(revenue.mean() + half),
                "churn_base": int(group["churn_base"].sum()),
                "churn_rate": churn[0],
                "churn_low": churn[1],
                "churn_high": churn[2],
            }
        )
    return pd.DataFrame(rows)


def segments(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    dimensions: tuple[str, ...] = DIMENSIONS,
    min_accounts: int = 10,
) -> pd.DataFrame:
    """Every dimension's table, best revenue per account first within each dimension."""
    facts = account_facts(frames["accounts"], frames["deals"], frames.get("orders"), as_of)
    parts = [segment_table(facts, d, min_accounts) for d in dimensions]
    found = [p for p in parts if len(p)]
    if not found:
        return pd.DataFrame()
    out = pd.concat(found, ignore_index=True)
    order = {d: i for i, d in enumerate(dimensions)}
    out = out.assign(_d=out["dimension"].map(order))
    out = out.sort_values(["_d", "revenue_per_account"], ascending=[True, False], kind="stable")
    return out.drop(columns="_d").reset_index(drop=True)
