"""Adoption by week, per team and rep: who works in the CRM, records created per rep-day,
open deals with a next activity, and completeness of the fields the KPIs need.

- A rep *works in the CRM* in a week (Monday to Sunday) by the monthly rule of
  `crmroi.kpi.adoption`: their team is live (its go-live is on or before the week's
  last day) and they logged hand-entered activities (meetings, tasks) on at least
  `min_day_share` of the working days (Monday to Friday) they were employed that
  week, up to `until`. Reps with no employed working day in the week are not counted.
- *Records created per rep-day*: deals and leads the rep owns created that week, and
  hand-entered activities the rep logged, over the employed working days of reps of
  live teams. CRM exports carry the owner, not the creator, of a deal or lead: the
  owner stands in for the creator.
- *Open deals with a next activity*, on the as-of day: deals created on or before it
  and not closed by it, with an activity linked to the deal (`deal_id`) dated after
  it. The activities table has no due date or status, so only activities dated after
  the as-of day are known to be scheduled; when the table holds none at all, the
  export carries no scheduled activities and the measure is unavailable (never 0%).
- *Completeness*: the share of rows with each field the KPIs read filled (not null,
  not blank), over the rows the field applies to (close date: closed deals).

Pure: frames in, figures out; `measure_usage` reads a `crmroi.store.Store`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmroi.kpi.adoption import HAND_KINDS, MIN_DAY_SHARE, as_day
from crmroi.messages import M_, N_, Said
from crmroi.store.schema import RECORD_DATES

__all__ = [
    "COMPLETENESS_FIELDS",
    "REP_WEEK_COLUMNS",
    "Completeness",
    "NextActivity",
    "RepWeek",
    "Usage",
    "UsageWeek",
    "field_completeness",
    "last_recorded_day",
    "measure_usage",
    "next_activity_share",
    "weekly_usage",
]

COMPLETENESS_FIELDS: dict[str, tuple[str, ...]] = {
    "deals": ("amount", "created_at", "closed_at", "source", "account_id", "owner_rep_id"),
    "leads": ("created_at", "source", "owner_rep_id"),
    "activities": ("rep_id",),
    "reps": ("team", "hired_on"),
}
"""Fields checked per table; `deals.closed_at` over closed deals only."""

REP_WEEK_COLUMNS = (
    "week", "rep_id", "team", "live", "active", "work_days", "days_logged",
    "deals", "leads", "activities",
)  # fmt: skip
"""The order of `RepWeek.to_json`'s list."""


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _team(v: Any) -> str:
    return str(v) if v is not None and v == v else ""


@dataclass(frozen=True)
class RepWeek:
    """One rep in one week: employed working days, days with a hand-entered activity,
    and records created (deals and leads owned, hand-entered activities)."""

    week: dt.date
    rep_id: str
    team: str
    live: bool
    work_days: int
    days_logged: int
    active: bool
    deals: int
    leads: int
    activities: int

    def to_json(self) -> list[Any]:
        return [
            self.week.isoformat(),
            self.rep_id,
            self.team,
            self.live,
            self.active,
            self.work_days,
            self.days_logged,
            self.deals,
            self.leads,
            self.activities,
        ]


@dataclass(frozen=True)
class UsageWeek:
    """One week: reps employed, of them in a live team and working in the CRM, and the
    records live reps created over their employed working days."""

    week: dt.date
    employed: int
    live: int
    active: int
    live_days: int
    records: int
    by_team: dict[str, tuple[int, int]] = field(default_factory=dict)
    """team -> (active, employed)."""

    @property
    def share(self) -> float | None:
        """Active reps / employed reps (fraction)."""
        return self.active / self.employed if self.employed else None

    @property
    def records_per_rep_day(self) -> float | None:
        """Records created by live reps per employed working day (records / rep-day)."""
        return self.records / self.live_days if self.live_days else None

    def to_json(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(),
            "employed": self.employed,
            "live": self.live,
            "active": self.active,
            "share": self.share,
            "records_per_rep_day": self.records_per_rep_day,
            "by_team": {t: {"active": a, "employed": e} for t, (a, e) in self.by_team.items()},
        }


