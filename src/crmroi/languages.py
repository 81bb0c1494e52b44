"""The report languages, importable without the reports package (the CLI's choices).

Each code maps to the CLDR locale that formats its numbers and dates; the catalogue is
`crmroi/reports/locale/<code>/LC_MESSAGES/crmroi.po` (English needs none).
"""

from __future__ import annotations

__all__ = ["LANGUAGES"]

LANGUAGES: dict[str, str] = {
    "en": "en_US",
    "ru": "ru_RU",
    "bg": "bg_BG",
    "fa": "fa_IR",
    "zh": "zh_Hans_CN",
}
"""Report languages and the CLDR locale each formats numbers and dates with."""
