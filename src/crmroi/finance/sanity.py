"""The practitioners' rules, checked on a case: each check passes or fails with its numbers.

Failed checks are the case's warnings. The rules (see docs/business_case.md, "Checks"):

- integration: integration costs should not exceed half of the return over the first
  12 months (Bulgarian practitioner article): PV of all integration costs against the
  PV of the benefits of months 0..12;
- benchmark: an assumed (or measured) change more optimistic than the ceiling of the
  range the Russian practitioner article reports for the first three years after
  go-live. Only the optimistic side warns: a cautious assumption below the range is
  fine. Ranges stated per year (sales per agent, administrative costs) are compared
  with the per-year equivalent of the case's level change, (1 + change)^(1 / years) - 1,
  years being the time from go-live to the line's full effect (at least 1, at most 3);
- horizon: a 12-month ROI that is negative while the full-horizon one is positive
  (judge a CRM over its life; the Bulgarian article: over 12 months at least, not
  month by month).

Double counting (two benefits drawing on one KPI) is not a check but an error:
`crmroi.finance.case.case_problems` refuses such a case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crmroi.finance.cashflow import discount_factors
from crmroi.finance.estimates import Range, likely
from crmroi.finance.model import CaseModel, Line
from crmroi.finance.summary import Summary
from crmroi.messages import M_, N_, Message, Num, Pct

__all__ = [
    "BENCHMARKS",
    "RANGES_SOURCE",
    "RULES_SOURCE",
    "Benchmark",
    "Check",
    "Warning_",
    "case_checks",
    "per_year",
    "sanity_warnings",
]

RANGES_SOURCE = N_(
    "Russian practitioner article on CRM return on investment (2014), quoting expert "
    "estimates of Western research firms for the first three years after go-live; "
    "indicative, check them for your industry"
)
RULES_SOURCE = N_("Bulgarian practitioner article on CRM return on investment")


@dataclass(frozen=True)
class Benchmark:
    """A reported range of a measure's relative change after a CRM (fractions).

    `sign` is +1 for a measure that should rise and -1 for one that should fall;
    `low` and `high` are magnitudes in that direction, so the ceiling, the most
    optimistic change the source reports, is `sign * high`. `per_year`: the range
    is a change a year (over the first three years), not a level.
    """

    measure: str
    low: float
    high: float
    what: str
    sign: int = 1
    per_year: bool = False
    source: str = RANGES_SOURCE


BENCHMARKS: dict[str, Benchmark] = {
    b.measure: b
    for b in (
        Benchmark("sales_per_rep", 0.10, 0.30, N_("sales per agent +10-30% a year"), per_year=True),
        Benchmark("win_rate", 0.05, 0.15, N_("share of deals won +5-15% (relative)")),
        Benchmark(
            "gross_margin", 0.03, 0.05, N_("mark-up +3-5% and more, depending on exclusivity")
        ),
        Benchmark("csat", 0.03, 0.10, N_("customer satisfaction +3-10%")),
        Benchmark(
            "admin_cost",
            0.10,
            0.20,
            N_("administrative costs -10-20% a year"),
            sign=-1,
            per_year=True,
        ),
    )
}
MEASURE_OF_KPI = {
    "win_rate": "win_rate",
    "gross_margin": "gross_margin",
    "csat": "csat",
    "admin_time_share": "admin_cost",
}
"""The benchmark each driver's KPI is compared with (time saved: the cost of admin time)."""

REVENUE_KPIS = ("win_rate", "avg_deal_size", "sales_cycle_days")
RULES = (N_("integration"), N_("benchmark"), N_("horizon"))
ALL_REVENUE = N_("revenue drivers together")
"""The rules' names (a check's `rule`), translated where reports show them."""


