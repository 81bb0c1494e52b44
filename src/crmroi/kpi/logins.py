"""Adoption from a user-activity export: the share of licensed CRM users active, by
calendar month or ISO week (Monday to Sunday), per team.

- *Licensed users* (basis `licensed_users`, when `crm_users` has rows): each user from
  `licensed_from` (empty: always) to `licensed_until` (the last day; empty: still
  licensed). A user not licensed now (`licensed` false) without an end date is counted
  through the day of their last successful login (never after), and left out when they
  never logged in: the export says the licence ended, not when.
- Without a user list (basis `reps_employed`): the reps employed (`hired_on` <= day <
  `left_on`), as the activity-based measure of `crmroi.kpi.adoption` counts them.
- A user is *active* in a period when they succeeded in logging in (or another event of
  theirs: `succeeded` not false) on at least `min_day_share` of the working days
  (Monday to Friday) of the period they held the licence (were employed), up to
  `until`; users without such a working day are not counted.
- Users are joined to reps by id (`user_id` = `rep_id`), else by e-mail (case-folded);
  a user matching no rep belongs to no team (""), and their count is reported. Logins
  are joined to the users the same way (by `user_id`, else `user_email`); logins of
  users outside the population are left out, and their users counted.

Pure: `login_adoption` takes frames; `measure_login_adoption` reads a
`crmroi.store.Store`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from crmroi.kpi.adoption import MIN_DAY_SHARE, as_day
from crmroi.kpi.windows import add_months
from crmroi.messages import N_

__all__ = [
    "LICENSED_USERS",
    "REPS_EMPLOYED",
    "LoginAdoption",
    "LoginPeriod",
    "login_adoption",
    "measure_login_adoption",
]

LICENSED_USERS = "licensed_users"
REPS_EMPLOYED = "reps_employed"
Period = Literal["month", "week"]
FAR = dt.date(9999, 12, 30)


@dataclass(frozen=True)
class LoginPeriod:
    """One month or week: licensed users (reps employed), of them active, per team."""

    start: dt.date
    licensed: int
    active: int
    by_team: dict[str, tuple[int, int]] = field(default_factory=dict)
    """team ("" for users matching no rep, and reps without a team) -> (active, licensed)."""
    reps_without_licence: int = 0
    """Reps employed in the period who held no licence in it (not yet live, say)."""
    without_by_team: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        """Active users / licensed users (fraction)."""
        return self.active / self.licensed if self.licensed else None

    @property
    def intended(self) -> int:
        """Licensed users and reps employed without a licence: the users a business
        case's adoption ramp is a share of."""
        return self.licensed + self.reps_without_licence

    def intended_by_team(self) -> dict[str, tuple[int, int]]:
        """team -> (active, licensed users + reps without a licence)."""
        teams = sorted(set(self.by_team) | set(self.without_by_team))
        return {
            t: (self.by_team.get(t, (0, 0))[0],
                self.by_team.get(t, (0, 0))[1] + self.without_by_team.get(t, 0))
            for t in teams
        }  # fmt: skip

    def to_json(self, key: str) -> dict[str, Any]:
        return {
            key: self.start.isoformat(),
            "licensed": self.licensed,
            "active": self.active,
            "share": self.share,
            "reps_without_licence": self.reps_without_licence,
            "share_of_intended": self.active / self.intended if self.intended else None,
            "by_team": {
                t: {
                    "active": a,
                    "licensed": self.by_team.get(t, (0, 0))[1],
                    "reps_without_licence": self.without_by_team.get(t, 0),
                }
                for t, (a, _) in self.intended_by_team().items()
            },
        }


@dataclass(frozen=True)
class LoginAdoption:
    """The share of licensed users active per period, with how it was counted."""

    basis: str
    period: Period
    periods: list[LoginPeriod]
    users: int
    """Users in the population (licensed users, or reps)."""
    unmatched_users: int
    """Licensed users matching no rep (basis `licensed_users`; 0 otherwise)."""
    login_users_left_out: int
    """Users in the login export matching no one of the population."""
    min_day_share: float = MIN_DAY_SHARE

    def definition(self) -> str:
        who = (
            "licensed CRM users (crm_users)"
            if self.basis == LICENSED_USERS
            else "reps employed (no list of licensed users: crm_users is empty)"
        )
        text = (
            f"{who} who logged in (user_logins) on at least {self.min_day_share:.0%} of the "
            f"working days of the {self.period} they held the licence, over those users"
        )
        if self.basis == LICENSED_USERS:
            text += (
                "; beside the plan, over licensed users and reps employed without a licence "
                "(the users a case's adoption ramp counts, live or not)"
            )
        return text

    def to_json(self) -> dict[str, Any]:
        key = self.period
        return {
            "basis": self.basis,
            "definition": self.definition(),
            "users": self.users,
            "unmatched_users": self.unmatched_users,
            "login_users_left_out": self.login_users_left_out,
            f"{key}s": [p.to_json(key) for p in self.periods],
        }


