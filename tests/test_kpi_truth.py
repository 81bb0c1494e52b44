"""On the demo company the KPI engine recovers the injected CRM effects of truth.json.

The demo rolls the CRM out team by team and adds a market shock (demand -15%, win
rate -3 points, deal size -4% from July 2024) that hits every team. The plain
before/after change mixes both; the net change (difference in differences against
the teams not yet live, `KpiChange.net_change_*`) removes the market.

Tolerance: the true effect must lie inside the net change's 95% bootstrap interval
(500 replicates over accounts or reps, seed 0). With scale 1 (about 40 reps) the
only clean control is the last team (20% of the company), so these intervals are
wide for sales amounts (about -/+ 0.15 relative) and narrow for time shares and
margins (about -/+ 0.005); the precise KPIs are also checked against a fixed 0.005.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmroi.demo import generate_company, write_demo
from crmroi.kpi import KpiChange, KpiReport, compute_kpi_report
from crmroi.store import Store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Any]]]:
    folder: Path = tmp_path_factory.mktemp("kpi-truth")
    store = Store.open(folder, create=True)
    write_demo(store, generate_company(scale=1.0, seed=1), folder)
    truth = json.loads((folder / "truth.json").read_text())
    try:
        yield store, truth
    finally:
        store.close()


@pytest.fixture(scope="module")
def report(demo: tuple[Store, dict[str, Any]]) -> KpiReport:
    store, truth = demo
    return compute_kpi_report(store, bootstrap=500, seed=0, kpis=[*truth["effects"], "leads"])


def net_in_truth_scale(k: KpiChange, key: str) -> tuple[float, float, float]:
    """(net, low, high) as an absolute change, or relative to the treated baseline."""
    assert k.net_change_abs is not None and k.net_change_rel
    assert k.net_ci_low is not None and k.net_ci_high is not None
    scale = 1.0 if key == "change_abs" else k.net_change_abs / k.net_change_rel
    return k.net_change_abs / scale, k.net_ci_low / scale, k.net_ci_high / scale


def test_net_change_recovers_every_injected_effect(
    report: KpiReport, demo: tuple[Store, dict[str, Any]]
) -> None:
    effects = demo[1]["effects"]
    assert len(effects) >= 12
    for name, effect in effects.items():
        ((key, true),) = effect.items()
        _, low, high = net_in_truth_scale(report.get(name), key)
        assert low <= true <= high, f"{name}: truth {true:+.4f} outside [{low:+.4f}, {high:+.4f}]"


@pytest.mark.parametrize("name", ["admin_time_share", "gross_margin"])
def test_precise_effects_within_half_a_point(
    report: KpiReport, demo: tuple[Store, dict[str, Any]], name: str
) -> None:
    true = demo[1]["effects"][name]["change_abs"]
    assert report.get(name).net_change_abs == pytest.approx(true, abs=0.005)


@pytest.mark.parametrize("name", ["sales_volume", "won_deals", "win_rate"])
def test_plain_change_is_biased_by_the_market(
    report: KpiReport, demo: tuple[Store, dict[str, Any]], name: str
) -> None:
    ((key, true),) = demo[1]["effects"][name].items()
    k = report.get(name)
    plain = k.change_abs if key == "change_abs" else k.change_rel
    net = k.net_change_abs if key == "change_abs" else k.net_change_rel
    assert plain is not None and net is not None
    assert plain < true - 0.02, "the market shock should pull the plain change down"
    # the net change moves towards the truth; how close it gets is its own noise (each deal
    # drawn on its own; the truth inside its interval is checked above)
    assert net > plain
    assert abs(net - true) < abs(plain - true)


def test_per_team_net_changes(demo: tuple[Store, dict[str, Any]]) -> None:
    store, truth = demo
    by_team = compute_kpi_report(
        store, by="team", bootstrap=300, kpis=["admin_time_share", "gross_margin", "csat"]
    )
    with_net = [k for k in by_team.kpis if k.net_change_abs is not None]
    assert {k.group for k in with_net} == {"EMEA Central", "Americas North"}  # have controls
    for k in with_net:
        true = truth["effects"][k.name]["change_abs"]
        assert k.net_ci_low is not None and k.net_ci_high is not None
        assert k.net_ci_low <= true <= k.net_ci_high, (k.name, k.group)
    last = by_team.get("admin_time_share", "Americas South")  # no team left as control
    assert last.net_change_abs is None and last.change_abs is not None
