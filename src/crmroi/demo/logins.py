"""The demo company's CRM users, their licences and their logins (a user-activity export).

Every rep is a CRM user (ids `005U...`, linked to the rep by e-mail only, as when a
CRM's user ids are not the HR ids) licensed from their team's go-live (or their
hiring, if later) to the day before they leave; `EXTRA_USERS` more users (a sales
manager, the CRM administrator) are licensed from the first go-live and match no rep.

Logins follow the adoption of `crmroi.demo.adoption`: from the calendar month a rep
adopts, they log in on every working day of their licence (1 + Poisson(0.6) times,
now and then after a failed attempt); before it, on `P_BEFORE` of the working days,
never in the first or last `QUIET_DAYS` working days of the licence (so a partial
first or last week or month never looks adopted). The extra users log in every
working day. `truth_by_month` is the injected curve: adopted licensed users over
licensed users, month by month.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from crmroi.demo.adoption import rng_for
from crmroi.demo.columns import US_PER_DAY, dates, finish, make_ids
from crmroi.demo.company import N_MONTHS, Reps, World

EXTRA_USERS: tuple[str, ...] = ("Sales Manager", "CRM Administrator")
P_BEFORE = 0.04  # share of working days a licensed, not yet adopted user logs in
QUIET_DAYS = 5
P_FAILED = 0.04  # a failed attempt (wrong password) before a day's first login
NEVER = np.iinfo(np.int64).max
US_PER_SECOND = 1_000_000


def _licences(world: World, reps: Reps) -> tuple[np.ndarray, np.ndarray]:
    """First and last licensed day (day numbers, inclusive) per user: reps, then extras."""
    hired = reps.table.column("hired_on").to_numpy(zero_copy_only=False)
    hired_day = hired.astype("datetime64[D]").astype(np.int64)
    left = reps.table.column("left_on").to_pylist()
    last = np.array(
        [NEVER if d is None else np.datetime64(d, "D").astype(np.int64) - 1 for d in left]
    )
    live_day = world.go_live_us[reps.rep_team] // US_PER_DAY
    first = np.maximum(live_day, hired_day)
    extra_first = np.full(len(EXTRA_USERS), int(world.go_live_us.min() // US_PER_DAY))
    return (
        np.concatenate([first, extra_first]).astype(np.int64),
        np.concatenate([last, np.full(len(EXTRA_USERS), NEVER)]).astype(np.int64),
    )


def _working_days(world: World) -> np.ndarray:
    days = np.arange(world.start_us // US_PER_DAY, world.end_us // US_PER_DAY, dtype=np.int64)
    return days[np.is_busday(days.astype("datetime64[D]"))]


def make_users_and_logins(
    world: World, reps: Reps, adopted_month: np.ndarray
) -> dict[str, pa.Table]:
    """`crm_users` and `user_logins` for the demo (see the module doc)."""
    rng = rng_for(world, 3)
    n_reps = len(reps.rep_team)
    n = n_reps + len(EXTRA_USERS)
    first, last = _licences(world, reps)
    emails = reps.table.column("email").to_pylist() + [
        f"{name.lower().replace(' ', '.')}@demo-company.example" for name in EXTRA_USERS
    ]
    names = reps.table.column("name").to_pylist() + list(EXTRA_USERS)
    user_ids = make_ids("005U", n, 6)
    left_now = np.array([d != NEVER for d in last])
    users = finish(
        "crm_users",
        {
            "user_id": user_ids,
            "name": pa.array(names, pa.string()),
            "email": pa.array(emails, pa.string()),
            "licensed": pa.array(~left_now),
            "licensed_from": dates(first),
            "licensed_until": dates(np.where(left_now, last, 0), mask=~left_now),
        },
        world.seed,
    )
    days = _working_days(world)
    month = world.month_of(days * US_PER_DAY)
    adopt = np.concatenate([adopted_month, np.zeros(len(EXTRA_USERS), dtype=np.int64)])
    licensed = (days[None, :] >= first[:, None]) & (days[None, :] <= last[:, None])
    adopted = month[None, :] >= adopt[:, None]
    # working days of the licence before and after each day, for the quiet edges
    order = np.cumsum(licensed, axis=1)
    total = order[:, -1:]
    edge = (order <= QUIET_DAYS) | (order > total - QUIET_DAYS)
    maybe = licensed & ~adopted & ~edge & (rng.random(licensed.shape) < P_BEFORE)
    on = (licensed & adopted) | maybe
    user, day_at = np.nonzero(on)
    times = 1 + rng.poisson(0.6, user.size)
    failed = rng.random(user.size) < P_FAILED
    user_rows = np.repeat(user, times)
    day_rows = np.repeat(days[day_at], times)
    start = rng.integers(7 * 3600, 17 * 3600, user_rows.size)
    user_rows = np.concatenate([user_rows, user[failed]])
    day_rows = np.concatenate([day_rows, days[day_at][failed]])
    start = np.concatenate([start, np.full(int(failed.sum()), 7 * 3600 - 60)])
    ok = np.concatenate(
        [np.ones(user_rows.size - int(failed.sum()), bool), np.zeros(int(failed.sum()), bool)]
    )
    us = day_rows * US_PER_DAY + start * US_PER_SECOND
    sort = np.lexsort((us, user_rows))
    user_rows, us, ok = user_rows[sort], us[sort], ok[sort]
    n_rows = user_rows.size
    apps = np.array(["Browser", "Salesforce for iOS", "Salesforce for Android"], dtype=object)
    app = apps[np.minimum(rng.geometric(0.7, n_rows) - 1, 2)]
    logins = finish(
        "user_logins",
        {
            "login_id": make_ids("0Ya", n_rows, 8),
            "user_id": pa.array(
                np.array(user_ids.to_pylist(), dtype=object)[user_rows], pa.string()
            ),
            "user_email": pa.array([None] * n_rows, pa.string()),
            "user_name": pa.array([None] * n_rows, pa.string()),
            "occurred_at": pa.array(us, pa.timestamp("us")),
            "kind": pa.repeat(pa.scalar("login"), n_rows),
            "succeeded": pa.array(ok),
            "application": pa.array(app, pa.string()),
        },
        world.seed,
    )
    return {"crm_users": users, "user_logins": logins}


def truth_by_month(world: World, reps: Reps, adopted_month: np.ndarray) -> list[dict[str, object]]:
    """Per calendar month from the start: licensed users (a licensed working day in it),
    of them adopted (extra users always), the share (None before any licence), and the
    reps employed on a working day of it without a licence (teams not yet live)."""
    first, last = _licences(world, reps)
    adopt = np.concatenate([adopted_month, np.zeros(len(EXTRA_USERS), dtype=np.int64)])
    hired = reps.table.column("hired_on").to_numpy(zero_copy_only=False)
    hired_day = hired.astype("datetime64[D]").astype(np.int64)
    left = reps.table.column("left_on").to_pylist()
    left_day = np.array(
        [NEVER if d is None else np.datetime64(d, "D").astype(np.int64) for d in left]
    )
    days = _working_days(world)
    month = world.month_of(days * US_PER_DAY)
    out: list[dict[str, object]] = []
    for k in range(N_MONTHS):
        in_month = days[month == k]
        lo, hi = int(in_month.min()), int(in_month.max())
        licensed = (first <= hi) & (last >= lo)
        n = int(licensed.sum())
        adopted = int((licensed & (adopt <= k)).sum())
        share = round(adopted / n, 6) if n else None
        employed = np.array(
            [
                bool(((in_month >= h) & (in_month < e)).any())
                for h, e in zip(hired_day, left_day, strict=True)
            ]
        )
        without = int((employed & ~licensed[: len(hired_day)]).sum())
        out.append(
            {"licensed": n, "adopted": adopted, "share": share, "reps_without_licence": without}
        )
    return out
