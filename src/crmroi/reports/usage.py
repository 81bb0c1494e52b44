"""Weekly adoption in the report, the workbook and the dashboard: the last weeks' share of
reps working in the CRM (all and per team), records per rep-day, open deals with a next
activity and the completeness of the fields the KPIs read.

`usage_section` reshapes `crmroi.kpi.adoption_weekly.Usage` (read through its JSON, so
this module needs nothing from the KPI engine) into rows the templates lay out; nothing
is computed here beyond shares of counts already made. Language-neutral: the templates
word it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["WEEKS_SHOWN", "CompletenessRow", "UsageSection", "UsageWeekRow", "usage_section"]

WEEKS_SHOWN = 8
"""Weeks the report and the workbook show (the dashboard: the last 6 of them)."""


@dataclass(frozen=True)
class UsageWeekRow:
    """One ISO week: reps working in the CRM over reps employed, all and per team
    (team -> (active, employed)), and records created per rep-day of live reps."""

    start: dt.date
    label: str
    active: int
    employed: int
    share: float | None
    records_per_rep_day: float | None
    by_team: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CompletenessRow:
    """A field the KPIs read: rows with it filled, rows it applies to (closed deals for
    `deals.closed_at`), share filled."""

    table: str
    field: str
    filled: int
    rows: int
    share: float | None


@dataclass(frozen=True)
class UsageSection:
    """The weekly measures (see the module doc) and the settings behind them."""

    weeks: list[UsageWeekRow]
    teams: list[str]
    min_day_share: float
    next_as_of: dt.date
    open_deals: int
    with_next: int | None
    next_share: float | None
    next_unavailable: Literal["no_scheduled", "no_open"] | None
    completeness: list[CompletenessRow]
    history: list[UsageWeekRow] = field(default_factory=list)
    """Every week from go-live (the chart of adoption by week and team)."""
    licensed: list[UsageWeekRow] = field(default_factory=list)
    """The same weeks from the user-activity export: users active over licensed users
    (`employed` holds the licensed count), empty without logins."""
    licensed_basis: str | None = None
    """`licensed_users` or `reps_employed` (no list of licensed users), None without logins;
    counted with the same `min_day_share` as the activity weeks (`measure_usage` passes it)."""
    licensed_teams: list[str] = field(default_factory=list)
    unmatched_users: int = 0
    """Licensed users matching no rep (by id or e-mail)."""
    licensed_total: int = 0

    @property
    def incomplete(self) -> list[CompletenessRow]:
        """The fields filled on fewer than all their rows."""
        return [c for c in self.completeness if c.share is not None and c.share < 1.0]

    def team_cell(self, week: UsageWeekRow, team: str) -> tuple[int, int] | None:
        """(active, employed) of `team` in `week`, None when it employed nobody."""
        cell = week.by_team.get(team)
        return cell if cell is not None and cell[1] else None


def _week_label(day: dt.date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def usage_section(usage: Any, weeks: int = WEEKS_SHOWN) -> UsageSection | None:
    """The last `weeks` weeks of `usage` (anything with `to_json()` shaped like
    `crmroi.kpi.adoption_weekly.Usage`), or None without usage."""
    if usage is None:
        return None
    doc = usage.to_json()
    rows = []
    for w in doc["weeks"]:
        start = dt.date.fromisoformat(w["week"])
        teams = {t: (int(c["active"]), int(c["employed"])) for t, c in w["by_team"].items()}
        rows.append(
            UsageWeekRow(
                start,
                _week_label(start),
                int(w["active"]),
                int(w["employed"]),
                w["share"],
                w["records_per_rep_day"],
                teams,
            )
        )
    n = doc["next_activity"]
    unavailable: Literal["no_scheduled", "no_open"] | None = None
    if n["share"] is None:
        no_open = str(n.get("unavailable") or "").startswith("no open deals")
        unavailable = "no_open" if no_open else "no_scheduled"
    completeness = [
        CompletenessRow(table, name, int(c["filled"]), int(c["rows"]), c["share"])
        for table, cols in doc["completeness"].items()
        for name, c in cols.items()
    ]
    history, rows = rows, rows[-weeks:]
    logins = doc.get("licensed_users") or {}
    licensed = [
        UsageWeekRow(
            (start := dt.date.fromisoformat(w["week"])),
            _week_label(start),
            int(w["active"]),
            int(w["licensed"]),
            w["share"],
            None,
            {t: (int(c["active"]), int(c["licensed"])) for t, c in w["by_team"].items()},
        )
        for w in logins.get("weeks", [])
    ][-weeks:]
    return UsageSection(
        weeks=rows,
        teams=sorted({t for w in rows for t in w.by_team}),
        min_day_share=float(getattr(usage, "min_day_share", 0.5)),
        next_as_of=dt.date.fromisoformat(n["as_of"]),
        open_deals=int(n["open_deals"]),
        with_next=n["with_next_activity"],
        next_share=n["share"],
        next_unavailable=unavailable,
        completeness=completeness,
        history=history,
        licensed=licensed,
        licensed_basis=logins.get("basis") if licensed else None,
        licensed_teams=sorted({t for w in licensed for t in w.by_team}),
        unmatched_users=int(logins.get("unmatched_users", 0)),
        licensed_total=int(logins.get("users", 0)),
    )
