"""The real public data sets in ../shared/data import with the example mappings."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmroi.ingest.pipeline import import_files
from crmroi.store import Store
from tests.conftest import shared_data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_maven_crm_pipeline(workspace: Store) -> None:
    folder = shared_data("maven_crm")
    files = [folder / n for n in ("sales_teams.csv", "accounts.csv", "sales_pipeline.csv")]
    report = import_files(workspace, files, mapping=EXAMPLES / "maven_crm.yaml")
    assert not report.rejects
    assert [(f.entity, f.inserted) for f in report.files] == [
        ("reps", 35),
        ("accounts", 85),
        ("deals", 8800),
    ]
    deals = workspace.table("deals")
    won = deals.filter(deals.is_won).count().execute()
    lost = deals.filter(deals.is_closed & ~deals.is_won).count().execute()
    assert (won, lost) == (4238, 2473)  # as SOURCE.md states
    products = set(deals.product.execute())
    assert "GTXPro" not in products and "GTX Pro" in products
    industries = set(workspace.table("accounts").industry.execute())
    assert "technolgy" not in industries and "technology" in industries
    # dates: engage Oct 2016 to Dec 2017, close Mar 2017 to Dec 2017
    assert str(deals.created_at.min().execute())[:7] == "2016-10"
    assert str(deals.closed_at.min().execute())[:7] == "2017-03"
    assert str(deals.closed_at.max().execute())[:7] == "2017-12"


def test_olist_funnel_with_two_date_orders(workspace: Store) -> None:
    folder = shared_data("olist_funnel")
    files = [
        folder / "olist_marketing_qualified_leads_dataset.csv",
        folder / "olist_closed_deals_dataset.csv",
    ]
    report = import_files(workspace, files, mapping=EXAMPLES / "olist_funnel.yaml")
    assert not report.rejects
    loaded = {f.entity: f.inserted for f in report.files}
    assert loaded["leads"] == 8000 and loaded["deals"] == 842
    assert loaded["accounts"] == workspace.count("accounts") > 800
    leads = workspace.table("leads")
    # first contacts Jun 2017 to May 2018 (M/D/YYYY in the file)
    assert str(leads.created_at.min().execute())[:7] == "2017-06"
    assert str(leads.created_at.max().execute())[:7] == "2018-05"
    detected = {f.entity: f.detected for f in report.files}
    assert detected["leads"]["created_at"].endswith("M/D/YYYY")
    first_won = workspace.table("deals").filter(
        lambda t: t.deal_id == "5420aad7fec3549a85876ba1c529bd84"
    )
    assert str(first_won.closed_at.execute().iloc[0]) == "2018-02-26 19:58:00"  # 26-02-2018 19:58
    assert int(leads.filter(leads.source == "unknown").count().execute()) >= 60


@pytest.mark.parametrize("name", ["maven_crm.yaml", "olist_funnel.yaml"])
def test_examples_reimport_idempotently(workspace: Store, name: str) -> None:
    folder = shared_data("maven_crm" if name.startswith("maven") else "olist_funnel")
    files = sorted(p for p in folder.glob("*.csv") if p.name != "products.csv")
    import_files(workspace, files, mapping=EXAMPLES / name)
    again = import_files(workspace, files, mapping=EXAMPLES / name)
    assert again.rows_loaded == sum(f.unchanged for f in again.files)
