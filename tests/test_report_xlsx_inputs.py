"""Every yellow input of the workbook drives it as the engine drives the same case.

A small case (12 months, laid out to 18) is written once; each test edits one input cell,
evaluates the workbook with an independent formula engine (the `formulas` package) and
compares NPV, ROI, paybacks and the monthly net flows with `evaluate_case` on the case
changed the same way.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from crmroi.casework.evaluate import evaluate_case
from crmroi.finance.case import Case, case_from_text
from crmroi.finance.cashflow import discount_factors
from crmroi.finance.evaluate import CaseResult, evaluate_model
from crmroi.finance.model import build_model
from crmroi.reports import build_report
from crmroi.reports.xlsx import write_xlsx

CASE = """
name: small
start: 2024-01-01
horizon_months: 12
discount_rate: 0.10
users: 5
go_live_month: 3
adoption: {start: 0.5, end: 1.0, months: 3}
benefit_ramp: {by_month: [0.3, 0.6, 1.0]}
risk: {benefits: 0.10, costs: 0.20}
costs:
  - {category: implementation, kind: one_time, amount: 30000, start_month: 1, name: build}
  - {category: integration, kind: one_time, amount: {low: 5000, likely: 8000, high: 12000},
     start_month: 2, name: erp link}
  - {category: licence, amount: 60, per_user: true, start_month: 2, growth: 0.10, name: seats}
  - {category: internal_labour, amount: 2000, start_month: 1, end_month: 8, name: team,
     risk_adjustment: 0.5}
benefits:
  - {name: wins, kind: win_rate, opportunities_per_month: 40, win_rate: 0.25,
     avg_deal_size: 5000, gross_margin: 0.4, change: {low: 0.0, likely: 0.02, high: 0.04}}
  - {name: admin, kind: time_saved, admin_share: 0.3, change: -0.05, loaded_hourly_cost: 40}
  - {name: kept, kind: retention, customers: 300, revenue_per_customer: 200,
     gross_margin: 0.4, change: 0.03, ramp_months: 4, risk_adjustment: 0.3}
  - {name: faster, kind: sales_cycle, monthly_revenue: 50000, gross_margin: 0.4, change: -0.1}
  - {name: margin, kind: margin, monthly_revenue: 50000, gross_margin: 0.4, change: 0.01}
do_nothing:
  - {name: spreadsheets, amount: 1500, start_month: 2, growth: 0.2}
"""
MONTHS = 18  # rows laid out: the horizon may be lengthened to 18


def _case(**update: Any) -> Case:
    return case_from_text(CASE).model_copy(update=update)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    import formulas

    path = tmp_path_factory.mktemp("xlsx") / "small.xlsx"
    write_xlsx(build_report(evaluate_case(_case())), path, months=MONTHS)
    excel = formulas.ExcelModel().loads(str(path)).finish()
    return path, excel, openpyxl.load_workbook(path)


def _row(ws: Any, first: str, second: str | None = None) -> int:
    for row in ws.iter_rows(max_col=2):
        a, b = row[0].value, row[1].value
        if a == first and (second is None or b == second):
            return int(row[0].row)
    raise AssertionError(f"no row {first!r} {second!r}")


def _values(solution: Any) -> dict[str, Any]:
    out = {}
    for key, value in solution.items():
        cell = key.split("]", 1)[1].upper()
        v = np.asarray(getattr(value, "value", value))
        out[cell] = v.ravel()[0] if v.size == 1 else v
    return out


def _compare(
    book: tuple[Path, Any, Any],
    edits: dict[str, float],
    case: Case,
    result: CaseResult | None = None,
    months: int = MONTHS,
) -> None:
    """Net flows and the horizon's figures of the workbook after `edits` against the
    engine's `result` (default: `case` evaluated)."""
    path, excel, wb = book
    inputs = {f"'[{path.name}]INPUTS'!{cell}": v for cell, v in edits.items()}
    got = _values(excel.calculate(inputs=inputs))
    result = result or evaluate_case(case)
    flows = wb["Cash flow"]
    heads = {c.value: c.column_letter for c in flows[2]}
    net, net_r = heads["Net"], heads["Net, risk adjusted"]
    want_net, want_net_r = result.table.net(), result.table_risk.net()
    for t in range(months + 1):
        w = want_net[t] if t < want_net.size else 0.0
        w_r = want_net_r[t] if t < want_net_r.size else 0.0
        assert float(got[f"CASH FLOW'!{net}{t + 3}"]) == pytest.approx(w, abs=1e-6), t
        assert float(got[f"CASH FLOW'!{net_r}{t + 3}"]) == pytest.approx(w_r, abs=1e-6), t
    top = _row(flows, "PV of benefits")
    # the first year in B and C, the horizon in D and E
    columns = {(0, False): "B", (0, True): "C", (1, False): "D", (1, True): "E"}
    engine = {(0, False): result.short, (0, True): result.short_risk,
              (1, False): result.summary, (1, True): result.summary_risk}  # fmt: skip
    names = ("pv_benefits", "pv_costs", "npv", "roi", "simple_roi", "irr", "payback_months",
             "discounted_payback_months")  # fmt: skip
    for key, summary in engine.items():
        for i, name in enumerate(names):
            value, want = got[f"CASH FLOW'!{columns[key]}{top + i}"], getattr(summary, name)
            where = f"{name} {key}"
            if not math.isfinite(want):
                assert value == "never", where
            else:
                assert float(value) == pytest.approx(want, rel=1e-9, abs=1e-6), where


