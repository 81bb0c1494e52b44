"""The report as a workbook a controller can audit: live formulas from the inputs to the ROI.

Sheets:
- **Inputs**: the case parameters (discount rate, users, ...) and every line's inputs
  (low, most likely, high, source) with the line's money per month at full adoption as
  a formula of its most-likely cells (the engine's own arithmetic, see
  `crmroi.reports.expressions`) and its risk adjustment.
- **Schedule**: each line's share of that amount booked in each month (adoption x
  benefit ramp, growth steps, the month of a one-time cost), as numbers.
- **Cash flow**: per month, each line = amount x schedule; totals, net, discount
  factors from the annual rate, cumulative flows, risk-adjusted totals; the figures
  block (PV, NPV, ROI, simple ROI, IRR, payback, discounted payback, at 12 months and at
  the horizon, plain and risk adjusted) is formulas over those columns. Change an
  input cell and everything recomputes.
- **KPIs**, **Lead sources**, **Attribution**, **Accounts**, **Simulation**: values.
- **Plan versus actual** (with a workspace): each line's plan and actual to date, the
  variance as formulas, the months to date, the re-forecast and people ROI.

Sheet names are translated (made valid by `crmroi.reports.xlsx_sheets`); a
right-to-left language (fa) lays every sheet out right to left.

Payback in a spreadsheet: helper columns mark, from the bottom up, whether the
cumulative flow is still negative at or after each month (`L`); the payback is
`t - 1 + (-C[t-1]) / flow[t]` in the one month t where C[t-1] < 0 and L[t] = 0, 0 when
the cumulative flow is never negative, and "never" when it ends negative: the
engine's `payback_many` rule. Text from the case and imported data is written as text
and neutralised (`crmroi.ingest.rejects.neutralise_formula`) so it cannot become a
formula in this workbook or in a CSV saved from it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from crmroi.finance.simulation import SHORT_HORIZON
from crmroi.ingest.rejects import neutralise_formula
from crmroi.reports.i18n import get_lang
from crmroi.reports.labels import input_label
from crmroi.reports.model import ReportModel
from crmroi.reports.xlsx_actuals import write_plan_actual
from crmroi.reports.xlsx_adoption import write_adoption
from crmroi.reports.xlsx_checks import Layout, write_checks
from crmroi.reports.xlsx_schedule import Cells, timing_inputs, timing_rows, write_schedule
from crmroi.reports.xlsx_sheets import add_sheet, set_direction, sheet_title
from crmroi.reports.xlsx_tables import write_tables

__all__ = ["default_months", "write_xlsx"]

PARAMS = ("discount_rate", "monthly_rate", "horizon_months", "users", "go_live_month")
MAX_MONTHS = 240  # the longest horizon a case may have (`crmroi.finance.case.Case`)
SHORT = SHORT_HORIZON  # months of the first-year view


def text(ws: Worksheet, row: int, col: int, value: object, fmt: Any = None) -> None:
    """Write user or imported text as text, neutralised against formula injection."""
    ws.write_string(row, col, neutralise_formula(str(value)), fmt)


class _Book:
    def __init__(self, model: ReportModel, path: Path, months: int) -> None:
        self.model = model
        self.lang = get_lang(model.lang)
        self.wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
        self.bold = self.wb.add_format({"bold": True})
        self.head = self.wb.add_format({"bold": True, "bg_color": "#ECEFF1", "border": 1})
        self.money = self.wb.add_format({"num_format": "#,##0"})
        self.money_in = self.wb.add_format({"num_format": "#,##0.####", "bg_color": "#FFF9C4"})
        self.pct = self.wb.add_format({"num_format": "0.0%"})
        self.factor = self.wb.add_format({"num_format": "0.0000"})
        self.pct_in = self.wb.add_format({"num_format": "0.0%", "bg_color": "#FFF9C4"})
        self.factor_in = self.wb.add_format({"num_format": "0.0000", "bg_color": "#FFF9C4"})
        _ = self._
        titles = {"inputs": _("Inputs"), "schedule": _("Schedule"), "cash_flow": _("Cash flow"),
                  "checks": _("Checks, ROI ways and TCO")}  # fmt: skip
        self.sheet = {key: sheet_title(title) for key, title in titles.items()}
        self.months = months
        self.all = Cells()
        self.cells = self.all.params  # parameter -> absolute reference
        self.amount_cells: list[str] = []
        self.layout = Layout()
        self.risk_cells: list[str] = []

    def ref(self, sheet: str, cell: str) -> str:
        """A reference to `cell` on one of the workbook's sheets (quoted: names are translated)."""
        name = self.sheet[sheet].replace("'", "''")
        return f"'{name}'!{cell}"

    def _(self, message: str) -> str:
        return self.lang.gettext(message)

    def inputs(self) -> None:
        m, _ = self.model, self._
        ws = add_sheet(self.wb, self.sheet["inputs"])
        ws.set_column(0, 0, 44)
        ws.set_column(1, 6, 16)
        ws.set_column(7, 7, 48)
        ws.write_string(
            0, 0, _("Inputs (yellow cells): change one and the workbook recomputes"), self.bold
        )
        text(ws, 1, 0, m.case_name)
        params = [
            ("discount_rate", _("Discount rate (a year)"), m.discount_rate, self.pct_in),
            ("horizon_months", _("Horizon (months)"), m.horizon_months, None),
            ("users", _("Users"), m.users, None),
            ("go_live_month", _("First month with benefits (go-live)"), m.go_live_month, None),
        ]
        row = 3
        for key, label, value, fmt in params:
            ws.write_string(row, 0, label)
            ws.write_number(row, 1, value, fmt or self.money_in)
            self.cells[key] = self.ref("inputs", xl_rowcol_to_cell(row, 1, True, True))
            row += 1
        ws.data_validation(
            4, 1, 4, 1, {"validate": "integer", "criteria": "between", "minimum": 1,
                         "maximum": self.months, "input_title": _("Horizon (months)"),
                         "input_message": _("1 to the months laid out in this workbook")},
        )  # fmt: skip
        ws.write_string(row, 0, _("Monthly discount rate = (1 + annual)^(1/12) - 1"))
        ws.write_formula(row, 1, f"=(1+{self.cells['discount_rate']})^(1/12)-1", self.factor)
        self.cells["monthly_rate"] = self.ref("inputs", xl_rowcol_to_cell(row, 1, True, True))
        row += 1
        for key, label, value in (
            ("risk_benefits", _("Risk adjustment of benefits (default)"), m.risk_benefits),
            ("risk_costs", _("Risk adjustment of costs (default)"), m.risk_costs),
        ):
            ws.write_string(row, 0, label)
            ws.write_number(row, 1, value, self.pct_in)
            self.cells[key] = self.ref("inputs", xl_rowcol_to_cell(row, 1, True, True))
            row += 1
        row, self.all.ramps = timing_inputs(
            ws, row + 1, m, self.lang, lambda cell: self.ref("inputs", cell), self.factor_in
        )
        row += 1
        heads = [
            _("Line"),
            _("Input"),
            _("Low"),
            _("Most likely"),
            _("High"),
            _("Amount a month"),
            _("Risk adjustment"),
            _("Formula or source"),
        ]
        for col, h in enumerate(heads):
            ws.write_string(row, col, h, self.head)
        row += 1
        sources = {(a.line, a.input): a.source for a in m.assumptions}
        for spec in m.lines:
            first = row
            refs: dict[str, str] = {}
            for name, (low, likely, high) in spec.inputs.items():
                text(ws, row, 0, spec.name)
                ws.write_string(row, 1, input_label(self.lang, name))
                for col, v in ((2, low), (4, high)):
                    if v is not None:
                        ws.write_number(row, col, v)
                if name in spec.linked:
                    ws.write_formula(row, 3, f"={self.cells[spec.linked[name]]}", self.money_in)
                else:
                    ws.write_number(row, 3, likely, self.money_in)
                refs[name] = self.ref("inputs", xl_rowcol_to_cell(row, 3, True, True))
                text(ws, row, 7, sources.get((spec.name, name), ""))
                row += 1
            if not spec.inputs:
                text(ws, row, 0, spec.name)
                ws.write_string(row, 7, _("actual costs (workspace): the Schedule holds the money"))
                row += 1
            timing: dict[str, str] = {}
            for key, label, when in timing_rows(spec, self.lang):
                text(ws, row, 0, spec.name)
                ws.write_string(row, 1, label)
                if when is None:  # until the horizon
                    ws.write_formula(row, 3, f"={self.cells['horizon_months']}", self.money_in)
                else:
                    ws.write_number(row, 3, when, self.money_in)
                timing[key] = self.ref("inputs", xl_rowcol_to_cell(row, 3, True, True))
                row += 1
            self.all.timing.append(timing)
            self.layout.inputs.append(refs)
            amount = "1" if spec.expression is None else _cell_formula(spec.expression, refs)
            ws.write_formula(first, 5, f"={amount}", self.money)
            if spec.own_risk:
                ws.write_number(first, 6, spec.risk, self.pct_in)
            else:
                default = self.cells["risk_benefits" if spec.side == "benefit" else "risk_costs"]
                ws.write_formula(first, 6, f"={default}", self.pct_in)
            self.amount_cells.append(self.ref("inputs", xl_rowcol_to_cell(first, 5, True, True)))
            self.risk_cells.append(self.ref("inputs", xl_rowcol_to_cell(first, 6, True, True)))
        shapes = [spec.shape for spec in m.lines]
        if any(s is None or s.kind == "actual" or s.fx for s in shapes):
            note = _(
                "Actual costs and exchange rates are numbers read from the workspace for the "
                "case's months as built; later months hold the last one (the run rate when "
                "the actuals end earlier): rebuild the report to read later data."
            )
            ws.write_string(row + 1, 0, note)
        ws.freeze_panes(3, 0)

    def schedule(self) -> None:
        formats = {"head": self.head, "factor": self.factor}
        self.layout.risks = self.risk_cells
        self.layout.schedule = write_schedule(
            self.wb, self.sheet["schedule"], self.model, self.all, self.months, self.lang, text,
            formats,
        )  # fmt: skip

    def cash_flow(self) -> None:
        m, _ = self.model, self._
        ws = add_sheet(self.wb, self.sheet["cash_flow"])
        n_lines, first, last = len(m.lines), 2, 2 + self.months  # data rows (0-based)
        ws.write_string(0, 0, _("Money per month; month 0 = at signing"), self.bold)
        ws.write_string(1, 0, _("Month"), self.head)
        for j, spec in enumerate(m.lines):
            sign = "+" if spec.side == "benefit" else "−"
            text(ws, 1, j + 1, f"{sign} {spec.name}", self.head)
        c = n_lines + 1  # first column after the lines
        names = ["benefits", "costs", "net", "discount", "net_disc", "cum", "cum_disc",
                 "benefits_r", "costs_r", "net_r", "net_r_disc", "cum_r", "cum_r_disc"]  # fmt: skip
        col = {name: c + i for i, name in enumerate(names)}
        titles = [
            _("Benefits"), _("Costs"), _("Net"), _("Discount factor"), _("Net, discounted"),
            _("Cumulative"), _("Cumulative, discounted"), _("Benefits, risk adjusted"),
            _("Costs, risk adjusted"), _("Net, risk adjusted"), _("Net, risk adjusted, discounted"),
            _("Cumulative, risk adjusted"), _("Cumulative, risk adjusted, discounted"),
        ]  # fmt: skip
        for name, title in zip(names, titles, strict=True):
            ws.write_string(1, col[name], title, self.head)
        ben = [j + 1 for j, s in enumerate(m.lines) if s.side == "benefit"]
        cost = [j + 1 for j, s in enumerate(m.lines) if s.side == "cost"]
        risk = {j + 1: self.risk_cells[j] for j in range(n_lines)}
        for t in range(self.months + 1):
            r = first + t
            ws.write_number(r, 0, t)
            for j in range(n_lines):
                sched = self.ref("schedule", xl_rowcol_to_cell(t + 1, j + 1))
                ws.write_formula(r, j + 1, f"={self.amount_cells[j]}*{sched}", self.money)

            def cell(name: str, row: int = r) -> str:
                return xl_rowcol_to_cell(row, col[name])

            def total(cols: list[int], adjust: str, r: int = r) -> str:
                if not cols:
                    return "=0"
                if not adjust:
                    return "=" + "+".join(xl_rowcol_to_cell(r, k) for k in cols)
                return "=" + "+".join(
                    f"{xl_rowcol_to_cell(r, k)}*(1{adjust}{risk[k]})" for k in cols
                )

            ws.write_formula(r, col["benefits"], total(ben, ""), self.money)
            ws.write_formula(r, col["costs"], total(cost, ""), self.money)
            ws.write_formula(r, col["net"], f"={cell('benefits')}-{cell('costs')}", self.money)
            ws.write_formula(
                r, col["discount"], f"=1/(1+{self.cells['monthly_rate']})^A{r + 1}", self.factor
            )
            ws.write_formula(r, col["net_disc"], f"={cell('net')}*{cell('discount')}", self.money)
            ws.write_formula(r, col["benefits_r"], total(ben, "-"), self.money)
            ws.write_formula(r, col["costs_r"], total(cost, "+"), self.money)
            ws.write_formula(
                r, col["net_r"], f"={cell('benefits_r')}-{cell('costs_r')}", self.money
            )
            ws.write_formula(
                r, col["net_r_disc"], f"={cell('net_r')}*{cell('discount')}", self.money
            )
            for cum, flow in (
                ("cum", "net"),
                ("cum_disc", "net_disc"),
                ("cum_r", "net_r"),
                ("cum_r_disc", "net_r_disc"),
            ):
                prev = f"{cell(cum, r - 1)}+" if t > 0 else ""
                ws.write_formula(r, col[cum], f"={prev}{cell(flow)}", self.money)
        helper = c + len(names) + 1
        paybacks = {}
        for flow, cum in (
            ("net", "cum"),
            ("net_disc", "cum_disc"),
            ("net_r", "cum_r"),
            ("net_r_disc", "cum_r_disc"),
        ):
            paybacks[flow] = self._payback_helpers(ws, helper, col[flow], col[cum], first, last)
            helper += 2
        self._figures(ws, col, first, last, paybacks)
        self.layout.first, self.layout.last, self.layout.col = first, last, col
        ws.freeze_panes(2, 1)
        ws.set_column(1, c + len(names), 14)

    def _payback_helpers(
        self, ws: Worksheet, hc: int, flow: int, cum: int, first: int, last: int
    ) -> str:
        """Two helper columns: L (still negative at or after t) and the crossing term."""
        _ = self._
        ws.write_string(1, hc, _("helper: negative at or after"), self.head)
        ws.write_string(1, hc + 1, _("helper: payback term"), self.head)
        for r in range(last, first - 1, -1):
            c_t = xl_rowcol_to_cell(r, cum)
            below = f",{xl_rowcol_to_cell(r + 1, hc)}=1" if r < last else ""
            ws.write_formula(r, hc, f"=IF(OR({c_t}<0{below}),1,0)")
            if r == first:
                ws.write_number(r, hc + 1, 0)
                continue
            c_prev, v_t, l_t = (
                xl_rowcol_to_cell(r - 1, cum),
                xl_rowcol_to_cell(r, flow),
                xl_rowcol_to_cell(r, hc),
            )
            ws.write_formula(
                r, hc + 1, f"=IF(AND({c_prev}<0,{l_t}=0),(A{r + 1}-1)-{c_prev}/{v_t},0)"
            )
        l0 = xl_rowcol_to_cell(first, hc)
        c_end = xl_rowcol_to_cell(last, cum)
        terms = f"{xl_col_to_name(hc + 1)}{first + 1}:{xl_col_to_name(hc + 1)}{last + 1}"
        never = self._("never").replace('"', "'")
        return f'=IF({l0}=0,0,IF({c_end}<0,"{never}",SUM({terms})))'

    def _figures(
        self, ws: Worksheet, col: dict[str, int], first: int, last: int, paybacks: dict[str, str]
    ) -> None:
        _ = self._
        top = last + 3
        ws.write_string(top, 0, _("Figures (formulas over the columns above)"), self.bold)
        # the first year (12 months, or the horizon when shorter) and the horizon, both
        # following the horizon cell, so a lengthened horizon has both views
        heads: list[tuple[int | None, bool]] = [(SHORT, False), (SHORT, True)]
        heads += [(None, False), (None, True)]
        self.layout.top, self.layout.heads = top, heads
        horizon = self.cells["horizon_months"]
        for k, (h, risky) in enumerate(heads):
            count = horizon if h is None else f"MIN({h},{horizon})"
            label = f" {_('months')}" + (f", {_('risk adjusted')}" if risky else "")
            label = label.replace('"', "'")
            ws.write_formula(top + 1, k + 1, f'={count}&"{label}"', self.head)
        rows = [
            _("PV of benefits"), _("PV of costs"), _("NPV"), _("ROI (NPV / PV of costs)"),
            _("Simple ROI (undiscounted)"), _("IRR (a year)"), _("Payback (months)"),
            _("Discounted payback (months)"),
        ]  # fmt: skip
        for i, label in enumerate(rows):
            ws.write_string(top + 2 + i, 0, label)
        disc = col["discount"]
        for k, (h, risky) in enumerate(heads):
            end = last if h is None else first + min(h, self.months)
            b, c_ = ("benefits_r", "costs_r") if risky else ("benefits", "costs")

            def rng(c: int, end: int = end) -> str:
                return f"{xl_col_to_name(c)}{first + 1}:{xl_col_to_name(c)}{end + 1}"

            x = k + 1
            pv_b, pv_c = xl_rowcol_to_cell(top + 2, x), xl_rowcol_to_cell(top + 3, x)
            net = "net_r" if risky else "net"
            ws.write_formula(top + 2, x, f"=SUMPRODUCT({rng(col[b])},{rng(disc)})", self.money)
            ws.write_formula(top + 3, x, f"=SUMPRODUCT({rng(col[c_])},{rng(disc)})", self.money)
            ws.write_formula(top + 4, x, f"={pv_b}-{pv_c}", self.money)
            ws.write_formula(top + 5, x, f"=({pv_b}-{pv_c})/{pv_c}", self.pct)
            ws.write_formula(
                top + 6,
                x,
                f"=(SUM({rng(col[b])})-SUM({rng(col[c_])}))/SUM({rng(col[c_])})",
                self.pct,
            )
            ws.write_formula(top + 7, x, f"=(1+IRR({rng(col[net])}))^12-1", self.pct)
            full = len(heads) - 1 if risky else len(heads) - 2  # the horizon's column
            cums = ("cum_r", "cum_r_disc") if risky else ("cum", "cum_disc")
            for i, (key, cum) in enumerate(zip((net, f"{net}_disc"), cums, strict=True)):
                if h is None:
                    ws.write_formula(top + 8 + i, x, paybacks[key], self.factor)
                    continue
                # a shorter view: never when the cumulative flow is negative at its end,
                # else the horizon's payback when it falls inside the view
                end_cum = xl_rowcol_to_cell(end, col[cum])
                pb = xl_rowcol_to_cell(top + 8 + i, full + 1)
                never, see = self._("never"), self._("see the full horizon")
                ws.write_formula(
                    top + 8 + i,
                    x,
                    f'=IF({end_cum}<0,"{never}",IF(AND(ISNUMBER({pb}),{pb}<={h}),{pb},"{see}"))',
                    self.factor,
                )

    def formats(self) -> dict[str, Any]:
        return {"head": self.head, "bold": self.bold, "money": self.money, "pct": self.pct,
                "factor": self.factor}  # fmt: skip

    def close(self) -> None:
        self.wb.close()


