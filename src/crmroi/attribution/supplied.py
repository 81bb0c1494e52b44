"""Attribution over a supplied baseline: an interrupted time series whose months
before go-live are the supplied values (`supplied_baselines`) and whose months from
go-live on are the company's measured monthly values (docs/attribution.md,
"Supplied baselines").

Used by `attribute_workspace` for a KPI whose own data lack the baseline window
(the rule of `crmroi.kpi.supplied`) when supplied values exist for it. The
company's monthly value is the sum over teams for totals and sum of numerators /
sum of denominators for ratios, with deals placed by closing month (as finance books
them); medians and annual rates have no company series from team cells and stay
unavailable. The interval is the time-series model's (month-to-month variation of the
series), not a sampling interval of the supplied figures, and the series changes
source at go-live: both are stated in the result's notes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from crmroi.attribution import notes as said
from crmroi.attribution import reasons
from crmroi.attribution.its import MIN_MONTHS_BEFORE, interrupted_time_series
from crmroi.attribution.results import Attribution, AttributionError
from crmroi.kpi import KPI_DEFINITIONS, kpi_panel
from crmroi.kpi.supplied import SuppliedSeries
from crmroi.store.store import Store


def company_after(store: Store, name: str, go_live: dt.date) -> pd.DataFrame:
    """The company's measured monthly value of `name` from go-live on (period, value):
    totals summed over teams, ratios as summed numerators over summed denominators."""
    d = KPI_DEFINITIONS[name]
    panel = kpi_panel(store, [name], unit="team", exposure="closed")
    panel = panel[(panel["kpi"] == name) & (panel["month"] >= pd.Timestamp(go_live))]
    sums = panel.groupby("month")[["num", "den"]].sum()
    value = sums["num"] if d.kind == "total" else sums["num"] / sums["den"].where(sums["den"] > 0)
    out = pd.DataFrame({"period": sums.index, "value": value.to_numpy(dtype="float64")})
    return out.dropna().reset_index(drop=True)


def supplied_series(
    store: Store, name: str, series: SuppliedSeries, go_live: dt.date
) -> pd.DataFrame:
    """The monthly series the time series reads: supplied months before go-live, then
    the company's measured months."""
    before = [(m, v) for m, v in zip(series.months, series.values, strict=True) if m < go_live]
    pre = pd.DataFrame(
        {"period": pd.to_datetime([m for m, _ in before]), "value": [v for _, v in before]}
    )
    frames = [f for f in (pre, company_after(store, name, go_live)) if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pre


def attribute_supplied(
    store: Store,
    name: str,
    series: SuppliedSeries,
    go_live: dt.date,
    covariates: pd.DataFrame | None = None,
) -> Attribution:
    """The CRM's effect on `name` over its supplied baseline (an `AttributionError`
    with the reason when it cannot be formed)."""
    d = KPI_DEFINITIONS[name]
    if d.kind not in ("total", "ratio"):
        raise AttributionError(reasons.supplied_kind(name, series.source, d.kind))
    data = supplied_series(store, name, series, go_live)
    before = int((data["period"] < pd.Timestamp(go_live)).sum())
    if before < MIN_MONTHS_BEFORE:
        short = reasons.supplied_short(name, series.source, before, MIN_MONTHS_BEFORE)
        raise AttributionError(short)
    fitted = interrupted_time_series(data, go_live, name=name, covariates=covariates)
    result = dataclasses.replace(fitted, baseline_source=series.source)
    result.notes[:0] = [
        said.supplied_baseline(series.source, before, d.kind == "total"),
        said.supplied_source_change(),
    ]
    return result
