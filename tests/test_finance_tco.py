"""TCO: exit, migration and productivity-dip categories, the IT / people / process roll-up
at 12 months and the horizon, and costs in another currency converted with dated rates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from crmroi.errors import ConfigurationError
from crmroi.finance.case import parse_case
from crmroi.finance.evaluate import evaluate_model
from crmroi.finance.inputs import place_rates
from crmroi.finance.model import build_model
from crmroi.finance.tco import tco_rollup


def case(costs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": "tco",
        "horizon_months": 36,
        "users": 10,
        "currency": "USD",
        "start": "2024-01-01",
        "costs": costs,
        **extra,
    }


COSTS = [
    {"category": "licence", "amount": 50, "per_user": True},  # 500 a month, months 1..36
    {"category": "migration", "kind": "one_time", "amount": 8000, "start_month": 0},
    {"category": "productivity_dip", "amount": 1120, "per_user": True, "end_month": 3},
    {"category": "parallel_running", "amount": 2000, "end_month": 2},
    {"category": "exit", "kind": "one_time", "amount": 5000, "start_month": 36},
]


def test_new_categories_are_accepted_and_rolled_up() -> None:
    t = tco_rollup(build_model(parse_case(case(COSTS))).table())
    # IT: licence 12 x 500 = 6,000 in the first year, 36 x 500 = 18,000 in all;
    #     migration 8,000 at signing; exit 5,000 in month 36 only
    assert t.by_group["it"] == pytest.approx((14_000, 31_000))
    # people: productivity dip 3 months x 10 users x 1,120
    assert t.by_group["people"] == pytest.approx((33_600, 33_600))
    # process: parallel running 2 months x 2,000
    assert t.by_group["process"] == pytest.approx((4_000, 4_000))
    assert t.total_12 == pytest.approx(51_600)
    assert t.total == pytest.approx(68_600)
    assert t.by_category["exit"] == pytest.approx((0, 5_000))
    doc = t.as_dict()
    assert doc["total_36_months"] == pytest.approx(68_600)


def test_tco_in_the_result_matches_the_cost_flows() -> None:
    result = evaluate_model(build_model(parse_case(case(COSTS))))
    assert result.tco is not None
    assert result.tco.total == pytest.approx(float(result.table.total_costs().sum()))


def test_unknown_category_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="category"):
        parse_case(case([{"category": "retirement_party", "amount": 1}]))


RATES = [
    (dt.date(2023, 12, 15), "EUR", 1.10),
    (dt.date(2024, 1, 31), "EUR", 1.20),
    (dt.date(2024, 3, 10), "EUR", 1.05),
]


def test_foreign_costs_use_the_month_end_rate_and_hold_the_last() -> None:
    doc = case([{"category": "licence", "amount": 100, "currency": "eur"}], horizon_months=5)
    c = parse_case(doc)
    fx, notes = place_rates(c, RATES, "USD")
    # month 0 ends 2023-12-31 (1.10), month 1 on 2024-01-31 (1.20), month 2 on 02-29 (1.20),
    # month 3 on 03-31 (1.05), months 4 and 5 hold 1.05
    np.testing.assert_allclose(fx["EUR"], [1.10, 1.20, 1.20, 1.05, 1.05, 1.05])
    assert "held after 2024-03-10" in notes[0]
    flows = build_model(c, fx=fx).table().costs["licence"]
    np.testing.assert_allclose(flows, [0, 120, 120, 105, 105, 105])


def test_cross_rate_when_the_case_is_not_in_the_base_currency() -> None:
    rows = [*RATES, (dt.date(2023, 12, 1), "RUB", 0.011)]
    doc = case([{"category": "licence", "amount": 100, "currency": "EUR"}], horizon_months=1)
    c = parse_case({**doc, "currency": "RUB"})
    fx, _ = place_rates(c, rows, "USD")
    np.testing.assert_allclose(fx["EUR"], [1.10 / 0.011, 1.20 / 0.011])


def test_foreign_costs_without_rates_are_refused() -> None:
    doc = case([{"category": "licence", "amount": 100, "currency": "GBP"}])
    c = parse_case(doc)
    assert c.needs_workspace
    with pytest.raises(ConfigurationError, match="GBP"):
        build_model(c)
    with pytest.raises(ConfigurationError, match="no exchange rate for GBP"):
        place_rates(c, RATES, "USD")
    late = [(dt.date(2024, 6, 1), "GBP", 1.3)]
    with pytest.raises(ConfigurationError, match="after the case's month 0"):
        place_rates(c, late, "USD")


def test_foreign_costs_need_a_start_date() -> None:
    doc = case([{"category": "licence", "amount": 100, "currency": "EUR"}])
    del doc["start"]
    with pytest.raises(ConfigurationError, match="start"):
        parse_case(doc)
