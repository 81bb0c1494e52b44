"""The KPI engine: every KPI, baseline versus after go-live, with intervals and net changes.

How a phased roll-out is aggregated: every row is placed in the windows of its own
team (the baseline is the `baseline_months` before that team's go-live, the after
window the `after_months` from it); the report's baseline value pools the
baseline rows of all teams and its after value the after rows of all teams, so a
KPI is the same ratio of sums as for a single go-live, just with per-team
windows. Rows without a team (spend) use the company go-live (the earliest).
Totals (sales_volume...) are scaled to the nominal window length when the data end
(or start) inside a team's window.

Net change (difference in differences): for each go-live date, the teams going
live then are compared with the teams still without the CRM throughout those
teams' windows (go-live on or after the end of the after window), over the same
calendar windows (`crmroi.kpi.changes.did`). Several dates are pooled with weights
equal to the treated baseline denominators. The plain change mixes the CRM effect
with the market; the net change removes what happened to the control teams.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from crmroi.errors import ConfigurationError
from crmroi.kpi import activity, customers, reasons, sales, service, sources
from crmroi.kpi.buckets import Buckets
from crmroi.kpi.cell_plan import CellPlan, bound, change, pooled_weights, unavailable
from crmroi.kpi.changes import Cells, MedianCells, Sums, ci, did, value
from crmroi.kpi.coverage import (
    PER_MONTH,
    Clipped,
    Interval,
    adjust,
    column_spans,
    coverage_info,
    floor_reason,
    kpi_columns,
    kpi_span,
)
from crmroi.kpi.definitions import BY_CHOICES, KPI_DEFINITIONS, KpiDefinition
from crmroi.kpi.exposure import check_exposure
from crmroi.kpi.facts import Ctx, Recipe, View, cubes_of
from crmroi.kpi.intervals import BootstrapWeights, percentile_cis
from crmroi.kpi.medians import median_changes
from crmroi.kpi.prefetch import Prefetch, prefetchable
from crmroi.kpi.probes import data_span, filled_columns, table_counts
from crmroi.kpi.report import KpiChange, KpiReport
from crmroi.kpi.stats import Labels, UnitSums
from crmroi.kpi.supplied import mark_supplied, supplied_for, supplied_reason
from crmroi.kpi.windows import (
    PERIODS,
    DidGroup,
    Windows,
    add_months,
    did_groups,
    resolve_windows,
)
from crmroi.store.store import Store, within_reading

Progress = Callable[[str, float], None]
Span = tuple[dt.datetime, dt.datetime] | None

SPECS: dict[str, Recipe] = {
    **sales.SPECS,
    **activity.SPECS,
    **customers.SPECS,
    **service.SPECS,
    **sources.SPECS,
}


def _month_starts(windows: Windows) -> list[dt.datetime]:
    first, _ = windows.span("baseline")
    _, last = windows.span("after")
    day, out = first.replace(day=1), []
    while day <= add_months(last, 1):
        out.append(dt.datetime(day.year, day.month, 1))
        day = add_months(day, 1)
    return out


@dataclass
class _Run:
    """One report's context: the views of every window set, bootstrap weights, span."""

    ctx: Ctx
    windows: Windows
    main: View
    groups: list[DidGroup]
    did_views: list[View]
    span: Span
    weights: BootstrapWeights | None
    views: dict[tuple[Interval, bool], tuple[View, list[View]]]
    evaluations: dict[tuple[Interval, bool], tuple[Clipped, list[Clipped]]]


Finish = Callable[[], list[KpiChange]]


def _evaluations(
    windows: Windows, groups: list[DidGroup], span: Interval, company: bool
) -> tuple[Clipped, list[Clipped]]:
    """A KPI's windows clipped to its covered span: the report's (company-level KPIs:
    the company windows for every row) and the difference-in-differences ones."""
    if company:
        base = Windows(windows.default, {}, windows.baseline_months, windows.after_months)
        return Clipped(base, span), []
    return Clipped(windows, span), [Clipped(g.windows, span) for g in groups]


