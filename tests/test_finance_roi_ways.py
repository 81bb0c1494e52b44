"""ROI five ways (net, benefit-cost ratio, simple, revenue-based, IDC) against hand
computations, the headline a case picks, and the formulas in `roi --format json`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.finance.case import parse_case
from crmroi.finance.evaluate import evaluate_model
from crmroi.finance.model import build_model

CASE: dict[str, Any] = {
    "name": "roi ways",
    "horizon_months": 12,
    "discount_rate": 0.12,
    "costs": [
        {"category": "implementation", "kind": "one_time", "amount": 10_000, "start_month": 0},
        {"category": "licence", "amount": 100},
    ],
    "benefits": [
        {  # 10 deals x 1,000 x +10% = 1,000 revenue a month, 500 at 50% margin
            "kind": "deal_size",
            "name": "deals",
            "won_deals_per_month": 10,
            "avg_deal_size": 1000,
            "gross_margin": 0.5,
            "change": 0.1,
        },
        {  # 100 tickets x 10 x 20% = 200 a month saved
            "kind": "service_cost",
            "name": "service",
            "tickets_per_month": 100,
            "cost_per_ticket": 10,
            "change": -0.2,
        },
    ],
}


def by_kind(doc: dict[str, Any], risk: bool = False) -> dict[str, float]:
    result = evaluate_model(build_model(parse_case(doc)))
    return {v.kind: v.value for v in result.roi_ways[12][risk]}


def test_each_way_against_a_hand_computation() -> None:
    r_m = 1.12 ** (1 / 12) - 1
    annuity = (1 - 1.12**-1) / r_m  # sum of 1/(1+r_m)^t for t = 1..12
    pv_b, pv_c = 700 * annuity, 10_000 + 100 * annuity
    got = by_kind(CASE)
    assert got["net_roi"] == pytest.approx((pv_b - pv_c) / pv_c)
    assert got["benefit_cost_ratio"] == pytest.approx(pv_b / pv_c)
    # undiscounted: costs 10,000 + 12 x 100 = 11,200; benefits 12 x 700 = 8,400
    assert got["simple_roi"] == pytest.approx((8_400 - 11_200) / 11_200)
    # revenue-based: revenue 12 x 1,000 = 12,000 in place of the 6,000 of margin
    assert got["revenue_roi"] == pytest.approx((12_000 - 11_200) / 11_200)
    # IDC: cost reductions 12 x 200 + revenue increase 12,000, over total cost
    assert got["idc_roi"] == pytest.approx((2_400 + 12_000) / 11_200)


def test_risk_adjusted_ways_reduce_benefits_and_revenue_alike() -> None:
    doc = {**CASE, "discount_rate": 0.0, "risk": {"benefits": 0.2, "costs": 0.1}}
    got = by_kind(doc, risk=True)
    costs = 11_200 * 1.1
    assert got["simple_roi"] == pytest.approx((8_400 * 0.8 - costs) / costs)
    assert got["revenue_roi"] == pytest.approx((12_000 * 0.8 - costs) / costs)
    assert got["idc_roi"] == pytest.approx((2_400 * 0.8 + 12_000 * 0.8) / costs)


def test_no_costs_gives_no_ratio() -> None:
    doc = {**CASE, "costs": [{"category": "licence", "amount": 0}]}
    assert all(math.isnan(v) for v in by_kind(doc).values())


def test_the_case_picks_its_headline(tmp_path: Path) -> None:
    result = evaluate_model(build_model(parse_case({**CASE, "headline_roi": "idc_roi"})))
    assert result.headline(12).kind == "idc_roi"
    path = tmp_path / "case.yaml"
    path.write_text(json.dumps({**CASE, "headline_roi": "revenue_roi"}), encoding="utf-8")
    out = CliRunner().invoke(app, ["roi", str(path), "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["headline_roi"] == "revenue_roi"
    ways = doc["roi_ways"]["12"]["plain"]
    assert [w["kind"] for w in ways] == [
        "net_roi",
        "benefit_cost_ratio",
        "simple_roi",
        "revenue_roi",
        "idc_roi",
    ]
    assert all(w["formula"] and w["source"] and w["label"] for w in ways)
    assert ways[0]["value"] == pytest.approx(doc["roi"])


def test_a_headline_that_is_not_a_formula_is_refused() -> None:
    with pytest.raises(Exception, match="headline_roi"):
        parse_case({**CASE, "headline_roi": "best_one"})
