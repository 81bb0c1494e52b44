"""The import wizard's words that the importer writes as English text: the delimiter's
name, the kind of each canonical column and what the reader detected in a column
('dates DD.MM.YYYY (ambiguous: assumed from the separator)', 'decimal comma
(detected), thousands '.''), worded in the page's language.

The detected-format text is put together by the importer from fixed phrases, formats
(`DD.MM.YYYY`, codes left as they are) and counts; `detected_text` replaces each phrase
by its translation (a display of the same facts, the text itself stays English in JSON
and the API). Phrases the table does not know stay English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from crmroi.messages import N_, Translator

__all__ = ["COLUMN_KINDS", "DELIMITERS", "detected_text"]

DELIMITERS = (N_("comma"), N_("semicolon"), N_("tab"), N_("pipe"))
"""The delimiter names of `import_wizard.DELIMITER_NAMES`, for the catalogue."""

COLUMN_KINDS = (
    N_("id"), N_("text"), N_("money"), N_("number"), N_("integer"), N_("date"),
    N_("timestamp"), N_("boolean"),
)  # fmt: skip
"""The kinds of canonical columns (`store.schema.Column.kind`) as the mapping table shows."""

_PHRASES: tuple[str, ...] = (
    N_("(ambiguous: assumed from the separator)"),
    N_("(ambiguous: same order as the rest of the column)"),
    N_("(ambiguous: order given)"),
    N_("Excel serial dates (1900 system)"),
    N_("dates in the given format"),
    N_("epoch milliseconds"),
    N_("epoch seconds"),
    N_("Solar Hijri"),
    N_("no dates"),
    N_("decimal point"),
    N_("decimal comma"),
    N_("(ambiguous, assumed)"),
    N_("(detected)"),
    N_("(given)"),
)
"""Fixed phrases of the detected-format text, longest first within each kind."""

_COUNTED: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\(conflicting: (?P<dmy>\d+) DMY vs (?P<mdy>\d+) MDY values\)"),
        N_("(conflicting: %(dmy)s DMY vs %(mdy)s MDY values)"),
    ),
    (
        re.compile(r"booleans \((?P<yes>\d+) true, (?P<no>\d+) false\)"),
        N_("booleans (%(yes)s true, %(no)s false)"),
    ),
    (re.compile(r"(?P<n>\d+) values with 万/亿 units"), N_("%(n)s values with 万/亿 units")),
    (re.compile(r"thousands (?P<sep>'[^']*')"), N_("thousands %(sep)s")),
    (re.compile(r"decimal (?P<sep>'[^']*')"), N_("decimal %(sep)s")),
    (re.compile(r"^dates (?P<rest>.+)$"), N_("dates %(rest)s")),
)
"""Phrases with a count or a separator in them, and their message."""


def detected_text(text: str, lang: Translator) -> str:
    """What the reader detected in a column (`text`, English) worded in `lang`."""
    if not text:
        return text
    out = text
    for phrase in _PHRASES:
        out = out.replace(phrase, lang.gettext(phrase))
    for pattern, message in _COUNTED:
        out = pattern.sub(_filled(lang, message), out)
    return out


def _filled(lang: Translator, message: str) -> Callable[[re.Match[str]], str]:
    def fill(match: re.Match[str]) -> str:
        return lang.gettext(message) % match.groupdict()

    return fill
