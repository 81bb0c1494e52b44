"""Why a KPI is unavailable, as messages with ids and parameters (`crmroi.messages`).

`str(message)` is the English sentence the engine has always written (`KpiChange.reason`);
the message itself (`KpiChange.reason_message`) is worded in a report's or page's
language, and its `code` is the stable machine code the API gives beside the text.
"""

from __future__ import annotations

import datetime as dt

from crmroi.messages import M_, N_, Items, Message, Num, Pct

__all__ = [
    "EMPTY_WINDOWS",
    "below_floor",
    "no_dates",
    "no_rows_in_tables",
    "no_rows_in_window",
    "no_usable_rows",
    "no_values",
    "not_by",
    "one_of",
    "span_message",
    "unknown_kpi",
    "whole_windows",
]


def no_rows_in_window(window: str) -> Message:
    """No rows of the group in one of its windows ('baseline' or 'after')."""
    if window == "baseline":
        return M_("no_rows_baseline", "no rows in the baseline window")
    return M_("no_rows_after", "no rows in the after window")


def no_rows_in_tables(tables: list[str]) -> Message:
    return M_("no_rows_table", "no rows in table %(tables)s", tables=Items(tables))


def no_values(column: str) -> Message:
    return M_("no_values", "%(column)s has no values", column=column)


def not_by(by: str) -> Message:
    return M_("not_by", "not available by %(by)s (its inputs have no %(by)s)", by=by)


def no_dates(columns: list[str]) -> Message:
    return M_("no_dates", "%(columns)s has no dates", columns=Items(columns))


def no_usable_rows() -> Message:
    return M_("no_usable_rows", "no usable rows in the baseline or after window")


def span_message(span: tuple[dt.date, dt.date] | None) -> Message:
    """'first to last' day of a span (its end is exclusive), or 'no dates'."""
    if span is None:
        return M_("span_none", "no dates")
    first, last = _day(span[0]), _day(span[1]) - dt.timedelta(days=1)
    return M_("span", "%(first)s to %(last)s", first=first, last=last)


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def below_floor(
    columns: list[str],
    span: tuple[dt.date, dt.date] | None,
    months: float,
    nominal: int,
    window: str,
    floor: float,
) -> Message:
    """The data cover less of a window than the coverage floor."""
    text = (
        "%(columns)s (%(span)s) cover %(months)s of %(nominal)s months of the baseline "
        "window, below the %(floor)s coverage floor"
        if window == "baseline"
        else "%(columns)s (%(span)s) cover %(months)s of %(nominal)s months of the after "
        "window, below the %(floor)s coverage floor"
    )
    return Message(
        "below_coverage_floor",
        text,
        {
            "columns": Items(columns),
            "span": span_message(span),
            "months": Num(months, 1),
            "nominal": nominal,
            "floor": Pct(floor, 0),
        },
    )


FLOOR_TEXTS = (
    N_(
        "%(columns)s (%(span)s) cover %(months)s of %(nominal)s months of the baseline "
        "window, below the %(floor)s coverage floor"
    ),
    N_(
        "%(columns)s (%(span)s) cover %(months)s of %(nominal)s months of the after "
        "window, below the %(floor)s coverage floor"
    ),
)
"""The two sentences of `below_floor`, marked for extraction."""


def whole_windows(columns: list[str], span: tuple[dt.date, dt.date] | None) -> Message:
    """A KPI of distinct customers needs whole windows, and no team has them."""
    return M_(
        "needs_whole_windows",
        "needs whole windows (a window's distinct customers or accounts depend on its "
        "length); %(columns)s (%(span)s) leave no team with a whole baseline and after window",
        columns=Items(columns),
        span=span_message(span),
    )


# -- a request the engine refuses (`ConfigurationError`) ---------------------------------
EMPTY_WINDOWS = M_("kpi_empty_windows", "baseline and after windows need at least one month")


def one_of(option: str, choices: tuple[str, ...] | list[str], value: str) -> Message:
    """An option given a value it does not take (`--by`, `--exposure`)."""
    return M_(
        "kpi_option_choice",
        "%(option)s must be one of %(choices)s, not %(value)s",
        option=option,
        choices=Items(choices),
        value=repr(value),
    )


def unknown_kpi(name: str, names: list[str]) -> Message:
    return M_(
        "kpi_unknown",
        "unknown KPI %(kpi)s; KPIs are: %(kpis)s",
        kpi=repr(name),
        kpis=Items(names),
    )
