"""One scan of the activities for both cubes built on them.

The activities are by far the largest table (about 100 per account in the demo,
10 million rows at scale 20). Relationship concentration needs them per
account, acting rep and bucket; the call KPIs need them per rep and bucket.
Both cubes are formed from one aggregate per account, acting rep and bucket
(`activity_cells`): the per-rep cube is summed from it in numpy, so the large
table is read once per run, not once per cube.
"""

from __future__ import annotations

import numpy as np

from crmroi.kpi.facts import Ctx, fetch_cube, flag
from crmroi.kpi.stats import NONE, Cube

MEASURES = ("n", "calls_in", "calls_out", "calls", "visits")


def activity_cells(ctx: Ctx) -> Cube:
    """Activities per account (placed by its owner's team and grp), acting rep
    (`actor`, NONE when missing), the account's owner (`rep`) and bucket: n, and the
    counts of inbound calls, outbound calls, calls (any direction) and visits
    (outbound calls and visits). Rows without an account have no team."""
    a = ctx.t("activities")
    call = a.kind == "call"
    outbound = call & (a.direction == "outbound")
    return fetch_cube(
        ctx, a, ts=a.occurred_at, account=a.account_id, keys=["acc", "actor", "rep"],
        extra={"actor": a.rep_id.cast("string")},
        sums={
            "calls_in": flag(call & (a.direction == "inbound")), "calls_out": flag(outbound),
            "calls": flag(call), "visits": flag(outbound | (a.kind == "visit")),
        },
    )  # fmt: skip


def per_account_and_actor(ctx: Ctx) -> Cube:
    """The cells with both an account and an acting rep, keyed by team, grp, acc,
    actor and bucket (sorted so): n."""
    cells = ctx.cube("activity_cells", activity_cells)
    keep = (cells["acc"] != NONE) & (cells["actor"] != NONE)
    return Cube({k: cells[k][keep] for k in ("team", "grp", "acc", "actor", "b", "n")})


def per_rep(ctx: Ctx) -> Cube:
    """The cells summed per team, grp, rep and bucket (sorted so), each activity
    counted for its acting rep (the account's owner when none) and that rep's
    team (the owner's team when the rep is not in `reps`)."""
    cells = ctx.cube("activity_cells", activity_cells)
    actor, owner = cells["actor"], cells["rep"]
    rep = np.where(actor != NONE, actor, owner)
    is_rep, rep_team = _rep_teams(ctx, actor)
    team = np.where(is_rep, rep_team, cells["team"])
    grp = {"team": team, "rep": rep}.get(ctx.by or "", cells["grp"])
    if ctx.by == "source":  # activities have no lead source
        grp = np.full(len(rep), NONE, dtype=np.int64)
    keys = [team, grp, rep, cells["b"]]
    order = np.lexsort(keys[::-1])
    keys = [k[order] for k in keys]
    new = np.zeros(len(order), dtype=bool)
    new[:1] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(new)
    cols = dict(zip(("team", "grp", "rep", "b"), (k[starts] for k in keys), strict=True))
    for m in MEASURES:
        cols[m] = np.add.reduceat(cells[m][order], starts) if len(starts) else np.zeros(0)
    return Cube(cols)


def _rep_teams(ctx: Ctx, reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rep codes: whether each is in `reps`, and its team code there (NONE: none)."""
    table = ctx.t("reps").select("rep_id", "team").to_pyarrow()
    codes = ctx.labels.encode(table.column("rep_id"))
    teams = ctx.labels.encode(table.column("team"))
    size = max(len(ctx.labels.names), int(reps.max(initial=0)) + 1) + 1
    known = np.zeros(size, dtype=bool)
    team_of = np.full(size, NONE, dtype=np.int64)
    ok = codes != NONE
    known[codes[ok] + 1], team_of[codes[ok] + 1] = True, teams[ok]
    return known[reps + 1], team_of[reps + 1]
