"""Report languages: every catalogue covers every label; each language formats numbers,
money and dates as its CLDR locale does; Persian is right to left (HTML, PDF, XLSX); the
PDF of every language carries its script in embedded Noto fonts."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from babel import Locale
from babel.dates import format_date
from babel.numbers import get_currency_symbol
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.errors import ConfigurationError
from crmroi.reports import LANGUAGES, write_report
from crmroi.reports import labels as label_tables
from crmroi.reports.html import TEMPLATES, _environment, render_html
from crmroi.reports.i18n import get_lang, text_direction
from crmroi.reports.model import ReportModel
from crmroi.reports.pdf import pdf_available, render_pdf
from crmroi.reports.xlsx_sheets import sheet_title
from crmroi.web.case_results import negotiate_language, report_languages
from tests.test_report_model import CASE, sample_model

NBSP = "\u00a0"
TRANSLATED = [code for code in LANGUAGES if code != "en"]
SCRIPTS = {"ru": "CYRILLIC", "bg": "CYRILLIC", "fa": "ARABIC", "zh": "CJK"}
"""The Unicode script of each language's letters (by character name)."""
NOTO = {"fa": "Noto-Sans-Arabic", "zh": "Noto-Sans-CJK-SC"}
INVISIBLE = re.compile("[\\s\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
"""Spaces, joiners and bidi controls: pdftotext moves or drops them in Arabic script."""
PNG_DIR = Path(__file__).resolve().parents[1] / "test-output"
CLDR = {code: Locale.parse(name) for code, name in LANGUAGES.items()}


def _flat(text: str) -> str:
    """`text` without INVISIBLE characters, lam-alef as pdftotext gives its ligature."""
    return INVISIBLE.sub("", text).replace("لا", "ال")


def native(code: str, text: str) -> str:
    """`text` with its ASCII digits in the default CLDR digits of `code` (by Unicode name)."""
    system = CLDR[code].default_numbering_system
    if system == "latn":
        return text
    assert system == "arabext"
    names = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
    table = {
        str(i): unicodedata.lookup(f"EXTENDED ARABIC-INDIC DIGIT {n}") for i, n in enumerate(names)
    }
    return "".join(table.get(c, c) for c in text)


def symbols(code: str) -> dict[str, str]:
    locale = CLDR[code]
    return dict(locale.number_symbols[locale.default_numbering_system])


def test_the_languages_are_the_promised_ones() -> None:
    assert list(LANGUAGES) == ["en", "ru", "bg", "fa", "zh"]
    assert [get_lang(c).direction for c in LANGUAGES] == ["ltr", "ltr", "ltr", "rtl", "ltr"]


def test_russian_formats() -> None:
    ru, en = get_lang("ru"), get_lang("en")
    assert ru.money(1234567.891, "USD") == f"1{NBSP}234{NBSP}568{NBSP}$"
    assert en.money(-1234567.891, "USD") == "-$1,234,568"
    assert ru.money(1234567, "RUB") == f"1{NBSP}234{NBSP}567{NBSP}₽"
    assert ru.percent(0.1234) == "12,3%" and en.percent(0.1234) == "12.3%"
    assert ru.number(1234.5, 1) == f"1{NBSP}234,5"
    assert ru.date(dt.date(2025, 3, 7)) == "07.03.2025"
    assert en.date(dt.date(2025, 3, 7)) == "Mar 7, 2025"
    assert ru.months(None) == "никогда" and ru.months(19.43) == "19,4"


@pytest.mark.parametrize("code", TRANSLATED)
def test_numbers_and_percentages_follow_cldr(code: str) -> None:
    lang, s = get_lang(code), symbols(code)
    dec, grp = s["decimal"], s["group"]
    assert lang.number(1234567.891, 1) == native(code, f"1{grp}234{grp}567{dec}9")
    assert lang.number(-42) == s["minusSign"] + native(code, "42")
    assert lang.percent(0.1234) == native(code, f"12{dec}3{s['percentSign']}")
    assert lang.percent(0.05, 0, signed=True) == s["plusSign"] + native(
        code, f"5{s['percentSign']}"
    )


@pytest.mark.parametrize("code", TRANSLATED)
@pytest.mark.parametrize("currency", ["USD", "EUR", "CNY"])
def test_money_puts_the_symbol_where_cldr_does(code: str, currency: str) -> None:
    lang, s = get_lang(code), symbols(code)
    pattern = CLDR[code].currency_formats["standard"].pattern.split(";")[0]
    before, _, after = pattern.partition("#,##0.00")
    symbol = get_currency_symbol(currency, locale=CLDR[code])
    grp = s["group"]
    amount = native(code, f"1{grp}234{grp}568")
    expected = before.replace("¤", symbol) + amount + after.replace("¤", symbol)
    assert lang.money(1234567.891, currency) == expected


def test_money_by_hand() -> None:
    """A reader's check of the CLDR-derived expectations above."""
    assert get_lang("bg").money(1234567.891, "EUR") == f"1{NBSP}234{NBSP}568{NBSP}€"
    assert get_lang("bg").number(1234.5, 1) == f"1{NBSP}234,5"  # decimal comma
    assert get_lang("zh").money(1234567.891, "CNY") == "¥1,234,568"
    assert get_lang("zh").money(1234567.891, "USD") == "US$1,234,568"
    assert get_lang("fa").money(1234567.891, "USD") == "\u200e$\u00a0۱٬۲۳۴٬۵۶۸"
    assert get_lang("fa").money(-5, "USD") == "\u200e−\u200e$\u00a0۵"


@pytest.mark.parametrize("code", TRANSLATED)
def test_dates(code: str) -> None:
    day = dt.date(2025, 3, 7)
    expected = {
        "ru": "07.03.2025",
        "bg": "07.03.2025",  # day.month.year, the order of CLDR's short bg date
        "zh": format_date(day, "long", locale=CLDR["zh"]),  # CLDR: y年M月d日
        "fa": "۱۷ اسفند ۱۴۰۳",  # Solar Hijri (crmroi.calendars)
    }
    assert get_lang(code).date(day) == expected[code]
    assert get_lang("zh").date(day) == "2025年3月7日"
    assert get_lang("fa").gregorian_date(day) == native(
        "fa", format_date(day, "long", locale=CLDR["fa"])
    )


def test_chart_locales() -> None:
    bg, fa, zh = get_lang("bg"), get_lang("fa"), get_lang("zh")
    assert (
        bg.vega_format_locale()["decimal"] == "," and bg.vega_format_locale()["thousands"] == NBSP
    )
    assert bg.vega_time_locale()["months"][2] == Locale.parse("bg").months["stand-alone"]["wide"][3]
    assert fa.vega_format_locale()["numerals"] == list(native("fa", "0123456789"))
    assert fa.vega_time_locale()["months"][0] == "ژانویه"  # d3's fa-IR: Gregorian months
    assert zh.vega_format_locale()["decimal"] == "."


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="report languages are: en, ru, bg, fa, zh"):
        get_lang("xx")


