"""`crmroi forecast`: expected won revenue by month from the open pipeline, and how
accurate the same forecast was on the history (back-test)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console
from crmroi.cli.improve import AsOfOption, Format, _day, _frames, _print_json, _records
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_, Month, Num

if TYPE_CHECKING:
    from crmroi.improve.pipeline import Backtest, Forecast


@app.command()
def forecast(
    workspace: WorkspaceArg,
    months: Annotated[int, typer.Option(min=1, max=12, help="Months to forecast.")] = 6,
    as_of: AsOfOption = None,
    backtest: Annotated[
        bool, typer.Option(help="Also forecast from each past month start and score it.")
    ] = True,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    lang: LangOption = None,
) -> None:
    """Won revenue by month for the next MONTHS months from the open deals (scoring model's
    win probabilities, measured cycle lengths) plus deals not yet created, with an 80%
    interval; the back-test's accuracy by horizon beside a naive run rate."""
    from crmroi.improve.frames import data_date
    from crmroi.improve.pipeline import backtest as run_backtest
    from crmroi.improve.pipeline import forecast_pipeline

    frames = _frames(workspace, ["reps", "accounts", "deals", "orders"])
    day = _day(as_of, "--as-of") or data_date(frames)
    result = forecast_pipeline(frames, day, months)
    test = run_backtest(frames, months) if backtest else None
    if format is Format.json:
        payload = result.to_json()
        if test is not None:
            payload["backtest"] = {
                **test.to_json(),
                "by_horizon": _records(test.by_horizon()),
            }
        _print_json(payload)
        return
    say = speaker(lang)
    _print_forecast(result, say)
    if test is not None:
        _print_backtest(test, say)


def _print_forecast(f: Forecast, say: Speaker) -> None:
    title = M_(
        "forecast_title",
        "Pipeline forecast as of %(day)s: %(count)s open deals, %(amount)s open",
        day=f.as_of.date(),
        count=int(f.open_count),
        amount=Num(f.open_amount),
    )
    table = Table(title=escape(say.say(title)))
    heads = (N_("month"), N_("expected"), N_("open deals"), N_("not yet created"))
    for name in (*heads, N_("80% low"), N_("80% high")):
        table.add_column(escape(say(name)), justify="right")
    for m in f.months:
        table.add_row(
            say.month(m.month),
            say.num(m.expected),
            say.num(m.open_deals),
            say.num(m.new_deals),
            say.num(m.low),
            say.num(m.high),
        )
    console.print(table)


def _print_backtest(b: Backtest, say: Speaker) -> None:
    rows = b.by_horizon()
    first, last = b.rows["origin"].min(), b.rows["origin"].max()
    title = M_(
        "backtest_title",
        "Back-test: forecasts made on each month start %(first)s to %(last)s, "
        "accuracy = 1 - |actual - forecast| / actual",
        first=Month(first.date()),
        last=Month(last.date()),
    )
    table = Table(title=escape(say.say(title)))
    heads = (N_("horizon (months)"), N_("forecasts"), N_("accuracy"), N_("naive"), N_("bias"))
    for name in (*heads, N_("in 80% interval")):
        table.add_column(escape(say(name)), justify="right")
    records: list[Any] = list(rows.itertuples())  # pandas types the fields loosely
    for r in records:
        table.add_row(
            say.digits(r.horizon),
            say.digits(r.forecasts),
            say.pct(r.accuracy),
            say.pct(r.naive_accuracy),
            say.pct(r.bias, signed=True),
            say.pct(r.coverage, 0),
        )
    console.print(table)
    console.print(
        escape(
            say(
                N_(
                    "naive = the mean won revenue of the three months before the forecast; "
                    "bias = mean (forecast - actual) / actual; an interval that holds fewer "
                    "than 80% of the actual months is too narrow."
                )
            )
        )
    )
