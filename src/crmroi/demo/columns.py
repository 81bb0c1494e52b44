"""Arrow column builders for the demo tables (ids, timestamps, dates, lineage)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmroi.store.schema import ID_COLUMN, TABLES

US_PER_DAY = 86_400_000_000
"""Microseconds in a day: timestamps are int64 microseconds since 1970 (naive UTC)."""


def business_time(us: np.ndarray) -> np.ndarray:
    """Move timestamps into working hours: Monday-Friday, 08:00-18:00.

    Each week's seven days (Sunday to Saturday) are squeezed evenly onto its five
    working days and each day onto ten hours, so times stay in order and in the
    same week. (The demo period starts on a Sunday and ends on a Wednesday, so no
    time leaves the period.)
    """
    us = np.asarray(us, dtype=np.int64)
    day = np.floor_divide(us, US_PER_DAY)
    weekday = (day + 4) % 7  # 1970-01-01 was a Thursday; 0 = Sunday
    sunday = day - weekday
    pos = (weekday + (us - day * US_PER_DAY) / US_PER_DAY) * (5.0 / 7.0)  # 0..5 days
    work_day = np.floor(pos)
    hour_us = US_PER_DAY // 24
    in_day = ((pos - work_day) * 10 * hour_us).astype(np.int64)
    return (sunday + 1 + work_day.astype(np.int64)) * US_PER_DAY + 8 * hour_us + in_day


def make_ids(prefix: str, n: int, width: int) -> pa.Array:
    """Ids `prefix` + 1-based zero-padded number, e.g. R0001 (wider if n needs it)."""
    width = max(width, len(str(n)))
    nums = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    padded = pc.utf8_lpad(nums, width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, "")


def take(values: pa.Array | list[str], idx: np.ndarray) -> pa.Array:
    """values[idx], with null wherever idx < 0."""
    arr = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    idx = np.asarray(idx, dtype=np.int64)
    mask = idx < 0
    indices = pa.array(np.where(mask, 0, idx), mask=mask if mask.any() else None)
    return pc.take(arr, indices)


def ts(us: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Microseconds since 1970 as a naive `timestamp[us]` column (null where mask)."""
    arr = np.asarray(us, dtype=np.int64).astype("datetime64[us]")
    return pa.array(arr, type=pa.timestamp("us"), mask=mask)


def day_of(us: np.ndarray) -> np.ndarray:
    """Whole days since 1970 of microsecond timestamps."""
    return np.floor_divide(np.asarray(us, dtype=np.int64), US_PER_DAY)


def dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Days since 1970 as a `date32` column (null where mask)."""
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.date32(), mask=mask)


def money(values: np.ndarray) -> pa.Array:
    """Amounts rounded to cents as float64."""
    return pa.array(np.round(np.asarray(values, dtype=np.float64), 2), type=pa.float64())


def finish(name: str, columns: dict[str, Any], seed: int) -> pa.Table:
    """Build table `name` in schema order, adding currency and lineage columns.

    `source_id` is the row's id, or the natural key joined by "|" for tables
    without an id of their own.
    """
    table_def = TABLES[name]
    schema = table_def.arrow_schema()
    n = len(next(iter(columns.values())))
    cols = dict(columns)
    if table_def.has_currency:
        cols["currency"] = pa.repeat(pa.scalar("USD"), n)
        amount_col = "amount" if "amount" in cols else table_def.money_columns[0]
        cols["amount_original"] = cols[amount_col]
    id_col = ID_COLUMN.get(name)
    if id_col is not None:
        cols["source_id"] = cols[id_col]
    else:
        parts = [pc.cast(cols[k], pa.string()) for k in table_def.key]
        cols["source_id"] = pc.binary_join_element_wise(*parts, "|")
    cols["source_system"] = pa.repeat(pa.scalar("demo"), n)
    cols["batch_id"] = pa.repeat(pa.scalar(f"demo-{seed}"), n)
    arrays = []
    for field in schema:
        value = cols[field.name]
        arr = value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
        if arr.type != field.type:
            arr = arr.cast(field.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)
