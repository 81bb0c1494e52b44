"""Adoption measured from the workspace: the share of sales reps working in the CRM,
month by month.

A rep *works in the CRM* in a calendar month when their team is live (its go-live
is on or before the month's last day: `go_live_by_team`, else the workspace's
`go_live`) and they logged hand-entered activities (`HAND_KINDS`: meetings and
tasks, which nothing logs automatically) on at least `min_day_share` of the
working days (Monday to Friday) they were employed that month. Calls, e-mails and
chats are left out: telephony and e-mail integration log them whether or not the
rep opens the CRM.

The share is over every rep employed in the month (`hired_on` <= a day of it <
`left_on`), live team or not, so it compares with a business case's adoption ramp
(the share of users working in the CRM). Per team the same count is kept, and the
hand-entered activities per employed working day.

With logins, a month's `employed` is the licensed users plus the reps employed without a
licence, `live` the licensed users (so `active / live` is the share of licensed users
active, `active / employed` the share set beside the plan).

When the workspace holds a user-activity export (`user_logins`), `measure_adoption`
prefers it: the share of licensed users active (`crmroi.kpi.logins`), and `basis`
says which count was used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmroi.kpi.windows import add_months, recorded_go_live
from crmroi.messages import N_

__all__ = [
    "ACTIVITY_BASIS",
    "HAND_KINDS",
    "Adoption",
    "AdoptionMonth",
    "adoption_from_frames",
    "as_day",
    "measure_adoption",
]

HAND_KINDS: tuple[str, ...] = ("meeting", "task")
MIN_DAY_SHARE = 0.5
ACTIVITY_BASIS = "reps_employed_activities"
"""The basis of the activity-based measure (no user-activity export)."""


@dataclass(frozen=True)
class AdoptionMonth:
    """One calendar month: reps employed, of them in a live team, and working in the CRM."""

    month: dt.date
    employed: int
    live: int
    active: int
    logged_per_rep_day: float | None
    """Hand-entered activities per employed working day of live reps."""
    by_team: dict[str, tuple[int, int]] = field(default_factory=dict)
    """team -> (active, employed)."""

    @property
    def share(self) -> float | None:
        """Active reps / employed reps (fraction)."""
        return self.active / self.employed if self.employed else None

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "employed": self.employed,
            "live": self.live,
            "active": self.active,
            "share": self.share,
            "logged_per_rep_day": self.logged_per_rep_day,
            "by_team": {t: {"active": a, "employed": e} for t, (a, e) in self.by_team.items()},
        }


@dataclass(frozen=True)
class Adoption:
    """Measured adoption by calendar month, with the definition's settings."""

    months: list[AdoptionMonth]
    kinds: tuple[str, ...] = HAND_KINDS
    min_day_share: float = MIN_DAY_SHARE
    basis: str = ACTIVITY_BASIS
    """`reps_employed_activities` (this module), or `licensed_users` / `reps_employed`
    (logins, `crmroi.kpi.logins`)."""
    login_definition: str | None = None
    unmatched_users: int | None = None
    """Licensed users matching no rep (login bases)."""
    login_users_left_out: int | None = None
    login_months: list[dict[str, Any]] | None = None
    """Per month: licensed users, active, their share, reps without a licence, per team
    (`crmroi.kpi.logins.LoginPeriod.to_json`)."""

    def share_by_month(self) -> dict[dt.date, float]:
        """First day of month -> share of reps working in the CRM (months with reps)."""
        return {m.month: s for m in self.months if (s := m.share) is not None}

    def definition(self) -> str:
        if self.login_definition is not None:
            return self.login_definition
        return (
            f"reps of a live team who logged {' or '.join(self.kinds)} activities on at "
            f"least {self.min_day_share:.0%} of the working days they were employed, "
            "over reps employed in the month"
        )

    def describe(self) -> dict[str, Any]:
        """The basis, its definition and (login bases) the users matching no rep."""
        return {
            "basis": self.basis,
            "definition": self.definition(),
            "unmatched_users": self.unmatched_users,
            "login_users_left_out": self.login_users_left_out,
            "licensed_users_by_month": self.login_months,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.describe(), "months": [m.to_json() for m in self.months]}


