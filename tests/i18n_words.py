"""English words left on a translated page (the browser tests' checker).

A page in ru, bg, fa or zh may still show Latin text that is not English prose: codes
(`win_rate`, `created_at`, `cp1251`, text in backquotes, `--options`), upper-case
abbreviations and currency codes (`USD`, `CRM`, `ROI`, `NPV`, `IRR`, `CSV`, `XLSX`),
numbers, and names taken from the
data (accounts, files, file columns, presets), which the templates mark with HTML's
`translate="no"` and the walker leaves out. Everything else written in Latin letters
counts as an English word.
"""

from __future__ import annotations

import re

__all__ = ["ALLOWED", "WORD", "english_words", "is_code"]

ALLOWED = frozenset(
    {
        # product and file-format names, written the same in every language
        "crmroi", "English", "YAML", "Excel", "Vega", "PDF", "HTML", "JSON",
        "HubSpot", "Salesforce", "Pipedrive", "Bitrix", "amoCRM", "Zoho",
        # estimate notation of the case file ("likely or measured / clv"), the
        # BG/NBD and Gamma-Gamma model names of the lifetime-value fit, the name of
        # Forrester's method and a key's name ("press Enter")
        "clv", "measured", "Gamma-Gamma", "Forrester", "Total", "Economic", "Impact", "Enter",
    }
)  # fmt: skip
"""Words in Latin letters a translated page may show besides codes and abbreviations."""

WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:['’.-][A-Za-z0-9_]+)*")
_CODE_SPANS = re.compile(r"`[^`]*`|--[a-z][a-z-]*|\b[A-Za-z]+\([^()]*\)")
"""Quoted code (`crmroi kpis --by team`), command-line options (--exposure) and formula
notation (P(active))."""


def is_code(word: str) -> bool:
    """A code or an abbreviation, not a word: digits or '_' inside (`win_rate`,
    `cp1251`), dotted (`deals.amount`), or two or more capitals (`USD`, `CRM`, `IRR`)."""
    if any(ch.isdigit() or ch in "_." for ch in word):
        return True
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def english_words(text: str) -> list[str]:
    """The words of `text` in Latin letters that are neither codes nor `ALLOWED`."""
    text = _CODE_SPANS.sub(" ", text)
    return [w for w in WORD.findall(text) if not is_code(w) and w not in ALLOWED]