def weekly_usage(
    reps: pd.DataFrame,
    events: pd.DataFrame,
    go_live: dt.date,
    go_live_by_team: dict[str, dt.date] | None = None,
    *,
    until: dt.date | None = None,
    min_day_share: float = MIN_DAY_SHARE,
) -> tuple[list[UsageWeek], list[RepWeek]]:
    """Weeks from go-live's to `until`'s (default: the last event) from `reps` (rep_id,
    team, hired_on, left_on) and `events` (rep_id, day, what: 'activity' | 'deal' |
    'lead', n: records that day)."""
    by_team = go_live_by_team or {}
    days = [d for v in events["day"] if (d := as_day(v)) is not None]
    last = until or (max(days) if days else None)
    if last is None or last < go_live:
        return [], []
    counts: dict[tuple[str, dt.date], dict[str, int]] = {}
    logged: dict[tuple[str, dt.date], set[dt.date]] = {}
    for rep, v, what, n in zip(
        events["rep_id"], events["day"], events["what"], events["n"], strict=True
    ):
        d = as_day(v)
        if d is None or rep is None or d > last:
            continue
        key = (str(rep), _monday(d))
        cell = counts.setdefault(key, {"activity": 0, "deal": 0, "lead": 0})
        cell[str(what)] = cell.get(str(what), 0) + int(n)
        if what == "activity" and int(n) > 0:
            logged.setdefault(key, set()).add(d)
    rows = list(zip(reps["rep_id"], reps["team"], reps["hired_on"], reps["left_on"], strict=True))
    weeks: list[UsageWeek] = []
    rep_weeks: list[RepWeek] = []
    week = _monday(go_live)
    while week <= last:
        end = min(week + dt.timedelta(days=7), last + dt.timedelta(days=1))
        employed = live = active = live_days = records = 0
        teams: dict[str, list[int]] = {}
        for rep_id, team_raw, hired_raw, left_raw in rows:
            hired, left = as_day(hired_raw), as_day(left_raw)
            lo = max(week, hired) if hired else week
            hi = min(end, left) if left else end
            work = int(np.busday_count(lo, hi)) if lo < hi else 0
            if work == 0:
                continue
            team = _team(team_raw)
            employed += 1
            tally = teams.setdefault(team, [0, 0])
            tally[1] += 1
            key = (str(rep_id), week)
            cell = counts.get(key, {})
            n_days = len(logged.get(key, ()))
            is_live = by_team.get(team, go_live) < end
            is_active = is_live and n_days > 0 and n_days >= min_day_share * work
            if is_live:
                live += 1
                live_days += work
                records += sum(cell.values())
            if is_active:
                active += 1
                tally[0] += 1
            rep_weeks.append(
                RepWeek(
                    week,
                    str(rep_id),
                    team,
                    is_live,
                    work,
                    n_days,
                    is_active,
                    cell.get("deal", 0),
                    cell.get("lead", 0),
                    cell.get("activity", 0),
                )
            )
        weeks.append(
            UsageWeek(
                week,
                employed,
                live,
                active,
                live_days,
                records,
                {t: (a, e) for t, (a, e) in sorted(teams.items())},
            )
        )
        week += dt.timedelta(days=7)
    return weeks, rep_weeks


@dataclass(frozen=True)
class NextActivity:
    """Open deals on `as_of` and how many have an activity dated after it; `reason`
    says why the share is unavailable."""

    as_of: dt.date
    open_deals: int
    with_next: int | None
    reason: str | None = None

    @property
    def share(self) -> float | None:
        if self.with_next is None or not self.open_deals:
            return None
        return self.with_next / self.open_deals

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "open_deals": self.open_deals,
            "with_next_activity": self.with_next,
            "share": self.share,
            "unavailable": self.reason,
        }


