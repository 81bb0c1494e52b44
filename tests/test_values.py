"""Tests for crmroi.ingest.values: locale-aware numbers, dates and booleans."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import from_excel

from crmroi.ingest.reading import read_raw
from crmroi.ingest.values import parse_booleans, parse_dates, parse_numbers, to_ascii_digits

DATA = Path(__file__).parents[2] / "shared" / "data"


def S(*values: str | None) -> pd.Series:
    """An object Series of raw strings, as RawTable frames hold them."""
    return pd.Series(list(values), dtype=object)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.5", 1234.5),
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),
        ("1\u202f234,5", 1234.5),
        ("1234,5", 1234.5),
        ("-12", -12.0),
        ("(12)", -12.0),
        ("$1,200", 1200.0),
        ("1 200 ₽", 1200.0),
        ("€ 5", 5.0),
        ("USD 10", 10.0),
        ("10 руб.", 10.0),
        ("۱۲۳۴", 1234.0),
        ("٤٥٫٥", 45.5),  # the Arabic decimal separator
        ("۱۲٬۳۴۵٫۶۷", 12345.67),  # Persian digits, Arabic thousands and decimal separators
        ("１２，３４５．６", 12345.6),  # full-width digits and punctuation
        ("￥1,000", 1000.0),
        ("1.2万", 12000.0),
        ("3亿", 300_000_000.0),
        ("0.07万", 700.0),
        ("12.3456万元", 123456.0),
        ("EUR 1,000.00", 1000.0),
        ("€1.000,50", 1000.5),
        ("ریال ۱۲۰٬۰۰۰", 120000.0),
        ("50¢", None),  # cents are not a currency: refused rather than read as 50
        ("1.5E+03", 1500.0),
        ("1,234,567.89", 1234567.89),
        ("1.234.567,89", 1234567.89),
        ("−7,5", -7.5),
        ("0,250", 0.25),
        ("+3", 3.0),
        (".5", 0.5),
    ],
)
def test_single_number(raw: str, expected: float | None) -> None:
    p = parse_numbers(S(raw))
    if expected is None:
        assert bool(p.bad.iloc[0])
    else:
        assert not bool(p.bad.iloc[0]), p.detail
        assert p.values.iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["abc", "12%", "1.2.3,4,5", "1,23,4.5", "--5", "12 34 abc"])
def test_bad_numbers(raw: str) -> None:
    p = parse_numbers(S(raw, "1.5"))
    assert p.bad.tolist() == [True, False]
    assert math.isnan(p.values.iloc[0])


def test_empty_is_missing_not_bad() -> None:
    p = parse_numbers(S(None, "", "  ", "5"))
    assert p.bad.tolist() == [False] * 4
    assert p.values.isna().tolist() == [True, True, True, False]
    assert p.values.dtype == np.float64


def test_decimal_detected_per_column() -> None:
    # "1,234" alone is ambiguous; "2,5" in the same column proves a decimal comma
    p = parse_numbers(S("1,234", "2,5"))
    assert p.values.tolist() == pytest.approx([1.234, 2.5])
    assert "comma" in p.detail
    # "1,234" next to "1,234.5" is a thousands separator
    p = parse_numbers(S("1,234", "1,234.5"))
    assert p.values.tolist() == pytest.approx([1234.0, 1234.5])
    assert "point" in p.detail
    # all ambiguous: default to '.' and say so
    p = parse_numbers(S("1,234", "5,678"))
    assert p.values.tolist() == pytest.approx([1234.0, 5678.0])
    assert "ambiguous" in p.detail


def test_given_separators_are_honoured() -> None:
    p = parse_numbers(S("1,234", "1.5"), decimal=",")
    assert p.values.iloc[0] == pytest.approx(1.234)
    assert bool(p.bad.iloc[1])  # '.' is the thousands separator, "1.5" is badly grouped
    p = parse_numbers(S("1.234"), thousands=".")
    assert p.values.iloc[0] == pytest.approx(1234.0)
    assert "given" in parse_numbers(S("1"), decimal=".").detail


def test_index_preserved() -> None:
    s = pd.Series(["1", "2"], index=[10, 20], dtype=object)
    for p in (parse_numbers(s), parse_dates(s), parse_booleans(s)):
        assert list(p.values.index) == [10, 20]
        assert list(p.bad.index) == [10, 20]


def _render(x: float, style: str) -> str:
    text = f"{x:,.2f}"  # 1,234,567.89
    if style == "en":
        return text
    if style == "de":
        return text.replace(",", "_").replace(".", ",").replace("_", ".")
    if style == "ru":
        return text.replace(",", "\u00a0").replace(".", ",")
    if style == "fr":
        return text.replace(",", "\u202f").replace(".", ",")
    if style == "plain":
        return f"{x:.2f}"
    raise AssertionError(style)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2)),
        min_size=1,
        max_size=20,
    ),
    style=st.sampled_from(["en", "de", "ru", "fr", "plain"]),
)
def test_locale_round_trip(values: list[float], style: str) -> None:
    """parse_numbers of a locale rendering gives back the number (decimal given)."""
    decimal = "." if style in ("en", "plain") else ","
    p = parse_numbers(S(*[_render(v, style) for v in values]), decimal=decimal)
    assert not p.bad.any()
    assert p.values.tolist() == pytest.approx(values, abs=0.006)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2)),
        min_size=1,
        max_size=20,
    ).filter(lambda vs: any(abs(v) >= 1000 or round(v * 100) % 10 for v in vs)),
    style=st.sampled_from(["en", "de", "ru", "fr"]),
)
def test_locale_round_trip_detected(values: list[float], style: str) -> None:
    """Two decimals are always rendered, so detection can always tell the separator."""
    p = parse_numbers(S(*[_render(v, style) for v in values]))
    assert not p.bad.any(), (p.detail, [_render(v, style) for v in values])
    assert p.values.tolist() == pytest.approx(values, abs=0.006)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05T10:20:30.000Z", "2024-03-05 10:20:30"),
        ("2024-03-05T10:20:30+0000", "2024-03-05 10:20:30"),
        ("2024-03-05T10:20:30+03:00", "2024-03-05 07:20:30"),
        ("2024-03-05 10:20", "2024-03-05 10:20"),
        ("2024-03-05T10:20:30.123456", "2024-03-05 10:20:30.123456"),
        ("05.03.2024", "2024-03-05"),
        ("05.03.2024 14:30", "2024-03-05 14:30"),
        ("26-02-2018 19:58", "2018-02-26 19:58"),
        ("2018/2/1", "2018-02-01"),
        ("2018/12/31 23:59:59", "2018-12-31 23:59:59"),
        ("2024-3-5", "2024-03-05"),
        ("13/01/2020", "2020-01-13"),
        ("1/13/2020", "2020-01-13"),
        ("3/5/2024 2:30 PM", "2024-03-05 14:30"),
        ("12/25/2024 12:05 AM", "2024-12-25 00:05"),
        ("۱۴/۰۳/۲۰۲۴", "2024-03-14"),
        ("05.03.2024 14:30 +03:00", "2024-03-05 11:30"),
        ("31.12.99", "1999-12-31"),
    ],
)
def test_date_formats(raw: str, expected: str) -> None:
    p = parse_dates(S(raw))
    assert not bool(p.bad.iloc[0]), p.detail
    assert p.values.iloc[0] == ts(expected)
    assert str(p.values.dtype) == "datetime64[us]"


@pytest.mark.parametrize("raw", ["2024-02-30", "31.04.2024", "2024-13-01", "not a date", "25:00"])
def test_bad_dates(raw: str) -> None:
    p = parse_dates(S(raw, "2024-01-01"))
    assert p.bad.tolist() == [True, False]
    assert pd.isna(p.values.iloc[0])


def test_ambiguity_resolution() -> None:
    # a first part > 12 anywhere makes the whole column DMY
    p = parse_dates(S("01/02/2020", "13/02/2020"))
    assert p.values.tolist() == [ts("2020-02-01"), ts("2020-02-13")]
    assert "DD/MM/YYYY" in p.detail
    # a second part > 12 makes it MDY
    p = parse_dates(S("01/02/2020", "02/13/2020"))
    assert p.values.tolist() == [ts("2020-01-02"), ts("2020-02-13")]
    assert "M/D/YYYY" in p.detail
    # all ambiguous: the given order wins
    p = parse_dates(S("01/02/2020"), order="DMY")
    assert p.values.iloc[0] == ts("2020-02-01")
    assert "given" in p.detail
    # all ambiguous, no order: by separator, and the detail says so
    assert parse_dates(S("01/02/2020")).values.iloc[0] == ts("2020-01-02")
    assert parse_dates(S("01.02.2020")).values.iloc[0] == ts("2020-02-01")
    assert parse_dates(S("01-02-2020")).values.iloc[0] == ts("2020-02-01")
    assert "ambiguous" in parse_dates(S("01/02/2020")).detail


def test_mixed_formats_row_by_row() -> None:
    p = parse_dates(S("2024-03-05", "06.03.2024", "2024-03-07T08:00:00Z", None, "junk"))
    assert p.values.iloc[:3].tolist() == [
        ts("2024-03-05"),
        ts("2024-03-06"),
        ts("2024-03-07 08:00"),
    ]
    assert p.bad.tolist() == [False, False, False, False, True]
    assert "ISO" in p.detail and "DD.MM.YYYY" in p.detail


def test_given_format() -> None:
    p = parse_dates(S("05/03/2024", "x"), fmt="%d/%m/%Y")
    assert p.values.iloc[0] == ts("2024-03-05")
    assert p.bad.tolist() == [False, True]
    p = parse_dates(S("2024-03-05 10:00 +0200"), fmt="%Y-%m-%d %H:%M %z")
    assert p.values.iloc[0] == ts("2024-03-05 08:00")


@pytest.mark.parametrize("serial", ["45356", "45356.5", "20000", "36526", "60000.25", "79999"])
def test_excel_serials_match_openpyxl(serial: str) -> None:
    p = parse_dates(S(serial, "45000"))
    expected = from_excel(float(serial))
    assert isinstance(expected, dt.datetime)
    assert p.values.iloc[0] == pd.Timestamp(expected)
    assert "Excel" in p.detail


def test_numeric_columns() -> None:
    p = parse_dates(S("19970101", "19970615"))
    assert p.values.tolist() == [ts("1997-01-01"), ts("1997-06-15")]
    p = parse_dates(S("1709632800000"))
    assert p.values.iloc[0] == ts("2024-03-05 10:00")
    # numbers outside any plausible date range are bad
    assert parse_dates(S("12", "2024-01-01")).bad.tolist() == [True, False]


def test_large_columns_are_fast_enough() -> None:
    n = 200_000
    rng = pd.date_range("2000-01-01", periods=n, freq="min")
    iso = pd.Series(rng.strftime("%Y-%m-%dT%H:%M:%S").astype(object))
    dmy = pd.Series(rng.strftime("%d.%m.%Y %H:%M").astype(object))
    for s in (iso, dmy):
        p = parse_dates(s)
        assert not p.bad.any()
        assert (p.values.to_numpy() == rng.to_numpy()).all()


# --------------------------------------------------------------------------- booleans


def test_booleans() -> None:
    p = parse_booleans(S("true", "FALSE", "Yes", "no", "1", "0", "Y", "n", "T", "f"))
    assert p.values.tolist() == [True, False] * 5
    p = parse_booleans(S("да", "Нет", "是", "否", None, "", "maybe", "won"))
    assert p.values.iloc[:4].tolist() == [True, False, True, False]
    assert p.values.iloc[4:].isna().all()
    assert p.bad.tolist() == [False] * 6 + [True, True]
    assert str(p.values.dtype) == "boolean"


def test_booleans_custom_values() -> None:
    p = parse_booleans(S("Won", "lost", "true"), true_values=["won"], false_values=["LOST"])
    assert p.values.iloc[:2].tolist() == [True, False]
    assert p.bad.tolist() == [False, False, True]


def test_to_ascii_digits() -> None:
    out = to_ascii_digits(S("۱۲۳۴۵۶۷۸۹۰", "٠١٢٣٤٥٦٧٨٩", None, "abc 12"))
    assert out.tolist() == ["1234567890", "0123456789", None, "abc 12"]


# --------------------------------------------------------------------------- real files


def _olist(name: str) -> Path:
    path = DATA / "olist_funnel" / name
    if not path.exists():
        pytest.skip("shared data folder ../shared/data is absent")
    return path


def test_olist_leads_dates_are_mdy() -> None:
    raw = read_raw(_olist("olist_marketing_qualified_leads_dataset.csv"))
    p = parse_dates(raw.frame["first_contact_date"])
    assert not p.bad.any()
    assert "M/D/YYYY" in p.detail
    assert p.values.min() >= ts("2017-06-01")
    assert p.values.max() < ts("2018-06-01")
    assert raw.frame["first_contact_date"].iloc[0] == "2/1/2018"
    assert p.values.iloc[0] == ts("2018-02-01")


def test_olist_deals_dates_are_dmy() -> None:
    raw = read_raw(_olist("olist_closed_deals_dataset.csv"))
    p = parse_dates(raw.frame["won_date"])
    assert not p.bad.any()
    assert "DD-MM-YYYY" in p.detail
    assert p.values.iloc[0] == ts("2018-02-26 19:58")
    revenue = parse_numbers(raw.frame["declared_monthly_revenue"])
    assert not revenue.bad.any()


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [
        ("1390/01/01", "2011-03-21"),
        ("1395/01/01", "2016-03-20"),
        ("1398/01/01", "2019-03-21"),
        ("1399/01/01", "2020-03-20"),
        ("1399/12/30", "2021-03-20"),
        ("1400-01-01", "2021-03-21"),
        ("1402/10/11", "2024-01-01"),
        ("1403/01/01", "2024-03-20"),
        ("۱۴۰۴/۰۱/۰۱", "2025-03-21"),
        ("1370/06/31", "1991-09-22"),
    ],
)
def test_solar_hijri(jalali: str, gregorian: str) -> None:
    p = parse_dates(S(jalali))
    assert p.values.iloc[0] == ts(gregorian)
    assert "Solar Hijri" in p.detail


def test_solar_hijri_invalid() -> None:
    assert parse_dates(S("1402/07/31", "1402/13/01")).bad.tolist() == [True, True]


def test_iso_dates_written_with_utc_read_as_with_z() -> None:
    """'... UTC' and '...UTC' mean Z (the plain search that skips the rewrite must not
    skip it when one cell has it)."""
    values = pd.Series(
        ["2024-01-02T10:00:00Z", "2024-01-02 10:00:00 UTC", "2024-01-02T10:00UTC", "2024-01-03"]
    )
    parsed = parse_dates(values)
    assert not parsed.bad.any()
    assert list(parsed.values) == [
        pd.Timestamp("2024-01-02 10:00"),
        pd.Timestamp("2024-01-02 10:00"),
        pd.Timestamp("2024-01-02 10:00"),
        pd.Timestamp("2024-01-03"),
    ]
