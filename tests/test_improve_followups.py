"""Follow-up rules on hand-made data, and the notifications against real local servers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import icalendar
import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from crmroi.improve.followups import (
    COLUMNS,
    credit_holds,
    followups,
    hot_leads,
    overdue_tasks,
    rep_dependencies,
    stale_deals,
)
from crmroi.improve.notify import (
    NotifyError,
    ics_text,
    payload,
    post_webhook,
    send_email,
    write_ics,
)

AS_OF = pd.Timestamp("2025-06-30 12:00")
T = pd.Timestamp


def _activities(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    cols = ["activity_id", "occurred_at", "kind", "rep_id", "account_id", "lead_id", "deal_id"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    return frame


def _frames() -> dict[str, pd.DataFrame]:
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "name": ["Ann", "Bob", "Cy"],
            "team": ["A"] * 3,
            "region": ["EMEA"] * 3,
            "hired_on": pd.to_datetime(["2020-01-01"] * 3),
            "left_on": pd.to_datetime([None, "2025-07-15", "2025-03-01"]),
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "name": ["Acme", "Bolt", "Crux", "Dyn"],
            "segment": ["SMB"] * 4,
            "industry": ["x"] * 4,
            "region": ["EMEA"] * 4,
            "country": ["DE"] * 4,
            "created_at": pd.to_datetime(["2020-01-01"] * 4),
            "owner_rep_id": ["R1", "R2", "R3", "R1"],
            "credit_status": ["ok", "hold", "hold", "hold"],
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4"],
            "account_id": ["A1", "A1", "A2", "A1"],
            "owner_rep_id": ["R1", "R1", "R2", "R1"],
            "created_at": pd.to_datetime(["2025-05-01", "2025-06-01", "2025-06-20", "2025-01-01"]),
            "stage": ["Proposal", "Qualification", "Proposal", "Closed Lost"],
            "is_closed": [False, False, False, True],
            "is_won": [False, False, False, False],
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "created_at": pd.to_datetime(["2025-06-25"] * 3),
            "source": ["referral", "web", "referral"],
            "status": ["working"] * 3,
            "owner_rep_id": ["R1"] * 3,
            "converted_at": pd.to_datetime([None] * 3),
        }
    )
    activities = _activities(
        [
            ("X1", "2025-05-02", "call", "R1", "A1", None, "D1"),  # D1 idle since May 2
            ("X2", "2025-06-25", "email", "R1", "A1", None, "D2"),  # D2 recent
            ("X3", "2025-06-10", "task", "R1", "A1", None, "D2"),  # task done: X2 came later
            ("X4", "2025-06-20", "task", "R2", "A2", None, "D3"),  # overdue: nothing after
            ("X5", "2025-06-20", "task", "R1", "A1", None, "D4"),  # closed deal: ignored
            ("X6", "2025-06-27", "call", "R1", None, "L2", None),  # L2 contacted
            ("X7", "2025-07-03", "visit", "R3", "A3", None, None),  # planned visit, on hold
        ]
        + [(f"B{i}", f"2025-06-{i + 1:02d}", "call", "R2", "A2", None, None) for i in range(9)]
        + [("B9", "2025-06-15", "call", "R1", "A2", None, None)]  # A2: R2 has 10 of 11
        + [(f"C{i}", f"2025-02-{i + 1:02d}", "email", "R3", "A3", None, None) for i in range(6)]
    )
    return {
        "reps": reps,
        "accounts": accounts,
        "deals": deals,
        "leads": leads,
        "activities": activities,
    }


def test_stale_deals() -> None:
    f = _frames()
    found = stale_deals(f["deals"], f["activities"], AS_OF, stale_days=14)
    assert list(found.columns) == COLUMNS
    assert found.subject_id.tolist() == ["D1"]  # D2 recent, D3 new, D4 closed
    assert found.priority.tolist() == [1] and "59 days" in found.detail[0]


def test_overdue_tasks_skip_done_and_closed() -> None:
    f = _frames()
    found = overdue_tasks(f["activities"], AS_OF, closed={"deal:D4"})
    assert found.subject_id.tolist() == ["D3"]
    assert found.detail[0] == "task X4 due 2025-06-20, nothing logged since"


def test_hot_leads_not_contacted() -> None:
    f = _frames()
    scores = pd.Series({"L1": 0.6, "L2": 0.7, "L3": 0.1})
    found = hot_leads(f["leads"], f["activities"], scores, AS_OF, threshold=0.3)
    assert found.subject_id.tolist() == ["L1"]  # L2 was called, L3 is cold
    assert found.detail[0] == "60% likely to convert (referral), not contacted yet"


def test_credit_holds_with_open_deals_or_planned_visits() -> None:
    f = _frames()
    found = credit_holds(f["accounts"], f["deals"], f["activities"], AS_OF).set_index("subject_id")
    assert sorted(found.index) == ["A2", "A3"]  # A4 is on hold but has nothing planned
    assert "1 open deal(s)" in found.loc["A2", "detail"]
    assert "planned 2025-07-03" in found.loc["A3", "detail"]
    assert found.loc["A3", "priority"] == 1


def test_rep_dependencies_leaving_and_left() -> None:
    f = _frames()
    found = rep_dependencies(f["accounts"], f["activities"], f["reps"], AS_OF).set_index(
        "subject_id"
    )
    assert sorted(found.index) == ["A2", "A3"]
    assert found.loc["A2", "rep_id"] == "R2"
    assert "R2 (leaves 2025-07-15) logged 91% of 11 activities" in found.loc["A2", "detail"]
    # R3 left on 2025-03-01; the planned visit of July is not a contact since
    assert found.loc["A3", "detail"].endswith("nobody since")


def test_followups_sorted_by_priority() -> None:
    f = _frames()
    items = followups(f, AS_OF, 14, pd.Series({"L1": 0.6}), 0.3)
    assert items.priority.is_monotonic_increasing
    assert set(items.kind) == {
        "stale_deal",
        "overdue_task",
        "credit_hold",
        "rep_dependency",
        "hot_lead",
    }


def test_no_hot_lead_means_no_row() -> None:
    # Regression: with every candidate below the threshold, `frame[mask].assign(...)`
    # turned the empty selection into one all-null row per candidate.
    f = _frames()
    scores = pd.Series({"L1": 0.2, "L2": 0.7, "L3": 0.1})
    found = hot_leads(f["leads"], f["activities"], scores, AS_OF, threshold=0.3)
    assert list(found.columns) == COLUMNS and found.empty


def test_no_stale_deal_means_no_row() -> None:
    f = _frames()
    found = stale_deals(f["deals"], f["activities"], AS_OF, stale_days=365)
    assert list(found.columns) == COLUMNS and found.empty


def test_hot_leads_carry_the_lead_rep_and_source() -> None:
    f = _frames()
    f["leads"]["owner_rep_id"] = ["R1", "R2", "R3"]
    f["leads"]["source"] = ["referral", "web", "event"]
    f["leads"].index = [10, 20, 30]  # not a RangeIndex
    scores = pd.Series({"L1": 0.6, "L3": 0.4, "L9": 0.9})  # L9 is not a lead
    found = hot_leads(f["leads"], f["activities"], scores, AS_OF, threshold=0.3)
    assert found[["subject_id", "rep_id"]].values.tolist() == [["L1", "R1"], ["L3", "R3"]]
    assert found.detail.tolist() == [
        "60% likely to convert (referral), not contacted yet",
        "40% likely to convert (event), not contacted yet",
    ]


def test_nothing_due_gives_no_null_rows() -> None:
    f = _frames()
    items = followups(f, AS_OF, 365, pd.Series({"L1": 0.01, "L3": 0.02}), 0.3)
    assert not {"stale_deal", "hot_lead"} & set(items.kind)
    assert items["subject_id"].notna().all() and items["rep_id"].notna().all()


# -- notifications ----------------------------------------------------------------------


def _items() -> pd.DataFrame:
    f = _frames()
    return followups(f, AS_OF, 14, pd.Series({"L1": 0.6}), 0.3)


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    status = 204

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        _Receiver.received.append((self.headers["Content-Type"], body))
        self.send_response(_Receiver.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received, _Receiver.status = [], 204
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox(Sink):
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_webhook_posts_json(http_receiver: str) -> None:
    items = _items()
    status = post_webhook(http_receiver, payload(items, AS_OF))
    assert status == 204
    ((content_type, body),) = _Receiver.received
    assert content_type == "application/json"
    assert body["count"] == len(items) and body["as_of"] == "2025-06-30T12:00:00"
    assert {i["kind"] for i in body["items"]} >= {"stale_deal", "hot_lead"}
    assert body["items"][0]["priority"] == 1


def test_webhook_errors_are_one_line(http_receiver: str) -> None:
    _Receiver.status = 500
    with pytest.raises(NotifyError, match=r"^webhook http://127\.0\.0\.1:\d+ answered HTTP 500$"):
        post_webhook(http_receiver, {"count": 0})
    with pytest.raises(NotifyError, match="unreachable"):
        post_webhook(f"http://127.0.0.1:{_free_port()}/", {}, timeout=2)
    with pytest.raises(NotifyError, match="must start with http"):
        post_webhook("ftp://example.org/", {})


def test_email_through_local_smtp(smtp_server: tuple[int, _Inbox]) -> None:
    port, inbox = smtp_server
    items = _items()
    send_email(
        items,
        AS_OF,
        host="127.0.0.1",
        port=port,
        sender="crm@example.org",
        recipients=["sales@example.org", "boss@example.org"],
    )
    ((sender, recipients, content),) = inbox.messages
    assert sender == "crm@example.org"
    assert recipients == ["sales@example.org", "boss@example.org"]
    message = message_from_bytes(content)
    assert message["Subject"] == f"crmroi: {len(items)} follow-ups for 2025-06-30"
    text = message.get_payload(decode=True).decode()
    assert "[P1] stale_deal deal D1" in text and "credit on hold" in text


def test_email_to_a_closed_port_is_a_notify_error() -> None:
    with pytest.raises(NotifyError, match=r"email via 127\.0\.0\.1:\d+ failed"):
        send_email(
            _items(),
            AS_OF,
            host="127.0.0.1",
            port=_free_port(),
            sender="a@b",
            recipients=["c@d"],
            timeout=2,
        )


def test_ics_parses_back(tmp_path: Path) -> None:
    items = _items()
    items.loc[0, "detail"] = "comma, semicolon; backslash \\ and a very long line " * 4
    path = write_ics(items, AS_OF, tmp_path / "f.ics")
    raw = path.read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF only
    calendar = icalendar.Calendar.from_ical(raw)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == len(items)
    first = events[0]
    assert str(first["DESCRIPTION"]) == items.loc[0, "detail"]
    assert first.decoded("DTSTART").isoformat() == "2025-06-30"
    assert len({str(e["UID"]) for e in events}) == len(events)
    alarms = list(first.walk("VALARM"))
    assert alarms and str(alarms[0]["ACTION"]) == "DISPLAY"


def test_ics_is_stable_for_the_same_day() -> None:
    items = _items()
    stamp = pd.Timestamp("2025-06-30 08:00", tz="UTC")
    assert ics_text(items, AS_OF, stamp) == ics_text(items, AS_OF, stamp)


# -- on the demo company, checked against the canonical tables ---------------------------


def _table(folder: Path, sql: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(folder / "workspace.duckdb"), read_only=True) as con:
        return con.execute(sql).df()


@pytest.mark.parametrize(
    ("threshold", "stale_days"), [("0.3", "14"), ("0.0", "1")], ids=["defaults", "everything"]
)
def test_demo_followups_name_real_records(
    small_demo_folder: Path, threshold: str, stale_days: str
) -> None:
    from typer.testing import CliRunner

    from crmroi.cli import app

    result = CliRunner().invoke(
        app,
        [
            "followups",
            str(small_demo_folder),
            "--format",
            "json",
            "--hot-threshold",
            threshold,
            "--stale-days",
            stale_days,
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    items = pd.DataFrame(payload["items"], columns=COLUMNS)
    as_of = pd.Timestamp(payload["as_of"])
    assert items["subject_id"].notna().all()
    assert items["since"].notna().all()
    assert not items["detail"].str.contains("nan").any()

    leads = _table(
        small_demo_folder, "SELECT lead_id, owner_rep_id, source, created_at FROM leads"
    ).set_index("lead_id")
    contacted = set(
        _table(
            small_demo_folder,
            "SELECT DISTINCT lead_id FROM activities "
            f"WHERE lead_id IS NOT NULL AND occurred_at <= TIMESTAMP '{as_of}'",
        )["lead_id"]
    )
    hot = items[items["kind"] == "hot_lead"]
    if threshold == "0.0":
        assert len(hot) > 0  # every uncontacted scored lead is hot
    assert hot["subject_id"].is_unique
    for row in hot.itertuples():
        lead = leads.loc[row.subject_id]
        assert row.rep_id == lead["owner_rep_id"]
        assert f"({lead['source']})" in row.detail
        assert pd.Timestamp(row.since) == pd.Timestamp(lead["created_at"])
        assert row.subject_id not in contacted
        percent = float(row.detail.split("%", 1)[0])
        assert percent >= 100 * float(threshold) - 0.5

    deals = _table(
        small_demo_folder, "SELECT deal_id, account_id, owner_rep_id, stage, is_closed FROM deals"
    ).set_index("deal_id")
    stale = items[items["kind"] == "stale_deal"]
    if stale_days == "1":
        assert len(stale) > 0
    for row in stale.itertuples():
        deal = deals.loc[row.subject_id]
        assert not deal["is_closed"]
        assert (row.account_id, row.rep_id) == (deal["account_id"], deal["owner_rep_id"])
        assert f"({deal['stage']})" in row.detail
        idle = int(row.detail.rsplit(" for ", 1)[1].split()[0])
        assert idle >= int(stale_days)

    accounts = _table(
        small_demo_folder, "SELECT account_id, owner_rep_id, credit_status FROM accounts"
    ).set_index("account_id")
    for row in items[items["kind"] == "credit_hold"].itertuples():
        account = accounts.loc[row.subject_id]
        assert row.account_id == row.subject_id and row.rep_id == account["owner_rep_id"]
        assert str(account["credit_status"]).lower() == "hold"
    for row in items[items["kind"].isin(["overdue_task", "rep_dependency"])].itertuples():
        assert row.rep_id is not None


def test_stale_deals_without_any_activity_fall_back_to_creation() -> None:
    """A workspace with deals but no activities yet (a first import) still lists stale deals."""
    from crmroi.improve.followups import overdue_tasks, stale_deals

    as_of = pd.Timestamp("2024-06-30")
    deals = pd.DataFrame(
        {
            "deal_id": ["d1", "d2"],
            "account_id": ["a1", "a2"],
            "owner_rep_id": ["r1", "r2"],
            "stage": ["Prospecting", "Proposal"],
            "is_closed": [False, False],
            "created_at": pd.to_datetime(["2024-01-01", "2024-06-25"]),
        }
    )
    activities = pd.DataFrame(
        {
            "deal_id": pd.Series([], dtype=object),
            "occurred_at": pd.Series([], dtype="datetime64[ns]"),
        }
    )
    found = stale_deals(deals, activities, as_of, stale_days=14)
    assert list(found["subject_id"]) == ["d1"]
    assert list(found["since"]) == [pd.Timestamp("2024-01-01")]
    assert overdue_tasks(activities, as_of).empty  # no activity, no task overdue
