"""The report's business-case sections beyond the figures: the practitioners' checks, ROI
five ways and the total cost of ownership (pure: from a `CaseResult`)."""

from __future__ import annotations

from crmroi.finance.evaluate import CaseResult
from crmroi.finance.tco import COST_GROUPS
from crmroi.finite import finite
from crmroi.reports.i18n import Lang
from crmroi.reports.labels import GROUP_LABELS, ROI_LABELS, category_label
from crmroi.reports.model import CheckRow, Figures, RoiWayRow, TcoRow

__all__ = ["check_rows", "roi_way_rows", "tco_rows"]


def check_rows(result: CaseResult) -> list[CheckRow]:
    """Every check, failed ones first."""
    rows = [CheckRow(c.rule, c.subject, c.passed, c.message) for c in result.checks]
    return sorted(rows, key=lambda r: r.passed)


def roi_way_rows(result: CaseResult, figures: list[Figures], lang: Lang) -> list[RoiWayRow]:
    """ROI five ways, one value per figure column (same horizons and risk adjustment)."""
    if not result.roi_ways:
        return []
    first = next(iter(result.roi_ways.values()))[False]
    rows = []
    for i, way in enumerate(first):
        values = [
            finite(result.roi_ways[f.horizon_months][f.risk_adjusted][i].value) for f in figures
        ]
        label, formula, source = ROI_LABELS[way.kind]
        rows.append(
            RoiWayRow(
                kind=way.kind,
                label=lang.gettext(label),
                formula=lang.gettext(formula),
                source=lang.gettext(source),
                values=values,
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
