"""Deal KPIs by creation month (exposure "created") against a pandas recomputation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from crmroi.demo import DemoCompany, generate_company, write_demo
from crmroi.kpi import kpi_panel
from crmroi.store import Store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoCompany]]:
    folder = tmp_path_factory.mktemp("cohorts")
    company = generate_company(scale=0.2, seed=2)
    store = Store.open(folder, create=True)
    write_demo(store, company, None)
    try:
        yield store, company
    finally:
        store.close()


def _reference(company: DemoCompany) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Per team and creation month: closed, won, won amount, straight from the tables."""
    deals = company.tables["deals"].to_pandas()
    reps = company.tables["reps"].to_pandas()[["rep_id", "team"]]
    deals = deals.merge(reps, left_on="owner_rep_id", right_on="rep_id")
    closed = deals[deals["closed_at"].notna() & (deals["is_closed"] | deals["is_won"])]
    days = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 86400
    last = max(deals["created_at"].max(), deals["closed_at"].max())
    limit = last - pd.Timedelta(days=float(np.quantile(days.clip(lower=0), 0.95)))
    month = limit.to_period("M")  # the last month whose final day is within the limit
    if limit < (month + 1).to_timestamp() - pd.Timedelta(days=1):
        month -= 1
    cut = (month + 1).to_timestamp()
    deals = deals[deals["created_at"] < cut]
    deals["month"] = deals["created_at"].dt.to_period("M").dt.to_timestamp()
    won = deals["is_won"] & deals["closed_at"].notna()
    deals["closed"] = (deals["is_closed"] | deals["is_won"]) & deals["closed_at"].notna()
    deals["won"] = won
    deals["won_amount"] = deals["amount"].where(won, 0.0)
    cells = deals.groupby(["team", "month"])[["closed", "won", "won_amount"]].sum()
    return cells.astype(float), cut


def test_created_panel_counts_deals_in_their_creation_month(
    demo: tuple[Store, DemoCompany],
) -> None:
    store, company = demo
    panel = kpi_panel(store, ["win_rate", "sales_volume", "csat"], exposure="created")
    reference, cut = _reference(company)
    assert panel.attrs["cohorts_before"] == cut
    assert cut < pd.Timestamp(company.end)  # recent cohorts are left out
    win = panel[panel["kpi"] == "win_rate"].set_index(["unit", "month"])
    ref = reference[reference["closed"] > 0]
    assert len(win) == len(ref)
    assert np.allclose(win.loc[ref.index, "num"], ref["won"])
    assert np.allclose(win.loc[ref.index, "den"], ref["closed"])
    volume = panel[panel["kpi"] == "sales_volume"].set_index(["unit", "month"])
    assert np.allclose(volume.loc[reference.index, "value"], reference["won_amount"])
    # tickets count by their own date either way
    closed = kpi_panel(store, ["csat"], exposure="closed")
    assert panel[panel["kpi"] == "csat"].reset_index(drop=True).equals(closed)


def test_created_is_not_the_closing_month(demo: tuple[Store, DemoCompany]) -> None:
    store, _ = demo
    created = kpi_panel(store, ["won_deals"], exposure="created")
    closed = kpi_panel(store, ["won_deals"], exposure="closed")
    first = closed["month"].min()
    # deals closing in the first month were mostly created before the data starts
    assert created["month"].min() <= first
    assert created["num"].sum() != closed["num"].sum()


def test_calls_per_won_deal_by_creation_month(demo: tuple[Store, DemoCompany]) -> None:
    """Calls on each deal (by deal_id, whenever made) in its creation month / won deals."""
    store, company = demo
    panel = kpi_panel(store, ["calls_per_won_deal"], exposure="created")
    reference, cut = _reference(company)
    acts = company.tables["activities"].to_pandas()
    calls = acts[(acts["kind"] == "call") & acts["deal_id"].notna()].groupby("deal_id").size()
    deals = company.tables["deals"].to_pandas()
    reps = company.tables["reps"].to_pandas()[["rep_id", "team"]]
    deals = deals.merge(reps, left_on="owner_rep_id", right_on="rep_id")
    deals = deals[deals["created_at"] < cut]
    deals["month"] = deals["created_at"].dt.to_period("M").dt.to_timestamp()
    deals["calls"] = deals["deal_id"].map(calls).fillna(0.0)
    cells = deals.groupby(["team", "month"])["calls"].sum()
    first = acts["occurred_at"].min().to_period("M").to_timestamp()
    ref = reference[(reference["won"] > 0) & (reference.index.get_level_values(1) >= first)]
    got = panel.set_index(["unit", "month"])
    assert len(got) == len(ref)
    assert np.allclose(got.loc[ref.index, "num"], cells.loc[ref.index])
    assert np.allclose(got.loc[ref.index, "den"], ref["won"])
