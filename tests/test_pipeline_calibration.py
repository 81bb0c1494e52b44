"""The pipeline forecast's calibrated interval and verdict (crmroi.improve.pipeline_calibration):
split-conformal coverage against known distributions, coverage of the back-test on synthetic
pipelines drawn from a known process, and no future information in the back-test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crmroi.improve.pipeline import backtest, forecast_pipeline
from crmroi.improve.pipeline_calibration import MIN_ERRORS, conformal_bounds, verdict


@settings(max_examples=15, deadline=None)
@given(n=st.integers(MIN_ERRORS, 40), sigma=st.floats(0.05, 1.5), seed=st.integers(0, 2**31))
def test_conformal_coverage_on_exchangeable_ratios(n: int, sigma: float, seed: int) -> None:
    """n past ratios and one new one drawn from the same lognormal: the new one falls inside
    the bounds with probability (hi - lo) / (n + 1) for the order statistics used, at least
    80% (the conformal guarantee), counted over 4,000 draws."""
    rng = np.random.default_rng(seed)
    draws = rng.lognormal(0.0, sigma, size=(4000, n + 1))
    inside = 0
    for row in draws:
        bounds = conformal_bounds(row[:n])
        assert bounds is not None
        inside += bounds[0] <= row[n] <= bounds[1]
    lo, hi = np.floor(0.1 * (n + 1)), np.ceil(0.9 * (n + 1))
    exact = (hi - lo) / (n + 1)  # rank of the new draw is uniform on 1..n+1
    assert exact >= 0.8
    assert inside / len(draws) == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 4000))


def test_conformal_bounds_approach_the_true_quantiles() -> None:
    """With many ratios the bounds are the distribution's 10th and 90th percentiles
    (scipy's gamma quantile function, an independent reference)."""
    rng = np.random.default_rng(3)
    ratios = rng.gamma(4.0, 0.25, 20_000)
    low, high = conformal_bounds(ratios)  # type: ignore[misc]
    assert low == pytest.approx(stats.gamma.ppf(0.1, 4.0, scale=0.25), rel=0.02)
    assert high == pytest.approx(stats.gamma.ppf(0.9, 4.0, scale=0.25), rel=0.02)
    assert conformal_bounds(ratios[: MIN_ERRORS - 1]) is None


def synthetic_deals(seed: int, months: int = 48, per_month: float = 60.0) -> pd.DataFrame:
    """A known process: each month Poisson(60 x a lognormal monthly shock) deals created
    uniformly in the month, won with probability 0.35 x a monthly shock, closed a Gamma(2,
    20 days) cycle later, lognormal amounts; deals still running at the end are open."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01")
    today = start + pd.DateOffset(months=months) - pd.Timedelta(seconds=1)
    frames = []
    for m in range(months):
        lo = start + pd.DateOffset(months=m)
        n = int(rng.poisson(per_month * np.exp(rng.normal(0.0, 0.3))))
        created = lo + (lo + pd.DateOffset(months=1) - lo) * rng.random(n)
        closed = created + pd.to_timedelta(rng.gamma(2.0, 20.0, n), unit="D")
        won = rng.random(n) < 0.35 * np.exp(rng.normal(0.0, 0.2))
        done = closed <= today
        frames.append(
            pd.DataFrame(
                {
                    "deal_id": [f"D{m}-{i}" for i in range(n)],
                    "account_id": [f"A{a}" for a in rng.integers(0, 200, n)],
                    "owner_rep_id": [f"R{r}" for r in rng.integers(0, 6, n)],
                    "created_at": created,
                    "closed_at": closed.where(done),
                    "is_closed": done,
                    "is_won": won & done,
                    "amount": rng.lognormal(8.0, 0.8, n).round(2),
                }
            )
        )
    deals = pd.concat(frames, ignore_index=True)
    for column in ("created_at", "closed_at"):
        deals[column] = pd.to_datetime(deals[column]).astype("datetime64[ns]")
    return deals


@pytest.fixture(scope="module")
def synthetic_backtests() -> list[pd.DataFrame]:
    return [backtest({"deals": synthetic_deals(seed)}, 6, refit_months=12).rows for seed in (0, 1)]


def test_calibrated_coverage_on_synthetic_pipelines(
    synthetic_backtests: list[pd.DataFrame],
) -> None:
    """Over two synthetic companies (about 260 calibrated forecasts), the actual month
    is inside the calibrated 80% interval 72-88% of the time, and 55-97% at each horizon
    (about 40 forecasts each: the binomial spread alone is +-6 points)."""
    rows = pd.concat(synthetic_backtests)
    rows = rows[rows["low"].notna()]
    inside = (rows["actual"] >= rows["low"]) & (rows["actual"] <= rows["high"])
    assert len(rows) > 200
    assert 0.72 <= inside.mean() <= 0.88
    per_horizon = inside.groupby(rows["horizon"]).mean()
    assert per_horizon.between(0.55, 0.97).all(), per_horizon
    blend = rows[rows["blend_low"].notna()]
    blend_in = (blend["actual"] >= blend["blend_low"]) & (blend["actual"] <= blend["blend_high"])
    assert 0.70 <= blend_in.mean() <= 0.90


def test_intervals_use_only_earlier_months(synthetic_backtests: list[pd.DataFrame]) -> None:
    """A row's interval is the conformal bounds of the ratios of rows at its horizon whose
    month ended by its origin, recomputed here by hand; the first origins have none."""
    rows = synthetic_backtests[0]
    for r in rows.sample(25, random_state=1).itertuples():
        past = rows[(rows["horizon"] == r.horizon) & (rows["month"] < r.origin)]
        bounds = conformal_bounds((past["actual"] / past["forecast"]).to_numpy())
        if bounds is None:
            assert np.isnan(r.low) and len(past) < MIN_ERRORS
        else:
            assert r.low == pytest.approx(r.forecast * bounds[0])
            assert r.high == pytest.approx(r.forecast * bounds[1])
        assert r.verdict == verdict(rows, r.origin - pd.Timedelta(microseconds=1), r.horizon)
        assert r.blend == pytest.approx((r.forecast + r.naive) / 2)
        ratios = (past["actual"] / past["blend"]).to_numpy()
        blend = conformal_bounds(ratios)
        if blend is not None:
            assert (r.blend_low, r.blend_high) == pytest.approx(
                (r.blend * blend[0], r.blend * blend[1])
            )
        assert r.recommended == (r.forecast if r.verdict == "better" else r.blend)
    first = rows[rows["origin"] == rows["origin"].min()]
    assert first["low"].isna().all() and (first["verdict"] == "untested").all()


def _future_changed(deals: pd.DataFrame, cut: pd.Timestamp, seed: int) -> pd.DataFrame:
    """`deals` with everything after `cut` changed: deals created after it dropped, moved
    or re-priced, the outcome of deals closed after it flipped (their close stays after it),
    and new deals added after it. Amounts of deals created by `cut` stay (a CRM export holds
    only their latest value; the back-test cannot know older ones)."""
    rng = np.random.default_rng(seed)
    d = deals.copy()
    late = d["created_at"] > cut
    d.loc[late, "amount"] = d.loc[late, "amount"] * rng.uniform(0.2, 5.0, late.sum())
    closed_late = d["closed_at"] > cut
    d.loc[closed_late, "is_won"] = ~d.loc[closed_late, "is_won"].astype(bool)
    shift = pd.to_timedelta(rng.integers(0, 40, closed_late.sum()), unit="D")
    d.loc[closed_late, "closed_at"] = d.loc[closed_late, "closed_at"] + shift
    extra = d[late].head(50).assign(deal_id=lambda x: x["deal_id"] + "-new", amount=1e6)
    d = d.drop(d.index[late & (rng.random(len(d)) < 0.3)])
    return pd.concat([d, extra], ignore_index=True)


def test_backtest_uses_no_future_information() -> None:
    """Changing every fact that appeared after a cut leaves each forecast, interval,
    verdict and recommendation made at or before the cut unchanged (only the actuals of
    months after it change)."""
    deals = synthetic_deals(5, months=36)
    cut = pd.Timestamp("2023-03-01")
    kwargs = {"months": 6, "last_origin": pd.Timestamp("2023-10-01"), "refit_months": 3}
    changed = _future_changed(deals, cut, 1)
    test_before = backtest({"deals": deals}, **kwargs)
    test_after = backtest({"deals": changed}, **kwargs)
    before, after = test_before.rows, test_after.rows
    columns = ["forecast", "model_low", "model_high", "naive", "low", "high"]
    columns += ["blend_low", "blend_high", "verdict", "recommended"]
    early_before = before[before["origin"] <= cut].reset_index(drop=True)
    early_after = after[after["origin"] <= cut].reset_index(drop=True)
    assert len(early_before) > 30 and early_before["low"].notna().any()
    pd.testing.assert_frame_equal(early_before[columns], early_after[columns])
    late = before.merge(after, on=["origin", "horizon"])
    late = late[late["origin"] > cut]
    assert not np.allclose(late["forecast_x"], late["forecast_y"])  # the change is seen
    # the forecast at the cut, calibrated on either back-test, is the same too
    at = cut - pd.Timedelta(microseconds=1)
    one = forecast_pipeline({"deals": deals}, at, 6, test_before).to_json()
    two = forecast_pipeline({"deals": changed}, at, 6, test_after).to_json()
    assert one == two and any(m["interval"] == "calibrated" for m in one["months"])


def test_short_history_gives_the_forecast_with_the_model_interval_and_the_reason() -> None:
    """Thirteen months of deals (like the real Maven export's ten months of closes) are too
    few for a back-test: the forecast still comes, its intervals the model's and labelled
    so, untested against the naive mean (so the blend is recommended), with the reason."""
    from crmroi.improve.pipeline import forecast_and_backtest

    deals = synthetic_deals(2, months=13)
    f, test = forecast_and_backtest({"deals": deals}, deals["created_at"].max(), 3)
    assert test is None and f.backtest_reason == "the history is too short for a back-test"
    doc = f.to_json()
    assert doc["backtest_reason"] == f.backtest_reason
    assert [m["interval"] for m in doc["months"]] == ["model (not calibrated)"] * 3
    assert {m["better_than_naive"] for m in doc["months"]} == {"untested"}
    assert {m["recommended"] for m in doc["months"]} == {"blend"}


def test_open_deals_without_an_amount_are_counted_and_said() -> None:
    """Open deals with no amount (the Maven export's open deals have none) count as 0 in
    the forecast, and the forecast says how many there are."""
    deals = synthetic_deals(3, months=14)
    at = deals["created_at"].max()
    whole = forecast_pipeline({"deals": deals}, at, 2)
    open_ = ~(deals["is_closed"] & (deals["closed_at"] <= at))
    blank = deals.assign(amount=deals["amount"].where(~open_))
    f = forecast_pipeline({"deals": blank}, at, 2)
    assert whole.open_without_amount == 0 and f.open_without_amount == open_.sum() > 0
    assert f.to_json()["open_without_amount"] == f.open_without_amount
    assert all(m.open_deals == 0.0 for m in f.months)
    assert all(m.open_deals > 0.0 for m in whole.months)
