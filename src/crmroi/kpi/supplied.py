"""Supplied baselines: monthly KPI values from outside the CRM, used where the
workspace has no pre-go-live rows for a KPI (docs/kpis.md, "Supplied baselines").

When used: a report not grouped (`--by` none), a KPI whose own data cover less than
the coverage floor of the company baseline window (or, for the KPIs that need whole
windows, not all of it), and supplied values for at least the floor's share of that
window's months. The KPI is then evaluated over the company windows (the earliest
go-live: a supplied series has no team), its after value measured as usual, and its
baseline formed from the supplied months of the baseline window:

- totals: the mean supplied value per month, against the after window's total per
  covered month (the basis of a window the data do not cover whole);
- ratios, medians, annual rates: the unweighted mean of the monthly values (equal to
  the pooled ratio only when every month weighs the same: say so in the output).

The change carries no interval and no net change: a supplied monthly series carries
no sampling information (its counts, spread or units), so the uncertainty of the
change cannot be estimated; the output says so (`interval_note`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from crmroi.kpi.coverage import (
    COVERAGE_FLOOR,
    WHOLE,
    WHOLE_WINDOWS,
    Clipped,
    Interval,
    period_coverage,
)
from crmroi.kpi.definitions import KPI_DEFINITIONS, KpiDefinition
from crmroi.kpi.reasons import span_message
from crmroi.kpi.report import KpiChange
from crmroi.kpi.windows import Window, Windows, add_months
from crmroi.messages import M_, N_, Message, Month, Num, Pct, Said
from crmroi.store.store import Store

TABLE = "supplied_baselines"
SUPPLIED = "supplied"
MEASURED = "measured"


@dataclass(frozen=True)
class SuppliedSeries:
    """One KPI's supplied monthly values: month starts, values, source and note of each."""

    kpi: str
    months: tuple[dt.date, ...]
    values: tuple[float, ...]
    sources: tuple[str, ...]
    notes: tuple[str | None, ...]

    def within(self, window: Window) -> SuppliedSeries:
        """The months inside the window's baseline [baseline_start, go_live)."""
        keep = [i for i, m in enumerate(self.months) if window.baseline_start <= m < window.go_live]
        return SuppliedSeries(
            self.kpi,
            tuple(self.months[i] for i in keep),
            tuple(self.values[i] for i in keep),
            tuple(self.sources[i] for i in keep),
            tuple(self.notes[i] for i in keep),
        )

    @property
    def source(self) -> str:
        """The distinct sources, in month order, joined with '; '."""
        return "; ".join(dict.fromkeys(self.sources))

    @property
    def label(self) -> str:
        """'supplied (source: ...)', as every output shows it."""
        return f"{SUPPLIED} (source: {self.source})"

    def mean(self) -> float:
        """Unweighted mean of the monthly values (per month)."""
        return math.fsum(self.values) / len(self.values)


def read_supplied(store: Store, counts: dict[str, int]) -> dict[str, SuppliedSeries]:
    """Every KPI's supplied series, by KPI name (empty without supplied baselines)."""
    if not counts.get(TABLE):
        return {}
    rows = (
        store.table(TABLE)
        .select("kpi", "period_start", "value", "source", "note")
        .order_by(["kpi", "period_start"])
        .to_pyarrow()
        .to_pylist()
    )
    by_kpi: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["value"] is not None and r["period_start"] is not None:
            by_kpi.setdefault(str(r["kpi"]), []).append(r)
    return {
        kpi: SuppliedSeries(
            kpi,
            tuple(_day(r["period_start"]) for r in rs),
            tuple(float(r["value"]) for r in rs),
            tuple(str(r["source"] or "not stated") for r in rs),
            tuple(r["note"] for r in rs),
        )
        for kpi, rs in by_kpi.items()
    }


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def lacks_baseline(d: KpiDefinition, company: Clipped) -> bool:
    """True when the KPI's own data do not give a measured baseline over the company
    windows: below the coverage floor, or not whole for KPIs that need whole windows."""
    share = float(period_coverage(company, "baseline")["share"])
    return share < COVERAGE_FLOOR or (d.name in WHOLE_WINDOWS and share < WHOLE)


def after_reason(d: KpiDefinition, company: Clipped, span: Interval | None) -> Message | None:
    """Why the after window cannot be measured for a supplied baseline (None: it can)."""
    cov = period_coverage(company, "after")
    share = float(cov["share"])
    if share < COVERAGE_FLOOR or (d.name in WHOLE_WINDOWS and share < WHOLE):
        params = {
            "span": span_message(span),
            "covered": Num(float(cov["months"]), 1),
            "nominal": int(cov["nominal_months"]),
        }
        if d.name in WHOLE_WINDOWS:
            text = N_(
                "the baseline would be supplied, but the KPI's data (%(span)s) cover "
                "%(covered)s of %(nominal)s months of the after window (needed: whole)"
            )
        else:
            text = N_(
                "the baseline would be supplied, but the KPI's data (%(span)s) cover "
                "%(covered)s of %(nominal)s months of the after window (needed: %(floor)s "
                "covered)"
            )
            params["floor"] = Pct(COVERAGE_FLOOR, 0)
        return Message("supplied_after_uncovered", text, params)
    return None


