"""KPI tables from the real public data sets (../shared/data) imported with the example mappings.

Maven CRM (B2B pipeline, 2016-10 to 2017-12) with go-live 2017-07-01 and Olist
(marketing funnel, 2017-06 to 2018-11) with go-live 2018-03-01, 6-month windows.
KPIs whose inputs the exports lack are unavailable with the reason, never zero.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmroi.ingest.pipeline import import_files
from crmroi.kpi import compute_kpi_report
from crmroi.store import Store
from tests.conftest import shared_data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_maven_crm_kpis(workspace: Store) -> None:
    folder = shared_data("maven_crm")
    files = [folder / n for n in ("sales_teams.csv", "accounts.csv", "sales_pipeline.csv")]
    import_files(workspace, files, mapping=EXAMPLES / "maven_crm.yaml")
    report = compute_kpi_report(
        workspace, go_live=dt.date(2017, 7, 1), baseline_months=6, after_months=6, bootstrap=200
    )
    won = report.get("won_deals")
    assert (won.baseline, won.after) == (1785, 2453)
    assert report.get("sales_volume").baseline == pytest.approx(4_220_783.0)
    assert report.get("win_rate").baseline == pytest.approx(0.66629, abs=1e-5)
    assert report.get("win_rate").significant  # 66.6% -> 60.8%
    assert report.get("sales_cycle_days").baseline == 63.0
    assert report.get("sales_cycle_days").after == 50.0
    assert report.get("gross_margin").reason == "deals.cost has no values"
    assert report.get("csat").reason == "no rows in table tickets"
    available = {k.name for k in report.kpis if k.available}
    assert available >= {"sales_volume", "sales_per_rep", "avg_deal_size", "revenue_per_customer"}


def test_olist_funnel_kpis(workspace: Store) -> None:
    folder = shared_data("olist_funnel")
    files = [
        folder / "olist_marketing_qualified_leads_dataset.csv",
        folder / "olist_closed_deals_dataset.csv",
    ]
    import_files(workspace, files, mapping=EXAMPLES / "olist_funnel.yaml")
    report = compute_kpi_report(
        workspace, go_live=dt.date(2018, 3, 1), baseline_months=6, after_months=6, bootstrap=200
    )
    conv = report.get("lead_conversion_rate")
    assert conv.baseline == pytest.approx(0.0991, abs=1e-4)  # deals keyed by their lead
    assert conv.after == pytest.approx(0.1254, abs=1e-4)
    assert conv.ci_low is not None and conv.ci_low > 0  # leads resampled one by one
    assert report.get("leads").after == 3829
    assert report.get("sales_volume").reason == "deals.amount has no values"
    by_source = compute_kpi_report(
        workspace, go_live=dt.date(2018, 3, 1), baseline_months=6, after_months=6, bootstrap=0,
        by="source",
    )  # fmt: skip
    sources = {k.group for k in by_source.kpis if k.name == "leads" and k.available}
    assert {"organic_search", "paid_search", "social"} <= sources