def next_activity_share(
    deals: pd.DataFrame, activities: pd.DataFrame, as_of: dt.date
) -> NextActivity:
    """Open deals on `as_of` from `deals` (deal_id, created_at, closed_at, is_closed) with
    an activity of `activities` (deal_id, occurred_at) dated after `as_of`."""
    open_ids: set[str] = set()
    for deal_id, created, closed, is_closed in zip(
        deals["deal_id"], deals["created_at"], deals["closed_at"], deals["is_closed"], strict=True
    ):
        c, shut = as_day(created), as_day(closed)
        if c is None or c > as_of:
            continue
        if shut is not None and shut <= as_of:
            continue
        if shut is None and is_closed is True:
            continue  # closed on an unknown day: not open on the as-of day
        open_ids.add(str(deal_id))
    later = [
        (deal_id, d)
        for deal_id, v in zip(activities["deal_id"], activities["occurred_at"], strict=True)
        if (d := as_day(v)) is not None and d > as_of
    ]
    if not later:
        return NextActivity(
            as_of,
            len(open_ids),
            None,
            Said(
                M_(
                    "next_activity_no_scheduled",
                    "the activities table holds no activity dated after %(day)s and has "
                    "no due date or status: the export carries no scheduled activities",
                    day=as_of,
                )
            ),
        )
    if not open_ids:
        no_open = M_("next_activity_no_open", "no open deals on %(day)s", day=as_of)
        return NextActivity(as_of, 0, None, Said(no_open))
    linked = {str(deal_id) for deal_id, _ in later if deal_id is not None and deal_id == deal_id}
    return NextActivity(as_of, len(open_ids), len(open_ids & linked))


@dataclass(frozen=True)
class Completeness:
    """table -> field -> (rows with the field filled, rows it applies to); `by_team` the
    same per team of the row's rep (deals and leads: owner; activities: rep; '' unknown)."""

    fields: dict[str, dict[str, tuple[int, int]]]
    by_team: dict[str, dict[str, dict[str, tuple[int, int]]]] = field(default_factory=dict)
    """table -> team -> field -> (filled, rows)."""

    def share(self, table: str, name: str) -> float | None:
        filled, total = self.fields[table][name]
        return filled / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {
            t: {
                f: {"filled": a, "rows": n, "share": a / n if n else None}
                for f, (a, n) in cols.items()
            }
            for t, cols in self.fields.items()
        }

    def by_team_json(self) -> dict[str, Any]:
        return {
            t: {team: {f: {"filled": a, "rows": n} for f, (a, n) in cols.items()}
                for team, cols in teams.items()}
            for t, teams in self.by_team.items()
        }  # fmt: skip


def _filled(s: pd.Series) -> pd.Series:
    ok = s.notna()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        ok &= s.astype("string").str.strip().fillna("") != ""
    return ok


_REP_COLUMN = {"deals": "owner_rep_id", "leads": "owner_rep_id", "activities": "rep_id"}


