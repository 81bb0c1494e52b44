"""Fact rows and their aggregates (cubes): what every KPI module builds on.

Each KPI module (`sales`, `activity`, `customers`, `service`, `sources`) describes
a canonical table's rows by their time bucket `b`, team (its rep's team, or its
account owner's team), rep (the account owner when the row has none), account,
segment, lead source and group value `grp` (the `--by` column, or "all"), plus the
measures its KPIs need. `fetch_cube` aggregates them per key in the database, in
one query per table, and returns a `Cube` of a few rows per account or rep and
bucket; the KPIs are then formed from the cubes for every window set
(`crmroi.kpi.stats`). One scan per table serves every KPI built on it,
every window set and every engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from crmroi.kpi.buckets import Buckets, Evaluation
from crmroi.kpi.lookups import Lookups, regroup
from crmroi.kpi.prefetch import Planned, Prefetch
from crmroi.kpi.stats import NONE, Cube, Labels, Placed, UnitSums, coded_columns
from crmroi.store.store import Store

GROUP_COLUMNS: dict[str, str] = {"team": "team", "rep": "rep", "segment": "seg", "source": "src"}


@dataclass
class Ctx:
    """The store, the buckets and grouping of a run, and the cubes fetched so far."""

    store: Store
    buckets: Buckets
    by: str | None = None
    month_starts: list[Any] = field(default_factory=list)  # datetimes for rep-month rows
    labels: Labels = field(default_factory=Labels)
    cubes: dict[str, Cube] = field(default_factory=dict)
    exposure: str = "closed"  # deals: "created" counts only deals created in their window
    prefetch: Prefetch | None = None  # cube queries sent ahead (`send_ahead`)
    _building: list[str] = field(default_factory=list)  # names of the cubes being built
    _planning: bool = False  # builders run only to send their query ahead

    def t(self, name: str) -> ir.Table:
        """A canonical table (runs are made within `Store.reading`: looked up once)."""
        return self.store.table(name)

    def cube(self, name: str, build: Callable[[Ctx], Cube]) -> Cube:
        """The cube `name`, fetched once per run."""
        if name not in self.cubes:
            with self._as_building(name):
                self.cubes[name] = build(self)
        return self.cubes[name]

    @contextlib.contextmanager
    def _as_building(self, name: str) -> Iterator[None]:
        """Within: `fetch_cube` queries are cube `name`'s (`arrow` keys them by it)."""
        self._building.append(name)
        try:
            yield
        finally:
            self._building.pop()

    def send_ahead(self, builders: Sequence[CubeBuilder]) -> None:
        """Send the queries of these cubes (in the order they will be needed) to the
        prefetch worker (`crmroi.kpi.prefetch`): each builder runs until its query is
        built, then stops; nothing is fetched or coded here."""
        if self.prefetch is None:
            return
        self._planning = True
        try:
            for build in builders:
                name = cube_name(build)
                if name in self.cubes:
                    continue
                with self._as_building(name), contextlib.suppress(Planned):
                    build(self)
        finally:
            self._planning = False

    def arrow(self, expr: ir.Table, exact: bool) -> pa.Table:
        """The result of a cube's aggregate query: sent ahead (`send_ahead`) when the
        query was, else run here. While planning, the query is sent and `Planned` raised."""
        name = self._building[-1] if self._building and not exact else None
        if self._planning:
            if self.prefetch is not None and name is not None:
                self.prefetch.send(name, expr)
            raise Planned(name)
        found = None
        if self.prefetch is not None and name is not None:
            found = self.prefetch.take(name, expr)
        return expr.to_pyarrow() if found is None else found

    @cached_property
    def rep_lookup(self) -> ir.Table:
        """rep id -> team."""
        r = self.t("reps")
        return r.select(_lk_rep=r.rep_id, _lk_team=r.team)

    @cached_property
    def lookups(self) -> Lookups:
        """rep id -> team, account id -> segment, owner rep and the owner's team (codes)."""
        reps = self.t("reps").select("rep_id", "team").to_pyarrow()
        accounts = self.t("accounts").select("account_id", "segment", "owner_rep_id")
        return Lookups.build(reps, accounts.to_pyarrow(), self.labels)


def real(x: float) -> ir.FloatingValue:
    """A whole-number float literal that every engine types as double.

    (Ibis writes `1.0` as a bare literal, which PostgreSQL reads as NUMERIC, so
    sums of it come back as decimals; an integer cast to double stays double.)
    """
    if x != int(x):
        raise ValueError(f"real() takes whole numbers, not {x}")
    return ibis.literal(int(x), type="int32").cast("float64")


def flag(cond: ir.BooleanValue) -> ir.FloatingValue:
    """1.0 where `cond` holds, else 0.0 (NULL counts as false)."""
    return ibis.cases((cond.fill_null(False), real(1)), else_=real(0))


