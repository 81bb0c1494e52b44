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
from crmroi.kpi import activity, customers, sales, service, sources
from crmroi.kpi.changes import Cells, MedianCells, ci, did, rel, value
from crmroi.kpi.definitions import BY_CHOICES, KPI_DEFINITIONS, KpiDefinition
from crmroi.kpi.facts import Ctx, FactSpec
from crmroi.kpi.intervals import Z95, normal_ci, rng_for
from crmroi.kpi.report import KpiChange, KpiReport
from crmroi.kpi.stats import UnitSums, unit_sums, value_counts
from crmroi.kpi.windows import PERIODS, Windows, add_months, resolve_windows
from crmroi.store.schema import TABLES
from crmroi.store.store import Store

Progress = Callable[[str, float], None]
Span = tuple[dt.datetime, dt.datetime] | None
FULL_COVERAGE = 0.95  # a window this much inside the data counts as complete

SPECS: dict[str, FactSpec] = {
    **sales.SPECS,
    **activity.SPECS,
    **customers.SPECS,
    **service.SPECS,
    **sources.SPECS,
}
SPAN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("deals", "created_at"), ("deals", "closed_at"), ("leads", "created_at"),
    ("activities", "occurred_at"), ("orders", "ordered_at"), ("tickets", "opened_at"),
)  # fmt: skip


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


def data_span(store: Store, counts: dict[str, int]) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last event time over deals, leads, activities, orders and tickets."""
    lows, highs = [], []
    for table, column in SPAN_COLUMNS:
        if counts.get(table, 0):
            col = store.table(table)[column]
            row = store.table(table).aggregate(lo=col.min(), hi=col.max()).to_pyarrow()
            lo, hi = row.column("lo")[0].as_py(), row.column("hi")[0].as_py()
            lows += [lo] if lo is not None else []
            highs += [hi] if hi is not None else []
    return (min(lows), max(highs)) if lows else None


def _month_starts(windows: Windows) -> list[dt.datetime]:
    first, _ = windows.span("baseline")
    _, last = windows.span("after")
    day, out = first.replace(day=1), []
    while day <= add_months(last, 1):
        out.append(dt.datetime(day.year, day.month, 1))
        day = add_months(day, 1)
    return out


class _Plan:
    """Cell numbering for one KPI: main (group, period) cells and DiD (date, team, period)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[object, ...], int] = {}

    def cell(self, key: tuple[object, ...]) -> int:
        return self.ids.setdefault(key, len(self.ids))

    def assign(self, sums: UnitSums, prefix: tuple[object, ...], keyed_by: str) -> np.ndarray:
        keys = getattr(sums, keyed_by)
        return np.array(
            [self.cell((*prefix, k, p)) for k, p in zip(keys, sums.period, strict=True)]
        )

    def get(self, key: tuple[object, ...]) -> list[int]:
        return [self.ids[key]] if key in self.ids else []

    def did(self, i: int, teams: Sequence[str], period: str) -> list[int]:
        """Cells of comparison `i` for `teams` in `period`."""
        return [c for t in teams for c in self.get(("did", i, t, period))]


def _coverage(sums: UnitSums, windows: Windows, span: Span) -> np.ndarray:
    """Share of each row's (team, period) window that the data cover."""
    cache: dict[tuple[str, str], float] = {}
    out = np.ones(len(sums))
    for i, key in enumerate(zip(sums.team, sums.period, strict=True)):
        if key not in cache:
            cache[key] = windows.window(key[0]).coverage(key[1], span)
        out[i] = cache[key]
    return out


def _adjust(kind: str, sums: UnitSums, windows: Windows, span: Span) -> UnitSums:
    """Totals scaled to the nominal window length; retention only from fully covered windows."""
    if kind == "total":
        cov = _coverage(sums, windows, span)
        sums.num *= np.where(cov > 0, 1.0 / np.maximum(cov, 1e-9), 0.0)
    elif kind == "annual":
        return sums.take(_coverage(sums, windows, span) >= FULL_COVERAGE)
    return sums


def _unavailable(d: KpiDefinition, reason: str, group: str | None = None) -> KpiChange:
    return KpiChange(d.name, d.unit, d.area, available=False, reason=reason, group=group)


