"""What the case page shows beside the key figures: the practitioners' checks, ROI five
ways and the TCO roll-up, taken from the evaluated case (`crmroi.finance.evaluate`) with
the report's own labels (`crmroi.reports.labels`, `crmroi.reports.case_sections`).

Rows are worded in `lang`; in English (the API's) every label is its own message id, so
a page words it in the reader's language with `_()`, and a check's sentence with `t()`
(`text`). Values are finite or None (JSON-safe).
"""

from __future__ import annotations

from dataclasses import dataclass

from crmroi.finance.evaluate import CaseResult
from crmroi.finite import finite
from crmroi.messages import Message
from crmroi.reports.case_sections import tco_rows
from crmroi.reports.i18n import Lang
from crmroi.reports.labels import ROI_LABELS
from crmroi.reports.model import TcoRow

__all__ = ["CaseCheck", "RoiWay", "case_checks", "roi_ways", "tco_lines"]


@dataclass(frozen=True)
class CaseCheck:
    """One practitioners' rule applied to the case: passed or not, with its numbers."""

    rule: str
    subject: str
    passed: bool
    message: str
    source: str
    text: Message
    """The sentence as a message id with parameters (for the page's language)."""


@dataclass(frozen=True)
class RoiWay:
    """One way of writing ROI with its value per figure column: (12 months, risk adjusted
    or not) then (horizon, not, risk adjusted); a ratio for the benefit-cost ratio."""

    kind: str
    label: str
    formula: str
    source: str
    values: list[float | None]
    headline: bool
    ratio: bool


def case_checks(result: CaseResult, lang: Lang) -> list[CaseCheck]:
    """Every check, failed ones first."""
    rows = [
        CaseCheck(lang.gettext(c.rule), c.subject, c.passed, c.text.render(lang), c.source, c.text)
        for c in result.checks
    ]
    return sorted(rows, key=lambda r: r.passed)


def roi_ways(result: CaseResult, columns: list[tuple[int, bool]], lang: Lang) -> list[RoiWay]:
    """ROI five ways at each (months, risk adjusted) column."""
    if not result.roi_ways:
        return []
    first = next(iter(result.roi_ways.values()))[False]
    out = []
    for i, way in enumerate(first):
        label, formula, source = ROI_LABELS[way.kind]
        out.append(
            RoiWay(
                kind=way.kind,
                label=lang.gettext(label),
                formula=lang.gettext(formula),
                source=lang.gettext(source),
                values=[finite(result.roi_ways[m][risk][i].value) for m, risk in columns],
                headline=way.kind == result.case.headline_roi,
                ratio=way.kind == "benefit_cost_ratio",
            )
        )
    return out


def tco_lines(result: CaseResult, lang: Lang) -> list[TcoRow]:
    """The TCO roll-up: each group, its categories, then the total (undiscounted)."""
    return tco_rows(result, lang)
