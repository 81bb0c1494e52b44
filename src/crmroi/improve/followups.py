"""What needs action today: the follow-ups a sales team must not let slip.

Each rule is a pure function over canonical frames returning rows of `COLUMNS`:

- `stale_deals`: open deals with no activity for `stale_days` days;
- `overdue_tasks`: tasks whose due time (`occurred_at`) has passed in the last
  `window_days` days with nothing logged on the same deal, lead or account since;
- `hot_leads`: open leads scored at or above `threshold` that nobody has contacted;
- `credit_holds`: accounts on credit hold with open deals or planned visits and
  meetings (do not drive an hour to a customer whose credit is frozen);
- `rep_dependencies`: accounts whose contacts over the last `window_days` days rest
  on one rep (at least `share` of them) who is leaving or has left;
- `key_person_accounts`: the largest accounts (by revenue over the same days) that
  rest on one *current* rep (`crmroi.improve.key_person`): introduce a second rep.

Priorities: 1 act today, 2 this week, 3 when convenient.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from crmroi.improve.features import LOST_STATUSES
from crmroi.messages import M_, Message, Num, Pct, Said

COLUMNS = ["kind", "priority", "subject", "subject_id", "account_id", "rep_id", "since", "detail"]
PLANNED_KINDS = ("visit", "meeting")


def rows_of(frame: pd.DataFrame) -> Iterable[Any]:
    """Rows as named tuples (typed loosely: columns vary)."""
    return frame.itertuples()


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The rows as a frame; `detail` kept as objects, so each stays a `Said` (pandas'
    string dtype would turn it into a plain str and lose its message)."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    details = [row.get("detail") for row in rows]
    frame["detail"] = pd.Series(details, index=frame.index, dtype=object)
    return frame


def _open_deals(deals: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    is_closed = deals["is_closed"].fillna(False).astype(bool)
    return deals[~is_closed & ~(deals["created_at"] > as_of)]


def _past(activities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    return activities[activities["occurred_at"] <= as_of]


def stale_deals(
    deals: pd.DataFrame, activities: pd.DataFrame, as_of: pd.Timestamp, stale_days: int = 14
) -> pd.DataFrame:
    """Open deals whose last activity (or creation, if none) is `stale_days`+ days old."""
    open_ = _open_deals(deals, as_of)
    last = _past(activities, as_of).groupby("deal_id")["occurred_at"].max()
    # pandas cannot map through an empty datetime Series (it casts it to float)
    mapped = open_["deal_id"].map(last) if len(last) else pd.Series(pd.NaT, index=open_.index)
    since = mapped.fillna(open_["created_at"])
    idle = (as_of - since).dt.days
    # Assign before filtering: `frame[mask].assign(col=series)` on an empty selection
    # makes pandas take the index of `series`, i.e. one all-NaN row per open deal.
    stale = open_.assign(since_at=since, idle_days=idle)[idle >= stale_days]
    rows = [
        {
            "kind": "stale_deal",
            "priority": 1 if r.idle_days >= 2 * stale_days else 2,
            "subject": "deal",
            "subject_id": r.deal_id,
            "account_id": r.account_id,
            "rep_id": r.owner_rep_id,
            "since": r.since_at,
            "detail": Said(
                M_(
                    "stale_deal",
                    "open deal (%(stage)s) without activity for %(days)s days",
                    stage=str(r.stage),
                    days=Num(int(r.idle_days), grouped=False),
                )
            ),
        }
        for r in rows_of(stale)
    ]
    return _frame(rows)


def _subject(activities: pd.DataFrame) -> pd.DataFrame:
    """What each activity is about: its deal, else its lead, else its account, as two
    columns (`about_kind`, `about_id`; no string building over every activity)."""
    deal, lead, account = (activities[c] for c in ("deal_id", "lead_id", "account_id"))
    kind = np.select(
        [deal.notna().to_numpy(), lead.notna().to_numpy(), account.notna().to_numpy()],
        ["deal", "lead", "account"],
        default="",
    )
    ident = deal.fillna(lead).fillna(account)
    return pd.DataFrame({"about_kind": kind, "about_id": ident}, index=activities.index)


def overdue_tasks(
    activities: pd.DataFrame,
    as_of: pd.Timestamp,
    closed: set[str] | None = None,
    window_days: int = 30,
    grace_days: int = 1,
) -> pd.DataFrame:
    """Tasks due `grace_days` to `window_days` days ago with no later activity on their
    subject; tasks on subjects in `closed` (closed deals, settled leads) are ignored."""
    if activities.empty:
        return _frame([])
    past = _past(activities, as_of)
    past = past.join(_subject(past))
    past = past[past["about_kind"] != ""]
    keys = ["about_kind", "about_id"]
    last = past.groupby(keys, sort=False)["occurred_at"].max().rename("last_at")
    due = past[
        (past["kind"] == "task")
        & (past["occurred_at"] >= as_of - pd.Timedelta(days=window_days))
        & (past["occurred_at"] <= as_of - pd.Timedelta(days=grace_days))
    ]
    due = due.join(last, on=keys)
    about = due["about_kind"] + ":" + due["about_id"].astype(str)
    due = due.assign(about=about)
    overdue = due[(due["last_at"] <= due["occurred_at"]) & ~about.isin(closed or ())]
    rows = [
        {
            "kind": "overdue_task",
            "priority": 1,
            "subject": str(r.about).split(":", 1)[0],
            "subject_id": str(r.about).split(":", 1)[1],
            "account_id": r.account_id,
            "rep_id": r.rep_id,
            "since": r.occurred_at,
            "detail": Said(
                M_(
                    "overdue_task",
                    "task %(task)s due %(due)s, nothing logged since",
                    task=str(r.activity_id),
                    due=pd.Timestamp(r.occurred_at).date(),
                )
            ),
        }
        for r in rows_of(overdue)
    ]
    return _frame(rows)


def hot_leads(
    leads: pd.DataFrame,
    activities: pd.DataFrame,
    scores: pd.Series,
    as_of: pd.Timestamp,
    threshold: float,
) -> pd.DataFrame:
    """Open leads with a score (probability, indexed by lead_id) of at least `threshold`
    and no activity logged against them."""
    contacted = set(_past(activities, as_of)["lead_id"].dropna())
    candidates = leads[leads["lead_id"].isin(scores.index) & ~leads["lead_id"].isin(contacted)]
    probability = candidates["lead_id"].map(scores)
    # Assign before filtering (see `stale_deals`): with no lead above the threshold,
    # `candidates[mask].assign(...)` would list every candidate with null id and rep.
    hot = candidates.assign(probability=probability)[probability >= threshold]
    rows = [
        {
            "kind": "hot_lead",
            "priority": 1,
            "subject": "lead",
            "subject_id": r.lead_id,
            "account_id": None,
            "rep_id": r.owner_rep_id,
            "since": r.created_at,
            "detail": Said(
                M_(
                    "hot_lead",
                    "%(p)s likely to convert (%(source)s), not contacted yet",
                    p=Pct(float(r.probability), 0),
                    source=str(r.source),
                )
            ),
        }
        for r in rows_of(hot.sort_values("probability", ascending=False))
    ]
    return _frame(rows)


def credit_holds(
    accounts: pd.DataFrame, deals: pd.DataFrame, activities: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Accounts on credit hold that still have open deals or planned visits/meetings."""
    held = accounts[accounts["credit_status"].astype("object").str.lower() == "hold"]
    open_deals = _open_deals(deals, as_of).groupby("account_id")["deal_id"].count()
    planned = activities[
        (activities["occurred_at"] > as_of) & activities["kind"].isin(PLANNED_KINDS)
    ]
    next_visit = planned.groupby("account_id")["occurred_at"].min()
    rows = []
    for r in rows_of(held):
        n_open = int(open_deals.get(r.account_id, 0))
        visit = next_visit.get(r.account_id)
        if not n_open and visit is None:
            continue
        rows.append(
            {
                "kind": "credit_hold",
                "priority": 1 if visit is not None else 2,
                "subject": "account",
                "subject_id": r.account_id,
                "account_id": r.account_id,
                "rep_id": r.owner_rep_id,
                "since": visit if visit is not None else as_of,
                "detail": Said(_credit_hold(n_open, visit)),
            }
        )
    return _frame(rows)


