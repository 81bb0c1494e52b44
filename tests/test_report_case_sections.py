"""The report's business-case sections: ROI five ways (same numbers and texts as finance),
the practitioners' checks and the TCO roll-up, in the model and the HTML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmroi.finance.roi import ROI_KINDS, RoiVariant
from crmroi.finite import finite
from crmroi.reports.build import build_report
from crmroi.reports.html import render_html
from crmroi.reports.labels import ROI_LABELS
from crmroi.reports.model import ReportModel
from tests.test_report_model import sample_result


def test_roi_labels_are_finance_s_own_texts() -> None:
    for kind in ROI_KINDS:
        way = RoiVariant(kind, 0.0)
        label, formula, source = ROI_LABELS[kind]
        assert label.lower() == way.label.lower()
        assert (formula, source) == (way.formula, way.source)


def test_roi_ways_checks_and_tco_in_the_model_and_html() -> None:
    result = sample_result()
    model = build_report(result, today=dt.date(2025, 1, 1))
    assert [w.kind for w in model.roi_ways] == list(ROI_KINDS)
    net = model.roi_ways[0]
    assert net.headline and [v for v in net.values] == [f.roi for f in model.figures]
    assert sum(w.headline for w in model.roi_ways) == 1
    assert [c.rule for c in model.checks if not c.passed] == ["horizon"]  # failed ones first
    assert {c.rule for c in model.checks} >= {"integration", "benchmark", "horizon"}
    total = model.tco[-1]
    assert total.group == "total"
    assert total.horizon == pytest.approx(float(result.table.total_costs().sum()))
    groups = [r for r in model.tco if r.category is None and r.group != "total"]
    assert sum(r.first_year for r in groups) == pytest.approx(total.first_year)
    html = render_html(model)
    for anchor in ('id="roi-ways"', 'id="checks"', 'id="tco"'):
        assert anchor in html
    assert "Persian practitioner article on CRM ROI" in html
    assert "integration costs (PV" in html


def test_translated_report_words_the_sections() -> None:
    model = build_report(sample_result(), lang="ru", today=dt.date(2025, 1, 1))
    html = render_html(model)
    assert "ROI пятью способами" in html and "Совокупная стоимость владения" in html


def test_plan_versus_actual_in_the_report(small_demo_folder: Path, tmp_path: Path) -> None:
    from crmroi.casework.actuals import plan_vs_actual
    from crmroi.casework.evaluate import evaluate_case
    from crmroi.finance.case import load_case
    from crmroi.reports.gather import gather_report_inputs
    from crmroi.store import Store

    case = load_case(small_demo_folder / "case.yaml")
    with Store.open(small_demo_folder) as store:
        pva = plan_vs_actual(case, store, bootstrap=0)
        inputs = gather_report_inputs(
            case, store, runs=0, bootstrap=0, kpis=["win_rate"], improve=False
        )
    assert inputs.actuals is not None
    assert inputs.actuals.months_to_date == pva.months_to_date
    result = evaluate_case(case)
    model = build_report(result, actuals=pva, today=dt.date(2025, 1, 1))
    section = model.plan_actual
    assert section is not None
    assert [r.actual for r in section.rows] == [x.actual_to_date for x in pva.lines]
    assert sum(m.actual_costs for m in section.months) == pytest.approx(
        sum(x.actual_to_date for x in pva.lines if x.side == "cost")
    )
    assert section.reforecast_payback_months == finite(pva.reforecast.payback_months)
    assert pva.plan is not None and section.plan_npv == pva.plan.npv
    assert [p.ratio for p in section.people] == [False, False, True]
    html = render_html(model)
    assert 'id="plan-actual-lines"' in html and 'id="people-roi"' in html
    assert "At the measured changes and the actual costs to date, payback (months):" in html
    assert pva.adoption is not None
    measured = [(m, a) for m, _, a in pva.adoption.months if a is not None]
    assert [(r.month, r.measured) for r in section.adoption] == measured
    assert 'id="adoption"' in html and "With the measured adoption, payback (months):" in html
    # the adoption chart: the plan and the measure by month, as in the table
    spec = model.charts["adoption"]
    points = {(v["month"], v["series"]): v["share"] for v in spec["data"]["values"]}
    for r in section.adoption:
        assert points[r.month, "plan"] == r.plan
        assert points[r.month, "measured"] == r.measured
    # the adoption_lag warning is in the report whenever payback moves a month or more
    warning = pva.adoption.warning()
    assert section.adoption_warning == warning
    assert ('id="adoption-lag"' in html) == (warning is not None)
    _check_usage(model, pva, html)
    _check_workbook(model, tmp_path / "report.xlsx")


def _check_usage(model: ReportModel, pva: object, html: str) -> None:
    """Weekly adoption in the report: the last weeks of `pva.usage`, counted again from
    its per-rep rows."""
    from collections import Counter

    assert model.plan_actual is not None
    u = model.plan_actual.usage
    doc = pva.usage.to_json()  # type: ignore[attr-defined]
    assert u is not None and u.weeks
    assert [w.start.isoformat() for w in u.weeks] == [w["week"] for w in doc["weeks"][-8:]]
    cols = doc["by_rep_columns"]
    active: Counter[tuple[str, str]] = Counter()
    employed: Counter[tuple[str, str]] = Counter()
    for row in doc["by_rep"]:
        r = dict(zip(cols, row, strict=True))
        employed[r["week"], r["team"]] += 1
        active[r["week"], r["team"]] += bool(r["active"])
    for w in u.weeks:
        week = w.start.isoformat()
        assert w.employed == sum(n for (k, _), n in employed.items() if k == week)
        assert w.active == sum(n for (k, _), n in active.items() if k == week)
        for team, (a, e) in w.by_team.items():
            assert (a, e) == (active[week, team], employed[week, team])
    assert 'id="adoption-weeks"' in html and "Records per rep-day" in html
    # the chart of every week since go-live: all teams as measured
    values = model.charts["adoption_weeks"]["data"]["values"]
    everyone = [v["share"] for v in values if v["series"] == "All teams"]
    assert everyone == [w["share"] for w in doc["weeks"] if w["share"] is not None]
    assert 'id="chart-adoption_weeks"' in html
    assert u.next_unavailable == "no_scheduled"  # the demo schedules no activities
    assert "the export carries no scheduled activities" in html
    fields = {(c.table, c.field) for c in u.completeness}
    assert ("deals", "amount") in fields and 'id="completeness"' in html


def _check_workbook(model: ReportModel, path: Path) -> None:
    import openpyxl

    from crmroi.reports.xlsx import write_xlsx

    write_xlsx(model, path)
    ws = openpyxl.load_workbook(path)["Plan versus actual"]
    assert model.plan_actual is not None
    first = model.plan_actual.rows[0]
    assert ws["B2"].value == pytest.approx(first.plan)
    assert ws["C2"].value == pytest.approx(first.actual)
    assert ws["D2"].value == "=C2-B2"
    pa = model.plan_actual
    sheet = openpyxl.load_workbook(path)["Adoption"]
    assert sheet["A2"].value == pa.adoption[0].month
    assert sheet["C2"].value == pytest.approx(pa.adoption[0].plan)
    assert sheet["D2"].value == pytest.approx(pa.adoption[0].measured)
    assert sheet["E2"].value == '=IF(D2="","",D2-C2)'
    assert sheet._charts  # plan against measured, drawn
    assert pa.usage is not None
    labels = [
        c.value
        for c in sheet[
            next(
                r
                for r in range(1, sheet.max_row + 1)
                if sheet.cell(r, 1).value == "Adoption by week, per team"
            )
        ]
    ][1 : 1 + len(pa.usage.weeks)]
    assert labels == [w.label for w in pa.usage.weeks]
    assert pa.usage.licensed  # the demo writes a login export: the licensed users' weeks
    start = next(
        r
        for r in range(1, sheet.max_row + 1)
        if str(sheet.cell(r, 1).value or "").startswith("Licensed users active by week")
    )
    header = [c.value for c in sheet[start + 1]][1 : 1 + len(pa.usage.licensed)]
    assert header == [w.label for w in pa.usage.licensed]
    shares = [c.value for c in sheet[start + 2]][1 : 1 + len(pa.usage.licensed)]
    assert shares == pytest.approx([w.share for w in pa.usage.licensed])


def test_an_extrapolated_measured_change_is_warned_in_the_report(tmp_path: Path) -> None:
    """The hand case of tests/test_finance_actuals_ramp.py measured at 10% adoption: the
    report's plan-versus-actual section carries the warning in the reader's language."""
    from crmroi.reports.xlsx import write_xlsx
    from tests.test_finance_actuals_ramp import _one_month

    pva = _one_month(0.1)
    (x,) = pva.extrapolated  # type: ignore[attr-defined]
    english = build_report(sample_result(), actuals=pva, today=dt.date(2025, 1, 1))
    assert english.plan_actual is not None
    assert english.plan_actual.extrapolation_warnings == [str(x.message())]
    assert str(x.message()) in render_html(english)
    russian = build_report(sample_result(), actuals=pva, lang="ru", today=dt.date(2025, 1, 1))
    assert russian.plan_actual is not None
    (text,) = russian.plan_actual.extrapolation_warnings
    assert text.startswith("more deals won: изменение измерено при 10%")
    assert text in render_html(russian)
    import openpyxl

    book = openpyxl.load_workbook(write_xlsx(russian, tmp_path / "r.xlsx"), read_only=True)
    sheet = next(ws for ws in book.worksheets if ws.title.startswith("План"))
    cells = {c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert text in cells