def _evaluate(
    ctx: Ctx,
    d: KpiDefinition,
    windows: Windows,
    by: str | None,
    span: tuple[dt.datetime, dt.datetime] | None,
    bootstrap: int,
    seed: int,
) -> list[KpiChange]:
    """Every group's change (and net change) of one KPI."""
    spec = SPECS[d.name]
    for p in PERIODS:
        if max(w.coverage(p, span) for w in (windows.default, *windows.by_team.values())) <= 0:
            first, last = (
                ("?", "?") if span is None else (f"{span[0]:%Y-%m-%d}", f"{span[1]:%Y-%m-%d}")
            )
            return [_unavailable(d, f"the data ({first} to {last}) do not cover the {p} window")]
    fetch = value_counts if d.kind == "median" else unit_sums
    plan = _Plan()
    groups = did_groups(windows) if by in (None, "team") else []
    fetched = fetch(ctx, spec, [(windows, by)] + [(g.windows, "team") for g in groups])
    main = _adjust(d.kind, fetched[0], windows, span)
    parts, cells = [main], [plan.assign(main, ("main",), "grp")]
    for i, (g, s) in enumerate(zip(groups, fetched[1:], strict=True)):
        keep = np.isin(s.team.astype(str), [*g.treated, *g.controls])
        s = _adjust(d.kind, s.take(keep), g.windows, span)
        parts.append(s)
        cells.append(plan.assign(s, ("did", i), "team"))
    sums, cell = UnitSums.concat(parts), np.concatenate(cells).astype(np.int64)
    if d.kind == "median":
        return _median_changes(d, plan, MedianCells(sums, cell), groups, main, by)
    box = Cells.build(sums, cell, len(plan.ids), bootstrap, rng_for(seed, d.name))
    months = {p: windows.months(p) for p in PERIODS}

    def values(parts: dict[str, list[int]], reps: bool) -> dict[str, np.ndarray] | None:
        out = {}
        for p, c in parts.items():
            s = box.replicates(c) if reps else box.point(c)
            if s is None:
                return None
            out[p] = value(d.kind, s, months[p])
        return out

    def net(i: int, treated: Sequence[str], reps: bool) -> tuple[np.ndarray, np.ndarray] | None:
        vt = values({p: plan.did(i, treated, p) for p in PERIODS}, reps)
        vc = values({p: plan.did(i, groups[i].controls, p) for p in PERIODS}, reps)
        if vt is None or vc is None:
            return None
        return did(d.effect, vt["baseline"], vt["after"], vc["baseline"], vc["after"])

    out = []
    for grp in sorted({str(x) for x in main.grp}):
        label = None if by is None else grp
        point = values({p: plan.get(("main", grp, p)) for p in PERIODS}, False) or {}
        b, a = float(point["baseline"]), float(point["after"])
        if not np.isfinite(b) or not np.isfinite(a):
            missing = "baseline" if not np.isfinite(b) else "after"
            out.append(_unavailable(d, f"no rows in the {missing} window", label))
            continue
        reps = values({p: plan.get(("main", grp, p)) for p in PERIODS}, True)
        lo, hi = ci(None if reps is None else reps["after"] - reps["baseline"])
        k = _change(d, b, a, lo, hi, label)
        # net change: this team's own comparison, or all comparisons pooled
        teams = {
            i: (g.treated if by is None else (grp,))
            for i, g in enumerate(groups)
            if by is None or grp in g.treated
        }
        found = {i: net(i, t, False) for i, t in teams.items()}
        nets = {i: n for i, n in found.items() if n is not None and np.isfinite(n[0])}
        if nets:
            w = _weights([box.point(plan.did(i, teams[i], "baseline"))[1] for i in nets])
            k.net_change_abs = float(sum(wi * n[0] for wi, n in zip(w, nets.values(), strict=True)))
            k.net_change_rel = float(sum(wi * n[1] for wi, n in zip(w, nets.values(), strict=True)))
            rep_nets = [net(i, teams[i], True) for i in nets]
            if bootstrap > 0 and all(r is not None for r in rep_nets):
                samples = sum(wi * r[0] for wi, r in zip(w, rep_nets, strict=True) if r is not None)
                k.net_ci_low, k.net_ci_high = ci(np.asarray(samples))
        out.append(k)
    return out


def _weights(raw: list[float] | list[np.ndarray]) -> np.ndarray:
    w = np.asarray(raw, dtype=np.float64)
    return w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / max(len(w), 1))


def _change(
    d: KpiDefinition, b: float, a: float, lo: float | None, hi: float | None, group: str | None
) -> KpiChange:
    k = KpiChange(d.name, d.unit, d.area, b, a, a - b, float(rel(a - b, b)), lo, hi, group=group)
    k.significant = lo is not None and hi is not None and (lo > 0 or hi < 0)
    return k


