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
from crmroi.messages import M_, N_, Items, Message, Month, Num

if TYPE_CHECKING:
    from crmroi.improve.pipeline import Backtest, Forecast


def no_amount(n: int, total: int) -> Message:
    """The warning that open deals without an amount count as 0."""
    return M_(
        "forecast_no_amount",
        "%(n)s of the %(total)s open deals have no amount and count as 0: the open-deal "
        "part is understated by their value.",
        n=n,
        total=total,
    )


WHY = {
    "better": N_("beat naive"),
    "no_better": N_("no better than naive"),
    "untested": N_("too few months"),
}
BEATS = {"better": N_("yes"), "no_better": N_("no"), "untested": N_("untested")}
UNCALIBRATED = N_(
    "* the model's own interval, not calibrated (too few back-test months, or "
    "--no-backtest): it leaves out the uncertainty of timing and of the run rate, and "
    "back-tests show it too narrow."
)
USE_NOTE = N_(
    "blend = the mean of the pipeline forecast and the naive mean of the three latest "
    "complete months, used where the back-test does not show the pipeline better; the "
    "intervals are calibrated on the back-test's errors at the same horizon (split "
    "conformal on actual / forecast, earlier months only)."
)


@app.command()
def forecast(
    workspace: WorkspaceArg,
    months: Annotated[int, typer.Option(min=1, max=12, help="Months to forecast.")] = 6,
    as_of: AsOfOption = None,
    backtest: Annotated[
        bool,
        typer.Option(
            help="Also forecast from each past month start, score it and calibrate the "
            "interval on its errors (without it the interval is the model's, too narrow)."
        ),
    ] = True,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    lang: LangOption = None,
) -> None:
    """Won revenue by month for the next MONTHS months from the open deals (scoring model's
    win probabilities, measured cycle lengths) plus deals not yet created, with an 80%
    interval calibrated on the back-test's errors; per horizon, the back-test's accuracy
    beside a naive run rate and which figure to use."""
    from crmroi.improve.frames import data_date
    from crmroi.improve.pipeline import forecast_and_backtest, forecast_pipeline

    frames = _frames(workspace, ["reps", "accounts", "deals", "orders"])
    day = _day(as_of, "--as-of") or data_date(frames)
    test: Backtest | None = None
    if backtest:
        result, test = forecast_and_backtest(frames, day, months)
    else:
        result = forecast_pipeline(frames, day, months)
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
        star = "" if m.calibrated else "*"
        table.add_row(
            say.month(m.month),
            say.num(m.expected),
            say.num(m.open_deals),
            say.num(m.new_deals),
            say.num(m.low) + star,
            say.num(m.high) + star,
        )
    console.print(table)
    if f.open_without_amount:
        console.print(escape(say.say(no_amount(f.open_without_amount, f.open_count))))
    if f.backtest_reason:
        console.print(escape(f"{say(N_('No back-test'))}: {say.say(f.backtest_reason)}"))
    if not all(m.calibrated for m in f.months):
        console.print(escape(say(UNCALIBRATED)))
    if all(m.verdict == "untested" for m in f.months):
        return
    use = Table(title=escape(say(N_("Figure to use, by the back-test"))))
    for name in (N_("month"), N_("use"), N_("figure"), N_("80% low"), N_("80% high"), N_("why")):
        use.add_column(escape(say(name)), justify="right")
    for m in f.months:
        blend = m.recommended == "blend"
        use.add_row(
            say.month(m.month),
            say(N_("blend") if blend else N_("pipeline")),
            say.num(m.blend if blend else m.expected),
            say.num(m.blend_low if blend else m.low),
            say.num(m.blend_high if blend else m.high),
            say(WHY[m.verdict]),
        )
    console.print(use)
    console.print(escape(say(USE_NOTE)))


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
    heads = (N_("horizon (months)"), N_("forecasts"), N_("accuracy"), N_("naive"))
    tail = (N_("in 80% interval"), N_("blend in its 80%"), N_("beats naive"))
    for name in (*heads, N_("recommended"), N_("bias"), *tail):
        table.add_column(escape(say(name)), justify="right")
    records: list[Any] = list(rows.itertuples())  # pandas types the fields loosely
    for r in records:
        table.add_row(
            say.digits(r.horizon),
            say.digits(r.forecasts),
            say.pct(r.accuracy),
            say.pct(r.naive_accuracy),
            say.pct(r.recommended_accuracy),
            say.pct(r.bias, signed=True),
            say.pct(r.coverage, 0),
            say.pct(r.blend_coverage, 0),
            say(BEATS[r.better_than_naive]),
        )
    console.print(table)
    note = M_(
        "backtest_note",
        "naive = the mean won revenue of the three months before the forecast; recommended "
        "= the pipeline figure where the earlier months showed it beat the naive mean, else "
        "the blend (the mean of the two); bias = mean (forecast - actual) / actual; "
        "intervals calibrated on earlier months only, so scored over the forecasts that "
        "had one (%(counts)s by horizon); the model's own interval held %(model)s; beats "
        "naive = mean gain in |error| / actual above one standard error.",
        counts=Items(say.digits(int(c)) for c in rows["calibrated"]),
        model=Items(say.pct(float(v), 0) for v in rows["model_coverage"]),
    )
    console.print(escape(say.say(note)))
