"""The workbook's adoption sheet: planned against measured adoption by month (the gap as
a formula, and a line chart of both), the payback each gives, the `adoption_lag`
warning, and the weekly measures (share of reps working in the CRM per team, records
per rep-day, open deals with a next activity, completeness of the fields the KPIs read).
Values of the case as built: they do not follow the Inputs sheet."""

from __future__ import annotations

import math
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook

from crmroi.reports.i18n import Lang
from crmroi.reports.model import PlanActual, ReportModel
from crmroi.reports.usage import UsageSection, UsageWeekRow
from crmroi.reports.xlsx_sheets import add_sheet

__all__ = ["write_adoption"]


def _number(ws: Any, row: int, col: int, value: float | None, fmt: Any) -> None:
    if value is not None and math.isfinite(value):
        ws.write_number(row, col, value, fmt)


def write_adoption(wb: Workbook, model: ReportModel, lang: Lang, text: Any) -> None:
    """Add the sheet when the report measured adoption (monthly or weekly)."""
    pa = model.plan_actual
    if pa is None or not (pa.adoption or pa.usage is not None):
        return
    _ = lang.gettext
    fmts = {
        "head": wb.add_format({"bold": True, "bg_color": "#ECEFF1", "border": 1}),
        "pct": wb.add_format({"num_format": "0.0%"}),
        "ratio": wb.add_format({"num_format": "0.0"}),
        "warn": wb.add_format({"bold": True, "font_color": "#B71C1C"}),
    }
    ws = add_sheet(wb, _("Adoption"))
    ws.set_column(0, 0, 30)
    ws.set_column(1, 12, 13)
    ws.write_string(0, 6, _("Values of the case as built: they do not follow the Inputs sheet"))
    row = _monthly(wb, ws, pa, lang, text, fmts)
    if pa.usage is not None:
        _weekly(ws, pa, lang, text, fmts, row + 1)


def _monthly(
    wb: Workbook, ws: Any, pa: PlanActual, lang: Lang, text: Any, fmts: dict[str, Any]
) -> int:
    """Months, plan, measured and gap from row 0, the chart beside; the next free row."""
    _ = lang.gettext
    titles = (_("Month"), _("Date"), _("Plan"), _("Measured"), _("Gap"))
    for col, title in enumerate(titles):
        ws.write_string(0, col, title, fmts["head"])
    row = 1
    for r in pa.adoption:
        ws.write_number(row, 0, r.month)
        if r.date is not None:
            ws.write_string(row, 1, lang.date_both(r.date))
        ws.write_number(row, 2, r.plan, fmts["pct"])
        _number(ws, row, 3, r.measured, fmts["pct"])
        plan, measured = xl_rowcol_to_cell(row, 2), xl_rowcol_to_cell(row, 3)
        gap = r.measured - r.plan if r.measured is not None else ""
        ws.write_formula(row, 4, f'=IF({measured}="","",{measured}-{plan})', fmts["pct"], gap)
        row += 1
    if pa.adoption:
        chart = wb.add_chart({"type": "line"})
        name = ws.get_name()
        for col, color in ((2, "#90A4AE"), (3, "#1565C0")):
            chart.add_series(
                {
                    "name": [name, 0, col],
                    "categories": [name, 1, 0, row - 1, 0],
                    "values": [name, 1, col, row - 1, col],
                    "line": {"color": color, "width": 2.25},
                    "marker": {"type": "circle", "size": 4},
                }
            )
        chart.set_title({"name": _("Adoption: share of users working in the CRM")})
        chart.set_x_axis({"name": _("Month")})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"position": "bottom"})
        ws.insert_chart(2, 6, chart, {"x_scale": 1.3, "y_scale": 1.1})
    row = max(row, 20) + 1
    text(
        ws,
        row,
        0,
        _("With the measured adoption, payback (months): %(n)s (plan: %(p)s).")
        % {"n": lang.months(pa.adoption_payback_months), "p": lang.months(pa.plan_payback_months)},
    )
    if pa.adoption_warning:
        row += 1
        ws.write_string(row, 0, pa.adoption_warning, fmts["warn"])
    return row + 1


