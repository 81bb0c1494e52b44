"""Key-person risk as money: revenue whose customer relationship rests on one rep.

An account *rests on* a rep when, over the `window_days` days before `as_of`, that
rep logged at least `share` of the account's activities (and the account had at
least `min_activities`), the same rule as the follow-up `rep_dependency`. Its
revenue at risk is what the account bought in the same days: won deals (at
`closed_at`) plus orders (at `ordered_at`), in the base currency; its open pipeline
is the amount of its open deals.

The money is split by the rep's status on `as_of`: *current* (no `left_on`, or one
after the window: `leaving`) and *left*. The measured departure rate (reps who left
over rep-years employed, from the first activity to `as_of`) gives the revenue exposed in a year:
revenue at risk on current reps x departure rate. That is an exposure, not a
forecast of lost revenue: how much of an account leaves with its rep is not
measured here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmroi.messages import M_, Message, Num, Pct

__all__ = ["KeyPersonRisk", "departure_rate", "key_person_risk"]

WINDOW_DAYS = 365
SHARE = 0.8
MIN_ACTIVITIES = 5


@dataclass
class KeyPersonRisk:
    """Accounts resting on one rep, with money, and the totals."""

    as_of: pd.Timestamp
    accounts: pd.DataFrame
    """account_id, account_name, rep_id, status (current, leaving, left), share,
    activities, revenue, open_pipeline; largest revenue first."""
    revenue_total: float
    """Revenue of every account in the window (base currency)."""
    departure_rate: float | None
    """Reps who left a year per rep employed, over the data's span (fraction)."""
    window_days: int = WINDOW_DAYS
    share: float = SHARE

    def revenue_at_risk(self, status: str | None = None) -> float:
        """Revenue in the window of accounts resting on one rep (of `status`, or any)."""
        a = self.accounts if status is None else self.accounts[self.accounts["status"] == status]
        return float(a["revenue"].sum())

    @property
    def current_at_risk(self) -> float:
        """Revenue resting on reps still there (current or leaving)."""
        return self.revenue_at_risk("current") + self.revenue_at_risk("leaving")

    @property
    def exposed_a_year(self) -> float | None:
        """Revenue at risk on reps still there x the measured departure rate."""
        rate = self.departure_rate
        return None if rate is None else self.current_at_risk * rate

    def by_rep(self) -> pd.DataFrame:
        """rep_id, status, accounts, revenue, open_pipeline; largest revenue first."""
        if self.accounts.empty:
            cols = ["rep_id", "status", "accounts", "revenue", "open_pipeline"]
            return pd.DataFrame(columns=cols)
        g = self.accounts.groupby(["rep_id", "status"], as_index=False).agg(
            accounts=("account_id", "size"),
            revenue=("revenue", "sum"),
            open_pipeline=("open_pipeline", "sum"),
        )
        return g.sort_values("revenue", ascending=False, kind="stable").reset_index(drop=True)

    def summary_parts(self) -> list[Message]:
        """The summary as messages (joined, they are `summary()`), for other languages."""
        total = self.revenue_total
        cur = self.current_at_risk
        part: Message | str = ""
        if total:
            part = M_(
                "key_person_share", " (%(share)s of %(total)s)", share=Pct(cur / total, 0),
                total=Num(total),
            )  # fmt: skip
        parts = [
            M_(
                "key_person_risk",
                "key-person risk: %(current)s of revenue in the last %(days)s days%(part)s "
                "rests on one current rep (%(share)s+ of an account's activities)",
                current=Num(cur),
                days=int(self.window_days),
                part=part,
                share=Pct(self.share, 0),
            )
        ]
        if (exposed := self.exposed_a_year) is not None and self.departure_rate is not None:
            parts.append(
                M_(
                    "key_person_exposed",
                    "; reps leave at %(rate)s a year, so %(exposed)s of it is exposed a year",
                    rate=Pct(self.departure_rate, 0),
                    exposed=Num(exposed),
                )
            )
        left = self.revenue_at_risk("left")
        if left:
            parts.append(
                M_("key_person_left", "; %(left)s rested on reps who have left", left=Num(left))
            )
        return parts

    def summary(self) -> str:
        """One sentence with the money."""
        return "".join(str(part) for part in self.summary_parts())

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "window_days": self.window_days,
            "share": self.share,
            "revenue_total": self.revenue_total,
            "revenue_at_risk_current": self.current_at_risk,
            "revenue_at_risk_left": self.revenue_at_risk("left"),
            "departure_rate": self.departure_rate,
            "exposed_a_year": self.exposed_a_year,
            "by_rep": self.by_rep().to_dict(orient="records"),
            "summary": self.summary(),
        }


