"""Attribution methods on simulated panels with a known effect and a market shock."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from crmroi.attribution import (
    AttributionError,
    attribute,
    choose_method,
    interrupted_time_series,
    naive_attribution,
)

STARTS = [date(2024, 1, 1), date(2024, 3, 1), date(2024, 6, 1), date(2024, 9, 1), date(2025, 5, 1)]
SHOCK = pd.Timestamp("2024-07-01")


def phased_panel(
    seed: int,
    effect: float = 0.05,
    units: int = 30,
    months: int = 36,
    shock: float = -0.04,
    pretrend: float = 0.0,
    anticipation: float = 0.0,
) -> tuple[pd.DataFrame, dict[str, date | None]]:
    """Units in five go-live cohorts; seasonality and a market shock hit every unit alike."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2023-01-01", periods=months, freq="MS")
    go_live: dict[str, date | None] = {f"u{i:02d}": STARTS[i % 5] for i in range(units)}
    common = 0.03 * np.sin(np.arange(months) / 12 * 2 * np.pi) + shock * (periods >= SHOCK)
    frames = []
    for i, unit in enumerate(go_live):
        live = periods >= pd.Timestamp(go_live[unit])
        drift = pretrend * np.arange(months) * (i % 5 < 2)  # early cohorts already rising
        soon = (periods >= pd.Timestamp(go_live[unit]) - pd.DateOffset(months=6)) & ~live
        value = 0.3 + rng.normal(0, 0.05) + common + drift + effect * live + anticipation * soon
        value = value + rng.normal(0, 0.04, months)
        weight = rng.integers(5, 30, months).astype(float)
        frames.append(
            pd.DataFrame({"unit": unit, "period": periods, "value": value, "weight": weight})
        )
    return pd.concat(frames, ignore_index=True), go_live


def _live(panel: pd.DataFrame, go_live: dict[str, date | None]) -> np.ndarray:
    return np.array(
        [
            go_live[u] is not None and p >= pd.Timestamp(go_live[u])
            for u, p in zip(panel["unit"], panel["period"], strict=True)
        ]
    )


def test_imputation_matches_a_dummy_regression_on_the_rows_not_yet_live() -> None:
    panel, go_live = phased_panel(3, units=5)
    panel = panel.sample(frac=0.85, random_state=1).reset_index(drop=True)  # unbalanced
    live = _live(panel, go_live)
    last = max(d for d in go_live.values() if d is not None)
    rows = panel["period"] < pd.Timestamp(last)  # months with a team not yet live
    dummies = pd.concat(
        [
            pd.get_dummies(panel["unit"], drop_first=True, dtype=float),
            pd.get_dummies(panel["period"].astype(str), drop_first=True, dtype=float),
        ],
        axis=1,
    )
    x = sm.add_constant(dummies)
    x = x.loc[:, x[~live].sum() > 0]  # months when every team is live have no control row
    fit = sm.WLS(panel["value"][~live], x[~live], weights=panel["weight"][~live]).fit()
    treated = live & rows.to_numpy()
    residual = panel["value"][treated] - fit.predict(x[treated])
    weight = panel["weight"][treated]
    expected = float(np.average(residual, weights=weight))
    result = attribute(panel, go_live, name="x", placebo_months=0)
    assert result.effect == pytest.approx(expected, abs=1e-10)
    since = np.array(
        [
            (p.year - go_live[u].year) * 12 + p.month - go_live[u].month  # type: ignore[union-attr]
            for u, p in zip(panel["unit"][treated], panel["period"][treated], strict=True)
        ]
    )
    study = result.event_study
    assert study is not None
    for k in (0, 3):
        at = since == k
        reference = float(np.average(residual[at], weights=weight[at]))
        assert study.effect[study.relative_month.index(k)] == pytest.approx(reference, abs=1e-10)
        assert study.weight[study.relative_month.index(k)] == pytest.approx(weight[at].sum())


def test_randomisation_interval_is_the_set_of_unrejected_effects() -> None:
    from crmroi.attribution.randomization import interval, p_value

    rng = np.random.default_rng(5)
    for _ in range(20):
        theta = float(rng.normal())
        a, b = rng.normal(0, 1, 119), rng.normal(0, 0.3, 119)
        bounds = interval(theta, a, b)
        assert bounds is not None
        low, high = bounds
        assert low <= theta <= high
        grid = np.linspace(low - 3, high + 3, 3001)
        accepted = grid[[p_value(theta, a, b, float(d)) > 0.05 for d in grid]]
        # the accepted component around theta is exactly [low, high] (up to the grid step)
        inside = accepted[(accepted >= low - 1e-9) & (accepted <= high + 1e-9)]
        assert inside.min() - low < 0.01 and high - inside.max() < 0.01
        assert p_value(theta, a, b, low - 1e-6) <= 0.05 or p_value(theta, a, b, high + 1e-6) <= 0.05
    # with 10 orders no effect can be rejected at 5%: no interval
    assert interval(0.0, np.zeros(9), np.zeros(9)) is None