def _weekly(ws: Any, pa: PlanActual, lang: Lang, text: Any, fmts: dict[str, Any], row: int) -> None:
    """The weekly measures from `row`."""
    _ = lang.gettext
    u = pa.usage
    assert u is not None
    head = fmts["head"]
    title = _("Adoption by week, per team")
    row = _team_weeks(ws, u, u.weeks, u.teams, (title, _("(no team)")), lang, text, fmts, row)
    row += 1
    ws.write_string(row, 0, _("Records per rep-day"))
    for col, w in enumerate(u.weeks, start=1):
        _number(ws, row, col, w.records_per_rep_day, fmts["ratio"])
    row += 2
    if u.licensed:
        row = _licensed(ws, u, lang, text, fmts, row) + 2
    if u.next_share is not None:
        line = _("Open deals with a next activity on %(day)s: %(share)s (%(n)s of %(open)s).") % {
            "day": lang.date(u.next_as_of),
            "share": lang.percent(u.next_share, 0),
            "n": lang.number(u.with_next),
            "open": lang.number(u.open_deals),
        }
    elif u.next_unavailable == "no_open":
        line = _("Open deals with a next activity: no open deals on %(day)s.") % {
            "day": lang.date(u.next_as_of)
        }
    else:
        line = _(
            "Open deals with a next activity: unavailable. The activities hold nothing dated "
            "after %(day)s and have no due date, so the export carries no scheduled activities."
        ) % {"day": lang.date(u.next_as_of)}
    text(ws, row, 0, line)
    row += 2
    for col, title in enumerate((_("Field the KPIs read"), _("Filled"), _("Rows"), "%")):
        ws.write_string(row, col, title, head)
    for c in u.completeness:
        row += 1
        ws.write_string(row, 0, f"{c.table}.{c.field}")
        ws.write_number(row, 1, c.filled)
        ws.write_number(row, 2, c.rows)
        filled, rows = xl_rowcol_to_cell(row, 1), xl_rowcol_to_cell(row, 2)
        share = c.share if c.share is not None else ""
        ws.write_formula(row, 3, f'=IF({rows}=0,"",{filled}/{rows})', fmts["pct"], share)


def _licensed(
    ws: Any, u: UsageSection, lang: Lang, text: Any, fmts: dict[str, Any], row: int
) -> int:
    """The weekly share of licensed users active (login export) from `row`; the last row."""
    _ = lang.gettext
    share = lang.percent(u.min_day_share, 0)
    if u.licensed_basis == "licensed_users":
        line = _(
            "Licensed users active by week (user-activity export): users who logged in on at "
            "least %(share)s of the working days they held a licence, over licensed users; "
            "%(n)s of %(users)s licensed users match no rep (by id or e-mail)."
        ) % {
            "share": share,
            "n": lang.number(u.unmatched_users),
            "users": lang.number(u.licensed_total),
        }
    else:
        line = _(
            "Reps active by week (user-activity export): reps who logged in on at least "
            "%(share)s of their working days, over reps employed (there is no list of licensed "
            "users)."
        ) % {"share": share}
    text(ws, row, 0, line)
    words = (_("Team"), _("(no rep or team)"))
    return _team_weeks(ws, u, u.licensed, u.licensed_teams, words, lang, text, fmts, row + 1)


def _team_weeks(
    ws: Any,
    u: UsageSection,
    weeks: list[UsageWeekRow],
    teams: list[str],
    words: tuple[str, str],
    lang: Lang,
    text: Any,
    fmts: dict[str, Any],
    row: int,
) -> int:
    """From `row`: a header (`words[0]`, the week labels), the share of all teams, each
    team's share (active over its count; `words[1]` names rows without a team); the last row."""
    head = fmts["head"]
    ws.write_string(row, 0, words[0], head)
    for col, w in enumerate(weeks, start=1):
        ws.write_string(row, col, w.label, head)
    row += 1
    ws.write_string(row, 0, lang.gettext("All teams"))
    for col, w in enumerate(weeks, start=1):
        _number(ws, row, col, w.share, fmts["pct"])
    for team in teams:
        row += 1
        text(ws, row, 0, team or words[1])
        for col, w in enumerate(weeks, start=1):
            cell = u.team_cell(w, team)
            if cell is not None:
                ws.write_number(row, col, cell[0] / cell[1], fmts["pct"])
    return row
