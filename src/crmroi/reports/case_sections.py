"""The report's business-case sections beyond the figures: the practitioners' checks, ROI
five ways and the total cost of ownership (pure: from a `CaseResult`)."""

from __future__ import annotations

import datetime as dt

from crmroi.finance.actuals import PlanVsActual
from crmroi.finance.evaluate import CaseResult
from crmroi.finance.tco import COST_GROUPS
from crmroi.finite import finite
from crmroi.messages import Message
from crmroi.reports.i18n import Lang
from crmroi.reports.labels import GROUP_LABELS, PEOPLE_LABELS, ROI_LABELS, category_label
from crmroi.reports.model import (
    AdoptionRow,
    CheckRow,
    Figures,
    PeopleRow,
    PlanActual,
    PlanActualMonth,
    RoiWayRow,
    TcoRow,
    VarianceRow,
)
from crmroi.reports.usage import usage_section

__all__ = ["adoption_rows", "check_rows", "plan_actual_section", "roi_way_rows", "tco_rows"]


def check_rows(result: CaseResult, lang: Lang) -> list[CheckRow]:
    """Every check in `lang`, failed ones first."""
    rows = [
        CheckRow(lang.gettext(c.rule), c.subject, c.passed, c.text.render(lang))
        for c in result.checks
    ]
    return sorted(rows, key=lambda r: r.passed)


def roi_way_rows(result: CaseResult, figures: list[Figures], lang: Lang) -> list[RoiWayRow]:
    """ROI five ways, one value per figure column (same horizons and risk adjustment)."""
    return roi_ways_at(result, [(f.horizon_months, f.risk_adjusted) for f in figures], lang)


def roi_ways_at(result: CaseResult, columns: list[tuple[int, bool]], lang: Lang) -> list[RoiWayRow]:
    """ROI five ways at each (horizon in months, risk adjusted) column."""
    if not result.roi_ways:
        return []
    first = next(iter(result.roi_ways.values()))[False]
    rows = []
    for i, way in enumerate(first):
        label, formula, source = ROI_LABELS[way.kind]
        rows.append(
            RoiWayRow(
                kind=way.kind,
                label=lang.gettext(label),
                formula=lang.gettext(formula),
                source=lang.gettext(source),
                values=[finite(result.roi_ways[m][risk][i].value) for m, risk in columns],
                headline=way.kind == result.case.headline_roi,
                ratio=way.kind == "benefit_cost_ratio",
            )
        )
    return rows


def tco_rows(result: CaseResult, lang: Lang) -> list[TcoRow]:
    """Each group then its categories with costs, undiscounted; last the TCO total (group
    "total")."""
    t = result.tco
    if t is None:
        return []
    rows = []
    for group, cats in COST_GROUPS.items():
        first, whole = t.by_group[group]
        rows.append(TcoRow(group, None, lang.gettext(GROUP_LABELS[group]), first, whole))
        for cat in cats:
            if cat in t.by_category:
                a, b = t.by_category[cat]
                rows.append(TcoRow(group, cat, category_label(lang, cat), a, b))
    rows.append(TcoRow("total", None, lang.gettext(GROUP_LABELS["total"]), t.total_12, t.total))
    return rows


def adoption_rows(pva: PlanVsActual, start: dt.date | None) -> list[AdoptionRow]:
    """Planned and measured adoption of the months measured (the report's table and the
    adoption chart)."""
    from crmroi.reports.build import add_months

    a = pva.adoption
    return [
        AdoptionRow(m, add_months(start, m - 1) if start is not None else None, p, x)
        for m, p, x in (a.months if a is not None else [])
        if x is not None
    ]


def plan_actual_section(pva: PlanVsActual, result: CaseResult, lang: Lang) -> PlanActual:
    """Plan versus actual to date, the re-forecast and people ROI, worded in `lang`."""
    from crmroi.reports.build import add_months

    start = result.case.start
    rows = [
        VarianceRow(
            side=x.side,
            label=x.name if x.side == "benefit" else category_label(lang, x.name),
            plan=x.plan_to_date,
            actual=x.actual_to_date,
            variance=x.variance,
            variance_rel=finite(x.variance_rel) if x.variance_rel is not None else None,
            measured=x.measured,
        )
        for x in pva.lines
    ]
    months = [
        PlanActualMonth(
            m, add_months(start, m - 1) if start is not None and m > 0 else None, pb, ab, pc, ac
        )
        for m, pb, ab, pc, ac in pva.monthly()
    ]
    people = [
        PeopleRow(lang.gettext(PEOPLE_LABELS[k]), b, a, k == "human_capital_roi")
        for k, (b, a) in pva.people.items()
        if k in PEOPLE_LABELS
    ]
    f, plan = pva.reforecast, pva.plan
    a = pva.adoption
    adoption = adoption_rows(pva, start)
    return PlanActual(
        months_to_date=pva.months_to_date,
        rows=rows,
        months=months,
        main_driver=pva.main_driver,
        reforecast_npv=f.npv,
        reforecast_roi=finite(f.roi),
        reforecast_payback_months=finite(f.payback_months),
        plan_npv=plan.npv if plan is not None else None,
        plan_payback_months=finite(plan.payback_months) if plan is not None else None,
        people=people,
        adoption=adoption,
        adoption_payback_months=finite(a.payback_measured) if a is not None else None,
        adoption_warning=_render(a.warning_message(), lang) if a is not None else None,
        usage=usage_section(pva.usage),
        adoption_basis=(pva.adoption_measure or {}).get("basis"),
        adoption_unmatched=int((pva.adoption_measure or {}).get("unmatched_users") or 0),
        extrapolation_warnings=[x.message().render(lang) for x in pva.extrapolated],
    )


def _render(message: Message | None, lang: Lang) -> str | None:
    return None if message is None else message.render(lang)
