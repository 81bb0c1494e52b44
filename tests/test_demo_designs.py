"""The demo's calibration designs: who goes live when, how strongly, and what truth.json says."""

from __future__ import annotations

import numpy as np
import pytest

from crmroi.demo import generate_company
from crmroi.demo.company import DESIGNS, GO_LIVE_MONTH, RAMP_MONTHS, make_world


def test_ramp_dose_grows_linearly_to_full_size() -> None:
    world = make_world(1, 0.1, DESIGNS["ramp"])
    team = np.zeros(9, dtype=np.int64)
    months = GO_LIVE_MONTH[0] + np.arange(-1, 8)
    dose = world.dose(team, world.month_us[months] + 1)
    expected = [0.0] + [min(1.0, (k + 1) / RAMP_MONTHS) for k in range(8)]
    assert dose == pytest.approx(expected)
    step = make_world(1, 0.1, DESIGNS["phased"]).dose(team, world.month_us[months] + 1)
    assert step == pytest.approx([0.0] + [1.0] * 8)


@pytest.mark.parametrize("design", ["placebo", "single"])
def test_truth_says_the_exact_answer_of_each_design(design: str) -> None:
    company = generate_company(scale=0.1, seed=3, design=design)
    truth = company.truth
    assert truth["design"]["name"] == design
    assert len(truth["market"]["by_month"]) == 36
    if design == "placebo":
        # no effect at all: designed effects are zero and the realised ones too
        for name, effect in truth["effects"].items():
            assert next(iter(effect.values())) == 0.0, name
        # not even through customers kept longer: each team-month's totals agree
        for kpi, parts in truth["realised_by_team_month"].items():
            assert parts["actual"] == parts["counterfactual"], kpi
    else:
        assert len(set(truth["go_live_by_team"].values())) == 1
        assert truth["effects"]["win_rate"] == {"change_abs": 0.05}


def test_realised_by_team_month_is_the_exact_answer_over_any_team_months() -> None:
    """The per team-month totals add up to the won deals of the tables, and the CRM's
    realised effect is positive only from each team's go-live on."""
    company = generate_company(scale=0.2, seed=5, design="phased")
    truth = company.truth
    grid = truth["realised_by_team_month"]["won_deals"]
    deals = company.tables["deals"].to_pandas()
    reps = company.tables["reps"].to_pandas()[["rep_id", "team"]]
    deals = deals.merge(reps, left_on="owner_rep_id", right_on="rep_id")
    deals = deals[deals["created_at"] >= "2023-01-01"]
    for team, go_live in truth["go_live_by_team"].items():
        mine = deals[(deals["team"] == team) & deals["is_won"]]
        month = (mine["created_at"].dt.year - 2023) * 12 + mine["created_at"].dt.month - 1
        counts = np.bincount(month, minlength=36)
        assert grid["actual"][team] == pytest.approx(counts.tolist())
        g = (int(go_live[:4]) - 2023) * 12 + int(go_live[5:7]) - 1
        before = np.array(grid["actual"][team][:g]) - np.array(grid["counterfactual"][team][:g])
        assert (before == 0).all()  # deals created before go-live: the CRM changes nothing
        after = sum(grid["actual"][team][g:]) / sum(grid["counterfactual"][team][g:]) - 1
        assert 0.0 < after < 1.0


