"""Baseline and after windows around go-live, per team for a phased roll-out.

A team's baseline window is the `baseline_months` before its go-live date and its
after window the `after_months` from it (half-open: [start, end)). Rows of a team
are placed in that team's windows; rows without a team (spend, rows whose rep is
unknown) use the company go-live, the earliest one. The windows' bounds become
time buckets (`crmroi.kpi.buckets`), computed inside the database on every engine.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from crmroi.calendars import parse_day
from crmroi.errors import ConfigurationError
from crmroi.kpi.buckets import Span
from crmroi.kpi.reasons import EMPTY_WINDOWS
from crmroi.messages import M_, N_, Message

PERIODS: tuple[str, str] = ("baseline", "after")


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` calendar months (the day clipped to the month's end)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _ts(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


@dataclass(frozen=True)
class Window:
    """One team's windows: baseline [baseline_start, go_live), after [go_live, after_end)."""

    baseline_start: dt.date
    go_live: dt.date
    after_end: dt.date

    def bounds(self, period: str) -> tuple[dt.date, dt.date]:
        """(start, exclusive end) of the baseline or after window."""
        if period == "baseline":
            return self.baseline_start, self.go_live
        return self.go_live, self.after_end

    def midpoint(self, period: str) -> dt.datetime:
        """The middle of a window (for first/second half splits), to the second."""
        start, end = (_ts(d) for d in self.bounds(period))
        return start + (end - start) // 2

    def coverage(self, period: str, span: tuple[dt.datetime, dt.datetime] | None) -> float:
        """Share of the window inside the days of the data span [first, last] (1.0 without one)."""
        if span is None:
            return 1.0
        start, end = (_ts(d) for d in self.bounds(period))
        # the data cover whole days: from the first day's start to the last day's end
        lo = max(start, _ts(span[0].date()))
        hi = min(end, _ts(span[1].date()) + dt.timedelta(days=1))
        return max((hi - lo).total_seconds(), 0.0) / (end - start).total_seconds()


@dataclass(frozen=True)
class Windows:
    """Baseline/after windows for the company (`default`) and per team."""

    default: Window
    by_team: dict[str, Window] = field(default_factory=dict)
    baseline_months: int = 12
    after_months: int = 12

    @classmethod
    def build(
        cls,
        go_live: dt.date,
        go_live_by_team: dict[str, dt.date] | None = None,
        baseline_months: int = 12,
        after_months: int = 12,
    ) -> Windows:
        """Windows from the company go-live and optional per-team go-live dates."""
        if baseline_months < 1 or after_months < 1:
            raise ConfigurationError(EMPTY_WINDOWS)

        def window(day: dt.date) -> Window:
            return Window(add_months(day, -baseline_months), day, add_months(day, after_months))

        teams = {t: window(d) for t, d in sorted((go_live_by_team or {}).items())}
        return cls(window(go_live), teams, baseline_months, after_months)

    @property
    def phased(self) -> bool:
        return len({w.go_live for w in self.by_team.values()}) > 1

    def months(self, period: str) -> int:
        return self.baseline_months if period == "baseline" else self.after_months

    def window(self, team: str | None) -> Window:
        return self.by_team.get(team or "", self.default)

    def span(self, period: str) -> tuple[dt.date, dt.date]:
        """Earliest start and latest end of a period over all teams."""
        wins = [self.default, *self.by_team.values()]
        return min(w.bounds(period)[0] for w in wins), max(w.bounds(period)[1] for w in wins)

    def spans(self, team: str | None) -> list[Span]:
        """The baseline and after windows (periods 0 and 1) of `team`'s rows."""
        w = self.window(team)
        return [
            Span(_ts(w.baseline_start), _ts(w.go_live), w.midpoint("baseline")),
            Span(_ts(w.go_live), _ts(w.after_end), w.midpoint("after")),
        ]


@dataclass(frozen=True)
class DidGroup:
    """Teams going live on one date and the teams not yet live throughout their windows."""

    windows: Windows
    treated: tuple[str, ...]
    controls: tuple[str, ...]


def did_groups(windows: Windows) -> list[DidGroup]:
    """The difference-in-differences comparisons a phased roll-out allows."""
    out = []
    for day in sorted({w.go_live for w in windows.by_team.values()}):
        same = Windows.build(day, None, windows.baseline_months, windows.after_months)
        treated = tuple(t for t, w in windows.by_team.items() if w.go_live == day)
        end = same.default.after_end
        controls = tuple(t for t, w in windows.by_team.items() if w.go_live >= end)
        if controls:
            out.append(DidGroup(same, treated, controls))
    return out


def parse_date(value: Any, what: str) -> dt.date:
    """A YYYY-MM-DD date from a setting or option (years 1200-1499 are Solar Hijri:
    `crmroi.calendars.parse_day`), or a ConfigurationError naming it."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_day(str(value)[:10], what)


def resolve_windows(
    settings: dict[str, Any],
    go_live: dt.date | None,
    baseline_months: int,
    after_months: int,
) -> Windows:
    """Windows from an explicit go-live, else the workspace's recorded go-live dates.

    An explicit `go_live` applies to every team (no phased roll-out); otherwise
    `go_live_by_team` (phased) and `go_live` from the workspace settings are used.
    """
    if go_live is not None:
        return Windows.build(go_live, None, baseline_months, after_months)
    company, by_team = recorded_go_live(settings, N_("pass --go-live YYYY-MM-DD"))
    return Windows.build(company, by_team, baseline_months, after_months)


def recorded_go_live(settings: dict[str, Any], remedy: str) -> tuple[dt.date, dict[str, dt.date]]:
    """The workspace's recorded go-live: the company date (the `go_live` setting, else the
    earliest team's) and each team's (`go_live_by_team`). `remedy` ends the error raised
    when neither is recorded."""
    raw_teams = settings.get("go_live_by_team") or {}
    by_team = {str(t): parse_date(d, f"go_live_by_team[{t}]") for t, d in raw_teams.items()}
    if settings.get("go_live"):
        return parse_date(settings["go_live"], "go_live setting"), by_team
    if by_team:
        return min(by_team.values()), by_team
    raise ConfigurationError(
        M_(
            "no_go_live_recorded",
            "no go-live date recorded in the workspace: %(remedy)s",
            remedy=Message("go_live_remedy", remedy),
        )
    )
