"""Interrupted time series with market covariates, in the manner of CausalImpact.

For a single go-live with no comparison group. The counterfactual is learned from
the months before go-live only: the KPI's monthly series (its logarithm for KPIs
whose effect is relative: amounts, counts, durations) is regressed by OLS on a
constant, the market covariates (their logarithms too when the KPI is in logs and
they are positive) and, with a full year or more before go-live, an annual
sine/cosine cycle. The fit is projected over the months after go-live; the effect
is the mean gap between the actual series and that projection. Its 95% interval
is the exact t interval of a mean prediction error: the months' own noise
(sigma^2 / h over h months) plus the fit's parameter uncertainty, with n - p
degrees of freedom. In logs the relative effect is exp(gap) - 1 (a ratio of
geometric means) and the interval's ends are mapped the same way.

Because nothing after go-live enters the fit, the estimate does not assume the
effect is constant (a ramp or an effect that grows is averaged over the months
measured). The price: a covariate that never varies before go-live teaches the
fit nothing; when it moves after go-live, the months from its first move on have
no counterfactual and are left out, and the notes say so. The cumulative effect
is the mean effect times the months measured.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from crmroi.attribution import notes as said
from crmroi.attribution import reasons
from crmroi.attribution.naive import year_over_year
from crmroi.attribution.results import (
    Attribution,
    AttributionError,
    check_panel,
    company_series,
    month_start,
    months_since,
)
from crmroi.kpi.definitions import KPI_DEFINITIONS
from crmroi.messages import Said

MIN_MONTHS_BEFORE = 6
SEASON_MONTHS = 12  # the annual cycle is fitted with a full year before go-live
MIN_DF = 3  # residual degrees of freedom the fit must keep
LEVEL = 0.95

Scale = Literal["log", "level"]


def _seasonal_terms(periods: pd.Series) -> pd.DataFrame:
    angle = 2 * np.pi * (periods.dt.month.to_numpy() - 1) / 12
    return pd.DataFrame({"season_sin": np.sin(angle), "season_cos": np.cos(angle)})


def _scale_for(name: str, values: np.ndarray, scale: Scale | None) -> tuple[Scale, Said | None]:
    """Logs for a KPI whose effect is relative and whose values are all positive."""
    wanted: Scale = scale or (
        "log" if name in KPI_DEFINITIONS and KPI_DEFINITIONS[name].effect == "rel" else "level"
    )
    if wanted == "log" and not (values > 0).all():
        return "level", Said(said.ITS_LEVELS)
    return wanted, None


def _window_end(
    cov: pd.DataFrame, before: pd.Series, names: list[str]
) -> tuple[list[str], list[str], pd.Timestamp | None]:
    """Covariates the months before go-live can teach (they vary there), those they
    cannot, and the first month after go-live where one of the latter moves."""
    usable, idle = [], []
    first_move: pd.Timestamp | None = None
    for column in names:
        values = cov[column].to_numpy()
        pre = values[before.to_numpy()]
        tol = 1e-9 * max(1.0, abs(pre.mean()))
        if pre.size and np.abs(pre - pre.mean()).max() > tol:
            usable.append(column)
            continue
        idle.append(column)
        moved = ~before.to_numpy() & (np.abs(values - pre.mean()) > tol)
        if moved.any():
            when = cov["period"].to_numpy()[moved].min()
            first_move = when if first_move is None else min(first_move, when)
    return usable, idle, None if first_move is None else pd.Timestamp(first_move)


def _independent(x: pd.DataFrame, keep: list[str]) -> list[str]:
    """Columns of `x` in order, skipping any that adds nothing to the rank (collinear)."""
    chosen: list[str] = []
    for column in x.columns:
        trial = [*chosen, column]
        if np.linalg.matrix_rank(x[trial].to_numpy()) == len(trial) or column in keep:
            chosen = trial
    return chosen


def interrupted_time_series(
    series: pd.DataFrame,
    go_live: date,
    *,
    name: str,
    covariates: pd.DataFrame | None = None,
    scale: Scale | None = None,
) -> Attribution:
    """The CRM's effect on one monthly series, net of the covariates' movements.

    `series`: columns period, value (one row per month). `covariates`: a period
    column plus one numeric column per covariate; months missing from it are
    dropped. `scale`: "log" (relative effect) or "level"; by default logs for KPIs
    whose effect is relative (`KpiDefinition.effect == "rel"`).
    """
    data = check_panel(series.assign(unit=series.get("unit", "all")), name)
    data = company_series(data).drop(columns="weight")
    notes: list[str] = []
    names: list[str] = []
    if covariates is not None:
        cov = covariates.copy()
        cov["period"] = pd.to_datetime(cov["period"]).dt.to_period("M").dt.to_timestamp()
        data = data.merge(cov, on="period", how="inner")
        names = [c for c in cov.columns if c != "period"]
        notes.append(said.covariates(names))
    data = data.sort_values("period").reset_index(drop=True)
    start = month_start(go_live)
    before = data["period"] < start
    n_before = int(before.sum())
    if n_before < MIN_MONTHS_BEFORE or before.all():
        raise AttributionError(reasons.its_short(name, MIN_MONTHS_BEFORE))
    usable, idle, stop = _window_end(data, before, names)
    if idle:
        notes.append(said.its_idle(idle))
    inside = before | (data["period"] < stop if stop is not None else True)
    if stop is not None:
        if not (inside & ~before).any():
            raise AttributionError(reasons.its_no_counterfactual(name, idle))
        notes.append(said.its_cut(stop.date()))
    data = data[inside].reset_index(drop=True)
    pre = (data["period"] < start).to_numpy()
    after = ~pre
    values = data["value"].to_numpy(dtype="float64")
    kind, why = _scale_for(name, values, scale)
    if why:
        notes.append(why)
    y = np.log(values) if kind == "log" else values
    columns: dict[str, np.ndarray] = {"const": np.ones(len(data))}
    for column in usable:
        raw = data[column].to_numpy(dtype="float64")
        columns[column] = np.log(raw) if kind == "log" and (raw > 0).all() else raw
    if n_before >= SEASON_MONTHS:
        seasonal = _seasonal_terms(data["period"])
        columns.update({c: seasonal[c].to_numpy() for c in seasonal.columns})
    x_all = pd.DataFrame(columns)
    chosen = _independent(x_all[pre], keep=["const"])
    dropped = [c for c in usable if c not in chosen]
    if dropped:
        notes.append(said.its_collinear(dropped))
    while n_before - len(chosen) < MIN_DF and len(chosen) > 1:
        notes.append(said.its_too_few_for(chosen[-1]))
        chosen = chosen[:-1]
    if n_before - len(chosen) < MIN_DF:
        raise AttributionError(reasons.its_too_few(name))
    x = x_all[chosen].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = sm.OLS(y[pre], x[pre]).fit()
        params = np.asarray(fit.params)
        cov_params = np.asarray(fit.cov_params())
        predicted = x @ params
        gap = y[after] - predicted[after]
        mean_x = x[after].mean(axis=0)
        h = int(after.sum())
        se = float(np.sqrt(fit.scale / h + mean_x @ cov_params @ mean_x))
        t = float(stats.t.ppf(0.5 + LEVEL / 2, fit.df_resid))
        effect = float(gap.mean())
        low, high = effect - t * se, effect + t * se
        month_se = np.sqrt(fit.scale + np.einsum("ij,jk,ik->i", x, cov_params, x))
    if not np.isfinite([effect, low, high]).all():
        raise AttributionError(reasons.its_not_finite(name))
    notes.append(said.its_fit(n_before, kind == "log", chosen, h, float(fit.df_resid)))
    after_mean = float(values[after].mean())
    if kind == "log":
        rel, rel_low, rel_high = (float(np.expm1(v)) for v in (effect, low, high))
        base = after_mean / (1.0 + rel)
        effect, low, high = after_mean - base, rel_low * base, rel_high * base
        effect_rel: float | None = rel
        shown = np.exp(predicted)
        bands = np.exp(predicted[:, None] + np.outer(t * month_se, [-1.0, 1.0]))
    else:
        base = float(predicted[after].mean())
        effect_rel = effect / base if base else None
        shown = predicted
        bands = predicted[:, None] + np.outer(t * month_se, [-1.0, 1.0])
    counterfactual = pd.DataFrame(
        {
            "period": data["period"],
            "actual": data["value"],
            "predicted": shown,
            "low": bands[:, 0],
            "high": bands[:, 1],
        }
    )
    notes.append(said.cumulative(h, effect * h, low * h, high * h))
    since = months_since(data["period"], start)
    naive = after_mean - float(values[pre].mean())
    return Attribution(
        name=name,
        method="its",
        effect=effect,
        ci_low=low,
        ci_high=high,
        naive_change=naive,
        effect_rel=effect_rel,
        seasonal_naive_change=year_over_year(data.assign(unit="all", weight=1.0), since),
        notes=notes,
        counterfactual=counterfactual,
    )
