"""Grouped KPI reports against a straightforward per-group recomputation (small demo).

The engine forms every group's values and bootstrap intervals at once, over
(replicate, group, period) arrays of cell sums, with the replicate sums of all
KPIs made in batched (sparse or dense) products. The reference here takes each
group's rows of the KPI's per-unit sums on its own, weights them row by row with
the bootstrap's Poisson weights, and uses `np.percentile` and `np.median`: no
cells, no batches, no vectorised percentiles. For every KPI and every `--by`
(none, team, rep, segment), with dense and with sparse products, the report must
list the same groups in the same order, with the same values, intervals (same
seed, same replicates), net changes (by team and overall; not for the median)
and unavailable reasons, to 1e-9 (relative).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from crmroi.kpi import KPI_DEFINITIONS, compute_kpi_report, coverage, engine
from crmroi.kpi.buckets import Buckets
from crmroi.kpi.coverage import Clipped, Interval, column_spans, kpi_columns, kpi_span
from crmroi.kpi.definitions import KpiDefinition
from crmroi.kpi.facts import Ctx, View
from crmroi.kpi.intervals import Z95, BootstrapWeights, percentile_cis, poisson_weights
from crmroi.kpi.report import KpiChange
from crmroi.kpi.stats import NONE, UnitSums
from crmroi.kpi.windows import PERIODS, Windows, resolve_windows
from crmroi.store import Store

REPLICATES = 500
SEED = 0
NO_ROWS = ("no rows in the baseline window", "no rows in the after window")


@pytest.fixture(scope="module")
def store(small_demo_folder: Path) -> Iterator[Store]:
    with Store.open(small_demo_folder) as s:
        yield s


@dataclass
class Setup:
    """The run context the engine builds for one `--by`, rebuilt for the reference:
    per KPI, its windows clipped to its covered span (`crmroi.kpi.coverage`)."""

    ctx: Ctx
    windows: Windows
    groups: list[engine.DidGroup]
    spans: dict[str, Interval]
    views: dict[tuple[Interval, bool], tuple[View, list[View]]]
    evs: dict[tuple[Interval, bool], tuple[Clipped, list[Clipped]]]
    counts: dict[str, int]

    def key(self, d: KpiDefinition) -> tuple[Interval, bool]:
        span = kpi_span(kpi_columns(d.name, self.counts, d.tables), self.spans)
        assert span is not None
        return span, d.company_level

    def sums(self, d: KpiDefinition, view: View, ev: Clipped) -> UnitSums:
        """The KPI's per-unit sums in `view` (totals per covered month when a window
        is not whole; KPIs needing whole windows filtered)."""
        raw = engine.SPECS[d.name](view)
        return raw.take(coverage.adjust(d, raw, ev, self.ctx.labels))

    def replicate_weights(self, unit: np.ndarray) -> np.ndarray:
        """(rows x replicates) bootstrap weights of rows of units `unit` (1: a fixed row)."""
        w = np.ones((len(unit), REPLICATES))
        has = unit != NONE
        if has.any():
            codes, inverse = np.unique(unit[has], return_inverse=True)
            names = [self.ctx.labels.names[c] for c in codes.tolist()]
            w[has] = poisson_weights(SEED, REPLICATES, names)[inverse]
        return w


def _setup(store: Store, by: str | None) -> Setup:
    windows = resolve_windows(store.settings(), None, 12, 12)
    counts = engine.table_counts(store)
    spans = column_spans(store, counts)
    groups = engine.did_groups(windows) if by in (None, "team") else []
    evs = {}
    for d in KPI_DEFINITIONS.values():
        span = kpi_span(kpi_columns(d.name, counts, d.tables), spans)
        if span is not None:
            evs[(span, d.company_level)] = engine._evaluations(
                windows, groups, span, d.company_level
            )
    flat = [e for m, did in evs.values() for e in (m, *did)]
    buckets = Buckets([windows, *(g.windows for g in groups), *flat], list(windows.by_team))
    ctx = Ctx(store, buckets, by, engine._month_starts(windows))
    views = {
        k: (View(ctx, m), [View(ctx, e, by_team=True) for e in did]) for k, (m, did) in evs.items()
    }
    return Setup(ctx, windows, groups, spans, views, evs, counts)


def _value(kind: str, num: np.ndarray, den: np.ndarray, months: int) -> np.ndarray:
    """A window's KPI value from its summed numerator and denominator."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "total":
            return num
        ratio = np.where(den > 0, num / den, np.nan)
        return ratio ** (12.0 / (months / 2.0)) if kind == "annual" else ratio


