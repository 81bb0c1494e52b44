"""Follow-up notifications in the reader's language: e-mail, webhook and iCalendar.

English stays as it was (no `lang`); ru, bg, fa, zh word kinds, subjects and details
from the catalogues, Persian with Persian digits and Solar Hijri dates; the webhook keeps
the machine codes beside the text; the calendar stays valid RFC 5545.
"""

from __future__ import annotations

import re
from email import message_from_bytes

import icalendar
import pandas as pd
import pytest

from crmroi.improve.followups import followups
from crmroi.improve.notify import email_text, ics_text, payload, send_email
from crmroi.reports.i18n import get_lang
from tests.test_improve_followups import AS_OF, _frames, _Inbox, smtp_server  # noqa: F401

CYRILLIC = re.compile(r"[\u0400-\u04FF]")
PERSIAN = re.compile(r"[\u0600-\u06FF]")
HAN = re.compile(r"[\u4e00-\u9fff]")
STAMP = pd.Timestamp("2025-06-30 08:00", tz="UTC")


def _items() -> pd.DataFrame:
    frames = _frames()
    scores = pd.Series({"L1": 0.6, "L2": 0.7, "L3": 0.1})
    return followups(frames, AS_OF, 14, scores, 0.3)


def test_english_is_unchanged_without_a_language() -> None:
    items = _items()
    text = email_text(items, AS_OF)
    assert text.startswith(f"Follow-ups due 2025-06-30: {len(items)}\n\n[P1] ")
    assert "stale_deal deal D1: open deal (Proposal) without activity for 59 days" in text
    assert ics_text(items, AS_OF, STAMP) == ics_text(items, AS_OF, STAMP, get_lang("en"))
    assert "LANGUAGE=" not in ics_text(items, AS_OF, STAMP)


def test_details_keep_their_messages_through_the_frame() -> None:
    """pandas' string dtype would turn each detail into a plain str and lose its message."""
    items = _items()
    codes = {row["kind"]: row["detail_code"] for row in payload(items, AS_OF)["items"]}
    assert codes["stale_deal"] == "stale_deal" and codes["overdue_task"] == "overdue_task"
    assert codes["credit_hold"].startswith("credit_hold")
    assert codes["rep_dependency"] in ("rep_dependency_left", "rep_dependency_leaving")
    assert codes["hot_lead"] == "hot_lead"


@pytest.mark.parametrize(
    ("code", "script"), [("ru", CYRILLIC), ("bg", CYRILLIC), ("fa", PERSIAN), ("zh", HAN)]
)
def test_email_body_in_each_language(code: str, script: re.Pattern[str]) -> None:
    items = _items()
    text = email_text(items, AS_OF, get_lang(code))
    lines = text.splitlines()
    assert len(lines) == len(items) + 2
    for line in lines[2:]:
        detail = line.split(": ", 1)[1] if ": " in line else line.split("：", 1)[1]
        assert script.search(detail), line  # each detail worded, not just the labels
    for english in ("without activity", "nothing logged", "credit on hold", "stale_deal"):
        assert english not in text, english


def test_persian_email_has_persian_digits_and_solar_hijri_dates() -> None:
    text = email_text(_items(), AS_OF, get_lang("fa"))
    assert text.splitlines()[0].startswith("پیگیری‌های سررسید ۹ تیر ۱۴۰۴")  # 2025-06-30
    assert "[P1]" not in text and "[P۱]" in text
    assert "۵۹" in text  # D1 idle 59 days
    assert "2025" not in text


def test_webhook_payload_keeps_machine_codes_beside_the_text() -> None:
    items = _items()
    english = payload(items, AS_OF)
    body = payload(items, AS_OF, get_lang("ru"))
    assert body["language"] == "ru" and "language" not in english
    assert body["as_of"] == english["as_of"] and body["count"] == english["count"]
    for mine, theirs in zip(body["items"], english["items"], strict=True):
        for key in ("kind", "priority", "subject", "subject_id", "detail_code", "since"):
            assert mine[key] == theirs[key], key
        assert CYRILLIC.search(mine["detail"]) and CYRILLIC.search(mine["kind_label"])
    stale = next(i for i in body["items"] if i["kind"] == "stale_deal")
    assert stale["detail_params"] == {"stage": "Proposal", "days": 59}


def test_persian_calendar_is_valid_icalendar_with_persian_text() -> None:
    items = _items()
    raw = ics_text(items, AS_OF, STAMP, get_lang("fa")).encode("utf-8")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert raw.count(b"\r\n") == raw.count(b"\n")
    calendar = icalendar.Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(items)
    for event in events:
        summary, description = event["SUMMARY"], event["DESCRIPTION"]
        assert PERSIAN.search(str(summary)) and PERSIAN.search(str(description))
        assert summary.params["LANGUAGE"] == "fa" and description.params["LANGUAGE"] == "fa"
    first = events[0]
    assert first.decoded("DTSTART").isoformat() == "2025-06-30"  # dates stay Gregorian
    english = list(icalendar.Calendar.from_ical(ics_text(items, AS_OF, STAMP)).walk("VEVENT"))
    assert [str(e["UID"]) for e in events] == [str(e["UID"]) for e in english]


def test_email_in_russian_through_smtp(smtp_server: tuple[int, _Inbox]) -> None:  # noqa: F811
    port, inbox = smtp_server
    items = _items()
    send_email(
        items, AS_OF, host="127.0.0.1", port=port, sender="crm@example.org",
        recipients=["sales@example.org"], lang=get_lang("ru"),
    )  # fmt: skip
    ((_, _, content),) = inbox.messages
    message = message_from_bytes(content)
    assert message["Content-Language"] == "ru"
    subject = str(message["Subject"])
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(subject)))
    assert subject == f"crmroi: задач на 30.06.2025 — {len(items)}"
    body = message.get_payload(decode=True).decode()
    assert CYRILLIC.search(body) and "without activity" not in body
