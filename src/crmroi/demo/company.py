"""The demo company's world: calendar, teams, reps and the generation entry point."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from crmroi.demo import effects as fx
from crmroi.demo.columns import US_PER_DAY, dates, finish, make_ids, money
from crmroi.demo.names import people

START = dt.date(2023, 1, 1)
N_MONTHS = 36
TEAMS: tuple[str, ...] = ("EMEA Central", "Americas North", "APAC", "EMEA East", "Americas South")
TEAM_REGION: tuple[str, ...] = ("EMEA", "Americas", "APAC", "EMEA", "Americas")
TEAM_WEIGHT: tuple[float, ...] = (0.23, 0.24, 0.17, 0.16, 0.20)
GO_LIVE_MONTH: tuple[int, ...] = (12, 14, 17, 20, 28)  # month index from START: phased roll-out
SINGLE_GO_LIVE_MONTH = 12  # the `single` design: every team live from 2024-01-01
DRAWS: tuple[str, ...] = ("independent", "stratified")
RAMP_MONTHS = 6  # the `ramp` design: effects reach full size in the sixth live month


@dataclass(frozen=True)
class Design:
    """How the CRM is rolled out and how strongly it acts (for calibration studies).

    `effect_scale` multiplies every injected effect (0: no effect at all);
    `ramp_months` > 0 makes effects grow linearly, (k + 1) / ramp_months of full
    size in the k-th calendar month since the team's go-live (k = 0, 1, ...).
    `draws`: "independent" (the default) draws every deal's, lead's, ticket's and
    customer's outcome on its own, as real ones are; "stratified" (the demo before this
    option) spreads the draws of a cell (team x quarter x segment, team x month) evenly
    over [0, 1), which makes a cell's rate nearly fixed and its months negatively
    autocorrelated (a lucky month is followed by an unlucky one): intervals that take
    months as independent, right for real data, were too wide on it.
    """

    name: str
    go_live_month: tuple[int, ...]
    effect_scale: float = 1.0
    ramp_months: int = 0
    draws: str = "independent"

    def ramp_by_month(self) -> list[float]:
        """Share of the full effect in each month since go-live (0..35)."""
        if not self.ramp_months:
            return [self.effect_scale] * N_MONTHS
        return [self.effect_scale * min(1.0, (k + 1) / self.ramp_months) for k in range(N_MONTHS)]


DESIGNS: dict[str, Design] = {
    "phased": Design("phased", GO_LIVE_MONTH),
    "ramp": Design("ramp", GO_LIVE_MONTH, ramp_months=RAMP_MONTHS),
    "single": Design("single", (SINGLE_GO_LIVE_MONTH,) * len(GO_LIVE_MONTH)),
    "placebo": Design("placebo", GO_LIVE_MONTH, effect_scale=0.0),
    "single_placebo": Design(
        "single_placebo", (SINGLE_GO_LIVE_MONTH,) * len(GO_LIVE_MONTH), effect_scale=0.0
    ),
}
TEAM_WIN_FE: tuple[float, ...] = (0.01, 0.03, -0.02, 0.00, -0.01)  # team differences in win rate
REGION_COST: dict[str, float] = {"Americas": 9800.0, "EMEA": 8700.0, "APAC": 7600.0}
EPOCH = dt.date(1970, 1, 1)

Progress = Callable[[str, float], None]


def _us(day: dt.date) -> int:
    """Microseconds since 1970 of midnight on `day`."""
    return (day - EPOCH).days * US_PER_DAY


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + y, m + 1, 1)


@functools.cache
def _normal_grid(points: int = 8193) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of the standard normal on a fixed grid (for interpolating draws)."""
    u = (np.arange(points) + 0.5) / points
    ppf = statistics.NormalDist().inv_cdf
    return u, np.array([ppf(float(x)) for x in u])


