"""Languages of the reports: gettext catalogues (Babel) and number, money and date formats.

A language is a catalogue away: `locale/<code>/LC_MESSAGES/crmroi.po` beside this module
holds the translations (English text is the message id, so English needs no catalogue),
and `crmroi.languages.LANGUAGES` names its CLDR locale (the CLI and the web offer it).
The `.po` file is compiled in memory with `babel.messages` the first time it is used,
so no build step is needed. Formats come from the CLDR data Babel ships: `ru` gives a
decimal comma, a non-breaking space between thousands, DD.MM.YYYY dates and the
currency symbol after the amount (`1 234 568 $`); `en` gives `$1,234,568`; `bg` is like
`ru` (`1 234 568 щ.д.`); `zh` gives `US$1,234,568` and `2025年3月7日`.

Persian (`fa`) is written right to left (`Lang.direction`) and, in the HTML, PDF and
chart text, with the digits and separators of CLDR's default numbering system for fa
(`arabext`: `۱٬۲۳۴٫۵`, `۱۲٫۳٪`), as printed Persian prose and tables use them; the
workbook's cells stay real numbers (Excel shows them with the reader's own settings).
Persian dates are in the Solar Hijri calendar (`۱۷ اسفند ۱۴۰۳`; `crmroi.calendars`,
jdatetime: Babel has none), months and quarters too; `gregorian_date` gives the
Gregorian date beside it where a reader needs both. Every other language is Gregorian.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import math
import unicodedata
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
    format_percent,
)

from crmroi import messages
from crmroi.calendars import solar_hijri_date, solar_hijri_month, solar_hijri_quarter
from crmroi.languages import LANGUAGES

__all__ = ["LANGUAGES", "N_", "Lang", "get_lang", "text_direction"]

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "crmroi"

DATE_PATTERNS = {
    "en": "MMM d, yyyy",
    "ru": "dd.MM.yyyy",
    "bg": "dd.MM.yyyy",
    "fa": "d MMMM y",  # CLDR's Gregorian long/medium date for fa: the month by name
    "zh": "yyyy年M月d日",
}
VEGA_LOCALES = {"en": "en-US", "ru": "ru-RU", "bg": "bg-BG", "fa": "fa-IR", "zh": "zh-CN"}
"""The d3 locale of each language's charts. vl-convert (d3) knows en-US, ru-RU and
zh-CN for numbers and fa-IR for dates; what it lacks (numbers of bg-BG and fa-IR, dates
of bg-BG) is built from the CLDR data of the language (`Lang.vega_format_locale`), so the
axes read like the tables (decimal comma in bg, Persian digits in fa)."""

_DIGITS = {"latn": "0123456789", "arabext": "۰۱۲۳۴۵۶۷۸۹", "arab": "٠١٢٣٤٥٦٧٨٩"}
"""The ten digits of the CLDR numbering systems a report language uses by default."""


def text_direction(text: str, default: str = "ltr") -> str:
    """'rtl' or 'ltr' by the first strongly directional character (HTML's `dir=auto`).

    Computed here because WeasyPrint ignores `dir=auto`: an English warning in a
    Persian page keeps its own direction, so its full stops stay at its end.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return default


N_ = messages.N_
"""Mark a message for extraction without translating it now (gettext's N_)."""

NONE = N_("(none)")
"""What the engines write for a missing value of a group ('(none)': a segment, a source)."""


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
    money_units: str = ""
    """'' (the currency's own), 'toman' (IRR amounts in tomans, 1 toman = 10 rials) or
    'wan' (zh: large amounts in 万 and 亿, CLDR's short format); chosen as a modifier
    of the language code: 'fa@toman', 'zh@wan'."""

    def gettext(self, message: str) -> str:
        """The translation of `message` (itself when the catalogue lacks it).

        The empty message stays empty: gettext would return the catalogue's header.
        """
        return _translations(self.code).gettext(message) if message else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Singular or plural translation for `n`."""
        return _translations(self.code).ngettext(singular, plural, n)

    @property
    def direction(self) -> str:
        """'rtl' for a language written right to left (fa), else 'ltr' (from CLDR)."""
        return "rtl" if self.locale.character_order == "right-to-left" else "ltr"

    @property
    def numbering_system(self) -> str:
        """CLDR's default numbering system of the locale ('latn'; 'arabext' for fa)."""
        system = str(self.locale.default_numbering_system)
        return system if system in _DIGITS else "latn"

    @property
    def symbols(self) -> dict[str, str]:
        """The locale's number symbols (decimal, group, percentSign, ...) in its digits."""
        return dict(self.locale.number_symbols[self.numbering_system])

    def localise_digits(self, text: str) -> str:
        """`text` with ASCII digits written in the locale's own digits (fa: ۰-۹)."""
        digits = _DIGITS[self.numbering_system]
        if digits == _DIGITS["latn"]:
            return text
        return text.translate(str.maketrans(_DIGITS["latn"], digits))

    def _native(self, text: str, signed: bool = False) -> str:
        """A Babel-formatted number in the locale's digits, minus, plus and percent signs.

        Babel 2.18 takes the separators of a numbering system but writes Latin digits,
        '-' and '%'; the rest of CLDR's symbols for fa are put in here.
        """
        if self.numbering_system == "latn":
            return ("+" + text) if signed else text
        symbols = self.symbols
        if text.startswith("-"):
            text = symbols["minusSign"] + text[1:]
        elif signed:
            text = symbols["plusSign"] + text
        return self.localise_digits(text.replace("%", symbols["percentSign"]))

    def items(self, values: Iterable[str]) -> str:
        """Items of a list joined as CLDR's lists join them in the middle ('a, b' in
        English and ru, 'a،\u200f b' in fa, 'a、b' in zh): Babel's `format_list` without
        the 'and' before the last item, since the English text lists without it."""
        middle = self.locale.list_patterns["standard"]["middle"]
        kept = list(values)
        if not kept:
            return ""
        text = kept[-1]
        for value in reversed(kept[:-1]):
            text = middle.format(value, text)
        return text

    def money(self, value: float | None, currency: str, digits: int = 0) -> str:
        """Money with the currency symbol where the locale puts it; '–' for no value.

        With `money_units`: rials as tomans ('۱۲٬۳۴۵ تومان' for 123,450 IRR), or a zh
        amount of 10,000 or more in 万/亿 ('US$1.23亿' for 123,456,789 USD).
        """
        if value is None or not math.isfinite(value):
            return "–"
        if self.money_units == "toman" and currency == "IRR":
            return self.gettext("%(amount)s toman") % {"amount": self.number(value / 10, digits)}
        if self.money_units == "wan" and abs(value) >= 10_000:
            text = format_compact_currency(value, currency, locale=self.locale, fraction_digits=2)
            return self._native(text)
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        if digits == 0:
            pattern = pattern.replace(".00", "")
        text = format_currency(
            value,
            currency,
            format=pattern,
            locale=self.locale,
            currency_digits=False,
            numbering_system=self.numbering_system,
        )
        return self._native(text)

    def compact(self, value: float) -> str:
        """A large amount in CLDR's short form without a currency (zh: '1.23亿', '4.5万')."""
        text = format_compact_decimal(value, locale=self.locale, fraction_digits=2)
        return self._native(text)

    def number(self, value: float | None, digits: int = 0, signed: bool = False) -> str:
        """A number with the locale's separators and `digits` decimals ('+' if `signed`)."""
        if value is None or not math.isfinite(value):
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        text = format_decimal(
            value, format=fmt, locale=self.locale, numbering_system=self.numbering_system
        )
        return self._native(text, signed and value > 0)

    def percent(self, value: float | None, digits: int = 1, signed: bool = False) -> str:
        """A fraction as a percentage (0.123 -> 12.3%)."""
        if value is None or not math.isfinite(value):
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        text = format_percent(
            value, format=fmt, locale=self.locale, numbering_system=self.numbering_system
        )
        return self._native(text, signed and value > 0)

    def months(self, value: float | None) -> str:
        """A payback in months with one decimal, or 'never'."""
        if value is None or not math.isfinite(value):
            return self.gettext("never")
        return self.number(value, 1)

    @property
    def calendar(self) -> str:
        """'solar_hijri' for Persian readers, else 'gregorian'."""
        return "solar_hijri" if self.code == "fa" else "gregorian"

    def date(self, value: dt.date | None) -> str:
        """A date in the reader's calendar: 'Oct 1, 2023' in English, '01.10.2023' in
        Russian, '۹ مهر ۱۴۰۲' (Solar Hijri) in Persian."""
        if value is None:
            return "–"
        if self.calendar == "solar_hijri":
            return self.localise_digits(solar_hijri_date(value))
        return self.gregorian_date(value)

    def date_both(self, value: dt.date | None) -> str:
        """The date in the reader's calendar, with the Gregorian one beside it when that
        calendar is another ('۱۷ اسفند ۱۴۰۳ (۷ مارس ۲۰۲۵)'): for the workbook."""
        if value is None or self.calendar == "gregorian":
            return self.date(value)
        return f"{self.date(value)} ({self.gregorian_date(value)})"

    def gregorian_date(self, value: dt.date | None) -> str:
        """A Gregorian date in the language's format (Persian: '۱ اکتبر ۲۰۲۳')."""
        if value is None:
            return "–"
        pattern = DATE_PATTERNS.get(self.code, "medium")
        return self.localise_digits(format_date(value, pattern, locale=self.locale))

    def month(self, value: dt.date | None) -> str:
        """A month in the reader's calendar: 'Oct 2023'; Persian: 'مهر ۱۴۰۲' (Solar Hijri)."""
        if value is None:
            return "–"
        if self.calendar == "solar_hijri":
            return self.localise_digits(solar_hijri_month(value))
        return format_skeleton("yMMM", value, locale=self.locale)

    def quarter(self, value: dt.date | None) -> str:
        """A quarter in the reader's calendar ('Q4 2023'; Persian: the Solar Hijri one)."""
        if value is None:
            return "–"
        if self.calendar == "solar_hijri":
            return self.localise_digits(solar_hijri_quarter(value))
        return format_skeleton("yQQQ", value, locale=self.locale)

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
        """The d3 locale name of this language (d3 may lack it: see `VEGA_LOCALES`)."""
        return VEGA_LOCALES.get(self.code, "en-US")

    def vega_format_locale(self) -> dict[str, Any]:
        """The d3-format locale of the charts: d3's own, else (or for other digits) CLDR's."""
        import vl_convert

        if self.numbering_system == "latn":
            with suppress(ValueError):
                known: dict[str, Any] = vl_convert.get_format_locale(self.vega_locale)
                return known
        symbols = self.symbols
        out: dict[str, Any] = {
            "decimal": symbols["decimal"],
            "thousands": symbols["group"],
            "grouping": [3],
            "currency": ["", ""],  # chart axes carry no symbol (the code is in the title)
            "minus": symbols["minusSign"],
            "percent": symbols["percentSign"],
        }
        if self.numbering_system != "latn":
            out["numerals"] = list(_DIGITS[self.numbering_system])
        return out

    def vega_time_locale(self) -> dict[str, Any]:
        """The d3-time-format locale of the charts: d3's own, else CLDR's names.

        Only bg lacks one in d3; its numeric date is dd.mm.yyyy, like `DATE_PATTERNS`.
        """
        import vl_convert

        with suppress(ValueError):
            known: dict[str, Any] = vl_convert.get_time_format_locale(self.vega_locale)
            return known
        names = self.locale
        periods = names.day_periods["format"]["abbreviated"]
        return {
            "dateTime": "%x %X",
            "date": "%d.%m.%Y",
            "time": "%H:%M:%S",
            "periods": [periods.get("am", "AM"), periods.get("pm", "PM")],
            "days": [names.days["format"]["wide"][(i - 1) % 7] for i in range(7)],
            "shortDays": [names.days["format"]["abbreviated"][(i - 1) % 7] for i in range(7)],
            "months": [names.months["stand-alone"]["wide"][i] for i in range(1, 13)],
            "shortMonths": [names.months["stand-alone"]["abbreviated"][i] for i in range(1, 13)],
        }

    def filters(self) -> dict[str, Any]:
        """Jinja filters formatting (never computing) the report's figures."""
        return {
            "money": self.money,
            "number": self.number,
            "pct": self.percent,
            "months": self.months,
            "date": self.date,
            "digits": lambda value: self.localise_digits(str(value)),
            "direction": lambda value: text_direction(str(value), self.direction),
            "value": self.data_value,
        }

    @property
    def semicolon(self) -> str:
        """What joins clauses of a list of notes: '; ' in English, '؛ ' in fa, '；' in zh
        (the catalogue's translation of '%(first)s; %(rest)s')."""
        return self.gettext("%(first)s; %(rest)s") % {"first": "", "rest": ""}

    def data_value(self, value: Any) -> Any:
        """A value from the data as it is; the "(none)" that stands for a missing one
        (segments, lifetime value, scoring) in the language."""
        return self.gettext(NONE) if value == NONE else value


MONEY_UNITS = {"toman": None, "wan": "zh"}
"""Money display modifiers and the one language each needs (None: any language)."""


def get_lang(code: str) -> Lang:
    """The `Lang` for a language code of `LANGUAGES`, optionally with a money modifier
    ('fa@toman': rials shown as tomans; 'zh@wan': large amounts in 万/亿)."""
    from crmroi.errors import ConfigurationError

    base, _, units = code.partition("@")
    if base not in LANGUAGES:
        raise ConfigurationError(
            f"unknown language {code!r}; report languages are: {', '.join(LANGUAGES)}"
        )
    if units and (units not in MONEY_UNITS or MONEY_UNITS[units] not in (None, base)):
        raise ConfigurationError(
            f"unknown money units {units!r} for {base}; 'toman' (any language, IRR) or 'wan' (zh)"
        )
    return Lang(base, Locale.parse(LANGUAGES[base]), units)
