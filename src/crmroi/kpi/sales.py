"""Sales KPIs: volume, won deals, deal size, win rate, cycle, forecasts, relationships.

Closed and won deals count in the window of their `closed_at`; their team is the
owner rep's team. Amounts are in the base currency (USD in the demo). One query
aggregates the deals per account, rep and bucket for every deal KPI.
"""

from __future__ import annotations

import datetime as dt
import itertools

import ibis
import numpy as np
import pyarrow as pa

from crmroi.kpi.exposure import exposure_time
from crmroi.kpi.facts import Ctx, Recipe, View, days_between, fetch_cube, flag, uses, when
from crmroi.kpi.lookups import packed_key
from crmroi.kpi.stats import Cube, Placed, UnitSums, values_in
from crmroi.kpi.windows import add_months


def won_filter(d: ibis.Table) -> ibis.ir.BooleanValue:
    """Deals won with a closing time."""
    return d.is_won.fill_null(False) & d.closed_at.notnull()


def _created(ctx: Ctx, d: ibis.Table) -> tuple[list[str], dict[str, ibis.Value]]:
    """With the "created" exposure: the cube key `cb`, the bucket of each deal's
    exposure time (`crmroi.kpi.exposure`), so `worked` can keep deals created in the
    window they close in."""
    if ctx.exposure != "created":
        return [], {}
    return ["cb"], {"cb": ctx.buckets.expr(exposure_time(d, "created"))}


def worked(c: Placed) -> np.ndarray | bool:
    """Rows of deals that count in their window: with the "created" exposure, deals
    created in the (unclipped) window they closed in, so a deal opened before go-live
    and closed after it is in neither window (docs/kpis.md, "Exposure")."""
    if "cb" not in c.cube.cols:
        return True
    whole = getattr(c.ev, "windows", c.ev)  # a clipped evaluation: its full windows
    return np.asarray(c.period_in("cb", whole) == c.period)


def deals_cube(ctx: Ctx) -> Cube:
    """Closed or won deals with a closing time, per team, grp, account, rep and bucket.

    closed/won: deal counts; won_amount (USD), won_has_amount, won_sourced (won
    deals from a lead source), win_num (closed and won).
    """
    d = ctx.t("deals")
    won, closed = d.is_won.fill_null(False), d.is_closed.fill_null(False)
    d = d.filter(d.closed_at.notnull() & (won | closed))
    won, closed = d.is_won.fill_null(False), d.is_closed.fill_null(False)
    sourced = won & d.source.notnull() & (d.source != "customer_base")
    keys, extra = _created(ctx, d)
    return fetch_cube(
        ctx, d, ts=d.closed_at, rep=d.owner_rep_id, account=d.account_id, source=d.source,
        keys=["acc", "rep", *keys], extra=extra,
        sums={
            "closed": flag(closed), "won": flag(won),
            "won_amount": when(won, d.amount.fill_null(0.0)),
            "won_has_amount": flag(won & d.amount.notnull()), "won_sourced": flag(sourced),
            "win_num": flag(closed & won),
        },
    )  # fmt: skip


def cycle_cube(ctx: Ctx) -> Cube:
    """Won deals' cycle lengths (days, rounded to 1e-5) and their counts per bucket."""
    d = ctx.t("deals")
    d = d.filter(won_filter(d) & d.created_at.notnull() & (d.closed_at >= d.created_at))
    days = days_between(d.created_at, d.closed_at).round(5).cast("float64")
    keys, extra = _created(ctx, d)
    return fetch_cube(
        ctx, d, ts=d.closed_at, rep=d.owner_rep_id, account=d.account_id, source=d.source,
        keys=["v", *keys], extra={"v": days, **extra},
    )  # fmt: skip


def forecast_cube(ctx: Ctx) -> Cube:
    """Per team-month cell: 1 - |won amount - latest forecast| / won amount (months with wins)."""
    f = ctx.t("forecasts")
    made = f.made_at.cast("timestamp").fill_null(ibis.timestamp("1900-01-01 00:00:00"))
    f = f.mutate(_made=made, _period=f.period_start.cast("timestamp"))
    latest = f.group_by(["team", "_period"]).aggregate(_last=f._made.max())
    j = f.join(latest, ["team", "_period"]).filter(lambda t: t._made == t._last)
    fc = j.group_by(["team", "_period"]).aggregate(forecast=j.forecast_amount.mean())
    d = ctx.t("deals")
    w = d.filter(won_filter(d))
    rl = ctx.rep_lookup
    w = w.left_join(rl, w.owner_rep_id == rl._lk_rep)
    actual = (
        w.mutate(_month=w.closed_at.truncate("M"))
        .group_by([w._lk_team.name("team"), "_month"])
        .aggregate(actual=lambda t: t.amount.sum())
    )
    cell = fc.join(actual, (fc.team == actual.team) & (fc._period == actual._month))
    cell = cell.filter(cell.actual > 0)
    acc = 1.0 - (cell.actual - cell.forecast).abs() / cell.actual
    cell_id = cell.team.cast("string").concat(cell._period.cast("string"))
    return fetch_cube(
        ctx, cell, ts=cell._period, team=cell.team, keys=["cell"], extra={"cell": cell_id},
        sums={"accuracy": acc},
    )  # fmt: skip


def relationship_cube(ctx: Ctx) -> Cube:
    """Activities per account (placed by its owner's team), acting rep and bucket."""
    a = ctx.t("activities")
    a = a.filter(a.account_id.notnull() & a.rep_id.notnull())
    return fetch_cube(
        ctx, a, ts=a.occurred_at, account=a.account_id, keys=["acc", "actor"],
        extra={"actor": a.rep_id.cast("string")},
    )  # fmt: skip