def _input(wb: Any, first: str, second: str | None = None, col: str = "D") -> str:
    ws = wb["Inputs"]
    return f"{col}{_row(ws, first, second)}"


def test_as_built_equals_the_engine(book: tuple[Path, Any, Any]) -> None:
    _compare(book, {}, _case())


@pytest.mark.parametrize(
    ("label", "value", "field"),
    [
        ("Discount rate (a year)", 0.25, "discount_rate"),
        ("Users", 9, "users"),
        ("First month with benefits (go-live)", 6, "go_live_month"),
        ("Risk adjustment of benefits (default)", 0.3, "risk"),
        ("Risk adjustment of costs (default)", 0.05, "risk"),
    ],
)
def test_a_case_parameter_drives_the_workbook(
    book: tuple[Path, Any, Any], label: str, value: float, field: str
) -> None:
    cell = _input(book[2], label, col="B")
    case = _case()
    if field == "risk":
        side = "benefits" if "benefits" in label else "costs"
        update: Any = case.risk.model_copy(update={side: value})
    else:
        update = value
    _compare(book, {cell: value}, case.model_copy(update={field: update}))


def test_the_horizon_drives_the_workbook(book: tuple[Path, Any, Any]) -> None:
    cell = _input(book[2], "Horizon (months)", col="B")
    _compare(book, {cell: 17}, _case(horizon_months=17))
    _compare(book, {cell: 7}, _case(horizon_months=7))


def _with_benefit(case: Case, i: int, **update: Any) -> Case:
    benefits = list(case.benefits)
    benefits[i] = benefits[i].model_copy(update=update)
    return case.model_copy(update={"benefits": benefits})


def _with_cost(case: Case, i: int, **update: Any) -> Case:
    assert isinstance(case.costs, list)
    costs = list(case.costs)
    costs[i] = costs[i].model_copy(update=update)
    return case.model_copy(update={"costs": costs})


@pytest.mark.parametrize(
    ("line", "label", "value", "field"),
    [
        (0, "opportunities a month", 55, "opportunities_per_month"),
        (0, "change", 0.035, "change"),
        (1, "change", -0.08, "change"),
        (1, "loaded hourly cost", 55, "loaded_hourly_cost"),
        (2, "gross margin", 0.5, "gross_margin"),
        (2, "Months to full effect", 2, "ramp_months"),
    ],
)
def test_a_driver_input_drives_the_workbook(
    book: tuple[Path, Any, Any], line: int, label: str, value: float, field: str
) -> None:
    case = _case()
    name = case.benefits[line].label
    changed = _with_benefit(case, line, **{field: value})
    _compare(book, {_input(book[2], name, label): value}, changed)


