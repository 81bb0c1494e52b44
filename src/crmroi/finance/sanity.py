"""Sanity rules from practice, reported as warnings with the numbers behind them.

- integration costs above half of the expected return (PV of integration costs
  against the PV of the benefits);
- a benefit assumed outside the range the literature reports (`BENCHMARKS`);
- a 12-month ROI that is negative while the full-horizon one is positive: judge
  the case at the right horizon;
- double counting (two benefits drawing on one KPI) is not a warning but an
  error: `crmroi.finance.case.case_problems` refuses such a case.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmroi.finance.cashflow import discount_factors
from crmroi.finance.estimates import likely
from crmroi.finance.model import CaseModel
from crmroi.finance.summary import Summary

__all__ = ["BENCHMARKS", "Benchmark", "Warning_", "sanity_warnings"]

_SOURCE = (
    "practitioner ranges collected in crmroi issue 8 (CRM vendor and analyst surveys); "
    "indicative, check them for your industry"
)


@dataclass(frozen=True)
class Benchmark:
    """A reported range of a KPI's relative change after a CRM (fractions, per year)."""

    kpi: str
    low: float
    high: float
    what: str
    source: str = _SOURCE


BENCHMARKS: dict[str, Benchmark] = {
    b.kpi: b
    for b in (
        Benchmark("sales_per_rep", 0.10, 0.30, "sales per rep +10-30% a year"),
        Benchmark("win_rate", 0.05, 0.15, "win rate +5-15% (relative)"),
        Benchmark("gross_margin", 0.03, 0.05, "margin +3-5% (relative)"),
        Benchmark("csat", 0.03, 0.10, "customer satisfaction +3-10%"),
        Benchmark("admin_time_share", -0.20, -0.10, "administrative cost -10-20% a year"),
    )
}

REVENUE_KPIS = ("win_rate", "avg_deal_size", "sales_cycle_days")


@dataclass(frozen=True)
class Warning_:
    """One sanity warning: a short code and a sentence with the numbers."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _outside(b: Benchmark, rel: float, label: str) -> Warning_ | None:
    if b.low <= rel <= b.high:
        return None
    return Warning_(
        "benchmark",
        f"{label}: assumed change {rel:+.1%} is outside the reported range ({b.what}; "
        f"source: {b.source})",
    )


def sanity_warnings(model: CaseModel, short: Summary, full: Summary) -> list[Warning_]:
    """Warnings for `model`, given its summaries at 12 months and at the full horizon."""
    out: list[Warning_] = []
    disc = discount_factors(model.case.discount_rate, model.n_periods)
    table = model.table()
    integration = table.costs.get("integration")
    if integration is not None and full.pv_benefits > 0:
        pv_int = float(integration @ disc)
        if pv_int > 0.5 * full.pv_benefits:
            out.append(
                Warning_(
                    "integration",
                    f"integration costs (PV {pv_int:,.0f}) are above half of the expected "
                    f"return (PV of benefits {full.pv_benefits:,.0f})",
                )
            )
    revenue_uplift = 0.0
    for line in model.lines:
        d = line.driver
        if d is None or d.kpi is None:
            continue
        x = {k: likely(v) for k, v in line.inputs.items()}
        rel = d.relative_change(x)
        if d.kpi == "sales_cycle_days":
            rel_sales = (1.0 / (1.0 + x["change"]) - 1.0) * x["capacity_share"]
            revenue_uplift += rel_sales
        elif d.kpi in REVENUE_KPIS and rel is not None:
            revenue_uplift += rel
        bench = BENCHMARKS.get(d.kpi)
        if bench is not None and rel is not None:
            w = _outside(bench, rel, line.name)
            if w:
                out.append(w)
    if revenue_uplift:
        w = _outside(BENCHMARKS["sales_per_rep"], revenue_uplift, "revenue drivers together")
        if w:
            out.append(w)
    if short.roi < 0 < full.roi and full.horizon_months > short.horizon_months:
        out.append(
            Warning_(
                "horizon",
                f"ROI is {short.roi:+.0%} at 12 months but {full.roi:+.0%} at "
                f"{full.horizon_months} months: a CRM is judged over its life, not its first "
                "year",
            )
        )
    return out