def _template_messages() -> set[str]:
    source = (TEMPLATES / "report.html.j2").read_text(encoding="utf-8")
    return {m for _, _, m in _environment().extract_translations(source) if isinstance(m, str)}


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_catalogue_translates_every_label(code: str) -> None:
    lang = get_lang(code)
    messages = _template_messages()
    tables = ("KPI_LABELS", "UNIT_LABELS", "CATEGORY_LABELS", "METHOD_LABELS", "INPUT_LABELS")
    for table in (*tables, "FOLLOWUP_LABELS", "SCORING_LABELS"):
        messages |= set(getattr(label_tables, table).values())
    messages |= set(label_tables.GROUP_LABELS.values()) | set(label_tables.PEOPLE_LABELS.values())
    messages |= {text for texts in label_tables.ROI_LABELS.values() for text in texts}
    assert len(messages) > 150
    missing = sorted(m for m in messages if lang.gettext(m) == m and m not in {"NPV", "ROI", "KPI"})
    assert missing == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_bare_currency_unit_is_not_the_catalogue_header(code: str) -> None:
    lang = get_lang(code)
    assert lang.gettext("") == ""  # gettext("") is the .po header ("Project-Id-Version: ...")
    assert label_tables.unit_label(lang, "USD", "USD") == "USD"


