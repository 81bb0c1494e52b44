"""The workbook's timing: ramps and per-line timing inputs, and the Schedule sheet as formulas.

Each line's share of its amount booked in month t (0..`months`, the rows laid out) is a
formula of the yellow inputs, the engine's own shapes (`crmroi.finance.model`):

- benefit: 0 before go-live (GL) and after the horizon (H); else adoption(k) x ramp(k),
  k = t - GL months since go-live; ramp(k) is the case's benefit ramp or, for a driver
  with its own `ramp_months` n, 1/n + (1 - 1/n) x min(k / (n - 1), 1);
- a ramp (start s, end e, months n): e when n <= 1, else s + (e - s) x min(k / (n - 1), 1);
  a ramp by month: its k-th share, the last one held;
- avoided loss: adoption(k) x (1 + growth)^((t - start) / 12) from its start month;
- one-time cost: 1 in its start month; recurring cost: (1 + growth)^INT((t - start) / 12)
  from its start month to MIN(end month, H); times the month's exchange rate (a number
  from the workspace's dated rates) when the cost is in another currency;
- actual costs (workspace): the money itself, for months up to the case's horizon as
  built; later months hold the last one (the run rate when the actuals end earlier).

Rows past the horizon cell are 0 in every line, so the horizon can be changed up to the
rows laid out (the cell's data validation says how far).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from crmroi.reports.i18n import Lang
from crmroi.reports.model import LineSpec, RampSpec, ReportModel
from crmroi.reports.xlsx_sheets import add_sheet

__all__ = ["Cells", "RampCells", "ramp_share", "timing_inputs", "write_schedule"]


@dataclass
class RampCells:
    """A ramp's input cells: start, end and months, or the by-month shares' range."""

    start: str = ""
    end: str = ""
    months: str = ""
    by_month: str = ""
    n: int = 0


@dataclass
class Cells:
    """Absolute references of the Inputs sheet's yellow cells (and the monthly rate)."""

    params: dict[str, str] = field(default_factory=dict)
    ramps: dict[str, RampCells] = field(default_factory=dict)
    timing: list[dict[str, str]] = field(default_factory=list)
    """Per line: start, end, growth, ramp_months (only those the line has)."""


def ramp_share(cells: RampCells, k: str) -> str:
    """A ramp's share at `k` months since go-live (k >= 0), as a formula expression."""
    if cells.by_month:
        return f"INDEX({cells.by_month},MIN({k},{cells.n - 1})+1)"
    s, e, n = cells.start, cells.end, cells.months
    return f"IF({n}<=1,{e},{s}+({e}-{s})*MIN({k}/MAX({n}-1,1),1))"


def own_ramp_share(months: str, k: str) -> str:
    """A driver's own ramp (1/n to 1 over n months) at `k` months since go-live."""
    return f"IF({months}<=1,1,1/{months}+(1-1/{months})*MIN({k}/MAX({months}-1,1),1))"


def timing_rows(spec: LineSpec, lang: Lang) -> list[tuple[str, str, float | None]]:
    """The line's timing inputs (key, label, value; None: the horizon) in the Inputs sheet."""
    _ = lang.gettext
    shape = spec.shape
    if shape is None or shape.kind in ("benefit", "actual"):
        if shape is not None and shape.ramp_months is not None:
            return [("ramp_months", _("Months to full effect"), float(shape.ramp_months))]
        return []
    rows: list[tuple[str, str, float | None]] = [
        ("start", _("Start month"), float(shape.start_month))
    ]
    if shape.kind == "recurring":
        end = None if shape.end_month is None else float(shape.end_month)
        rows.append(("end", _("End month"), end))
    if shape.kind != "one_time":
        rows.append(("growth", _("Growth (a year)"), shape.growth))
    return rows


