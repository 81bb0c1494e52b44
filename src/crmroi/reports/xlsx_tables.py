"""The workbook's value sheets: KPIs, lead sources, attribution, accounts, the improvement
tools (`xlsx_improve`), the NPV on the measurement alone and simulation.

Every text cell goes through the `text` writer given by `crmroi.reports.xlsx`, which
writes it as a string and neutralises a leading `=`, `+`, `-` or `@`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from crmroi.reports.i18n import Lang
from crmroi.reports.labels import method_label
from crmroi.reports.model import KpiRow, ReportModel
from crmroi.reports.xlsx_improve import write_improvements
from crmroi.reports.xlsx_sheets import add_sheet

TextWriter = Callable[[Worksheet, int, int, object, Any], None]

__all__ = ["write_tables"]


def _num(ws: Worksheet, row: int, col: int, value: float | None, fmt: Any = None) -> None:
    if value is not None:
        ws.write_number(row, col, value, fmt)


def _sheet(wb: Workbook, title: str, heads: list[str], head_fmt: Any) -> Worksheet:
    ws = add_sheet(wb, title)
    for col, h in enumerate(heads):
        ws.write_string(0, col, h, head_fmt)
    ws.freeze_panes(1, 0)
    ws.set_column(0, len(heads), 16)
    return ws


def _measured_range_sheet(
    wb: Workbook, model: ReportModel, lang: Lang, text: TextWriter, head: Any
) -> None:
    """The NPV's central 95% with only the measured changes drawn (values of the case as
    built, like the simulation's)."""
    r = model.measured_range
    assert r is not None
    _ = lang.gettext
    ws = _sheet(wb, _("NPV on the measurement"), ["", _("Low"), _("High")], head)
    ws.write_string(0, 4, _("Values of the case as built: they do not follow the Inputs sheet"))
    horizon = {"n": lang.number(r.horizon_months)}
    rows = (
        (_("NPV, %(n)s months") % horizon, r.npv),
        (_("NPV, %(n)s months, risk adjusted") % horizon, r.npv_risk_adjusted),
        (_("NPV, %(n)s months") % {"n": lang.number(r.short_months)}, r.npv_short),
    )
    for i, (label, (low, high)) in enumerate(rows, start=1):
        text(ws, i, 0, label, None)
        ws.write_number(i, 1, low)
        ws.write_number(i, 2, high)
    facts = ((_("Runs"), r.runs), (_("Seed"), r.seed), (_("Share of the runs inside"), r.level))
    for i, (label, value) in enumerate(facts, start=5):
        ws.write_string(i, 0, label)
        ws.write_number(i, 1, value)
    ws.write_string(9, 0, _("Measured changes drawn"), head)
    for i, name in enumerate(r.inputs, start=10):
        text(ws, i, 0, name, None)
    if r.held:
        row = 11 + len(r.inputs)
        ws.write_string(row, 0, _("Measured without an interval, held at their estimates"), head)
        for i, name in enumerate(r.held, start=row + 1):
            text(ws, i, 0, name, None)
    ws.set_column(0, 0, 44)


def _kpi_sheet(
    wb: Workbook, title: str, rows: list[KpiRow], lang: Lang, text: TextWriter, head: Any
) -> None:
    _ = lang.gettext
    heads = [_("Group"), _("KPI"), _("Unit"), _("Baseline"), _("After"), _("Change"),
             _("Change (relative)"), _("95% interval, low (relative)"),
             _("95% interval, high (relative)"), _("Net of not-yet-live teams (relative)"),
             _("Available"), _("Baseline from")]  # fmt: skip
    ws = _sheet(wb, title, heads, head)
    for i, k in enumerate(rows, start=1):
        text(ws, i, 0, k.group or "", None)
        text(ws, i, 1, k.label, None)
        text(ws, i, 2, k.unit, None)
        values = (k.baseline, k.after, k.change_abs, k.change_rel, k.ci_low_rel, k.ci_high_rel,
                  k.net_change_rel)  # fmt: skip
        for j, v in enumerate(values):
            _num(ws, i, 3 + j, v)
        text(ws, i, 10, _("yes") if k.available else f"{_('no')}: {k.reason}", None)
        if k.available:  # a supplied baseline: its source; never an interval (none made)
            supplied = f"{_('supplied')} ({k.baseline_source})"
            text(ws, i, 11, supplied if k.baseline_basis == "supplied" else _("measured"), None)