@dataclass(frozen=True)
class Warning_:
    """One sanity warning: a short code and a sentence with the numbers (`text`: the
    sentence as a message id with parameters, worded in any report language)."""

    code: str
    text: Message

    @property
    def message(self) -> str:
        """The sentence in English."""
        return str(self.text)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Check:
    """One rule applied to the case: `passed` and a sentence with the numbers.

    `rule` is a short code (integration, benchmark, horizon); `source` names where the
    rule comes from.
    """

    rule: str
    subject: str
    passed: bool
    text: Message
    source: str

    @property
    def message(self) -> str:
        """The sentence in English."""
        return str(self.text)

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "passed": self.passed,
            "message": self.message,
            "source": self.source,
        }


def per_year(level: float, years: float) -> float:
    """The yearly change that compounds to `level` in `years` (fractions): (1+l)^(1/y) - 1."""
    if level <= -1.0:
        return -1.0
    return float((1.0 + level) ** (1.0 / years) - 1.0)


def years_to_full(model: CaseModel, lines: list[Line]) -> float:
    """Years from go-live until the last of `lines` reaches its full effect, within [1, 3]."""
    first = model.case.go_live_month
    months = 1
    for line in lines:
        shape = line.shape
        top = float(shape.max()) if shape.size else 0.0
        if top <= 0:
            continue
        full = int(np.argmax(shape >= top * (1.0 - 1e-9)))
        months = max(months, full - first + 1)
    return min(max(months / 12.0, 1.0), 3.0)


def _interval(line: Line) -> tuple[float, float] | None:
    """The relative change at the low and high ends of a measured change's interval."""
    est = line.inputs.get("change")
    d = line.driver
    if d is None or not isinstance(est, Range):
        return None
    x = {k: likely(v) for k, v in line.inputs.items()}
    ends = []
    for value in (est.low, est.high):
        rel = d.relative_change({**x, "change": value})
        if rel is None:
            return None
        ends.append(rel)
    return ends[0], ends[1]


def _benchmark_check(
    b: Benchmark,
    subject: str,
    rel: float,
    years: float,
    *,
    measured: bool = False,
    interval: tuple[float, float] | None = None,
) -> Check:
    change = Pct(rel, 1, True)
    named: Message | str = Message("subject", subject) if subject == ALL_REVENUE else subject
    if measured and interval is not None:
        lo, hi = sorted(interval)
        head = M_(
            "measured_change_interval",
            "%(subject)s: measured change %(change)s (95%% interval %(low)s to %(high)s)",
            subject=named,
            change=change,
            low=Pct(lo, 1, True),
            high=Pct(hi, 1, True),
        )
    elif measured:
        head = M_(
            "measured_change",
            "%(subject)s: measured change %(change)s",
            subject=named,
            change=change,
        )
    else:
        head = M_(
            "assumed_change",
            "%(subject)s: assumed change %(change)s",
            subject=named,
            change=change,
        )
    value = rel
    if b.per_year:
        value = per_year(rel, years)
        head = M_(
            "change_per_year",
            "%(head)s, reached %(years)s years after go-live = %(value)s a year",
            head=head,
            years=Num(years, 1),
            value=Pct(value, 1, True),
        )
    ceiling = Pct(b.sign * b.high, 0, True)
    passed = b.sign * value <= b.high + 1e-12
    if passed and b.sign * value < b.low:
        verdict = M_("benchmark_cautious", "more cautious than the reported range (no warning)")
    elif passed and b.per_year:
        verdict = M_(
            "benchmark_within_year",
            "within the reported range, below its ceiling of %(ceiling)s a year",
            ceiling=ceiling,
        )
    elif passed:
        verdict = M_(
            "benchmark_within",
            "within the reported range, below its ceiling of %(ceiling)s",
            ceiling=ceiling,
        )
    elif b.per_year:
        verdict = M_(
            "benchmark_optimistic_year",
            "more optimistic than the reported ceiling of %(ceiling)s a year",
            ceiling=ceiling,
        )
    else:
        verdict = M_(
            "benchmark_optimistic",
            "more optimistic than the reported ceiling of %(ceiling)s",
            ceiling=ceiling,
        )
    if not passed and measured:
        verdict = M_(
            "benchmark_check_measurement",
            "%(verdict)s; check the measurement (net of the market) before relying on it",
            verdict=verdict,
        )
    message = M_(
        "benchmark",
        "%(head)s: %(verdict)s (%(what)s; source: %(source)s)",
        head=head,
        verdict=verdict,
        what=Message("benchmark_range", b.what),
        source=Message("source", b.source),
    )
    return Check("benchmark", subject, passed, message, b.source)


