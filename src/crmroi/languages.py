"""The report languages, importable without the reports package (the CLI's choices).

Each code maps to the CLDR locale that formats its numbers and dates; the catalogue is
`crmroi/reports/locale/<code>/LC_MESSAGES/crmroi.po` (English needs none).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LANGUAGES", "locale_language"]

LANGUAGES: dict[str, str] = {
    "en": "en_US",
    "ru": "ru_RU",
    "bg": "bg_BG",
    "fa": "fa_IR",
    "zh": "zh_Hans_CN",
}
"""Report languages and the CLDR locale each formats numbers and dates with."""


def locale_language(environ: Mapping[str, str]) -> str:
    """The language of the user's locale, as gettext reads it: LANGUAGE's list (unless the
    locale is C/POSIX), else the first set of LC_ALL, LC_MESSAGES, LANG; English when
    none names one of `LANGUAGES` ('ru_RU.UTF-8' -> 'ru', 'C.UTF-8' -> 'en')."""

    def code(tag: str) -> str:
        return tag.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()

    locale = next((environ[v] for v in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(v)), "")
    if code(locale) not in ("", "c", "posix"):
        for tag in environ.get("LANGUAGE", "").split(":"):
            if code(tag) in LANGUAGES:
                return code(tag)
    return code(locale) if code(locale) in LANGUAGES else "en"