def _evaluate(
    run: _Run, d: KpiDefinition, by: str | None, span: Interval, supplied: float | None = None
) -> Finish:
    """Every group's change (and net change) of one KPI, in two steps: this call
    forms the KPI's sums (and queues its bootstrap sums); the function it returns,
    called after the run's `BootstrapWeights.flush`, forms the changes. `supplied`:
    a supplied baseline value (company windows, no interval: `crmroi.kpi.supplied`)."""
    labels = run.ctx.labels
    company = d.company_level or supplied is not None
    ev, did_evs = run.evaluations[(span, company)]  # one per span: `Clipped` keeps its shares
    main_view, did_views = run.views[(span, company)]
    recipe = SPECS[d.name]
    groups = run.groups if by in (None, "team") and not company else []
    main = recipe(main_view)
    own = [_own_rows(main, view, g, labels) for view, g in zip(did_views, groups, strict=False)]
    main = main.take(adjust(d, main, ev, labels))
    plan = CellPlan(main, groups, labels)
    parts, cells = [main], [plan.main(main)]
    for i, (view, reused) in enumerate(zip(did_views, own, strict=False)):
        s = recipe(view) if reused is None else UnitSums.concat([reused, recipe(view)])
        cell = plan.did(i, s)
        s = s.take(cell >= 0)
        keep = adjust(d, s, did_evs[i], labels)
        parts.append(s.take(keep))
        cells.append(cell[cell >= 0][keep])
    sums, cell = UnitSums.concat(parts), np.concatenate(cells).astype(np.int64)
    if d.kind == "median":
        medians = MedianCells(sums, cell)
        return lambda: median_changes(d, plan, medians, groups, labels, by, supplied)
    box = Cells.build(sums, cell, plan.size, None if supplied is not None else run.weights)
    return lambda: _changes(run, d, by, plan, box, groups, supplied)


def _own_rows(sums: UnitSums, view: View, g: DidGroup, labels: Labels) -> UnitSums | None:
    """The report's own rows (before `adjust`) of comparison g's treated teams that its
    view leaves out (`_did_view`: their windows are the report's), grouped by team; a
    team's rows do not depend on other teams' rows, so they are the rows the
    comparison's view would form."""
    if view.teams is None:
        return None
    codes = [labels.ids.get(t, -2) for t in g.treated if t not in view.teams]
    if not codes:
        return None
    own = sums.take(np.isin(sums.team, codes))
    own.grp = own.team.copy()
    return own


def _did_view(ctx: Ctx, main: Clipped, ev: Clipped, g: DidGroup) -> View:
    """Comparison g's view (by team): its control teams, and those of its treated teams
    whose windows there differ from their windows in the report. The others' rows are
    the report's own (`_own_rows`): each KPI is formed once for those windows."""
    formed = [t for t in g.treated if main.window(t) != ev.window(t) or main.span != ev.span]
    return View(ctx, ev, by_team=True, teams=[*formed, *g.controls])


def _changes(
    run: _Run,
    d: KpiDefinition,
    by: str | None,
    plan: CellPlan,
    box: Cells,
    groups: list[DidGroup],
    supplied: float | None = None,
) -> list[KpiChange]:
    """Every group's change and net change of one KPI from its cells: the values and
    intervals of all groups at once, from (replicate, group, period) arrays, then the
    net changes of the groups that have a comparison (by team, or the whole report)."""
    months = [run.windows.months(name) for name in PERIODS]

    def values(sums: Sums) -> np.ndarray:
        """KPI values (..., period) from numerator and denominator sums (..., period)."""
        num, den = sums
        return np.stack(
            [value(d.kind, (num[..., p], den[..., p]), months[p]) for p in (0, 1)], axis=-1
        )

    cells = plan.group_cells()
    point = values(box.point(cells))  # (group, period)
    lo, hi = np.full(len(plan.grps), np.nan), np.full(len(plan.grps), np.nan)
    reps = box.replicates(cells)
    if reps is not None:
        samples = values(reps)  # (replicate, group, period)
        lo, hi = percentile_cis(samples[..., 1] - samples[..., 0])
    out = []
    for j in plan.order(run.ctx.labels):
        grp = int(plan.grps[j])
        label = None if by is None else run.ctx.labels.name(grp)
        b, a = float(point[j, 0]), float(point[j, 1])
        b = b if supplied is None else supplied
        if not np.isfinite(b) or not np.isfinite(a):
            missing = "baseline" if not np.isfinite(b) else "after"
            out.append(unavailable(d, reasons.no_rows_in_window(missing), label))
            continue
        k = change(d, b, a, bound(lo[j]), bound(hi[j]), label)
        # net change: this team's own comparison, or all comparisons pooled
        teams = {
            i: list(plan.teams[i][: len(g.treated)]) if by is None else [grp]
            for i, g in enumerate(groups)
            if by is None or label in g.treated
        }
        if teams:
            _net_change(k, d, plan, box, teams, values, run.weights is not None)
        out.append(k)
    return out


