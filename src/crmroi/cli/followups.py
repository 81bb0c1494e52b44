"""`crmroi followups`: what needs action today (stale deals, overdue tasks, hot leads,
credit holds, rep dependency, key people), shown or sent by e-mail, webhook or calendar."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console
from crmroi.cli.improve import AsOfOption, Format, FormatOption, _day, _frames, _print_json
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.errors import ConfigurationError
from crmroi.messages import M_, N_, Items

if TYPE_CHECKING:
    import pandas as pd


class Channel(StrEnum):
    webhook = "webhook"
    email = "email"
    ics = "ics"


@app.command()
def followups(
    workspace: WorkspaceArg,
    stale_days: Annotated[int, typer.Option(min=1, help="Days without activity.")] = 14,
    as_of: AsOfOption = None,
    hot_threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Lead score that makes a lead hot.")
    ] = 0.3,
    notify: Annotated[
        list[Channel] | None, typer.Option(help="webhook, email or ics (repeatable).")
    ] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Where to POST the JSON.")] = None,
    smtp_host: Annotated[str, typer.Option(help="SMTP server.")] = "localhost",
    smtp_port: Annotated[int, typer.Option(help="SMTP port.")] = 25,
    smtp_starttls: Annotated[bool, typer.Option(help="Upgrade with STARTTLS.")] = False,
    smtp_user: Annotated[
        str | None,
        typer.Option(help="SMTP login; the password is read from CRMROI_SMTP_PASSWORD."),
    ] = None,
    email_from: Annotated[str, typer.Option(help="Sender address.")] = "crmroi@localhost",
    email_to: Annotated[list[str] | None, typer.Option(help="Recipient (repeatable).")] = None,
    ics: Annotated[
        Path | None, typer.Option(help="Calendar file to write (default WORKSPACE/followups.ics).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows shown (table).")] = 40,
    format: FormatOption = Format.table,
    lang: LangOption = None,
) -> None:
    """List what needs action today and optionally send it out.

    The table is in --lang (else the locale's language). The e-mail, webhook and
    calendar are in --lang when given; else an e-mail goes to each recipient in the
    language they saved in the web app (recipients named as web users), and the rest
    in the workspace default (CRMROI_DEFAULT_LANGUAGE, as the web app), else the locale's.
    """
    import os

    from crmroi.improve import notify as send
    from crmroi.improve.followups import followups as find
    from crmroi.improve.followups import open_lead_scores
    from crmroi.improve.frames import data_date

    frames = _frames(workspace, ["reps", "accounts", "leads", "deals", "activities", "orders"])
    day = _day(as_of, "--as-of") or data_date(frames)
    scores, note = open_lead_scores(frames, day)
    items = find(frames, day, stale_days, scores, hot_threshold)
    from crmroi.improve.key_person import key_person_risk

    key_person = key_person_risk(frames, day)
    channels = list(dict.fromkeys(notify or []))
    if Channel.webhook in channels and not webhook_url:
        raise ConfigurationError("--notify webhook needs --webhook-url")
    say = speaker(lang)
    default = _notify_language(lang)
    sent: list[Any] = []
    for channel in channels:
        if channel is Channel.webhook:
            assert webhook_url is not None
            status = send.post_webhook(webhook_url, send.payload(items, day, _lang(default)))
            sent.append(M_("sent_webhook", "webhook: HTTP %(status)s", status=str(status)))
        elif channel is Channel.email:
            recipients = email_to or []
            saved = {} if lang else _saved_languages(workspace, recipients)
            groups: dict[str, list[str]] = {}
            for recipient in recipients:
                groups.setdefault(saved.get(recipient, default), []).append(recipient)
            for code, group in (groups or {default: []}).items():
                send.send_email(
                    items,
                    day,
                    host=smtp_host,
                    port=smtp_port,
                    sender=email_from,
                    recipients=group,
                    starttls=smtp_starttls,
                    username=smtp_user,
                    password=os.environ.get("CRMROI_SMTP_PASSWORD"),
                    lang=_lang(code),
                )
            sent.append(M_("sent_email", "email to %(to)s", to=Items(recipients)))
        else:
            folder = Path(workspace) if "://" not in workspace else Path.cwd()
            path = send.write_ics(items, day, ics or folder / "followups.ics", _lang(default))
            sent.append(M_("sent_calendar", "calendar %(path)s", path=str(path)))
    if format is Format.json:
        payload = {**send.payload(items, day), "sent": [str(s) for s in sent], "note": note}
        _print_json({**payload, "key_person": key_person.to_json()})
    elif format is Format.csv:
        items.to_csv(sys.stdout, index=False)
    else:
        _print_followups(items, day, limit, say)
        summary = "".join(say.say(part) for part in key_person.summary_parts())
        for line in [say.say(note), summary[:1].upper() + summary[1:], *map(say.say, sent)]:
            if line:
                console.print(escape(line))


def _notify_language(lang: Any) -> str:
    """The language of notifications when a recipient has none: --lang, else the
    workspace default of the web app (CRMROI_DEFAULT_LANGUAGE), else the locale's."""
    import os

    from crmroi.languages import LANGUAGES

    if lang:
        return str(lang)
    default = os.environ.get("CRMROI_DEFAULT_LANGUAGE", "")
    return default if default in LANGUAGES else speaker(None).code


def _lang(code: str) -> Any:
    """The `Lang` of `code` (None for English: notifications exactly as before)."""
    if code == "en":
        return None
    from crmroi.reports.i18n import get_lang

    return get_lang(code)


def _saved_languages(workspace: str, usernames: list[str]) -> dict[str, str]:
    """The languages web users saved (`web_user_settings`), for those of `usernames` that
    are web users; {} when the workspace has no web users."""
    from crmroi.languages import LANGUAGES
    from crmroi.store import Store

    if not usernames:
        return {}
    with Store.open(workspace) as store:
        try:
            with store.transaction() as tx:
                mark = getattr(tx, "placeholder", "?")
                marks = ", ".join([mark] * len(usernames))
                rows = tx.execute(
                    "SELECT u.username, s.language FROM web_users u JOIN web_user_settings s "
                    f"ON s.user_id = u.user_id WHERE u.username IN ({marks})",
                    tuple(usernames),
                )
        except Exception:  # no web tables (never served) or a lake: nobody saved one
            return {}
    return {str(u): str(code) for u, code in rows if code in LANGUAGES}


def _print_followups(items: pd.DataFrame, day: pd.Timestamp, limit: int, say: Speaker) -> None:
    from crmroi.improve.notify import detail_text, kind_text

    lang = None if say.english else say.lang
    counts = items["kind"].value_counts().to_dict() if len(items) else {}
    summary = say.items(f"{say.num(n)} {kind_text(str(k), lang)}" for k, n in counts.items())
    nothing = say(N_("nothing"))
    title = M_(
        "followups_title",
        "Follow-ups for %(day)s: %(summary)s",
        day=day.date(),
        summary=summary or nothing,
    )
    table = Table(title=escape(say.say(title)))
    for name in (N_("P"), N_("what"), N_("id"), N_("rep"), N_("detail")):
        table.add_column(escape(say(name)), overflow="fold")
    for row in items.head(limit).to_dict(orient="records"):
        table.add_row(
            say.digits(row["priority"]),
            escape(kind_text(str(row["kind"]), lang)),
            escape(str(row["subject_id"])),
            escape(str(row["rep_id"] or "")),
            escape(detail_text(row["detail"], lang) if lang else str(row["detail"])),
        )
    console.print(table)
    if len(items) > limit:
        more = M_(
            "more_rows", "... and %(n)s more (use --limit or --format csv)", n=len(items) - limit
        )
        console.print(escape(say.say(more)))
