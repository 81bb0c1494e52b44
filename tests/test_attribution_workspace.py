"""Attribution on the demo company: the truth is recovered, the naive change is not."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmroi.attribution import Attribution
from crmroi.attribution.workspace import Unavailable, attribute_workspace
from crmroi.demo import generate_company, write_demo
from crmroi.store import Store

# KPIs whose injected effect is a clean step on the rows the KPI counts; each must be
# inside the 95% interval. Tolerance: the interval itself (randomisation inference).
RECOVERED = [
    "admin_time_share",
    "calls_per_won_deal",
    "csat",
    "gross_margin",
    "lead_conversion_rate",
    "win_rate",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    folder = tmp_path_factory.mktemp("attribution") / "ws"
    company = generate_company(scale=1.0, seed=42)
    with Store.open(folder, create=True) as store:
        write_demo(store, company, folder)
    yield folder, company.truth


def truth_abs(truth: dict[str, object], name: str, result: Attribution) -> float:
    effect = truth["effects"][name]  # type: ignore[index]
    if "change_abs" in effect:
        return float(effect["change_abs"])
    assert result.effect_rel is not None
    counterfactual = result.effect / result.effect_rel
    return float(effect["change_rel"]) * counterfactual


def test_phased_roll_out_recovers_the_injected_effects(
    demo: tuple[Path, dict[str, object]],
) -> None:
    folder, truth = demo
    with Store.open(folder) as store:
        results = {r.name: r for r in attribute_workspace(store, kpis=RECOVERED)}
    for name in RECOVERED:
        result = results[name]
        assert isinstance(result, Attribution), result
        assert result.method == "did"
        target = truth_abs(truth, name, result)
        assert result.ci_low <= target <= result.ci_high, (name, result.to_json(), target)


def test_naive_change_misses_what_the_attribution_recovers(
    demo: tuple[Path, dict[str, object]],
) -> None:
    folder, truth = demo
    with Store.open(folder) as store:
        [result] = attribute_workspace(store, kpis=["win_rate"])
    assert isinstance(result, Attribution)
    target = truth_abs(truth, "win_rate", result)
    assert result.ci_low <= target <= result.ci_high
    # before/after mixes the CRM with the market shock (-3 points of win rate from
    # month 18): the estimate is closer to the truth
    assert abs(result.naive_change) < abs(target)
    assert abs(result.effect - target) < abs(result.naive_change - target)


def test_calls_per_won_deal_counts_calls_in_their_deals_creation_month(
    demo: tuple[Path, dict[str, object]],
) -> None:
    folder, truth = demo
    with Store.open(folder) as store:
        [result] = attribute_workspace(store, kpis=["calls_per_won_deal"])
    assert isinstance(result, Attribution)
    assert "calls counted on their deal, in the deal's creation month" in result.notes
    assert any(
        n.startswith("effect: summed numerator over summed denominator") for n in result.notes
    )
    # calls per won deal of the deals worked with the CRM: the demo's -20% exactly
    assert truth["effects"]["calls_per_won_deal"] == {"change_rel": -0.20}  # type: ignore[index]
    assert result.effect_rel is not None
    assert abs(result.effect_rel - (-0.20)) < 0.05


def test_single_go_live_falls_back_to_its_with_a_market_index(
    demo: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    folder, truth = demo
    shock = truth["market"]["shock_start"]  # type: ignore[index]
    lines = ["month;industry_demand"]
    for year in (2023, 2024, 2025):
        for month in range(1, 13):
            day = f"01.{month:02d}.{year}"
            level = "0,85" if f"{year}-{month:02d}-01" >= shock else "1,00"
            lines.append(f"{day};{level}")
    index = tmp_path / "market.csv"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store.open(folder) as store:
        [its, kept] = attribute_workspace(
            store,
            kpis=["win_rate", "retention_rate"],
            market_index=index,
            go_live=dt.date(2024, 1, 1),
        )
        [naive] = attribute_workspace(store, kpis=["win_rate"], go_live=dt.date(2024, 1, 1))
    assert isinstance(its, Attribution) and its.method == "its"
    assert "covariates: industry_demand" in its.notes
    # retention on the single go-live: the stationary lapse series, the months before
    # go-live that may carry the effect left out, an interval in points of retention
    assert isinstance(kept, Attribution) and kept.method == "its"
    assert kept.ci_low < kept.effect < kept.ci_high < 1.0
    assert any(n.startswith("the 4 months before each team's go-live") for n in kept.notes)
    # the index moves in 2024-07: the 4 months before it may carry that move too
    assert any(n.startswith("months from 2024-03 on left out") for n in kept.notes)
    assert any("customer by customer" in n for n in kept.notes)
    assert isinstance(naive, Attribution) and naive.method == "naive"
    assert naive.notes[0].startswith("method naive: one go-live and no market data")


def test_kpis_without_a_monthly_panel_are_unavailable_with_a_reason(
    demo: tuple[Path, dict[str, object]],
) -> None:
    folder, _ = demo
    with Store.open(folder) as store:
        [result] = attribute_workspace(store, kpis=["cost_per_lead"])
    assert isinstance(result, Unavailable)
    assert result.to_json() == {
        "name": "cost_per_lead",
        "method": None,
        "available": False,
        "reason": "no monthly panel (no data, or a KPI over a window)",
        "reason_code": "attribution_no_panel",
    }


def test_retention_is_attributed_customer_by_customer(
    demo: tuple[Path, dict[str, object]],
) -> None:
    folder, truth = demo
    with Store.open(folder) as store:
        [result] = attribute_workspace(store, kpis=["retention_rate"])
    assert isinstance(result, Attribution) and result.method == "did"
    target = truth["effects"]["retention_rate"]["change_abs"]  # type: ignore[index]
    assert result.ci_low <= target <= result.ci_high
    # points of annual retention: 0.215 on this company with each customer churning on its
    # own draw (a mean 0.176 over 72 phased companies with stratified draws, be10b32)
    assert result.ci_high - result.ci_low < 0.25
    assert any("customer by customer" in n for n in result.notes)
    assert "effect: mean over live team-months weighted by customers at risk" in result.notes


def test_cli_json_contract(demo: tuple[Path, dict[str, object]]) -> None:
    folder, _ = demo
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmroi",
            "attribute",
            str(folder),
            "--kpi",
            "csat",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert {"name", "method", "effect", "ci_low", "ci_high", "naive_change", "notes"} <= set(row)
    assert row["name"] == "csat" and row["method"] == "did"


def test_cli_unknown_kpi_is_a_user_error(demo: tuple[Path, dict[str, object]]) -> None:
    folder, _ = demo
    done = subprocess.run(
        [sys.executable, "-m", "crmroi", "attribute", str(folder), "--kpi", "happiness"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: unknown KPI happiness")


def test_business_case_takes_attributed_effects(demo: tuple[Path, dict[str, object]]) -> None:
    from crmroi.casework.evaluate import model_for
    from crmroi.finance.case import parse_case

    folder, _ = demo
    benefit = {
        "kind": "win_rate",
        "opportunities_per_month": 100,
        "win_rate": 0.25,
        "avg_deal_size": 10000,
        "gross_margin": 0.4,
        "change": "measured",
        "source": "attributed",
    }
    case = parse_case(
        {
            "name": "attributed",
            "benefits": [benefit],
            "costs": [{"category": "licence", "amount": 1}],
        }
    )
    with Store.open(folder) as store:
        [attributed] = attribute_workspace(store, kpis=["win_rate"])
        model = model_for(case, store)
    assert isinstance(attributed, Attribution)
    expected = 100 * attributed.effect * 10000 * 0.4
    assert model.table().benefits["win_rate"][1] == pytest.approx(expected)
