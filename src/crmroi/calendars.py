"""The Solar Hijri (Jalali) calendar of Persian readers, and dates typed in it.

Babel (CLDR) formats Gregorian dates only; Iranian finance teams date everything in
the Solar Hijri calendar (the year starts on 1 Farvardin, at the March equinox). The
conversion is jdatetime's (a small, long-maintained pure-Python library that mirrors
`datetime` and converts both ways with the arithmetic of the official calendar), so
crmroi keeps no calendar tables of its own.

`parse_day` reads a date typed by a person in either calendar: ISO `YYYY-MM-DD` (or
with `/` or `.`), in Latin, Persian or Arabic-Indic digits. A year from 1200 to 1499
is a Solar Hijri year (1403 is March 2024 to March 2025), the rule the importer applies
to cells (`crmroi.ingest.values`): no CRM holds Gregorian records of those centuries.
"""

from __future__ import annotations

import datetime as dt
import re

import jdatetime

from crmroi.errors import ConfigurationError
from crmroi.messages import M_, Message

__all__ = [
    "SOLAR_HIJRI_MONTHS",
    "from_solar_hijri",
    "parse_day",
    "solar_hijri",
    "solar_hijri_date",
    "solar_hijri_month",
    "solar_hijri_quarter",
]

SOLAR_HIJRI_MONTHS: tuple[str, ...] = tuple(jdatetime.date.j_months_fa)
"""Farvardin ... Esfand in Persian, index 0 = month 1."""
SOLAR_HIJRI_YEARS = (1200, 1499)
"""A typed year in this range is a Solar Hijri year (as in imported cells)."""
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_DAY = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")


def solar_hijri(day: dt.date) -> tuple[int, int, int]:
    """(year, month, day) of a Gregorian date in the Solar Hijri calendar."""
    j = jdatetime.date.fromgregorian(date=day)
    return j.year, j.month, j.day


def from_solar_hijri(year: int, month: int, day: int) -> dt.date:
    """The Gregorian date of a Solar Hijri date; ConfigurationError if it does not exist."""
    try:
        out: dt.date = jdatetime.date(year, month, day).togregorian()
    except ValueError:
        text = f"{year:04d}-{month:02d}-{day:02d}"
        raise ConfigurationError(
            M_("not_solar_hijri", "%(day)s is not a Solar Hijri date", day=text)
        ) from None
    return out


def parse_day(text: str, what: str = "date") -> dt.date:
    """A date typed as YYYY-MM-DD, Gregorian or (years 1200-1499) Solar Hijri."""
    found = _DAY.match(str(text).translate(_DIGITS))
    if found is None:
        raise ConfigurationError(_not_a_date(what, text))
    year, month, day = (int(part) for part in found.groups())
    if SOLAR_HIJRI_YEARS[0] <= year <= SOLAR_HIJRI_YEARS[1]:
        return from_solar_hijri(year, month, day)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ConfigurationError(_not_a_date(what, text)) from None


def _not_a_date(what: str, text: str) -> Message:
    """'--go-live: '2024-13-01' is not a date (YYYY-MM-DD)' (`what`: the option or setting)."""
    return M_(
        "not_a_date", "%(what)s: %(value)s is not a date (YYYY-MM-DD)", what=what, value=repr(text)
    )


def solar_hijri_date(day: dt.date) -> str:
    """'17 اسفند 1403' (Latin digits: the caller writes them in the reader's digits)."""
    year, month, d = solar_hijri(day)
    return f"{d} {SOLAR_HIJRI_MONTHS[month - 1]} {year}"


def solar_hijri_month(day: dt.date) -> str:
    """The Solar Hijri month of `day`: 'اسفند 1403'."""
    year, month, _ = solar_hijri(day)
    return f"{SOLAR_HIJRI_MONTHS[month - 1]} {year}"


def solar_hijri_quarter(day: dt.date) -> str:
    """The Solar Hijri quarter of `day` (the Iranian fiscal year's): 'سه‌ماههٔ 4 1403'."""
    year, month, _ = solar_hijri(day)
    return f"سه\u200cماههٔ {(month - 1) // 3 + 1} {year}"