def _interval(samples: np.ndarray) -> tuple[float | None, float | None]:
    finite = samples[np.isfinite(samples)]
    if finite.size < 10:
        return None, None
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


@dataclass
class Side:
    """Point and replicate values (baseline, after) of some rows of a KPI's sums."""

    point: np.ndarray  # (2,)
    reps: np.ndarray  # (replicates, 2)
    base_den: float  # baseline denominator (the pooling weight of a comparison)


def _side(s: Setup, d: KpiDefinition, sums: UnitSums, rows: np.ndarray, ev: Clipped) -> Side:
    point, reps = np.zeros(2), np.zeros((REPLICATES, 2))
    den0 = 0.0
    for p, name in enumerate(PERIODS):
        m = rows & (sums.period == p)
        weights = s.replicate_weights(sums.unit[m])
        num, den = sums.num[m], sums.den[m]
        months = ev.windows.months(name)
        point[p] = _value(d.kind, np.asarray(num.sum()), np.asarray(den.sum()), months)
        reps[:, p] = _value(d.kind, num @ weights, den @ weights, months)
        den0 = float(den.sum()) if p == 0 else den0
    return Side(point, reps, den0)


def _median(values: np.ndarray, counts: np.ndarray) -> tuple[float | None, float | None]:
    """(median, order-statistic standard error) of values repeated `counts` times."""
    x = np.sort(np.repeat(values, counts.astype(np.int64)))
    if not len(x):
        return None, None
    if len(x) < 5:
        return float(np.median(x)), None
    half = Z95 * math.sqrt(len(x)) / 2.0
    lo = max(math.floor(len(x) / 2.0 - half), 1) - 1
    hi = min(math.ceil(len(x) / 2.0 + half), len(x)) - 1
    return float(np.median(x)), float(x[hi] - x[lo]) / (2.0 * Z95)


def _net(
    s: Setup, d: KpiDefinition, group: str | None, resampled: bool
) -> tuple[float, float, float | None, float | None] | None:
    """(net_abs, net_rel, ci_low, ci_high): treated teams (`group`, or every
    comparison's) against the comparison's controls, pooled by baseline denominators."""
    found = []
    did_views, did_evs = s.views[s.key(d)][1], s.evs[s.key(d)][1]
    for g, view, ev in zip(s.groups, did_views, did_evs, strict=True):
        if group is not None and group not in g.treated:
            continue
        sums = s.sums(d, view, ev)
        sides = []
        for teams in ([group] if group else g.treated, g.controls):
            codes = [s.ctx.labels.ids.get(t, -2) for t in teams]
            sides.append(_side(s, d, sums, np.isin(sums.team, codes), ev))
        t, c = sides
        with np.errstate(divide="ignore", invalid="ignore"):
            if d.effect == "abs":
                net = (t.point[1] - t.point[0]) - (c.point[1] - c.point[0])
                reps = (t.reps[:, 1] - t.reps[:, 0]) - (c.reps[:, 1] - c.reps[:, 0])
                rel = net / t.point[0] if t.point[0] != 0 else math.nan
            else:
                rel = (t.point[1] / t.point[0]) / (c.point[1] / c.point[0]) - 1.0
                net = rel * t.point[0]
                r_rel = (t.reps[:, 1] / t.reps[:, 0]) / (c.reps[:, 1] / c.reps[:, 0]) - 1.0
                reps = r_rel * t.reps[:, 0]
        if np.isfinite(net):
            found.append((float(net), float(rel), reps, t.base_den))
    if not found:
        return None
    raw = np.array([f[3] for f in found])
    w = raw / raw.sum() if raw.sum() > 0 else np.full(len(raw), 1.0 / len(raw))
    samples = sum(wi * f[2] for wi, f in zip(w, found, strict=True))
    lo, hi = _interval(np.asarray(samples)) if resampled else (None, None)
    return (
        sum(wi * f[0] for wi, f in zip(w, found, strict=True)),
        sum(wi * f[1] for wi, f in zip(w, found, strict=True)),
        lo,
        hi,
    )