def _key(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    text = str(v).strip()
    return text or None


def _mail(v: Any) -> str | None:
    text = _key(v)
    return text.casefold() if text else None


def _team(v: Any) -> str:
    return str(v) if v is not None and v == v else ""


def _period_start(d: dt.date, period: Period) -> dt.date:
    if period == "week":
        return d - dt.timedelta(days=d.weekday())
    return dt.date(d.year, d.month, 1)


def _next(d: dt.date, period: Period) -> dt.date:
    return d + dt.timedelta(days=7) if period == "week" else add_months(d, 1)


@dataclass
class _Member:
    """One user of the population: licence window [lo, hi] (inclusive) and team."""

    lo: dt.date
    hi: dt.date
    team: str
    rep: int = -1
    """Row of the matched rep in `reps`, or -1."""
    days: set[dt.date] = field(default_factory=set)
    sorted_days: list[dt.date] = field(default_factory=list)


def _index(pairs: Iterable[tuple[str | None, str | None]]) -> tuple[dict[str, int], dict[str, int]]:
    by_id: dict[str, int] = {}
    by_mail: dict[str, int] = {}
    for i, (ident, mail) in enumerate(pairs):
        if ident is not None:
            by_id.setdefault(ident, i)
        if mail is not None:
            by_mail.setdefault(mail, i)
    return by_id, by_mail


def _population(
    users: pd.DataFrame | None, reps: pd.DataFrame, last_login: dict[tuple[str, str], dt.date]
) -> tuple[list[_Member], list[tuple[str | None, str | None]], int]:
    """Members, their (id, e-mail) keys, and how many licensed users match no rep."""
    rep_ids, rep_mails = _index(
        (_key(r), _mail(m)) for r, m in zip(reps["rep_id"], reps["email"], strict=True)
    )
    teams = [_team(t) for t in reps["team"]]
    members: list[_Member] = []
    keys: list[tuple[str | None, str | None]] = []
    if users is None:
        for rep, mail, team, hired, left in zip(
            reps["rep_id"], reps["email"], teams, reps["hired_on"], reps["left_on"], strict=True
        ):
            lo = as_day(hired) or dt.date.min
            end = as_day(left)
            hi = end - dt.timedelta(days=1) if end else FAR
            members.append(_Member(lo, hi, team, len(members)))
            keys.append((_key(rep), _mail(mail)))
        return members, keys, 0
    unmatched = 0
    for uid, mail, licensed, start, until in zip(
        users["user_id"],
        users["email"],
        users["licensed"],
        users["licensed_from"],
        users["licensed_until"],
        strict=True,
    ):
        ident, address = _key(uid), _mail(mail)
        first = as_day(start) or dt.date.min
        last = as_day(until)
        ended = not pd.isna(licensed) and not bool(licensed)
        if last is None and ended:  # the licence ended on a day the export omits
            last = last_login.get(("id", ident or ""), last_login.get(("mail", address or "")))
            if last is None:
                continue
        i = rep_ids.get(ident, -1) if ident is not None else -1
        if i < 0 and address is not None:
            i = rep_mails.get(address, -1)
        if i < 0:
            unmatched += 1
        members.append(_Member(first, last or FAR, teams[i] if i >= 0 else "", i))
        keys.append((ident, address))
    return members, keys, unmatched


def login_adoption(
    logins: pd.DataFrame,
    reps: pd.DataFrame,
    users: pd.DataFrame | None = None,
    *,
    period: Period = "month",
    start: dt.date | None = None,
    until: dt.date | None = None,
    min_day_share: float = MIN_DAY_SHARE,
) -> LoginAdoption:
    """The share of licensed users active per `period` from `logins` (user_id,
    user_email, day: the day of a successful event), `reps` (rep_id, email, team,
    hired_on, left_on) and `users` (user_id, email, licensed, licensed_from,
    licensed_until; None or empty: basis `reps_employed`). The export covers the days
    from its first login to its last: periods run from the later of `start` and the
    first login to the earlier of `until` and the last login, and a period the export
    covers only in part is counted over the days it covers."""
    if users is not None and users.empty:
        users = None
    events = [
        (_key(u), _mail(m), d)
        for u, m, v in zip(logins["user_id"], logins["user_email"], logins["day"], strict=True)
        if (d := as_day(v)) is not None
    ]
    last_login: dict[tuple[str, str], dt.date] = {}
    for ident, mail, d in events:
        for k in (("id", ident), ("mail", mail)):
            if k[1] is not None and d > last_login.get((k[0], k[1]), dt.date.min):
                last_login[(k[0], k[1])] = d
    members, keys, unmatched = _population(users, reps, last_login)
    by_id, by_mail = _index(keys)
    left_out: set[str] = set()
    for ident, mail, d in events:
        i = by_id.get(ident or "", -1) if ident is not None else -1
        if i < 0 and mail is not None:
            i = by_mail.get(mail, -1)
        if i < 0:
            left_out.add(ident or mail or "")
            continue
        members[i].days.add(d)
    for m in members:
        m.sorted_days = sorted(m.days)
    basis = REPS_EMPLOYED if users is None else LICENSED_USERS
    days = [d for _, _, d in events]
    covered = min(days) if days else None  # the export covers from its first login
    first = max(start, covered) if start and covered else covered
    last = min(until, max(days)) if until and days else (max(days) if days else None)
    if first is None or last is None or covered is None or last < first:
        return LoginAdoption(
            basis, period, [], len(members), unmatched, len(left_out), min_day_share
        )
    employment = [
        (i, _team(team), as_day(hired) or dt.date.min, as_day(left) or FAR)
        for i, (team, hired, left) in enumerate(
            zip(reps["team"], reps["hired_on"], reps["left_on"], strict=True)
        )
    ]
    periods: list[LoginPeriod] = []
    p = _period_start(first, period)
    while p <= last:
        end = min(_next(p, period), last + dt.timedelta(days=1))  # exclusive
        licensed = active = 0
        teams: dict[str, list[int]] = {}
        holders: set[int] = set()
        for m in members:
            lo, hi = max(p, m.lo, covered), min(end, m.hi + dt.timedelta(days=1))
            work = int(np.busday_count(lo, hi)) if lo < hi else 0
            if work == 0:
                continue
            licensed += 1
            holders.add(m.rep)
            tally = teams.setdefault(m.team, [0, 0])
            tally[1] += 1
            n_days = bisect.bisect_left(m.sorted_days, hi) - bisect.bisect_left(m.sorted_days, lo)
            if n_days > 0 and n_days >= min_day_share * work:
                active += 1
                tally[0] += 1
        without = _reps_without_licence(employment, holders, max(p, covered), end)
        periods.append(
            LoginPeriod(
                p,
                licensed,
                active,
                {t: (a, n) for t, (a, n) in sorted(teams.items())},
                sum(without.values()),
                dict(sorted(without.items())),
            )
        )
        p = _next(p, period)
    return LoginAdoption(
        basis, period, periods, len(members), unmatched, len(left_out), min_day_share
    )


def _reps_without_licence(
    employment: list[tuple[int, str, dt.date, dt.date]],
    holders: set[int],
    lo: dt.date,
    hi: dt.date,
) -> dict[str, int]:
    """team -> reps employed on a working day of [lo, hi) who held no licence in it."""
    out: dict[str, int] = {}
    for i, team, hired, left in employment:
        if i in holders:
            continue
        a, b = max(lo, hired), min(hi, left)
        if a < b and np.busday_count(a, b) > 0:
            out[team] = out.get(team, 0) + 1
    return out


def has_logins(store: Any) -> bool:
    """Whether the workspace holds any user activity (`user_logins` rows)."""
    return bool(store.count("user_logins"))


def measure_login_adoption(
    store: Any,
    *,
    period: Period = "month",
    until: dt.date | None = None,
    min_day_share: float = MIN_DAY_SHARE,
) -> LoginAdoption | None:
    """`login_adoption` on `store` (a `crmroi.store.Store`) from its go-live's period (the
    first login's without one), or None when `user_logins` is empty."""
    from crmroi.errors import ConfigurationError
    from crmroi.kpi.windows import recorded_go_live

    if not has_logins(store):
        return None
    t = store.table("user_logins")
    ok = t.filter(t.occurred_at.notnull() & t.succeeded.fill_null(True))
    days = ok.mutate(day=ok.occurred_at.date())
    logins = days.select("user_id", "user_email", "day").distinct().to_pandas()
    reps = store.table("reps").select("rep_id", "email", "team", "hired_on", "left_on").to_pandas()
    users = store.table("crm_users").to_pandas()
    try:
        start: dt.date | None = recorded_go_live(store.settings(), N_("adoption"))[0]
    except ConfigurationError:
        start = None
    return login_adoption(
        logins,
        reps,
        users,
        period=period,
        start=start,
        until=until,
        min_day_share=min_day_share,
    )
