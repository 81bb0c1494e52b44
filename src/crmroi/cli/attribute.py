"""`crmroi attribute`: how much of each KPI's change the CRM caused, net of the market."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.allocators import prefer_fast_allocators
from crmroi.cli.app import WorkspaceArg, app, console, progress_bar
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_


class MethodChoice(StrEnum):
    auto = "auto"
    did = "did"
    its = "its"
    naive = "naive"


class Exposure(StrEnum):
    created = "created"
    closed = "closed"


class Format(StrEnum):
    table = "table"
    json = "json"


def _number(value: float | None, say: Speaker | None = None) -> str:
    if value is None:
        return ""
    text = f"{value:+,.4g}" if abs(value) < 1000 else f"{value:+,.0f}"
    if say is None or say.english:
        return text
    if abs(value) >= 1000:
        return say.num(value, 0, signed=True)
    if "e" in text:  # .4g of a tiny effect: keep the exponent, digits in the language's
        return say.digits(text)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return say.num(value, decimals, signed=True)


@app.command()
def attribute(
    workspace: WorkspaceArg,
    kpi: Annotated[
        list[str] | None, typer.Option(help="KPI to attribute (repeat; default: all).")
    ] = None,
    market_index: Annotated[
        Path | None,
        typer.Option(help="CSV/XLSX of monthly market covariates: a date column, then values."),
    ] = None,
    method: Annotated[MethodChoice, typer.Option(help="auto picks the strongest.")] = (
        MethodChoice.auto
    ),
    go_live: Annotated[
        str | None, typer.Option(help="Go-live date YYYY-MM-DD for every team.")
    ] = None,
    format: Annotated[Format, typer.Option(help="table or json.")] = Format.table,
    exposure: Annotated[
        Exposure,
        typer.Option(
            help="created: a deal counts in the month it was created (worked), so deals "
            "created after a team's go-live are the treated ones; closed: by closing month."
        ),
    ] = Exposure.created,
    lang: LangOption = None,
) -> None:
    """Estimate each KPI's change caused by the CRM, with a 95% interval and the method used."""
    prefer_fast_allocators(report=True)  # before pyarrow loads
    from crmroi.attribution.workspace import Unavailable, attribute_workspace
    from crmroi.errors import ConfigurationError
    from crmroi.store import open_store

    day = None
    if go_live is not None:
        try:
            day = dt.date.fromisoformat(go_live)
        except ValueError:
            raise ConfigurationError(
                M_(
                    "go_live_not_a_date",
                    "--go-live %(value)s is not a date YYYY-MM-DD",
                    value=repr(go_live),
                )
            ) from None
    with open_store(workspace) as store, progress_bar() as progress:
        task = progress.add_task("attributing", total=None)

        def on_step(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        results = attribute_workspace(
            store,
            kpis=kpi,
            method=method.value,
            market_index=market_index,
            go_live=day,
            progress=on_step,
            exposure=exposure.value,
        )
    if format is Format.json:
        print(json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False))
        return
    from crmroi.reports.labels import METHOD_LABELS

    say = speaker(lang)
    joiner = "; " if say.english else say.lang.semicolon
    table = Table(
        title=escape(say(N_("What the CRM caused (95% interval) versus the naive before/after")))
    )
    heads = (N_("KPI"), N_("method"), N_("effect"), N_("95% interval"), N_("relative"))
    for name in (*heads, N_("naive change"), N_("notes")):
        table.add_column(
            escape(say(name)), justify="right" if name in ("effect", "relative") else "left"
        )
    for result in results:
        name = result.name if say.english else _kpi_name(say, result.name)
        if isinstance(result, Unavailable):
            table.add_row(escape(name), "-", "", "", "", "", escape(say.say(result.reason)))
            continue
        effect = _number(result.effect, say)
        rel = result.effect_rel
        interval = M_(
            "interval_to", "%(low)s to %(high)s", low=_number(result.ci_low, say),
            high=_number(result.ci_high, say),
        )  # fmt: skip
        table.add_row(
            escape(name),
            result.method if say.english else say(METHOD_LABELS.get(result.method, result.method)),
            effect if result.covers else f"[bold]{effect}[/]",
            escape(say.say(interval)),
            "" if rel is None else say.pct(rel, 1, signed=True),
            _number(result.naive_change, say),
            escape(joiner.join(say.say(note) for note in result.notes[1:])),
        )
    console.print(table)
    console.print(
        escape(
            say(
                N_(
                    "Bold effects: the interval excludes zero. Methods: did = difference in "
                    "differences, its = interrupted time series, naive = before/after."
                )
            )
        )
    )


def _kpi_name(say: Speaker, kpi: str) -> str:
    from crmroi.reports.labels import kpi_label

    return kpi_label(say.lang, kpi)
