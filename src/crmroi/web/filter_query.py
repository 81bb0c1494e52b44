"""The dashboard filters read from the query string, declared once for every route.

Routes take `f: FiltersQuery` (team, region, segment and months), `f: GroupFiltersQuery`
(no period: lists as of the latest record) or `f: PeriodQuery` (months only) after
their session dependency, so an unauthenticated request is refused before a filter
value is checked (the refusal of an unknown value lists the workspace's values). Each
gives validated `Filters`: a value out of range is 422, an unknown one 400 naming the
filter and the values there are (`parse_filters`). The workspace is one per request
(`CurrentWorkspace`, cached by FastAPI), shared by the filters and the route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from crmroi.web import dashboard_data as data
from crmroi.web.dashboard_filters import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    MAX_VALUE,
    Filters,
    parse_filters,
)
from crmroi.web.deps import State


def current_workspace(state: State) -> data.Workspace:
    """The workspace as it is for this request (its version, row counts, filter values)."""
    return data.workspace(state)


CurrentWorkspace = Annotated[data.Workspace, Depends(current_workspace)]

Team = Annotated[str | None, Query(max_length=MAX_VALUE, description="A team of the reps.")]
Region = Annotated[str | None, Query(max_length=MAX_VALUE, description="A region.")]
Segment = Annotated[str | None, Query(max_length=MAX_VALUE, description="A segment.")]
Months = Annotated[
    int, Query(ge=1, le=MAX_MONTHS, description="Baseline and after window length, months.")
]


def filters_from_query(
    ws: CurrentWorkspace,
    team: Team = None,
    region: Region = None,
    segment: Segment = None,
    months: Months = DEFAULT_MONTHS,
) -> Filters:
    """Team, region, segment and period, checked against the workspace's values."""
    return parse_filters(ws.options, team, region, segment, months)


def group_filters_from_query(
    ws: CurrentWorkspace,
    team: Team = None,
    region: Region = None,
    segment: Segment = None,
) -> Filters:
    """Team, region and segment for a route the period does not apply to (the default)."""
    return parse_filters(ws.options, team, region, segment)


def period_from_query(months: Months = DEFAULT_MONTHS) -> Filters:
    """The period alone, for a route no team, region or segment applies to."""
    return Filters(months=months)


FiltersQuery = Annotated[Filters, Depends(filters_from_query)]
GroupFiltersQuery = Annotated[Filters, Depends(group_filters_from_query)]
PeriodQuery = Annotated[Filters, Depends(period_from_query)]