def as_day(v: Any) -> dt.date | None:
    """A cell as a calendar day: None for missing values (None, NaN, NaT) and non-dates."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return None
    if isinstance(v, dt.datetime):  # pd.Timestamp too
        return v.date()
    return v if isinstance(v, dt.date) else None


def _month_start(d: dt.date) -> dt.date:
    return dt.date(d.year, d.month, 1)


def adoption_from_frames(
    reps: pd.DataFrame,
    logged: pd.DataFrame,
    go_live: dt.date,
    go_live_by_team: dict[str, dt.date] | None = None,
    *,
    min_day_share: float = MIN_DAY_SHARE,
    kinds: tuple[str, ...] = HAND_KINDS,
) -> Adoption:
    """Adoption from `reps` (rep_id, team, hired_on, left_on) and `logged` (rep_id,
    month: first day, days: distinct days with a hand-entered activity, n: activities)."""
    by_team = go_live_by_team or {}
    if logged.empty:
        return Adoption([], kinds, min_day_share)
    first = min(_month_start(go_live), min(as_day(m) or go_live for m in logged["month"]))
    last = max(as_day(m) or go_live for m in logged["month"])
    cells = {
        (str(r), as_day(m)): (int(d), int(n))
        for r, m, d, n in zip(
            logged["rep_id"], logged["month"], logged["days"], logged["n"], strict=True
        )
    }
    rows = list(zip(reps["rep_id"], reps["team"], reps["hired_on"], reps["left_on"], strict=True))
    months: list[AdoptionMonth] = []
    m = _month_start(first)
    while m <= last:
        end = add_months(m, 1)
        employed = live = active = 0
        hand = 0
        live_days = 0
        teams: dict[str, list[int]] = {}
        for rep_id, team, hired_raw, left_raw in rows:
            hired, left = as_day(hired_raw), as_day(left_raw)
            lo = max(m, hired) if hired else m
            hi = min(end, left) if left else end
            if lo >= hi:
                continue
            employed += 1
            name = str(team) if team is not None and team == team else ""
            counts = teams.setdefault(name, [0, 0])
            counts[1] += 1
            team_live = by_team.get(name, go_live)
            if team_live >= end:
                continue
            live += 1
            work_days = int(np.busday_count(lo, hi))
            days, n = cells.get((str(rep_id), m), (0, 0))
            hand += n
            live_days += work_days
            if days > 0 and days >= min_day_share * work_days:
                active += 1
                counts[0] += 1
        months.append(
            AdoptionMonth(
                month=m,
                employed=employed,
                live=live,
                active=active,
                logged_per_rep_day=hand / live_days if live_days else None,
                by_team={t: (a, e) for t, (a, e) in sorted(teams.items())},
            )
        )
        m = end
    return Adoption(months, kinds, min_day_share)


def measure_adoption(
    store: Any,
    *,
    kinds: tuple[str, ...] = HAND_KINDS,
    min_day_share: float = MIN_DAY_SHARE,
    basis: str = "auto",
) -> Adoption:
    """Adoption on `store` (a `crmroi.store.Store`): see the module doc. `basis`: "auto"
    (logins when `user_logins` has rows, else activities) or "activities"."""
    company, by_team = recorded_go_live(store.settings(), N_("adoption is measured from go-live"))
    if basis != "activities":
        from crmroi.kpi.logins import measure_login_adoption

        logins = measure_login_adoption(store, period="month", min_day_share=min_day_share)
        if logins is not None:
            return Adoption(
                [
                    AdoptionMonth(
                        p.start, p.intended, p.licensed, p.active, None, p.intended_by_team()
                    )
                    for p in logins.periods
                ],
                (),
                min_day_share,
                logins.basis,
                logins.definition(),
                logins.unmatched_users,
                logins.login_users_left_out,
                [p.to_json("month") for p in logins.periods],
            )
    reps = store.table("reps").select("rep_id", "team", "hired_on", "left_on").to_pandas()
    a = store.table("activities")
    a = a.filter(a.kind.isin(list(kinds)) & a.rep_id.notnull() & a.occurred_at.notnull())
    a = a.mutate(day=a.occurred_at.date(), month=a.occurred_at.truncate("M").date())
    logged = (
        a.group_by(["rep_id", "month"]).aggregate(days=a.day.nunique(), n=a.day.count()).to_pandas()
    )
    return adoption_from_frames(
        reps, logged, company, by_team, min_day_share=min_day_share, kinds=kinds
    )
