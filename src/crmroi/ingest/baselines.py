"""Supplied baselines (`supplied_baselines`): the checks beyond the column types.

A supplied baseline is one value per KPI and calendar month. `check_baselines`
refuses, with file, row, column and reason, a row whose `period_start` is not the
first day of a month and every row of a KPI and month given twice in one file
(which value is right cannot be guessed). The import then refuses the whole file
set when any row was refused (`refusal`): a baseline with a month silently
missing would be a different baseline.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from crmroi.ingest import reasons, refusals
from crmroi.ingest.rejects import Reject
from crmroi.ingest.transform import MappedTable
from crmroi.messages import Items, Message

ENTITY = "supplied_baselines"


def check_baselines(mapped: MappedTable) -> MappedTable:
    """`mapped` without its rows dated inside a month or repeating a KPI and month
    (moved to its rejects); other tables pass unchanged."""
    if mapped.entity != ENTITY or mapped.table.num_rows == 0:
        return mapped
    table = mapped.table
    days = table.column("period_start").to_pylist()
    kpis = table.column("kpi").to_pylist()
    lines = mapped.lines or list(range(1, table.num_rows + 1))
    keep = np.ones(table.num_rows, dtype=bool)
    rejects = list(mapped.rejects)
    seen: dict[tuple[str, dt.date], list[int]] = {}
    for i, (kpi, day) in enumerate(zip(kpis, days, strict=True)):
        if day.day != 1:
            keep[i] = False
            rejects.append(
                Reject(
                    mapped.file or mapped.label, lines[i], "period_start",
                    reasons.not_month_start(day),
                    day.isoformat(),
                )
            )  # fmt: skip
        seen.setdefault((kpi, day.replace(day=1)), []).append(i)
    for (kpi, month), rows in seen.items():
        if len(rows) < 2:
            continue
        others = Items(str(lines[j]) for j in rows)
        for i in rows:
            keep[i] = False
            rejects.append(
                Reject(
                    mapped.file or mapped.label, lines[i], "kpi",
                    reasons.month_given_twice(kpi, month, others),
                    kpi,
                )
            )  # fmt: skip
    if keep.all():
        return mapped
    mapped.table = table.filter(pa.array(keep))
    mapped.lines = [line for line, k in zip(lines, keep.tolist(), strict=True) if k]
    mapped.rejects = sorted(rejects, key=lambda r: r.row)
    return mapped


def refusal(mapped: list[MappedTable]) -> Message | None:
    """Why an import of supplied baselines is refused whole (None: no row was refused):
    the first problem's file, row, column and reason, and how many there are."""
    rejects = [r for t in mapped if t.entity == ENTITY for r in t.rejects]
    if not rejects:
        return None
    first = min(rejects, key=lambda r: (r.file, r.row))
    more = len(rejects) - 1
    return refusals.baselines_whole(first.file, first.row, first.column, first.reason, more)


__all__ = ["ENTITY", "check_baselines", "refusal"]
