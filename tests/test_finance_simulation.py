"""The Monte Carlo: reproducible, converges to the deterministic case, fast, tornado order."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from crmroi.finance.case import parse_case
from crmroi.finance.estimates import Range, pert_draws, pert_mean
from crmroi.finance.evaluate import evaluate_case
from crmroi.finance.model import build_model
from crmroi.finance.simulation import deterministic_npv, simulate

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


def test_100k_runs_of_36_months_in_about_a_second() -> None:
    from crmroi.finance.case import load_case

    model = build_model(load_case(EXAMPLE))
    simulate(model, 1000, seed=0)  # warm-up
    started = time.perf_counter()
    result = simulate(model, 100_000, seed=0)
    elapsed = time.perf_counter() - started
    assert result.npv.shape == (100_000,)
    assert elapsed < 3.0, f"100,000 runs took {elapsed:.2f} s"


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