def departure_rate(reps: pd.DataFrame, since: pd.Timestamp, as_of: pd.Timestamp) -> float | None:
    """Reps who left in (`since`, `as_of`] per rep-year employed in it; None without any
    rep-time."""
    hired = pd.to_datetime(reps["hired_on"])
    left = pd.to_datetime(reps["left_on"])
    lo = hired.where(hired > since, since).fillna(since)
    hi = left.where(left < as_of, as_of).fillna(as_of)
    years = float((hi - lo).dt.days.clip(lower=0).sum()) / 365.0
    if years <= 0:
        return None
    leavers = int(((left > since) & (left <= as_of)).sum())
    return leavers / years


def _revenue(
    deals: pd.DataFrame, orders: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp
) -> pd.Series:
    """Revenue per account in (start, as_of]: won deals at closed_at plus orders."""
    won = deals[deals["is_won"].fillna(False).astype(bool)]
    won = won[(won["closed_at"] > start) & (won["closed_at"] <= as_of)]
    ords = orders[(orders["ordered_at"] > start) & (orders["ordered_at"] <= as_of)]
    parts = [
        won.groupby("account_id")["amount"].sum(),
        ords.groupby("account_id")["amount"].sum(),
    ]
    return pd.concat(parts).groupby(level=0).sum()


def key_person_risk(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    window_days: int = WINDOW_DAYS,
    share: float = SHARE,
    min_activities: int = MIN_ACTIVITIES,
) -> KeyPersonRisk:
    """Key-person risk on `frames` (reps, accounts, deals, activities, orders) at `as_of`."""
    start = as_of - pd.Timedelta(days=window_days)
    acts = frames["activities"]
    seen = acts["occurred_at"][acts["occurred_at"] <= as_of]
    first = seen.min() if len(seen) else start
    acts = acts[
        acts["account_id"].notna()
        & acts["rep_id"].notna()
        & (acts["occurred_at"] > start)
        & (acts["occurred_at"] <= as_of)
    ]
    per = acts.groupby(["account_id", "rep_id"]).size().rename("n").reset_index()
    total = per.groupby("account_id")["n"].sum()
    top = per.sort_values(["account_id", "n"], ascending=[True, False], kind="stable")
    top = top.drop_duplicates("account_id").set_index("account_id")
    top["total"] = total
    top["share"] = top["n"] / top["total"]
    held = top[(top["total"] >= min_activities) & (top["share"] >= share)]
    deals, orders = frames["deals"], frames["orders"]
    revenue = _revenue(deals, orders, start, as_of)
    is_open = ~deals["is_closed"].fillna(False).astype(bool) & ~(deals["created_at"] > as_of)
    pipeline = deals[is_open].groupby("account_id")["amount"].sum()
    reps = frames["reps"].drop_duplicates("rep_id").set_index("rep_id")
    left = (
        pd.to_datetime(reps["left_on"])
        if "left_on" in reps
        else pd.Series(pd.NaT, index=reps.index, dtype="datetime64[ns]")
    )
    names = frames["accounts"].drop_duplicates("account_id").set_index("account_id")["name"]
    # reindex, not map: map() turns an empty date mapper into floats and fails (no reps
    # imported yet); a rep the reps table does not list counts as current
    rep_left = pd.Series(left.reindex(held["rep_id"]).to_numpy(), index=held.index)
    status = np.where(rep_left.isna(), "current", np.where(rep_left <= as_of, "left", "leaving"))
    out = pd.DataFrame(
        {
            "account_id": held.index,
            "account_name": names.reindex(held.index).to_numpy(),
            "rep_id": held["rep_id"].to_numpy(),
            "status": status,
            "share": held["share"].to_numpy(),
            "activities": held["total"].to_numpy(),
            "revenue": revenue.reindex(held.index).fillna(0.0).astype(float).to_numpy(),
            "open_pipeline": pipeline.reindex(held.index).fillna(0.0).astype(float).to_numpy(),
        }
    )
    out = out.sort_values("revenue", ascending=False, kind="stable").reset_index(drop=True)
    return KeyPersonRisk(
        as_of=as_of,
        accounts=out,
        revenue_total=float(revenue.sum()),
        departure_rate=departure_rate(frames["reps"], first, as_of),
        window_days=window_days,
        share=share,
    )
