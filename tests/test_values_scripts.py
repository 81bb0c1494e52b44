"""Numbers and dates in every supported script, checked against Babel's own formatting.

Babel (the CLDR data) writes a random Decimal or date the way each locale does; the digits
are then written in Latin, full-width, Persian or Arabic-Indic script; the parser must give the
same number or date back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, get_decimal_symbol
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.ingest.pipeline import import_files
from crmroi.ingest.values import parse_dates, parse_numbers, to_ascii_digits
from crmroi.store import Store

SCRIPTS = {
    "latin": "0123456789",
    "full-width": "０１２３４５６７８９",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
}
NUMBER_LOCALES = [
    "en_US", "de_DE", "fr_FR", "ru_RU", "bg_BG", "fa_IR", "ar_EG", "zh_CN", "ja_JP",
    "hi_IN", "de_CH", "es_ES", "it_IT", "pt_BR",
]  # fmt: skip


def S(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def in_script(text: str, script: str) -> str:
    return text.translate(str.maketrans("0123456789", SCRIPTS[script]))


# --------------------------------------------------------------------------- numbers


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.decimals(min_value=-(10**10), max_value=10**10, places=2, allow_nan=False),
        min_size=1,
        max_size=8,
    ),
    locale=st.sampled_from(NUMBER_LOCALES),
    script=st.sampled_from(list(SCRIPTS)),
)
def test_babel_numbers_in_every_script(values: list[Decimal], locale: str, script: str) -> None:
    """A locale's rendering (its own separators and grouping) in any digits reads back."""
    texts = [
        in_script(
            format_decimal(v, format="#,##0.00", locale=locale, numbering_system="default"),
            script,
        )
        for v in values
    ]
    symbol = get_decimal_symbol(locale, numbering_system="default")
    decimal = symbol if symbol in (".", ",") else None
    parsed = parse_numbers(S(*texts), decimal=decimal)
    assert not parsed.bad.any(), (texts, parsed.detail)
    assert parsed.values.tolist() == pytest.approx([float(v) for v in values], abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    value=st.decimals(min_value=-(10**8), max_value=10**8, places=2, allow_nan=False),
    locale=st.sampled_from(["en_US", "hi_IN", "fa_IR", "ar_EG", "de_CH", "zh_CN"]),
    script=st.sampled_from(list(SCRIPTS)),
)
def test_babel_default_locale_format(value: Decimal, locale: str, script: str) -> None:
    """The locale's default pattern (Indian lakh grouping, Arabic separators) reads back;
    a point-decimal locale, so the separator need not be given."""
    rendered = format_decimal(
        value, locale=locale, numbering_system="default", decimal_quantization=False
    )
    text = in_script(rendered, script)
    parsed = parse_numbers(S(text, "0.25"))  # one decimal value settles the separator
    assert not parsed.bad.any(), (text, parsed.detail)
    assert parsed.values.iloc[0] == pytest.approx(float(value), abs=1e-6)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.2万", 12_000.0),
        ("3亿", 300_000_000.0),
        ("１．５万", 15_000.0),
        ("2,5万", 25_000.0),
        ("12.3456万元", 123_456.0),
        ("1.5万亿", 1.5e12),
        ("-0.01万", -100.0),
    ],
)
def test_chinese_units(raw: str, expected: float) -> None:
    parsed = parse_numbers(S(raw))
    assert not parsed.bad.any(), parsed.detail
    assert parsed.values.iloc[0] == expected  # exact: rounded to the digits written


@settings(max_examples=50, deadline=None)
@given(
    units=st.integers(min_value=-(10**8), max_value=10**8),
    places=st.integers(min_value=0, max_value=4),
    unit=st.sampled_from([("万", 4), ("亿", 8)]),
)
def test_chinese_units_exact(units: int, places: int, unit: tuple[str, int]) -> None:
    """x万 equals the decimal x * 10^4 exactly, for any digits written."""
    written = Decimal(units).scaleb(-places)
    parsed = parse_numbers(S(f"{written}{unit[0]}"))
    assert parsed.values.iloc[0] == float(written.scaleb(unit[1]))


def test_arabic_thousands_given_in_a_mapping() -> None:
    """numbers: {thousands: "٬"} reads the numbers (it used to crash in pyarrow's regex)."""
    parsed = parse_numbers(S("۱۲٬۳۴۵", "۱٬۰۰۰٬۰۰۰"), thousands="٬")
    assert parsed.values.tolist() == [12345.0, 1_000_000.0]
    for odd in ("_", "*", "+", "|", "\\", "٬", "x"):
        parse_numbers(S("12345"), thousands=odd)  # any separator: no crash


