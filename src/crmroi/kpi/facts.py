"""KPI facts: every KPI as rows of (time, team, unit, numerator, denominator).

Each KPI module (`sales`, `activity`, `customers`, `service`, `sources`) turns the
canonical tables into an Ibis table with the columns of `FACT_COLUMNS`:

    ts          timestamp that places the row in a window
    team        team of the row (its rep's team, or its account owner's team)
    rep_id      rep of the row (the account owner for account rows), for --by rep
    account_id  account of the row
    segment     account (or lead) segment, for --by segment
    source      lead source, for --by source
    unit        the resampling unit (account or rep id; NULL: fixed, not resampled)
    num, den    numerator and denominator contributions (float64)

The engine sums num and den per unit and window (or applies the KPI's own unit
aggregation, e.g. `max` for "did this customer buy"), so one code path serves every
KPI, every grouping and every engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir

from crmroi.store.store import Store

FACT_COLUMNS: tuple[str, ...] = (
    "ts", "team", "rep_id", "account_id", "segment", "source", "unit", "num", "den",
)  # fmt: skip

Agg = Callable[[ir.Table], ir.Value]


class WindowLike(Protocol):
    """What KPI builders need from windows (`Windows` or `MonthWindows`)."""

    def attach(self, t: ir.Table) -> ir.Table: ...

    def period(self, t: ir.Table, ts: ir.TimestampValue) -> ir.Value: ...

    def window_start(self, t: ir.Table, ts: ir.TimestampValue) -> ir.Value: ...

    def second_half(self, t: ir.Table, ts: ir.TimestampValue) -> ir.Value: ...


@dataclass
class Ctx:
    """The store and the windows a KPI is built for, with small cached lookups."""

    store: Store
    windows: WindowLike
    month_starts: list[Any] = field(default_factory=list)  # datetimes for rep-month rows

    def t(self, name: str) -> ir.Table:
        return self.store.table(name)

    @cached_property
    def rep_lookup(self) -> ir.Table:
        """rep id -> team."""
        r = self.t("reps")
        return r.select(_lk_rep=r.rep_id, _lk_team=r.team)

    @cached_property
    def account_lookup(self) -> ir.Table:
        """account id -> segment, owner rep and the owner's team."""
        a = self.t("accounts")
        r = self.rep_lookup
        j = a.left_join(r, a.owner_rep_id == r._lk_rep)
        return j.select(
            _la_acc=j.account_id,
            _la_seg=j.segment,
            _la_owner=j.owner_rep_id,
            _la_team=j._lk_team,
        )


def null(kind: str) -> ir.Value:
    return ibis.null(kind)


def real(x: float) -> ir.FloatingValue:
    """A whole-number float literal that every engine types as double.

    (Ibis writes `1.0` as a bare literal, which PostgreSQL reads as NUMERIC, so
    sums of it come back as decimals; an integer cast to double stays double.)
    """
    if x != int(x):
        raise ValueError(f"real() takes whole numbers, not {x}")
    return ibis.literal(int(x), type="int32").cast("float64")


def make_facts(
    ctx: Ctx,
    t: ir.Table,
    *,
    ts: ir.Value,
    num: ir.Value | float,
    den: ir.Value | float,
    unit: str,
    rep: ir.Value | None = None,
    account: ir.Value | None = None,
    team: ir.Value | None = None,
    source: ir.Value | None = None,
    segment: ir.Value | None = None,
    extra: dict[str, ir.Value] | None = None,
) -> ir.Table:
    """Standard fact rows from table `t`: team, segment and owner filled from lookups.

    The team is `team` when given, else the rep's team, else the account owner's
    team; the rep defaults to the account owner. `unit` is "account", "rep" or
    "none" (fixed rows). `extra` columns are kept after the standard ones.
    """
    s = "string"
    base = t.select(
        _ts=ts.cast("timestamp"),
        _num=real(num) if isinstance(num, float | int) else num,
        _den=real(den) if isinstance(den, float | int) else den,
        _rep=rep.cast(s) if rep is not None else null(s),
        _acc=account.cast(s) if account is not None else null(s),
        _team=team.cast(s) if team is not None else null(s),
        _src=source.cast(s) if source is not None else null(s),
        _seg=segment.cast(s) if segment is not None else null(s),
        **(extra or {}),
    )
    has_account = account is not None
    if has_account:
        lk = ctx.account_lookup
        base = base.left_join(lk, base._acc == lk._la_acc)
        base = base.mutate(
            _rep=base._rep.coalesce(base._la_owner), _seg=base._seg.coalesce(base._la_seg)
        )
    if team is None:
        rl = ctx.rep_lookup
        base = base.left_join(rl, base._rep == rl._lk_rep)
        fallback = base._lk_team.coalesce(base._la_team) if has_account else base._lk_team
        base = base.mutate(_team=fallback)
    units = {"account": base._acc, "rep": base._rep, "none": null(s)}
    return base.select(
        ts=base._ts,
        team=base._team,
        rep_id=base._rep,
        account_id=base._acc,
        segment=base._seg,
        source=base._src,
        unit=units[unit],
        num=base._num.cast("float64"),
        den=base._den.cast("float64"),
        **{k: base[k] for k in (extra or {})},
    )


def union(*tables: ir.Table) -> ir.Table:
    """Rows of several fact tables (same columns), duplicates kept."""
    first, *rest = tables
    return first.union(*rest, distinct=False) if rest else first


def flag(cond: ir.BooleanValue) -> ir.FloatingValue:
    """1.0 where `cond` holds, else 0.0 (NULL counts as false)."""
    return ibis.cases((cond.fill_null(False), real(1)), else_=real(0))


def days_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Days from `start` to `end` (fractional, from epoch seconds)."""
    seconds = end.epoch_seconds().cast("float64") - start.epoch_seconds().cast("float64")
    return seconds / 86400.0


@dataclass(frozen=True)
class FactSpec:
    """How a KPI's facts are built and aggregated per unit and window."""

    build: Callable[[Ctx], ir.Table]
    num_agg: Agg = field(default=lambda t: t.num.sum())
    den_agg: Agg = field(default=lambda t: t.den.sum())
