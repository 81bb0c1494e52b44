"""What the workspace holds, asked before any KPI: rows per table, columns with values,
and the span of the events (one query each, whatever the engine)."""

from __future__ import annotations

import datetime as dt

import ibis

from crmroi.kpi.facts import Ctx
from crmroi.store.schema import TABLES
from crmroi.store.store import Store

SPAN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("deals", "created_at"), ("deals", "closed_at"), ("leads", "created_at"),
    ("activities", "occurred_at"), ("orders", "ordered_at"), ("tickets", "opened_at"),
)  # fmt: skip


def data_span(store: Store, counts: dict[str, int]) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last event time over deals, leads, activities, orders and tickets."""
    parts = []
    for table, column in SPAN_COLUMNS:  # one query for all of them
        if counts.get(table, 0):
            col = store.table(table)[column].cast("timestamp")
            parts.append(store.table(table).aggregate(lo=col.min(), hi=col.max()))
    if not parts:
        return None
    rows = ibis.union(*parts).to_pyarrow()
    lows = [v for v in rows.column("lo").to_pylist() if v is not None]
    highs = [v for v in rows.column("hi").to_pylist() if v is not None]
    return (min(lows), max(highs)) if lows else None


def table_counts(store: Store) -> dict[str, int]:
    """Rows of every canonical table, in one query."""
    parts = [store.table(n).aggregate(t=ibis.literal(n), n=lambda t: t.count()) for n in TABLES]
    rows = ibis.union(*parts).to_pyarrow().to_pylist()
    return {r["t"]: int(r["n"]) for r in rows}


def filled_columns(ctx: Ctx, columns: list[str]) -> dict[str, bool]:
    """Whether each table.column holds a non-null value, in one query."""
    parts = []
    for qualified in columns:
        table, column = qualified.split(".")
        t = ctx.t(table)
        parts.append(t.aggregate(c=ibis.literal(qualified), n=t[column].count()))
    if not parts:
        return {}
    rows = ibis.union(*parts).to_pyarrow().to_pylist()
    return {r["c"]: int(r["n"]) > 0 for r in rows}
