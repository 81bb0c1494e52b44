"""Interrupted time series with market covariates, in the manner of CausalImpact.

For a single go-live with no comparison group: the KPI's monthly series is
regressed on the market covariates (industry sales, price index, web traffic...),
an annual seasonal cycle and a step at go-live, with AR(1) errors (statsmodels
SARIMAX). The step's coefficient is the CRM's effect; the counterfactual is the
prediction with the step switched off. Cumulative effect = effect x months live.
"""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.sarimax import SARIMAX

from crmroi.attribution.naive import year_over_year
from crmroi.attribution.results import (
    Attribution,
    AttributionError,
    check_panel,
    company_series,
    month_start,
    months_since,
)

MIN_MONTHS_BEFORE = 6


def _seasonal_terms(periods: pd.Series) -> pd.DataFrame:
    angle = 2 * np.pi * (periods.dt.month.to_numpy() - 1) / 12
    return pd.DataFrame({"season_sin": np.sin(angle), "season_cos": np.cos(angle)})


def interrupted_time_series(
    series: pd.DataFrame,
    go_live: date,
    *,
    name: str,
    covariates: pd.DataFrame | None = None,
) -> Attribution:
    """The CRM's effect on one monthly series, net of the covariates' movements.

    `series`: columns period, value (one row per month). `covariates`: a period
    column plus one numeric column per covariate; months missing from it are
    dropped from the fit.
    """
    data = check_panel(series.assign(unit=series.get("unit", "all")), name)
    data = company_series(data).drop(columns="weight")
    notes: list[str] = []
    if covariates is not None:
        cov = covariates.copy()
        cov["period"] = pd.to_datetime(cov["period"]).dt.to_period("M").dt.to_timestamp()
        data = data.merge(cov, on="period", how="inner")
        names = [c for c in cov.columns if c != "period"]
        notes.append(f"covariates: {', '.join(names)}")
    else:
        names = []
    data = data.sort_values("period").reset_index(drop=True)
    start = month_start(go_live)
    step = (data["period"] >= start).astype("float64")
    before = int((step == 0).sum())
    if before < MIN_MONTHS_BEFORE or step.sum() < 1:
        raise AttributionError(
            f"{name}: need at least {MIN_MONTHS_BEFORE} months before go-live and one after"
        )
    exog = pd.concat(
        [step.rename("crm"), data[names].astype("float64"), _seasonal_terms(data["period"])],
        axis=1,
    )
    model = SARIMAX(data["value"].to_numpy(), exog=exog, order=(1, 0, 0), trend="c")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(disp=False, maxiter=1000)
    notes.extend(
        f"estimation warning: {w.message}" for w in caught if issubclass(w.category, Warning)
    )
    index = list(model.param_names).index("crm")
    effect = float(np.asarray(fit.params)[index])
    low, high = (float(x) for x in np.asarray(fit.conf_int())[index])
    predicted = fit.get_prediction()
    bands = np.asarray(predicted.conf_int(alpha=0.05))
    counterfactual = pd.DataFrame(
        {
            "period": data["period"],
            "actual": data["value"],
            "predicted": np.asarray(predicted.predicted_mean) - effect * step,
            "low": bands[:, 0] - effect * step,
            "high": bands[:, 1] - effect * step,
        }
    )
    months_live = int(step.sum())
    notes.append(
        f"cumulative effect over {months_live} months: {effect * months_live:+.4g} "
        f"(95% {low * months_live:+.4g} to {high * months_live:+.4g})"
    )
    after_mean = float(data.loc[step == 1, "value"].mean())
    since = months_since(data["period"], start)
    naive = after_mean - float(data.loc[step == 0, "value"].mean())
    return Attribution(
        name=name,
        method="its",
        effect=effect,
        ci_low=low,
        ci_high=high,
        naive_change=naive,
        effect_rel=effect / (after_mean - effect) if after_mean != effect else None,
        seasonal_naive_change=year_over_year(data.assign(unit="all", weight=1.0), since),
        notes=notes,
        counterfactual=counterfactual,
    )
