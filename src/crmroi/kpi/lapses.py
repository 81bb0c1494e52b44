"""Retention customer by customer: the monthly lapse rate per team and month.

For attribution, retention is measured on customers, not on windows. A customer
is an account with a purchase (a won deal at `closed_at`, an order at
`ordered_at`); the data do not say when a customer left, so:

- a customer is **at risk** in every month from the month of its first purchase
  in the data to the month of its last purchase;
- it **lapses** in the month of its last purchase, unless that purchase is
  within `gap` months of the data's last purchase (it may still buy: censored);
- `gap` is the 99th percentile of the gaps between a customer's consecutive
  purchases, in whole months (at least 1): a customer still buying is then
  wrongly counted as lapsed about 1% of the time;
- months from `gap` months before the data's end on are left out (a last
  purchase there is not known to be the last).

The **monthly lapse rate** of a team-month is lapses / customers at risk; annual
retention is `(1 - monthly lapse rate) ** 12` (`annual_retention`). A customer
belongs to the team of its account's owner.

A lapse is dated at the last purchase, before the customer actually leaves, so a
team's lapses in the months just before its go-live partly count departures after
it (at the CRM's lower rate). The panel's `attrs["anticipation"]` (`lapse_lead`,
the 90% quantile of the gaps between purchases, in months) says how many months
before go-live attribution leaves out for that reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmroi.store.store import Store

GAP_QUANTILE = 0.99
LEAD_QUANTILE = 0.9
COLUMNS = ["kpi", "unit", "month", "num", "den", "value"]


def _purchases(store: Store, unit: str) -> pd.DataFrame:
    """Purchases (account, unit, time): won deals by closing time, orders by order time."""
    d = store.table("deals")
    d = d.filter(d.is_won.fill_null(False) & d.closed_at.notnull() & d.account_id.notnull())
    o = store.table("orders")
    o = o.filter(o.ordered_at.notnull() & o.account_id.notnull())
    rows = d.select(acc=d.account_id.cast("string"), at=d.closed_at.cast("timestamp")).union(
        o.select(acc=o.account_id.cast("string"), at=o.ordered_at.cast("timestamp")),
        distinct=False,
    )
    a = store.table("accounts")
    r = store.table("reps")
    key = r.team if unit == "team" else r.rep_id
    owner = a.left_join(r, a.owner_rep_id == r.rep_id).select(
        _acc=a.account_id.cast("string"), unit=key.cast("string")
    )
    frame = rows.left_join(owner, rows.acc == owner._acc).select("acc", "unit", "at").execute()
    frame["at"] = pd.to_datetime(frame["at"])
    return frame[frame["unit"].notna()]


def _month_code(stamps: pd.Series) -> np.ndarray:
    return (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy(dtype=np.int64)


def _gaps(purchases: pd.DataFrame) -> np.ndarray:
    """Days between a customer's consecutive purchases."""
    ordered = purchases.sort_values(["acc", "at"])
    same = ordered["acc"].to_numpy()[1:] == ordered["acc"].to_numpy()[:-1]
    days = np.diff(ordered["at"].to_numpy().astype("datetime64[s]").astype(np.int64)) / 86400.0
    return np.asarray(days[same])


def lapse_gap(purchases: pd.DataFrame, quantile: float = GAP_QUANTILE) -> int:
    """Whole months after which a customer without a purchase counts as lapsed."""
    gaps = _gaps(purchases)
    if gaps.size == 0:
        return 1
    return max(1, int(np.ceil(np.quantile(gaps, quantile) / 30.4375)))


def lapse_lead(purchases: pd.DataFrame) -> int:
    """Months by which a lapse (dated at the last purchase) can precede the customer's
    actual departure: the `LEAD_QUANTILE` (90%) quantile of the gaps between purchases,
    in whole months. A team's lapses in that many months before its go-live partly
    count departures after it, so they are no comparison for the months without the CRM."""
    return lapse_gap(purchases, LEAD_QUANTILE)


def lapse_panel(store: Store, unit: str = "team") -> tuple[pd.DataFrame, int | None]:
    """Monthly lapse rate per `unit` and month (columns as `kpi_panel`, kpi
    "retention_rate": num lapses, den customers at risk), and the gap in months."""
    if store.count("accounts") == 0 or store.count("reps") == 0:
        return pd.DataFrame(columns=COLUMNS), None
    buys = _purchases(store, unit)
    if buys.empty:
        return pd.DataFrame(columns=COLUMNS), None
    gap = lapse_gap(buys)
    lead = lapse_lead(buys)
    month = _month_code(buys["at"])
    buys = buys.assign(m=month)
    per = buys.groupby(["acc", "unit"], as_index=False)["m"].agg(first="min", last="max")
    stop = int(month.max()) - gap  # months from `stop` on are left out
    lapsed = per["last"].to_numpy() < stop
    first = per["first"].to_numpy()
    end = np.where(lapsed, per["last"].to_numpy(), stop - 1)
    keep = end >= first
    first, end, lapsed = first[keep], end[keep], lapsed[keep]
    units = per["unit"].to_numpy()[keep]
    length = end - first + 1
    row = np.repeat(np.arange(first.size), length)
    offset = np.arange(row.size) - np.repeat(np.cumsum(length) - length, length)
    months = first[row] + offset
    event = lapsed[row] & (months == end[row])
    cells = pd.DataFrame({"unit": units[row], "m": months, "num": event * 1.0, "den": 1.0})
    cells = cells.groupby(["unit", "m"], as_index=False)[["num", "den"]].sum()
    start = pd.to_datetime({"year": cells["m"] // 12, "month": cells["m"] % 12 + 1, "day": 1})
    out = pd.DataFrame(
        {
            "kpi": "retention_rate",
            "unit": cells["unit"].astype(str),
            "month": start,
            "num": cells["num"],
            "den": cells["den"],
            "value": cells["num"] / cells["den"],
        }
    )
    out = out[COLUMNS]
    out.attrs["anticipation"] = lead
    return out, gap


def annual_retention(monthly_lapse: float) -> float:
    """Annual retention (fraction) from a monthly lapse rate (fraction)."""
    return float((1.0 - monthly_lapse) ** 12)
