# ruff: noqa: E501  (the hand-made rows read best one per line)
"""Every KPI on a tiny hand-made company whose answers are worked out by hand.

One team "T" (reps R1, R2; R2 leaves on 2024-07-01), accounts A1 (owner R1), A2
(owner R2) and A3 (owner R1, a customer from before the data: no 'new' deal),
go-live 2024-01-01, 12-month windows. Coverage is judged per KPI from the date
column it counts (docs/kpis.md): activities on 2023-01-01 00:00 and 2024-12-31
23:59:59, and *bookends* that count in no KPI (open deals, tickets without a score
or cost, zero spend, empty time entries, forecasts for months without wins, two
unowned leads) make every column cover both windows exactly. The expected numbers
are derived in the comments next to them; `test_partial_coverage_by_hand` drops
the bookends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from crmroi.kpi import KPI_DEFINITIONS, compute_kpi_report
from crmroi.store import Store
from crmroi.store.schema import TABLES

GO_LIVE = dt.date(2024, 1, 1)


def put(store: Store, name: str, rows: list[dict[str, Any]]) -> None:
    """Append rows (dicts of canonical columns; the rest NULL) to a table."""
    schema = TABLES[name].arrow_schema()
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    for i in range(len(rows)):
        cols["source_system"][i] = "test"
        cols["source_id"][i] = f"{name}-{i}"
    with store.transaction() as tx:
        tx.append(name, pa.table(cols, schema=schema))


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def deal(i: str, acc: str, rep: str, kind: str, created: str, closed: str, won: bool,
         amount: float | None = None, cost: float | None = None, source: str | None = None
         ) -> dict[str, Any]:  # fmt: skip
    return {
        "deal_id": i, "account_id": acc, "owner_rep_id": rep, "kind": kind,
        "created_at": ts(created), "closed_at": ts(closed), "is_closed": True, "is_won": won,
        "amount": amount, "cost": cost, "source": source,
    }  # fmt: skip


def activity(i: str, at: str, kind: str, direction: str | None, rep: str, acc: str) -> dict:
    return {
        "activity_id": i, "occurred_at": ts(at), "kind": kind, "direction": direction,
        "rep_id": rep, "account_id": acc,
    }  # fmt: skip


@pytest.fixture
def tiny(tiny_raw: Store) -> Store:
    """The tiny company with bookends: every date column covers 2023-01-01..2024-12-31."""
    s = tiny_raw
    put(s, "deals", [
        {**deal(f"B{i}", "A1", "R1", "new", day, day, False), "is_closed": False}
        for i, day in enumerate(("2023-01-01", "2024-12-31"))
    ])  # fmt: skip
    put(s, "tickets", [
        {"ticket_id": f"TB{i}", "account_id": "A1", "opened_at": ts(day)}
        for i, day in enumerate(("2023-01-01", "2024-12-31"))
    ])  # fmt: skip
    put(s, "spend", [
        {"spend_id": f"SB{i}", "spent_on": d(day), "category": "marketing", "amount": 0.0}
        for i, day in enumerate(("2023-01-01", "2024-12-01"))
    ])  # fmt: skip
    put(s, "time_entries", [
        {"rep_id": "R1", "week_start": d(day), "selling_hours": 0.0, "admin_hours": 0.0}
        for day in ("2023-01-01", "2024-12-25")
    ])  # fmt: skip
    put(s, "forecasts", [
        {"team": "T", "period_start": d(day), "forecast_amount": 1.0, "made_at": d(day)}
        for day in ("2023-01-01", "2024-12-01")
    ])  # fmt: skip
    put(s, "leads", [
        {"lead_id": f"LB{i}", "created_at": ts(day), "source": "web"}
        for i, day in enumerate(("2023-01-01", "2024-12-31"))
    ])  # fmt: skip
    return s


@pytest.fixture
def tiny_raw(workspace: Store) -> Store:
    s = workspace
    put(s, "reps", [
        {"rep_id": "R1", "team": "T", "hired_on": d("2020-01-01"), "monthly_cost": 1000.0},
        {"rep_id": "R2", "team": "T", "hired_on": d("2020-01-01"), "left_on": d("2024-07-01"),
         "monthly_cost": 1000.0},
    ])  # fmt: skip
    put(s, "accounts", [
        {"account_id": a, "owner_rep_id": r, "segment": g}
        for a, r, g in (("A1", "R1", "SMB"), ("A2", "R2", "Enterprise"), ("A3", "R1", "SMB"))
    ])  # fmt: skip
    put(s, "deals", [
        deal("D1", "A1", "R1", "new", "2023-02-01", "2023-03-01", True, 100, 60, "web"),
        deal("D2", "A1", "R1", "upsell", "2023-05-01", "2023-06-11", True, 50, 20),
        deal("D3", "A2", "R2", "new", "2023-03-01", "2023-04-01", False, 80),
        deal("D0", "A3", "R1", "renewal", "2023-08-01", "2023-09-01", True, 40, 20),
        deal("D4", "A2", "R2", "new", "2024-02-01", "2024-03-02", True, 200, 100, "referral"),
        deal("D5", "A1", "R1", "upsell", "2024-03-01", "2024-05-10", True, 300, 150),
        deal("D6", "A2", "R2", "new", "2024-04-01", "2024-04-21", False),
        deal("D7", "A1", "R1", "upsell", "2024-08-01", "2024-09-01", True, 100, 50),
    ])  # fmt: skip
    put(s, "activities", [
        activity("C1", "2023-01-01 00:00:00", "call", "outbound", "R1", "A1"),
        activity("C2", "2023-06-01 10:00:00", "call", "inbound", "R1", "A1"),
        activity("C3", "2023-07-01 10:00:00", "visit", None, "R2", "A1"),
        activity("C4", "2024-02-01 10:00:00", "call", "outbound", "R2", "A2"),
        activity("C5", "2024-12-31 23:59:59", "call", "outbound", "R1", "A1"),
        activity("C6", "2024-06-01 10:00:00", "email", "outbound", "R1", "A2"),
    ])  # fmt: skip
    put(s, "time_entries", [
        {"rep_id": "R1", "week_start": d("2023-03-06"), "selling_hours": 30.0, "admin_hours": 10.0},
        {"rep_id": "R1", "week_start": d("2024-03-04"), "selling_hours": 36.0, "admin_hours": 4.0},
    ])  # fmt: skip
    put(s, "tickets", [
        {"ticket_id": "T1", "account_id": "A1", "opened_at": ts("2023-05-01"), "csat": 4.0, "cost": 10.0},
        {"ticket_id": "T2", "account_id": "A2", "opened_at": ts("2023-06-01"), "csat": 2.0, "cost": 20.0},
        {"ticket_id": "T3", "account_id": "A1", "opened_at": ts("2024-05-01"), "csat": 5.0, "cost": 30.0},
        {"ticket_id": "T4", "account_id": "A2", "opened_at": ts("2024-06-01"), "cost": 10.0},
    ])  # fmt: skip
    put(s, "leads", [
        {"lead_id": "L1", "created_at": ts("2023-02-01"), "source": "web", "owner_rep_id": "R1",
         "converted_at": ts("2023-02-10")},
        {"lead_id": "L2", "created_at": ts("2023-03-01"), "source": "web", "owner_rep_id": "R1"},
        {"lead_id": "L3", "created_at": ts("2023-04-01"), "source": "event", "owner_rep_id": "R2"},
        {"lead_id": "L4", "created_at": ts("2024-02-01"), "source": "referral", "owner_rep_id": "R2",
         "converted_at": ts("2024-02-02")},
        {"lead_id": "L5", "created_at": ts("2024-03-01"), "source": "web", "owner_rep_id": "R1"},
    ])  # fmt: skip
    put(s, "spend", [
        {"spend_id": "S1", "spent_on": d("2023-02-01"), "category": "marketing", "source": "web", "amount": 300.0},
        {"spend_id": "S2", "spent_on": d("2024-02-01"), "category": "marketing", "source": "referral", "amount": 200.0},
        {"spend_id": "S3", "spent_on": d("2023-06-01"), "category": "sales", "amount": 600.0},
        {"spend_id": "S4", "spent_on": d("2024-06-01"), "category": "service", "amount": 100.0},
    ])  # fmt: skip
    put(s, "forecasts", [
        {"team": "T", "period_start": d("2023-03-01"), "forecast_amount": 80.0, "made_at": d("2023-01-15")},
        {"team": "T", "period_start": d("2023-03-01"), "forecast_amount": 120.0, "made_at": d("2023-02-01")},
        {"team": "T", "period_start": d("2023-06-01"), "forecast_amount": 50.0, "made_at": d("2023-05-01")},
        {"team": "T", "period_start": d("2024-03-01"), "forecast_amount": 190.0, "made_at": d("2024-02-01")},
    ])  # fmt: skip
    return s


EXPECTED: dict[str, tuple[float, float]] = {
    # won in baseline: D1 100, D2 50, D0 40; after: D4 200, D5 300, D7 100
    "sales_volume": (190.0, 600.0),
    "won_deals": (3.0, 3.0),
    "sales_per_rep": (190 / 24, 600 / 18),  # rep-months: 12 + 12, then 12 + 6 (R2 leaves July)
    "avg_deal_size": (190 / 3, 200.0),
    "win_rate": (3 / 4, 3 / 4),  # D3 and D6 lost
    "sales_cycle_days": (31.0, 31.0),  # 28, 41, 31 days; 30, 70, 31 days
    "forecast_accuracy": (0.9, 0.95),  # Mar-23 1-20/100, Jun-23 1-0/50; Mar-24 1-10/200
    "relationship_concentration": (2 / 3, 0.75),  # A1: R1 R1 R2; after A1 1/1, A2 1/2
    "calls_inbound": (1.0, 0.0),
    "calls_outbound": (1.0, 2.0),
    "calls_per_won_deal": (2 / 3, 2 / 3),
    "upsell_rate": (0.0, 1.0),  # existing buyers: A3 (renewal) / A1 (upsells D5, D7)
    "revenue_per_customer": (190 / 2, 600 / 2),  # buyers A1, A3 / A1, A2
    "lead_conversion_rate": (1 / 4, 1 / 3),  # with the unconverted bookend leads
    "new_customer_revenue": (150.0, 200.0),  # A1 since Mar-23: D1 + D2; A2 since Mar-24: D4
    "cac": (900.0, 200.0),  # (marketing + sales spend) / one new customer
    "leads": (4.0, 3.0),  # with one bookend lead in each window
    "marketing_spend": (300.0, 200.0),
    "cost_per_lead": (300 / 4, 200 / 3),
    "cost_per_won_deal": (300.0, 200.0),  # won deals with a lead source: D1; D4
    "csat": (3.0, 5.0),
    "service_cost_per_ticket": (15.0, 20.0),
    "retention_rate": (0.0, 0.25),  # after: A1, A2 buy in the first half, A1 again: (1/2)^2
    "cost_per_sales_call": (24_600 / 2, 18_000 / 2),  # rep cost + sales spend / C1, C3; C4, C5
    "admin_time_share": (0.25, 0.10),
    "gross_margin": (90 / 190, 0.5),
    "cost_per_customer": (450.0, 150.0),  # all spend / buyers
}


def test_every_kpi_has_a_hand_computed_answer() -> None:
    assert set(EXPECTED) == set(KPI_DEFINITIONS)


def test_handmade_values(tiny: Store) -> None:
    report = compute_kpi_report(tiny, go_live=GO_LIVE, bootstrap=0)
    for name, (baseline, after) in EXPECTED.items():
        k = report.get(name)
        assert k.available, (name, k.reason)
        assert (k.baseline, k.after) == (pytest.approx(baseline), pytest.approx(after)), name
        assert k.change_abs == pytest.approx(after - baseline)
        if baseline:
            assert k.change_rel == pytest.approx((after - baseline) / baseline)


def test_by_segment_and_rep(tiny: Store) -> None:
    seg = compute_kpi_report(tiny, go_live=GO_LIVE, bootstrap=0, by="segment", kpis=["csat"])
    assert seg.get("csat", "SMB").baseline == 4.0 and seg.get("csat", "SMB").after == 5.0
    rep = compute_kpi_report(tiny, go_live=GO_LIVE, bootstrap=0, by="rep", kpis=["sales_volume"])
    assert rep.get("sales_volume", "R1").after == 400.0  # D5 + D7
    assert rep.get("sales_volume", "R2").after == 200.0


def test_empty_tables_are_unavailable_never_zero(workspace: Store) -> None:
    report = compute_kpi_report(workspace, go_live=GO_LIVE, bootstrap=0)
    assert len(report.kpis) == len(KPI_DEFINITIONS)
    for k in report.kpis:
        assert not k.available and k.baseline is None and k.change_abs is None
        assert k.reason and k.reason.startswith("no rows in table"), k


def test_uncovered_window_is_unavailable(tiny: Store) -> None:
    report = compute_kpi_report(tiny, go_live=dt.date(2025, 1, 1), bootstrap=0, kpis=["leads"])
    assert not report.kpis[0].available
    reason = report.kpis[0].reason or ""
    assert (
        "leads.created_at (2023-01-01 to 2024-12-31) cover 0.0 of 12 months of the after" in reason
    )
    assert "below the 25% coverage floor" in reason


def test_partial_coverage_by_hand(tiny_raw: Store) -> None:
    """Without the bookends each KPI covers only what its own column covers."""
    report = compute_kpi_report(tiny_raw, go_live=GO_LIVE, bootstrap=0)
    sales = report.get("sales_volume")
    # closes run 2023-03-01 .. 2024-09-01 (that day included): 10 months, 8 + 1/30 months
    assert sales.unit == "USD per covered month"
    assert (sales.baseline, sales.after) == (pytest.approx(19.0), pytest.approx(600 / (8 + 1 / 30)))
    assert sales.coverage is not None and sales.coverage["basis"] == "per covered month"
    assert sales.coverage["baseline"]["start"] == "2023-03-01"
    assert sales.coverage["after"]["end"] == "2024-09-01"
    # rep-months inside the covered span: Mar-Dec 2023 2 reps; Jan-Jun 2024 2, Jul-Sep 1 R1
    per_rep = report.get("sales_per_rep")
    assert per_rep.unit == "USD per rep-month"
    assert per_rep.baseline == pytest.approx(190 / 20)
    assert per_rep.after == pytest.approx(600 / (12 + 2 + 1 / 30))
    # leads 2023-02-01 .. 2024-03-01: the after window has 2 months of 12, below the floor
    leads = report.get("leads")
    assert not leads.available and leads.baseline is None
    assert leads.reason == (
        "leads.created_at (2023-02-01 to 2024-03-01) cover 2.0 of 12 months of the after "
        "window, below the 25% coverage floor"
    )
    # ratios of distinct customers need whole windows
    assert "needs whole windows" in (report.get("revenue_per_customer").reason or "")
    # spend x deals (cac, company windows): spend to 2024-06 (a month), closes to 2024-09-01
    cac = report.get("cac")
    assert cac.coverage is not None and cac.coverage["after"]["end"] == "2024-06-30"


def test_missing_go_live_is_a_user_error(tiny: Store) -> None:
    from crmroi.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="pass --go-live"):
        compute_kpi_report(tiny)


def test_activities_of_unknown_or_missing_reps_go_to_the_account_owner(tiny: Store) -> None:
    """A rep missing from `reps` (RX) or NULL: the call counts for the account owner's team
    (the engine first aggregates without looking reps up, then refetches exactly)."""
    put(tiny, "activities", [
        activity("C7", "2024-03-01 10:00:00", "call", "outbound", "RX", "A1"),
        {**activity("C8", "2024-04-01 10:00:00", "call", "outbound", "R1", "A2"), "rep_id": None},
    ])  # fmt: skip
    report = compute_kpi_report(tiny, go_live=GO_LIVE, bootstrap=0, kpis=["calls_outbound"])
    k = report.get("calls_outbound")
    assert (k.baseline, k.after) == (1.0, 4.0)  # C1; C4, C5 and C7, C8
