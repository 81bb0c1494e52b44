"""Build the report model from a case result, a KPI report and the attribution (pure)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crmroi.attribution.results import Attribution
from crmroi.attribution.workspace import Unavailable
from crmroi.finance.actuals import PlanVsActual
from crmroi.finance.case import Ramp
from crmroi.finance.cashflow import CashFlowTable, discount_factors, monthly_rate
from crmroi.finance.estimates import Range
from crmroi.finance.evaluate import CaseResult
from crmroi.finance.model import Line
from crmroi.finance.simulation import SimulationResult
from crmroi.finance.summary import Summary
from crmroi.finite import finite
from crmroi.kpi.report import KpiChange, KpiReport
from crmroi.messages import render
from crmroi.reports.case_sections import (
    check_rows,
    plan_actual_section,
    roi_way_rows,
    tco_rows,
)
from crmroi.reports.charts import build_charts
from crmroi.reports.expressions import expression_of
from crmroi.reports.i18n import Lang, get_lang
from crmroi.reports.improve import ImprovementResults, label_improvements
from crmroi.reports.labels import category_label, kpi_label
from crmroi.reports.model import (
    AccountRow,
    Assumption,
    AttributionRow,
    CashFlowRow,
    CategoryRow,
    Figures,
    HistogramBin,
    Improvements,
    KpiRow,
    LineSpec,
    RampSpec,
    ReportModel,
    ShapeSpec,
    SimulationSummary,
    TornadoBar,
)

__all__ = ["ReportInputs", "build_report", "report_model"]

HISTOGRAM_BINS = 30


def _figures(s: Summary, risk_adjusted: bool) -> Figures:
    return Figures(
        horizon_months=s.horizon_months,
        risk_adjusted=risk_adjusted,
        pv_benefits=s.pv_benefits,
        pv_costs=s.pv_costs,
        npv=s.npv,
        roi=finite(s.roi),
        simple_roi=finite(s.simple_roi),
        irr=finite(s.irr),
        payback_months=finite(s.payback_months),
        discounted_payback_months=finite(s.discounted_payback_months),
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _cash_flow(result: CaseResult) -> list[CashFlowRow]:
    table, risk = result.table, result.table_risk
    disc = discount_factors(result.case.discount_rate, table.n_periods)
    benefits, costs, net = table.total_benefits(), table.total_costs(), table.net()
    net_risk = risk.net()
    cum, cum_disc, cum_risk = np.cumsum(net), np.cumsum(net * disc), np.cumsum(net_risk)
    start = result.case.start
    return [
        CashFlowRow(
            month=m,
            date=add_months(start, m - 1) if start is not None and m > 0 else None,
            benefits=float(benefits[m]),
            costs=float(costs[m]),
            net=float(net[m]),
            net_risk_adjusted=float(net_risk[m]),
            cumulative=float(cum[m]),
            cumulative_discounted=float(cum_disc[m]),
            cumulative_risk_adjusted=float(cum_risk[m]),
        )
        for m in range(table.n_periods)
    ]


def _categories(table: CashFlowTable, rate: float, lang: Lang) -> list[CategoryRow]:
    disc = discount_factors(rate, table.n_periods)
    years = math.ceil(table.horizon_months / 12)
    rows = []
    for side, flows_by_key in (("benefit", table.benefits), ("cost", table.costs)):
        for key, flows in flows_by_key.items():
            rows.append(
                CategoryRow(
                    side="benefit" if side == "benefit" else "cost",
                    key=key,
                    label=key if side == "benefit" else category_label(lang, key),
                    initial=float(flows[0]),
                    by_year=[float(flows[1 + 12 * y : 13 + 12 * y].sum()) for y in range(years)],
                    total=float(flows.sum()),
                    present_value=float(flows @ disc),
                )
            )
    return rows


def _triple(est: float | Range) -> tuple[float | None, float, float | None]:
    if isinstance(est, Range):
        return (est.low, est.likely, est.high)
    return (None, float(est), None)


def _ramp(ramp: Ramp) -> RampSpec:
    by_month = list(ramp.by_month) if ramp.by_month else None
    return RampSpec(ramp.start, ramp.end, ramp.months, by_month)


def _shapes(result: CaseResult) -> list[tuple[ShapeSpec, bool, dict[str, str]]]:
    """Each line's shape spec, whether it has its own risk adjustment, and its inputs
    that are case parameters, in the order of the model's lines."""
    case, model = result.case, result.model
    out: list[tuple[ShapeSpec, bool, dict[str, str]]] = []
    for d in case.benefits:
        linked = {"users": "users"} if getattr(d, "users", 0) is None else {}
        shape = ShapeSpec("benefit", ramp_months=d.ramp_months)
        out.append((shape, d.risk_adjustment is not None, linked))
    for loss in case.do_nothing:
        shape = ShapeSpec("loss", start_month=loss.start_month, growth=loss.growth)
        out.append((shape, loss.risk_adjustment is not None, {}))
    if not isinstance(case.costs, list):
        n = len(model.lines) - len(out)
        return out + [(ShapeSpec("actual"), False, {})] * n
    for item in case.costs:
        own = item.risk_adjustment is not None
        if item.amount == "actual":
            out.append((ShapeSpec("actual"), own, {}))
            continue
        cur = (item.currency or case.currency).upper()
        rates = model.fx.get(cur) if cur != case.currency.upper() else None
        shape = ShapeSpec(
            item.kind,
            start_month=item.start_month,
            end_month=item.end_month,
            growth=item.growth,
            fx=[float(v) for v in rates[: case.horizon_months + 1]] if rates is not None else None,
        )
        out.append((shape, own, {"users": "users"} if item.per_user else {}))
    return out


