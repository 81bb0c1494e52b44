"""Key-person risk as money (crmroi.improve.key_person): by hand and on the demo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crmroi.improve.followups import followups
from crmroi.improve.frames import data_date, load_frames
from crmroi.improve.key_person import departure_rate, key_person_risk
from crmroi.store import Store

AS_OF = pd.Timestamp("2025-06-30")


def _frames() -> dict[str, pd.DataFrame]:
    """A1 rests on R1 (9 of 10 activities), A2 is shared (5 and 5), A3 rested on R3 who
    left; A4 rests on R1 but has too few activities (3)."""
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "R4"],
            "name": ["a", "b", "c", "d"],
            "team": ["T"] * 4,
            "region": ["EMEA"] * 4,
            "hired_on": pd.to_datetime(["2020-01-01"] * 3 + ["2025-03-01"]),
            "left_on": pd.to_datetime([None, None, "2025-03-01", None]),
        }
    )
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4"], "name": list("WXYZ")})
    acts: list[tuple[str, str, str]] = []
    acts += [("R1", "A1", f"2025-05-{d:02d}") for d in range(1, 10)] + [("R2", "A1", "2025-05-20")]
    acts += [("R1", "A2", f"2025-04-{d:02d}") for d in range(1, 6)]
    acts += [("R2", "A2", f"2025-04-{d:02d}") for d in range(10, 15)]
    acts += [("R3", "A3", f"2025-02-{d:02d}") for d in range(1, 7)]
    acts += [("R1", "A4", f"2025-06-{d:02d}") for d in range(1, 4)]
    acts += [("R1", "A1", "2023-01-05")]  # outside the year: not counted
    activities = pd.DataFrame(
        {
            "rep_id": [a[0] for a in acts],
            "account_id": [a[1] for a in acts],
            "occurred_at": pd.to_datetime([a[2] for a in acts]),
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4"],
            "account_id": ["A1", "A1", "A3", "A1"],
            "created_at": pd.to_datetime(["2024-09-01", "2025-01-01", "2024-10-01", "2025-05-01"]),
            "closed_at": pd.to_datetime(["2024-12-01", "2024-05-01", "2025-01-01", None]),
            "is_closed": [True, True, True, False],
            "is_won": [True, True, True, False],
            "amount": [1000.0, 9999.0, 300.0, 700.0],  # D2 closed over a year ago
        }
    )
    orders = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3"],
            "ordered_at": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-01-10"]),
            "amount": [500.0, 2000.0, 100.0],
        }
    )
    return {
        "reps": reps,
        "accounts": accounts,
        "activities": activities,
        "deals": deals,
        "orders": orders,
    }


def test_reps_table_empty() -> None:
    """Activities name reps the reps table does not hold (only deals and activities
    imported): their accounts are at risk with a current rep, not an error."""
    for reps in (_frames()["reps"].iloc[0:0],):
        frames = _frames() | {"reps": reps}
        got = key_person_risk(frames, AS_OF).accounts.set_index("account_id")
        assert list(got.index) == ["A1", "A3"]
        assert set(got["status"]) == {"current"}


def test_key_person_risk_by_hand() -> None:
    risk = key_person_risk(_frames(), AS_OF)
    got = risk.accounts.set_index("account_id")
    assert list(got.index) == ["A1", "A3"]  # by revenue: 1,500 then 400
    assert got.loc["A1", "rep_id"] == "R1" and got.loc["A1", "status"] == "current"
    assert got.loc["A1", "share"] == pytest.approx(0.9)
    assert got.loc["A1", "revenue"] == pytest.approx(1000.0 + 500.0)
    assert got.loc["A1", "open_pipeline"] == pytest.approx(700.0)
    assert got.loc["A3", "status"] == "left" and got.loc["A3", "revenue"] == pytest.approx(400.0)
    assert risk.revenue_total == pytest.approx(1500.0 + 2000.0 + 400.0)
    assert risk.current_at_risk == pytest.approx(1500.0)
    # one leaver (R3, 2025-03-01) over the rep-years from the first activity (2023-01-05)
    since, end = pd.Timestamp("2023-01-05"), AS_OF
    years = (
        2 * (end - since).days + (pd.Timestamp("2025-03-01") - since).days
        + (end - pd.Timestamp("2025-03-01")).days
    ) / 365.0  # fmt: skip
    assert risk.departure_rate == pytest.approx(1 / years)
    assert risk.exposed_a_year == pytest.approx(1500.0 / years)
    assert "1,500 of revenue in the last 365 days (38% of 3,900)" in risk.summary()
    by_rep = risk.by_rep().set_index("rep_id")
    assert by_rep.loc["R1", "accounts"] == 1 and by_rep.loc["R3", "revenue"] == 400.0


def test_departure_rate_without_reps_is_unknown() -> None:
    empty = pd.DataFrame({"hired_on": pd.to_datetime([]), "left_on": pd.to_datetime([])})
    assert departure_rate(empty, AS_OF - pd.Timedelta(days=365), AS_OF) is None


def test_key_person_followups_list_current_reps_only() -> None:
    f = _frames()
    f["leads"] = pd.DataFrame(
        columns=["lead_id", "created_at", "source", "status", "owner_rep_id", "converted_at"]
    )
    f["accounts"] = f["accounts"].assign(owner_rep_id="R1", credit_status="ok")
    f["deals"] = f["deals"].assign(owner_rep_id="R1", stage="x")
    f["activities"] = f["activities"].assign(
        activity_id=[f"X{i}" for i in range(len(f["activities"]))],
        kind="email",
        lead_id=None,
        deal_id=None,
    )
    items = followups(f, AS_OF)
    kp = items[items["kind"] == "key_person"]
    assert list(kp["subject_id"]) == ["A1"]
    assert "1,500 of revenue in the last 365 days rests on R1 (90% of 10" in kp.iloc[0]["detail"]


def test_demo_shows_a_spread_and_money(small_demo_folder: Path) -> None:
    """The demo's accounts are not all single-threaded (the KPI read 100% before), and the
    money at risk matches an independent count of the accounts' revenue."""
    with Store.open(small_demo_folder) as store:
        frames = load_frames(store, ["reps", "accounts", "deals", "activities", "orders"])
    day = data_date(frames)
    risk = key_person_risk(frames, day)
    acts = frames["activities"]
    year = acts[(acts["occurred_at"] > day - pd.Timedelta(days=365)) & (acts["occurred_at"] <= day)]
    year = year.dropna(subset=["account_id", "rep_id"])
    share = year.groupby("account_id")["rep_id"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert 0.5 < share.mean() < 0.95 and (share < 0.8).mean() > 0.2
    n = year.groupby("account_id").size()
    expected = set(share[(share >= 0.8) & (n >= 5)].index)
    assert set(risk.accounts["account_id"]) == expected
    d, o = frames["deals"], frames["orders"]
    won = d[d["is_won"].fillna(False).astype(bool)]
    won = won[(won["closed_at"] > day - pd.Timedelta(days=365)) & (won["closed_at"] <= day)]
    ords = o[(o["ordered_at"] > day - pd.Timedelta(days=365)) & (o["ordered_at"] <= day)]
    money = won[won["account_id"].isin(expected)]["amount"].sum()
    money += ords[ords["account_id"].isin(expected)]["amount"].sum()
    assert risk.revenue_at_risk() == pytest.approx(money)
    assert 0 < risk.current_at_risk < risk.revenue_total