def test_did_recovers_the_effect_where_naive_does_not() -> None:
    panel, go_live = phased_panel(11, units=5)
    result = attribute(panel, go_live, name="win_rate")
    assert result.method == "did"
    assert result.ci_low <= 0.05 <= result.ci_high
    assert abs(result.effect - 0.05) < 0.02
    # the market shock after most go-lives drags the naive change well below the truth
    assert result.naive_change < 0.035
    assert result.event_study is not None and -1 in result.event_study.relative_month
    assert result.notes[0].startswith("method did: units went live at different times")
    assert any("randomisation inference over 120 orders" in n and "5 clusters" in n
               for n in result.notes)  # fmt: skip
    assert set(result.to_json()) >= {
        "name",
        "method",
        "effect",
        "ci_low",
        "ci_high",
        "naive_change",
        "notes",
    }


def ramp_panel(
    seed: int, full: float = 0.06, ramp: int = 6
) -> tuple[pd.DataFrame, dict[str, date | None]]:
    """Five teams; the effect grows to `full` over `ramp` months after go-live."""
    panel, go_live = phased_panel(seed, effect=0.0, units=5)
    since = np.array(
        [
            (p.year - go_live[u].year) * 12 + p.month - go_live[u].month  # type: ignore[union-attr]
            for u, p in zip(panel["unit"], panel["period"], strict=True)
        ]
    )
    dose = np.where(since >= 0, np.minimum(1.0, (since + 1) / ramp), 0.0)
    return panel.assign(value=panel["value"] + full * dose), go_live


@pytest.mark.slow
def test_ramp_is_estimated_without_bias_and_covered() -> None:
    """Effects that grow after go-live: the truth is the ramp averaged with the weights."""
    errors, covered, runs = [], 0, 30
    for seed in range(runs):
        panel, go_live = ramp_panel(500 + seed)
        result = attribute(panel, go_live, name="x", placebo_months=0)
        study = result.event_study
        assert study is not None
        pairs = [(k, w) for k, w in zip(study.relative_month, study.weight, strict=True) if w]
        truth = sum(0.06 * min(1.0, (k + 1) / 6) * w for k, w in pairs) / sum(w for _, w in pairs)
        errors.append(result.effect - truth)
        covered += result.ci_low <= truth <= result.ci_high
    assert abs(float(np.mean(errors))) < 0.004  # under 10% of the mean effect (about 0.045)
    assert covered / runs >= 0.85


@pytest.mark.slow
def test_did_interval_coverage_is_about_95_percent() -> None:
    runs = 40  # five teams, 120 orders each; binomial sd at 95% over 40 runs is 3.4 points
    covered, widths = 0, []
    for seed in range(runs):
        panel, go_live = phased_panel(1000 + seed, units=5)
        result = attribute(panel, go_live, name="win_rate", placebo_months=0)
        covered += result.ci_low <= 0.05 <= result.ci_high
        widths.append(result.ci_high - result.ci_low)
    assert covered / runs >= 0.85
    assert float(np.mean(widths)) < 0.1  # informative: narrower than twice the effect


def test_placebo_go_live_in_the_baseline_finds_nothing() -> None:
    hits, runs = 0, 12
    for seed in range(runs):
        panel, go_live = phased_panel(2000 + seed, units=5)
        baseline = panel[panel["period"] < pd.Timestamp("2024-01-01")]
        fake = {u: date(2023, 3 + 2 * i, 1) for i, u in enumerate(go_live)}
        result = attribute(baseline, fake, name="placebo", placebo_months=0)
        hits += result.ci_low <= 0.0 <= result.ci_high
    assert hits / runs >= 0.8


def test_pre_trends_are_flagged() -> None:
    """Teams moving in the months before their own go-live are what the placebo catches."""
    panel, go_live = phased_panel(5, units=5, anticipation=0.06)
    result = attribute(panel, go_live, name="win_rate")
    assert result.event_study is not None and result.event_study.pretrend_p_value is not None
    assert result.event_study.pretrend_p_value < 0.05
    assert any(note.startswith("warning: the teams already drifted apart") for note in result.notes)