def _reference(s: Setup, d: KpiDefinition, by: str | None) -> list[KpiChange]:
    """Every group's change of KPI `d`, one group at a time."""
    main_ev = s.evs[s.key(d)][0]
    sums = s.sums(d, s.views[s.key(d)][0], main_ev)
    resampled = bool((sums.unit != NONE).any())
    labels = s.ctx.labels
    codes = sorted(np.unique(sums.grp).tolist(), key=lambda c: str(labels.name(c)))
    out = []
    for code in codes:
        group = None if by is None else labels.name(code)
        rows = sums.grp == code
        if d.kind == "median":
            (b, se_b), (a, se_a) = (
                _median(sums.num[rows & (sums.period == p)], sums.den[rows & (sums.period == p)])
                for p in (0, 1)
            )
            lo = hi = None
            if se_b is not None and se_a is not None and a is not None and b is not None:
                half = Z95 * math.hypot(se_b, se_a)
                lo, hi = a - b - half, a - b + half
        else:
            side = _side(s, d, sums, rows, main_ev)
            b, a = (float(x) if np.isfinite(x) else None for x in side.point)
            diff = side.reps[:, 1] - side.reps[:, 0]
            lo, hi = _interval(diff) if resampled else (None, None)
        if b is None or a is None:
            reason = NO_ROWS[0] if b is None else NO_ROWS[1]
            out.append(
                KpiChange(d.name, d.unit, d.area, available=False, reason=reason, group=group)
            )
            continue
        rel = (a - b) / b if b != 0 else None
        k = KpiChange(d.name, d.unit, d.area, b, a, a - b, rel, lo, hi, group=group)
        company = d.company_level
        if (
            s.groups
            and d.kind != "median"
            and not company
            and (by is None or group in s.windows.by_team)
        ):
            net = _net(s, d, group, resampled)
            if net is not None:
                k.net_change_abs, k.net_change_rel, k.net_ci_low, k.net_ci_high = net
        out.append(k)
    return out


FIELDS = ("baseline", "after", "change_abs", "change_rel", "ci_low", "ci_high")
NET_FIELDS = ("net_change_abs", "net_change_rel", "net_ci_low", "net_ci_high")


def _assert_same(got: KpiChange, want: KpiChange, check_net: bool) -> None:
    where = f"{got.name} [{got.group}]"
    assert (got.group, got.available, got.reason) == (want.group, want.available, want.reason), (
        where
    )
    scale = max(abs(got.baseline or 0.0), abs(got.after or 0.0), 1e-300)
    for field in FIELDS + (NET_FIELDS if check_net else ()):
        g, w = getattr(got, field), getattr(want, field)
        assert (g is None) == (w is None), f"{where} {field}: {g} vs {w}"
        if g is not None:
            tol = (1e-9 * abs(w) + 1e-12) if field.endswith("_rel") else 1e-9 * scale
            assert g == pytest.approx(w, rel=1e-9, abs=tol), f"{where} {field}"


