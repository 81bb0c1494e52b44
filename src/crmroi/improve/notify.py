"""Send follow-ups out: a webhook (JSON POST), an email (SMTP), an iCalendar file.

The follow-up frame (`followups.COLUMNS`) is turned into a JSON payload
(`payload`), a plain-text email (`send_email`, smtplib) or all-day reminders in an
RFC 5545 calendar (`write_ics`, written by hand: CRLF lines folded at 75 octets,
text escaped per section 3.3.11).

Each is worded in a reader's language (`lang`, a `crmroi.reports.i18n.Lang`; English
when None, byte for byte as before): kinds and subjects by their labels, details
worded from their messages (numbers in the reader's digits, dates in the reader's
calendar: Solar Hijri in Persian). The webhook keeps the machine codes beside the
text (`kind`, `subject`, `detail_code`, `detail_params`), and the calendar's dates stay
Gregorian (`CALSCALE:GREGORIAN`, what every calendar program reads) while its texts
carry their `LANGUAGE` (RFC 5545 3.2.10).
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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pandas as pd

from crmroi.errors import UserError
from crmroi.improve.followups import rows_of
from crmroi.messages import M_, Message, Said, render

if TYPE_CHECKING:
    from crmroi.reports.i18n import Lang

PRODID = "-//crmroi//follow-ups//EN"


class NotifyError(UserError):
    """A notification could not be delivered (the message names where and why)."""


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    return value.item() if hasattr(value, "item") else value


def _english(lang: Lang | None) -> bool:
    return lang is None or lang.code == "en"


def kind_text(kind: str, lang: Lang | None) -> str:
    """A follow-up kind as a reader reads it ('stale deal'; its label in `lang`)."""
    if _english(lang):
        return kind.replace("_", " ")
    assert lang is not None
    from crmroi.reports.labels import FOLLOWUP_LABELS

    return lang.gettext(FOLLOWUP_LABELS.get(kind, kind.replace("_", " ")))


def subject_text(subject: str, lang: Lang | None) -> str:
    """A follow-up subject ('deal', 'lead', 'account', ...) in `lang`."""
    return subject if _english(lang) or lang is None else lang.gettext(subject)


def detail_text(detail: Any, lang: Lang | None) -> str:
    """A follow-up detail in `lang` (worded from its message when it has one)."""
    if detail is None or (isinstance(detail, float) and detail != detail):
        return ""
    return str(detail) if _english(lang) or lang is None else render(detail, lang)


def payload(items: pd.DataFrame, as_of: pd.Timestamp, lang: Lang | None = None) -> dict[str, Any]:
    """The JSON document posted to a webhook: `{"as_of", "count", "items": [...]}`.

    Each item keeps its machine fields (`kind`, `subject`, ids, `since`) and carries
    `detail_code` (the stable code of its detail, None for a plain text) beside
    `detail`; with `lang` the document says its `language`, and `kind_label` and
    `detail` are worded in it (`detail_params` keep the raw parameters)."""
    rows = []
    for row in items.astype(object).to_dict(orient="records"):
        out = {str(k): _plain(v) for k, v in row.items()}
        detail = row.get("detail")
        message = detail.message if isinstance(detail, Said) else None
        out["detail_code"] = message.code if message is not None else None
        if lang is not None:
            out["detail"] = detail_text(detail, lang)
            out["kind_label"] = kind_text(str(row.get("kind")), lang)
            out["detail_params"] = (
                {k: _param(v) for k, v in message.params.items()} if message else {}
            )
        rows.append(out)
    body: dict[str, Any] = {"as_of": as_of.isoformat(), "count": len(rows), "items": rows}
    if lang is not None:
        body["language"] = lang.code
    return body


def _param(value: Any) -> Any:
    """A message parameter as JSON: numbers and dates as machine values."""
    if isinstance(value, Message):
        return {"code": value.code, "params": {k: _param(v) for k, v in value.params.items()}}
    inner = getattr(value, "value", value)
    if hasattr(inner, "isoformat"):
        return inner.isoformat()
    return _plain(inner)


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


def email_text(items: pd.DataFrame, as_of: pd.Timestamp, lang: Lang | None = None) -> str:
    """The plain-text body: one line per follow-up, most urgent first (in `lang`)."""
    if _english(lang) or lang is None:
        lines = [f"Follow-ups due {as_of:%Y-%m-%d}: {len(items)}", ""]
        for r in rows_of(items):
            lines.append(f"[P{r.priority}] {r.kind} {r.subject} {r.subject_id}: {r.detail}")
        return "\n".join(lines) + "\n"
    head = M_(
        "followups_due", "Follow-ups due %(day)s: %(count)s", day=as_of.date(), count=len(items)
    )
    lines = [head.render(lang), ""]
    for r in rows_of(items):
        priority = lang.localise_digits(f"P{r.priority}")
        what = f"{kind_text(str(r.kind), lang)} {subject_text(str(r.subject), lang)}"
        lines.append(f"[{priority}] {what} {r.subject_id}: {detail_text(r.detail, lang)}")
    return "\n".join(lines) + "\n"


def email_subject(count: int, as_of: pd.Timestamp, lang: Lang | None = None) -> str:
    """The e-mail's subject line ('crmroi: 5 follow-ups for 2025-06-30')."""
    if _english(lang) or lang is None:
        return f"crmroi: {count} follow-ups for {as_of:%Y-%m-%d}"
    said = M_(
        "followups_subject",
        "crmroi: %(count)s follow-ups for %(day)s",
        count=count,
        day=as_of.date(),
    )
    return said.render(lang)


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
    lang: Lang | None = None,
) -> None:
    """Send the follow-ups as one plain-text email through an SMTP server (in `lang`)."""
    if not recipients:
        raise NotifyError("email: no recipient (use --email-to)")
    message = EmailMessage()
    message["Subject"] = email_subject(len(items), as_of, lang)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(email_text(items, as_of, lang))
    if lang is not None:  # after set_content, which clears the Content-* headers
        message["Content-Language"] = lang.code
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