def baseline_reason(series: SuppliedSeries, window: Window, months: int) -> Message | None:
    """Why the supplied months cannot stand for the baseline window (None: they can)."""
    if len(series.months) >= COVERAGE_FLOOR * months:
        return None
    first, last = window.baseline_start, add_months(window.go_live, -1)
    return M_(
        "supplied_below_floor",
        "no measured baseline, and the supplied baseline (source: %(source)s) gives "
        "%(given)s of the %(months)s months %(first)s to %(last)s, below the %(floor)s "
        "coverage floor",
        source=series.source,
        given=len(series.months),
        months=months,
        first=Month(first),
        last=Month(last),
        floor=Pct(COVERAGE_FLOOR, 0),
    )


def interval_note(series: SuppliedSeries, d: KpiDefinition) -> Said:
    """Why the change has no interval, and how the baseline was formed: English text
    that remembers its message (code `supplied_no_interval`) for the reader's language."""
    text = (
        N_(
            "baseline supplied (source: %(source)s), not measured: %(n)s months, mean "
            "supplied value per month against the after window per covered month; no "
            "interval and no net change: a supplied monthly series carries no sampling "
            "information, so the uncertainty of the change cannot be estimated"
        )
        if d.kind == "total"
        else N_(
            "baseline supplied (source: %(source)s), not measured: %(n)s months, unweighted "
            "mean of the monthly values (the pooled value only if every month weighs the "
            "same); no interval and no net change: a supplied monthly series carries no "
            "sampling information, so the uncertainty of the change cannot be estimated"
        )
    )
    params = {"source": series.source, "n": len(series.months)}
    return Said(Message("supplied_no_interval", text, params))


def baseline_coverage(series: SuppliedSeries, months: int) -> dict[str, Any]:
    """The baseline window's coverage entry for a supplied baseline."""
    last = add_months(series.months[-1], 1) - dt.timedelta(days=1)
    return {
        "start": series.months[0].isoformat(),
        "end": last.isoformat(),
        "months": float(len(series.months)),
        "nominal_months": months,
        "share": round(len(series.months) / months, 4),
        "supplied": True,
    }


# -- applied by the engine (crmroi.kpi.engine) ------------------------------------


def company_windows(windows: Windows) -> Windows:
    """The company windows alone (the earliest go-live), for every row."""
    return Windows(windows.default, {}, windows.baseline_months, windows.after_months)


def supplied_for(
    store: Store, counts: dict[str, int], windows: Windows, spans: dict[str, Interval | None]
) -> dict[str, SuppliedSeries]:
    """The KPIs whose baseline is supplied (they have supplied values and lack a measured
    baseline), with their supplied months inside the company baseline window."""
    series = read_supplied(store, counts)
    company = company_windows(windows)
    out = {}
    for name, span in spans.items():
        d = KPI_DEFINITIONS[name]
        if name in series and span is not None and lacks_baseline(d, Clipped(company, span)):
            out[name] = series[name].within(windows.default)
    return out


def supplied_reason(
    d: KpiDefinition, company: Clipped, series: SuppliedSeries, span: Interval | None
) -> Message | None:
    """Why a KPI with a supplied baseline is still unavailable (None: it is not);
    `span` is the KPI's own data's (first day, day after the last)."""
    window, months = company.windows.default, company.windows.baseline_months
    if not series.months:
        first, last = window.baseline_start, add_months(window.go_live, -1)
        return M_(
            "supplied_none",
            "no measured baseline (%(span)s), and the supplied baselines of %(kpi)s give "
            "none of the months %(first)s to %(last)s",
            span=span_message(span),
            kpi=d.name,
            first=Month(first),
            last=Month(last),
        )
    return baseline_reason(series, window, months) or after_reason(d, company, span)


def mark_supplied(
    found: list[KpiChange],
    series: SuppliedSeries,
    d: KpiDefinition,
    coverage: dict[str, Any] | None,
    months: int,
) -> dict[str, Any] | None:
    """Label the changes of a KPI with a supplied baseline; its coverage with the
    supplied months as the baseline window's."""
    if not series.months:
        return coverage
    for k in found:
        if k.available:
            k.baseline_basis, k.baseline_source = SUPPLIED, series.source
            k.interval_note = interval_note(series, d)
            k.ci_low = k.ci_high = None
            k.significant = False
    if coverage is None:
        return None
    return {**coverage, "baseline": baseline_coverage(series, months)}


def lacking_baselines(
    store: Store, names: list[str], go_live: dt.date, months: int = 12
) -> dict[str, SuppliedSeries]:
    """The KPIs of `names` with supplied values whose own data lack the `months` before
    the company go-live (the rule of `supplied_for`), with every supplied month."""
    from crmroi.kpi.coverage import column_spans, kpi_columns, kpi_span
    from crmroi.store.schema import TABLES

    if not store.count(TABLE):  # the common case: nothing supplied, nothing more to read
        return {}
    counts = {t: store.count(t) for t in TABLES}
    series = read_supplied(store, counts)
    spans = column_spans(store, counts)
    company = Windows.build(go_live, None, months, months)
    out = {}
    for name in names:
        if name not in series:
            continue
        d = KPI_DEFINITIONS[name]
        span = kpi_span(kpi_columns(name, counts, d.tables), spans)
        if span is not None and lacks_baseline(d, Clipped(company, span)):
            out[name] = series[name]
    return out