def _driver_facts(line: Line) -> dict[str, Any]:
    """What the workbook's checks and ROI ways need to know of a benefit driver."""
    d = line.driver
    if d is None:
        return {"kpi": line.kpi}
    names = list(line.inputs)
    return {
        "kpi": d.kpi,
        "relative": expression_of(d.relative_change, names),
        "revenue": d.REVENUE,
        "measured": d.change == "measured",
    }


def _line_specs(result: CaseResult) -> list[LineSpec]:
    case, lines = result.case, result.model.lines
    items = case.costs if isinstance(case.costs, list) else []
    cost_lines = [line for line in lines if line.side == "cost"]
    per_user = {
        id(line)
        for line, item in zip(cost_lines, items, strict=False)
        if item.per_user and line.formula is not None
    }
    shapes = _shapes(result)
    specs = []
    for line, (shape, own_risk, linked) in zip(lines, shapes, strict=True):
        inputs = {name: _triple(est) for name, est in line.inputs.items()}
        expression = None
        if line.formula is not None:
            expression = expression_of(line.formula, list(inputs))
            if id(line) in per_user:
                inputs["users"] = (None, float(case.users), None)
                expression = "({amount}*{users})"
        specs.append(
            LineSpec(
                name=line.name,
                side=line.side,
                category=line.category,
                risk=line.risk,
                inputs=inputs,
                expression=expression,
                schedule=[float(v) for v in line.shape],
                shape=shape,
                own_risk=own_risk,
                linked=linked,
                **_driver_facts(line),
            )
        )
    return specs


def _source_of(line: Line, name: str, lang: Lang) -> str:
    d = line.driver
    if d is not None and name in d.clv_fields:
        return lang.gettext("lifetime value model: BG/NBD x Gamma-Gamma on orders (workspace)")
    if d is not None and name == "change" and d.change == "measured":
        if d.source == "attributed":
            return lang.gettext("measured: attribution net of the market (workspace)")
        return lang.gettext("measured: KPI engine, 95% interval as range (workspace)")
    if line.formula is None:
        return lang.gettext("actual costs (workspace)")
    return lang.gettext("case file (estimate)")


def _assumptions(result: CaseResult, lang: Lang) -> list[Assumption]:
    out = []
    for line in result.model.lines:
        for name, est in line.inputs.items():
            low, likely, high = _triple(est)
            out.append(Assumption(line.name, name, low, likely, high, _source_of(line, name, lang)))
    return out


def _simulation(sim: SimulationResult, base_npv: float) -> SimulationSummary:
    d = sim.as_dict()
    finite = sim.npv[np.isfinite(sim.npv)]
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    bins = [
        HistogramBin(float(edges[i]), float(edges[i + 1]), int(c)) for i, c in enumerate(counts)
    ]
    bars = [
        TornadoBar(r.input, r.low, r.high, r.npv_at_low, r.npv_at_high, r.swing)
        for r in sim.tornado
    ]

    def three(key: str) -> tuple[float | None, float | None, float | None]:
        return (d[f"{key}_p10"], d[f"{key}_p50"], d[f"{key}_p90"])

    return SimulationSummary(
        runs=sim.runs,
        seed=sim.seed,
        p_roi_positive=sim.p_roi_positive,
        roi=three("roi"),
        npv=three("npv"),
        payback_months=three("payback_months"),
        p_payback_within_horizon=float(d["p_payback_within_horizon"]),
        histogram=bins,
        tornado=bars,
        base_npv=base_npv,
    )


def _kpi_row(k: KpiChange, lang: Lang) -> KpiRow:
    base = k.baseline

    def rel(v: float | None) -> float | None:
        return None if v is None or not base else v / abs(base)

    return KpiRow(
        name=k.name,
        label=kpi_label(lang, k.name),
        unit=k.unit,
        area=k.area,
        group=k.group,
        baseline=k.baseline,
        after=k.after,
        change_abs=k.change_abs,
        change_rel=k.change_rel,
        ci_low_rel=rel(k.ci_low),
        ci_high_rel=rel(k.ci_high),
        net_change_rel=k.net_change_rel,
        significant=k.significant,
        available=k.available,
        reason=k.why.render(lang) if k.why is not None else k.reason,
        baseline_basis=k.baseline_basis,
        baseline_source=k.baseline_source,
    )


