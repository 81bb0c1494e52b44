"""Difference in differences for a phased roll-out, with an event study of leads and lags.

Model (two-way fixed effects, weighted least squares):

    value[u, t] = alpha[u] + gamma[t] + beta * live[u, t] + e[u, t]

`alpha` absorbs what differs between units, `gamma` absorbs what hits every unit in
the same month (seasonality, a market shock), and `beta` is the CRM's effect in the
KPI's unit. Standard errors are clustered by unit (statsmodels, small-sample
correction, t with G-1 degrees of freedom; see `twfe.py`, checked against
statsmodels' dummy-variable regression). With step effects this is unbiased
under staggered adoption; with effects that grow over time, two-way fixed effects
can mix early and late cohorts (Goodman-Bacon 2021): the event study shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from crmroi.attribution.naive import pooled_before_after, year_over_year
from crmroi.attribution.results import (
    Attribution,
    AttributionError,
    EventStudy,
    check_panel,
    month_start,
    months_since,
)
from crmroi.attribution.twfe import TwfeFit, fit_twfe

PRETREND_ALPHA = 0.05


def _live_months(panel: pd.DataFrame, go_live: Mapping[str, date | None]) -> pd.Series:
    """Months since go-live for each row (NaN for units that never went live)."""
    starts = {u: month_start(d) for u, d in go_live.items() if d is not None}
    return months_since(panel["period"], pd.to_datetime(panel["unit"].map(starts)))


def _fit(panel: pd.DataFrame, regressors: pd.DataFrame) -> TwfeFit:
    """Two-way fixed effects (unit, month) fit of the KPI on `regressors`."""
    return fit_twfe(
        panel["value"].to_numpy(),
        regressors.to_numpy(dtype="float64"),
        pd.factorize(panel["unit"])[0],
        pd.factorize(panel["period"])[0],
        panel["weight"].to_numpy(),
    )


def difference_in_differences(
    panel: pd.DataFrame,
    go_live: Mapping[str, date | None],
    *,
    name: str,
    event_window: int | None = 6,
) -> Attribution:
    """The CRM's effect on a KPI from a panel of units going live at different times.

    `event_window` months of leads and lags go into the event study (None skips it).
    """
    data = check_panel(panel, name)
    unknown = sorted(set(data["unit"]) - set(go_live))
    if unknown:
        raise AttributionError(f"{name}: no go-live date for units {', '.join(map(str, unknown))}")
    since = _live_months(data, go_live)
    live = (since >= 0).astype("float64").rename("live")
    if live.sum() == 0:
        raise AttributionError(f"{name}: no unit is live within the data")
    comparison = data.loc[live == 0, "period"]
    if comparison.empty or comparison.max() < data.loc[live == 1, "period"].min():
        raise AttributionError(
            f"{name}: no unit is still without the CRM while others use it; "
            "difference in differences needs a comparison group"
        )
    fit = _fit(data, live.to_frame())
    effect = float(fit.params[0])
    low, high = (float(x) for x in fit.conf_int()[0])
    treated_after = live.to_numpy() == 1
    weights = data["weight"].to_numpy()[treated_after]
    actual = float(np.average(data["value"].to_numpy()[treated_after], weights=weights))
    counterfactual = actual - effect
    notes = [
        f"two-way fixed effects over {data['unit'].nunique()} units and "
        f"{data['period'].nunique()} months; errors clustered by unit",
    ]
    study = None if event_window is None else event_study(data, since, window=event_window)
    if study and study.pretrend_p_value is not None and study.pretrend_p_value < PRETREND_ALPHA:
        notes.append(
            f"warning: pre-trends differ before go-live (p = {study.pretrend_p_value:.3f}); "
            "the effect may be biased"
        )
    treated_units = [u for u, d in go_live.items() if d is not None]
    return Attribution(
        name=name,
        method="did",
        effect=effect,
        ci_low=low,
        ci_high=high,
        naive_change=pooled_before_after(data, since),
        effect_rel=effect / counterfactual if counterfactual else None,
        seasonal_naive_change=year_over_year(data[data["unit"].isin(treated_units)], since),
        notes=notes,
        event_study=study,
    )


def event_study(panel: pd.DataFrame, since: pd.Series, *, window: int = 6) -> EventStudy:
    """Effects by month relative to go-live (binned at +-window), month -1 as reference.

    The p-value is the joint Wald test that all leads (months -window..-2) are zero:
    a small value means treated units were already drifting apart before go-live.
    """
    clipped = since.clip(lower=-window, upper=window)
    columns = {}
    for k in range(-window, window + 1):
        if k == -1:
            continue
        columns[f"rel_{k}"] = (clipped == k).astype("float64")
    dummies = pd.DataFrame(columns, index=panel.index)
    dummies = dummies.loc[:, dummies.sum() > 0]
    fit = _fit(panel, dummies)
    months, effects, lows, highs = [], [], [], []
    intervals = fit.conf_int()
    for i, column in enumerate(dummies.columns):
        months.append(int(column.removeprefix("rel_")))
        effects.append(float(fit.params[i]))
        lows.append(float(intervals[i, 0]))
        highs.append(float(intervals[i, 1]))
    months.append(-1)
    effects.append(0.0)
    lows.append(0.0)
    highs.append(0.0)
    order = np.argsort(months)
    leads = [i for i, c in enumerate(dummies.columns) if int(c.removeprefix("rel_")) <= -2]
    p_value = fit.wald_p_value(leads) if leads else None
    return EventStudy(
        relative_month=[months[i] for i in order],
        effect=[effects[i] for i in order],
        ci_low=[lows[i] for i in order],
        ci_high=[highs[i] for i in order],
        pretrend_p_value=p_value,
    )