def timing_inputs(
    ws: Worksheet, row: int, model: ReportModel, lang: Lang, ref: Any, fmt: Any
) -> tuple[int, dict[str, RampCells]]:
    """Write the adoption and benefit ramps' yellow cells from `row`; the next free row."""
    _ = lang.gettext
    ws.write_string(row, 0, _("Ramps by month since go-live (shares)"))
    for col, head in enumerate((_("Start"), _("End"), _("Months")), start=1):
        ws.write_string(row, col, head)
    row += 1
    out: dict[str, RampCells] = {}
    ramps = (
        ("adoption", _("Adoption (share of users working in the CRM)"), model.adoption),
        ("benefit_ramp", _("Benefit ramp (share of the full effect)"), model.benefit_ramp),
    )
    for key, label, spec in ramps:
        spec = spec or RampSpec(1.0, 1.0, 1)
        ws.write_string(row, 0, label)
        cells = RampCells()
        if spec.by_month:
            ws.write_string(row, 0, f"{label}: {_('by month, the last one held')}")
            for j, v in enumerate(spec.by_month):
                ws.write_number(row, 1 + j, v, fmt)
            first = xl_rowcol_to_cell(row, 1, True, True)
            last = xl_rowcol_to_cell(row, len(spec.by_month), True, True)
            cells.by_month, cells.n = ref(f"{first}:{last}"), len(spec.by_month)
        else:
            for j, v in enumerate((spec.start, spec.end, float(spec.months))):
                ws.write_number(row, 1 + j, v, fmt)
            cells.start, cells.end, cells.months = (
                ref(xl_rowcol_to_cell(row, c, True, True)) for c in (1, 2, 3)
            )
        out[key] = cells
        row += 1
    return row, out


def _line_formula(
    spec: LineSpec, timing: dict[str, str], cells: Cells, t: str, k: str, adopt: str, ramp: str
) -> str:
    """The line's share in month `t` (a cell) as a formula; `k` months since go-live,
    `adopt` and `ramp` the adoption and case benefit-ramp shares of that row."""
    p = cells.params
    h, gl = p["horizon_months"], p["go_live_month"]
    shape = spec.shape
    assert shape is not None
    if shape.kind == "benefit":
        share = ramp if shape.ramp_months is None else own_ramp_share(timing["ramp_months"], k)
        return f"=IF(AND({t}>={gl},{t}<={h}),{adopt}*{share},0)"
    if shape.kind == "loss":
        s, g = timing["start"], timing["growth"]
        grow = f"(1+{g})^(MAX({t}-{s},0)/12)"
        return f"=IF(AND({t}>={gl},{t}<={h},{t}>={s}),{adopt}*{grow},0)"
    if shape.kind == "one_time":
        return f"=IF(AND({t}={timing['start']},{t}<={h}),1,0)"
    s, e, g = timing["start"], timing["end"], timing["growth"]
    return f"=IF(AND({t}>={s},{t}<=MIN({e},{h})),(1+{g})^INT(({t}-{s})/12),0)"


def write_schedule(
    wb: Workbook,
    title: str,
    model: ReportModel,
    cells: Cells,
    months: int,
    lang: Lang,
    text: Any,
    formats: dict[str, Any],
) -> Worksheet:
    """The Schedule sheet: months 0..`months` by row, each line's share as a formula."""
    _ = lang.gettext
    ws = add_sheet(wb, title)
    head, factor = formats["head"], formats["factor"]
    n = len(model.lines)
    kc, ac, rc = n + 1, n + 2, n + 3  # helper columns: k, adoption, benefit ramp
    ws.write_string(0, 0, _("Month"), head)
    for j, spec in enumerate(model.lines):
        text(ws, 0, j + 1, spec.name, head)
    ws.write_string(0, kc, _("Months since go-live"), head)
    ws.write_string(0, ac, _("Adoption"), head)
    ws.write_string(0, rc, _("Benefit ramp"), head)
    h, gl = cells.params["horizon_months"], cells.params["go_live_month"]
    adoption, ramp = cells.ramps["adoption"], cells.ramps["benefit_ramp"]
    for t in range(months + 1):
        r = t + 1
        ws.write_number(r, 0, t)
        tc, k = xl_rowcol_to_cell(r, 0), xl_rowcol_to_cell(r, kc)
        ws.write_formula(r, kc, f"={tc}-{gl}")
        ws.write_formula(r, ac, f"=IF({k}<0,0,{ramp_share(adoption, k)})", factor)
        ws.write_formula(r, rc, f"=IF({k}<0,0,{ramp_share(ramp, k)})", factor)
        adopt, share = xl_rowcol_to_cell(r, ac), xl_rowcol_to_cell(r, rc)
        for j, spec in enumerate(model.lines):
            shape = spec.shape
            if shape is None or shape.kind == "actual":
                built = spec.schedule
                value = built[min(t, len(built) - 1)] if built else 0.0
                ws.write_formula(r, j + 1, f"=IF({tc}<={h},{value!r},0)", factor)
                continue
            formula = _line_formula(spec, cells.timing[j], cells, tc, k, adopt, share)
            if shape.fx:
                formula += f"*{shape.fx[min(t, len(shape.fx) - 1)]!r}"
            ws.write_formula(r, j + 1, formula, factor)
    ws.freeze_panes(1, 1)
    return ws