def _attribution_row(
    a: Attribution | Unavailable, units: dict[str, str], lang: Lang
) -> AttributionRow:
    label = kpi_label(lang, a.name)
    unit = units.get(a.name, "")
    if isinstance(a, Unavailable):
        reason = [render(a.reason, lang)]
        return AttributionRow(a.name, label, None, None, None, None, None, None, unit, reason)
    return AttributionRow(
        name=a.name,
        label=label,
        method=a.method,
        effect=a.effect,
        ci_low=a.ci_low,
        ci_high=a.ci_high,
        naive_change=a.naive_change,
        effect_rel=a.effect_rel,
        unit=unit,
        notes=[render(note, lang) for note in a.notes],
    )


def build_report(
    result: CaseResult,
    *,
    kpis: KpiReport | None = None,
    sources: KpiReport | None = None,
    attributions: Sequence[Attribution | Unavailable] = (),
    accounts: Sequence[AccountRow] = (),
    improvements: Improvements | None = None,
    lang: str = "en",
    workspace: str | None = None,
    today: dt.date | None = None,
    actuals: PlanVsActual | None = None,
) -> ReportModel:
    """The report model of `result` (a case evaluated with a simulation, ideally) and,
    when a workspace was analysed, its KPI report, lead-source KPIs, attribution and the
    improvement tools' sections (`crmroi.reports.improve`)."""
    language = get_lang(lang)
    case = result.case
    figures = [
        _figures(result.short, False),
        _figures(result.short_risk, True),
        _figures(result.summary, False),
        _figures(result.summary_risk, True),
    ]
    if result.short.horizon_months == result.summary.horizon_months:
        figures = figures[2:]
    from crmroi.kpi import KPI_DEFINITIONS

    units = {name: d.unit for name, d in KPI_DEFINITIONS.items()}
    model = ReportModel(
        lang=lang,
        title=language.gettext("Does the CRM pay for itself?"),
        case_name=case.name,
        currency=case.currency,
        generated_on=today or dt.date.today(),
        start=case.start,
        horizon_months=case.horizon_months,
        discount_rate=case.discount_rate,
        discount_rate_monthly=monthly_rate(case.discount_rate),
        users=case.users,
        go_live_month=case.go_live_month,
        risk_benefits=case.risk.benefits,
        risk_costs=case.risk.costs,
        figures=figures,
        cash_flow=_cash_flow(result),
        categories=_categories(result.table, case.discount_rate, language),
        lines=_line_specs(result),
        assumptions=_assumptions(result, language),
        warnings=[w.text.render(language) for w in result.warnings],
        intangible_benefits=list(case.intangible_benefits),
        risks=list(case.risks),
        simulation=(
            _simulation(result.simulation, result.summary.npv) if result.simulation else None
        ),
        measured_range=result.measured_range,
        kpis=[_kpi_row(k, language) for k in kpis.kpis] if kpis else [],
        kpi_windows=({"baseline": kpis.baseline, "after": kpis.after} if kpis else {}),
        go_live_by_team=dict(kpis.go_live_by_team) if kpis else {},
        sources=[_kpi_row(k, language) for k in sources.kpis if k.available] if sources else [],
        attributions=[_attribution_row(a, units, language) for a in attributions],
        accounts=list(accounts),
        workspace=workspace,
        improvements=improvements,
        checks=check_rows(result, language),
        roi_ways=roi_way_rows(result, figures, language),
        tco=tco_rows(result, language),
        notes=[render(n, language) for n in result.model.notes],
        plan_actual=plan_actual_section(actuals, result, language) if actuals else None,
        adoption=_ramp(case.adoption),
        benefit_ramp=_ramp(case.benefit_ramp),
    )
    model.charts = build_charts(model, language)
    return model


@dataclass(frozen=True)
class ReportInputs:
    """The language-free part of a report, the costly one to compute: the evaluated case
    and, from a workspace, its KPI report, lead-source KPIs, attribution, largest
    accounts and the improvement tools' results. `report_model` words it in any
    language without computing anything again (`gather.gather_report_inputs` makes it).
    """

    result: CaseResult
    kpis: KpiReport | None = None
    sources: KpiReport | None = None
    attributions: tuple[Attribution | Unavailable, ...] = ()
    accounts: tuple[AccountRow, ...] = ()
    improvements: ImprovementResults | None = None
    actuals: PlanVsActual | None = None


def report_model(
    inputs: ReportInputs,
    *,
    lang: str = "en",
    workspace: str | None = None,
    today: dt.date | None = None,
) -> ReportModel:
    """The report model of `inputs` in `lang` (cheap: labels and charts only)."""
    found = inputs.improvements
    improvements = None if found is None else label_improvements(found, get_lang(lang))
    return build_report(
        inputs.result,
        kpis=inputs.kpis,
        sources=inputs.sources,
        attributions=inputs.attributions,
        accounts=inputs.accounts,
        improvements=improvements,
        lang=lang,
        workspace=workspace,
        today=today,
        actuals=inputs.actuals,
    )
