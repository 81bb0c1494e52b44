"""Spend, weekly time entries, forecasts, CRM costs and exchange rates of the demo company.

Admin share of hours falls by 6 points at a team's go-live; forecast errors shrink
from 25% to 10% (standard deviation) for months planned after go-live.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from crmroi.demo import effects as fx
from crmroi.demo.columns import US_PER_DAY, dates, finish, make_ids, money, take
from crmroi.demo.company import GO_LIVE_MONTH, N_MONTHS, TEAMS, Reps, World
from crmroi.demo.sales import Sales
from crmroi.demo.service import Service

COST_PER_LEAD = np.array([45.0, 20.0, 260.0, 95.0, 70.0, 130.0])  # USD, by lead source
ADMIN_SHARE = 0.30  # share of a rep's hours on admin before go-live
FX_BASE: dict[str, tuple[float, float]] = {  # start rate (USD per unit), monthly volatility
    "EUR": (1.07, 0.015),
    "GBP": (1.21, 0.015),
    "RUB": (0.0143, 0.045),
    "CNY": (0.146, 0.01),
}
LICENCE_PER_USER = 85.0  # USD per user-month


def _days(arr: pa.ChunkedArray, fill: int) -> np.ndarray:
    return arr.cast(pa.int32()).fill_null(fill).to_numpy().astype(np.int64)


def _month_days(world: World) -> np.ndarray:
    return world.month_us // US_PER_DAY


def _time_entries(world: World, rng: np.random.Generator, reps: Reps) -> pa.Table:
    first_monday = dt.date(2023, 1, 2)
    weeks = (first_monday - dt.date(1970, 1, 1)).days + 7 * np.arange(157)
    hired = _days(reps.table.column("hired_on"), 0)
    left = _days(reps.table.column("left_on"), 2**31 - 1)
    n_reps = hired.size
    rep = np.repeat(np.arange(n_reps), weeks.size)
    week = np.tile(weeks, n_reps)
    keep = (week >= hired[rep]) & (week < left[rep])
    rep, week = rep[keep], week[keep]
    n = rep.size
    team = reps.rep_team[rep]
    rep_share = rng.normal(ADMIN_SHARE, 0.03, n_reps)
    share = (
        rep_share[rep]
        + rng.normal(0.0, 0.025, n)
        + fx.ADMIN_SHARE_ABS * world.dose(team, week * US_PER_DAY)
    )
    share = np.clip(share, 0.02, 0.9)
    total = rng.normal(40.0, 3.0, n)
    holidays = np.isin((week - weeks[0]) % 364 // 7, [0, 51])  # new-year and Christmas weeks
    total = np.where(holidays, total * 0.5, total)
    admin = np.round(total * share, 1)
    selling = np.round(total - admin, 1)
    rep_ids = reps.table.column("rep_id").combine_chunks()
    return finish(
        "time_entries",
        {
            "rep_id": take(rep_ids, rep),
            "week_start": dates(week),
            "selling_hours": pa.array(selling, pa.float64()),
            "admin_hours": pa.array(admin, pa.float64()),
        },
        world.seed,
    )


def _forecasts(world: World, rng: np.random.Generator, sales: Sales) -> pa.Table:
    d = sales.deals
    won = d.won & (d.end >= world.start_us)
    cell = d.team[won] * N_MONTHS + world.month_of(d.end[won])
    n_teams = len(TEAMS)
    actual = np.bincount(cell, weights=d.amount[won], minlength=n_teams * N_MONTHS)
    team = np.repeat(np.arange(n_teams), N_MONTHS)
    month = np.tile(np.arange(N_MONTHS), n_teams)
    mdays = _month_days(world)
    dose = world.dose(team, world.month_us[month])
    sd = fx.FORECAST_SD_BEFORE + (fx.FORECAST_SD_AFTER - fx.FORECAST_SD_BEFORE) * dose
    forecast = actual * np.maximum(0.05, 1 + rng.normal(0.0, 1.0, team.size) * sd)
    made = np.concatenate([[mdays[0] - 31], mdays[:-2]])[month]
    return finish(
        "forecasts",
        {
            "team": take(list(TEAMS), team),
            "period_start": dates(mdays[month]),
            "forecast_amount": money(np.round(forecast, -2)),
            "made_at": dates(made),
        },
        world.seed,
    )


def _spend(
    world: World, rng: np.random.Generator, reps: Reps, sales: Sales, service: Service
) -> pa.Table:
    n_src = len(fx.LEAD_SOURCES)
    lead_month = world.month_of(sales.lead_created)
    leads = np.bincount(lead_month * n_src + sales.lead_source, minlength=N_MONTHS * n_src).reshape(
        N_MONTHS, n_src
    )
    marketing = leads * COST_PER_LEAD[None, :] * rng.lognormal(0.0, 0.1, leads.shape)
    d = sales.deals
    won = d.won & (d.end >= world.start_us)
    won_volume = np.bincount(world.month_of(d.end[won]), weights=d.amount[won], minlength=N_MONTHS)
    n_slots = len(reps.slot_team)
    sales_spend = 0.06 * won_volume + 650.0 * n_slots * rng.lognormal(0.0, 0.08, N_MONTHS)
    service_spend = service.ticket_cost_by_month + 3000.0 * world.scale
    admin = 18_000.0 * world.scale * rng.lognormal(0.0, 0.05, N_MONTHS)
    # rows: per month, marketing per source, then sales, service, admin
    per_month = n_src + 3
    amount = np.column_stack([marketing, sales_spend, service_spend, admin]).ravel()
    category = np.tile(np.array([0] * n_src + [1, 2, 3]), N_MONTHS)
    source = np.tile(np.array([*range(n_src), -1, -1, -1]), N_MONTHS)
    month = np.repeat(np.arange(N_MONTHS), per_month)
    return finish(
        "spend",
        {
            "spend_id": make_ids("S", amount.size, 5),
            "spent_on": dates(_month_days(world)[month]),
            "category": take(["marketing", "sales", "service", "admin"], category),
            "source": take(list(fx.LEAD_SOURCES), source),
            "amount": money(amount),
        },
        world.seed,
    )


def _crm_costs(world: World, rng: np.random.Generator, reps: Reps) -> pa.Table:
    mdays = _month_days(world)
    users = reps.team_slot_count.astype(np.float64)
    go = np.array(GO_LIVE_MONTH)
    k = np.arange(N_MONTHS)
    live_users = (users[None, :] * (go[None, :] <= k[:, None])).sum(axis=1)
    f = 0.5 + 0.5 * world.scale  # project costs grow less than linearly with size
    first = int(go.min())
    rows: list[tuple[int, str, float, bool]] = []  # (day, category, amount, one_time)
    for m in range(first - 1, N_MONTHS):
        rows.append((mdays[m], "licence", LICENCE_PER_USER * (live_users[m] + 3), False))
        rows.append((mdays[m], "subscription", 600.0 * f + 15.0 * live_users[m], False))
        rows.append((mdays[m], "infrastructure", 400.0 * f, False))
        if m >= first + 1:
            rows.append((mdays[m], "maintenance", 1500.0 * f, False))
    for m, cat, amount in [
        (first - 3, "implementation", 45_000.0),
        (first - 2, "implementation", 60_000.0),
        (first - 1, "implementation", 30_000.0),
        (first - 2, "customisation", 25_000.0),
        (first - 1, "customisation", 18_000.0),
        (first + 4, "customisation", 12_000.0),
        (first - 2, "integration", 22_000.0),
        (first - 1, "integration", 16_000.0),
        (first - 1, "process_change", 9_000.0),
        (first + 5, "process_change", 6_000.0),
    ]:
        rows.append((mdays[m], cat, amount * f, True))
    for m in range(first - 3, int(go.max()) + 3):
        rows.append((mdays[m] + 14, "internal_labour", 11_000.0 * f, True))
    for t, g in enumerate(go):
        rows.append((mdays[g], "training", 2_000.0 + 450.0 * users[t], True))
        rows.append(
            (
                mdays[g + 1] if g + 1 < N_MONTHS else mdays[g] + 20,
                "parallel_running",
                220.0 * users[t],
                True,
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    amounts = np.array([r[2] for r in rows]) * rng.lognormal(0.0, 0.04, len(rows))
    return finish(
        "crm_costs",
        {
            "cost_id": make_ids("K", len(rows), 4),
            "incurred_on": dates(np.array([r[0] for r in rows])),
            "category": pa.array([r[1] for r in rows], pa.string()),
            "amount": money(amounts),
            "one_time": pa.array([r[3] for r in rows], pa.bool_()),
        },
        world.seed,
    )


def _fx_rates(world: World, rng: np.random.Generator) -> pa.Table:
    mdays = _month_days(world)[:N_MONTHS]
    cur = list(FX_BASE)
    rates = []
    for code in cur:
        start, vol = FX_BASE[code]
        walk = np.concatenate([[0.0], np.cumsum(rng.normal(0.0, vol, N_MONTHS - 1))])
        rates.append(start * np.exp(walk))
    rate = np.column_stack(rates).ravel()
    return finish(
        "fx_rates",
        {
            "rate_date": dates(np.repeat(mdays, len(cur))),
            "currency": pa.array(np.tile(np.array(cur, dtype=object), N_MONTHS), pa.string()),
            "rate_to_base": pa.array(np.round(rate, 6), pa.float64()),
        },
        world.seed,
    )


def make_costs(world: World, reps: Reps, sales: Sales, service: Service) -> dict[str, pa.Table]:
    """Spend, time entries, forecasts, CRM costs and FX rates."""
    return {
        "time_entries": _time_entries(world, world.rng(), reps),
        "forecasts": _forecasts(world, world.rng(), sales),
        "spend": _spend(world, world.rng(), reps, sales, service),
        "crm_costs": _crm_costs(world, world.rng(), reps),
        "fx_rates": _fx_rates(world, world.rng()),
    }