def when(cond: ir.BooleanValue, value: ir.Value) -> ir.FloatingValue:
    """`value` (float64) where `cond` holds, else 0.0."""
    return ibis.cases((cond.fill_null(False), value.cast("float64")), else_=real(0))


def days_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Days from `start` to `end` (fractional, from epoch seconds)."""
    seconds = end.epoch_seconds().cast("float64") - start.epoch_seconds().cast("float64")
    return seconds / 86400.0


def fetch_cube(
    ctx: Ctx,
    t: ir.Table,
    *,
    ts: ir.Value,
    rep: ir.Value | None = None,
    account: ir.Value | None = None,
    team: ir.Value | None = None,
    source: ir.Value | None = None,
    segment: ir.Value | None = None,
    keys: Sequence[str] = (),
    extra: dict[str, ir.Value] | None = None,
    sums: dict[str, ir.Value] | None = None,
    maxes: dict[str, ir.Value] | None = None,
    derived: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] | None = None,
    account_for_team_only: bool = False,
    halves: bool = False,
    exact: bool = False,
) -> Cube:
    """Rows of `t` aggregated per team, grp, `keys` and bucket (sorted in that order).

    The team is `team` when given, else the rep's team, else the account owner's
    team; the rep defaults to the account owner and the segment to the account's;
    grp is the run's `--by` column (or "all"). `keys` name cube keys: "acc", "rep",
    `extra` columns (computed on `t`) or `derived` ones (computed after the lookups).
    Measures: `sums` and `maxes` of expressions on `t`, and `n` (rows).

    The rows are first aggregated on their own columns (bucket, rep, account...),
    and only those groups are joined with the account and rep lookups: the joins
    see thousands of rows, not millions. With `account_for_team_only` (cubes keyed
    by rep), the account is kept only where the rep is missing or unknown (it then
    gives the rep and team), so the first aggregate is per rep, not per account.
    Buckets split windows at their midpoints only with `halves` (fewer groups).

    Whether a rep is known (in `reps`) is not looked up on the raw rows: the
    account is first kept only where the rep is NULL. A non-null rep missing from
    `reps` then shows as a cube row with a rep but no team; only then is the cube
    fetched again with the lookup on the rows (`exact`), so the result is the same.
    """
    call = dict(locals())
    del call["exact"]
    s = "string"
    sums, maxes, extra = sums or {}, maxes or {}, extra or {}
    cols: dict[str, ir.Value] = {"_b": ctx.buckets.expr(ts, halves)}
    optional = {
        "_rep": rep, "_acc": account, "_team": team,
        "_src": source if ctx.by == "source" else None,
        "_seg": segment if ctx.by == "segment" else None,
    }  # fmt: skip
    cols |= {k: v.cast(s) for k, v in optional.items() if v is not None}
    narrow = account is not None and rep is not None and account_for_team_only
    if narrow and ctx.by != "segment":
        assert rep is not None and account is not None
        if exact:
            known = rep.notnull() & rep.isin(ctx.t("reps").rep_id)
            cols["_acc"] = ibis.cases((known, ibis.null(s)), else_=account.cast(s))
        else:  # see the docstring: no lookup on the raw rows
            cols["_acc"] = ibis.cases((rep.isnull(), account.cast(s)), else_=ibis.null(s))
    cols |= extra
    pre = t.select(**cols, **{f"_s_{k}": v for k, v in sums.items()},
                   **{f"_m_{k}": v for k, v in maxes.items()})  # fmt: skip
    group = [k for k in cols if k in pre.columns]
    agg = pre.group_by(group).aggregate(
        _n=pre.count(),
        **{f"_s_{k}": pre[f"_s_{k}"].sum() for k in sums},
        **{f"_m_{k}": pre[f"_m_{k}"].max() for k in maxes},
    )
    nulls = {f"_m_{k}": -np.inf for k in maxes}  # lose in the maxima, like SQL's NULL
    cols = coded_columns(ctx.arrow(agg, exact), ctx.labels, nulls)
    none = np.full(len(cols["_b"]), NONE, dtype=np.int64)
    cols |= {k: none for k in optional if k not in cols}
    if account is not None:  # the account's segment, owner (the rep when none), team
        row, (seg, owner, owner_team) = ctx.lookups.account(cols["_acc"])
        cols = _repeat(cols, row)
        cols["_rep"] = np.where(cols["_rep"] != NONE, cols["_rep"], owner)
        cols["_seg"] = np.where(cols["_seg"] != NONE, cols["_seg"], seg)
    if team is None:  # the rep's team, else the account owner's
        row, rep_team = ctx.lookups.team_of_rep(cols["_rep"])
        cols = _repeat(cols, row)
        fallback = _repeat({"t": owner_team if account is not None else none}, row)["t"]
        cols["_team"] = np.where(rep_team != NONE, rep_team, fallback)
    std = {"b": cols["_b"], "team": cols["_team"], "rep": cols["_rep"], "acc": cols["_acc"]}
    if ctx.by:  # without --by every row's group is "all": set below
        std["grp"] = cols[f"_{GROUP_COLUMNS[ctx.by]}"]
    std |= {k: f(cols) for k, f in (derived or {}).items()}
    std |= {k: cols[k] for k in extra}
    std |= {"n": cols["_n"].astype(np.float64)}
    std |= {k: cols[f"_s_{k}"] for k in sums} | {k: cols[f"_m_{k}"] for k in maxes}
    order = ["team", *(["grp"] if ctx.by else []), *keys, "b"]
    measures = ["n", *sums, *maxes]
    if _one_row_per_key(group, keys, account is not None, ctx.by):
        out = {k: std[k] for k in (*order, *measures)}
    else:  # the second aggregate, on the first one's few rows
        out = regroup(std, order, ["n", *sums], list(maxes))
    for k in maxes:
        out[k] = np.where(out[k] == -np.inf, 0.0, out[k])
    cube = Cube.sorted(out, order)
    if not ctx.by:
        cube.cols["grp"] = np.full(len(cube), ctx.labels.code_of("all"), dtype=np.int64)
    cheap = narrow and not exact and "rep" in keys and ctx.by != "segment"
    if cheap and np.any((cube["rep"] != NONE) & (cube["team"] == NONE)):  # unknown reps
        return fetch_cube(**call, exact=True)
    if not halves:
        cube.cols["b"] = ctx.buckets.from_edges(cube.cols["b"])
    return cube


def _repeat(cols: dict[str, np.ndarray], row: np.ndarray) -> dict[str, np.ndarray]:
    """The rows `row` of `cols` (a join's output rows; as many as rows: each row once)."""
    if len(row) == len(next(iter(cols.values()))):
        return cols
    return {k: v[row] for k, v in cols.items()}


def _one_row_per_key(group: list[str], keys: Sequence[str], account: bool, by: str | None) -> bool:
    """True when the first aggregate's groups (columns `group`) are already the cube's
    rows: each of its columns is a cube key as it is (the bucket, the account, the
    given team, an extra key), so the second aggregate would only copy them. Not when
    a rep is filled in from the account's owner (two groups could become one), a key
    is left out (an extra column that only derives a key) or the segment is filled in."""
    carried = {"_b", "_team", "_src", *keys}
    if "acc" in keys:
        carried.add("_acc")
    if "rep" in keys and not account:
        carried.add("_rep")
    return by != "segment" and all(c in carried for c in group)


CubeBuilder = Callable[[Ctx], Cube]


def cube_name(build: CubeBuilder) -> str:
    """The name a cube is kept under in a run (its builder's qualified name)."""
    return f"{build.__module__}.{build.__qualname__}"


def uses(*builders: CubeBuilder) -> Callable[[Recipe], Recipe]:
    """Declare the cubes a KPI recipe reads (`View.on`), in the order it reads them,
    so the report can send their queries ahead (`Ctx.send_ahead`)."""

    def mark(recipe: Recipe) -> Recipe:
        recipe.cubes = builders  # type: ignore[attr-defined]
        return recipe

    return mark


def cubes_of(recipe: Recipe) -> tuple[CubeBuilder, ...]:
    """The cubes `recipe` declares with `uses` (none when it declares none)."""
    return tuple(getattr(recipe, "cubes", ()))


class View:
    """The cubes of a run placed in one evaluation (window set), for the KPI recipes.

    `by_team` groups by team (the difference-in-differences evaluations) instead
    of the run's `--by` column; `teams` (by_team only) keeps the cube rows of those
    teams alone (None: every team), so rows no comparison uses are never formed.
    """

    def __init__(
        self, ctx: Ctx, ev: Evaluation, by_team: bool = False,
        teams: Sequence[str] | None = None,
    ) -> None:  # fmt: skip
        self.ctx, self.ev, self.by_team = ctx, ev, by_team
        self.teams = None if teams is None else tuple(teams)
        self._placed: dict[str, Placed] = {}

    def on(self, build: CubeBuilder) -> Placed:
        """The cube made by `build`, placed in this evaluation's periods."""
        key = cube_name(build)
        if key not in self._placed:
            cube = self.ctx.cube(key, build)
            if self.teams is not None:
                cube = cube.of_teams([self.ctx.labels.ids.get(t, -2) for t in self.teams])
            self._placed[key] = Placed(
                cube, self.ctx.buckets, self.ev, self.ctx.labels, self.by_team
            )
        return self._placed[key]


Recipe = Callable[[View], UnitSums]
