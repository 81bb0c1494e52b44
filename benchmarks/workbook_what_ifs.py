"""The report workbook's what-ifs against the engine, on a case file (default: the example).

    .venv/bin/python benchmarks/workbook_what_ifs.py [--case examples/case.yaml]

Writes the report's XLSX (default layout: 60 months or twice the horizon), then, for
each what-if (go-live later, horizon longer, more users, higher discount rate, risk
adjustment of benefits, a cost's amount), changes the yellow input cell, evaluates
the workbook with the `formulas` package and prints its NPV and risk-adjusted NPV at
the horizon beside the engine's (`evaluate_case` on the case changed the same way).
Issue 14's audit found the go-live and horizon cells read by no formula (go-live 4 to
6 left the NPV at 1,222,443 where the engine gives 1,059,377). Takes a minute or two.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl

from crmroi.casework.evaluate import evaluate_case
from crmroi.finance.case import Case, load_case
from crmroi.reports import build_report
from crmroi.reports.xlsx import write_xlsx

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"


def _cell(ws: Any, label: str, col: str = "B") -> str:
    for row in ws.iter_rows(max_col=1):
        if row[0].value == label:
            return f"{col}{row[0].row}"
    raise SystemExit(f"no input {label!r}")


def what_ifs(case: Case, ws: Any) -> list[tuple[str, dict[str, float], Case]]:
    """(description, cell edits, changed case) for each what-if."""
    out: list[tuple[str, dict[str, float], Case]] = []
    go_live = case.go_live_month + 2
    out.append(
        (
            f"go-live {case.go_live_month} -> {go_live}",
            {_cell(ws, "First month with benefits (go-live)"): go_live},
            case.model_copy(update={"go_live_month": go_live}),
        )
    )
    horizon = case.horizon_months + 12
    out.append(
        (
            f"horizon {case.horizon_months} -> {horizon}",
            {_cell(ws, "Horizon (months)"): horizon},
            case.model_copy(update={"horizon_months": horizon}),
        )
    )
    users = case.users + 10
    out.append(
        (
            f"users {case.users} -> {users}",
            {_cell(ws, "Users"): users},
            case.model_copy(update={"users": users}),
        )
    )
    rate = case.discount_rate + 0.05
    out.append(
        (
            f"discount rate {case.discount_rate:.2f} -> {rate:.2f}",
            {_cell(ws, "Discount rate (a year)"): rate},
            case.model_copy(update={"discount_rate": rate}),
        )
    )
    risk = case.risk.model_copy(update={"benefits": 0.3})
    out.append(
        (
            f"risk adjustment of benefits {case.risk.benefits:.2f} -> 0.30",
            {_cell(ws, "Risk adjustment of benefits (default)"): 0.3},
            case.model_copy(update={"risk": risk}),
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, default=EXAMPLE)
    args = parser.parse_args()
    import formulas

    case = load_case(args.case)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.xlsx"
        write_xlsx(build_report(evaluate_case(case)), path)
        book = openpyxl.load_workbook(path)
        inputs, flows = book["Inputs"], book["Cash flow"]
        top = int(_cell(flows, "NPV")[1:])
        start = time.perf_counter()
        excel = formulas.ExcelModel().loads(str(path)).finish()
        print(f"workbook loaded by formulas in {time.perf_counter() - start:.1f} s")
        columns = [c.column_letter for c in flows[top - 2] if c.value is not None][1:]
        plain, risky = columns[-2], columns[-1]  # the horizon's figures
        print(f"{'what-if':<42}{'workbook NPV':>16}{'engine NPV':>16}{'risk-adj. wb':>16}"
              f"{'risk-adj. engine':>18}")  # fmt: skip
        for label, edits, changed in [("as built", {}, case), *what_ifs(case, inputs)]:
            solution = excel.calculate(
                inputs={f"'[{path.name}]INPUTS'!{k}": v for k, v in edits.items()}
            )
            got = {}
            for key, value in solution.items():
                got[key.split("]", 1)[1].upper()] = np.asarray(getattr(value, "value", value))
            npv = float(got[f"CASH FLOW'!{plain}{top}"].ravel()[0])
            npv_r = float(got[f"CASH FLOW'!{risky}{top}"].ravel()[0])
            result = evaluate_case(changed)
            print(f"{label:<42}{npv:>16,.0f}{result.summary.npv:>16,.0f}{npv_r:>16,.0f}"
                  f"{result.summary_risk.npv:>18,.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