def _net_change(
    k: KpiChange,
    d: KpiDefinition,
    plan: CellPlan,
    box: Cells,
    teams: dict[int, list[int]],
    values: Callable[[Sums], np.ndarray],
    bootstrap: bool,
) -> None:
    """Set k's net change (and interval): comparison i's treated `teams[i]` against its
    controls, pooled over the comparisons with weights = treated baseline denominators."""

    def side(i: int, treated: Sequence[int], reps: bool) -> np.ndarray | None:
        cells = np.array([plan.did_cells(i, treated, p) for p in (0, 1)], dtype=np.int64)
        sums = box.replicates(cells) if reps else box.point(cells)
        return None if sums is None else values(sums)

    def did_of(i: int, reps: bool) -> Sums | None:
        vt = side(i, teams[i], reps)
        vc = side(i, plan.controls(i), reps)
        if vt is None or vc is None:
            return None
        return did(d.effect, vt[..., 0], vt[..., 1], vc[..., 0], vc[..., 1])

    found = {i: did_of(i, False) for i in teams}
    nets = {i: n for i, n in found.items() if n is not None and np.isfinite(n[0])}
    if not nets:
        return
    w = pooled_weights([box.point(plan.did_cells(i, teams[i], 0))[1] for i in nets])
    k.net_change_abs = float(sum(wi * n[0] for wi, n in zip(w, nets.values(), strict=True)))
    k.net_change_rel = float(sum(wi * n[1] for wi, n in zip(w, nets.values(), strict=True)))
    rep_nets = [did_of(i, True) for i in nets]
    if bootstrap and all(r is not None for r in rep_nets):
        samples = sum(wi * r[0] for wi, r in zip(w, rep_nets, strict=True) if r is not None)
        k.net_ci_low, k.net_ci_high = ci(np.asarray(samples))