def _credit_hold(n_open: int, visit: Any) -> Message:
    """'credit on hold but 2 open deal(s) and a visit or meeting planned 2025-03-07: ...'."""
    day = None if visit is None else pd.Timestamp(visit).date()
    if n_open and day is not None:
        return M_(
            "credit_hold_deals_visit",
            "credit on hold but %(n)s open deal(s) and a visit or meeting planned %(day)s: "
            "clear credit first",
            n=Num(n_open, grouped=False),
            day=day,
        )
    if n_open:
        return M_(
            "credit_hold_deals",
            "credit on hold but %(n)s open deal(s): clear credit first",
            n=Num(n_open, grouped=False),
        )
    return M_(
        "credit_hold_visit",
        "credit on hold but a visit or meeting planned %(day)s: clear credit first",
        day=day,
    )


def rep_dependencies(
    accounts: pd.DataFrame,
    activities: pd.DataFrame,
    reps: pd.DataFrame,
    as_of: pd.Timestamp,
    window_days: int = 365,
    share: float = 0.8,
    min_activities: int = 5,
) -> pd.DataFrame:
    """Accounts whose relationship rests on a rep who is leaving or has left.

    For each rep with a `left_on` date: the accounts where that rep logged `share`+
    of the activities (at least `min_activities`) in the `window_days` days before
    leaving (or before `as_of`, for a rep still there). A departed rep's account is
    listed only while nobody else has logged anything on it since the departure.
    """
    past = _past(activities, as_of)
    past = past[past["account_id"].notna() & past["rep_id"].notna()]
    names = accounts.set_index("account_id")["name"] if "name" in accounts else pd.Series()
    rows = []
    for rep in rows_of(reps[reps["left_on"].notna()]):
        end = min(rep.left_on, as_of)
        window = past[
            (past["occurred_at"] >= end - pd.Timedelta(days=window_days))
            & (past["occurred_at"] <= end)
        ]
        mine = window["rep_id"] == rep.rep_id
        counts = mine.groupby(window["account_id"]).agg(total="size", mine="sum")
        held = counts[
            (counts["total"] >= min_activities) & (counts["mine"] >= share * counts["total"])
        ]
        if rep.left_on <= as_of:
            since = past[past["occurred_at"] > rep.left_on]
            held = held[~held.index.isin(since["account_id"].unique())]
        verb = "left" if rep.left_on <= as_of else "leaves"
        for account_id, r in held.iterrows():
            rows.append(
                {
                    "kind": "rep_dependency",
                    "priority": 1 if rep.left_on <= as_of + pd.Timedelta(days=30) else 2,
                    "subject": "account",
                    "subject_id": account_id,
                    "account_id": account_id,
                    "rep_id": rep.rep_id,
                    "since": rep.left_on,
                    "detail": Said(
                        _dependency(
                            str(names.get(account_id, account_id)),
                            str(rep.rep_id),
                            rep.left_on,
                            left=verb == "left",
                            share=float(r["mine"] / r["total"]),
                            total=int(r["total"]),
                            window_days=window_days,
                        )
                    ),
                }
            )
    return _frame(rows)


