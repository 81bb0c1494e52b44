"""Weekly adoption per team and rep, records per rep-day, open deals with a next activity
and field completeness (crmroi.kpi.adoption_weekly), by hand on small frames and against
an independent count on the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from crmroi.kpi.adoption import HAND_KINDS
from crmroi.kpi.adoption_weekly import (
    field_completeness,
    measure_usage,
    next_activity_share,
    weekly_usage,
)
from crmroi.store import Store

MON = dt.date(2024, 6, 3)  # a Monday


def _d(n: int) -> dt.date:
    return MON + dt.timedelta(days=n)


REPS = pd.DataFrame(
    {
        "rep_id": ["R1", "R2", "R3", "R4", "R5"],
        "team": ["A", "A", "A", "B", "A"],
        "hired_on": [None, None, _d(2), None, None],
        "left_on": [None, None, None, None, MON],
    }
)


def _events() -> pd.DataFrame:
    rows = [
        # R1 logs on Mon, Tue, Wed (3 of 5 days: active), one deal, two leads
        ("R1", _d(0), "activity", 1), ("R1", _d(1), "activity", 1), ("R1", _d(2), "activity", 1),
        ("R1", _d(1), "deal", 1), ("R1", _d(3), "lead", 2),
        # R2 logs on 2 of 5 days: not active (2 < 2.5)
        ("R2", _d(0), "activity", 1), ("R2", _d(4), "activity", 1),
        # R3 hired Wednesday (3 working days), logs on 2: active; one lead
        ("R3", _d(2), "activity", 1), ("R3", _d(3), "activity", 1), ("R3", _d(3), "lead", 1),
        # R4's team B goes live in July: employed, never active, records not counted
        *[("R4", _d(i), "activity", 3) for i in range(5)],
        # R5 left on Monday: no working day employed this week
        ("R5", _d(0), "activity", 4),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["rep_id", "day", "what", "n"])


def test_weekly_usage_by_hand() -> None:
    weeks, reps = weekly_usage(REPS, _events(), MON, {"B": dt.date(2024, 7, 1)}, until=_d(6))
    assert len(weeks) == 1
    w = weeks[0]
    assert (w.week, w.employed, w.live, w.active) == (MON, 4, 3, 2)
    assert w.share == pytest.approx(2 / 4)
    assert w.by_team == {"A": (2, 3), "B": (0, 1)}
    # live reps' records: R1 3 + 1 + 2, R2 2, R3 2 + 1 = 11 over 5 + 5 + 3 working days
    assert (w.records, w.live_days) == (11, 13)
    assert w.records_per_rep_day == pytest.approx(11 / 13)
    by_rep = {r.rep_id: r for r in reps}
    assert set(by_rep) == {"R1", "R2", "R3", "R4"}
    r1 = by_rep["R1"]
    assert (r1.work_days, r1.days_logged, r1.active, r1.deals, r1.leads, r1.activities) == (
        5, 3, True, 1, 2, 3
    )  # fmt: skip
    assert (by_rep["R3"].work_days, by_rep["R3"].active) == (3, True)
    assert (by_rep["R4"].live, by_rep["R4"].active, by_rep["R4"].activities) == (False, False, 15)


def test_weekly_usage_stops_at_until() -> None:
    """Up to Wednesday: R1 logs 3 of 3 days, R2 1 of 3, R3 1 of 1; nothing after counts."""
    weeks, _ = weekly_usage(REPS, _events(), MON, {"B": dt.date(2024, 7, 1)}, until=_d(2))
    w = weeks[0]
    assert (w.employed, w.active, w.live_days) == (4, 2, 3 + 3 + 1)
    assert w.records == 3 + 1 + 1 + 1  # R1's leads on Thursday and R3's lead fall after


def test_weekly_usage_empty_before_go_live() -> None:
    assert weekly_usage(REPS, _events(), dt.date(2025, 1, 1)) == ([], [])


def _deals() -> pd.DataFrame:
    t = dt.datetime
    return pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4", "D5", "D6"],
            "created_at": [t(2024, 5, 1)] * 3 + [t(2024, 7, 1)] + [t(2024, 5, 1)] * 2,
            "closed_at": [None, None, t(2024, 6, 1), None, t(2024, 6, 20), None],
            "is_closed": [False, False, True, False, True, True],
        }
    )


def test_next_activity_share_by_hand() -> None:
    """Open on 2024-06-10: D1, D2 and D5 (closed later); D3 closed before, D4 not yet
    created, D6 closed on an unknown day. D1 and D5 have an activity dated after."""
    acts = pd.DataFrame(
        {
            "deal_id": ["D1", "D3", "D5", "D2", None],
            "occurred_at": [
                dt.datetime(2024, 6, 12),
                dt.datetime(2024, 6, 12),
                dt.datetime(2024, 6, 11),
                dt.datetime(2024, 6, 9),  # before the as-of day: not a next activity
                dt.datetime(2024, 6, 15),
            ],
        }
    )
    n = next_activity_share(_deals(), acts, dt.date(2024, 6, 10))
    assert (n.open_deals, n.with_next, n.reason) == (3, 2, None)
    assert n.share == pytest.approx(2 / 3)


def test_next_activity_unavailable_without_scheduled_activities() -> None:
    acts = pd.DataFrame({"deal_id": ["D1"], "occurred_at": [dt.datetime(2024, 6, 9)]})
    n = next_activity_share(_deals(), acts, dt.date(2024, 6, 10))
    assert n.share is None and n.with_next is None and n.open_deals == 3
    assert n.reason is not None and "no activity dated after 2024-06-10" in n.reason
    assert n.to_json()["unavailable"] == n.reason


def test_field_completeness_by_hand() -> None:
    deals = _deals().assign(
        amount=[1.0, None, 3.0, 4.0, 5.0, 6.0],
        source=["web", "", "  ", None, "fair", "web"],
        account_id=["A"] * 6,
        owner_rep_id=["R1"] * 5 + [None],
    )
    leads = pd.DataFrame(
        {
            "created_at": [dt.datetime(2024, 1, 1)] * 2,
            "source": ["web", None],
            "owner_rep_id": ["R1", "R2"],
        }
    )
    c = field_completeness({"deals": deals, "leads": leads}, {"R1": "A", "R2": "B"})
    assert set(c.fields) == {"deals", "leads"}
    assert c.fields["deals"]["amount"] == (5, 6)
    assert c.fields["deals"]["source"] == (3, 6)  # blank and spaces are missing
    assert c.fields["deals"]["closed_at"] == (2, 3)  # closed deals only: D6 has no date
    assert c.fields["deals"]["owner_rep_id"] == (5, 6)
    assert c.share("leads", "source") == pytest.approx(0.5)
    # per team of the owner: D1-D5 are R1's (team A), D6 has no owner ('')
    assert c.by_team["deals"]["A"]["amount"] == (4, 5)
    assert c.by_team["deals"][""]["owner_rep_id"] == (0, 1)
    assert c.by_team["leads"]["B"]["source"] == (0, 1)


def test_demo_week_against_an_independent_count(small_demo_folder: Path) -> None:
    """Records of the last full week on the demo, counted straight from the tables."""
    with Store.open(small_demo_folder) as store:
        usage = measure_usage(store, dt.date(2100, 1, 1))  # capped at the data's last day
        acts = store.table("activities").select("rep_id", "kind", "occurred_at").to_pandas()
        deals = store.table("deals").select("owner_rep_id", "created_at").to_pandas()
        leads = store.table("leads").select("owner_rep_id", "created_at").to_pandas()
    week = usage.weeks[-2]
    start, end = pd.Timestamp(week.week), pd.Timestamp(week.week + dt.timedelta(days=7))
    live = {r.rep_id for r in usage.rep_weeks if r.week == week.week and r.live}

    def count(frame: pd.DataFrame, rep: str, when: str) -> int:
        inside = (frame[when] >= start) & (frame[when] < end) & frame[rep].isin(live)
        return int(inside.sum())

    hand = acts[acts["kind"].isin(HAND_KINDS)]
    expected = (
        count(hand, "rep_id", "occurred_at")
        + count(deals, "owner_rep_id", "created_at")
        + count(leads, "owner_rep_id", "created_at")
    )
    assert week.records == expected > 0
    assert sum(r.active for r in usage.rep_weeks if r.week == week.week) == week.active
    assert usage.weeks[-1].week <= dt.date(2026, 1, 1)


def test_maven_completeness_against_the_raw_file(workspace: Store) -> None:
    """Field completeness on the real Maven CRM export equals the counts taken from the
    CSV with pandas (open deals carry no account, close date or value)."""
    from crmroi.ingest.pipeline import import_files
    from crmroi.kpi.adoption_weekly import COMPLETENESS_FIELDS
    from tests.conftest import shared_data

    folder = shared_data("maven_crm")
    files = [folder / n for n in ("sales_teams.csv", "accounts.csv", "sales_pipeline.csv")]
    examples = Path(__file__).resolve().parents[1] / "examples"
    import_files(workspace, files, mapping=examples / "maven_crm.yaml")
    cols = [*COMPLETENESS_FIELDS["deals"], "is_closed"]
    c = field_completeness({"deals": workspace.table("deals").select(*cols).to_pandas()})
    raw = pd.read_csv(folder / "sales_pipeline.csv")
    closed = raw[raw.deal_stage.isin(["Won", "Lost"])]
    n = len(raw)
    assert c.fields["deals"]["account_id"] == (int(raw.account.notna().sum()), n)
    assert c.fields["deals"]["amount"] == (int(raw.close_value.notna().sum()), n)
    assert c.fields["deals"]["created_at"] == (int(raw.engage_date.notna().sum()), n)
    assert c.fields["deals"]["closed_at"] == (int(closed.close_date.notna().sum()), len(closed))
    assert c.fields["deals"]["source"] == (0, n)  # the export has no lead source
    assert c.share("deals", "account_id") is not None
    assert c.share("deals", "account_id") < 1.0


def test_scheduled_activities_counted_after_the_workspace_day(
    small_demo_folder: Path, tmp_path: Path
) -> None:
    """Activities dated after the workspace's last day (its latest record, never later
    than today) are scheduled. On a copy of the demo, one open deal gets a meeting dated
    2099: it is past today so it does not move the last day (2025-12-31), and it gives
    that deal a next activity."""
    import shutil

    from crmroi.kpi.adoption_weekly import last_recorded_day

    folder = tmp_path / "ws"
    shutil.copytree(small_demo_folder, folder)
    with Store.open(folder) as store:
        last = last_recorded_day(store)
        assert last == dt.date(2025, 12, 31)
        assert last_recorded_day(store, dt.date(2025, 6, 30)) == dt.date(2025, 6, 30)
        before = measure_usage(store, dt.date(2100, 1, 1)).next_activity
        assert before.share is None and before.open_deals > 0
        deals = store.table("deals")
        open_id = deals.filter(~deals.is_closed).deal_id.execute().iloc[0]
        store.backend.con.execute(
            "INSERT INTO activities (activity_id, occurred_at, kind, deal_id) "
            "VALUES ('future', TIMESTAMP '2099-01-05 10:00:00', 'meeting', ?)",
            [str(open_id)],
        )
        after = measure_usage(store, dt.date(2100, 1, 1)).next_activity
    assert after.as_of == dt.date(2025, 12, 31)
    assert (after.with_next, after.open_deals) == (1, before.open_deals)
