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
from crmroi.messages import Message
from crmroi.reports.case_sections import roi_ways_at, tco_rows
from crmroi.reports.i18n import Lang
from crmroi.reports.model import RoiWayRow, TcoRow

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
    code: str = ""
    """The stable machine code of the sentence (`text.code`, docs/api.md)."""


RoiWay = RoiWayRow
"""One way of writing ROI with its value per figure column (the report's row)."""


def case_checks(result: CaseResult, lang: Lang) -> list[CaseCheck]:
    """Every check, failed ones first."""
    rows = [
        CaseCheck(
            lang.gettext(c.rule),
            c.subject,
            c.passed,
            c.text.render(lang),
            c.source,
            c.text,
            c.text.code,
        )
        for c in result.checks
    ]
    return sorted(rows, key=lambda r: r.passed)


def roi_ways(result: CaseResult, columns: list[tuple[int, bool]], lang: Lang) -> list[RoiWay]:
    """ROI five ways at each (months, risk adjusted) column."""
    return roi_ways_at(result, columns, lang)


def tco_lines(result: CaseResult, lang: Lang) -> list[TcoRow]:
    """The TCO roll-up: each group, its categories, then the total (undiscounted)."""
    return tco_rows(result, lang)