def test_a_line_risk_adjustment_drives_the_workbook(book: tuple[Path, Any, Any]) -> None:
    cell = _input(book[2], "kept", "change", col="G")
    case = _with_benefit(_case(), 2, risk_adjustment=0.05)
    _compare(book, {cell: 0.05}, case)


@pytest.mark.parametrize(
    ("line", "label", "value", "field"),
    [
        (0, "amount a month", 42000, "amount"),
        (0, "Start month", 3, "start_month"),
        (1, "amount a month", 15000, "amount"),
        (2, "amount a month", 75, "amount"),
        (2, "Growth (a year)", 0.3, "growth"),
        (3, "End month", 10, "end_month"),
        (3, "Start month", 2, "start_month"),
    ],
)
def test_a_cost_input_drives_the_workbook(
    book: tuple[Path, Any, Any], line: int, label: str, value: float, field: str
) -> None:
    case = _case()
    assert isinstance(case.costs, list)
    name = case.costs[line].label
    _compare(book, {_input(book[2], name, label): value}, _with_cost(case, line, **{field: value}))


def test_an_avoided_loss_and_the_ramps_drive_the_workbook(book: tuple[Path, Any, Any]) -> None:
    case = _case()
    loss = case.do_nothing[0]
    wb = book[2]
    edits = (("Growth (a year)", 0.5, "growth"), ("Start month", 5, "start_month"))
    for label, value, field in edits:
        changed = case.model_copy(update={"do_nothing": [loss.model_copy(update={field: value})]})
        _compare(book, {_input(wb, "spreadsheets", label): value}, changed)
    adoption = _row(wb["Inputs"], "Adoption (share of users working in the CRM)")
    ramp = _row(
        wb["Inputs"], "Benefit ramp (share of the full effect): by month, the last one held"
    )
    changed = case.model_copy(
        update={
            "adoption": case.adoption.model_copy(update={"months": 6, "start": 0.1}),
            "benefit_ramp": case.benefit_ramp.model_copy(update={"by_month": [0.3, 0.8, 0.9]}),
        }
    )
    edits = {f"D{adoption}": 6, f"B{adoption}": 0.1, f"C{ramp}": 0.8, f"D{ramp}": 0.9}
    _compare(book, edits, changed)
    changed = case.model_copy(update={"adoption": case.adoption.model_copy(update={"months": 1})})
    _compare(book, {f"D{adoption}": 1}, changed)


CHECKS = "Checks, ROI ways and TCO"


def _compare_checks(
    book: tuple[Path, Any, Any],
    edits: dict[str, float],
    case: Case,
) -> None:
    """The checks sheet's rules, ROI five ways and TCO against the engine's for `case`."""
    path, excel, wb = book
    inputs = {f"'[{path.name}]INPUTS'!{cell}": v for cell, v in edits.items()}
    got = _values(excel.calculate(inputs=inputs))
    result = evaluate_case(case)
    ws = wb[CHECKS]

    def value(cell: str) -> Any:
        return got[f"{CHECKS.upper()}'!{cell}"]

    rows = {r[0].value: r[0].row for r in ws.iter_rows(max_col=1) if r[0].value}
    seen = []
    for row in ws.iter_rows(min_row=rows["Rule"] + 1, max_row=rows["ROI five ways"] - 1):
        if row[0].value is None:
            continue
        rule, subject = row[0].value, str(row[1].value).split(": ")[0]
        if rule == "horizon" and value(f"G{row[0].row}") == "-":
            assert case.horizon_months <= 12  # the engine checks it only over a longer horizon
            continue
        check = next(c for c in result.checks if c.rule == rule and c.subject in (subject, rule))
        assert value(f"G{row[0].row}") == ("passed" if check.passed else "failed"), check.message
        seen.append((check.rule, check.subject))
        if rule == "integration":
            disc = discount_factors(case.discount_rate, case.horizon_months + 1)
            pv = float(result.table.costs["integration"] @ disc)
            share = pv / result.short.pv_benefits
            assert float(value(f"E{row[0].row}")) == pytest.approx(share, rel=1e-9)
    assert sorted(seen) == sorted((c.rule, c.subject) for c in result.checks)
    views = ((min(12, case.horizon_months), "B", "C"), (case.horizon_months, "D", "E"))
    for h, plain, risk in views:
        for i, way in enumerate(result.roi_ways[h][False]):
            r = rows["ROI five ways"] + 2 + i
            for col, risky in ((plain, False), (risk, True)):
                want = result.roi_ways[h][risky][i].value
                got_ = float(value(f"{col}{r}"))
                assert got_ == pytest.approx(want, rel=1e-9), (h, way.kind, risky)
    tco = result.tco
    assert tco is not None
    labels = {"IT": "it", "People": "people", "Process": "process"}
    for label, group in labels.items():
        r = rows[label]
        assert float(value(f"B{r}")) == pytest.approx(tco.by_group[group][0], abs=1e-6)
        assert float(value(f"C{r}")) == pytest.approx(tco.by_group[group][1], abs=1e-6)
    r = rows["TCO total"]
    assert (float(value(f"B{r}")), float(value(f"C{r}"))) == pytest.approx(
        (tco.total_12, tco.total)
    )


