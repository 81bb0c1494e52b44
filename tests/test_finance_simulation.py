"""The Monte Carlo: reproducible, converges to the deterministic case, fast, tornado order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crmroi.casework.evaluate import evaluate_case
from crmroi.finance.case import parse_case
from crmroi.finance.cashflow import CashFlowTable
from crmroi.finance.estimates import Range, pert_draws, pert_mean
from crmroi.finance.model import build_model
from crmroi.finance.simulation import deterministic_npv, draw_inputs, simulate
from crmroi.finance.summary import summarise

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"


def case_data(low: float, likely: float, high: float) -> dict[str, object]:
    return {
        "name": "sim",
        "users": 10,
        "horizon_months": 36,
        "costs": [
            {"category": "licence", "amount": 60, "per_user": True},
            {
                "category": "implementation",
                "kind": "one_time",
                "amount": {"low": 20000, "likely": 25000, "high": 40000},
                "start_month": 0,
            },
        ],
        "benefits": [
            {
                "kind": "win_rate",
                "opportunities_per_month": 50,
                "win_rate": 0.25,
                "avg_deal_size": 4000,
                "gross_margin": 0.4,
                "change": {"low": low, "likely": likely, "high": high},
            }
        ],
    }


def test_reproducible_for_a_seed() -> None:
    model = build_model(parse_case(case_data(0.0, 0.02, 0.05)))
    a, b = simulate(model, 5000, seed=3), simulate(model, 5000, seed=3)
    np.testing.assert_array_equal(a.npv, b.npv)
    assert a.as_dict() == b.as_dict()
    c = simulate(model, 5000, seed=4)
    assert not np.array_equal(a.npv, c.npv)


def test_collapsed_ranges_converge_to_deterministic() -> None:
    data = case_data(0.02, 0.02, 0.02)
    data["costs"][1]["amount"] = 25000  # type: ignore[index]
    model = build_model(parse_case(data))
    result = simulate(model, 2000, seed=0)
    assert result.npv.mean() == pytest.approx(deterministic_npv(model), rel=1e-12)
    assert np.ptp(result.npv) == pytest.approx(0.0, abs=1e-6)


def test_mean_converges_to_pert_mean_case() -> None:
    """The NPV is linear in each input, so its mean is the NPV at the PERT means."""
    data = case_data(0.0, 0.02, 0.05)
    model = build_model(parse_case(data))
    result = simulate(model, 200_000, seed=1, with_tornado=False)
    data["benefits"][0]["change"] = pert_mean(Range(low=0.0, likely=0.02, high=0.05))  # type: ignore[index]
    data["costs"][1]["amount"] = pert_mean(Range(low=20000, likely=25000, high=40000))  # type: ignore[index]
    expected = deterministic_npv(build_model(parse_case(data)))
    standard_error = result.npv.std() / np.sqrt(result.runs)
    assert abs(result.npv.mean() - expected) < 4 * standard_error


def test_pert_draws_bounds_and_mean() -> None:
    rng = np.random.default_rng(0)
    r = Range(low=1.0, likely=2.0, high=6.0)
    x = pert_draws(r, 200_000, rng)
    assert x.min() >= 1.0 and x.max() <= 6.0
    assert x.mean() == pytest.approx((1 + 4 * 2 + 6) / 6, rel=5e-3)


def test_tornado_ranks_by_swing() -> None:
    model = build_model(parse_case(case_data(0.0, 0.02, 0.05)))
    rows = simulate(model, 100, seed=0).tornado
    assert [r.input for r in rows] == ["win_rate.change", "implementation 2.amount"]
    assert rows[0].swing >= rows[1].swing
    # implementation: 20,000 more cost at month 0 (undiscounted) moves NPV by exactly that
    assert rows[1].swing == pytest.approx(20000.0)


def test_100k_runs_of_36_months() -> None:
    """Shape and finiteness at full size; the speed is benchmarks/bench_simulation.py's."""
    from crmroi.finance.case import load_case

    model = build_model(load_case(EXAMPLE))
    result = simulate(model, 100_000, seed=0)
    assert result.npv.shape == (100_000,)
    assert np.isfinite(result.npv).all()
    small = simulate(model, 2_000, seed=0)
    assert float(np.median(result.npv)) == pytest.approx(float(np.median(small.npv)), rel=0.1)


def test_example_case_figures_and_json_keys() -> None:
    from crmroi.finance.case import load_case

    result = evaluate_case(load_case(EXAMPLE), runs=2000, seed=0)
    doc = result.to_json()
    keys = {
        "horizon_months",
        "discount_rate",
        "pv_benefits",
        "pv_costs",
        "npv",
        "roi",
        "irr",
        "payback_months",
        "discounted_payback_months",
    }
    assert keys <= set(doc)
    assert keys <= set(doc["risk_adjusted"])
    assert doc["risk_adjusted"]["npv"] < doc["npv"]
    assert set(doc["horizons"]) == {"12", "36"}
    sim_keys = {"runs", "seed", "p_roi_positive", "roi_p10", "roi_p50", "roi_p90"}
    assert sim_keys | {"npv_p10", "npv_p50", "npv_p90"} <= set(doc["simulation"])
    assert [w["code"] for w in doc["warnings"]].count("horizon") == 1


# -- P(ROI > 0) at 12 months and the horizon, before and after risk adjustment ------------