def test_choose_method_explains_itself() -> None:
    one = {"a": date(2024, 1, 1), "b": date(2024, 1, 1)}
    assert (
        choose_method({"a": date(2024, 1, 1), "b": date(2024, 5, 1)}, has_covariates=False)[0]
        == "did"
    )
    assert choose_method({"a": date(2024, 1, 1), "b": None}, has_covariates=False)[0] == "did"
    assert choose_method(one, has_covariates=True)[0] == "its"
    method, reason = choose_method(one, has_covariates=False)
    assert method == "naive" and "only the naive" in reason


def market_series(seed: int, effect: float = 8.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2023-01-01", periods=36, freq="MS")
    market = 100 + np.cumsum(rng.normal(0, 2, 36)) - 15 * (periods >= SHOCK)
    live = periods >= pd.Timestamp("2024-01-01")
    season = 5 * np.sin(np.arange(36) / 12 * 2 * np.pi)
    value = 50 + 0.8 * market + season + effect * live + rng.normal(0, 1.5, 36)
    return (
        pd.DataFrame({"period": periods, "value": value}),
        pd.DataFrame({"period": periods, "industry_sales": market}),
    )


def test_its_with_a_market_index_recovers_the_effect() -> None:
    series, market = market_series(4)
    result = interrupted_time_series(
        series, date(2024, 1, 1), name="sales_volume", covariates=market
    )
    assert result.method == "its"
    assert result.ci_low <= 8.0 <= result.ci_high
    assert abs(result.naive_change - 8.0) > abs(result.effect - 8.0)
    assert result.counterfactual is not None and len(result.counterfactual) == 36
    assert any("cumulative effect over 24 months" in n for n in result.notes)


def test_its_coverage_over_many_series() -> None:
    runs = 25  # about a second each; binomial sd at 95% over 25 runs is 4.4 points
    covered = sum(
        (r := interrupted_time_series(s, date(2024, 1, 1), name="x", covariates=m)).ci_low
        <= 8.0
        <= r.ci_high
        for s, m in (market_series(300 + i) for i in range(runs))
    )
    assert covered / runs >= 0.8


def test_naive_is_labelled_and_seasonally_adjusted() -> None:
    series, _ = market_series(7)
    result = naive_attribution(series, date(2024, 1, 1), name="sales_volume")
    assert result.method == "naive" and result.effect == result.naive_change
    assert result.seasonal_naive_change is not None
    assert "naive before/after" in result.notes[0]


def test_too_little_data_is_a_clear_error() -> None:
    series, _ = market_series(1)
    with pytest.raises(AttributionError, match="need at least two months before and after"):
        naive_attribution(series.head(2), date(2023, 2, 1), name="x")
    panel, go_live = phased_panel(1)
    with pytest.raises(AttributionError, match="no go-live date for units"):
        attribute(panel, {"u00": date(2024, 1, 1), "u01": None}, name="x")
    everyone = {u: date(2023, 1, 1) for u in go_live}
    with pytest.raises(AttributionError, match="needs teams not yet live"):
        attribute(panel, everyone, name="x", method="did")


def test_charts_take_results_and_return_vega_lite() -> None:
    from crmroi.attribution.charts import counterfactual_chart, event_study_chart

    panel, go_live = phased_panel(2, units=5)
    did = attribute(panel, go_live, name="win_rate")
    spec = event_study_chart(did).to_dict()
    assert spec["title"]["text"] == "Event study: win_rate"
    assert len(spec["layer"]) == 4
    series, market = market_series(2)
    its = interrupted_time_series(series, date(2024, 1, 1), name="sales", covariates=market)
    assert counterfactual_chart(its).to_dict()["title"]["subtitle"] == "dashed: counterfactual"
    with pytest.raises(AttributionError, match="no counterfactual"):
        counterfactual_chart(did)


def test_anticipation_months_are_left_out_of_the_comparison() -> None:
    """A KPI that moves in the two months before go-live (a lapse dated before the
    departure it stands for): compared with them, the effect is understated; with
    them left out (`anticipation=2`), it is exact."""
    periods = pd.date_range("2023-01-01", periods=36, freq="MS")
    common = 0.03 * np.sin(np.arange(36) / 12 * 2 * np.pi) + -0.04 * (periods >= SHOCK)
    go_live: dict[str, date | None] = {f"t{i}": STARTS[i] for i in range(5)}
    frames = []
    for i, unit in enumerate(go_live):
        start = pd.Timestamp(STARTS[i])
        live = periods >= start
        soon = (periods >= start - pd.DateOffset(months=2)) & ~live
        value = 0.2 + 0.01 * i + common + 0.05 * live + 0.05 * soon
        frames.append(pd.DataFrame({"unit": unit, "period": periods, "value": value,
                                    "weight": 10.0 + i}))  # fmt: skip
    panel = pd.concat(frames, ignore_index=True)
    naive = attribute(panel, go_live, name="x")
    assert naive.effect < 0.045
    exact = attribute(panel, go_live, name="x", anticipation=2)
    assert exact.effect == pytest.approx(0.05, abs=1e-10)
    assert exact.ci_low <= 0.05 <= exact.ci_high
    assert any("2 months before each team's go-live are left out" in n for n in exact.notes)


def test_carried_shares_before_go_live_are_divided_out() -> None:
    """Months before go-live that carry a known share of the effect beyond the ones left
    out (lapses dated at a last purchase followed by a departure after go-live): without
    `carry` the estimate is attenuated; with it, exact, its interval around it."""
    periods = pd.date_range("2023-01-01", periods=36, freq="MS")
    common = 0.03 * np.sin(np.arange(36) / 12 * 2 * np.pi) + -0.04 * (periods >= SHOCK)
    go_live: dict[str, date | None] = {f"t{i}": STARTS[i] for i in range(5)}
    shares = [0.7, 0.4, 0.2, 0.1]  # 1, 2, 3, 4 months before go-live
    frames = []
    for i, unit in enumerate(go_live):
        start = pd.Timestamp(STARTS[i])
        k = (start.year - periods.year) * 12 + start.month - periods.month  # months before
        dose = np.where(k <= 0, 1.0, 0.0)
        for j, s in enumerate(shares):
            dose = np.where(k == j + 1, s, dose)
        value = 0.2 + 0.01 * i + common - 0.004 * dose
        frames.append(pd.DataFrame({"unit": unit, "period": periods, "value": value,
                                    "weight": 10.0 + i}))  # fmt: skip
    panel = pd.concat(frames, ignore_index=True)
    plain = attribute(panel, go_live, name="x", anticipation=2)
    assert plain.effect > -0.0039  # months 3 and 4 before go-live carry 0.2 and 0.1
    exact = attribute(panel, go_live, name="x", anticipation=2, carry=shares)
    assert exact.effect == pytest.approx(-0.004, abs=1e-12)
    assert exact.ci_low - 1e-12 <= -0.004 <= exact.ci_high + 1e-12
    assert exact.effect_rel is not None
    # the counterfactual is the level without the CRM: the value less the effect
    live_mean = np.average(
        panel["value"][exact_live := _live(panel, go_live)], weights=panel["weight"][exact_live]
    )
    assert exact.effect / exact.effect_rel == pytest.approx(live_mean + 0.004, abs=0.02)
    assert exact.event_study is not None
    for k, effect in zip(exact.event_study.relative_month, exact.event_study.effect, strict=True):
        if k >= 0 and effect == effect:
            assert effect == pytest.approx(-0.004, abs=1e-12)
    # with every share 0 the result is the plain one
    zero = attribute(panel, go_live, name="x", anticipation=2, carry=[0.0] * 4)
    assert zero.effect == pytest.approx(plain.effect, abs=1e-14)
    assert (zero.ci_low, zero.ci_high) == pytest.approx((plain.ci_low, plain.ci_high))


def _live(panel: pd.DataFrame, go_live: dict[str, date | None]) -> pd.Series:
    start = panel["unit"].map(lambda u: pd.Timestamp(go_live[u]))
    return panel["period"] >= start


def test_randomisation_interval_with_a_partial_dose_is_the_set_of_unrejected_effects() -> None:
    """With b0 < 1 (the actual order's estimate on a dose that is not 0/1) the interval is
    still exactly the deltas whose statistic |theta - delta b0| is not in the outer 5%."""
    from crmroi.attribution.randomization import interval, p_value

    rng = np.random.default_rng(8)
    for _ in range(20):
        theta, b0 = float(rng.normal()), float(rng.uniform(0.6, 1.0))
        a, b = rng.normal(0, 1, 119), rng.normal(0, 0.3, 119)
        bounds = interval(theta, a, b, 0.05, b0)
        assert bounds is not None
        low, high = bounds
        assert low <= theta / b0 <= high
        grid = np.linspace(low - 3, high + 3, 3001)
        # independent reference: count the orders at least as extreme by brute force
        ref = [
            (1 + int((np.abs(a - d * b) >= abs(theta - d * b0) - 1e-12).sum())) / 120 > 0.05
            for d in grid
        ]
        accepted = grid[ref]
        inside = accepted[(accepted >= low - 1e-9) & (accepted <= high + 1e-9)]
        assert inside.min() - low < 0.01 and high - inside.max() < 0.01
        assert p_value(theta, a, b, low - 1e-6, b0) <= 0.05 or (
            p_value(theta, a, b, high + 1e-6, b0) <= 0.05
        )