def test_ratio_truth_is_like_for_like_per_team_month() -> None:
    """avg_deal_size and calls_per_won_deal carry numerator and denominator with and
    without the CRM per team and creation month: the actual side is the tables' won
    amount and won deals; before go-live both sides agree; after it the exact answer
    differs from the designed +8% / -20% because without the CRM fewer of the late
    cohorts' deals have closed (slower cycle) and the win rate is lower."""
    company = generate_company(scale=0.2, seed=5, design="phased")
    truth = company.truth
    size = truth["realised_by_team_month"]["avg_deal_size"]
    calls = truth["realised_by_team_month"]["calls_per_won_deal"]
    deals = company.tables["deals"].to_pandas()
    reps = company.tables["reps"].to_pandas()[["rep_id", "team"]]
    deals = deals.merge(reps, left_on="owner_rep_id", right_on="rep_id")
    deals = deals[(deals["created_at"] >= "2023-01-01") & deals["is_won"]]
    pooled_calls = pooled_won = 0.0
    for team, go_live in truth["go_live_by_team"].items():
        mine = deals[deals["team"] == team]
        month = (mine["created_at"].dt.year - 2023) * 12 + mine["created_at"].dt.month - 1
        amount = np.bincount(month, weights=mine["amount"].astype(float), minlength=36)
        assert size["actual"][team] == pytest.approx(amount.tolist(), abs=0.01)
        assert size["actual_den"][team] == pytest.approx(np.bincount(month, minlength=36))
        assert calls["actual_den"][team] == size["actual_den"][team]
        g = (int(go_live[:4]) - 2023) * 12 + int(go_live[5:7]) - 1
        for grid in (size, calls):
            for part in ("", "_den"):
                a, c = grid["actual" + part][team][:g], grid["counterfactual" + part][team][:g]
                assert a == pytest.approx(c)  # before go-live the CRM changes nothing
        pooled_calls += sum(calls["counterfactual"][team][:g])
        pooled_won += sum(calls["counterfactual_den"][team][:g])
    # calls per won deal without the CRM: 15 a won deal, as designed. Calls follow the win
    # probability, wins their own draws: 15 x (1 + (sum p / won - 1) / 2), whose standard
    # deviation over the teams' 250 won deals before go-live is about 2.7% (6-8% for one
    # team's 25-110), so 10% is 3.7 of them
    assert pooled_calls / pooled_won == pytest.approx(15.0, rel=0.1)


def test_realised_truth_is_generate_companys() -> None:
    from crmroi.demo.company import realised_truth

    company = generate_company(scale=0.1, seed=2, design="ramp")
    part = realised_truth(scale=0.1, seed=2, design="ramp")
    for key, value in part.items():
        assert company.truth[key] == value, key


def test_draws_are_independent_by_default_or_stratified_on_request() -> None:
    """Independent draws (every design's default) vary by cell as real deals do: the
    variance of a cell's mean of 40 uniforms is 1/(12 x 40). Stratified ones cover each
    cell's [0, 1) evenly (one draw in each fortieth), so their means hardly vary."""
    import dataclasses

    assert {d.draws for d in DESIGNS.values()} == {"independent"}
    cell = np.repeat(np.arange(200), 40)
    rng = np.random.default_rng(0)
    indep = make_world(1, 0.1, DESIGNS["single"]).strat(rng, cell).reshape(200, 40)
    ratio = indep.mean(1).var(ddof=1) / (1 / 12 / 40)
    assert 0.65 < ratio < 1.45  # chi-square / 199: 0.70-1.36 with 99.9% probability
    plan = dataclasses.replace(DESIGNS["single"], draws="stratified")
    strat = make_world(1, 0.1, plan).strat(rng, cell).reshape(200, 40)
    assert (np.sort(np.floor(strat * 40), axis=1) == np.arange(40)).all()
    assert strat.mean(1).var(ddof=1) < 0.01 / 12 / 40
    z = make_world(1, 0.1, DESIGNS["single"]).strat_normal(rng, cell)
    assert abs(z.mean()) < 0.05 and z.std() == pytest.approx(1.0, abs=0.03)


def test_draws_are_in_truth_and_checked() -> None:
    company = generate_company(scale=0.1, seed=3, design="single", draws="stratified")
    assert company.truth["design"]["draws"] == "stratified"
    with pytest.raises(ValueError, match="draws must be one of"):
        generate_company(scale=0.1, seed=3, draws="sorted")
