"""Ideal-customer segments: intervals and aggregation on hand-made data and the demo."""

from __future__ import annotations

import pandas as pd
import pytest

from crmroi.improve.segments import account_facts, segment_table, segments, wilson

AS_OF = pd.Timestamp("2025-12-31")


def test_wilson_matches_the_closed_form() -> None:
    rate, lo, hi = wilson(8, 20)
    # Wilson (1927): (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z, n, p = 1.959963984540054, 20, 0.4
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    assert rate == 0.4
    assert (lo, hi) == pytest.approx((centre - half, centre + half))
    assert all(v != v for v in wilson(0, 0))


def _frames() -> dict[str, pd.DataFrame]:
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "segment": ["SMB", "SMB", "Enterprise", "Enterprise"],
            "industry": ["Retail", "Retail", "Energy", None],
            "region": ["EMEA"] * 4,
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4", "D5"],
            "account_id": ["A1", "A1", "A2", "A3", "A4"],
            "source": ["web", "web", "referral", "referral", "web"],
            "created_at": pd.to_datetime(["2024-01-01"] * 5),
            "is_closed": [True, True, True, True, False],
            "is_won": [True, False, True, True, False],
            "amount": [100.0, 999.0, 300.0, 1000.0, 50.0],
        }
    )
    orders = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A2", "A3"],
            "ordered_at": pd.to_datetime(["2024-06-01", "2024-06-01", "2025-06-01", "2025-01-01"]),
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    return {"accounts": accounts, "deals": deals, "orders": orders}


def test_account_facts_and_segment_table() -> None:
    f = _frames()
    facts = account_facts(f["accounts"], f["deals"], f["orders"], AS_OF)
    assert facts.loc["A1", ["closed", "won", "revenue"]].tolist() == [2, 1, 110.0]
    assert facts.loc["A2", "revenue"] == 350.0
    assert facts.source.to_dict() == {"A1": "web", "A2": "referral", "A3": "referral", "A4": "web"}
    # bought in the year to 2024-12-31: A1 (no order since: churned) and A2 (ordered again)
    assert facts.churn_base.tolist() == [True, True, False, False]
    assert facts.churned.tolist() == [True, False, False, False]
    table = segment_table(facts, "segment", min_accounts=1).set_index("value")
    assert table.loc["SMB", "win_rate"] == pytest.approx(2 / 3)
    assert table.loc["SMB", "churn_rate"] == 0.5
    assert table.loc["Enterprise", "revenue_per_account"] == pytest.approx(520.0)
    assert segment_table(facts, "industry", min_accounts=2).value.tolist() == ["Retail"]


def test_segments_on_the_demo() -> None:
    from tests.test_improve_scoring import demo_frames

    frames = demo_frames()
    table = segments(frames, AS_OF, min_accounts=20)
    assert set(table.dimension) == {"industry", "segment", "region", "source"}
    seg = table[table.dimension == "segment"].set_index("value")
    # the demo's enterprise accounts are worth several SMB ones
    assert seg.loc["Enterprise", "revenue_low"] > seg.loc["SMB", "revenue_high"]
    rated = table.dropna(subset=["win_rate"])
    assert (rated.win_rate_low <= rated.win_rate).all()
    assert (rated.win_rate <= rated.win_rate_high).all()
    assert (table.accounts >= 20).all()
