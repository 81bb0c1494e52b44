"""Dashboard filters (team, region, segment, period) and what each honestly means per panel.

The KPI engine splits a report by one dimension at a time (`by=team` or `by=segment`),
attributing each row to its rep's (or its account owner's) team and its account's
segment. So a team filter shows the engine's figures for that team's rows, a segment
filter those of that segment's rows; both at once cannot be computed and the team wins
(the page says so). Region is not a dimension of the engine: it narrows the
improvement lists (by account region, else rep region) and the monthly series (the
region's teams), never the KPI table. The period is the length, in months, of the
baseline and after windows around go-live. The business case is company-wide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crmroi.errors import ConfigurationError
from crmroi.messages import M_, Items, Message
from crmroi.web.access import WorkspaceAccess

PERIODS: tuple[int, ...] = (3, 6, 12, 18, 24)
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
MAX_VALUE = 200


@dataclass(frozen=True)
class Options:
    """The values a filter can take in this workspace."""

    teams: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    team_regions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def teams_in(self, region: str) -> tuple[str, ...]:
        """The teams with at least one rep in `region`."""
        return tuple(t for t, regions in self.team_regions.items() if region in regions)


@dataclass(frozen=True)
class Filters:
    """One choice of the dashboard's filters (None: all)."""

    team: str | None = None
    region: str | None = None
    segment: str | None = None
    months: int = DEFAULT_MONTHS

    @property
    def key(self) -> tuple[str | None, str | None, str | None, int]:
        return (self.team, self.region, self.segment, self.months)

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        out = {"team": self.team, "region": self.region, "segment": self.segment}
        values = {k: v for k, v in out.items() if v}
        if self.months != DEFAULT_MONTHS:
            values["months"] = str(self.months)
        return values


def load_options(access: WorkspaceAccess) -> Options:
    """Distinct teams, regions and segments of the workspace."""
    pairs = access.query(
        "SELECT DISTINCT team, region FROM reps WHERE team IS NOT NULL ORDER BY team"
    )
    team_regions: dict[str, list[str]] = {}
    for team, region in pairs:
        known = team_regions.setdefault(str(team), [])
        if region is not None:
            known.append(str(region))
    regions = access.query(
        "SELECT region FROM reps WHERE region IS NOT NULL UNION "
        "SELECT region FROM accounts WHERE region IS NOT NULL"
    )
    segments = access.query(
        "SELECT DISTINCT segment FROM accounts WHERE segment IS NOT NULL UNION "
        "SELECT DISTINCT segment FROM leads WHERE segment IS NOT NULL"
    )
    return Options(
        teams=tuple(team_regions),
        regions=tuple(sorted(str(r[0]) for r in regions)),
        segments=tuple(sorted(str(s[0]) for s in segments)),
        team_regions={t: tuple(sorted(r)) for t, r in team_regions.items()},
    )


def _pick(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None or value.strip() == "":
        return None
    if len(value) > MAX_VALUE:
        raise ConfigurationError(
            M_(
                "filter_too_long",
                "%(name)s: at most %(limit)s characters",
                name=name,
                limit=MAX_VALUE,
            )
        )
    if value not in allowed:
        shown: Message | str = Items(allowed[:20]) or M_("filter_none", "none in this workspace")
        raise ConfigurationError(
            M_(
                "filter_unknown",
                "%(name)s: no %(name)s %(value)s in the workspace (%(shown)s)",
                name=Message("filter_name", name),  # team, region or segment: in the catalogue
                value=repr(value),
                shown=shown,
            )
        )
    return value


def parse_filters(
    options: Options,
    team: str | None = None,
    region: str | None = None,
    segment: str | None = None,
    months: int | None = None,
) -> Filters:
    """Validated filters; `ConfigurationError` (400) naming the filter when a value is unknown."""
    if months is None:
        months = DEFAULT_MONTHS
    if not 1 <= months <= MAX_MONTHS:
        raise ConfigurationError(
            M_(
                "filter_months",
                "months: give 1 to %(most)s, not %(months)s",
                most=MAX_MONTHS,
                months=str(months),
            )
        )
    return Filters(
        team=_pick("team", team, options.teams),
        region=_pick("region", region, options.regions),
        segment=_pick("segment", segment, options.segments),
        months=months,
    )


def kpi_split(filters: Filters) -> tuple[str | None, str | None]:
    """The engine's `by` and the group to show for the KPI table (None, None: company)."""
    if filters.team:
        return "team", filters.team
    if filters.segment:
        return "segment", filters.segment
    return None, None


def kpi_notes(filters: Filters) -> list[Message]:
    """What the filters do not change in the KPI table, in plain words."""
    notes = []
    if filters.team and filters.segment:
        notes.append(
            M_(
                "segment_not_applied",
                "Segment is not applied to the KPIs: the KPI engine splits by one dimension "
                "at a time, so these are team %(team)s's figures over all segments.",
                team=filters.team,
            )
        )
    if filters.region:
        notes.append(
            M_(
                "region_not_applied",
                "Region does not narrow the KPI table (KPIs are split by team or segment, "
                "not region); pick a team of the region instead.",
            )
        )
    if filters.team or filters.segment:
        notes.append(
            M_(
                "company_kpis_unavailable",
                "KPIs built on marketing spend or company-wide costs have no team or "
                "segment and are shown as unavailable under this filter.",
            )
        )
    return notes


def sources_notes(filters: Filters) -> list[Message]:
    if filters.team or filters.region or filters.segment:
        return [
            M_(
                "sources_not_filtered",
                "Team, region and segment do not apply to lead sources: the KPI engine "
                "splits lead-source figures by source only. The period applies.",
            )
        ]
    return []


def case_notes(filters: Filters) -> list[Message]:
    if filters.team or filters.region or filters.segment or filters.months != DEFAULT_MONTHS:
        return [
            M_(
                "case_not_filtered",
                "The business case is company-wide over its own horizon: the filters do "
                "not apply to these figures.",
            )
        ]
    return []


def followup_notes(filters: Filters) -> list[Message]:
    if filters.months != DEFAULT_MONTHS:
        return [
            M_(
                "period_not_applied",
                "The period does not apply: the lists are as of the latest record.",
            )
        ]
    return []


def series_units(filters: Filters, options: Options) -> tuple[str, tuple[str, ...] | None]:
    """The panel unit (team or segment) and the units to keep (None: all) for a series."""
    if filters.team:
        return "team", (filters.team,)
    if filters.segment:
        return "segment", (filters.segment,)
    if filters.region:
        return "team", options.teams_in(filters.region)
    return "team", None
