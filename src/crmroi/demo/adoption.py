"""People adopting the CRM in the demo company, and who works each account.

Adoption: after its team's go-live (or its own hiring, if later) each rep starts
working in the CRM after a delay of whole calendar months drawn so that the share
of reps working in it k months after go-live is `ADOPTION_BY_MONTH[k]` (the last
value is held; the rest never adopt). Until then the rep logs only
`KEEP_BEFORE_ADOPTION` of the activities entered by hand (`HAND_KINDS`): the rest
stay in notebooks and inboxes. Calls, e-mails and chats arrive through telephony
and e-mail integration whether or not the rep adopted, so the KPIs that count
them are untouched.

Relationships: a customer account is worked by its owner and, on most accounts,
also by a teammate (cover, a specialist) who logs a share of its activities:
`SINGLE_THREADED` of accounts have no second rep, the others a share drawn from a
Beta(`SECOND_SHARE_A`, `SECOND_SHARE_B`) distribution.
"""

from __future__ import annotations

import numpy as np

from crmroi.demo.columns import US_PER_DAY
from crmroi.demo.company import N_MONTHS, Reps, World

# Share of a team's reps working in the CRM k = 0, 1, ... calendar months after go-live.
ADOPTION_BY_MONTH: tuple[float, ...] = (0.30, 0.45, 0.60, 0.72, 0.82, 0.88, 0.92, 0.95)
KEEP_BEFORE_ADOPTION = 0.05  # share of hand-entered activities logged before adopting
HAND_KINDS: tuple[str, ...] = ("meeting", "task")
SINGLE_THREADED = 0.35  # share of accounts worked by their owner alone
SECOND_SHARE_A, SECOND_SHARE_B = 2.0, 4.0  # Beta shape of the second rep's share
NEVER = np.iinfo(np.int64).max
STREAM = 7_001  # random stream of this module (independent of the generator's steps)


def rng_for(world: World, part: int) -> np.random.Generator:
    """A random stream of its own, so other tables stay identical for a seed."""
    return np.random.default_rng([world.seed, STREAM, part])


def adoption_months(world: World, reps: Reps, hired_day: np.ndarray) -> np.ndarray:
    """Calendar month index (from the start) in which each rep adopts; N_MONTHS = never."""
    rng = rng_for(world, 0)
    n = len(reps.rep_team)
    curve = np.asarray(ADOPTION_BY_MONTH)
    u = rng.random(n)
    delay = np.searchsorted(curve, u, side="right")  # first k with curve[k] > u
    delay = np.where(u < curve[-1], delay, N_MONTHS)
    live = world.month_of(world.go_live_us[reps.rep_team])
    hired = world.month_of(hired_day * US_PER_DAY)
    base = np.maximum(live, hired)
    return np.minimum(base + delay, N_MONTHS)


def keep_logged(
    world: World,
    reps: Reps,
    adopted_month: np.ndarray,
    rep: np.ndarray,
    us: np.ndarray,
    hand: np.ndarray,
) -> np.ndarray:
    """Which activities reach the CRM: all but the hand-entered ones of live, not yet
    adopted reps, of which `KEEP_BEFORE_ADOPTION` are kept."""
    rng = rng_for(world, 1)
    live = world.treated(reps.rep_team[rep], us)
    before = world.month_of(us) < adopted_month[rep]
    drop = hand & live & before & (rng.random(us.size) >= KEEP_BEFORE_ADOPTION)
    return ~drop


def second_reps(world: World, reps: Reps, account_slot: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per account: a teammate's slot (the owner's own when none) and that rep's share."""
    rng = rng_for(world, 2)
    n = len(account_slot)
    team = reps.slot_team[account_slot]
    other = reps.random_slot(rng, team)
    share = rng.beta(SECOND_SHARE_A, SECOND_SHARE_B, n)
    alone = (rng.random(n) < SINGLE_THREADED) | (other == account_slot)
    return np.where(alone, account_slot, other), np.where(alone, 0.0, share)


def truth_by_month(world: World, reps: Reps, adopted_month: np.ndarray) -> list[float | None]:
    """Share of employed reps working in the CRM in each calendar month (None before any)."""
    hired = reps.table.column("hired_on").to_numpy(zero_copy_only=False)
    left = reps.table.column("left_on").to_pylist()
    hired_day = hired.astype("datetime64[D]").astype(np.int64)
    left_day = np.array(
        [NEVER if d is None else (np.datetime64(d, "D").astype(np.int64)) for d in left]
    )
    out: list[float | None] = []
    for k in range(N_MONTHS):
        lo = world.month_us[k] // US_PER_DAY
        hi = world.month_us[k + 1] // US_PER_DAY
        employed = (hired_day < hi) & (left_day > lo)
        if not employed.any():
            out.append(None)
            continue
        out.append(round(float((adopted_month[employed] <= k).mean()), 6))
    return out