def _integration_check(model: CaseModel, short: Summary) -> Check | None:
    table = model.table()
    integration = table.costs.get("integration")
    if integration is None or not integration.any():
        return None
    disc = discount_factors(model.case.discount_rate, model.n_periods)
    pv_int = float(integration @ disc)
    months = short.horizon_months
    ret = short.pv_benefits
    share = pv_int / ret if ret > 0 else math.inf
    passed = share <= 0.5
    shown: Message | Pct = (
        Pct(share, 0) if math.isfinite(share) else M_("no_return", "no return at all")
    )
    message = M_(
        "integration_share",
        "integration costs (PV %(pv)s) are %(share)s of the return over the first "
        "%(months)s months (PV of benefits %(benefits)s); the rule: at most 50%%",
        pv=Num(pv_int),
        share=shown,
        months=months,
        benefits=Num(ret),
    )
    return Check("integration", "integration", passed, message, RULES_SOURCE)


def case_checks(model: CaseModel, short: Summary, full: Summary) -> list[Check]:
    """Every rule applied to `model`, given its summaries at 12 months and the horizon."""
    out: list[Check] = []
    integration = _integration_check(model, short)
    if integration is not None:
        out.append(integration)
    revenue_uplift = 0.0
    revenue_lines: list[Line] = []
    revenue_measured: list[bool] = []
    for line in model.lines:
        d = line.driver
        if d is None or d.kpi is None:
            continue
        x = {k: likely(v) for k, v in line.inputs.items()}
        rel = d.relative_change(x)
        measured = d.change == "measured"
        if d.kpi == "sales_cycle_days":
            revenue_uplift += (1.0 / (1.0 + x["change"]) - 1.0) * x["capacity_share"]
            revenue_lines.append(line)
            revenue_measured.append(measured)
        elif d.kpi in REVENUE_KPIS and rel is not None:
            revenue_uplift += rel
            revenue_lines.append(line)
            revenue_measured.append(measured)
        measure = MEASURE_OF_KPI.get(d.kpi)
        if measure is not None and rel is not None:
            b = BENCHMARKS[measure]
            years = years_to_full(model, [line])
            interval = _interval(line) if measured else None
            out.append(
                _benchmark_check(b, line.name, rel, years, measured=measured, interval=interval)
            )
    if revenue_lines:
        years = years_to_full(model, revenue_lines)
        out.append(
            _benchmark_check(
                BENCHMARKS["sales_per_rep"],
                ALL_REVENUE,
                revenue_uplift,
                years,
                measured=all(revenue_measured),
            )
        )
    if full.horizon_months > short.horizon_months:
        passed = not (short.roi < 0 < full.roi)
        out.append(
            Check(
                "horizon",
                "horizon",
                passed,
                M_(
                    "horizon_roi",
                    "ROI is %(short)s at %(n)s months and %(full)s at %(m)s months",
                    short=Pct(short.roi, 0, True),
                    n=short.horizon_months,
                    full=Pct(full.roi, 0, True),
                    m=full.horizon_months,
                )
                if passed
                else M_(
                    "horizon_roi_first_year",
                    "ROI is %(short)s at %(n)s months and %(full)s at %(m)s months: a CRM is "
                    "judged over its life, not its first year",
                    short=Pct(short.roi, 0, True),
                    n=short.horizon_months,
                    full=Pct(full.roi, 0, True),
                    m=full.horizon_months,
                ),
                RULES_SOURCE,
            )
        )
    return out


def sanity_warnings(model: CaseModel, short: Summary, full: Summary) -> list[Warning_]:
    """The failed checks of `model` as warnings (see `case_checks`)."""
    return [Warning_(c.rule, c.text) for c in case_checks(model, short, full) if not c.passed]
