"""The workbook's sheets of the improvement tools: scoring, segments, follow-ups, lifetime
value (values, not formulas; text cells through the neutralising `text` writer)."""

from __future__ import annotations

import math
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from crmroi.reports.i18n import Lang
from crmroi.reports.labels import scoring_label
from crmroi.reports.model import Improvements
from crmroi.reports.xlsx_sheets import add_sheet

__all__ = ["write_improvements"]


def _row(ws: Worksheet, row: int, values: list[Any], text: Any, fmt: Any = None) -> None:
    """Numbers as numbers, None as an empty cell, anything else as (neutralised) text."""
    for col, v in enumerate(values):
        if isinstance(v, bool) or v is None or (isinstance(v, float) and not math.isfinite(v)):
            continue
        if isinstance(v, int | float):
            ws.write_number(row, col, v, fmt)
        else:
            text(ws, row, col, str(v), fmt)


def _sheet(wb: Workbook, title: str) -> Worksheet:
    ws = add_sheet(wb, title)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 8, 16)
    return ws


def write_improvements(wb: Workbook, im: Improvements, lang: Lang, text: Any, head: Any) -> None:
    """Add one sheet per improvement section (a section without data states why)."""
    _ = lang.gettext
    ws = _sheet(wb, _("Lead scoring"))
    row = 0
    for sc in im.scoring:
        heads = [scoring_label(lang, sc.kind), _("Trained on"), _("Tested on"),
                 _("Rate in the hold-out"), "AUC", _("Log-loss"), _("Calibration error"),
                 _("Lift in the top 10%")]  # fmt: skip
        _row(ws, row, heads, text, head)
        for e in sc.evaluations:
            row += 1
            values = [scoring_label(lang, e.model), e.n_train, e.n_test, e.rate_test, e.auc,
                      e.log_loss, e.calibration_error, e.lift_top_decile]  # fmt: skip
            _row(ws, row, values, text)
        row += 2
        heads = [_("Open record"), _("Created"), scoring_label(lang, "logistic"),
                 scoring_label(lang, "naive_bayes"), _("Why (log-odds)")]  # fmt: skip
        _row(ws, row, heads, text, head)
        for r in sc.top:
            row += 1
            created = r.created.isoformat() if r.created else None
            _row(ws, row, [r.id, created, r.logistic, r.naive_bayes, r.reasons], text)
        row += 2
    for reason in im.scoring_reasons:
        _row(ws, row, [_("Not scored"), reason], text)
        row += 1

    ws = _sheet(wb, _("Segments"))
    low, high = _("low"), _("high")
    heads = [_("Dimension"), _("Value"), _("Accounts"), _("Win rate"), low, high,
             _("Revenue per account"), low, high, _("Churn"), low, high]  # fmt: skip
    _row(ws, 0, heads, text, head)
    for i, g in enumerate(im.segments, start=1):
        value = lang.data_value(g.value)
        _row(ws, i, [scoring_label(lang, g.dimension), value, g.accounts, *g.win_rate,
                     *g.revenue_per_account, *g.churn_rate], text)  # fmt: skip
    if im.segments_reason:
        _row(ws, 1, [_("Not available"), im.segments_reason], text)

    ws = _sheet(wb, _("Follow-ups"))
    fu = im.followups
    if fu is None:
        _row(ws, 0, [_("Not available"), im.followups_reason], text)
    else:
        _row(ws, 0, [_("What"), _("Count")], text, head)
        for i, (label, n) in enumerate(sorted(fu.counts.items()), start=1):
            _row(ws, i, [label, n], text)
        row = len(fu.counts) + 2
        _row(ws, row, [_("Priority"), _("What"), _("Record"), _("Rep"), _("Detail")], text, head)
        for i, f in enumerate(fu.top, start=row + 1):
            _row(ws, i, [f.priority, f.label, f.subject_id, f.rep_id, f.detail], text)

    ws = _sheet(wb, _("Lifetime value"))
    lv = im.clv
    if lv is None:
        _row(ws, 0, [_("Not available"), im.clv_reason], text)
        return
    facts = [
        (_("Customers"), lv.customers),
        (_("Active customers (sum of P(active))"), lv.active_customers),
        (_("value per active customer a month"), lv.value_per_customer_month),
        (_("Horizon (months)"), lv.horizon_months),
        *((f"BG/NBD {k}", v) for k, v in lv.bgnbd.items()),
        *((f"Gamma-Gamma {k}", v) for k, v in lv.gamma_gamma.items()),
        (_("correlation of spend and purchases"), lv.spend_frequency_correlation),
    ]
    for i, (label, value) in enumerate(facts):
        _row(ws, i, [label, value], text)
    row = len(facts) + 1
    heads = [_("Segment"), _("Customers"), _("Active"), _("Purchases per customer"),
             _("Value per customer"), _("Total value")]  # fmt: skip
    _row(ws, row, heads, text, head)
    for i, c in enumerate(lv.segments, start=row + 1):
        _row(ws, i, [c.segment, c.customers, c.active_share, c.expected_purchases,
                     c.expected_value, c.total_value], text)  # fmt: skip
