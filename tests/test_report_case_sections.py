"""The report's business-case sections: ROI five ways (same numbers and texts as finance),
the practitioners' checks and the TCO roll-up, in the model and the HTML."""

from __future__ import annotations

import datetime as dt

import pytest

from crmroi.finance.roi import ROI_KINDS, RoiVariant
from crmroi.reports.build import build_report
from crmroi.reports.html import render_html
from crmroi.reports.labels import ROI_LABELS
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