def rep_months_cube(ctx: Ctx) -> Cube:
    """Rep-months employed (hired_on..left_on), cut at every window bound: per rep and
    piece of a calendar month, `months` (the piece's share of its month) and cost
    (USD, the monthly cost times that share). A rep counts for a whole month when
    employed on any day of it; a window that starts or ends inside a month (a KPI's
    covered span, see `crmroi.kpi.coverage`) takes only its part of that month."""
    r = ctx.t("reps")
    ts = pa.timestamp("us")
    grid = list(ctx.month_starts)
    if len(grid) < 2:
        grid = [*grid, *grid][:2]
    cuts = sorted(set(grid) | {b for b in ctx.buckets.bounds if grid[0] < b < grid[-1]})
    p0, m0, m1, w = [], [], [], []
    for a, b in itertools.pairwise(cuts):
        first = dt.datetime(a.year, a.month, 1)
        nxt = dt.datetime.combine(add_months(first.date(), 1), dt.time())
        p0.append(a)
        m0.append(first)
        m1.append(nxt)
        w.append((b - a) / (nxt - first))
    pieces = ibis.memtable(
        pa.table(
            {
                "p0": pa.array(p0, ts), "m0": pa.array(m0, ts), "m1": pa.array(m1, ts),
                "w": pa.array(w, pa.float64()),
            }
        )
    )  # from Arrow: no pandas round-trip  # fmt: skip
    j = r.cross_join(pieces)
    hired = j.hired_on.isnull() | (j.hired_on.cast("timestamp") < j.m1)
    left = j.left_on.isnull() | (j.left_on.cast("timestamp") > j.m0)
    j = j.filter(hired & left)
    return fetch_cube(
        ctx, j, ts=j.p0, rep=j.rep_id, team=j.team, keys=["rep"],
        sums={"months": j.w, "cost": j.monthly_cost.fill_null(0.0).cast("float64") * j.w},
    )  # fmt: skip


def won(v: View, unit: str, num: str, den: str) -> UnitSums:
    """Won deals' sums: `num` and `den` are deal-cube measures."""
    c = v.on(deals_cube)
    return c.sums(unit, c[num], c[den], (c["won"] > 0) & worked(c))


@uses(deals_cube)
def sales_volume(v: View) -> UnitSums:
    return won(v, "acc", "won_amount", "won")


@uses(deals_cube)
def won_deals(v: View) -> UnitSums:
    return won(v, "acc", "won", "won")


@uses(deals_cube, rep_months_cube)
def sales_per_rep(v: View) -> UnitSums:
    c, m = v.on(deals_cube), v.on(rep_months_cube)
    return UnitSums.concat(
        [
            c.sums("rep", c["won_amount"], 0.0, (c["won"] > 0) & worked(c)),
            m.sums("rep", 0.0, m["months"]),
        ]
    )


@uses(deals_cube)
def avg_deal_size(v: View) -> UnitSums:
    return won(v, "acc", "won_amount", "won_has_amount")


@uses(deals_cube)
def win_rate(v: View) -> UnitSums:
    c = v.on(deals_cube)
    return c.sums("acc", c["win_num"], c["closed"], (c["closed"] > 0) & worked(c))


@uses(cycle_cube)
def sales_cycle_days(v: View) -> UnitSums:
    """Cycle lengths (num) and counts (den): the engine takes the median."""
    c = v.on(cycle_cube)
    return values_in(c, "v", "n", np.ones(len(c.cube), dtype=bool) & worked(c))


@uses(forecast_cube)
def forecast_accuracy(v: View) -> UnitSums:
    c = v.on(forecast_cube)
    return c.sums("cell", c["accuracy"], c["n"])


@uses(relationship_cube)
def relationship_concentration(v: View) -> UnitSums:
    """Per account and window: share of its activities by its most active rep."""
    c = v.on(relationship_cube)
    per_actor = c.runs("acc", np.ones(len(c.cube), dtype=bool), extra=["actor"])
    if not len(per_actor.idx):
        return c.sums("acc", 0.0, 0.0, np.zeros(len(c.cube), dtype=bool))
    first = per_actor.idx[per_actor.starts]
    n = per_actor.reduce(np.add, c["n"])
    keys = [c.grp[first], c["team"][first], c["acc"][first], c.period[first]]
    packed = packed_key(keys)  # one int64 key: one argsort instead of a lexsort
    order = np.lexsort(keys[::-1]) if packed is None else np.argsort(packed, kind="stable")
    keys, n = [k[order] for k in keys], n[order]
    new = np.zeros(len(n), dtype=bool)
    new[:1] = True
    if packed is not None:
        ordered = packed[order]
        new[1:] = ordered[1:] != ordered[:-1]
    else:
        for k in keys:
            new[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(new)
    top, total = np.maximum.reduceat(n, starts), np.add.reduceat(n, starts)
    grp, team, acc, period = (k[starts] for k in keys)
    return UnitSums(grp, team, acc, period, top / total, np.ones(len(starts)))


SPECS: dict[str, Recipe] = {
    "sales_volume": sales_volume,
    "won_deals": won_deals,
    "sales_per_rep": sales_per_rep,
    "avg_deal_size": avg_deal_size,
    "win_rate": win_rate,
    "sales_cycle_days": sales_cycle_days,
    "forecast_accuracy": forecast_accuracy,
    "relationship_concentration": relationship_concentration,
}
