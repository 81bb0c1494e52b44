"""Driver inputs read from the lifetime-value model (`clv`): validation, closed-form
values, double counting with customer_value, and the fit on a demo workspace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from crmroi.errors import ConfigurationError
from crmroi.finance.case import load_case
from crmroi.finance.model import build_model
from crmroi.store import Store

CASE = """\
name: clv case
horizon_months: 24
go_live_month: 1
costs:
  - {category: licence, amount: 1000}
benefits:
  - name: fewer customers lost
    kind: retention
    customers: clv
    revenue_per_customer: clv
    gross_margin: 0.4
    change: 0.02
  - name: more value per customer
    kind: customer_value
    customers: clv
    value_per_customer: clv
    gross_margin: 0.4
    change: {low: 0.0, likely: 0.05, high: 0.1}
"""
CLV = {"active_customers": 1000.0, "value_per_customer_month": 250.0}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_clv_inputs_give_the_closed_form_values(tmp_path: Path) -> None:
    case = load_case(write(tmp_path, CASE))
    assert case.uses_clv and case.needs_workspace and not case.uses_measured
    assert case.clv.horizon_months == 12
    table = build_model(case, clv=CLV).table()
    # customers x change (points of retention) x value a month x margin
    np.testing.assert_allclose(table.benefits["fewer customers lost"][1:], 1000 * 0.02 * 250 * 0.4)
    # customers x value a month x relative change x margin
    np.testing.assert_allclose(
        table.benefits["more value per customer"][1:], 1000 * 250 * 0.05 * 0.4
    )
    with pytest.raises(ConfigurationError, match=r"'fewer customers lost': customers is 'clv'"):
        build_model(case)


def test_only_customer_inputs_may_be_clv(tmp_path: Path) -> None:
    text = CASE.replace(
        "gross_margin: 0.4\n    change: 0.02", "gross_margin: clv\n    change: 0.02"
    )
    with pytest.raises(ConfigurationError, match=r"benefits\.0\.gross_margin"):
        load_case(write(tmp_path, text))


@pytest.mark.parametrize(
    ("extra", "kpi"),
    [
        ("kind: deal_size\n    won_deals_per_month: 5\n    avg_deal_size: 100", "avg_deal_size"),
        ("kind: upsell\n    customers: 10\n    avg_upsell_size: 100", "upsell_rate"),
        ("kind: custom\n    kpi: revenue_per_customer", "revenue_per_customer"),
    ],
)
def test_customer_value_overlaps_are_double_counting(tmp_path: Path, extra: str, kpi: str) -> None:
    text = CASE + f"  - name: other\n    {extra}\n    gross_margin: 0.4\n    change: 0.01\n"
    text = (
        text.replace("gross_margin: 0.4\n    change: 0.01", "change: 0.01")
        if "kind: custom" in extra
        else text
    )
    with pytest.raises(
        ConfigurationError,
        match=rf"double counting: benefits 'more value per customer' and 'other'.*'{kpi}'",
    ):
        load_case(write(tmp_path, text))


def test_overlap_named_when_the_broader_driver_comes_second(tmp_path: Path) -> None:
    text = CASE.replace(
        "benefits:\n",
        "benefits:\n  - {name: bigger deals, kind: deal_size, won_deals_per_month: 5,"
        " avg_deal_size: 100, gross_margin: 0.4, change: 0.01}\n",
    )
    with pytest.raises(
        ConfigurationError,
        match=r"'bigger deals' and 'more value per customer'.*'avg_deal_size' "
        r"\('revenue_per_customer' includes 'avg_deal_size'\)",
    ):
        load_case(write(tmp_path, text))


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from crmroi.demo import generate_company, write_demo

    folder = tmp_path_factory.mktemp("clv_demo")
    store = Store.open(folder, create=True)
    write_demo(store, generate_company(scale=0.3, seed=3), store.folder)
    try:
        yield store
    finally:
        store.close()


def test_clv_inputs_come_from_the_orders_fit(tmp_path: Path, demo_store: Store) -> None:
    from crmroi.casework.evaluate import evaluate_case
    from crmroi.improve.frames import data_date, load_frames
    from crmroi.improve.lifetime import WEEKS_PER_MONTH, orders_lifetime_value

    case = load_case(write(tmp_path, CASE))
    result = evaluate_case(case, demo_store)
    clv = result.model.clv
    assert clv is not None
    frames = load_frames(demo_store, ["orders"])
    fit = orders_lifetime_value(frames, data_date(frames), 12 * WEEKS_PER_MONTH)
    assert clv.active_customers == pytest.approx(fit.active_customers)
    assert clv.value_per_customer_month == pytest.approx(
        fit.expected_value / fit.active_customers / 12
    )
    assert 0 < clv.active_customers <= clv.customers_with_orders
    line = next(x for x in result.model.lines if x.name == "fewer customers lost")
    assert line.inputs["customers"] == pytest.approx(clv.active_customers)
    assert line.inputs["revenue_per_customer"] == pytest.approx(clv.value_per_customer_month)
    doc = result.to_json()
    assert doc["clv"]["active_customers"] == pytest.approx(clv.active_customers)
    # the demo's spend per purchase hardly varies within a customer: the Gamma-Gamma
    # likelihood keeps rising as p grows, so the fit falls back to its limit and says so
    assert doc["clv"]["spend_model"] == "mean spend per customer"
    assert set(doc["clv"]["gamma_gamma"]) == {"population_mean_spend"}
    assert any("Gamma-Gamma model could not be fitted" in w for w in doc["clv"]["warnings"])
    assert "Gamma-Gamma model could not be fitted" in clv.describe()


def test_roi_command_needs_a_workspace_for_clv(tmp_path: Path, demo_store: Store) -> None:
    from crmroi.cli import app

    path = write(tmp_path, CASE)
    runner = CliRunner()
    result = runner.invoke(app, ["roi", str(path)])
    assert isinstance(result.exception, ConfigurationError)
    assert "lifetime value: give --workspace" in str(result.exception)
    result = runner.invoke(
        app, ["roi", str(path), "--workspace", str(demo_store.folder), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["clv"]["horizon_months"] == 12


def test_too_few_orders_names_the_drivers(tmp_path: Path, workspace: Store) -> None:
    from crmroi.casework.evaluate import model_for

    with pytest.raises(ConfigurationError, match=r"benefits 'fewer customers lost', 'more"):
        model_for(load_case(write(tmp_path, CASE)), workspace)