@pytest.mark.parametrize("product", ["dense", "sparse"])
@pytest.mark.parametrize("by", [None, "team", "rep", "segment"])
def test_grouped_report_matches_per_group_recomputation(
    store: Store, by: str | None, product: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every by-value, with the bootstrap's replicate sums made by dense products
    only, then by sparse products only (the small demo alone would pick dense)."""
    monkeypatch.setattr(BootstrapWeights, "SPARSE", 0.0 if product == "dense" else math.inf)
    report = compute_kpi_report(store, by=by, bootstrap=REPLICATES, seed=SEED)
    s = _setup(store, by)
    checked = groups = 0
    for d in KPI_DEFINITIONS.values():
        got = [k for k in report.kpis if k.name == d.name]
        kpi_level = len(got) == 1 and not got[0].available and got[0].reason not in NO_ROWS
        if kpi_level and (got[0].group is None):
            continue  # unavailable for the whole KPI (no table, not by this grouping)
        want = _reference(s, d, by)
        assert [k.group for k in got] == [k.group for k in want], d.name
        for g, w in zip(got, want, strict=True):
            _assert_same(g, w, check_net=d.kind != "median")
        checked += 1
        groups += len(want)
    assert checked >= 15
    if by in ("rep", "segment", "team"):
        assert groups > 2 * checked  # several groups per KPI, so grouping is exercised


@pytest.mark.parametrize("by", [None, "team"])
def test_comparison_rows_formed_once_are_a_full_views_rows(store: Store, by: str | None) -> None:
    """The engine forms a comparison's rows only for its controls (and treated teams
    whose windows there are not their own) and takes the treated teams' rows from the
    report's own: per team, the same rows in the same order as a view of every team."""
    s = _setup(store, by)
    reused = 0
    for d in KPI_DEFINITIONS.values():
        span = kpi_span(kpi_columns(d.name, s.counts, d.tables), s.spans)
        if span is None or d.company_level:
            continue
        recipe = engine.SPECS[d.name]
        main_ev, did_evs = s.evs[s.key(d)]
        main_view, full_views = s.views[s.key(d)]
        main = recipe(main_view)
        for g, ev, full in zip(s.groups, did_evs, full_views, strict=True):
            view = engine._did_view(s.ctx, main_ev, ev, g)
            own = engine._own_rows(main, view, g, s.ctx.labels)
            got = recipe(view) if own is None else UnitSums.concat([own, recipe(view)])
            reused += own is not None and len(own) > 0
            want = recipe(full)
            for team in (*g.treated, *g.controls):
                code = s.ctx.labels.ids.get(team, -2)
                a, b = (x.take(x.team == code) for x in (got, want))
                for field in ("grp", "unit", "period", "num", "den"):
                    np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert reused > 10  # treated teams' rows were taken from the report's


def test_percentile_cis_are_numpy_percentiles() -> None:
    """Column-wise intervals equal np.percentile of each column's finite values."""
    rng = np.random.default_rng(3)
    for trial in range(60):
        x = rng.standard_normal((int(rng.integers(1, 400)), 7)) * 10.0 ** rng.uniform(-6, 6)
        if trial % 2:
            x = np.round(x)  # ties
        holes = rng.random(x.shape) < rng.uniform(0, 1)
        x[holes] = rng.choice([np.nan, np.inf, -np.inf], size=int(holes.sum()))
        lo, hi = percentile_cis(x)
        for j in range(x.shape[1]):
            want = _interval(x[:, j])
            got = (None, None) if np.isnan(lo[j]) else (float(lo[j]), float(hi[j]))
            assert got == want


def test_poisson_table_is_scipys() -> None:
    """The replicate weights' Poisson(1) table, from the distribution function written
    out, equals the one from scipy.stats (which the engine no longer imports)."""
    from scipy import stats

    from crmroi.kpi import intervals

    levels = (np.arange(65536) + 0.5) / 65536
    ref = np.searchsorted(stats.poisson.cdf(np.arange(16), 1.0), levels, side="right")
    assert np.array_equal(intervals._POISSON, ref)
    assert np.bincount(ref.astype(np.int64))[:3].tolist() == [24109, 24110, 12054]  # 2^16 P(X=k)
