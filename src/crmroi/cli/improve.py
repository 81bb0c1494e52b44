"""`crmroi score | segments | followups | clv`: use the CRM's data to raise the return."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console, err_console
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.errors import ConfigurationError
from crmroi.messages import M_, N_, Items, Num

if TYPE_CHECKING:
    import pandas as pd

    from crmroi.improve.scoring import ScoringReport


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[Format, typer.Option("--format", help="table, json or csv.")]
AsOfOption = Annotated[
    str | None,
    typer.Option(help="The day to act on, YYYY-MM-DD (default: the workspace's latest record)."),
]


def _day(value: str | None, option: str) -> pd.Timestamp | None:
    import pandas as pd

    if value is None:
        return None
    from crmroi.calendars import parse_day

    return pd.Timestamp(parse_day(value, option))


def _frames(workspace: str, names: list[str]) -> dict[str, pd.DataFrame]:
    from crmroi.improve.frames import load_frames
    from crmroi.store import Store

    with Store.open(workspace) as store:
        return load_frames(store, names)


def _jsonable(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _jsonable(v) for k, v in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=_jsonable) + "\n")


@app.command()
def score(
    workspace: WorkspaceArg,
    train_until: Annotated[
        str | None,
        typer.Option(help="Train on records created before this day, test on the rest."),
    ] = None,
    as_of: AsOfOption = None,
    top: Annotated[int, typer.Option(min=1, help="Open records shown per kind (table).")] = 15,
    format: FormatOption = Format.table,
    lang: LangOption = None,
) -> None:
    """Score open leads and deals: calibrated probability and the top reasons, two models."""
    from crmroi.improve.scoring import score_workspace

    frames = _frames(workspace, ["reps", "accounts", "leads", "deals", "orders"])
    report = score_workspace(frames, _day(train_until, "--train-until"), _day(as_of, "--as-of"))
    if format is Format.json:
        _print_json(_score_payload(report))
    elif format is Format.csv:
        import pandas as pd

        parts = [r.scores.assign(kind=r.kind) for r in report.results]
        rows = pd.concat(parts, ignore_index=True)
        for column in [str(c) for c in rows.columns if str(c).endswith("_reasons")]:
            rows[column] = rows[column].map("; ".join)
        rows[["kind", *[c for c in rows if c != "kind"]]].to_csv(sys.stdout, index=False)
    else:
        _print_scores(report, top, speaker(lang))


def _score_payload(report: ScoringReport) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "as_of": report.as_of.isoformat(),
        "kinds": [
            {
                "kind": r.kind,
                "train_until": r.train_until.date().isoformat(),
                "evaluations": [asdict(e) for e in r.evaluations],
                "scores": _records(r.scores),
            }
            for r in report.results
        ],
        "skipped": report.skipped,
    }


def _print_scores(report: ScoringReport, top: int, say: Speaker) -> None:
    from crmroi.reports.labels import SCORING_LABELS

    def kind_of(kind: str) -> str:
        return kind if say.english else say(SCORING_LABELS.get(kind, kind))

    def fixed(value: float, digits: int) -> str:
        return f"{value:.{digits}f}" if say.english else say.num(value, digits)

    for result in report.results:
        title = M_(
            "scores_holdout",
            "%(kind)s: hold-out from %(day)s (trained on the earlier records)",
            kind=kind_of(result.kind),
            day=result.train_until.date(),
        )
        figures = Table(title=escape(say.say(title)))
        figures.add_column(escape(say(N_("model"))), no_wrap=True)
        heads = (N_("train"), N_("test"), N_("rate"), "AUC", N_("log-loss"), "Brier", "ECE")
        for name in (*heads, N_("lift@10%")):
            figures.add_column(escape(say(name)), justify="right")
        for e in result.evaluations:
            figures.add_row(
                e.model if say.english else say(SCORING_LABELS.get(e.model, e.model)),
                say.num(e.n_train),
                say.num(e.n_test),
                say.pct(e.rate_test),
                fixed(e.auc, 3),
                fixed(e.log_loss, 4),
                fixed(e.brier, 4),
                fixed(e.calibration_error, 3),
                fixed(e.lift_top_decile, 2) + ("x" if say.english else "×"),
            )
        console.print(figures)
        shown = result.scores.head(top)
        title = M_(
            "scores_open",
            "Open %(kind)s: %(count)s, best %(shown)s",
            kind=kind_of(result.kind),
            count=len(result.scores),
            shown=Num(len(shown), grouped=False),
        )
        table = Table(title=escape(say.say(title)))
        open_heads = (N_("id"), N_("created"), N_("logistic"), N_("naive Bayes"))
        for name in (*open_heads, N_("why (logistic; log-odds)")):
            right = name in ("logistic", "naive Bayes")
            table.add_column(escape(say(name)), justify="right" if right else "left")
        for row in shown.to_dict(orient="records"):
            table.add_row(
                escape(str(row["id"])),
                say.day(row["created_at"]),
                say.pct(row["logistic_probability"]),
                say.pct(row["naive_bayes_probability"]),
                escape(say.items(row["logistic_reasons"])),
            )
        console.print(table)
    for kind, reason in report.skipped.items():
        skipped = M_("not_scored", "%(kind)s not scored:", kind=kind_of(kind))
        console.print(f"[yellow]{escape(say.say(skipped))}[/] {escape(say.say(reason))}")


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


@app.command()
def segments(
    workspace: WorkspaceArg,
    by: Annotated[
        list[str] | None, typer.Option(help="industry, segment, region or source (repeatable).")
    ] = None,
    min_accounts: Annotated[int, typer.Option(min=1, help="Smallest segment shown.")] = 10,
    as_of: AsOfOption = None,
    format: FormatOption = Format.table,
    lang: LangOption = None,
) -> None:
    """Ideal-customer segments: win rate, revenue per account and churn, with intervals."""
    from crmroi.improve.frames import data_date
    from crmroi.improve.segments import DIMENSIONS
    from crmroi.improve.segments import segments as find

    dimensions = tuple(by or DIMENSIONS)
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        raise ConfigurationError(f"--by {unknown[0]}: choose from {', '.join(DIMENSIONS)}")
    frames = _frames(workspace, ["accounts", "deals", "orders"])
    day = _day(as_of, "--as-of") or data_date(frames)
    table = find(frames, day, dimensions, min_accounts)
    if format is Format.json:
        _print_json({"as_of": day.isoformat(), "segments": _records(table)})
    elif format is Format.csv:
        table.to_csv(sys.stdout, index=False)
    else:
        _print_segments(table, day, speaker(lang))


def _print_segments(frame: pd.DataFrame, day: pd.Timestamp, say: Speaker) -> None:
    if not len(frame):
        console.print(escape(say(N_("No segment has enough accounts (see --min-accounts)."))))
        return
    for dimension, part in frame.groupby("dimension", sort=False):
        title = M_(
            "segments_by",
            "By %(dimension)s (as of %(day)s; 95%% intervals)",
            dimension=say(str(dimension)),
            day=day.date(),
        )
        table = Table(title=escape(say.say(title)))
        table.add_column(escape(say(str(dimension))))
        for name in (N_("accounts"), N_("win rate"), N_("revenue / account"), N_("churn")):
            table.add_column(escape(say(name)), justify="right")

        def pct(value: float) -> str:
            return f"{value:.0%}" if say.english else say.pct(value, 0)

        def money(value: float) -> str:
            return say.num(value)

        for r in part.to_dict(orient="records"):
            table.add_row(
                escape(say.value(r["value"])),
                say.num(r["accounts"]),
                _interval(r["win_rate"], r["win_rate_low"], r["win_rate_high"], pct),
                _interval(r["revenue_per_account"], r["revenue_low"], r["revenue_high"], money),
                _interval(r["churn_rate"], r["churn_low"], r["churn_high"], pct),
            )
        console.print(table)


def _interval(value: float, low: float, high: float, fmt: Callable[[float], str]) -> str:
    if value != value:
        return "-"
    return f"{fmt(value)} ({fmt(low)}-{fmt(high)})"


class ClvMethod(StrEnum):
    mle = "mle"
    pymc = "pymc"


@app.command()
def clv(
    workspace: WorkspaceArg,
    horizon_weeks: Annotated[int, typer.Option(min=1, help="Weeks ahead to value.")] = 52,
    as_of: AsOfOption = None,
    method: Annotated[
        ClvMethod,
        typer.Option(
            help="mle: maximum likelihood with scipy; pymc: MAP with pymc-marketing "
            "(pip install 'crmroi[clv]')."
        ),
    ] = ClvMethod.mle,
    top: Annotated[int, typer.Option(min=1, help="Customers shown (table).")] = 15,
    format: FormatOption = Format.table,
    lang: LangOption = None,
) -> None:
    """Customer lifetime value from the orders table (BG/NBD + Gamma-Gamma)."""
    from crmroi.improve.clv import fit_pymc, rfm
    from crmroi.improve.frames import data_date
    from crmroi.improve.lifetime import WEEKS_PER_MONTH, orders_lifetime_value

    frames = _frames(workspace, ["accounts", "orders"])
    day = _day(as_of, "--as-of") or data_date(frames)
    fit = orders_lifetime_value(frames, day, horizon_weeks)
    params: dict[str, Any] = {
        "bgnbd": {k: getattr(fit.bgnbd, k) for k in ("r", "alpha", "a", "b")},
        "gamma_gamma": fit.spend.parameters(),
    }
    values = fit.customers
    if method is ClvMethod.pymc:
        orders = frames["orders"].rename(
            columns={"account_id": "customer_id", "ordered_at": "date"}
        )
        params["bgnbd"], values = fit_pymc(rfm(orders, day), horizon_weeks)
        params.pop("gamma_gamma")
    segment = frames["accounts"].set_index("account_id")["segment"]
    values = values.assign(segment=values["customer_id"].map(segment).fillna("(none)"))
    by_segment = fit.by_segment(segment) if method is ClvMethod.mle else _by_segment(values)
    values = values.sort_values("expected_value", ascending=False)
    case = {
        "horizon_months": round(horizon_weeks / WEEKS_PER_MONTH, 2),
        "customers": fit.active_customers,
        "value_per_customer_month": fit.value_per_active_customer_month,
        "spend_frequency_correlation": fit.spend_frequency_correlation,
    }
    if format is Format.json:
        _print_json(
            {
                "as_of": day.isoformat(),
                "horizon_weeks": horizon_weeks,
                "method": method.value,
                "warnings": fit.warnings,
                **params,
                "business_case": case,
                "segments": _records(by_segment),
                "customers": _records(values),
            }
        )
    elif format is Format.csv:
        values.to_csv(sys.stdout, index=False)
    else:
        _print_clv(params, case, by_segment, values, horizon_weeks, top, speaker(lang))
    say = speaker(lang)
    for warning in fit.warnings:
        warned = M_("warning_plain", "warning:")
        err_console.print(f"{escape(say.say(warned))} {escape(say.say(warning))}")


def _by_segment(values: pd.DataFrame) -> pd.DataFrame:
    return values.groupby("segment", as_index=False).agg(
        customers=("customer_id", "size"),
        expected_purchases=("expected_purchases", "mean"),
        expected_value=("expected_value", "mean"),
        total_value=("expected_value", "sum"),
    )


def _print_clv(
    params: dict[str, Any],
    case: dict[str, float],
    by_segment: pd.DataFrame,
    values: pd.DataFrame,
    horizon_weeks: int,
    top: int,
    say: Speaker,
) -> None:
    def fixed(value: float, digits: int) -> str:
        return f"{value:.{digits}f}" if say.english else say.num(value, digits)

    for model, fitted in params.items():
        name = "BG/NBD" if model == "bgnbd" else "Gamma-Gamma"
        fits = say.items(f"{k}={say.digits(f'{v:.4g}')}" for k, v in fitted.items())
        console.print(f"{name}: {fits}")
    title = M_(
        "clv_by_segment",
        "Expected value in the next %(weeks)s weeks by segment",
        weeks=say.digits(f"{horizon_weeks:g}"),
    )
    table = Table(title=escape(say.say(title)))
    heads = (N_("segment"), N_("customers"), N_("purchases / customer"), N_("value / customer"))
    for name in (*heads, N_("total")):
        table.add_column(escape(say(name)), justify="left" if name == "segment" else "right")
    for r in by_segment.to_dict(orient="records"):
        table.add_row(
            escape(say.value(r["segment"])),
            say.num(r["customers"]),
            fixed(r["expected_purchases"], 2),
            say.num(r["expected_value"]),
            say.num(r["total_value"]),
        )
    console.print(table)
    best = Table(title=escape(say.say(M_("clv_top", "Top %(n)s customers", n=say.digits(top)))))
    for name in (N_("customer"), N_("segment"), N_("purchases"), N_("value")):
        left = name in ("customer", "segment")
        best.add_column(escape(say(name)), justify="left" if left else "right")
    for r in values.head(top).to_dict(orient="records"):
        best.add_row(
            escape(str(r["customer_id"])),
            escape(str(r["segment"])),
            fixed(r["expected_purchases"], 2),
            say.num(r["expected_value"]),
        )
    console.print(best)
    inputs = M_(
        "clv_case_inputs",
        "For the business case (retention, customer_value drivers): customers %(customers)s "
        "(active), value per customer %(value)s a month over the next %(months)s months; "
        "write `clv` for these inputs in case.yaml to read them from the workspace (see "
        "docs/business_case.md).",
        customers=Num(case["customers"]),
        value=Num(case["value_per_customer_month"], 2),
        months=_short_number(case["horizon_months"], say),
    )
    console.print(escape(say.say(inputs)))


def _short_number(value: float, say: Speaker) -> str:
    """`value` as '%g' writes it ('11.96'), in the language's digits and separators."""
    english = f"{value:g}"
    if say.english or "e" in english:
        return english if say.english else say.digits(english)
    return say.num(value, len(english.split(".")[1]) if "." in english else 0)
