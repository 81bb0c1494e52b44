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
before go-live attribution leaves out for that reason, and `attrs["carry"]`
(`lapse_carry`) the share of the effect the months before those still carry (a
last purchase more than `lead` months before go-live is still followed by a
departure after it for the longest gaps); the estimator divides it out.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from crmroi.store.store import Store

GAP_QUANTILE = 0.99
LEAD_QUANTILE = 0.9
MONTH_DAYS = 30.4375
CARRY_FLOOR = 0.001  # shares of the effect below this are taken as none
MAX_CARRY = 36
COLUMNS = ["kpi", "unit", "month", "num", "den", "value"]


def _purchases(store: Store, unit: str) -> pd.DataFrame:
    """Purchases (account, unit, time, source table): won deals by closing time, orders
    by order time."""
    d = store.table("deals")
    d = d.filter(d.is_won.fill_null(False) & d.closed_at.notnull() & d.account_id.notnull())
    o = store.table("orders")
    o = o.filter(o.ordered_at.notnull() & o.account_id.notnull())
    rows = d.select(
        acc=d.account_id.cast("string"), at=d.closed_at.cast("timestamp"), src=ibis.literal("deals")
    ).union(
        o.select(
            acc=o.account_id.cast("string"),
            at=o.ordered_at.cast("timestamp"),
            src=ibis.literal("orders"),
        ),
        distinct=False,
    )
    a = store.table("accounts")
    r = store.table("reps")
    key = r.team if unit == "team" else r.rep_id
    owner = a.left_join(r, a.owner_rep_id == r.rep_id).select(
        _acc=a.account_id.cast("string"), unit=key.cast("string")
    )
    frame = rows.left_join(owner, rows.acc == owner._acc).select("acc", "unit", "at", "src")
    frame = frame.execute()
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
    return max(1, int(np.ceil(np.quantile(gaps, quantile) / MONTH_DAYS)))


def lapse_lead(purchases: pd.DataFrame) -> int:
    """Months by which a lapse (dated at the last purchase) can precede the customer's
    actual departure: the `LEAD_QUANTILE` (90%) quantile of the gaps between purchases,
    in whole months. A team's lapses in that many months before its go-live partly
    count departures after it, so they are no comparison for the months without the CRM."""
    return lapse_gap(purchases, LEAD_QUANTILE)


def lapse_carry(purchases: pd.DataFrame, lead: int, floor: float = CARRY_FLOOR) -> list[float]:
    """Share of the CRM's effect on the lapse rate carried by each month before go-live.

    A lapse dated at time t stands for a departure after the next `x` days, the
    time a purchase would have followed; it is after go-live when x exceeds the
    days from t to go-live. Under a hazard that changes at go-live, a last purchase
    x days before it carries the change in the share G(x) of the gaps between
    purchases longer than x (the next purchase and the departure race: the gap a
    purchase is followed by and the time from a last purchase to the departure
    share that distribution). Element k - 1 is G averaged over month k before
    go-live (days (k - 1) M to k M, M = 30.4375); elements up to `lead` (left out
    anyway) are given too, and the list ends where the share falls below `floor`.
    """
    gaps = _gaps(purchases) / MONTH_DAYS
    if gaps.size == 0:
        return []
    shares: list[float] = []
    for k in range(1, MAX_CARRY + 1):
        share = float(np.clip(gaps - (k - 1), 0.0, 1.0).mean())
        if k > lead and share < floor:
            break
        shares.append(share)
    return shares


def lapse_panel(
    store: Store, unit: str = "team", stationary: bool = False
) -> tuple[pd.DataFrame, int | None]:
    """Monthly lapse rate per `unit` and month (columns as `kpi_panel`, kpi
    "retention_rate": num lapses, den customers at risk), and the gap in months.
    `stationary`: see `lapse_cells`."""
    if store.count("accounts") == 0 or store.count("reps") == 0:
        return pd.DataFrame(columns=COLUMNS), None
    return lapse_cells(_purchases(store, unit), stationary)


def lapse_cells(buys: pd.DataFrame, stationary: bool = False) -> tuple[pd.DataFrame, int | None]:
    """`lapse_panel` on purchases (columns acc, unit, at: a timestamp; optional src: the
    table a purchase comes from).

    `stationary` (for one company series, the time-series path): every customer is at
    risk from the month **after** its first purchase in the data, and months before
    the first month every purchase source (`src`) has rows are left out. A customer
    first seen in the data's first months may have bought before (left-truncated), and
    a first observed purchase is likelier than an ordinary month to be the last, so
    the default series runs high in the data's first months. Given a customer still
    active at a month's start, whether its last purchase falls in that month does not
    depend on its past, so this series has the same expected level in every month
    (under constant churn and purchase rates), the first ones included.
    """
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
    if stationary:
        complete = int(month.min())
        if "src" in buys.columns:
            complete = int(buys.groupby("src")["m"].min().max())
        first = np.maximum(first + 1, complete)
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
    out.attrs["carry"] = lapse_carry(buys, lead)
    return out, gap


def annual_retention(monthly_lapse: float) -> float:
    """Annual retention (fraction) from a monthly lapse rate (fraction)."""
    return float((1.0 - monthly_lapse) ** 12)
