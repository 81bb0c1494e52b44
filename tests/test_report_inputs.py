"""The report in two steps: the language-free inputs gathered once, then worded in each
language, give the very page the one-step `report_for` gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from crmroi.finance.case import load_case
from crmroi.reports import ReportModel, gather_report_inputs, report_for, report_model
from crmroi.reports.html import render_html
from crmroi.store import Store

RUNS = 500
BOOTSTRAP = 20
DAY = dt.date(2025, 3, 7)


def page(model: ReportModel) -> str:
    """The HTML of `model` with its generation date fixed (the only timestamp)."""
    return render_html(dataclasses.replace(model, generated_on=DAY))


def test_split_report_is_the_one_step_report_in_each_language(small_demo_folder: Path) -> None:
    case = load_case(small_demo_folder / "case.yaml")
    with Store.open(small_demo_folder) as store:
        # one DuckDB thread: sums in one order, so KPI figures agree to the last bit
        store.backend.raw_sql("SET threads TO 1")
        inputs = gather_report_inputs(case, store, runs=RUNS, bootstrap=BOOTSTRAP, seed=0)
        split = {lang: page(report_model(inputs, lang=lang)) for lang in ("en", "ru")}
        for lang in ("en", "ru"):
            one_step = report_for(case, store, lang=lang, runs=RUNS, bootstrap=BOOTSTRAP, seed=0)
            assert split[lang] == page(one_step), lang
    assert inputs.kpis is not None and inputs.improvements is not None
    assert inputs.improvements.followups is not None and inputs.improvements.clv is not None
    en, ru = split["en"], split["ru"]
    assert '<html lang="en"' in en and '<html lang="ru"' in ru
    assert 'id="followup-table"' in en and 'id="followup-table"' in ru
    assert "Does the CRM pay for itself?" in en and "Окупается ли CRM?" in ru
    # wording one language leaves the inputs as they were: the English page again
    assert page(report_model(inputs, lang="en")) == en
