"""Solar Hijri dates: conversion against published dates, typed dates, labels."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmroi.calendars import from_solar_hijri, parse_day, solar_hijri
from crmroi.errors import ConfigurationError
from crmroi.kpi.windows import parse_date
from crmroi.reports.i18n import get_lang

# Nowruz (1 Farvardin) and the last day of leap years, as published by Iran's calendar
# authority (the University of Tehran's Geophysics Institute calendar tables).
PUBLISHED = [
    ((1399, 1, 1), dt.date(2020, 3, 20)),
    ((1399, 12, 30), dt.date(2021, 3, 20)),  # 1399 is a leap year (30 Esfand)
    ((1400, 1, 1), dt.date(2021, 3, 21)),
    ((1402, 1, 1), dt.date(2023, 3, 21)),
    ((1403, 1, 1), dt.date(2024, 3, 20)),
    ((1403, 12, 30), dt.date(2025, 3, 20)),  # 1403 is a leap year
    ((1404, 1, 1), dt.date(2025, 3, 21)),
    ((1402, 7, 1), dt.date(2023, 9, 23)),  # 1 Mehr, the first day of the autumn half
]


@pytest.mark.parametrize(("shamsi", "gregorian"), PUBLISHED)
def test_published_dates(shamsi: tuple[int, int, int], gregorian: dt.date) -> None:
    assert solar_hijri(gregorian) == shamsi
    assert from_solar_hijri(*shamsi) == gregorian


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_round_trip(day: dt.date) -> None:
    assert from_solar_hijri(*solar_hijri(day)) == day
    year, month, d = solar_hijri(day)
    assert parse_day(f"{year:04d}-{month:02d}-{d:02d}") == day
    assert parse_day(day.isoformat()) == day


def test_typed_dates() -> None:
    assert parse_day("۱۴۰۳-۰۱-۰۱") == dt.date(2024, 3, 20)  # Persian digits
    assert parse_day("1403/12/30") == dt.date(2025, 3, 20)
    assert parse_date("1402-07-01", "--go-live") == dt.date(2023, 9, 23)
    with pytest.raises(ConfigurationError, match="not a Solar Hijri date"):
        parse_day("1402-12-30")  # 1402 is not a leap year
    with pytest.raises(ConfigurationError, match=r"--go-live: '2025-13-01' is not a date"):
        parse_date("2025-13-01", "--go-live")


def test_persian_labels_are_solar_hijri() -> None:
    fa = get_lang("fa")
    day = dt.date(2025, 3, 7)
    assert fa.date(day) == "۱۷ اسفند ۱۴۰۳"
    assert fa.gregorian_date(day) == "۷ مارس ۲۰۲۵"
    assert fa.date_both(day) == "۱۷ اسفند ۱۴۰۳ (۷ مارس ۲۰۲۵)"  # the workbook's dates
    assert get_lang("ru").date_both(day) == "07.03.2025"
    assert fa.month(day) == "اسفند ۱۴۰۳"
    assert fa.quarter(day) == "سه\u200cماههٔ ۴ ۱۴۰۳"
    assert get_lang("zh").month(day) == "2025年3月"
    assert get_lang("en").quarter(day) == "Q1 2025"


def test_the_importers_arithmetic_agrees_with_jdatetime() -> None:
    """crmroi.ingest.values converts Solar Hijri cells with the 33-year arithmetic rule;
    every day of 1369-1439 (1990-2060) must land on jdatetime's date."""
    import numpy as np

    from crmroi.ingest.values import _JALALI_YEARS, _jalali_to_gregorian

    start = dt.date(1990, 3, 21)
    days = [start + dt.timedelta(i) for i in range(25_567)]
    shamsi = np.array([solar_hijri(d) for d in days], dtype=float)
    y, m, d = _jalali_to_gregorian(shamsi[:, 0], shamsi[:, 1], shamsi[:, 2])
    got = [dt.date(int(a), int(b), int(c)) for a, b, c in zip(y, m, d, strict=True)]
    assert got == days
    from crmroi.calendars import SOLAR_HIJRI_YEARS

    assert SOLAR_HIJRI_YEARS == _JALALI_YEARS
