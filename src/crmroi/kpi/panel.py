"""Monthly KPI panels (KPI by team, or rep, segment, source, by calendar month).

For attribution models (difference in differences, time series): one row per KPI,
unit value and month with the numerator, denominator and value. The months are the
periods of one evaluation (`crmroi.kpi.buckets.Months`): each KPI is aggregated per
unit and month from the same cubes as the report, then summed per cell; medians
come from per-cell value counts. retention_rate needs a window of months and has no
monthly panel (its rows are left out).

Exposure: with `exposure="closed"` (the KPI report's placement) deals count in the
month they closed; with `exposure="created"` (what attribution uses) the deal KPIs
of `crmroi.kpi.cohorts` count deals in the month they were created, i.e. worked,
so a team's deals created after its go-live are the ones worked with the CRM.
Activities, leads, tickets, time entries and forecasts count by their own date
either way. The frame's `attrs["cohorts_before"]` holds the first creation month
left out because its deals had mostly not closed yet (None: none left out).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from crmroi.errors import ConfigurationError
from crmroi.kpi.buckets import Buckets, Months
from crmroi.kpi.changes import value
from crmroi.kpi.definitions import BY_CHOICES, KPI_DEFINITIONS
from crmroi.kpi.engine import SPECS
from crmroi.kpi.facts import Ctx, View
from crmroi.kpi.intervals import median_of_counts
from crmroi.kpi.windows import add_months
from crmroi.store.store import Store, within_reading

PANEL_COLUMNS = ["kpi", "unit", "month", "num", "den", "value"]
Exposure = Literal["closed", "created"]
EXPOSURES: tuple[str, ...] = ("created", "closed")


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
    store: Store,
    names: Sequence[str] | None = None,
    unit: str = "team",
    freq: str = "month",
    exposure: Exposure = "closed",
    mix_before: dt.date | None = None,
) -> pd.DataFrame:
    """KPI values per `unit` (team, rep, segment, source) and calendar month.

    `mix_before` (exposure "created"): the first go-live, the reference of deal size's
    segment mix (`crmroi.kpi.cohorts.mix_held_amount`).

    Columns: kpi, unit (the team/rep/... value), month (first day, datetime), num,
    den and value (total: num; ratio: num / den; median: the cell's median); with
    exposure "created" also `deals` for the deal KPIs (deals created in the cell).
    `exposure` places deals by closing or creation month (see the module docstring).
    """
    if exposure not in EXPOSURES:
        raise ConfigurationError(f"exposure must be one of {', '.join(EXPOSURES)}")
    if freq != "month":
        raise ConfigurationError("only monthly panels are supported (freq='month')")
    wanted = list(names or KPI_DEFINITIONS)
    if exposure == "created" and unit in ("team", "rep"):
        from crmroi.kpi.cohorts import COHORT_KPIS, cohort_panel

        cohorts, cut = cohort_panel(store, wanted, unit, mix_before)
        rest = [n for n in wanted if n not in COHORT_KPIS]
        out = _panel(store, rest, unit, freq) if rest else pd.DataFrame(columns=PANEL_COLUMNS)
        if not cohorts.empty:
            out = pd.concat([out, cohorts], ignore_index=True) if not out.empty else cohorts
            out = out.sort_values(["kpi", "unit", "month"], ignore_index=True)
        out.attrs["cohorts_before"] = cut
        out.attrs["deal_size_segments"] = cohorts.attrs.get("deal_size_segments", [])
        return out
    if exposure == "created":
        raise ConfigurationError("exposure 'created' needs unit team or rep")
    return _panel(store, wanted, unit, freq)


@within_reading
def _panel(store: Store, names: Sequence[str], unit: str, freq: str) -> pd.DataFrame:
    """The engine's panel: every KPI placed by its own date column."""
    if freq != "month":
        raise ConfigurationError("only monthly panels are supported (freq='month')")
    if unit not in BY_CHOICES:
        raise ConfigurationError(f"unit must be one of {', '.join(BY_CHOICES)}")
    months = Months(tuple(_months(store)))
    ctx = Ctx(store, Buckets([months], []), unit, list(months.starts))
    view = View(ctx, months)
    frames = []
    for name in names or list(KPI_DEFINITIONS):
        d = KPI_DEFINITIONS[name]
        if d.kind == "annual" or unit not in d.dims or any(store.count(t) == 0 for t in d.tables):
            continue
        if len(months.starts) < 2:
            continue
        sums = SPECS[name](view)
        keys, inv = np.unique(np.stack([sums.grp, sums.period]), axis=1, return_inverse=True)
        inv = inv.reshape(-1)
        num = np.bincount(inv, weights=sums.num, minlength=keys.shape[1])
        den = np.bincount(inv, weights=sums.den, minlength=keys.shape[1])
        if d.kind == "median":
            order = np.argsort(inv, kind="stable")
            split = np.split(order, np.cumsum(np.bincount(inv, minlength=keys.shape[1]))[:-1])
            val = np.array([median_of_counts(sums.num[i], sums.den[i]) for i in split], float)
            num = np.full(len(den), np.nan)
        else:
            val = value(d.kind, (num, den), 1)
        rows = [
            (ctx.labels.name(int(g)), months.starts[int(p)], num[i], den[i], val[i])
            for i, (g, p) in enumerate(keys.T)
        ]
        cell = pd.DataFrame(rows, columns=["unit", "month", "num", "den", "value"])
        cell.insert(0, "kpi", name)
        frames.append(cell[PANEL_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=PANEL_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["month"] = pd.to_datetime(out["month"])
    return out.sort_values(["kpi", "unit", "month"], ignore_index=True)
