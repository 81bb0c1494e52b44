"""Plan versus actual, measured drivers and people ROI on the demo workspace (KPI engine)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from crmroi.casework.sources import actual_costs
from crmroi.finance.case import load_case, parse_case
from crmroi.finance.inputs import month_index
from crmroi.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"


def _needs_kpi_engine() -> None:
    kpi = pytest.importorskip("crmroi.kpi", reason="the KPI engine (issue 3) is not merged yet")
    if not hasattr(kpi, "compute_kpi_report"):
        pytest.skip("crmroi.kpi does not export compute_kpi_report yet (issue 3)")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from crmroi.demo import generate_company, write_demo

    folder = tmp_path_factory.mktemp("roi_demo")
    store = Store.open(folder, create=True)
    write_demo(store, generate_company(scale=0.5, seed=5), store.folder)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def demo_report(demo_store: Store) -> object:
    _needs_kpi_engine()
    from crmroi.casework.sources import kpi_report

    return kpi_report(demo_store, bootstrap=0)


def test_actual_costs_placed_in_case_months(demo_store: Store) -> None:
    case = load_case(EXAMPLE)
    costs = actual_costs(demo_store, case)
    t = demo_store.table("crm_costs")
    total = float(t.amount.sum().execute())
    placed = sum(float(v.sum()) for v in costs.actual.values())
    assert placed == pytest.approx(total)  # the demo's costs all fall inside 36 months
    assert costs.actual["implementation"][1] > 0  # October 2023 is month 1
    assert month_index(case, case.start) == 1  # type: ignore[arg-type]
    # run rate: recurring categories continue after the last observed month
    last = costs.last_month
    if last < case.horizon_months:
        assert costs.with_run_rate["licence"][last + 1] > 0
        assert costs.with_run_rate["implementation"][last + 1] == 0


def test_actual_costs_case(demo_store: Store) -> None:
    from crmroi.casework.evaluate import evaluate_case

    data = {"name": "actual", "start": "2023-10-01", "costs": "actual"}
    result = evaluate_case(parse_case(data), demo_store)
    assert set(result.table.costs) >= {"licence", "implementation", "training"}
    assert result.summary.pv_costs > 0


def test_plan_versus_actual_on_demo(demo_store: Store, demo_report: object) -> None:
    from crmroi.casework.actuals import plan_vs_actual

    case = load_case(EXAMPLE)
    p = plan_vs_actual(case, demo_store, report=demo_report)
    names = {x.name for x in p.lines}
    assert {"more deals won", "licence", "implementation"} <= names
    assert 0 < p.months_to_date <= case.horizon_months
    for line in p.lines:
        assert line.plan.shape == line.actual.shape == (p.months_to_date + 1,)
    assert p.main_driver in names
    main = next(x for x in p.lines if x.name == p.main_driver)
    assert all(abs(main.effect_on_net) >= abs(x.effect_on_net) for x in p.lines)
    assert np.isfinite(p.reforecast.npv)
    people = p.people
    assert set(people) == {
        "revenue_per_sales_employee",
        "gross_profit_per_sales_employee",
        "human_capital_roi",
    }
    before, after = people["revenue_per_sales_employee"]
    assert before is not None and after is not None and before > 0 and after > 0
    doc = p.to_json()
    assert doc["main_driver"] == p.main_driver
    # adoption measured beside the plan's ramp ("watch the adoption ramp with --actuals")
    assert p.adoption is not None
    months = {m: (plan, measured) for m, plan, measured in p.adoption.months}
    assert months[case.go_live_month][0] == case.adoption.start
    assert all(0.0 <= a <= 1.0 for _, a in months.values() if a is not None)
    assert doc["adoption"]["payback_plan"] == p.adoption.payback_plan
    from crmroi.kpi.adoption import measure_adoption

    last = measure_adoption(demo_store).months[-1]
    assert p.adoption_month == last.month
    assert sum(e for _, e in p.adoption_by_team.values()) == last.employed
    assert sum(a for a, _ in p.adoption_by_team.values()) == last.active
    assert doc["adoption_by_team"]["month"] == last.month.isoformat()
    # weekly adoption per team and rep, records per rep-day, next activity, completeness
    usage = doc["usage"]
    assert usage["weeks"] and usage["by_rep"]
    assert all(0.0 <= w["share"] <= 1.0 for w in usage["weeks"] if w["share"] is not None)
    assert usage["next_activity"]["share"] is None  # the demo schedules no activities
    assert usage["next_activity"]["unavailable"]
    assert usage["completeness"]["deals"]["amount"]["rows"] > 0
    assert set(usage["completeness_by_team"]["deals"]) <= set(p.adoption_by_team) | {""}


def test_measured_driver_uses_the_kpi_engine(demo_report: object) -> None:
    from crmroi.finance.inputs import to_measured
    from crmroi.finance.model import build_model

    data = {
        "name": "measured",
        "benefits": [
            {
                "kind": "win_rate",
                "opportunities_per_month": 100,
                "win_rate": 0.25,
                "avg_deal_size": 10000,
                "gross_margin": 0.4,
                "change": "measured",
            }
        ],
        "costs": [{"category": "licence", "amount": 1000}],
    }
    case = parse_case(data)
    changes = {k.name: k for k in demo_report.kpis if k.group is None}  # type: ignore[attr-defined]
    measured = to_measured(case, changes)
    assert "win_rate" in measured
    win_rate = changes["win_rate"]
    net = win_rate.net_change_abs
    assert measured["win_rate"].value == (net if net is not None else win_rate.change_abs)
    model = build_model(case, measured=measured)
    expected = 100 * measured["win_rate"].value * 10000 * 0.4
    assert model.table().benefits["win_rate"][1] == pytest.approx(expected)


def test_costs_in_another_currency_use_the_workspace_rates(demo_store: Store) -> None:
    from crmroi.casework.evaluate import model_for

    doc = {
        "name": "licences in euros",
        "start": "2023-10-01",
        "horizon_months": 12,
        "costs": [{"category": "licence", "amount": 1000, "currency": "EUR"}],
    }
    model = model_for(parse_case(doc), demo_store)
    flows = model.table().costs["licence"]
    # independent: the latest EUR rate dated on or before each month's last day
    rates = demo_store.table("fx_rates").execute()
    eur = rates[rates.currency == "EUR"].sort_values("rate_date")
    for month, end in ((1, "2023-10-31"), (6, "2024-03-31"), (12, "2024-09-30")):
        on_or_before = eur[eur.rate_date.astype(str) <= end]
        assert flows[month] == pytest.approx(1000 * float(on_or_before.rate_to_base.iloc[-1]))
    assert any("EUR" in note for note in model.notes)


def test_workspace_money_is_not_mixed_into_a_case_in_another_currency(
    demo_store: Store,
) -> None:
    from crmroi.errors import ConfigurationError

    doc = {"name": "in euros", "currency": "EUR", "start": "2023-10-01", "costs": "actual"}
    with pytest.raises(ConfigurationError, match="base currency USD, the case in EUR"):
        actual_costs(demo_store, parse_case(doc))


def test_adoption_measured_on_the_demo_reads_the_measure_then_the_plan(
    demo_store: Store,
) -> None:
    from crmroi.casework.evaluate import model_for
    from crmroi.finance.adoption import planned_adoption
    from crmroi.kpi.adoption import measure_adoption

    case = load_case(EXAMPLE)
    ramp = case.adoption.model_copy(update={"measured": True})
    measured_case = case.model_copy(update={"adoption": ramp, "benefits": [], "do_nothing": []})
    model = model_for(measured_case, demo_store)
    shares = {
        month_index(case, m.month): m.share
        for m in measure_adoption(demo_store).months
        if m.share is not None
    }
    by_month = model.case.adoption.by_month
    assert by_month is not None
    months = sorted(m for m in shares if case.go_live_month <= m <= case.horizon_months)
    for m in months:
        assert by_month[m - case.go_live_month] == pytest.approx(shares[m])
    plan = planned_adoption(case)
    last = months[-1]
    if last < case.horizon_months:
        assert by_month[last + 1 - case.go_live_month] == pytest.approx(plan[last + 1])
    assert model.notes[0].startswith(f"adoption: measured in case months {months[0]}-{last}")