@within_reading
def compute_kpi_report(
    store: Store,
    *,
    go_live: dt.date | None = None,
    baseline_months: int = 12,
    after_months: int = 12,
    by: str | None = None,
    bootstrap: int = 500,
    seed: int = 0,
    progress: Progress | None = None,
    kpis: Sequence[str] | None = None,
    exposure: str = "closed",
) -> KpiReport:
    """Every KPI for the baseline and after windows around go-live (see the module doc).

    `go_live` overrides the workspace's recorded dates (and the phased roll-out);
    `by` groups by team, rep, segment or source (with source: the lead-source KPIs);
    `bootstrap` replicates (0: no intervals) with `seed`; `kpis` limits the names;
    `exposure` "created" (deals count in the window they were created and closed in)
    or "closed" (deals count in the window they closed in): `crmroi.kpi.exposure`.
    """
    if by not in (None, *BY_CHOICES):
        raise ConfigurationError(reasons.one_of("--by", BY_CHOICES, str(by)))
    unknown = [n for n in kpis or () if n not in KPI_DEFINITIONS]
    if unknown:
        raise ConfigurationError(reasons.unknown_kpi(unknown[0], list(SPECS)))
    windows = resolve_windows(store.settings(), go_live, baseline_months, after_months)
    counts = table_counts(store)
    span = data_span(store, counts)
    spans = column_spans(store, counts)
    groups = did_groups(windows) if by in (None, "team") else []
    names = list(kpis or KPI_DEFINITIONS)
    if by == "source" and kpis is None:
        names = [n for n in names if "source" in KPI_DEFINITIONS[n].dims]
    columns = {n: kpi_columns(n, counts, KPI_DEFINITIONS[n].tables) for n in names}
    kspans = {n: kpi_span(columns[n], spans) for n in names}
    supplied = supplied_for(store, counts, windows, kspans) if by is None else {}
    evaluations: dict[tuple[Interval, bool], tuple[Clipped, list[Clipped]]] = {}
    for n, ks in kspans.items():
        company = KPI_DEFINITIONS[n].company_level or n in supplied
        if ks is not None and (ks, company) not in evaluations:
            evaluations[(ks, company)] = _evaluations(windows, groups, ks, company)
    evs = [e for main_ev, did_evs in evaluations.values() for e in (main_ev, *did_evs)]
    buckets = Buckets([windows, *(g.windows for g in groups), *evs], list(windows.by_team))
    ctx = Ctx(store, buckets, by, _month_starts(windows), exposure=check_exposure(exposure))
    views = {
        key: (
            View(ctx, main_ev),
            [_did_view(ctx, main_ev, e, g) for e, g in zip(did_evs, groups, strict=False)],
        )
        for key, (main_ev, did_evs) in evaluations.items()
    }
    run = _Run(
        ctx, windows, View(ctx, windows), groups,
        [View(ctx, g.windows, by_team=True) for g in groups], span,
        BootstrapWeights(seed, bootstrap, ctx.labels.names) if bootstrap > 0 else None,
        views, evaluations,
    )  # fmt: skip
    needed = {
        n for name in names for n in KPI_DEFINITIONS[name].needs if counts.get(n.split(".")[0])
    }
    known = filled_columns(ctx, sorted(needed))

    def blocked(name: str) -> list[KpiChange] | None:
        """Why KPI `name` cannot be formed (its one unavailable row), None when it can."""
        d = KPI_DEFINITIONS[name]
        empty = [t for t in d.tables if counts.get(t, 0) == 0]
        if empty:
            return [unavailable(d, reasons.no_rows_in_tables(empty))]
        if any(not known.get(n, False) for n in d.needs):
            column = next(n for n in d.needs if not known.get(n, False))
            return [unavailable(d, reasons.no_values(column))]
        if by is not None and by not in d.dims:
            return [unavailable(d, reasons.not_by(by))]
        if (ks := kspans[name]) is None:
            missing = [c for c in columns[name] if c not in spans]
            return [unavailable(d, reasons.no_dates(missing))]
        if (series := supplied.get(name)) is not None:
            reason = supplied_reason(d, evaluations[(ks, True)][0], series, ks)
            return [unavailable(d, reason)] if reason else None
        why = floor_reason(d, evaluations[(ks, d.company_level)][0], columns[name], ks)
        return [unavailable(d, why)] if why else None

    refused = {name: blocked(name) for name in names}
    results: list[list[KpiChange] | Finish] = []
    ctx.prefetch = Prefetch(store) if prefetchable(store) else None
    try:
        formed = [n for n in names if refused[n] is None]
        ctx.send_ahead(list(dict.fromkeys(b for n in formed for b in cubes_of(SPECS[n]))))
        for i, name in enumerate(names):
            if progress:
                progress(name, i / len(names))
            if (why := refused[name]) is not None:
                results.append(why)
                continue
            series, ks = supplied.get(name), kspans[name]
            assert ks is not None  # `blocked` refuses a KPI without a span
            mean = None if series is None else series.mean()
            results.append(_evaluate(run, KPI_DEFINITIONS[name], by, ks, mean))
    finally:
        if ctx.prefetch is not None:
            ctx.prefetch.close()
    if run.weights is not None:
        run.weights.flush()  # every KPI's replicate sums at once
    changes: list[KpiChange] = []
    for name, r in zip(names, results, strict=True):
        found = r if isinstance(r, list) else r()
        d = KPI_DEFINITIONS[name]
        found = found or [unavailable(d, reasons.no_usable_rows())]
        ks = kspans[name]
        company = d.company_level or name in supplied
        cov = None if ks is None else coverage_info(evaluations[(ks, company)][0], d)
        if name in supplied:
            cov = mark_supplied(found, supplied[name], d, cov, baseline_months)
        for k in found:
            k.coverage = cov
            if cov is not None and cov["basis"] == PER_MONTH and k.available:
                k.unit = f"{d.unit} {PER_MONTH}"
        changes += found
    if progress:
        progress("done", 1.0)
    b0, b1 = windows.span("baseline")
    a0, a1 = windows.span("after")
    one_day = dt.timedelta(days=1)
    return KpiReport(
        go_live=windows.default.go_live,
        baseline=(b0, b1 - one_day),
        after=(a0, a1 - one_day),
        kpis=changes,
        by=by,
        go_live_by_team={t: w.go_live for t, w in windows.by_team.items()},
        baseline_months=baseline_months,
        after_months=after_months,
        bootstrap=bootstrap,
        seed=seed,
        data_span=span,
        exposure=ctx.exposure,
        data_spans={
            c: (lo.date(), (hi - dt.timedelta(days=1)).date()) for c, (lo, hi) in spans.items()
        },
    )
