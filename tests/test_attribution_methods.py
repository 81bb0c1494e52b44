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
from crmroi.attribution.twfe import fit_twfe

STARTS = [date(2024, 1, 1), date(2024, 3, 1), date(2024, 6, 1), date(2024, 9, 1), date(2025, 5, 1)]
SHOCK = pd.Timestamp("2024-07-01")


def phased_panel(
    seed: int,
    effect: float = 0.05,
    units: int = 30,
    months: int = 36,
    shock: float = -0.04,
    pretrend: float = 0.0,
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
        value = 0.3 + rng.normal(0, 0.05) + common + drift + effect * live
        value = value + rng.normal(0, 0.04, months)
        weight = rng.integers(5, 30, months).astype(float)
        frames.append(
            pd.DataFrame({"unit": unit, "period": periods, "value": value, "weight": weight})
        )
    return pd.concat(frames, ignore_index=True), go_live


def test_twfe_matches_statsmodels_dummy_regression() -> None:
    panel, go_live = phased_panel(3)
    panel = panel.sample(frac=0.8, random_state=1).reset_index(drop=True)  # unbalanced
    live = np.array(
        [
            p >= pd.Timestamp(go_live[u])
            for u, p in zip(panel["unit"], panel["period"], strict=True)
        ],
        dtype=float,
    )
    ours = fit_twfe(
        panel["value"].to_numpy(),
        live[:, None],
        pd.factorize(panel["unit"])[0],
        pd.factorize(panel["period"])[0],
        panel["weight"].to_numpy(),
    )
    dummies = pd.concat(
        [
            pd.Series(live, name="live"),
            pd.get_dummies(panel["unit"], drop_first=True, dtype=float),
            pd.get_dummies(panel["period"].astype(str), drop_first=True, dtype=float),
        ],
        axis=1,
    )
    reference = sm.WLS(panel["value"], sm.add_constant(dummies), weights=panel["weight"]).fit(
        cov_type="cluster",
        cov_kwds={"groups": pd.factorize(panel["unit"])[0], "use_correction": True},
        use_t=True,
    )
    assert ours.params[0] == pytest.approx(reference.params["live"], abs=1e-9)
    assert np.sqrt(ours.cov[0, 0]) == pytest.approx(reference.bse["live"], rel=1e-6)
    assert ours.conf_int()[0] == pytest.approx(
        reference.conf_int().loc["live"].to_numpy(), rel=1e-6
    )


def test_did_recovers_the_effect_where_naive_does_not() -> None:
    panel, go_live = phased_panel(11)
    result = attribute(panel, go_live, name="win_rate")
    assert result.method == "did"
    assert result.ci_low <= 0.05 <= result.ci_high
    assert abs(result.effect - 0.05) < 0.015
    # the market shock after most go-lives drags the naive change well below the truth
    assert result.naive_change < 0.035
    assert result.event_study is not None and -1 in result.event_study.relative_month
    assert result.notes[0].startswith("method did: units went live at different times")
    assert set(result.to_json()) >= {
        "name",
        "method",
        "effect",
        "ci_low",
        "ci_high",
        "naive_change",
        "notes",
    }


def test_did_interval_coverage_is_about_95_percent() -> None:
    runs = 120
    covered = 0
    naive_covered = 0
    for seed in range(runs):
        panel, go_live = phased_panel(1000 + seed)
        result = attribute(panel, go_live, name="win_rate", event_window=None)
        covered += result.ci_low <= 0.05 <= result.ci_high
        naive_covered += abs(result.naive_change - 0.05) < 0.01
    coverage = covered / runs
    # binomial sd at 95% over 120 runs is 2 points: accept 89%..99.5%
    assert 0.89 <= coverage <= 0.995, coverage
    assert naive_covered / runs < 0.2


def test_placebo_go_live_in_the_baseline_finds_nothing() -> None:
    hits = 0
    runs = 40
    for seed in range(runs):
        panel, go_live = phased_panel(2000 + seed)
        baseline = panel[panel["period"] < pd.Timestamp("2024-01-01")]
        fake = {u: date(2023, d.month if d else 6, 1) for u, d in go_live.items()}
        fake = {u: (d if d.month < 12 else date(2023, 11, 1)) for u, d in fake.items()}
        result = attribute(baseline, fake, name="placebo", event_window=None)
        hits += result.ci_low <= 0.0 <= result.ci_high
    assert hits / runs >= 0.85


def test_pre_trends_are_flagged() -> None:
    panel, go_live = phased_panel(5, pretrend=0.015)
    result = attribute(panel, go_live, name="win_rate")
    assert result.event_study is not None and result.event_study.pretrend_p_value is not None
    assert result.event_study.pretrend_p_value < 0.05
    assert any(note.startswith("warning: pre-trends differ") for note in result.notes)


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
    with pytest.raises(AttributionError, match="needs a comparison group"):
        attribute(panel, everyone, name="x", method="did")


def test_charts_take_results_and_return_vega_lite() -> None:
    from crmroi.attribution.charts import counterfactual_chart, event_study_chart

    panel, go_live = phased_panel(2)
    did = attribute(panel, go_live, name="win_rate")
    spec = event_study_chart(did).to_dict()
    assert spec["title"]["text"] == "Event study: win_rate"
    assert len(spec["layer"]) == 4
    series, market = market_series(2)
    its = interrupted_time_series(series, date(2024, 1, 1), name="sales", covariates=market)
    assert counterfactual_chart(its).to_dict()["title"]["subtitle"] == "dashed: counterfactual"
    with pytest.raises(AttributionError, match="no counterfactual"):
        counterfactual_chart(did)
