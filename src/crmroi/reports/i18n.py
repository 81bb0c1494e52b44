"""Languages of the reports: gettext catalogues (Babel) and number, money and date formats.

A language is a catalogue away: `locale/<code>/LC_MESSAGES/crmroi.po` beside this module
holds the translations (English text is the message id, so English needs no catalogue).
The `.po` file is compiled in memory with `babel.messages` the first time it is used,
so no build step is needed. Formats come from the CLDR data Babel ships: `ru` gives a
decimal comma, a non-breaking space between thousands, DD.MM.YYYY dates and the
currency symbol after the amount (`1 234 568 $`); `en` gives `$1,234,568`.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

__all__ = ["LANGUAGES", "N_", "Lang", "get_lang"]

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "crmroi"
LANGUAGES: dict[str, str] = {"en": "en_US", "ru": "ru_RU"}
"""Report languages and the CLDR locale each formats numbers and dates with."""

DATE_PATTERNS = {"en": "MMM d, yyyy", "ru": "dd.MM.yyyy"}
VEGA_LOCALES = {"en": "en-US", "ru": "ru-RU"}


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now (gettext's N_)."""
    return message


@lru_cache(maxsize=8)
def _translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of `code` (English: the identity)."""
    po = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Lang:
    """One report language: `gettext` for labels, and the formats of its locale."""

    code: str
    locale: Locale = field(repr=False)

    def gettext(self, message: str) -> str:
        """The translation of `message` (itself when the catalogue lacks it)."""
        return _translations(self.code).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Singular or plural translation for `n`."""
        return _translations(self.code).ngettext(singular, plural, n)

    def money(self, value: float | None, currency: str, digits: int = 0) -> str:
        """Money with the currency symbol where the locale puts it; '–' for no value."""
        if value is None or not math.isfinite(value):
            return "–"
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        if digits == 0:
            pattern = pattern.replace(".00", "")
        return format_currency(
            value, currency, format=pattern, locale=self.locale, currency_digits=False
        )

    def number(self, value: float | None, digits: int = 0) -> str:
        """A number with the locale's separators and `digits` decimals."""
        if value is None or not math.isfinite(value):
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=fmt, locale=self.locale)

    def percent(self, value: float | None, digits: int = 1, signed: bool = False) -> str:
        """A fraction as a percentage (0.123 -> 12.3%)."""
        if value is None or not math.isfinite(value):
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        text = format_percent(value, format=fmt, locale=self.locale)
        return ("+" + text) if signed and value > 0 else text

    def months(self, value: float | None) -> str:
        """A payback in months with one decimal, or 'never'."""
        if value is None or not math.isfinite(value):
            return self.gettext("never")
        return self.number(value, 1)

    def date(self, value: dt.date | None) -> str:
        """A date: 'Oct 1, 2023' in English, '01.10.2023' in Russian."""
        if value is None:
            return "–"
        return format_date(value, DATE_PATTERNS.get(self.code, "medium"), locale=self.locale)

    def kpi_value(self, value: float | None, unit: str, currency: str) -> str:
        """A KPI value in its unit: fractions as percentages, money with its symbol."""
        if value is None or not math.isfinite(value):
            return "–"
        if unit.startswith("fraction"):
            return self.percent(value, 1)
        if unit.startswith(currency):
            return self.money(value, currency, 0 if abs(value) >= 100 else 2)
        return self.number(value, 0 if abs(value) >= 1000 else 2)

    @property
    def vega_locale(self) -> Any:  # vl-convert types it as a Literal of locale names
        """The d3 locale name vl-convert and vega-embed use for this language."""
        return VEGA_LOCALES.get(self.code, "en-US")

    def filters(self) -> dict[str, Any]:
        """Jinja filters formatting (never computing) the report's figures."""
        return {
            "money": self.money,
            "number": self.number,
            "pct": self.percent,
            "months": self.months,
            "date": self.date,
        }


def get_lang(code: str) -> Lang:
    """The `Lang` for a language code of `LANGUAGES`."""
    from crmroi.errors import ConfigurationError

    if code not in LANGUAGES:
        raise ConfigurationError(
            f"unknown language {code!r}; report languages are: {', '.join(LANGUAGES)}"
        )
    return Lang(code, Locale.parse(LANGUAGES[code]))