def _counts(frame: pd.DataFrame, table: str, names: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    cols: dict[str, tuple[int, int]] = {}
    for name in names:
        rows = frame
        if table == "deals" and name == "closed_at":
            rows = frame[frame["is_closed"].fillna(False).astype(bool)]
        cols[name] = (int(_filled(rows[name]).sum()), len(rows))
    return cols


def field_completeness(
    frames: dict[str, pd.DataFrame], teams: dict[str, str] | None = None
) -> Completeness:
    """Completeness of `COMPLETENESS_FIELDS` in `frames` (table -> frame); closed deals
    are those with `is_closed` true. With `teams` (rep_id -> team), also per team."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    by_team: dict[str, dict[str, dict[str, tuple[int, int]]]] = {}
    for table, names in COMPLETENESS_FIELDS.items():
        frame = frames.get(table)
        if frame is None:
            continue
        out[table] = _counts(frame, table, names)
        rep = _REP_COLUMN.get(table)
        if teams is None or rep is None:
            continue
        team_of = frame[rep].map(lambda r: teams.get(str(r), "") if r == r and r else "")
        by_team[table] = {
            str(team): _counts(part, table, names)
            for team, part in frame.groupby(team_of.to_numpy(), sort=True)
        }
    return Completeness(out, by_team)


@dataclass(frozen=True)
class Usage:
    """Weekly adoption, per rep, next activities and completeness, with the settings."""

    weeks: list[UsageWeek]
    rep_weeks: list[RepWeek]
    next_activity: NextActivity
    completeness: Completeness
    min_day_share: float = MIN_DAY_SHARE
    licensed_users: Any = None
    """The share of licensed users active by week (`crmroi.kpi.logins.LoginAdoption`),
    or None without a user-activity export."""

    def to_json(self) -> dict[str, Any]:
        return {
            "definition": (
                "weeks Monday-Sunday; active: rep of a live team who logged meetings or tasks "
                f"on at least {self.min_day_share:.0%} of the working days employed; records: "
                "deals and leads owned (the owner stands in for the creator) and meetings or "
                "tasks logged, per employed working day of live reps"
            ),
            "weeks": [w.to_json() for w in self.weeks],
            "by_rep_columns": list(REP_WEEK_COLUMNS),
            "by_rep": [r.to_json() for r in self.rep_weeks],
            "next_activity": self.next_activity.to_json(),
            "completeness": self.completeness.to_json(),
            "completeness_by_team": self.completeness.by_team_json(),
            "licensed_users": (
                self.licensed_users.to_json() if self.licensed_users is not None else None
            ),
        }


def last_recorded_day(store: Any, today: dt.date | None = None) -> dt.date | None:
    """The workspace's last day: its latest lead, deal, activity or order, never later
    than `today` (default: the real today). A live export ends today and activities
    dated after it are scheduled; a snapshot ends at its last record (the rule of
    `crmroi.improve.frames.data_date`)."""
    cap = today or dt.date.today()
    hi = dt.datetime.combine(cap + dt.timedelta(days=1), dt.time())
    days = []
    for table, column in RECORD_DATES:
        t = store.table(table)
        col = t[column]
        days.append(as_day(t.filter(col < hi)[column].max().execute()))
    known = [d for d in days if d is not None]
    return min(max(known), cap) if known else None


def measure_usage(store: Any, as_of: dt.date, *, min_day_share: float = MIN_DAY_SHARE) -> Usage:
    """`Usage` on `store` (a `crmroi.store.Store`) up to `as_of`, or up to the workspace's
    last day (`last_recorded_day`) when that is earlier: weeks past the data are not
    zeros, and only activities dated after that day count as scheduled."""
    from crmroi.kpi.windows import recorded_go_live

    company, by_team = recorded_go_live(store.settings(), N_("adoption is measured from go-live"))
    last = last_recorded_day(store)
    if last is not None and last < as_of:
        as_of = last
    reps = store.table("reps").select("rep_id", "team", "hired_on", "left_on").to_pandas()
    parts = []
    a = store.table("activities")
    hand = a.filter(a.kind.isin(list(HAND_KINDS)) & a.rep_id.notnull() & a.occurred_at.notnull())
    parts.append(("activity", hand.rep_id, hand.occurred_at, hand))
    for table, what in (("deals", "deal"), ("leads", "lead")):
        t = store.table(table)
        t = t.filter(t.owner_rep_id.notnull() & t.created_at.notnull())
        parts.append((what, t.owner_rep_id, t.created_at, t))
    frames = []
    for what, rep, when, t in parts:
        m = t.mutate(rep_id=rep, day=when.date())
        f = m.group_by(["rep_id", "day"]).aggregate(n=m.count()).to_pandas()
        f["what"] = what
        frames.append(f)
    events = pd.concat(frames, ignore_index=True)
    weeks, rep_weeks = weekly_usage(
        reps, events, company, by_team, until=as_of, min_day_share=min_day_share
    )
    deals = store.table("deals")
    later = a.filter(a.occurred_at.date() > as_of).select("deal_id", "occurred_at").to_pandas()
    nxt = next_activity_share(
        deals.select("deal_id", "created_at", "closed_at", "is_closed").to_pandas(), later, as_of
    )
    frames_c = {
        t: store.table(t).select(*cols, *(("is_closed",) if t == "deals" else ())).to_pandas()
        for t, cols in COMPLETENESS_FIELDS.items()
    }
    teams = {str(r): _team(t) for r, t in zip(reps["rep_id"], reps["team"], strict=True)}
    from crmroi.kpi.logins import measure_login_adoption

    logins = measure_login_adoption(store, period="week", until=as_of, min_day_share=min_day_share)
    return Usage(weeks, rep_weeks, nxt, field_completeness(frames_c, teams), min_day_share, logins)
