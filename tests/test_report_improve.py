"""The report's improvement sections: the same figures as the commands' code, a reason
(translated) when the data do not allow a section, HTML/XLSX rendering, and the case's
customer inputs set beside the lifetime-value fit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from crmroi.finance.case import load_case
from crmroi.improve.frames import data_date, load_frames
from crmroi.reports import write_report
from crmroi.reports.html import render_html
from crmroi.reports.i18n import get_lang
from crmroi.reports.improve import FRAMES, fit_improvements, improvements, label_improvements
from crmroi.reports.model import Improvements
from crmroi.store import Store
from tests.test_report_model import sample_model


@pytest.fixture(scope="module")
def frames(small_demo_folder: Path) -> dict[str, pd.DataFrame]:
    with Store.open(small_demo_folder) as store:
        return load_frames(store, FRAMES)


@pytest.fixture(scope="module")
def sections(frames: dict[str, pd.DataFrame]) -> Improvements:
    return improvements(frames, get_lang("en"))


def test_sections_are_the_commands_figures(
    frames: dict[str, pd.DataFrame], sections: Improvements
) -> None:
    from crmroi.improve.followups import followups
    from crmroi.improve.lifetime import orders_lifetime_value
    from crmroi.improve.scoring import score_workspace
    from crmroi.improve.segments import segments

    day = data_date(frames)
    assert sections.as_of == day.date()
    report = score_workspace(frames, as_of=day, refit=False)
    assert [s.kind for s in sections.scoring] == [r.kind for r in report.results]
    for section, result in zip(sections.scoring, report.results, strict=True):
        assert [e.auc for e in section.evaluations] == [e.auc for e in result.evaluations]
        assert section.open_records == len(result.scores) and len(section.top) <= 10
        top = result.scores.head(len(section.top))
        assert [r.id for r in section.top] == top["id"].astype(str).tolist()
    table = segments(frames, day)
    assert [(g.dimension, g.value, g.accounts) for g in sections.segments] == list(
        table[["dimension", "value", "accounts"]].itertuples(index=False, name=None)
    )
    fu = sections.followups
    assert fu is not None
    lead_scores = report.results[0].scores.set_index("id")["logistic_probability"]
    items = followups(frames, day, 14, lead_scores, 0.3)
    assert fu.total == len(items) and sum(fu.counts.values()) == len(items)
    from crmroi.improve.key_person import key_person_risk

    kp = key_person_risk(frames, day)
    assert fu.key_person is not None and fu.key_person.at_risk == kp.current_at_risk
    assert fu.key_person.exposed_a_year == kp.exposed_a_year
    from crmroi.improve.pipeline import backtest, forecast_pipeline

    pf = sections.forecast
    assert pf is not None and sections.forecast_reason is None
    test = backtest(frames, 6, refit_months=6)
    f = forecast_pipeline(frames, day, 6, test)
    assert [r.expected for r in pf.months] == [m.expected for m in f.months]
    assert [(r.low, r.high, r.verdict) for r in pf.months] == [
        (m.low, m.high, m.verdict) for m in f.months
    ]
    assert pf.origins == test.rows["origin"].nunique() > 6
    table = test.by_horizon()
    assert [r.horizon for r in pf.backtest] == list(range(1, 7))
    assert [r.coverage for r in pf.backtest] == pytest.approx(table["coverage"].tolist())
    assert [r.better_than_naive for r in pf.backtest] == table["better_than_naive"].tolist()
    clv = sections.clv
    assert clv is not None and sections.clv_reason is None
    fit = orders_lifetime_value(frames, day)
    assert clv.bgnbd["r"] == pytest.approx(fit.bgnbd.r)
    assert clv.gamma_gamma == pytest.approx(fit.spend.parameters())
    assert clv.warnings == fit.warnings
    assert sum(g.total_value for g in clv.segments) == pytest.approx(fit.expected_value)
    assert sum(g.customers for g in clv.segments) == clv.customers


def test_empty_workspace_gives_reasons_in_the_report_language(workspace: Store) -> None:
    empty = load_frames(workspace, FRAMES)
    day = pd.Timestamp("2025-01-31")
    en = improvements(empty, get_lang("en"), as_of=day)
    assert en.scoring == [] and en.scoring_reasons == ["the workspace has no leads or deals"]
    assert en.segments_reason == "the workspace has no accounts"
    assert en.followups is None and en.followups_reason
    assert en.clv is None and en.clv_reason == "the workspace has no orders"
    ru = improvements(empty, get_lang("ru"), as_of=day)
    assert ru.clv_reason == "в рабочей области нет заказов"
    # the fit keeps its reasons untranslated; each language words them from it
    results = fit_improvements(empty, as_of=day)
    assert results.clv_reason is not None and results.clv_reason.message == en.clv_reason
    assert label_improvements(results, get_lang("ru")) == ru
    assert label_improvements(results, get_lang("en")) == en
    model = dataclasses.replace(sample_model("ru"), improvements=ru)
    page = render_html(model)
    assert "Пожизненная ценность клиента" in page and "в рабочей области нет заказов" in page


def test_sections_render_in_html_and_xlsx(sections: Improvements, tmp_path: Path) -> None:
    model = dataclasses.replace(sample_model(), improvements=sections)
    page = render_html(model)
    for section in ("improve-scoring", "scoring-leads", "segment-table", "followup-table"):
        assert f'id="{section}"' in page
    assert 'id="clv-segments"' in page and "Gamma-Gamma" in page
    assert 'id="key-person"' in page and "Key-person risk:" in page
    assert 'id="forecast-table"' in page and 'id="forecast-backtest"' in page
    pf = sections.forecast
    assert pf is not None
    for r in pf.months:
        assert f'data-recommended="{r.recommended}"' in page
    assert "own errors at each horizon" in page and "calibrated 80% interval" in page
    book = openpyxl.load_workbook(write_report(model, tmp_path / "r.xlsx"))
    for sheet in ("Lead scoring", "Segments", "Follow-ups", "Lifetime value"):
        assert sheet in book.sheetnames
    assert book["Lifetime value"]["A1"].value == "Customers"
    assert book["Lifetime value"]["B1"].value == sections.clv.customers  # type: ignore[union-attr]
    ru = dataclasses.replace(sample_model("ru"), improvements=sections)
    book = openpyxl.load_workbook(write_report(ru, tmp_path / "ru.xlsx"))
    assert "Ценность клиента" in book.sheetnames


def test_case_customer_inputs_beside_the_fit(small_demo_folder: Path, tmp_path: Path) -> None:
    """The demo case's retention inputs are compared with the fit; written as `clv`,
    they are the fit's numbers and the assumptions name the model as their source."""
    from crmroi.casework.evaluate import model_for
    from crmroi.reports.gather import improvement_results

    text = (small_demo_folder / "case.yaml").read_text(encoding="utf-8")
    with Store.open(small_demo_folder) as store:
        plain = improvement_results(store, model_for(load_case(small_demo_folder / "case.yaml")))
        assert plain.clv is not None
        rows = {c.input: c for c in plain.clv.comparisons}
        assert rows["customers"].case_value == 2500 and not rows["customers"].from_clv
        assert rows["customers"].clv_value == pytest.approx(plain.clv.active_customers)
        path = tmp_path / "case.yaml"
        path.write_text(
            text.replace("customers: 2500", "customers: clv").replace(
                "revenue_per_customer: 700", "revenue_per_customer: clv"
            ),
            encoding="utf-8",
        )
        case_model = model_for(load_case(path), store)
        sections = improvement_results(store, case_model)
    clv = sections.clv
    assert clv is not None and clv.used_by == ["fewer customers lost"]
    assert case_model.clv is not None and clv.horizon_months == pytest.approx(12)
    assert clv.value_per_customer_month == pytest.approx(case_model.clv.value_per_customer_month)
    assert all(c.from_clv for c in clv.comparisons)
