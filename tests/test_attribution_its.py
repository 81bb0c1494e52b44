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


# -- months left out before go-live, the carry divided out, months weighted -----------
LEAD_GO_LIVE = date(2024, 1, 1)
LEAD_PERIODS = pd.date_range("2023-01-01", periods=24, freq="MS")  # 12 months before
CARRY = (0.7, 0.4, 0.2, 0.1, 0.06, 0.03)  # shares of the effect 1..6 months before go-live
LEAD = 4


def _dose() -> np.ndarray:
    """1 from go-live on, CARRY[k - 1] k months before it, 0 before that."""
    since = (LEAD_PERIODS.year - 2024) * 12 + LEAD_PERIODS.month - 1
    shares = [1.0 if k >= 0 else (CARRY[-k - 1] if -k <= len(CARRY) else 0.0) for k in since]
    return np.array(shares)


def _lapse_like(theta: float, noise: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A rate driven by a market covariate plus theta x the dose, months weighted by very
    different counts; the LEAD months before go-live hold junk (they must not matter)."""
    rng = np.random.default_rng(seed)
    market = 1.0 + 0.1 * np.sin(np.arange(LEAD_PERIODS.size)) + rng.normal(0, 0.02, 24)
    weight = rng.integers(100, 2000, LEAD_PERIODS.size).astype(float)
    value = 0.01 + 0.008 * market + theta * _dose()
    value = value + rng.normal(0.0, noise, 24) / np.sqrt(weight / 1000)
    junk = (pd.Timestamp(LEAD_GO_LIVE) > LEAD_PERIODS) & (
        pd.Timestamp(LEAD_GO_LIVE) - pd.DateOffset(months=LEAD) <= LEAD_PERIODS
    )
    value[junk] = 0.5
    series = pd.DataFrame({"period": LEAD_PERIODS, "value": value, "weight": weight})
    return series, pd.DataFrame({"period": LEAD_PERIODS, "market": market})


def test_carry_and_left_out_months_give_the_exact_effect_without_noise() -> None:
    series, market = _lapse_like(-0.004, noise=0.0, seed=1)
    args = {"name": "retention_rate", "covariates": market, "anticipation": LEAD}
    got = interrupted_time_series(series, LEAD_GO_LIVE, carry=CARRY, weighted=True, **args)
    assert got.effect == pytest.approx(-0.004, rel=1e-9)
    assert got.ci_low < got.effect < got.ci_high  # the carried dose is a residual before
    assert any(n.startswith(f"the {LEAD} months before each team's go-live") for n in got.notes)
    # the counterfactual level is net of the part of the effect the months before carried
    after = pd.Timestamp(LEAD_GO_LIVE) <= LEAD_PERIODS
    level = (0.01 + 0.008 * market["market"][after]).mean()
    assert got.effect / got.effect_rel == pytest.approx(level, rel=1e-9)  # type: ignore[operator]
    # without the carry the months before go-live absorb part of the effect
    plain = interrupted_time_series(series, LEAD_GO_LIVE, weighted=True, **args)
    assert -0.004 + 2e-5 < plain.effect < 0.0
    # without leaving the junk months out the estimate is nowhere near
    junk = interrupted_time_series(series, LEAD_GO_LIVE, name="x", covariates=market)
    assert abs(junk.effect + 0.004) > 0.01


def _weighted_pulses(y: np.ndarray, series: pd.DataFrame, market: pd.DataFrame) -> tuple:
    """WLS over the months kept with one pulse per month after go-live; the weighted mean
    of the pulses (weights: the months' weights) and its t interval."""
    kept = ~(
        (pd.Timestamp(LEAD_GO_LIVE) > LEAD_PERIODS)
        & (pd.Timestamp(LEAD_GO_LIVE) - pd.DateOffset(months=LEAD) <= LEAD_PERIODS)
    )
    live = np.asarray(pd.Timestamp(LEAD_GO_LIVE) <= LEAD_PERIODS)[kept]
    w = series["weight"].to_numpy()[kept]
    pulses = np.eye(kept.sum())[:, live]
    x = np.column_stack([np.ones(kept.sum()), market["market"].to_numpy()[kept], pulses])
    fit = sm.WLS(y[kept], x, weights=w).fit()
    contrast = np.r_[0.0, 0.0, w[live] / w[live].sum()]
    test = fit.t_test(contrast)
    low, high = np.asarray(test.conf_int(alpha=0.05))[0]
    return float(np.asarray(test.effect)[0]), float(low), float(high)


def test_weighted_fit_with_carry_equals_the_weighted_pulse_reference() -> None:
    """The effect on the KPI over the same estimate on the dose (b0), both from the
    pulse regression; the interval's ends over b0 too."""
    series, market = _lapse_like(-0.004, noise=0.002, seed=7)
    got = interrupted_time_series(
        series, LEAD_GO_LIVE, name="retention_rate", covariates=market,
        anticipation=LEAD, carry=CARRY, weighted=True,
    )  # fmt: skip
    on_y, low, high = _weighted_pulses(series["value"].to_numpy(), series, market)
    b0, _, _ = _weighted_pulses(_dose(), series, market)
    assert 0.8 < b0 < 1.0
    assert "the fit weights each month by its denominator (weighted least squares)" in got.notes
    assert (got.effect, got.ci_low, got.ci_high) == pytest.approx(
        (on_y / b0, low / b0, high / b0), rel=1e-8
    )


def test_with_months_left_out_the_window_ends_as_many_months_before_a_covariate_moves() -> None:
    """A lapse dated in the months before a market move may already stand for a departure
    after it, so those months are left out like the months before go-live."""
    series, market = _lapse_like(-0.004, noise=0.002, seed=3)
    market["shock"] = np.where(pd.Timestamp("2024-09-01") <= LEAD_PERIODS, 1.0, 0.0)
    args = {"anticipation": LEAD, "carry": CARRY, "weighted": True}
    got = interrupted_time_series(
        series, LEAD_GO_LIVE, name="retention_rate", covariates=market, **args
    )
    keep = pd.Timestamp("2024-05-01") > LEAD_PERIODS
    same = interrupted_time_series(
        series[keep], LEAD_GO_LIVE, name="retention_rate",
        covariates=market[keep].drop(columns="shock"), **args,
    )  # fmt: skip
    assert (got.effect, got.ci_low, got.ci_high) == pytest.approx(
        (same.effect, same.ci_low, same.ci_high), rel=1e-10
    )
    assert any(
        n.startswith("months from 2024-05 on left out: a covariate that did not vary before "
                     "go-live moves in 2024-09, and the 4 months before")
        for n in got.notes
    )  # fmt: skip