def test_to_ascii_digits_full_width_and_marks() -> None:
    assert to_ascii_digits(S("１２３", "۱\u200f/۲", None)).tolist() == ["123", "1/2", None]


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024年2月1日", "2024-02-01"),
        ("2024年02月01日 14:30", "2024-02-01 14:30"),
        ("2024年2月1日 14:30:05", "2024-02-01 14:30:05"),
        ("2024年2月1日14时30分", "2024-02-01 14:30"),
        ("2024年2月1日 14時30分15秒", "2024-02-01 14:30:15"),
        ("2024年2月1日 下午3:30", "2024-02-01 15:30"),
        ("2024年2月1日 上午12:10", "2024-02-01 00:10"),
        ("２０２４年２月１日", "2024-02-01"),
        ("２０２４－０２－０１", "2024-02-01"),
        ("2024년 2월 1일", "2024-02-01"),
        ("۱۴۰۲/۱۱/۱۲", "2024-02-01"),  # Solar Hijri with Persian digits (kept)
        ("١‏/٢‏/٢٠٢٤", "2024-02-01"),  # Arabic-Indic digits with right-to-left marks
    ],
)
def test_dates_in_other_scripts(raw: str, expected: str) -> None:
    parsed = parse_dates(S(raw), order="DMY")
    assert not parsed.bad.any(), parsed.detail
    assert parsed.values.iloc[0] == pd.Timestamp(expected)


DATE_LOCALES = {
    # locale: (Babel format, the day/month order a user would give for it)
    "zh_CN": ("long", "YMD"),
    "ja_JP": ("long", "YMD"),
    "zh_TW": ("long", "YMD"),
    "ko_KR": ("long", "YMD"),
    "ru_RU": ("short", "DMY"),
    "de_DE": ("medium", "DMY"),
    "en_US": ("short", "MDY"),
    "en_GB": ("short", "DMY"),
    "fa_IR": ("short", "YMD"),
    "ar_EG": ("short", "DMY"),
}


@settings(max_examples=100, deadline=None)
@given(
    day=st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2060, 12, 31)),
    locale=st.sampled_from(sorted(DATE_LOCALES)),
    script=st.sampled_from(list(SCRIPTS)),
    with_time=st.booleans(),
)
def test_babel_dates_in_every_script(
    day: dt.date, locale: str, script: str, with_time: bool
) -> None:
    """A date as the locale writes it (Gregorian), in any digits, reads back as that date."""
    style, order = DATE_LOCALES[locale]
    if with_time and locale in ("zh_CN", "ja_JP", "ru_RU", "de_DE"):
        moment = dt.datetime.combine(day, dt.time(14, 30, 5))
        pattern = {"zh_CN": "y年M月d日 HH:mm:ss", "ja_JP": "y年M月d日 H:mm:ss"}.get(
            locale, "dd.MM.y HH:mm:ss"
        )
        text, expected = format_datetime(moment, pattern, locale=locale), pd.Timestamp(moment)
    else:
        text, expected = format_date(day, style, locale=locale), pd.Timestamp(day)
    text = in_script(text, script)
    parsed = parse_dates(S(text), order=None if order == "YMD" else order)  # type: ignore[arg-type]
    assert not parsed.bad.any(), (text, parsed.detail)
    assert parsed.values.iloc[0] == expected, (text, parsed.detail)


# --------------------------------------------------------------------------- import


def test_persian_mapping_imports(workspace: Store, tmp_path: Path) -> None:
    """A Persian spreadsheet with ٬/٫ separators, a given thousands separator and Solar Hijri
    dates imports every row with the right numbers."""
    workspace.set_settings(base_currency="IRR")
    mapping = tmp_path / "fa.yaml"
    mapping.write_text(
        """
source_system: fa_sheet
tables:
  - entity: deals
    columns:
      deal_id: شناسه
      account_id: مشتری
      amount: مبلغ
      closed_at: تاریخ بسته شدن
      is_won: {column: وضعیت, map: {برنده: true, بازنده: false}}
    numbers: {thousands: "٬"}
""",
        encoding="utf-8",
    )
    data = tmp_path / "deals.csv"
    data.write_text(
        "شناسه,مشتری,مبلغ,تاریخ بسته شدن,وضعیت\n"
        "۱,شرکت پارس,۱۲٬۵۰۰٬۰۰۰,۱۴۰۲/۱۱/۱۲,برنده\n"
        "۲,شرکت البرز,۷۵۰٬۰۰۰٫۵,۱۴۰۲/۱۲/۰۱,بازنده\n",
        encoding="utf-8",
    )
    report = import_files(workspace, [data], mapping=mapping)
    assert report.rows_rejected == 0, report.rejects
    deals = workspace.table("deals").to_pandas().sort_values("source_id")
    assert deals["amount"].tolist() == [12_500_000.0, 750_000.5]
    assert deals["closed_at"].dt.date.astype(str).tolist() == ["2024-02-01", "2024-02-20"]
