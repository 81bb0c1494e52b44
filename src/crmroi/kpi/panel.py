"""Monthly KPI panels (KPI by team, or rep, segment, source, by calendar month).

For attribution models (difference in differences, time series): one row per KPI,
unit value and month with the numerator, denominator and value. Each KPI is
aggregated per unit first (as in the report), then summed per cell in the
database; medians come from per-cell value counts. retention_rate needs a window
of months and has no monthly panel (its rows are left out).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmroi.errors import ConfigurationError
from crmroi.kpi.changes import value
from crmroi.kpi.definitions import BY_CHOICES, KPI_DEFINITIONS
from crmroi.kpi.engine import SPECS
from crmroi.kpi.facts import Ctx
from crmroi.kpi.intervals import median_of_counts
from crmroi.kpi.stats import placed
from crmroi.kpi.windows import MonthWindows, add_months
from crmroi.store.store import Store

PANEL_COLUMNS = ["kpi", "unit", "month", "num", "den", "value"]


def _months(store: Store) -> list[dt.datetime]:
    lows: list[dt.date] = []
    highs: list[dt.date] = []
    for table, column in (
        ("deals", "created_at"),
        ("activities", "occurred_at"),
        ("leads", "created_at"),
    ):
        t = store.table(table)
        row = t.aggregate(lo=t[column].min(), hi=t[column].max()).to_pyarrow().to_pylist()[0]
        if row["lo"] is not None:
            lows.append(row["lo"].date())
            highs.append(row["hi"].date())
    if not lows:
        return []
    day, out = min(lows).replace(day=1), []
    while day <= add_months(max(highs), 1):
        out.append(dt.datetime(day.year, day.month, 1))
        day = add_months(day, 1)
    return out


def kpi_panel(
    store: Store, names: Sequence[str] | None = None, unit: str = "team", freq: str = "month"
) -> pd.DataFrame:
    """KPI values per `unit` (team, rep, segment, source) and calendar month.

    Columns: kpi, unit (the team/rep/... value), month (first day, datetime), num,
    den and value (total: num; ratio: num / den; median: the cell's median).
    """
    if freq != "month":
        raise ConfigurationError("only monthly panels are supported (freq='month')")
    if unit not in BY_CHOICES:
        raise ConfigurationError(f"unit must be one of {', '.join(BY_CHOICES)}")
    ctx = Ctx(store, MonthWindows(), _months(store))
    frames = []
    for name in names or list(KPI_DEFINITIONS):
        d = KPI_DEFINITIONS[name]
        if d.kind == "annual" or unit not in d.dims or any(store.count(t) == 0 for t in d.tables):
            continue
        spec = SPECS[name]
        f = placed(ctx, spec, MonthWindows(), unit)
        if d.kind == "median":
            rounded = f.mutate(v=f.num.round(5).cast("float64"))
            g = rounded.group_by(["grp", "period", "v"]).aggregate(n=rounded.count())
            raw = g.to_pyarrow().to_pandas()
            rows = [
                (
                    k[0],
                    k[1],
                    np.nan,
                    float(x.n.sum()),
                    median_of_counts(x.v.to_numpy(), x.n.to_numpy()),
                )
                for k, x in raw.groupby(["grp", "period"])
            ]
            cell = pd.DataFrame(rows, columns=["unit", "month", "num", "den", "value"])
        else:
            per_unit = f.group_by(["grp", "unit", "period"]).aggregate(
                num=spec.num_agg(f).cast("float64"), den=spec.den_agg(f).cast("float64")
            )
            g = per_unit.group_by(["grp", "period"]).aggregate(
                num=per_unit.num.sum(), den=per_unit.den.sum()
            )
            cell = g.to_pyarrow().to_pandas().rename(columns={"grp": "unit", "period": "month"})
            cell["value"] = value(d.kind, (cell.num.to_numpy(), cell.den.to_numpy()), 1)
        cell.insert(0, "kpi", name)
        frames.append(cell[PANEL_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=PANEL_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["month"] = pd.to_datetime(out["month"])
    return out.sort_values(["kpi", "unit", "month"], ignore_index=True)
