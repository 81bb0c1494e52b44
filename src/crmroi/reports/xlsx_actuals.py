"""The workbook's plan-versus-actual sheet: each line's plan and actual to date with the
variance as formulas, the months to date side by side, the re-forecast and people ROI."""

from __future__ import annotations

import math
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook

from crmroi.reports.i18n import Lang
from crmroi.reports.model import ReportModel
from crmroi.reports.xlsx_sheets import add_sheet

__all__ = ["write_plan_actual"]


def _number(ws: Any, row: int, col: int, value: float | None, fmt: Any) -> None:
    if value is not None and math.isfinite(value):
        ws.write_number(row, col, value, fmt)


def write_plan_actual(wb: Workbook, model: ReportModel, lang: Lang, text: Any) -> None:
    """Add the sheet when the report has a plan-versus-actual section."""
    pa = model.plan_actual
    if pa is None:
        return
    _ = lang.gettext
    head = wb.add_format({"bold": True, "bg_color": "#ECEFF1", "border": 1})
    money = wb.add_format({"num_format": "#,##0"})
    pct = wb.add_format({"num_format": "0.0%"})
    ratio = wb.add_format({"num_format": "0.00"})
    ws = add_sheet(wb, _("Plan versus actual"))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 6, 16)
    for col, title in enumerate((_("Line"), _("Plan"), _("Actual"), _("Variance"), "%")):
        ws.write_string(0, col, title, head)
    ws.write_string(0, 6, _("Values of the case as built: they do not follow the Inputs sheet"))
    row = 1
    for r in pa.rows:
        sign = "+" if r.side == "benefit" else "−"
        label = f"{sign} {r.label}" + ("" if r.measured else f" ({_('at plan')})")
        text(ws, row, 0, label)
        ws.write_number(row, 1, r.plan, money)
        ws.write_number(row, 2, r.actual, money)
        plan, actual = xl_rowcol_to_cell(row, 1), xl_rowcol_to_cell(row, 2)
        ws.write_formula(row, 3, f"={actual}-{plan}", money, r.variance)
        rel = r.variance_rel if r.variance_rel is not None else ""
        ws.write_formula(row, 4, f'=IF({plan}=0,"",({actual}-{plan})/{plan})', pct, rel)
        row += 1
    row += 1
    titles = (
        _("Month"),
        _("Benefits, plan"),
        _("Benefits, actual"),
        _("Costs, plan"),
        _("Costs, actual"),
    )
    for col, title in enumerate(titles):
        ws.write_string(row, col, title, head)
    row += 1
    for m in pa.months:
        if m.date is not None:
            ws.write_string(row, 0, lang.date_both(m.date))
        else:
            ws.write_string(row, 0, _("Initial"))
        for col, v in enumerate(
            (m.plan_benefits, m.actual_benefits, m.plan_costs, m.actual_costs), start=1
        ):
            ws.write_number(row, col, v, money)
        row += 1
    row += 1
    text(
        ws,
        row,
        0,
        _(
            "At the measured changes and the actual costs to date, payback (months): %(n)s "
            "(plan: %(p)s); NPV %(v)s (plan: %(w)s)."
        )
        % {
            "n": lang.months(pa.reforecast_payback_months),
            "p": lang.months(pa.plan_payback_months),
            "v": lang.money(pa.reforecast_npv, model.currency),
            "w": lang.money(pa.plan_npv, model.currency),
        },
    )
    for warning in pa.extrapolation_warnings:
        row += 1
        text(ws, row, 0, warning)
    if pa.people:
        row += 2
        for col, title in enumerate((_("People ROI"), _("Baseline"), _("After"))):
            ws.write_string(row, col, title, head)
        for p in pa.people:
            row += 1
            text(ws, row, 0, p.label)
            _number(ws, row, 1, p.baseline, ratio if p.ratio else money)
            _number(ws, row, 2, p.after, ratio if p.ratio else money)
