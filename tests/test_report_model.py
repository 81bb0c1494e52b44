"""The report model: figures equal the engine's, line expressions equal the engine's amounts.

`sample_model` (used by the other test_report_* modules) builds a report of
examples/case.yaml with a hand-made KPI report, attribution and accounts whose names
are hostile (`<script>`) or in Cyrillic, Chinese and Persian.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from crmroi.attribution.results import Attribution
from crmroi.attribution.workspace import Unavailable
from crmroi.casework.evaluate import evaluate_case
from crmroi.finance.case import load_case
from crmroi.finance.evaluate import CaseResult
from crmroi.kpi import KpiChange, KpiReport
from crmroi.reports import build_report
from crmroi.reports.expressions import expression_of
from crmroi.reports.model import AccountRow, ReportModel

CASE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"
HOSTILE = '</script><script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
NAMES = ("Общество «Ромашка»", "苏州博远医疗有限公司", "شرکت پارس", HOSTILE)
REPS = ("Иван Петров", "陈晓燕", "محمد موسوی", "<b>rep</b>")


@cache
def sample_result(runs: int = 500) -> CaseResult:
    """examples/case.yaml evaluated with a small simulation (seed 1)."""
    return evaluate_case(load_case(CASE), runs=runs, seed=1)


def sample_kpis() -> KpiReport:
    day = dt.date(2024, 1, 1)
    rows = [
        KpiChange("win_rate", "fraction", "sales", 0.26, 0.30, 0.04, 0.04 / 0.26, 0.01, 0.07, True),
        KpiChange("sales_volume", "USD", "sales", 4.2e6, 4.9e6, 7e5, 0.1667, -1e5, 1.5e6),
        KpiChange("cac", "USD per customer", "marketing", available=False, reason="no spend"),
    ]
    return KpiReport(
        go_live=day,
        baseline=(dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
        after=(day, dt.date(2024, 12, 31)),
        kpis=rows,
        go_live_by_team={"EMEA": day, "Восток": dt.date(2024, 6, 1)},
    )


def sample_sources() -> KpiReport:
    report = sample_kpis()
    report.kpis = [
        KpiChange("leads", "leads", "marketing", 100, 120, 20, 0.2, group="=HYPERLINK(1)"),
        KpiChange("leads", "leads", "marketing", 50, 45, -5, -0.1, group="веб-сайт"),
    ]
    return report


def sample_attributions() -> list[Attribution | Unavailable]:
    return [
        Attribution("win_rate", "did", 0.03, 0.01, 0.05, 0.02, 0.11, notes=["method did", "ok"]),
        Unavailable("cac", "no monthly panel"),
    ]


def sample_model(lang: str = "en", hostile_line: bool = True) -> ReportModel:
    """A full report model (KPIs, attribution, sources, accounts, simulation)."""
    result = sample_result()
    if hostile_line:
        # a user-controlled line name that ends up in the chart JSON and the tables
        result = evaluate_case(_renamed_case(), runs=500, seed=1)
    accounts = [
        AccountRow(name, rep, 100_000.0 - 1000 * i, 3)
        for i, (name, rep) in enumerate(zip(NAMES, REPS, strict=True))
    ]
    return build_report(
        result,
        kpis=sample_kpis(),
        sources=sample_sources(),
        attributions=sample_attributions(),
        accounts=accounts,
        lang=lang,
        workspace="ws",
        today=dt.date(2025, 3, 7),
    )


@cache
def _renamed_case():  # type: ignore[no-untyped-def]
    case = load_case(CASE)
    first = case.benefits[0].model_copy(update={"name": HOSTILE})
    return case.model_copy(update={"benefits": [first, *case.benefits[1:]]})


def test_figures_are_the_engines() -> None:
    result = sample_result()
    model = build_report(result, today=dt.date(2025, 1, 1))
    assert model.horizons == [12, 36]
    for summary, risk in ((result.summary, False), (result.summary_risk, True)):
        f = model.figure(36, risk)
        assert f.npv == summary.npv and f.pv_costs == summary.pv_costs
        assert f.roi == summary.roi and f.irr == summary.irr
    assert model.figure(12, False).payback_months is None  # never within 12 months
    last = model.cash_flow[-1]
    assert last.cumulative == pytest.approx(float(result.table.net().sum()))
    assert last.cumulative_risk_adjusted == pytest.approx(float(result.table_risk.net().sum()))
    assert model.cash_flow[1].date == dt.date(2023, 10, 1)
    assert set(model.charts) == {"cash_flow", "categories", "histogram", "tornado"}
    assert model.simulation is not None
    assert sum(b.runs for b in model.simulation.histogram) == 500


def test_category_totals_add_up() -> None:
    result = sample_result()
    model = build_report(result)
    benefits = sum(r.total for r in model.categories if r.side == "benefit")
    costs = sum(r.total for r in model.categories if r.side == "cost")
    assert benefits == pytest.approx(float(result.table.total_benefits().sum()))
    assert costs == pytest.approx(float(result.table.total_costs().sum()))
    for r in model.categories:
        assert r.initial + sum(r.by_year) == pytest.approx(r.total)


def _evaluate(
    expression: str, inputs: dict[str, tuple[float | None, float, float | None]]
) -> float:
    text = re.sub(r"\{(\w+)\}", lambda m: repr(inputs[m.group(1)][1]), expression)
    return float(eval(text, {"__builtins__": {}}))  # test only: our own arithmetic text


def test_line_expressions_equal_engine_amounts() -> None:
    result = sample_result()
    model = build_report(result)
    flows = dict(result.table.benefits)
    for spec, line in zip(model.lines, result.model.lines, strict=True):
        assert spec.expression is not None, spec.name
        amount = _evaluate(spec.expression, spec.inputs)
        assert amount == pytest.approx(float(line.amount())), spec.name
        if spec.side == "benefit":
            expected = flows[spec.name]
            assert np.allclose(amount * np.asarray(spec.schedule), expected)
    per_user = [s for s in model.lines if "users" in s.inputs and s.side == "cost"]
    assert per_user and per_user[0].expression == "({amount}*{users})"


def test_expression_of_refuses_non_arithmetic() -> None:
    assert expression_of(lambda x: x["a"] * 2 - 1 / x["b"], ["a", "b"]) == ("(({a}*2.0)-(1.0/{b}))")
    assert expression_of(lambda x: math.exp(x["a"]), ["a"]) is None


def test_kpis_attribution_and_accounts_in_the_model() -> None:
    model = sample_model()
    assert [k.name for k in model.kpis] == ["win_rate", "sales_volume", "cac"]
    win = model.kpis[0]
    assert win.ci_low_rel == pytest.approx(0.01 / 0.26)
    assert "kpis" in model.charts
    assert [a.method for a in model.attributions] == ["did", None]
    assert model.accounts[3].name == HOSTILE
    assert {k.group for k in model.sources} == {"=HYPERLINK(1)", "веб-сайт"}
