"""The practitioners' rules on a case: each with a case that should and one that should not
trigger it (benchmark ceilings one-sided and per year, the integration rule on the
first-year return, measured changes, the satisfaction driver, named sources)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmroi.finance.case import load_case, parse_case
from crmroi.finance.evaluate import CaseResult, evaluate_model
from crmroi.finance.model import MeasuredChange, build_model
from crmroi.finance.sanity import BENCHMARKS, per_year

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"


def case(benefits: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "checks",
        "horizon_months": 36,
        "discount_rate": 0.0,
        "costs": [{"category": "licence", "amount": 100}],
        "benefits": benefits,
    }
    doc.update(extra)
    return doc


def run(doc: dict[str, Any], measured: dict[str, MeasuredChange] | None = None) -> CaseResult:
    return evaluate_model(build_model(parse_case(doc), measured=measured))


def benchmark_checks(result: CaseResult, subject: str) -> list[Any]:
    return [c for c in result.checks if c.rule == "benchmark" and c.subject == subject]


def win_rate(change: Any) -> dict[str, Any]:
    return {
        "kind": "win_rate",
        "name": "wins",
        "opportunities_per_month": 100,
        "win_rate": 0.25,
        "avg_deal_size": 1000,
        "gross_margin": 0.5,
        "change": change,
    }


def admin(change: Any) -> dict[str, Any]:
    return {
        "kind": "time_saved",
        "name": "admin",
        "users": 10,
        "admin_share": 0.30,
        "loaded_hourly_cost": 50,
        "change": change,
    }


def test_the_shipped_example_raises_no_benchmark_or_integration_warning() -> None:
    result = evaluate_model(build_model(load_case(EXAMPLE)))
    codes = [w.code for w in result.warnings]
    assert "benchmark" not in codes and "integration" not in codes
    checked = {c.subject for c in result.checks if c.rule == "benchmark"}
    assert {"more deals won", "less admin for reps", "revenue drivers together"} <= checked
    assert any(c.rule == "integration" and c.passed for c in result.checks)


def test_win_rate_warns_only_above_the_ceiling() -> None:
    # relative change = change / baseline win rate: 0.005 / 0.25 = +2% (cautious), 0.05 / 0.25
    # = +20% (above the +15% ceiling)
    cautious = benchmark_checks(run(case([win_rate(0.005)])), "wins")
    optimistic = benchmark_checks(run(case([win_rate(0.05)])), "wins")
    assert [c.passed for c in cautious] == [True]
    assert [c.passed for c in optimistic] == [False]
    assert "+20.0%" in optimistic[0].message and "ceiling of +15%" in optimistic[0].message


def test_admin_cost_is_a_ceiling_on_the_cut_per_year() -> None:
    # change in admin share / baseline share = relative change of the cost of admin time.
    cautious = benchmark_checks(run(case([admin(-0.01)])), "admin")  # -3.3%
    assert [c.passed for c in cautious] == [True]
    # -0.12 / 0.30 = -40% at once (full effect in month 1: one year) -> -40% a year
    steep = benchmark_checks(run(case([admin(-0.12)])), "admin")
    assert [c.passed for c in steep] == [False]
    assert "administrative costs -10-20% a year" in steep[0].message
    # the same -40% reached over 36 months: 0.6^(1/3) - 1 = -15.7% a year: within the range
    slow = case([admin(-0.12)], adoption={"start": 0.0, "end": 1.0, "months": 36})
    (check,) = benchmark_checks(run(slow), "admin")
    assert check.passed
    assert f"{0.6 ** (1 / 3) - 1:+.1%} a year" in check.message


def test_sales_per_rep_range_is_per_year_over_three_years() -> None:
    deal = {
        "kind": "deal_size",
        "name": "deals",
        "won_deals_per_month": 10,
        "avg_deal_size": 1000,
        "gross_margin": 0.5,
        "change": 0.5,
    }
    at_once = benchmark_checks(run(case([deal])), "revenue drivers together")
    assert [c.passed for c in at_once] == [False]  # +50% in the first year
    ramped = case([deal], benefit_ramp={"start": 0.0, "end": 1.0, "months": 36})
    (check,) = benchmark_checks(run(ramped), "revenue drivers together")
    assert check.passed  # 1.5^(1/3) - 1 = +14.5% a year
    assert "+14.5% a year" in check.message


def satisfaction(change: Any) -> dict[str, Any]:
    return {
        "kind": "satisfaction",
        "name": "happier customers",
        "customers": 1000,
        "revenue_per_customer": 200,
        "gross_margin": 0.4,
        "retention_per_satisfaction": 0.3,
        "referrals_per_satisfaction": 0.1,
        "change": change,
    }


def test_satisfaction_driver_value_and_range() -> None:
    model = build_model(parse_case(case([satisfaction(0.05)])))
    flows = model.table().benefits["happier customers"]
    # 1000 customers x 0.05 x (0.3 + 0.1) x 200 a month x 0.4 margin = 1,600 a month
    assert flows[1] == pytest.approx(1600.0)
    ok = benchmark_checks(evaluate_model(model), "happier customers")
    assert [c.passed for c in ok] == [True]
    high = benchmark_checks(run(case([satisfaction(0.15)])), "happier customers")
    assert [c.passed for c in high] == [False]
    assert "customer satisfaction +3-10%" in high[0].message


def test_satisfaction_and_retention_together_are_double_counting() -> None:
    retention = {
        "kind": "retention",
        "name": "kept",
        "customers": 1000,
        "revenue_per_customer": 200,
        "gross_margin": 0.4,
        "change": 0.01,
    }
    with pytest.raises(Exception, match="double counting"):
        parse_case(case([satisfaction(0.05), retention]))


def test_measured_change_is_labelled_measured_with_its_interval() -> None:
    doc = case([win_rate("measured")])
    measured = {"win_rate": MeasuredChange(0.05, 0.03, 0.07)}
    (check,) = benchmark_checks(run(doc, measured), "wins")
    assert not check.passed
    assert "measured change +20.0% (95% interval +12.0% to +28.0%)" in check.message
    assert "check the measurement" in check.message
    low = {"win_rate": MeasuredChange(0.01, 0.0, 0.02)}
    (check,) = benchmark_checks(run(doc, low), "wins")
    assert check.passed and check.message.startswith("wins: measured change +4.0%")


def integration_case(amount: float) -> dict[str, Any]:
    custom = {"kind": "custom", "name": "return", "change": 10_000}
    return case(
        [custom],
        costs=[{"category": "integration", "kind": "one_time", "amount": amount, "start_month": 1}],
    )


def test_integration_rule_is_on_the_first_year_return() -> None:
    # first-year return: months 1..12 of 10,000 = 120,000 (discount rate 0)
    fail = run(integration_case(75_600))  # 63% of the first-year return, 21% of 36 months
    (check,) = [c for c in fail.checks if c.rule == "integration"]
    assert not check.passed
    assert "63% of the return over the first 12 months" in check.message
    assert "integration" in [w.code for w in fail.warnings]
    ok = run(integration_case(48_000))  # 40%
    assert [c.passed for c in ok.checks if c.rule == "integration"] == [True]


def margin(change: float) -> dict[str, Any]:
    return {
        "kind": "margin",
        "name": "margin",
        "monthly_revenue": 100_000,
        "gross_margin": 0.40,
        "change": change,
    }


def test_mark_up_warns_only_above_its_ceiling() -> None:
    # relative change = change / baseline margin: 0.01 / 0.40 = +2.5% (below +3-5%: cautious),
    # 0.04 / 0.40 = +10% (above the +5% ceiling); a level, not a rate a year
    (cautious,) = benchmark_checks(run(case([margin(0.01)])), "margin")
    assert cautious.passed and "+2.5%" in cautious.message
    (high,) = benchmark_checks(run(case([margin(0.04)])), "margin")
    assert not high.passed
    assert "+10.0%" in high.message and "mark-up +3-5%" in high.message


def horizon_case(licence: float) -> dict[str, Any]:
    # 5,000 a month from month 1 (discount rate 0), a one-time cost at signing
    return case(
        [{"kind": "custom", "name": "return", "change": 5_000}],
        costs=[{"category": "implementation", "kind": "one_time", "amount": licence}],
    )


def test_horizon_reminder_only_when_the_first_year_is_negative_and_the_horizon_positive() -> None:
    # 80,000 at signing: ROI -25% at 12 months (60,000 back), +125% at 36: the reminder
    (fail,) = [c for c in run(horizon_case(80_000)).checks if c.rule == "horizon"]
    assert not fail.passed and "judged over its life" in fail.message
    assert "-25%" in fail.message and "+125%" in fail.message
    # 50,000: positive at 12 months already (+20%): no reminder
    (ok,) = [c for c in run(horizon_case(50_000)).checks if c.rule == "horizon"]
    assert ok.passed and "judged over its life" not in ok.message
    # 200,000: negative at both (-70%, -10%): the case does not pay, no reminder either
    (never,) = [c for c in run(horizon_case(200_000)).checks if c.rule == "horizon"]
    assert never.passed


def test_sources_are_named_never_an_issue_number() -> None:
    result = run(integration_case(75_600) | {"benefits": [win_rate(0.05)]})
    for c in result.checks:
        assert "issue" not in c.message.lower() and "issue" not in c.source.lower()
        assert "practitioner article" in c.source
    assert all("Russian practitioner article" in b.source for b in BENCHMARKS.values())


@given(
    level=st.floats(min_value=-0.9, max_value=3.0, allow_nan=False),
    years=st.floats(min_value=1.0, max_value=3.0),
)
def test_per_year_compounds_back_to_the_level(level: float, years: float) -> None:
    assert (1 + per_year(level, years)) ** years - 1 == pytest.approx(level, abs=1e-9)
