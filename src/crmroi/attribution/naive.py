"""The naive before/after change, and its seasonality-adjusted twin.

Used when nothing better is possible (one go-live, no market covariates), and
always reported beside the better estimates so a reader sees how far the naive
figure is off.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from crmroi.attribution import notes as said
from crmroi.attribution import reasons
from crmroi.attribution.results import (
    Attribution,
    AttributionError,
    check_panel,
    month_start,
    months_since,
)


def pooled_before_after(panel: pd.DataFrame, since: pd.Series) -> float:
    """Weighted mean after go-live minus weighted mean before, over units that went live."""
    treated = since.notna()
    after = treated & (since >= 0)
    before = treated & (since < 0)
    if not after.any() or not before.any():
        return float("nan")
    value, weight = panel["value"], panel["weight"]
    return float(
        np.average(value[after], weights=weight[after])
        - np.average(value[before], weights=weight[before])
    )


def year_over_year(panel: pd.DataFrame, since: pd.Series) -> float | None:
    """Mean change of each post-go-live month against the same unit's month a year before.

    Compares like with like across the calendar, so seasonality cancels; a market
    shift between the two years does not.
    """
    after = panel[since.reindex(panel.index) >= 0]
    if after.empty:
        return None
    earlier = panel.assign(period=panel["period"] + pd.DateOffset(years=1))
    earlier = earlier[since.reindex(panel.index) < 0]
    pairs = after.merge(earlier, on=["unit", "period"], suffixes=("", "_year_before"))
    if pairs.empty:
        return None
    return float(np.average(pairs["value"] - pairs["value_year_before"], weights=pairs["weight"]))


def naive_attribution(series: pd.DataFrame, go_live: date, *, name: str) -> Attribution:
    """Before/after difference of monthly means with a Welch 95% interval.

    `series` holds one unit's (or the whole company's) monthly values.
    """
    data = check_panel(series.assign(unit=series.get("unit", "all")), name)
    start = month_start(go_live)
    before = data.loc[data["period"] < start, "value"]
    after = data.loc[data["period"] >= start, "value"]
    if len(before) < 2 or len(after) < 2:
        raise AttributionError(reasons.naive_short(name))
    change = float(after.mean() - before.mean())
    result = stats.ttest_ind(after, before, equal_var=False)
    low, high = (float(x) for x in result.confidence_interval(0.95))
    seasonal = year_over_year(data, months_since(data["period"], start))
    notes: list[str] = [said.naive()]
    if seasonal is not None:
        notes.append(said.seasonal(seasonal))
    return Attribution(
        name=name,
        method="naive",
        effect=change,
        ci_low=low,
        ci_high=high,
        naive_change=change,
        effect_rel=change / float(before.mean()) if before.mean() else None,
        seasonal_naive_change=seasonal,
        notes=notes,
    )
