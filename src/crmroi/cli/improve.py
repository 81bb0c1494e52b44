"""`crmroi score | segments | clv`: use the CRM's data to raise the return (the fourth
such command, `crmroi followups`, is `crmroi.cli.followups`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console, err_console
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.errors import ConfigurationError
from crmroi.messages import M_, N_, Num

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