@pytest.fixture(scope="module")
def models() -> dict[str, ReportModel]:
    return {code: sample_model(code) for code in TRANSLATED}


def test_russian_page(models: dict[str, ReportModel]) -> None:
    ru_model = models["ru"]
    page = render_html(ru_model)
    assert '<html lang="ru" dir="ltr">' in page
    for english in ("Executive summary", "Cash flow", "Assumptions and their sources", "never"):
        assert f">{english}<" not in page
    assert "Резюме для руководства" in page and "Допущения и их источники" in page
    h = ru_model.figure(36, True)
    npv = f"{h.npv:,.0f}".replace(",", NBSP) + f"{NBSP}$"
    assert npv in page
    assert "07.03.2025" in page  # the report date, DD.MM.YYYY
    assert "Доля выигранных сделок" in page  # a KPI label
    assert ru_model.charts["cash_flow"]["title"] == "Накопленный денежный поток и окупаемость"


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_page_is_in_its_language(models: dict[str, ReportModel], code: str) -> None:
    model, lang = models[code], get_lang(code)
    page = render_html(model)
    assert f'<html lang="{code}" dir="{lang.direction}">' in page
    assert f"<h1>{model.title}</h1>" in page and model.title != "Does the CRM pay for itself?"
    assert f">{lang.gettext('Executive summary')}<" in page and ">Executive summary<" not in page
    npv = lang.money(model.figure(36, True).npv, model.currency)
    assert f'<div class="value" id="kf-npv">{npv}</div>' in page
    assert lang.date(dt.date(2025, 3, 7)) in page
    assert model.charts["cash_flow"]["title"] == lang.gettext("Cumulative cash flow and payback")
    assert "Noto Sans Arabic" in page and "Noto Sans CJK SC" in page  # the font stack
    style = page[page.index("<style>") : page.index("</style>")]
    assert "text-align: left" not in style and "text-align: right" not in style  # logical


def test_persian_page_is_right_to_left(models: dict[str, ReportModel]) -> None:
    page = render_html(models["fa"])
    assert '<html lang="fa" dir="rtl">' in page
    assert "td.n, th.n { text-align: end;" in page  # numbers at the end side: left in fa
    assert "۳۶" in page  # horizon and months in Persian digits
    # an English (untranslated) warning keeps its own direction inside the Persian page
    assert '<div class="warning" dir="ltr">' in page
    assert text_direction("ROI is -48%", "rtl") == "ltr" and text_direction("۱۲ ماه") == "rtl"
    assert text_direction("12 %", "rtl") == "rtl"  # nothing strong: the page's direction


@pytest.mark.parametrize("code", TRANSLATED)
def test_workbook_sheets(models: dict[str, ReportModel], code: str, tmp_path: Path) -> None:
    lang = get_lang(code)
    book = openpyxl.load_workbook(write_report(models[code], tmp_path / f"{code}.xlsx"))
    names = book.sheetnames
    assert names[:3] == [sheet_title(lang.gettext(t)) for t in ("Inputs", "Schedule", "Cash flow")]
    assert names[0] != "Inputs" and len(set(names)) == len(names)
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)
    assert all(bool(ws.sheet_view.rightToLeft) == (code == "fa") for ws in book.worksheets)
    inputs = book[names[0]]
    assert inputs["B4"].value == models[code].discount_rate  # a number, not formatted text
    flows = book[names[2]]
    assert str(flows["B3"].value).startswith(f"='{names[0]}'!$F$")


