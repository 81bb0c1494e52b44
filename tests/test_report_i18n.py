"""Report languages: the Russian catalogue covers every label, and ru formats numbers and dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from crmroi.errors import ConfigurationError
from crmroi.reports import labels as label_tables
from crmroi.reports import write_report
from crmroi.reports.html import TEMPLATES, _environment, render_html
from crmroi.reports.i18n import get_lang
from tests.test_report_model import sample_model

NBSP = "\u00a0"


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


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="report languages are: en, ru"):
        get_lang("xx")


def _template_messages() -> set[str]:
    source = (TEMPLATES / "report.html.j2").read_text(encoding="utf-8")
    return {m for _, _, m in _environment().extract_translations(source) if isinstance(m, str)}


def test_the_catalogue_translates_every_label() -> None:
    ru = get_lang("ru")
    messages = _template_messages()
    tables = ("KPI_LABELS", "UNIT_LABELS", "CATEGORY_LABELS", "METHOD_LABELS", "INPUT_LABELS")
    for table in (*tables, "FOLLOWUP_LABELS", "SCORING_LABELS"):
        messages |= set(getattr(label_tables, table).values())
    assert len(messages) > 150
    missing = sorted(m for m in messages if ru.gettext(m) == m and m not in {"NPV", "ROI", "KPI"})
    assert missing == []


@pytest.fixture(scope="module")
def ru_model():  # type: ignore[no-untyped-def]
    return sample_model("ru")


def test_russian_page(ru_model) -> None:  # type: ignore[no-untyped-def]
    page = render_html(ru_model)
    assert '<html lang="ru">' in page
    for english in ("Executive summary", "Cash flow", "Assumptions and their sources", "never"):
        assert f">{english}<" not in page
    assert "Резюме для руководства" in page and "Допущения и их источники" in page
    h = ru_model.figure(36, True)
    npv = f"{h.npv:,.0f}".replace(",", NBSP) + f"{NBSP}$"
    assert npv in page
    assert "07.03.2025" in page  # the report date, DD.MM.YYYY
    assert "Доля выигранных сделок" in page  # a KPI label
    assert "Окупаемость и накопленный" not in page  # (sanity: only real labels)
    assert ru_model.charts["cash_flow"]["title"] == "Накопленный денежный поток и окупаемость"


def test_russian_workbook_keeps_its_formulas(ru_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_report(ru_model, tmp_path / "ru.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["Исходные данные", "График", "Денежный поток"]
    flows = book["Денежный поток"]
    assert str(flows["B3"].value).startswith("='Исходные данные'!$F$")
    assert "'График'!B2" in str(flows["B3"].value)
