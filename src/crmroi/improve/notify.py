"""Send follow-ups out: a webhook (JSON POST), an email (SMTP), an iCalendar file.

The follow-up frame (`followups.COLUMNS`) is turned into a JSON payload
(`payload`), a plain-text email (`send_email`, smtplib) or all-day reminders in an
RFC 5545 calendar (`write_ics`, written by hand: CRLF lines folded at 75 octets,
text escaped per section 3.3.11).
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from crmroi.errors import UserError
from crmroi.improve.followups import rows_of

PRODID = "-//crmroi//follow-ups//EN"


class NotifyError(UserError):
    """A notification could not be delivered (the message names where and why)."""


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    return value.item() if hasattr(value, "item") else value


def payload(items: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, Any]:
    """The JSON document posted to a webhook: `{"as_of", "count", "items": [...]}`."""
    rows = [
        {str(k): _plain(v) for k, v in row.items()}
        for row in items.astype(object).to_dict(orient="records")
    ]
    return {"as_of": as_of.isoformat(), "count": len(rows), "items": rows}


def post_webhook(url: str, body: dict[str, Any], timeout: float = 10.0) -> int:
    """POST `body` as JSON to `url`; returns the HTTP status (2xx) or raises NotifyError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyError(f"webhook URL {url!r} must start with http:// or https://")
    shown = f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "crmroi"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"webhook {shown} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"webhook {shown} unreachable: {reason}") from exc


def email_text(items: pd.DataFrame, as_of: pd.Timestamp) -> str:
    """The plain-text body: one line per follow-up, most urgent first."""
    lines = [f"Follow-ups due {as_of:%Y-%m-%d}: {len(items)}", ""]
    for r in rows_of(items):
        lines.append(f"[P{r.priority}] {r.kind} {r.subject} {r.subject_id}: {r.detail}")
    return "\n".join(lines) + "\n"


def send_email(
    items: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    host: str,
    port: int,
    sender: str,
    recipients: Sequence[str],
    starttls: bool = False,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 15.0,
) -> None:
    """Send the follow-ups as one plain-text email through an SMTP server."""
    if not recipients:
        raise NotifyError("email: no recipient (use --email-to)")
    message = EmailMessage()
    message["Subject"] = f"crmroi: {len(items)} follow-ups for {as_of:%Y-%m-%d}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(email_text(items, as_of))
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
            if username:
                smtp.login(username, password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(f"email via {host}:{port} failed: {exc}") from exc


def _escape(text: str) -> str:
    """RFC 5545 3.3.11 TEXT escaping."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued with CRLF + space."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def ics_text(items: pd.DataFrame, as_of: pd.Timestamp, stamp: pd.Timestamp | None = None) -> str:
    """An iCalendar (RFC 5545) calendar: one all-day event per follow-up on `as_of`
    (priority 1) or within the week (priority 2: the next day, 3: in five days),
    each with a display alarm at 09:00 that day."""
    stamp = pd.Timestamp.now(tz="UTC") if stamp is None else stamp
    dtstamp = f"{stamp:%Y%m%dT%H%M%SZ}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    for r in rows_of(items):
        day = as_of.normalize() + pd.Timedelta(days={1: 0, 2: 1}.get(int(r.priority), 5))
        key = f"{r.kind}|{r.subject_id}|{as_of:%Y-%m-%d}"
        uid = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20] + "@crmroi"
        summary = f"{r.kind.replace('_', ' ')}: {r.subject} {r.subject_id}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + pd.Timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(str(r.detail))}",
            f"PRIORITY:{ {1: 1, 2: 5}.get(int(r.priority), 9) }",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{_escape(summary)}",
            "TRIGGER;RELATED=START:PT9H",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def write_ics(items: pd.DataFrame, as_of: pd.Timestamp, path: Path) -> Path:
    """Write `ics_text` to `path` (UTF-8, CRLF line ends)."""
    try:
        path.write_bytes(ics_text(items, as_of).encode("utf-8"))
    except OSError as exc:
        raise NotifyError(f"{path}: cannot write the calendar ({exc.strerror})") from exc
    return path