def _median_changes(
    d: KpiDefinition,
    plan: _Plan,
    mc: MedianCells,
    groups: list[DidGroup],
    main: UnitSums,
    by: str | None,
) -> list[KpiChange]:
    """Median KPIs: order-statistic intervals; net change on the log scale (delta method)."""
    out = []
    for grp in sorted({str(x) for x in main.grp}):
        label = None if by is None else grp
        (b, se_b), (a, se_a) = (mc.median(plan.get(("main", grp, p))) for p in PERIODS)
        if b is None or a is None:
            missing = "baseline" if b is None else "after"
            out.append(_unavailable(d, f"no rows in the {missing} window", label))
            continue
        se = None if se_b is None or se_a is None else float(np.hypot(se_b, se_a))
        k = _change(d, b, a, *normal_ci(a - b, se), label)
        nets: list[tuple[float, float, float, float]] = []  # net_rel, t_b, variance, weight
        for i, g in enumerate(groups):
            if by is not None and grp not in g.treated:
                continue
            treated = g.treated if by is None else (grp,)
            meds = [
                mc.median(plan.did(i, side, p)) for side in (treated, g.controls) for p in PERIODS
            ]
            ok = [(m, sd) for m, sd in meds if m is not None and sd is not None and m > 0]
            if len(ok) < 4:
                continue
            (tb, _), (ta, _), (cb, _), (ca, _) = ok
            var = sum((sd / m) ** 2 for m, sd in ok)
            weight = float(mc.count(plan.did(i, treated, "baseline")))
            nets.append((float(np.log(ta / tb) - np.log(ca / cb)), tb, var, weight))
        if nets:
            w = _weights([n[3] for n in nets])
            log_net = float(sum(wi * n[0] for wi, n in zip(w, nets, strict=True)))
            base = float(sum(wi * n[1] for wi, n in zip(w, nets, strict=True)))
            sd = float(np.sqrt(sum(wi**2 * n[2] for wi, n in zip(w, nets, strict=True))))
            k.net_change_rel = float(np.expm1(log_net))
            k.net_change_abs = k.net_change_rel * base
            k.net_ci_low = base * float(np.expm1(log_net - Z95 * sd))
            k.net_ci_high = base * float(np.expm1(log_net + Z95 * sd))
        out.append(k)
    return out


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
) -> KpiReport:
    """Every KPI for the baseline and after windows around go-live (see the module doc).

    `go_live` overrides the workspace's recorded dates (and the phased roll-out);
    `by` groups by team, rep, segment or source (with source: the lead-source KPIs);
    `bootstrap` replicates (0: no intervals) with `seed`; `kpis` limits the names.
    """
    if by not in (None, *BY_CHOICES):
        raise ConfigurationError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    unknown = [n for n in kpis or () if n not in KPI_DEFINITIONS]
    if unknown:
        raise ConfigurationError(f"unknown KPI {unknown[0]!r}; KPIs are: {', '.join(SPECS)}")
    windows = resolve_windows(store.settings(), go_live, baseline_months, after_months)
    counts = {name: store.count(name) for name in TABLES}
    span = data_span(store, counts)
    ctx = Ctx(store, windows, _month_starts(windows))
    names = list(kpis or KPI_DEFINITIONS)
    if by == "source" and kpis is None:
        names = [n for n in names if "source" in KPI_DEFINITIONS[n].dims]
    results: list[KpiChange] = []
    known: dict[str, bool] = {}

    def filled(qualified: str) -> bool:
        """True when table.column holds at least one non-null value."""
        if qualified not in known:
            table, column = qualified.split(".")
            t = store.table(table)
            known[qualified] = bool(t.filter(t[column].notnull()).count().execute() > 0)
        return known[qualified]

    for i, name in enumerate(names):
        d = KPI_DEFINITIONS[name]
        if progress:
            progress(name, i / len(names))
        empty = [t for t in d.tables if counts.get(t, 0) == 0]
        if empty:
            results.append(_unavailable(d, f"no rows in table {', '.join(empty)}"))
        elif any(not filled(n) for n in d.needs):
            column = next(n for n in d.needs if not filled(n))
            results.append(_unavailable(d, f"{column} has no values"))
        elif by is not None and by not in d.dims:
            results.append(_unavailable(d, f"not available by {by} (its inputs have no {by})"))
        else:
            found = _evaluate(ctx, d, windows, by, span, bootstrap, seed)
            results += found or [_unavailable(d, "no usable rows in the baseline or after window")]
    if progress:
        progress("done", 1.0)
    b0, b1 = windows.span("baseline")
    a0, a1 = windows.span("after")
    one_day = dt.timedelta(days=1)
    return KpiReport(
        go_live=windows.default.go_live,
        baseline=(b0, b1 - one_day),
        after=(a0, a1 - one_day),
        kpis=results,
        by=by,
        go_live_by_team={t: w.go_live for t, w in windows.by_team.items()},
        baseline_months=baseline_months,
        after_months=after_months,
        bootstrap=bootstrap,
        seed=seed,
        data_span=span,
    )
