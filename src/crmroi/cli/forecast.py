"""`crmroi forecast`: expected won revenue by month from the open pipeline, and how
accurate the same forecast was on the history (back-test)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console
from crmroi.cli.improve import AsOfOption, Format, _day, _frames, _print_json, _records

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
    _print_forecast(result)
    if test is not None:
        _print_backtest(test)


def _money(v: float) -> str:
    return f"{v:,.0f}"


def _print_forecast(f: Forecast) -> None:
    table = Table(
        title=f"Pipeline forecast as of {f.as_of:%Y-%m-%d}: {f.open_count:,} open deals, "
        f"{_money(f.open_amount)} open"
    )
    for name in ("month", "expected", "open deals", "not yet created", "80% low", "80% high"):
        table.add_column(name, justify="right")
    for m in f.months:
        table.add_row(
            f"{m.month:%Y-%m}",
            _money(m.expected),
            _money(m.open_deals),
            _money(m.new_deals),
            _money(m.low),
            _money(m.high),
        )
    console.print(table)


def _print_backtest(b: Backtest) -> None:
    rows = b.by_horizon()
    first, last = b.rows["origin"].min(), b.rows["origin"].max()
    table = Table(
        title=f"Back-test: forecasts made on each month start {first:%Y-%m} to {last:%Y-%m}, "
        "accuracy = 1 - |actual - forecast| / actual"
    )
    for name in ("horizon (months)", "forecasts", "accuracy", "naive", "bias", "in 80% interval"):
        table.add_column(name, justify="right")
    for r in rows.itertuples():
        table.add_row(
            str(r.horizon),
            str(r.forecasts),
            f"{r.accuracy:.1%}",
            f"{r.naive_accuracy:.1%}",
            f"{r.bias:+.1%}",
            f"{r.coverage:.0%}",
        )
    console.print(table)
    console.print(
        "naive = the mean won revenue of the three months before the forecast; bias = mean "
        "(forecast - actual) / actual; an interval that holds fewer than 80% of the actual "
        "months is too narrow."
    )
