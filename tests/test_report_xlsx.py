"""The audit workbook: its live formulas, evaluated by an independent engine (the `formulas`
package), give the finance engine's figures, also after an input cell is changed."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from crmroi.casework.evaluate import evaluate_case
from crmroi.finance.case import load_case
from crmroi.finance.estimates import Range
from crmroi.finance.summary import Summary
from crmroi.reports import build_report, write_report
from crmroi.reports.model import ReportModel
from crmroi.reports.xlsx import write_xlsx
from tests.test_report_model import CASE, sample_model

FIGURE_ROWS = ("pv_benefits", "pv_costs", "npv", "roi", "simple_roi", "irr",
               "payback_months", "discounted_payback_months")  # fmt: skip
COLUMNS = {(12, False): "B", (12, True): "C", (36, False): "D", (36, True): "E"}


@pytest.fixture(scope="module")
def model() -> ReportModel:
    return sample_model()


@pytest.fixture(scope="module")
def workbook(model: ReportModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # laid out to the horizon only (the default leaves room to 60 months): a faster check;
    # tests/test_report_xlsx_inputs.py covers months past the horizon
    return write_xlsx(model, tmp_path_factory.mktemp("xlsx") / "report.xlsx", months=36)


@pytest.fixture(scope="module")
def excel(workbook: Path) -> Any:
    import formulas

    return formulas.ExcelModel().loads(str(workbook)).finish()


def _values(solution: Any) -> dict[str, Any]:
    out = {}
    for key, value in solution.items():
        cell = key.split("]", 1)[1].upper()
        v = getattr(value, "value", value)
        out[cell] = np.asarray(v).ravel()[0] if np.asarray(v).size == 1 else v
    return out


def _figures_row(ws: Any) -> int:
    """The 1-based row of 'PV of benefits' on the Cash flow sheet."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == "PV of benefits":
            return int(row[0].row)
    raise AssertionError("no figures block")


def _check(values: dict[str, Any], first: int, engine: dict[tuple[int, bool], Summary]) -> None:
    for (horizon, risky), summary in engine.items():
        column = COLUMNS[(horizon, risky)]
        for i, name in enumerate(FIGURE_ROWS):
            got = values[f"CASH FLOW'!{column}{first + i}"]
            want = getattr(summary, name)
            where = f"{name} at {horizon} months (risk adjusted: {risky})"
            if not math.isfinite(want):
                assert got == "never", where
            else:
                assert float(got) == pytest.approx(want, rel=1e-9, abs=1e-6), where


def test_formulas_equal_the_engine(model: ReportModel, workbook: Path, excel: Any) -> None:
    from tests.test_report_model import _renamed_case

    result = evaluate_case(_renamed_case())
    engine = {
        (12, False): result.short,
        (12, True): result.short_risk,
        (36, False): result.summary,
        (36, True): result.summary_risk,
    }
    first = _figures_row(openpyxl.load_workbook(workbook)["Cash flow"])
    _check(_values(excel.calculate()), first, engine)


def test_changing_an_input_recomputes(workbook: Path, excel: Any) -> None:
    book = openpyxl.load_workbook(workbook)
    inputs = book["Inputs"]
    assert inputs["A4"].value == "Discount rate (a year)"
    row = next(r[0].row for r in inputs.iter_rows(min_col=2, max_col=2) if r[0].value == "change")
    assert inputs[f"D{row}"].value == pytest.approx(0.015)  # the first benefit's change
    name = workbook.name
    changed = {f"'[{name}]INPUTS'!B4": 0.15, f"'[{name}]INPUTS'!D{row}": 0.03}
    solution = excel.calculate(inputs=changed)
    from tests.test_report_model import _renamed_case

    case = _renamed_case()
    first_benefit = case.benefits[0].model_copy(
        update={"change": Range(low=0.0, likely=0.03, high=0.04)}
    )
    case = case.model_copy(
        update={"discount_rate": 0.15, "benefits": [first_benefit, *case.benefits[1:]]}
    )
    result = evaluate_case(case)
    engine = {(36, False): result.summary, (36, True): result.summary_risk}
    _check(_values(solution), _figures_row(book["Cash flow"]), engine)


def test_imported_text_is_neutralised(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    sources = book["Lead sources"]
    groups = [row[0].value for row in sources.iter_rows(min_row=2, max_col=1)]
    assert "'=HYPERLINK(1)" in groups and "веб-сайт" in groups
    for sheet in ("KPIs", "Lead sources", "Attribution", "Accounts", "Simulation", "Schedule"):
        # the Schedule's shares are formulas of the inputs; its line names are text
        rows = book[sheet].iter_rows(max_row=1 if sheet == "Schedule" else None)
        for row in rows:
            for cell in row:
                assert cell.data_type != "f", f"{sheet}!{cell.coordinate} is a formula"
    accounts = [row[0].value for row in book["Accounts"].iter_rows(min_row=2, max_col=1)]
    assert "苏州博远医疗有限公司" in accounts and "شرکت پارس" in accounts


def test_a_case_without_workspace_has_the_audit_sheets(tmp_path: Path) -> None:
    result = evaluate_case(load_case(CASE))
    path = write_report(build_report(result), tmp_path / "plain.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Inputs", "Schedule", "Cash flow", "Checks, ROI ways and TCO"]


def test_the_checks_sheet_equals_the_engine(workbook: Path, excel: Any) -> None:
    from tests.test_report_model import _renamed_case
    from tests.test_report_xlsx_inputs import _compare_checks

    book = (workbook, excel, openpyxl.load_workbook(workbook))
    _compare_checks(book, {}, _renamed_case())