def _independent_roi(model: Any, draws: dict[str, Any], run: int, months: int, risk: bool) -> float:
    """ROI of one run through the deterministic path: that run's amounts laid out as a
    `CashFlowTable` line by line (as `CaseModel.table` does), cut with `truncated`
    and summarised with `summarise`."""
    one = {k: v[run : run + 1] for k, v in draws.items()}
    amounts = model.amounts(one, 1)[0]
    table = CashFlowTable(model.case.horizon_months)
    for line, amount in zip(model.lines, amounts, strict=True):
        factor = (1 - line.risk) if line.side == "benefit" else (1 + line.risk)
        flows = amount * (factor if risk else 1.0) * line.shape
        target = table.benefits if line.side == "benefit" else table.costs
        key = f"{line.side}:{line.name}:{line.category}"
        target[key] = target[key] + flows if key in target else flows
    return summarise(table.truncated(months), model.case.discount_rate).roi


def test_probabilities_match_an_independent_recomputation_of_each_run() -> None:
    from crmroi.finance.case import load_case

    model = build_model(load_case(EXAMPLE))
    runs, seed = 300, 5
    sim = simulate(model, runs, seed, with_tornado=False)
    draws = draw_inputs(model, runs, np.random.default_rng(seed))  # simulate's own draws
    assert (sim.short_months, sim.horizon_months) == (12, 36)
    for months, risk, got in (
        (36, False, sim.roi),
        (36, True, sim.roi_risk),
        (12, False, sim.roi_short),
        (12, True, sim.roi_short_risk),
    ):
        expected = np.array([_independent_roi(model, draws, i, months, risk) for i in range(runs)])
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
        assert sim.probabilities()[(months, risk)] == float(np.mean(expected > 0))
    # the horizon's plain probability is the one the simulation always gave
    assert sim.probabilities()[(36, False)] == sim.p_roi_positive == float(np.mean(sim.roi > 0))
    assert sim.p_roi_positive_risk < sim.p_roi_positive  # risk adjustment only lowers ROI
    assert sim.p_roi_positive_short_risk <= sim.p_roi_positive_short


def test_probabilities_closed_form_one_ranged_cost() -> None:
    """One cost, paid at month 0 and drawn from PERT(10k, 20k, 40k); benefits fixed.

    ROI at h months > 0 exactly when the cost C < PV(benefits to h) (risk adjusted:
    C (1 + 10%) < PV of the benefits reduced by 10%), so P(ROI > 0) is the Beta CDF
    of PERT(C) at that threshold."""
    from scipy.stats import beta

    data = case_data(0.02, 0.02, 0.02)
    data["costs"] = [data["costs"][1]]  # type: ignore[index]
    data["costs"][0]["amount"] = {"low": 10000, "likely": 20000, "high": 40000}  # type: ignore[index]
    data["horizon_months"] = 24
    case = parse_case(data)
    model = build_model(case)
    runs = 200_000
    sim = simulate(model, runs, seed=11, with_tornado=False)
    low, likely, high = 10000.0, 20000.0, 40000.0
    a = 1 + 4 * (likely - low) / (high - low)
    b = 1 + 4 * (high - likely) / (high - low)
    seen = set()
    for months in (12, 24):
        for risk in (False, True):
            table = model.table(risk_adjusted=risk).truncated(months)
            pv_benefits = summarise(table, case.discount_rate).pv_benefits
            threshold = pv_benefits / (1 + case.risk.costs) if risk else pv_benefits
            expected = float(beta.cdf((threshold - low) / (high - low), a, b))
            got = sim.probabilities()[(months, risk)]
            assert abs(got - expected) < 5 * np.sqrt(expected * (1 - expected) / runs)
            seen.add(round(expected, 2))
    assert len(seen) == 4  # four different probabilities, each between 0 and 1
    assert min(seen) > 0 and max(seen) < 1


def test_probabilities_for_a_horizon_of_a_year_or_less() -> None:
    data = case_data(0.0, 0.02, 0.05)
    data["horizon_months"] = 9
    model = build_model(parse_case(data))
    sim = simulate(model, 2000, seed=2)
    assert sim.short_months == sim.horizon_months == 9
    assert sim.probabilities() == {
        (9, False): sim.p_roi_positive,
        (9, True): sim.p_roi_positive_risk,
    }
    np.testing.assert_array_equal(sim.roi_short, sim.roi)
    np.testing.assert_array_equal(sim.roi_short_risk, sim.roi_risk)
    d = sim.as_dict()
    assert d["p_roi_positive_by_horizon"] == {
        "9": {
            "p_roi_positive": sim.p_roi_positive,
            "p_roi_positive_risk_adjusted": sim.p_roi_positive_risk,
        }
    }


def test_simulation_json_has_the_four_probabilities() -> None:
    from crmroi.finance.case import load_case

    result = evaluate_case(load_case(EXAMPLE), runs=1000, seed=4)
    assert result.simulation is not None
    sim = result.to_json()["simulation"]
    assert sim["p_roi_positive"] == result.simulation.p_roi_positive
    assert sim["p_roi_positive_risk_adjusted"] == result.simulation.p_roi_positive_risk
    by = sim["p_roi_positive_by_horizon"]
    assert set(by) == {"12", "36"}
    assert by["36"]["p_roi_positive"] == sim["p_roi_positive"]
    assert by["36"]["p_roi_positive_risk_adjusted"] == sim["p_roi_positive_risk_adjusted"]
    assert by["12"]["p_roi_positive"] == result.simulation.p_roi_positive_short
    assert by["12"]["p_roi_positive_risk_adjusted"] == result.simulation.p_roi_positive_short_risk