def write_tables(wb: Workbook, model: ReportModel, lang: Lang, text: TextWriter) -> None:
    """Add the value sheets the model has data for."""
    _ = lang.gettext
    head = wb.add_format({"bold": True, "bg_color": "#ECEFF1", "border": 1})
    if model.kpis:
        _kpi_sheet(wb, _("KPIs"), model.kpis, lang, text, head)
    if model.sources:
        _kpi_sheet(wb, _("Lead sources"), model.sources, lang, text, head)
    if model.attributions:
        heads = [_("KPI"), _("Method"), _("Effect"), _("95% interval, low"),
                 _("95% interval, high"), _("Naive before/after"), _("Notes")]  # fmt: skip
        ws = _sheet(wb, _("Attribution"), heads, head)
        for i, a in enumerate(model.attributions, start=1):
            text(ws, i, 0, a.label, None)
            text(ws, i, 1, method_label(lang, a.method), None)
            for j, v in enumerate((a.effect, a.ci_low, a.ci_high, a.naive_change)):
                _num(ws, i, 2 + j, v)
            text(ws, i, 6, lang.semicolon.join(a.notes), None)
    if model.accounts:
        heads = [_("Account"), _("Owner"), _("Won deals"), _("Won amount")]
        ws = _sheet(wb, _("Accounts"), heads, head)
        for i, acc in enumerate(model.accounts, start=1):
            text(ws, i, 0, acc.name, None)
            text(ws, i, 1, acc.owner or "", None)
            ws.write_number(i, 2, acc.won_deals)
            ws.write_number(i, 3, acc.won_amount)
    if model.improvements is not None:
        write_improvements(wb, model.improvements, lang, text, head)
    if model.measured_range is not None:
        _measured_range_sheet(wb, model, lang, text, head)
    sim = model.simulation
    if sim is None:
        return
    ws = _sheet(wb, _("Simulation"), ["", "P10", "P50", "P90"], head)
    ws.write_string(0, 5, _("Values of the case as built: they do not follow the Inputs sheet"))
    for i, (label, values) in enumerate(
        ((_("ROI"), sim.roi), (_("NPV"), sim.npv), (_("Payback (months)"), sim.payback_months)),
        start=1,
    ):
        ws.write_string(i, 0, label)
        for j, v in enumerate(values):
            _num(ws, i, 1 + j, v)
    facts = [
        (_("Runs"), sim.runs),
        (_("Seed"), sim.seed),
        (_("Probability of a positive ROI"), sim.p_roi_positive),
        (_("Probability of payback within the horizon"), sim.p_payback_within_horizon),
    ]
    for i, (label, value) in enumerate(facts, start=5):
        ws.write_string(i, 0, label)
        ws.write_number(i, 1, value)
    row = 10
    ws.write_string(row, 0, _("Tornado: NPV by input"), head)
    for j, h in enumerate((_("Low"), _("High"), _("NPV at low"), _("NPV at high"), _("Swing"))):
        ws.write_string(row, 1 + j, h, head)
    for i, t in enumerate(sim.tornado, start=row + 1):
        text(ws, i, 0, t.input, None)
        for j, v in enumerate((t.low, t.high, t.npv_at_low, t.npv_at_high, t.swing)):
            ws.write_number(i, 1 + j, v)
    row = row + len(sim.tornado) + 2
    ws.write_string(row, 0, _("NPV histogram: from"), head)
    ws.write_string(row, 1, _("to"), head)
    ws.write_string(row, 2, _("Runs"), head)
    for i, b in enumerate(sim.histogram, start=row + 1):
        ws.write_number(i, 0, b.start)
        ws.write_number(i, 1, b.end)
        ws.write_number(i, 2, b.runs)
    ws.set_column(0, 0, 44)