def _dependency(
    account: str,
    rep: str,
    left_on: pd.Timestamp,
    *,
    left: bool,
    share: float,
    total: int,
    window_days: int,
) -> Message:
    """The detail of a `rep_dependency` row (English: 'A1: R1 (left 2025-01-31) logged
    90% of 10 activities in the 365 days before, nobody since')."""
    day, pct = left_on.date(), Pct(share, 0)
    if left:
        return M_(
            "rep_dependency_left",
            "%(account)s: %(rep)s (left %(day)s) logged %(share)s of %(total)s activities "
            "in the %(days)s days before, nobody since",
            account=account, rep=rep, day=day, share=pct, total=total, days=window_days,
        )  # fmt: skip
    return M_(
        "rep_dependency_leaving",
        "%(account)s: %(rep)s (leaves %(day)s) logged %(share)s of %(total)s activities "
        "in the %(days)s days before: introduce another rep",
        account=account, rep=rep, day=day, share=pct, total=total, days=window_days,
    )  # fmt: skip


def key_person_accounts(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, top: int = 20
) -> pd.DataFrame:
    """The `top` accounts by revenue over the last year whose relationship rests on one
    current rep (no leaving date: those are `rep_dependencies`)."""
    from crmroi.improve.key_person import key_person_risk

    risk = key_person_risk(frames, as_of)
    held = risk.accounts[(risk.accounts["status"] == "current") & (risk.accounts["revenue"] > 0)]
    rows = [
        {
            "kind": "key_person",
            "priority": 3,
            "subject": "account",
            "subject_id": r.account_id,
            "account_id": r.account_id,
            "rep_id": r.rep_id,
            "since": as_of,
            "detail": Said(
                M_(
                    "key_person",
                    "%(account)s: %(revenue)s of revenue in the last %(days)s days rests on "
                    "%(rep)s (%(share)s of %(activities)s activities): introduce another rep",
                    account=r.account_name if isinstance(r.account_name, str) else r.account_id,
                    revenue=Num(float(r.revenue)),
                    days=int(risk.window_days),
                    rep=str(r.rep_id),
                    share=Pct(float(r.share), 0),
                    activities=int(r.activities),
                )
            ),
        }
        for r in rows_of(held.head(top))
    ]
    return _frame(rows)