def test_checks_roi_ways_and_tco_as_built(book: tuple[Path, Any, Any]) -> None:
    _compare_checks(book, {}, _case())


def test_checks_follow_the_inputs(book: tuple[Path, Any, Any]) -> None:
    wb, case = book[2], _case()
    # integration at 40,000 is more than half the first year's return: the rule fails
    cell = _input(wb, "erp link", "amount a month")
    _compare_checks(book, {cell: 40000}, _with_cost(case, 1, amount=40000))
    # a win-rate change of 5 points on 25% is +20%, above the +15% ceiling
    cell = _input(wb, "wins", "change")
    _compare_checks(book, {cell: 0.05}, _with_benefit(case, 0, change=0.05))
    cell = _input(wb, "Horizon (months)", col="B")
    _compare_checks(book, {cell: 17}, _case(horizon_months=17))
    # a margin up 3 points on 40% is +7.5%, above the +5% ceiling; a faster cycle
    # moves the revenue drivers' sum
    edits = {_input(wb, "margin", "change"): 0.03, _input(wb, "faster", "change"): -0.4}
    changed = _with_benefit(_with_benefit(case, 4, change=0.03), 3, change=-0.4)
    _compare_checks(book, edits, changed)


ACTUALS = """
name: actual and foreign costs
currency: USD
start: 2024-01-01
horizon_months: 6
go_live_month: 2
costs:
  - {category: implementation, amount: actual, name: partner}
  - {category: licence, amount: 100, currency: EUR, start_month: 1, growth: 0.5, name: seats}
benefits:
  - {name: more, kind: custom, change: 4000}
"""


def test_actual_costs_and_exchange_rates_are_held_after_the_horizon(tmp_path: Path) -> None:
    """Actual costs and exchange rates are the workspace's numbers for the months as
    built; a longer horizon holds the last month's (here the engine's own run rate)."""
    import formulas

    case = case_from_text(ACTUALS)
    actual = {"implementation": np.array([0.0, 9000.0, 3000.0, 500.0, 500.0, 500.0, 500.0])}
    fx = {"EUR": np.array([1.10, 1.10, 1.12, 1.08, 1.09, 1.11, 1.11])}
    result = evaluate_model(build_model(case, actual_costs=actual, fx=fx))
    path = write_xlsx(build_report(result), tmp_path / "actuals.xlsx", months=8)
    book = (path, formulas.ExcelModel().loads(str(path)).finish(), openpyxl.load_workbook(path))
    _compare(book, {}, case, result, months=8)
    longer = case.model_copy(update={"horizon_months": 8})
    held = {k: np.append(v, [v[-1]] * 2) for k, v in actual.items()}
    fx_held = {k: np.append(v, [v[-1]] * 2) for k, v in fx.items()}
    result = evaluate_model(build_model(longer, actual_costs=held, fx=fx_held))
    _compare(book, {_input(book[2], "Horizon (months)", col="B"): 8}, longer, result, months=8)
