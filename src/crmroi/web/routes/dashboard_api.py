"""`/api/v1` routes for what the dashboard shows: KPIs, series, ROI, plan versus actual,
sources, follow-ups, lead scores, ideal-customer segments, lifetime value and the pipeline
forecast.

Thin: validation here, figures from `crmroi.web.dashboard_data` (the core, cached).
Unknown filter values are 400 with the allowed values, unknown names 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from crmroi.finite import finite
from crmroi.improve.segments import DIMENSIONS
from crmroi.kpi import KPI_DEFINITIONS
from crmroi.messages import M_, Items, Message, Said, code_of
from crmroi.reports.improve import MIN_SEGMENT_ACCOUNTS, TOP
from crmroi.web import dashboard_data as data
from crmroi.web import dashboard_improve as improve
from crmroi.web.api_actuals import ActualsOut
from crmroi.web.api_forecast import ForecastOut
from crmroi.web.api_improve_models import ClvOut, ScoresOut, SegmentOut, SegmentsOut
from crmroi.web.api_models import (
    FiguresOut,
    FiltersOut,
    FollowupsOut,
    KpiOut,
    KpisOut,
    ProbabilityOut,
    RoiOut,
    SeriesOut,
    SourceOut,
    SourcesOut,
    SummaryOut,
    followup_items,
    windows,
)
from crmroi.web.dashboard_filters import (
    followup_notes,
    kpi_notes,
    kpi_split,
    series_units,
    sources_notes,
)
from crmroi.web.deps import State, Viewer
from crmroi.web.filter_query import CurrentWorkspace, FiltersQuery, GroupFiltersQuery, PeriodQuery
from crmroi.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["dashboard"])

By = Literal["team", "rep", "segment", "source"]
KPI_NAMES = tuple(KPI_DEFINITIONS)
Dimension = Literal[DIMENSIONS]  # type: ignore[valid-type]


def _known(name: str) -> None:
    if name not in KPI_DEFINITIONS:
        missing = M_(
            "kpi_not_found",
            "no KPI called %(name)s; KPIs are: %(kpis)s",
            name=repr(name),
            kpis=Items(KPI_NAMES),
        )
        raise HTTPException(404, Said(missing))


@router.get(
    "/kpis", response_model=KpisOut, responses={404: {"description": "No KPI of a name asked for"}}
)
def kpis(
    state: State,
    session: Viewer,
    ws: CurrentWorkspace,
    f: FiltersQuery,
    by: Annotated[By | None, Query(description="Split every KPI by this dimension.")] = None,
    kpi: Annotated[list[str] | None, Query(description="Only these KPIs (repeatable).")] = None,
) -> KpisOut:
    """Every KPI, baseline versus after go-live, with 95% intervals and net changes.

    Without `by`, a team (or else segment) filter gives that group's figures; with
    `by`, the filter of the same dimension keeps its group (and `by=rep` with a team
    keeps that team's reps). Region never narrows KPIs (see `notes`).
    """
    for name in kpi or ():
        _known(name)
    said: list[Message] = list(kpi_notes(f))
    if by is None:
        split, group = kpi_split(f)
        report = data.kpi_report(state, ws, split, f.months)
        rows = data.kpi_rows(report, group)
    else:
        report = data.kpi_report(state, ws, by, f.months)
        rows = list(report.kpis)
        if by in ("team", "segment") and getattr(f, by):
            rows = [k for k in rows if k.group == getattr(f, by)]
        elif by == "rep" and f.team:
            reps = {
                str(r[0])
                for r in state.access.query("SELECT rep_id FROM reps WHERE team = ?", (f.team,))
            }
            rows = [k for k in rows if k.group in reps]
        said = [
            M_(
                "by_narrows_groups",
                "by=%(by)s: the filters other than the %(by)s itself only narrow groups "
                "of the same dimension (by=rep: a team's reps).",
                by=by,
            )
        ] if any((f.team, f.region, f.segment)) else []  # fmt: skip
    if kpi:
        rows = [k for k in rows if k.name in kpi]
    return KpisOut(
        go_live=report.go_live,
        **windows(report),
        by=by,
        bootstrap=report.bootstrap,
        filters=FiltersOut.of(f),
        notes=[str(n) for n in said],
        note_codes=[n.code for n in said],
        kpis=[KpiOut.of(k) for k in rows],
    )


@router.get("/kpis/{name}/series", response_model=SeriesOut)
def kpi_series(
    state: State,
    session: Viewer,
    name: str,
    ws: CurrentWorkspace,
    f: FiltersQuery,
) -> SeriesOut:
    """KPI `name` by month, one line per team (or segment), with a pooled "total" line."""
    _known(name)
    split, keep = series_units(f, ws.options)
    frame = data.series(state, ws, name, split, keep)
    d = KPI_DEFINITIONS[name]
    said = [] if len(frame) else [
        M_(
            "no_series",
            "%(name)s has no monthly series by %(split)s in this workspace.",
            name=name,
            split=split,
        )
    ]  # fmt: skip
    return SeriesOut(
        name=name,
        unit=d.unit,
        kind=d.kind,
        split=split,
        filters=FiltersOut.of(f),
        notes=[str(n) for n in said],
        note_codes=[n.code for n in said],
        points=SeriesOut.points_of(frame),
    )


@router.get(
    "/roi",
    response_model=RoiOut,
    responses={404: {"description": "No such saved case, or no case saved yet"}},
)
def roi(
    state: State,
    session: Viewer,
    case: Annotated[str | None, Query(max_length=80, description="A saved case name.")] = None,
) -> RoiOut:
    """The business case's ROI, NPV, IRR, payback and probability of a positive ROI."""
    return RoiOut.of(_evaluated_case(state, case))


@router.get(
    "/actuals",
    response_model=ActualsOut,
    responses={404: {"description": "No such saved case, or no case saved yet"}},
)
def actuals(
    state: State,
    session: Viewer,
    case: Annotated[str | None, Query(max_length=80, description="A saved case name.")] = None,
) -> ActualsOut:
    """Plan versus actual to date, the re-forecast, people ROI, adoption against the plan
    and the weekly adoption measures (as `crmroi roi --actuals --format json`)."""
    return ActualsOut.of(_evaluated_case(state, case))


def _evaluated_case(state: AppState, case: str | None) -> data.CaseView:
    """The saved case `case` (else the active one) evaluated on the workspace: 404 when
    there is no such case or none saved, 400 when it does not evaluate."""
    ws = data.workspace(state)
    try:
        view = data.case_view(state, ws, case)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    if view is None:
        raise HTTPException(404, "no business case is saved; create one at /cases")
    if view.error is not None:
        raise HTTPException(400, f"case {view.saved.name!r}: {view.error}")
    return view


@router.get("/sources", response_model=SourcesOut)
def sources(state: State, session: Viewer, ws: CurrentWorkspace, f: PeriodQuery) -> SourcesOut:
    """Lead sources: leads, conversion, won deals and revenue, spend, cost per lead."""
    report = data.kpi_report(state, ws, "source", f.months)
    return SourcesOut(
        **windows(report),
        filters=FiltersOut.of(f),
        notes=[str(n) for n in sources_notes(f)],
        note_codes=[n.code for n in sources_notes(f)],
        sources=[SourceOut.of(r) for r in data.source_rows(report)],
    )


@router.get("/followups", response_model=FollowupsOut)
def followups(
    state: State,
    session: Viewer,
    ws: CurrentWorkspace,
    f: GroupFiltersQuery,
    kind: Annotated[
        str | None, Query(max_length=40, description="Only this kind (stale_deal...).")
    ] = None,
    stale_days: Annotated[int, Query(ge=1, le=365, description="Days without activity.")] = 14,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> FollowupsOut:
    """What needs action: stale deals, overdue tasks, hot leads, credit holds, key-rep risk."""
    found = data.followups(state, ws, stale_days)
    items = data.filter_followups(found.items, f)
    if kind:
        items = items[items["kind"] == kind]
    counts = {str(k): int(n) for k, n in items["kind"].value_counts().items()}
    said: list[Message | str] = [*followup_notes(f), *([found.note] if found.note else [])]
    return FollowupsOut(
        as_of=None if found.as_of is None else found.as_of.date(),
        total=len(items),
        counts=counts,
        filters=FiltersOut.of(f),
        notes=[str(n) for n in said],
        note_codes=[code_of(n, "hot_leads_not_ranked") or "" for n in said],
        items=followup_items(items.head(limit)),
    )


@router.get("/summary", response_model=SummaryOut)
def summary(state: State, session: Viewer) -> SummaryOut:
    """The workspace at a glance: rows, the active case's figures, KPI moves, follow-ups."""
    ws = data.workspace(state)
    out = SummaryOut(data_version=ws.version, has_data=ws.has_data, counts=ws.counts)
    view = data.case_view(state, ws)
    if view is not None:
        out.case = view.saved.name
        out.case_error = view.error
        out.figures = [FiguresOut.of(s, risk) for s, risk in view.figures()]
        out.probabilities = [
            ProbabilityOut(horizon_months=h, risk_adjusted=r, p_roi_positive=finite(p))
            for (h, r), p in sorted(view.probabilities.items())
        ]
    if ws.has_data:
        rows = data.kpi_rows(data.kpi_report(state, ws, None, 12), None)
        out.kpis_significant_up = sum(1 for k in rows if k.significant and (k.change_abs or 0) > 0)
        out.kpis_significant_down = sum(
            1 for k in rows if k.significant and (k.change_abs or 0) < 0
        )
        out.followups = len(data.followups(state, ws).items)
    return out


@router.get("/scores", response_model=ScoresOut)
def scores(
    state: State,
    session: Viewer,
    kind: Annotated[
        Literal["leads", "deals"] | None, Query(description="Only leads or only deals.")
    ] = None,
    limit: Annotated[int, Query(ge=0, le=TOP, description="Open records shown per kind.")] = TOP,
) -> ScoresOut:
    """Lead and deal scoring as in `crmroi score` and the report: both models' hold-out
    AUC, log-loss, calibration and top-decile lift, and the best open records by
    calibrated probability with their top reasons (or why scoring is not possible)."""
    ws = data.workspace(state)
    return ScoresOut.of(improve.section(state, ws.version, "scoring"), kind, limit)


@router.get("/segments", response_model=SegmentsOut)
def segments(
    state: State,
    session: Viewer,
    dimension: Annotated[Dimension | None, Query(description="Only this dimension.")] = None,
    limit: Annotated[int, Query(ge=0, le=1000, description="Segments shown.")] = 1000,
) -> SegmentsOut:
    """Ideal-customer segments as in `crmroi segments` and the report: win rate, revenue
    per account and churn with 95% intervals and the number of accounts behind each."""
    ws = data.workspace(state)
    im = improve.section(state, ws.version, "segments")
    rows = [g for g in im.segments if dimension is None or g.dimension == dimension]
    return SegmentsOut(
        as_of=im.as_of,
        available=bool(im.segments),
        reason=im.segments_reason,
        min_accounts=MIN_SEGMENT_ACCOUNTS,
        total=len(rows),
        segments=[SegmentOut.of(g) for g in rows[:limit]],
    )


@router.get("/clv", response_model=ClvOut)
def clv(state: State, session: Viewer) -> ClvOut:
    """Customer lifetime value as in `crmroi clv` and the report: fitted BG/NBD and
    Gamma-Gamma parameters, expected active customers and value per customer, by segment."""
    ws = data.workspace(state)
    return ClvOut.of(improve.section(state, ws.version, "clv"))


@router.get("/forecast", response_model=ForecastOut)
def forecast(state: State, session: Viewer) -> ForecastOut:
    """Pipeline forecast as in `crmroi forecast` and the report: expected won revenue by
    month for six months with an 80% interval, and the back-test's accuracy by horizon."""
    ws = data.workspace(state)
    return ForecastOut.of(improve.section(state, ws.version, "forecast"))