def _cell_formula(expression: str, refs: dict[str, str]) -> str:
    """`{name}` placeholders of a line's expression replaced by its input cells."""
    return re.sub(r"\{(\w+)\}", lambda m: refs[m.group(1)], expression)


def default_months(horizon: int) -> int:
    """Months laid out in the workbook: room to lengthen the horizon (to at least 60
    months, at most the 240 a case may have)."""
    return max(horizon, min(MAX_MONTHS, max(60, 2 * horizon)))


def write_xlsx(model: ReportModel, path: Path, months: int | None = None) -> Path:
    """Write the audit workbook of `model` to `path`; return the path. `months`: the
    months laid out (at least the horizon; default `default_months`), the longest
    horizon the Horizon cell can be changed to."""
    if months is not None and months < model.horizon_months:
        raise ValueError(f"months {months} < the case's horizon {model.horizon_months}")
    book = _Book(model, path, months or default_months(model.horizon_months))
    book.inputs()
    book.schedule()
    book.cash_flow()
    write_checks(book.wb, book.model, book.lang, book.layout, book.all, book.ref, book.formats())
    write_tables(book.wb, model, book.lang, text)
    write_plan_actual(book.wb, model, book.lang, text)
    write_adoption(book.wb, model, book.lang, text)
    set_direction(book.wb, book.lang.direction)
    book.close()
    return path