def test_russian_workbook_keeps_its_formulas(
    models: dict[str, ReportModel], tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(write_report(models["ru"], tmp_path / "ru.xlsx"))
    assert book.sheetnames[:3] == ["Исходные данные", "График", "Денежный поток"]
    flows = book["Денежный поток"]
    assert str(flows["B3"].value).startswith("='Исходные данные'!$F$")
    assert "'График'!B2" in str(flows["B3"].value)


def test_sheet_titles_are_valid_excel_names() -> None:
    assert sheet_title("Lead sources: [a/b] * why? \\ 'x'") == "Lead sources a b why 'x"
    assert len(sheet_title("شاخص‌های کلیدی عملکرد و منابع سرنخ در هر ماه")) == 31
    assert sheet_title("???") == "Sheet"


def test_web_offers_every_language() -> None:
    assert list(report_languages()) == list(LANGUAGES)
    assert report_languages()["fa"] == "فارسی" and report_languages()["zh"] == "中文"
    assert negotiate_language("fa-IR,fa;q=0.9,en;q=0.5") == "fa"
    assert negotiate_language("zh-CN") == "zh" and negotiate_language("bg;q=0.8, de") == "bg"


def test_cli_writes_a_persian_report(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["report", str(CASE), "--out", str(out), "--simulate", "0", "--lang", "fa"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert '<html lang="fa" dir="rtl">' in page and get_lang("fa").gettext("Cash flow") in page
    refused = CliRunner().invoke(app, ["report", str(CASE), "--out", str(out), "--lang", "xx"])
    assert refused.exit_code == 2
    assert all(f"'{code}'" in refused.output for code in LANGUAGES)  # the choices offered


# -- PDF ---------------------------------------------------------------------------------
needs_pdf = pytest.mark.skipif(
    not pdf_available() or not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdftoppm")),
    reason="WeasyPrint or poppler-utils is absent; .ci/run installs them",
)


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


@cache
def _covered() -> set[int]:
    """Code points with a glyph in the report's font stack (the files fontconfig picks)."""
    from fontTools.ttLib import TTCollection, TTFont

    stack = ("Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans CJK SC")
    out: set[int] = set()
    for family in (*stack, "DejaVu Sans"):
        path = Path(run("fc-match", "-f", "%{file}", family))
        fonts = TTCollection(path).fonts if path.suffix == ".ttc" else [TTFont(path)]
        for font in fonts:
            out |= set(font.getBestCmap())
    return out


@needs_pdf
@pytest.mark.parametrize("code", TRANSLATED)
def test_pdf_is_in_its_script_without_tofu(
    models: dict[str, ReportModel], code: str, tmp_path: Path
) -> None:
    model, lang = models[code], get_lang(code)
    pdf = tmp_path / f"{code}.pdf"
    pdf.write_bytes(render_pdf(model))
    first = run("pdftotext", "-l", "1", str(pdf), "-")
    for phrase in (model.title, lang.gettext("Executive summary"), lang.date(dt.date(2025, 3, 7))):
        # word by word: pdftotext moves neutral characters around in right-to-left lines
        assert all(_flat(word) in _flat(first) for word in phrase.split()), phrase
    assert sum(SCRIPTS[code] in unicodedata.name(c, "") for c in first) > 20
    fonts = run("pdffonts", str(pdf)).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # all embedded
    assert all("Noto" in line or "DejaVu" in line for line in fonts)
    assert not any("Serif" in line for line in fonts)  # the stacks apply: no default serif
    if code in NOTO:
        assert any(NOTO[code] in line for line in fonts)
    # no tofu: the page's font stack has a glyph for every character of the text
    text = run("pdftotext", str(pdf), "-")
    covered = _covered()
    missing = {c for c in text if not c.isspace() and ord(c) not in covered}
    assert missing - {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c"} == set()
    if code in ("fa", "zh"):  # page 1 as an image, to look at (test-output/ is gitignored)
        PNG_DIR.mkdir(exist_ok=True)
        stem = PNG_DIR / f"report-{code}-page1"
        page1 = ("-f", "1", "-l", "1", "-singlefile")
        run("pdftoppm", "-png", "-r", "60", *page1, str(pdf), str(stem))
        assert stem.with_suffix(".png").stat().st_size > 10_000