def ics_text(
    items: pd.DataFrame,
    as_of: pd.Timestamp,
    stamp: pd.Timestamp | None = None,
    lang: Lang | None = None,
) -> str:
    """An iCalendar (RFC 5545) calendar: one all-day event per follow-up on `as_of`
    (priority 1) or within the week (priority 2: the next day, 3: in five days),
    each with a display alarm at 09:00 that day; summaries and descriptions in `lang`
    (marked with its LANGUAGE parameter; English as before, unmarked)."""
    tag = "" if _english(lang) or lang is None else f";LANGUAGE={lang.code}"
    stamp = pd.Timestamp.now(tz="UTC") if stamp is None else stamp
    dtstamp = f"{stamp:%Y%m%dT%H%M%SZ}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    for r in rows_of(items):
        day = as_of.normalize() + pd.Timedelta(days={1: 0, 2: 1}.get(int(r.priority), 5))
        key = f"{r.kind}|{r.subject_id}|{as_of:%Y-%m-%d}"
        uid = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20] + "@crmroi"
        what = f"{subject_text(str(r.subject), lang)} {r.subject_id}"
        summary = f"{kind_text(str(r.kind), lang)}: {what}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + pd.Timedelta(days=1):%Y%m%d}",
            f"SUMMARY{tag}:{_escape(summary)}",
            f"DESCRIPTION{tag}:{_escape(detail_text(r.detail, lang))}",
            f"PRIORITY:{ {1: 1, 2: 5}.get(int(r.priority), 9) }",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION{tag}:{_escape(summary)}",
            "TRIGGER;RELATED=START:PT9H",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def write_ics(
    items: pd.DataFrame, as_of: pd.Timestamp, path: Path, lang: Lang | None = None
) -> Path:
    """Write `ics_text` to `path` (UTF-8, CRLF line ends), in `lang`."""
    try:
        path.write_bytes(ics_text(items, as_of, lang=lang).encode("utf-8"))
    except OSError as exc:
        raise NotifyError(f"{path}: cannot write the calendar ({exc.strerror})") from exc
    return path
