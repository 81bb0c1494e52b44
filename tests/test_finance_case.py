"""case.yaml validation, cash flows by category, risk adjustment, do nothing, double counting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crmroi.errors import ConfigurationError, InputFileError
from crmroi.finance.case import Ramp, load_case
from crmroi.finance.model import MeasuredChange, build_model, ramp_shares
from crmroi.finance.summary import summarise

BASE = """\
name: test case
users: 10
horizon_months: 24
risk: {benefits: 0.2, costs: 0.1}
costs:
  - {category: licence, amount: 50, per_user: true}
  - {category: implementation, kind: one_time, amount: 12000, start_month: 0}
benefits:
  - kind: deal_size
    name: bigger deals
    won_deals_per_month: 10
    avg_deal_size: 2000
    gross_margin: 0.5
    change: 0.1
"""


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_flows_by_category(tmp_path: Path) -> None:
    model = build_model(load_case(write(tmp_path, BASE)))
    table = model.table()
    assert set(table.costs) == {"licence", "implementation"}
    np.testing.assert_allclose(table.costs["licence"], [0] + [500.0] * 24)
    assert table.costs["implementation"][0] == 12000.0
    np.testing.assert_allclose(table.benefits["bigger deals"], [0] + [1000.0] * 24)
    s = summarise(table, 0.0)
    assert s.pv_benefits == pytest.approx(24_000)
    assert s.pv_costs == pytest.approx(24_000)
    assert s.npv == pytest.approx(0.0)
    assert s.simple_roi == pytest.approx(0.0)


def test_risk_adjustment_by_stated_percentages(tmp_path: Path) -> None:
    model = build_model(load_case(write(tmp_path, BASE)))
    plain, adjusted = model.table(), model.table(risk_adjusted=True)
    for name in plain.benefits:
        np.testing.assert_allclose(adjusted.benefits[name], plain.benefits[name] * 0.8)
    for name in plain.costs:
        np.testing.assert_allclose(adjusted.costs[name], plain.costs[name] * 1.1)


def test_line_level_risk_overrides_default(tmp_path: Path) -> None:
    text = BASE.replace("    change: 0.1\n", "    change: 0.1\n    risk_adjustment: 0.5\n")
    adjusted = build_model(load_case(write(tmp_path, text))).table(risk_adjusted=True)
    assert adjusted.benefits["bigger deals"][1] == pytest.approx(500.0)


def test_do_nothing_adds_avoided_losses(tmp_path: Path) -> None:
    text = BASE + "do_nothing:\n  - {name: churn without CRM, amount: 300, growth: 0.0}\n"
    with_loss = build_model(load_case(write(tmp_path, text))).table()
    without = build_model(load_case(write(tmp_path, BASE, "b.yaml"))).table()
    np.testing.assert_allclose(with_loss.benefits["churn without CRM"], [0] + [300.0] * 24)
    np.testing.assert_allclose(
        with_loss.total_benefits() - without.total_benefits(), [0] + [300.0] * 24
    )
    np.testing.assert_allclose(with_loss.total_costs(), without.total_costs())


def test_recurring_growth_and_one_time(tmp_path: Path) -> None:
    text = BASE.replace(
        "{category: licence, amount: 50, per_user: true}",
        "{category: licence, amount: 50, per_user: true, growth: 0.1, start_month: 3}",
    )
    lic = build_model(load_case(write(tmp_path, text))).table().costs["licence"]
    assert lic[2] == 0.0
    assert lic[3] == pytest.approx(500.0)
    assert lic[14] == pytest.approx(500.0)
    assert lic[15] == pytest.approx(550.0)


def test_ramps() -> None:
    np.testing.assert_allclose(
        ramp_shares(Ramp(start=0.2, end=1.0, months=5), 7), [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0]
    )
    np.testing.assert_allclose(ramp_shares(Ramp(by_month=[0.5, 0.7]), 4), [0.5, 0.7, 0.7, 0.7])


def test_adoption_and_go_live_shape_benefits(tmp_path: Path) -> None:
    text = BASE + "go_live_month: 3\nadoption: {start: 0.5, end: 1.0, months: 2}\n"
    benefit = build_model(load_case(write(tmp_path, text))).table().benefits["bigger deals"]
    np.testing.assert_allclose(benefit[:6], [0, 0, 0, 500.0, 1000.0, 1000.0])


def test_double_counting_refused(tmp_path: Path) -> None:
    text = (
        BASE
        + """\
  - kind: custom
    name: deal size again
    change: 500
    kpi: avg_deal_size
"""
    )
    with pytest.raises(
        ConfigurationError,
        match=r"case\.yaml line 15: benefits\.1: double counting.*'bigger deals' and "
        r"'deal size again'.*'avg_deal_size'",
    ):
        load_case(write(tmp_path, text))


def test_validation_error_names_file_line_and_field(tmp_path: Path) -> None:
    text = BASE.replace("gross_margin: 0.5", "gross_margin: lots")
    with pytest.raises(
        ConfigurationError,
        match=r"case\.yaml line 13: benefits\.0\.gross_margin: expected a number or a \{low",
    ):
        load_case(write(tmp_path, text))


def test_unknown_cost_category_names_line(tmp_path: Path) -> None:
    text = BASE.replace("category: licence", "category: licences")
    with pytest.raises(ConfigurationError, match=r"case\.yaml line 6: costs\.0\.category"):
        load_case(write(tmp_path, text))


def test_bad_range_names_line(tmp_path: Path) -> None:
    text = BASE.replace("change: 0.1", "change: {low: 0.2, likely: 0.1, high: 0.3}")
    with pytest.raises(ConfigurationError, match=r"line 14: .*low <= likely <= high"):
        load_case(write(tmp_path, text))


def test_yaml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"bad\.yaml line 3: not valid YAML"):
        load_case(write(tmp_path, "name: x\ncosts: [\n", "bad.yaml"))
    with pytest.raises(InputFileError, match="cannot read"):
        load_case(tmp_path / "missing.yaml")
    with pytest.raises(ConfigurationError, match="must be a YAML mapping"):
        load_case(write(tmp_path, "- 1\n", "list.yaml"))


def test_measured_change_needs_workspace(tmp_path: Path) -> None:
    text = BASE.replace("change: 0.1", "change: measured")
    case = load_case(write(tmp_path, text))
    with pytest.raises(ConfigurationError, match="'bigger deals': change is 'measured'"):
        build_model(case)
    model = build_model(case, measured={"avg_deal_size": MeasuredChange(0.05, 0.02, 0.08)})
    assert model.table().benefits["bigger deals"][1] == pytest.approx(500.0)
    assert set(model.ranged_inputs()) == {"bigger deals.change"}


def test_actual_costs_need_start(tmp_path: Path) -> None:
    text = BASE.replace("amount: 12000", "amount: actual")
    with pytest.raises(ConfigurationError, match=r"`start`"):
        load_case(write(tmp_path, text))
