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

When the units summed into the company series join and leave (reps replaced by reps
with another level), each unit's values are taken less its own level before go-live
first (`by_unit`), so the series' level does not drift with the make-up of the team.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from crmroi.attribution.unit_levels import UnitLevels, own_levels, unit_variance
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


def _carried(since: np.ndarray, carry: Sequence[float]) -> np.ndarray:
    """Share of the effect in each month's value: 1 from go-live on, `carry[k - 1]` k
    months before it, 0 before that."""
    out = np.where(since >= 0, 1.0, 0.0)
    shares = np.asarray(carry, dtype=float)
    inside = (-since >= 1) & (-since <= shares.size)
    out[inside] = shares[(-since[inside]).astype(np.int64) - 1]
    return out


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
    anticipation: int = 0,
    carry: Sequence[float] = (),
    weighted: bool = False,
    by_unit: bool = False,
) -> Attribution:
    """The CRM's effect on one monthly series, net of the covariates' movements.

    `series`: columns period, value (one row per month). `covariates`: a period
    column plus one numeric column per covariate; months missing from it are
    dropped. `scale`: "log" (relative effect) or "level"; by default logs for KPIs
    whose effect is relative (`KpiDefinition.effect == "rel"`).
    `anticipation`: months just before go-live whose values may already carry the
    CRM's effect (a lapse dated before the departure it stands for): left out of the
    fit; for the same reason the measured window ends that many months before an
    idle covariate moves. `carry[k - 1]`: the share of the effect the value
    k months before go-live still carries (beyond those months); the fit's response
    to that dose is divided out as in `difference_in_differences`: with `D` 1 after
    go-live and the shares before, the effect is theta / b0, theta the estimate on
    the KPI and b0 (< 1) the same estimate on `D`; the interval's ends are divided
    by b0 too (b0 is fixed by the design, not estimated).
    `weighted`: weighted least squares, each month weighted by its summed weight
    (the KPI's denominator, e.g. customers at risk; for a rate whose months rest on
    very different counts), and the effect the weighted mean gap.
    `by_unit`: `series` has a unit column (e.g. reps) whose units join and leave; each
    unit's values are taken less its own level before go-live (units without a month
    there left out) before they are summed into the company series, so each unit is
    compared with its own months (see `_own_levels`).
    """
    data = check_panel(series.assign(unit=series.get("unit", "all")), name)
    notes: list[str] = []
    start = month_start(go_live)
    levels: UnitLevels | None = None
    if by_unit:
        scale, why_units = _scale_for(name, data["value"].to_numpy(dtype="float64"), scale)
        before_lead = start - pd.DateOffset(months=anticipation)
        levels = own_levels(data, data["period"] < before_lead, scale == "log")
        if levels.kept == 0:
            raise AttributionError(reasons.its_short(name, MIN_MONTHS_BEFORE))
        if levels.noise_df == 0:  # the levels' error would count as nothing
            raise AttributionError(reasons.its_levels_without_noise(name))
        notes.append(said.its_unit_levels(levels.kept, levels.left_out))
        if why_units:
            notes.append(why_units)
        data = levels.panel[["unit", "period", "value", "weight"]]
    data = company_series(data).rename(columns={"weight": "_weight"})
    names: list[str] = []
    if covariates is not None:
        cov = covariates.copy()
        cov["period"] = pd.to_datetime(cov["period"]).dt.to_period("M").dt.to_timestamp()
        data = data.merge(cov, on="period", how="inner")
        names = [c for c in cov.columns if c != "period"]
        notes.append(said.covariates(names))
    data = data.sort_values("period").reset_index(drop=True)
    to_go_live = months_since(data["period"], start).to_numpy()
    if anticipation > 0:
        data = data[~((to_go_live < 0) & (to_go_live >= -anticipation))].reset_index(drop=True)
        to_go_live = months_since(data["period"], start).to_numpy()
        notes.append(said.anticipation(anticipation))
    before = data["period"] < start
    n_before = int(before.sum())
    if n_before < MIN_MONTHS_BEFORE or before.all():
        raise AttributionError(reasons.its_short(name, MIN_MONTHS_BEFORE))
    usable, idle, stop = _window_end(data, before, names)
    if idle:
        notes.append(said.its_idle(idle))
    moved = stop
    if stop is not None and anticipation > 0:  # the months before the move may carry it
        stop = stop - pd.DateOffset(months=anticipation)
    inside = before | (data["period"] < stop if stop is not None else True)
    if stop is not None and moved is not None:
        if not (inside & ~before).any():
            raise AttributionError(reasons.its_no_counterfactual(name, idle))
        if anticipation > 0:
            notes.append(said.its_cut_before(stop.date(), moved.date(), anticipation))
        else:
            notes.append(said.its_cut(stop.date()))
    data = data[inside].reset_index(drop=True)
    dose = _carried(to_go_live[inside.to_numpy()], carry)
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
        w = data["_weight"].to_numpy(dtype="float64") if weighted else np.ones(len(data))
        fit = sm.WLS(y[pre], x[pre], weights=w[pre]).fit()
        params = np.asarray(fit.params)
        cov_params = np.asarray(fit.cov_params())
        # the fit's response to the effect the months before go-live carry (0 without)
        root = np.sqrt(w[pre])
        carried = x @ np.linalg.lstsq(x[pre] * root[:, None], dose[pre] * root, rcond=None)[0]
        share = w[after] / w[after].sum()
        b0 = float(share @ (dose[after] - carried[after]))
        gap = y[after] - (x @ params)[after]
        mean_x = share @ x[after]
        h = int(after.sum())
        variance = fit.scale / w[after].sum() + mean_x @ cov_params @ mean_x
        df = float(fit.df_resid)
        if levels is not None:  # each unit against its own level: the unit-months' form
            contrast = np.zeros(len(data))
            contrast[after] = share
            bread = np.linalg.pinv((x[pre] * w[pre, None]).T @ x[pre])
            contrast[pre] = -w[pre] * (x[pre] @ (bread @ mean_x))
            months = data[["period", "value", "_weight"]].assign(fitted=pre, w=w)
            variance, df = unit_variance(
                levels, months, contrast, fit.scale, fit.df_resid, kind == "log"
            )
        se = float(np.sqrt(variance)) / b0
        t = float(stats.t.ppf(0.5 + LEVEL / 2, df))
        effect = float(share @ gap) / b0
        low, high = effect - t * se, effect + t * se
        predicted = x @ params - effect * carried  # less the part of the effect carried
        month_se = np.sqrt(fit.scale / w + np.einsum("ij,jk,ik->i", x, cov_params, x))
        month_se *= float(stats.t.ppf(0.5 + LEVEL / 2, fit.df_resid))  # the months' bands
    if not b0 > 0 or not np.isfinite([effect, low, high]).all():
        raise AttributionError(reasons.its_not_finite(name))
    notes.append(said.its_fit(n_before, kind == "log", chosen, h, df))
    if weighted:
        notes.append(said.its_weighted())
    after_mean = float(values[after].mean())
    if kind == "log":
        rel, rel_low, rel_high = (float(np.expm1(v)) for v in (effect, low, high))
        base = after_mean / (1.0 + rel)
        effect, low, high = after_mean - base, rel_low * base, rel_high * base
        effect_rel: float | None = rel
        shown = np.exp(predicted)
        bands = np.exp(predicted[:, None] + np.outer(month_se, [-1.0, 1.0]))
    else:
        base = float(predicted[after].mean())
        effect_rel = effect / base if base else None
        shown = predicted
        bands = predicted[:, None] + np.outer(month_se, [-1.0, 1.0])
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
