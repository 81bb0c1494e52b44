"""Deal KPIs by the month a deal was created: the panel of deals *worked* in each month.

The CRM acts on deals worked with it, so for attribution a deal counts in the month
it was created (exposure "created"): a team's deals created after its go-live are
the treated ones, whatever month they close in. Placed by closing month instead,
the first live months mix deals worked before go-live with deals worked after it
(on the demo the worked-with-CRM share of a team's closed deals ramps 0.06, 0.50,
0.80, 0.91, 0.97 over the first five live months), which biases every estimator.

Per unit (team or rep) and creation month:

- win_rate: deals won / deals closed (num, den);
- avg_deal_size: won amount / won deals with an amount (USD), the segment mix held
  (`mix_held_amount`: each deal at its amount relative to its account segment's mean);
- sales_volume, won_deals: won amount (USD) and won deals (totals, den = 1);
- sales_cycle_days: median days from created_at to closed_at of won deals;
- gross_margin: (amount - cost) / amount of won deals with a cost;
- calls_per_won_deal: calls on the cohort's deals (activities of kind "call" with
  their deal_id, whenever they happened) / won deals. Calls with no deal_id cannot
  be placed in a cohort and are left out (`calls_without_deal` counts them);
  cohorts created before the month of the first recorded activity are left out
  (their earlier calls were not recorded); the value is less its ratio bias
  (`ratio_bias_corrected`), num and den stay the sums.

Column `deals` (beyond `kpi_panel`'s): the deals created in the cell, what the staggered
path imputes calls per won deal's numerator and denominator per (`crmroi.attribution.ratio`;
NaN for sales_cycle_days).

Deals created recently have not all closed yet; a cohort month is kept only when
the `MATURITY_QUANTILE` (95%) quantile of closed deals' cycle lengths fits between
the month's end and the data's last date, so cohorts are compared when (nearly)
complete. Months dropped for that are stated by `mature_until`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmroi.messages import M_, Month, Said
from crmroi.store.store import Store

COHORT_KPIS: tuple[str, ...] = (
    "win_rate",
    "avg_deal_size",
    "sales_volume",
    "won_deals",
    "sales_cycle_days",
    "gross_margin",
    "calls_per_won_deal",
)
MATURITY_QUANTILE = 0.95
COLUMNS = ["kpi", "unit", "month", "num", "den", "value"]


def _deals(store: Store, unit: str, calls: bool = False) -> pd.DataFrame:
    """Deals with a creation time: unit, created, closed, won, closed flag, amount, cost
    (and with `calls` the number of calls linked to each deal)."""
    d = store.table("deals")
    r = store.table("reps")
    key = r.team if unit == "team" else r.rep_id
    lookup = r.select(_rep=r.rep_id, _unit=key.cast("string"))
    d = d.filter(d.created_at.notnull())
    j = d.left_join(lookup, d.owner_rep_id == lookup._rep)
    accounts = store.table("accounts")
    segments = accounts.select(_account=accounts.account_id, _segment=accounts.segment)
    j = j.left_join(segments, j.account_id == segments._account)
    if calls:
        a = store.table("activities")
        a = a.filter((a.kind == "call") & a.deal_id.notnull())
        per_deal = a.group_by(_deal=a.deal_id).aggregate(_calls=a.count())
        j = j.left_join(per_deal, j.deal_id == per_deal._deal)
    extra = {"calls": j._calls.fill_null(0).cast("float64")} if calls else {}
    frame = j.select(
        **extra,
        unit=j._unit,
        segment=j._segment,
        created=j.created_at,
        closed=j.closed_at,
        won=j.is_won.fill_null(False) & j.closed_at.notnull(),
        is_closed=(j.is_closed.fill_null(False) | j.is_won.fill_null(False))
        & j.closed_at.notnull(),
        amount=j.amount.cast("float64"),
        cost=j.cost.cast("float64"),
    ).execute()
    frame["created"] = pd.to_datetime(frame["created"])
    frame["closed"] = pd.to_datetime(frame["closed"])
    if not calls:
        frame["calls"] = 0.0
    return frame


def mature_until(deals: pd.DataFrame) -> pd.Timestamp | None:
    """First creation month too recent to compare: its deals have not mostly closed yet."""
    closed = deals[deals["is_closed"]]
    if closed.empty:
        return None
    days = (closed["closed"] - closed["created"]).dt.total_seconds() / 86400.0
    horizon = float(np.quantile(days.clip(lower=0.0), MATURITY_QUANTILE))
    last = max(deals["created"].max(), deals["closed"].max())
    limit = last - pd.Timedelta(days=horizon)
    # a month counts when its last day plus the horizon is within the data
    month = limit.to_period("M")
    if limit < (month + 1).to_timestamp() - pd.Timedelta(days=1):
        month = month - 1
    return (month + 1).to_timestamp()


def cohort_panel(
    store: Store, names: Sequence[str], unit: str = "team", mix_before: dt.date | None = None
) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    """Deal KPIs per unit and creation month (columns as `kpi_panel`), and the maturity cut.

    `mix_before`: the first go-live; deals won before it are the reference of deal size's
    segment mix (`mix_held_amount`)."""
    wanted = [n for n in names if n in COHORT_KPIS]
    if not wanted or store.count("deals") == 0:
        return pd.DataFrame(columns=COLUMNS), None
    deals = _deals(store, unit, calls="calls_per_won_deal" in wanted)
    deals = deals[deals["unit"].notna()]
    cut = mature_until(deals)
    if cut is not None:
        deals = deals[deals["created"] < cut]
    if deals.empty:
        return pd.DataFrame(columns=COLUMNS), cut
    deals = deals.assign(month=deals["created"].dt.to_period("M").dt.to_timestamp())
    won = deals["won"]
    amount = deals["amount"]
    before = pd.Timestamp(mix_before) if mix_before is not None else None
    sized, segments = mix_held_amount(deals, before)
    with_cost = won & deals["cost"].notna() & amount.notna() & (amount > 0)
    parts = pd.DataFrame(
        {
            "unit": deals["unit"],
            "month": deals["month"],
            "closed": deals["is_closed"].astype(float),
            "won": won.astype(float),
            "won_amount": amount.where(won, 0.0).fillna(0.0),
            "won_amount_mix_held": sized.where(won, 0.0).fillna(0.0),
            "won_has_amount": (won & amount.notna()).astype(float),
            "margin": (amount - deals["cost"]).where(with_cost, 0.0),
            "margin_base": amount.where(with_cost, 0.0),
            "calls": deals["calls"],
            "calls_won": deals["calls"] * won.astype(float),
            "deals": 1.0,
        }
    )
    cells = parts.groupby(["unit", "month"], as_index=False).sum()
    frames = []
    ratio = {
        "win_rate": ("won", "closed"),
        "avg_deal_size": ("won_amount_mix_held", "won_has_amount"),
        "gross_margin": ("margin", "margin_base"),
        "calls_per_won_deal": ("calls", "won"),
    }
    for name in wanted:
        if name in ratio:
            num_col, den_col = ratio[name]
            sub = cells[cells[den_col] > 0]
            if name == "calls_per_won_deal":
                sub = sub[sub["month"] >= _first_activity_month(store)]
            value = sub[num_col] / sub[den_col]
            if name == "calls_per_won_deal":
                value = ratio_bias_corrected(
                    sub["calls"], sub["won"], sub["calls_won"], sub["deals"]
                )
            frame = pd.DataFrame(
                {"unit": sub["unit"], "month": sub["month"], "num": sub[num_col],
                 "den": sub[den_col], "value": value, "deals": sub["deals"]}
            )  # fmt: skip
        elif name in ("sales_volume", "won_deals"):
            column = "won_amount" if name == "sales_volume" else "won"
            frame = pd.DataFrame(
                {"unit": cells["unit"], "month": cells["month"], "num": cells[column],
                 "den": 1.0, "value": cells[column], "deals": cells["deals"]}
            )  # fmt: skip
        else:  # sales_cycle_days
            w = deals[won & (deals["closed"] >= deals["created"])]
            days = (w["closed"] - w["created"]).dt.total_seconds() / 86400.0
            g = days.groupby([w["unit"], w["month"]])
            frame = pd.DataFrame({"value": g.median(), "den": g.size().astype(float)})
            frame = frame.reset_index().assign(num=np.nan, deals=np.nan)
        frame.insert(0, "kpi", name)
        frames.append(frame[[*COLUMNS, "deals"]])
    out = pd.concat(frames, ignore_index=True)
    out["month"] = pd.to_datetime(out["month"])
    out.attrs["deal_size_segments"] = segments
    return out, cut


def mix_held_amount(
    deals: pd.DataFrame, before: pd.Timestamp | None = None
) -> tuple[pd.Series, list[str]]:
    """Each deal's amount with the segment mix held: amount x (mean amount of the
    reference won deals / mean amount of the reference won deals of its account's
    segment), and the segments (deals with no segment form one more group). The reference
    is the won deals created before `before` (the first go-live: deals no team worked
    with the CRM) when every segment has some, else every won deal. With fewer than two
    segments among the won deals the amounts are returned as they are, and no segments.

    Average deal size is a mean of deals whose size depends mostly on the segment (on the
    demo 12,000 to 60,000 USD); a team-month's mix of ~20 won deals moves it far more than
    a CRM would. Held at each segment's mean, the team-month's value is the mean size of
    its deals relative to deals of their segment, in USD of the average deal: a relative
    effect the same in every segment is measured exactly (with the reference before
    go-live), the noise of the mix is gone, and a change of the mix itself (the CRM
    winning more Enterprise deals) is not counted.
    """
    amount = deals["amount"]
    segment = deals["segment"].astype("object").where(deals["segment"].notna(), "")
    sized = deals["won"] & amount.notna()
    if segment[sized].nunique() < 2:
        return amount, []
    reference = sized
    if before is not None:
        early = sized & (deals["created"] < before)
        if set(segment[early]) == set(segment[sized]):
            reference = early
    mean_of = amount[reference].groupby(segment[reference]).mean()
    overall = float(amount[reference].mean())
    factor = segment.map(overall / mean_of.where(mean_of > 0))
    held = (amount * factor).where(factor.notna(), amount)
    return held, sorted(str(s) if s else "(none)" for s in mean_of.index)


def ratio_bias_corrected(
    calls: pd.Series, won: pd.Series, calls_won: pd.Series, deals: pd.Series
) -> pd.Series:
    """Calls per won deal of each cell, C / W, less its first-order bias as a ratio of two
    sums over the cell's n deals (Cochran, *Sampling Techniques*, 1977, 6.8):

        bias = (R s_w^2 - s_cw) / (n w^2),  R = C / W, w = W / n,
        s_w^2 = (W - W^2 / n) / (n - 1)  (won is 0 or 1),  s_cw = (sum c w - C W / n) / (n - 1)

    with c a deal's calls and w its won flag. Calls fall on lost deals too, so C / W of a
    cell of ~20 won deals runs ~2% above the calls a won deal needs (on the demo, with
    calls = 15 (p / 2 + won / 2), the bias is 7.5 (1 - p) / W). The live cells are
    weighted by W, which cancels it on their side, but counterfactuals imputed from one
    team's cell keep it; corrected, they do not. Cells of a single deal are left as they
    are."""
    n = deals.astype(float)
    r = calls / won
    w_bar = won / n
    with np.errstate(divide="ignore", invalid="ignore"):
        s_w = (won - won**2 / n) / (n - 1.0)
        s_cw = (calls_won - calls * won / n) / (n - 1.0)
        bias = (r * s_w - s_cw) / (n * w_bar**2)
    return r - bias.where(n > 1, 0.0).fillna(0.0)


def _first_activity_month(store: Store) -> pd.Timestamp:
    """The month of the first activity: earlier cohorts' calls are partly unrecorded."""
    a = store.table("activities")
    first = a.aggregate(lo=a.occurred_at.min()).execute()["lo"].iloc[0]
    if first is None or pd.isna(first):
        return pd.Timestamp.max
    return pd.Timestamp(first).to_period("M").to_timestamp()


def calls_without_deal(store: Store) -> int:
    """Calls with no deal_id: left out of calls per won deal by creation month."""
    a = store.table("activities")
    return int(a.filter((a.kind == "call") & a.deal_id.isnull()).count().execute())


def describe_cut(cut: pd.Timestamp | None) -> str | None:
    """The note saying which creation months were too recent to compare."""
    if cut is None:
        return None
    day: dt.date = cut.date()
    return Said(
        M_(
            "attribution_cut",
            "deals created from %(month)s on left out: most of them had not closed yet",
            month=Month(day),
        )
    )
