"""The interrupted time series against an independent reference, and its false-alarm rate.

Reference: one OLS over every month with a pulse dummy for each month after go-live
(each such month is then fitted exactly, so the other coefficients and the residual
variance come from the months before go-live alone); the effect is the mean of the
pulse coefficients and its interval statsmodels' t test of that contrast. The
estimator computes the same from a fit on the months before go-live and a projection,
so the two agree only if the projection, the variance of a mean prediction error and
the degrees of freedom are all right.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from crmroi.attribution import AttributionError
from crmroi.attribution.its import interrupted_time_series

GO_LIVE = date(2024, 7, 1)
PERIODS = pd.date_range("2023-01-01", periods=30, freq="MS")  # 18 months before go-live


def _synthetic(seed: int, effect: float, *, log: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A KPI driven by a market factor and an annual cycle, plus `effect` from go-live
    (added in levels, or a relative effect when `log`)."""
    rng = np.random.default_rng(seed)
    market = 100.0 + np.cumsum(rng.normal(0.0, 3.0, PERIODS.size))
    live = pd.Timestamp(GO_LIVE) <= PERIODS
    season = np.sin(2 * np.pi * (PERIODS.month.to_numpy() - 1) / 12)
    if log:
        value = np.exp(
            2.0 + 0.9 * np.log(market) + 0.1 * season + effect * live + rng.normal(0, 0.05, 30)
        )
    else:
        value = 20.0 + 0.5 * market + 4.0 * season + effect * live + rng.normal(0.0, 2.0, 30)
    return (
        pd.DataFrame({"period": PERIODS, "value": value}),
        pd.DataFrame({"period": PERIODS, "industry_sales": market}),
    )


def _pulse_reference(y: np.ndarray, market: np.ndarray) -> tuple[float, float, float]:
    """Mean of the post-go-live pulse coefficients and its 95% t interval."""
    live = np.asarray(pd.Timestamp(GO_LIVE) <= PERIODS)
    angle = 2 * np.pi * (PERIODS.month.to_numpy() - 1) / 12
    pulses = np.eye(PERIODS.size)[:, live]
    x = np.column_stack([np.ones(PERIODS.size), market, np.sin(angle), np.cos(angle), pulses])
    fit = sm.OLS(y, x).fit()
    contrast = np.r_[np.zeros(4), np.full(live.sum(), 1.0 / live.sum())]
    test = fit.t_test(contrast)
    low, high = np.asarray(test.conf_int(alpha=0.05))[0]
    return float(np.asarray(test.effect)[0]), float(low), float(high)


def test_level_effect_equals_the_pulse_dummy_reference() -> None:
    series, market = _synthetic(3, effect=6.0)
    got = interrupted_time_series(series, GO_LIVE, name="x", covariates=market)
    want = _pulse_reference(series["value"].to_numpy(), market["industry_sales"].to_numpy())
    assert (got.effect, got.ci_low, got.ci_high) == pytest.approx(want, rel=1e-8)
    assert got.ci_low <= 6.0 <= got.ci_high
    after = series["value"][pd.Timestamp(GO_LIVE) <= PERIODS].mean()
    assert got.effect_rel == pytest.approx(got.effect / (after - got.effect))


def test_relative_kpi_is_fitted_in_logs_like_the_reference() -> None:
    series, market = _synthetic(5, effect=np.log(1.3), log=True)
    got = interrupted_time_series(series, GO_LIVE, name="sales_volume", covariates=market)
    effect, low, high = _pulse_reference(
        np.log(series["value"].to_numpy()), np.log(market["industry_sales"].to_numpy())
    )
    assert got.effect_rel == pytest.approx(np.expm1(effect), rel=1e-8)
    assert got.ci_low <= 0.3 * (got.effect / got.effect_rel) <= got.ci_high  # type: ignore[operator]
    base = got.effect / got.effect_rel  # type: ignore[operator]
    assert (got.ci_low / base, got.ci_high / base) == pytest.approx(
        (np.expm1(low), np.expm1(high)), rel=1e-8
    )
    after = series["value"][pd.Timestamp(GO_LIVE) <= PERIODS].mean()
    assert base == pytest.approx(after / np.exp(effect))


def test_a_covariate_constant_before_go_live_ends_the_window_where_it_moves() -> None:
    series, market = _synthetic(8, effect=6.0)
    shock = pd.Timestamp("2025-01-01")
    market["shock"] = np.where(shock <= PERIODS, -1.0, 0.0)
    got = interrupted_time_series(series, GO_LIVE, name="x", covariates=market)
    assert any(n.startswith("months from 2025-01 on left out") for n in got.notes)
    assert any(n.startswith("shock did not vary before go-live") for n in got.notes)
    keep = shock > PERIODS
    same = interrupted_time_series(
        series[keep], GO_LIVE, name="x", covariates=market[keep].drop(columns="shock")
    )
    assert (got.effect, got.ci_low, got.ci_high) == pytest.approx(
        (same.effect, same.ci_low, same.ci_high), rel=1e-10
    )
    assert "cumulative effect over 6 months" in got.notes[-1]
    market["shock"] = np.where(pd.Timestamp(GO_LIVE) <= PERIODS, -1.0, 0.0)
    with pytest.raises(AttributionError, match="no month after go-live has a counterfactual"):
        interrupted_time_series(series, GO_LIVE, name="x", covariates=market)


def test_with_no_effect_the_interval_holds_zero_at_the_nominal_rate() -> None:
    runs = 300  # binomial sd at 95% over 300 series: 1.3 points
    held = 0
    for seed in range(runs):
        series, market = _synthetic(1000 + seed, effect=0.0)
        result = interrupted_time_series(series, GO_LIVE, name="x", covariates=market)
        held += result.ci_low <= 0.0 <= result.ci_high
    assert 0.92 <= held / runs <= 0.98