def _settled(frames: dict[str, pd.DataFrame]) -> set[str]:
    """Subjects a task can no longer be about: closed deals and converted or lost leads."""
    deals, leads = frames["deals"], frames["leads"]
    done = deals.loc[deals["is_closed"].fillna(False).astype(bool), "deal_id"]
    status = leads["status"].astype("object").fillna("").str.lower()
    settled = leads.loc[
        leads["converted_at"].notna() | status.isin(["converted", *LOST_STATUSES]), "lead_id"
    ]
    return {f"deal:{d}" for d in done} | {f"lead:{lead}" for lead in settled}


def open_lead_scores(
    frames: dict[str, pd.DataFrame], day: pd.Timestamp
) -> tuple[pd.Series | None, str]:
    """Logistic scores (probability 0-1) of the leads open on `day`, by lead id, or None
    and why not: the ranking behind "hot leads not yet contacted"."""
    from crmroi.improve.features import lead_examples
    from crmroi.improve.scoring import NotEnoughHistory, score_kind

    if not len(frames["leads"]):
        return None, ""
    examples = lead_examples(frames["leads"], frames["deals"], frames["reps"], day)
    try:
        result = score_kind(examples)
    except NotEnoughHistory as exc:
        return None, f"hot leads not ranked: {exc}"
    return result.scores.set_index("id")["logistic_probability"], ""


def followups(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    stale_days: int = 14,
    lead_scores: pd.Series | None = None,
    hot_threshold: float = 0.3,
) -> pd.DataFrame:
    """Every follow-up due at `as_of`, most urgent first."""
    deals, activities = frames["deals"], frames["activities"]
    parts = [
        stale_deals(deals, activities, as_of, stale_days),
        overdue_tasks(activities, as_of, _settled(frames)),
        credit_holds(frames["accounts"], deals, activities, as_of),
        rep_dependencies(frames["accounts"], activities, frames["reps"], as_of),
    ]
    if "orders" in frames:
        parts.append(key_person_accounts(frames, as_of))
    if lead_scores is not None:
        parts.append(hot_leads(frames["leads"], activities, lead_scores, as_of, hot_threshold))
    found = [p for p in parts if len(p)]
    if not found:
        return _frame([])
    out = pd.concat(found, ignore_index=True)
    return out.sort_values(["priority", "kind", "since"], kind="stable").reset_index(drop=True)