@dataclass
class World:
    """Calendar, market and team set-up shared by every generator step.

    Times are int64 microseconds since 1970; month k covers
    [month_us[k], month_us[k + 1]).
    """

    seed: int
    scale: float
    month_us: np.ndarray  # 37 month boundaries
    month_factor: np.ndarray  # demand per month: season x trend x shock (36)
    win_shift: np.ndarray  # market change of win probability per month (36)
    size_factor: np.ndarray  # market multiplier of deal and order size per month (36)
    go_live_us: np.ndarray  # per team
    step_seq: int = 0
    design: Design = DESIGNS["phased"]

    @property
    def start_us(self) -> int:
        return int(self.month_us[0])

    @property
    def end_us(self) -> int:
        """First microsecond after the period (exclusive end)."""
        return int(self.month_us[-1])

    def rng(self) -> np.random.Generator:
        """A fresh independent random stream for the next step (deterministic)."""
        self.step_seq += 1
        return np.random.default_rng([self.seed, self.step_seq])

    def month_of(self, us: np.ndarray) -> np.ndarray:
        """Month index (0..35, clipped) of timestamps."""
        m = np.searchsorted(self.month_us, us, side="right") - 1
        return np.clip(m, 0, N_MONTHS - 1)

    def treated(self, team: np.ndarray, us: np.ndarray) -> np.ndarray:
        """True where a row of `team` at time `us` is on or after the team's go-live."""
        return np.asarray(us >= self.go_live_us[team])

    def dose(self, team: np.ndarray, us: np.ndarray) -> np.ndarray:
        """Share of the full CRM effect acting on a row: 0 before go-live, then the design's."""
        treated = self.treated(team, us)
        if not self.design.ramp_months:
            return treated * self.design.effect_scale
        since = self.month_of(us) - self.month_of(self.go_live_us[np.asarray(team)])
        ramp = np.asarray(self.design.ramp_by_month())[np.clip(since, 0, N_MONTHS - 1)]
        return np.where(treated, ramp, 0.0)

    def strat(self, rng: np.random.Generator, cell: np.ndarray) -> np.ndarray:
        """Uniforms in [0, 1), independent or stratified within cells (`Design.draws`).

        Stratified, each value is still uniform, but a cell's draws cover [0, 1)
        evenly, so rates per cell carry less sampling noise than independent draws.
        """
        n = len(cell)
        if self.design.draws == "independent":
            return rng.random(n)
        order = np.lexsort((rng.random(n), cell))
        sc = np.asarray(cell)[order]
        first = np.concatenate([[0], np.flatnonzero(sc[1:] != sc[:-1]) + 1]).astype(np.int64)
        size = np.diff(np.concatenate([first, [n]]))
        grp = np.repeat(np.arange(first.size), size)
        u = np.empty(n)
        u[order] = (np.arange(n) - first[grp] + rng.random(n)) / size[grp]
        return u

    def strat_normal(self, rng: np.random.Generator, cell: np.ndarray) -> np.ndarray:
        """Standard normal draws, independent or stratified within cells (see `strat`)."""
        if self.design.draws == "independent":
            return rng.standard_normal(len(cell))
        grid_u, grid_z = _normal_grid()
        return np.interp(self.strat(rng, cell), grid_u, grid_z)

    def cell(self, team: np.ndarray, us: np.ndarray) -> np.ndarray:
        """Team-month cell number of rows (for stratified draws)."""
        return np.asarray(team) * N_MONTHS + self.month_of(us)

    def in_month(self, rng: np.random.Generator, month: np.ndarray) -> np.ndarray:
        """A uniform random time within each given month."""
        lo = self.month_us[month]
        hi = self.month_us[month + 1]
        return lo + (rng.random(len(month)) * (hi - lo)).astype(np.int64)

    def events(
        self,
        rng: np.random.Generator,
        lo_us: np.ndarray,
        hi_us: np.ndarray,
        rate_per_month: float | np.ndarray,
        demand: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Poisson events in each interval [lo, hi): (owner index, time) sorted by owner.

        With `demand`, the monthly rate follows seasonality, trend and the shock
        (by thinning); otherwise it is flat.
        """
        months = np.maximum(hi_us - lo_us, 0) / (30.4375 * US_PER_DAY)
        top = float(self.month_factor.max()) if demand else 1.0
        counts = rng.poisson(np.asarray(rate_per_month) * top * months)
        owner = np.repeat(np.arange(len(lo_us)), counts)
        t = lo_us[owner] + (rng.random(owner.size) * (hi_us - lo_us)[owner]).astype(np.int64)
        if demand:
            keep = rng.random(owner.size) * top < self.month_factor[self.month_of(t)]
            owner, t = owner[keep], t[keep]
        return owner, t


def make_world(seed: int, scale: float, design: Design = DESIGNS["phased"]) -> World:
    """The calendar and market of the demo company."""
    months = [_add_months(START, k) for k in range(N_MONTHS + 1)]
    month_us = np.array([_us(d) for d in months], dtype=np.int64)
    k = np.arange(N_MONTHS)
    season = np.array(fx.SEASON)[np.array([d.month - 1 for d in months[:-1]])]
    shocked = k >= fx.SHOCK_MONTH
    demand = (
        season
        * (1 + fx.TREND_PER_YEAR) ** (k / 12)
        * np.where(shocked, 1 + fx.DEMAND_SHOCK_REL, 1.0)
    )
    go_live = np.array([_us(months[g]) for g in design.go_live_month], dtype=np.int64)
    return World(
        seed=seed,
        scale=scale,
        month_us=month_us,
        month_factor=demand,
        win_shift=np.where(shocked, fx.SHOCK_WIN_RATE_ABS, 0.0),
        size_factor=np.where(shocked, 1 + fx.SHOCK_DEAL_SIZE_REL, 1.0),
        go_live_us=go_live,
        design=design,
    )


@dataclass
class Reps:
    """Sales seats ("slots") and the reps filling them.

    A slot belongs to a team; some slots change hands once: rep `first` leaves on
    `switch_us` and rep `second` is hired that day.
    """

    slot_team: np.ndarray
    slot_first: np.ndarray
    slot_second: np.ndarray  # -1 when the slot never changes hands
    slot_switch_us: np.ndarray  # int64 max when it never changes hands
    team_slot_start: np.ndarray
    team_slot_count: np.ndarray
    rep_team: np.ndarray
    rep_skill: np.ndarray  # added to win probability
    table: pa.Table = field(repr=False)

    def rep_at(self, slot: np.ndarray, us: np.ndarray) -> np.ndarray:
        """The rep holding each slot at each time."""
        return np.where(
            us < self.slot_switch_us[slot], self.slot_first[slot], self.slot_second[slot]
        )

    def random_slot(self, rng: np.random.Generator, team: np.ndarray) -> np.ndarray:
        """A uniformly random slot of each row's team."""
        u = rng.random(len(team))
        return self.team_slot_start[team] + (u * self.team_slot_count[team]).astype(np.int64)


def make_reps(world: World, rng: np.random.Generator) -> Reps:
    """About 40 reps per unit of scale in five teams, a few leaving and replaced."""
    n_slots = max(len(TEAMS), round(36 * world.scale))
    per_team = np.maximum(1, np.floor(np.array(TEAM_WEIGHT) * n_slots)).astype(np.int64)
    per_team[0] += n_slots - per_team.sum()
    slot_team = np.repeat(np.arange(len(TEAMS)), per_team)
    starts = np.concatenate([[0], np.cumsum(per_team)[:-1]])
    switches = rng.random(n_slots) < 0.13
    n_second = int(switches.sum())
    first = np.arange(n_slots)
    second = np.full(n_slots, -1, dtype=np.int64)
    second[switches] = n_slots + np.arange(n_second)
    month = rng.integers(4, N_MONTHS - 2, n_slots)
    switch_us = np.where(
        switches,
        world.month_us[month] + rng.integers(0, 28, n_slots) * US_PER_DAY,
        np.iinfo(np.int64).max,
    )
    n_reps = n_slots + n_second
    rep_slot = np.concatenate([first, np.flatnonzero(switches)])
    rep_team = slot_team[rep_slot]
    start_day = world.start_us // US_PER_DAY
    hired = start_day - rng.integers(60, 9 * 365, n_reps)
    hired[n_slots:] = switch_us[switches] // US_PER_DAY
    left = np.zeros(n_reps, dtype=np.int64)
    left_mask = np.ones(n_reps, dtype=bool)
    left[:n_slots][switches] = switch_us[switches] // US_PER_DAY
    left_mask[:n_slots][switches] = False
    region = np.array(TEAM_REGION, dtype=object)[rep_team]
    base_cost = np.array([REGION_COST[r] for r in TEAM_REGION])[rep_team]
    cost = base_cost * rng.lognormal(0.0, 0.12, n_reps)
    country_for_region = {"Americas": "United States", "EMEA": "Germany", "APAC": "Singapore"}
    countries = list(dict.fromkeys(country_for_region.values()))
    cidx = np.array([countries.index(country_for_region[r]) for r in region])
    name, _ = people(rng, cidx, countries)
    ids = make_ids("R", n_reps, 4)
    table = finish(
        "reps",
        {
            "rep_id": ids,
            "name": pa.array(name, pa.string()),
            "team": pa.array(np.array(TEAMS, dtype=object)[rep_team], pa.string()),
            "region": pa.array(region, pa.string()),
            "hired_on": dates(hired),
            "left_on": dates(left, mask=left_mask),
            "monthly_cost": money(cost),
            "email": pa.array([f"{i.lower()}@demo-company.example" for i in ids.to_pylist()]),
        },
        world.seed,
    )
    return Reps(
        slot_team=slot_team,
        slot_first=first,
        slot_second=second,
        slot_switch_us=switch_us,
        team_slot_start=starts,
        team_slot_count=per_team,
        rep_team=rep_team,
        rep_skill=rng.normal(0.0, 0.025, n_reps),
        table=table,
    )


@dataclass
class DemoCompany:
    """A generated demo company: canonical tables plus the ground truth."""

    tables: dict[str, pa.Table]
    truth: dict[str, Any]
    go_live_by_team: dict[str, dt.date]
    start: dt.date
    end: dt.date
    seed: int = 42
    scale: float = 1.0
    timings: dict[str, float] = field(default_factory=dict)


def generate_company(
    scale: float = 1.0,
    seed: int = 42,
    progress: Progress | None = None,
    design: str = "phased",
    draws: str | None = None,
) -> DemoCompany:
    """Generate the demo company (36 months from 2023-01-01) at `scale` with `seed`.

    `design` (see `DESIGNS`): "phased" (the default roll-out), "ramp" (effects grow
    over six months), "single" (one go-live for every team), "placebo" (no effect) or
    "single_placebo" (one go-live, no effect). `draws` ("independent" or "stratified",
    see `Design`) overrides the design's.

    Scale 1 gives about 40 reps, 5,000 accounts and 400k activities; the tables
    are identical for the same seed and scale.
    """
    from crmroi.demo import adoption as people
    from crmroi.demo.activities import make_activities
    from crmroi.demo.costs import make_costs
    from crmroi.demo.logins import make_users_and_logins
    from crmroi.demo.sales import make_sales
    from crmroi.demo.service import make_service

    if not scale > 0:
        raise ValueError("scale must be positive")
    plan = _plan(design, draws)
    report: Progress = progress or (lambda _step, _frac: None)
    timings: dict[str, float] = {}
    tables: dict[str, pa.Table] = {}
    world = make_world(seed, scale, plan)
    steps: list[tuple[str, float]] = [
        ("reps", 0.03),
        ("accounts, leads and deals", 0.25),
        ("orders, tickets and contacts", 0.40),
        ("activities", 0.85),
        ("spend, time, forecasts and CRM costs", 1.0),
    ]
    t0 = time.perf_counter()
    reps = make_reps(world, world.rng())
    tables["reps"] = reps.table
    timings[steps[0][0]] = time.perf_counter() - t0
    report(*steps[0])
    sales = make_sales(world, reps)
    tables.update(sales.tables)
    timings[steps[1][0]] = time.perf_counter() - t0
    report(*steps[1])
    service = make_service(world, reps, sales)
    tables.update(service.tables)
    timings[steps[2][0]] = time.perf_counter() - t0
    report(*steps[2])
    hired_day = reps.table.column("hired_on").to_numpy(zero_copy_only=False)
    adopted = people.adoption_months(world, reps, hired_day.astype("datetime64[D]").astype(int))
    tables["activities"] = make_activities(world, reps, sales, service, adopted)
    tables.update(make_users_and_logins(world, reps, adopted))
    timings[steps[3][0]] = time.perf_counter() - t0
    report(*steps[3])
    tables.update(make_costs(world, reps, sales, service))
    timings[steps[4][0]] = time.perf_counter() - t0
    report(*steps[4])

    from crmroi.store.schema import TABLES

    ordered = {name: tables[name] for name in TABLES if name in tables}  # none supplied
    end = dt.date(2025, 12, 31)
    go_live = {t: _add_months(START, g) for t, g in zip(TEAMS, plan.go_live_month, strict=True)}
    truth = fx.truth_document(
        seed=seed,
        scale=scale,
        start=START.isoformat(),
        end=end.isoformat(),
        go_live_by_team={t: d.isoformat() for t, d in go_live.items()},
        shock_start=_add_months(START, fx.SHOCK_MONTH).isoformat(),
        realised=sales.realised,
        realised_by_team_month=sales.realised_by_team_month,
        teams=TEAMS,
        design={
            "name": plan.name,
            "effect_scale": plan.effect_scale,
            "ramp_months": plan.ramp_months,
            "draws": plan.draws,
            "ramp_by_month": plan.ramp_by_month(),
            # customers' churn hazard falls at go-live in every design (no ramp)
            "step_effects": ["retention_rate"],
            "realised_keys": sorted(sales.realised),
        },
        market_by_month=[
            {
                "month": _add_months(START, k).isoformat(),
                "demand": round(float(world.month_factor[k]), 6),
                "win_shift": float(world.win_shift[k]),
                "size_factor": float(world.size_factor[k]),
            }
            for k in range(N_MONTHS)
        ],
    )
    rep_ids = reps.table.column("rep_id").to_pylist()
    truth["adoption"] = {
        "measure": "share of employed reps working in the CRM (logging hand-entered "
        "activities) in each calendar month",
        "hand_kinds": list(people.HAND_KINDS),
        "keep_before_adoption": people.KEEP_BEFORE_ADOPTION,
        "by_month_since_go_live": list(people.ADOPTION_BY_MONTH),
        "rep_adopted_month": {
            r: (_add_months(START, int(m)).isoformat() if m < N_MONTHS else None)
            for r, m in zip(rep_ids, adopted, strict=True)
        },
        "company_by_month": [
            {"month": _add_months(START, k).isoformat(), "share": v}
            for k, v in enumerate(people.truth_by_month(world, reps, adopted))
        ],
    }
    from crmroi.demo import logins

    truth["logins"] = {
        "measure": "share of licensed CRM users logging in on at least half of the working "
        "days of their licence in each calendar month (crm_users, user_logins)",
        "users_not_reps": len(logins.EXTRA_USERS),
        "share_of_days_before_adoption": logins.P_BEFORE,
        "company_by_month": [
            {**x, "month": _add_months(START, k).isoformat()}
            for k, x in enumerate(logins.truth_by_month(world, reps, adopted))
        ],
    }
    truth["relationships"] = {
        "single_threaded_share": people.SINGLE_THREADED,
        "second_rep_share_beta": [people.SECOND_SHARE_A, people.SECOND_SHARE_B],
    }
    return DemoCompany(
        tables=ordered,
        truth=truth,
        go_live_by_team=go_live,
        start=START,
        end=end,
        seed=seed,
        scale=scale,
        timings=timings,
    )


def _plan(design: str, draws: str | None) -> Design:
    """The named design, with `draws` in place of its own when given."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {', '.join(DESIGNS)}")
    if draws is None:
        return DESIGNS[design]
    if draws not in DRAWS:
        raise ValueError(f"draws must be one of {', '.join(DRAWS)}")
    return dataclasses.replace(DESIGNS[design], draws=draws)


def realised_truth(
    scale: float = 1.0, seed: int = 42, design: str = "phased", draws: str | None = None
) -> dict[str, Any]:
    """The part of truth.json measured on the rows (`realised_by_team_month`, with
    `start` and `go_live_by_team`), from the sales step alone: the same draws as
    `generate_company` with the same arguments, at a fraction of its cost."""
    from crmroi.demo.sales import make_sales

    plan = _plan(design, draws)
    world = make_world(seed, scale, plan)
    sales = make_sales(world, make_reps(world, world.rng()))
    go_live = {t: _add_months(START, g) for t, g in zip(TEAMS, plan.go_live_month, strict=True)}
    return {
        "start": START.isoformat(),
        "go_live_by_team": {t: d.isoformat() for t, d in go_live.items()},
        "realised_by_team_month": {
            kpi: {part: dict(zip(TEAMS, grid, strict=True)) for part, grid in parts.items()}
            for kpi, parts in sales.realised_by_team_month.items()
        },
    }
