"""The workbook's sheet of the practitioners' checks, ROI five ways and the TCO roll-up.

Everything here is a formula of the Inputs, Schedule and Cash flow sheets, the engine's
own rules (`crmroi.finance.sanity`, `crmroi.finance.roi`, `crmroi.finance.tco`), so a
changed input re-checks the case:

- integration: PV of the integration costs over the horizon against the PV of the
  benefits of the first 12 months; at most 50% passes (Bulgarian practitioner article);
- benchmarks: each driver's relative change (or, for ranges stated a year, the yearly
  change (1 + change)^(1 / years) - 1, years from go-live to the line's full effect
  within [1, 3]) against the ceiling the Russian practitioner article reports; only
  the optimistic side fails; the revenue drivers are also checked together against
  sales per agent; the years come from helper columns on the Schedule that mark when
  each line first reaches its top share;
- horizon: a negative 12-month ROI with a positive ROI over the horizon fails;
- ROI five ways per figure column; revenue-based ratios use value / gross margin of
  the revenue drivers (0 when the gross margin is 0, as the engine does);
- TCO: each cost category's money summed over the first 12 months (with month 0) and
  the horizon, undiscounted, rolled up into IT, people and process and a total.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from crmroi.finance.roi import ROI_KINDS
from crmroi.finance.sanity import BENCHMARKS, MEASURE_OF_KPI, RANGES_SOURCE, RULES_SOURCE
from crmroi.finance.sanity import REVENUE_KPIS as _REVENUE_KPIS
from crmroi.ingest.rejects import neutralise_formula
from crmroi.reports.i18n import Lang
from crmroi.reports.labels import GROUP_LABELS, ROI_LABELS
from crmroi.reports.model import LineSpec, ReportModel
from crmroi.reports.xlsx_schedule import Cells
from crmroi.reports.xlsx_sheets import add_sheet

__all__ = ["Layout", "write_checks"]

Ref = Callable[[str, str], str]


@dataclass
class Layout:
    """Where the Cash flow sheet put things (0-based rows and columns)."""

    first: int = 0
    last: int = 0
    top: int = 0
    col: dict[str, int] = field(default_factory=dict)
    heads: list[tuple[int | None, bool]] = field(default_factory=list)
    """Figure columns: (12, risk adjusted) for the first year, (None, ...) the horizon."""
    inputs: list[dict[str, str]] = field(default_factory=list)
    """Per line: input name -> its most-likely cell."""
    risks: list[str] = field(default_factory=list)
    """Per line: its risk adjustment cell."""
    schedule: Worksheet | None = None

    def figure(self, row: int, k: int) -> str:
        """Figures block cell: row 0 = PV of benefits, ... for figure column `k`."""
        return xl_rowcol_to_cell(self.top + 2 + row, k + 1, True, True)

    def rows(self, c: int, months: int | None = None) -> str:
        """Column `c` over months 0..`months` (None: every month laid out)."""
        end = self.last if months is None else self.first + min(months, self.last - self.first)
        name = xl_col_to_name(c, True)
        return f"{name}${self.first + 1}:{name}${end + 1}"


def _expression(expression: str, refs: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: refs[m.group(1)], expression)


class _Writer:
    def __init__(
        self,
        wb: Workbook,
        model: ReportModel,
        lang: Lang,
        lay: Layout,
        cells: Cells,
        ref: Ref,
        fmt: dict[str, Any],
    ) -> None:
        self.model, self.lang, self.lay, self.cells = model, lang, lay, cells
        self.ref, self.fmt = ref, fmt
        self._ = lang.gettext
        self.ws: Worksheet = add_sheet(wb, self._("Checks, ROI ways and TCO"))
        self.ws.set_column(0, 0, 40)
        self.ws.set_column(1, 8, 16)
        self.months = lay.last - lay.first  # months laid out

    def flow(self, cell: str) -> str:
        return self.ref("cash_flow", cell)

    def verdict(self, condition: str) -> str:
        yes, no = (self._(w).replace('"', "'") for w in ("passed", "failed"))
        return f'=IF({condition},"{yes}","{no}")'

    def months_to_full(self, j: int, hc: int) -> str:
        """Schedule helper column `hc`: 1 from the month line `j` first reaches its top
        share; returns the months from go-live to that month (at least 1) as a formula."""
        sched = self.lay.schedule
        assert sched is not None
        n = self.months
        sc = xl_col_to_name(j + 1)
        top = f"MAX(${sc}$2:${sc}${n + 2})"
        sched.write_string(0, hc, f"{self._('Full effect reached')}: {self.model.lines[j].name}")
        for t in range(n + 1):
            r = t + 1
            prev = f"{xl_rowcol_to_cell(r - 1, hc)}=1," if t else ""
            share = xl_rowcol_to_cell(r, j + 1)
            sched.write_formula(r, hc, f"=IF(OR({prev}AND({top}>0,{share}>={top}*(1-1E-9))),1,0)")
        col = xl_col_to_name(hc, True)
        flags = self.ref("schedule", f"{col}$2:{col}${n + 2}")
        tops = self.ref("schedule", f"${sc}$2:${sc}${n + 2}")
        gl = self.cells.params["go_live_month"]
        # the index of the first month at the top = the number of months before it
        return f"IF(MAX({tops})<=0,1,MAX(1,{n + 1}-SUM({flags})-{gl}+1))"

    def checks(self, row: int) -> int:
        _, ws, lay = self._, self.ws, self.lay
        ws.write_string(row, 0, _("Checks against the practitioners' rules"), self.fmt["bold"])
        row += 1
        heads = [_("Rule"), _("Subject"), _("Value"), _("Years to full effect"),
                 _("Compared"), _("Limit"), _("Result"), _("Source")]  # fmt: skip
        for c, h in enumerate(heads):
            ws.write_string(row, c, h, self.fmt["head"])
        row += 1
        lines = self.model.lines
        integration = [
            j for j, s in enumerate(lines) if s.side == "cost" and s.category == "integration"
        ]
        disc = lay.rows(lay.col["discount"])
        if integration:
            pv = "+".join(
                f"SUMPRODUCT({self.flow(lay.rows(j + 1))},{self.flow(disc)})" for j in integration
            )
            ret = self.pv("benefits", 12)
            ws.write_string(row, 0, _("integration"))
            ws.write_string(row, 1, _("integration costs / PV of benefits, first 12 months"))
            ws.write_formula(row, 2, f"={pv}", self.fmt["money"])
            value = xl_rowcol_to_cell(row, 2)
            ws.write_formula(
                row, 4, f'=IF({ret}>0,{value}/{ret},"{_("no return at all")}")', self.fmt["pct"]
            )
            ws.write_number(row, 5, 0.5, self.fmt["pct"])
            share = xl_rowcol_to_cell(row, 4)
            ws.write_formula(row, 6, self.verdict(f"AND(ISNUMBER({share}),{share}<=0.5)"))
            ws.write_string(row, 7, _(RULES_SOURCE))
            row += 1
        hc = len(lines) + 4  # Schedule helper columns after the lines and its three helpers
        revenue: list[tuple[str, str]] = []  # (relative change, months to full)
        for j, spec in enumerate(lines):
            if spec.side != "benefit" or spec.kpi is None:
                continue
            refs = lay.inputs[j]
            rel = None if spec.relative is None else _expression(spec.relative, refs)
            measure = MEASURE_OF_KPI.get(spec.kpi)
            needs_years = spec.kpi in _REVENUE_KPIS or (measure and BENCHMARKS[measure].per_year)
            months = ""
            if needs_years and (rel is not None or spec.kpi == "sales_cycle_days"):
                months = self.months_to_full(j, hc)
                hc += 1
            if spec.kpi == "sales_cycle_days":
                revenue.append((f"(1/(1+{refs['change']})-1)*{refs['capacity_share']}", months))
            elif spec.kpi in _REVENUE_KPIS and rel is not None:
                revenue.append((rel, months))
            if measure is not None and rel is not None:
                row = self.benchmark(row, measure, spec, rel, months)
        if revenue:
            total = "+".join(f"({r})" for r, _m in revenue)
            months = f"MAX({','.join(m for _r, m in revenue)})"
            row = self.benchmark(row, "sales_per_rep", None, total, months)
        h = self.cells.params["horizon_months"]
        pv_b, pv_c = self.pv("benefits", 12), self.pv("costs", 12)
        full = self.flow(lay.figure(3, len(lay.heads) - 2))  # ROI at the horizon
        ws.write_string(row, 0, _("horizon"))
        ws.write_string(row, 1, _("ROI at 12 months and at the horizon"))
        ws.write_formula(row, 2, f"=({pv_b}-{pv_c})/{pv_c}", self.fmt["pct"])
        ws.write_formula(row, 4, f"={full}", self.fmt["pct"])
        short = xl_rowcol_to_cell(row, 2)
        verdict = self.verdict(f"NOT(AND({short}<0,0<{full}))")[1:]
        ws.write_formula(row, 6, f'=IF({h}<=12,"-",{verdict})')
        ws.write_string(row, 7, _(RULES_SOURCE))
        row += 1
        return row

    def pv(self, column: str, months: int) -> str:
        """PV of the Cash flow sheet's `column` (benefits, costs) over months 0..`months`."""
        lay = self.lay
        n = min(months, self.months)
        money, disc = lay.rows(lay.col[column], n), lay.rows(lay.col["discount"], n)
        return f"SUMPRODUCT({self.flow(money)},{self.flow(disc)})"

    def benchmark(
        self, row: int, measure: str, spec: LineSpec | None, rel: str, months: str
    ) -> int:
        _, ws = self._, self.ws
        b = BENCHMARKS[measure]
        ws.write_string(row, 0, _("benchmark"))
        subject = spec.name if spec is not None else _("revenue drivers together")
        what = _("measured change") if spec is not None and spec.measured else _("assumed change")
        ws.write_string(row, 1, neutralise_formula(f"{subject}: {what}"))
        ws.write_formula(row, 2, f"={rel}", self.fmt["pct"])
        value = xl_rowcol_to_cell(row, 2)
        compared = f"={value}"
        if b.per_year:
            ws.write_formula(row, 3, f"=MIN(MAX({months}/12,1),3)", self.fmt["factor"])
            years = xl_rowcol_to_cell(row, 3)
            compared = f"=IF({value}<=-1,-1,(1+{value})^(1/{years})-1)"
        ws.write_formula(row, 4, compared, self.fmt["pct"])
        ws.write_number(row, 5, b.sign * b.high, self.fmt["pct"])
        got = xl_rowcol_to_cell(row, 4)
        ws.write_formula(row, 6, self.verdict(f"{b.sign}*{got}<={b.high}+1E-12"))
        ws.write_string(row, 7, f"{_(b.what)} ({_(RANGES_SOURCE)})")
        return row + 1

    def roi_ways(self, row: int) -> int:
        _, ws, lay = self._, self.ws, self.lay
        ws.write_string(row, 0, _("ROI five ways"), self.fmt["bold"])
        row += 1
        ws.write_string(row, 0, _("Way"), self.fmt["head"])
        for k in range(len(lay.heads)):
            ws.write_formula(row, k + 1, f"={self.flow(lay.figure(-1, k))}", self.fmt["head"])
        c = len(lay.heads) + 1
        ws.write_string(row, c, _("Formula"), self.fmt["head"])
        ws.write_string(row, c + 1, _("Source"), self.fmt["head"])
        row += 1
        headline = {w.kind for w in self.model.roi_ways if w.headline}
        revenue = [
            j for j, s in enumerate(self.model.lines) if s.revenue and "gross_margin" in s.inputs
        ]
        for kind in ROI_KINDS:
            label, formula, source = (self._(t) for t in ROI_LABELS[kind])
            if kind in headline:
                label = f"{label} ({_('headline')})"
            ws.write_string(row, 0, label)
            ws.write_string(row, c, formula)
            ws.write_string(row, c + 1, source)
            for k, (h, risky) in enumerate(lay.heads):
                months = h
                fig = [self.flow(lay.figure(i, k)) for i in range(5)]
                b, cs = ("benefits_r", "costs_r") if risky else ("benefits", "costs")
                sum_b = f"SUM({self.flow(lay.rows(lay.col[b], months))})"
                sum_c = f"SUM({self.flow(lay.rows(lay.col[cs], months))})"
                rev, val = [], []
                for j in revenue:
                    gm = lay.inputs[j]["gross_margin"]
                    money = f"SUM({self.flow(lay.rows(j + 1, months))})"
                    if risky:
                        money += f"*(1-{lay.risks[j]})"
                    rev.append(f"IF({gm}=0,0,{money}/{gm})")
                    val.append(f"IF({gm}=0,0,{money})")
                rev_s, val_s = "+".join(rev) or "0", "+".join(val) or "0"
                value = {
                    "net_roi": f"={fig[3]}",
                    "benefit_cost_ratio": f"={fig[0]}/{fig[1]}",
                    "simple_roi": f"={fig[4]}",
                    "revenue_roi": f"=(({rev_s})-{sum_c})/{sum_c}",
                    "idc_roi": f"=({sum_b}-({val_s})+({rev_s}))/{sum_c}",
                }[kind]
                fmt = self.fmt["factor"] if kind == "benefit_cost_ratio" else self.fmt["pct"]
                ws.write_formula(row, k + 1, value, fmt)
            row += 1
        return row

    def tco(self, row: int) -> int:
        _, ws, lay = self._, self.ws, self.lay
        ws.write_string(row, 0, _("Total cost of ownership (undiscounted)"), self.fmt["bold"])
        row += 1
        horizon = self.cells.params["horizon_months"]
        ws.write_string(row, 0, _("Group or category"), self.fmt["head"])
        ws.write_formula(row, 1, f'=MIN(12,{horizon})&" {_("months")}"', self.fmt["head"])
        ws.write_formula(row, 2, f'={horizon}&" {_("months")}"', self.fmt["head"])
        row += 1
        short = min(12, self.months)
        groups: dict[str, list[int]] = {}
        group_rows: list[int] = []
        for t in self.model.tco:
            if t.group == "total":
                continue
            if t.category is None:
                group_rows.append(row)
                ws.write_string(row, 0, t.label, self.fmt["bold"])
                groups[t.group] = []
                anchor = row
                row += 1
                continue
            ws.write_string(row, 0, f"  {t.label}")
            cols = [j + 1 for j, s in enumerate(self.model.lines)
                    if s.side == "cost" and s.category == t.category]  # fmt: skip
            for c, months in ((1, short), (2, None)):
                terms = [f"SUM({self.flow(lay.rows(k, months))})" for k in cols] or ["0"]
                ws.write_formula(row, c, "=" + "+".join(terms), self.fmt["money"])
            groups[t.group].append(row)
            row += 1
            for c in (1, 2):
                terms = [xl_rowcol_to_cell(r, c) for r in groups[t.group]]
                ws.write_formula(anchor, c, "=" + "+".join(terms), self.fmt["money"])
        for g, r in zip(groups, group_rows, strict=True):
            if not groups[g]:
                ws.write_number(r, 1, 0, self.fmt["money"])
                ws.write_number(r, 2, 0, self.fmt["money"])
        ws.write_string(row, 0, self._(GROUP_LABELS["total"]), self.fmt["bold"])
        for c in (1, 2):
            terms = [xl_rowcol_to_cell(r, c) for r in group_rows] or ["0"]
            ws.write_formula(row, c, "=" + "+".join(terms), self.fmt["money"])
        return row + 1


def write_checks(
    wb: Workbook,
    model: ReportModel,
    lang: Lang,
    lay: Layout,
    cells: Cells,
    ref: Ref,
    fmt: dict[str, Any],
) -> None:
    """Add the sheet of checks, ROI five ways and the TCO roll-up (see the module doc)."""
    w = _Writer(wb, model, lang, lay, cells, ref, fmt)
    w.ws.write_string(
        0, 0, w._("Formulas of the inputs: change one and these recompute"), fmt["bold"]
    )
    row = w.checks(2)
    row = w.roi_ways(row + 1)
    if model.tco:
        w.tco(row + 1)
