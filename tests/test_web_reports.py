"""Report downloads from the case editor: HTML, PDF and XLSX, in each report language."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crmroi.web.case_results import negotiate_language
from tests.conftest import copy_workspace
from tests.web_support import login, make_app

HTML = {"accept": "text/html"}
RUNS = 200
CATALOGUE = (
    Path(__file__).resolve().parents[1] / "src/crmroi/reports/locale/ru/LC_MESSAGES/crmroi.po"
)
TITLE_EN = "Does the CRM pay for itself?"
TITLE_RU = "Окупается ли CRM?"
CYRILLIC = re.compile("[\u0400-\u04ff]")


def russian_labels() -> set[str]:
    """The catalogue's Russian translations long enough not to occur in data by chance."""
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    labels = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        labels |= {s for s in strings if s and len(s) >= 12 and CYRILLIC.search(s)}
    return labels


@pytest.fixture(scope="module")
def report_app(
    small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """One app for the report downloads: each language's model is built once and cached."""
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("reports") / "ws")
    application = make_app(str(folder), simulation_runs=RUNS, bootstrap=0)
    yield application
    application.state.crmroi.access.close()


@pytest.fixture(scope="module")
def viewer(report_app: FastAPI) -> TestClient:
    return login(report_app, "viewer")


def workbook_strings(content: bytes) -> tuple[list[str], set[str]]:
    """The sheet names and every text cell of an XLSX file."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = {
        value
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if isinstance(value, str)
    }
    return book.sheetnames, cells


def test_xlsx_and_html_reports_download(viewer: TestClient) -> None:
    response = viewer.get("/cases/default/report.xlsx")
    assert response.status_code == 200, response.text
    assert "default.xlsx" in response.headers["content-disposition"]
    sheets, _ = workbook_strings(response.content)
    assert "Inputs" in sheets
    html = viewer.get("/cases/default/report.html")
    assert html.status_code == 200 and html.text.lstrip().lower().startswith("<!doctype html")
    assert viewer.get("/cases/default/report.doc").status_code == 404


def test_html_report_in_russian_has_the_catalogue_labels(viewer: TestClient) -> None:
    labels = russian_labels()
    russian = viewer.get("/cases/default/report.html?lang=ru")
    assert russian.status_code == 200, russian.text
    assert russian.headers["content-language"] == "ru"
    assert f"<h1>{TITLE_RU}</h1>" in russian.text
    assert '<html lang="ru"' in russian.text
    assert TITLE_EN not in russian.text
    assert len([label for label in labels if label in russian.text]) >= 10
    english = viewer.get("/cases/default/report.html?lang=en")
    assert english.status_code == 200
    assert TITLE_EN in english.text and TITLE_RU not in english.text
    assert [label for label in labels if label in english.text] == []
    # a name with a Cyrillic file name stays RFC 5987 safe in every language
    disposition = russian.headers["content-disposition"]
    disposition.encode("latin-1")
    assert disposition.startswith('attachment; filename="default.html"; filename*=UTF-8')


def test_xlsx_report_in_russian_has_cyrillic_sheets_and_cells(viewer: TestClient) -> None:
    labels = russian_labels()
    russian = viewer.get("/cases/default/report.xlsx", params={"lang": "ru"})
    assert russian.status_code == 200, russian.text
    sheets, cells = workbook_strings(russian.content)
    assert "Исходные данные" in sheets and "Денежный поток" in sheets
    assert len(cells & labels) >= 5
    assert "default.xlsx" in russian.headers["content-disposition"]
    english_sheets, english_cells = workbook_strings(
        viewer.get("/cases/default/report.xlsx?lang=en").content
    )
    assert "Inputs" in english_sheets and "Cash flow" in english_sheets
    assert not any(CYRILLIC.search(name) for name in english_sheets)
    assert english_cells & labels == set()


def cached(app: FastAPI, kind: str) -> dict[Any, Any]:
    """The app cache's entries of `kind` (the first element of their keys)."""
    items = app.state.crmroi.cache._items
    return {key: value for key, value in items.items() if key[0] == kind}


def test_a_second_language_words_the_cached_inputs(report_app: FastAPI, viewer: TestClient) -> None:
    """The simulation, KPIs and fits are gathered once; Russian after English only
    words them again (one inputs entry, one model per language)."""
    report_app.state.crmroi.cache.clear()
    english = viewer.get("/cases/default/report.html?lang=en")
    assert english.status_code == 200 and TITLE_EN in english.text
    inputs = cached(report_app, "case-report-inputs")
    assert len(inputs) == 1
    russian = viewer.get("/cases/default/report.html?lang=ru")
    assert russian.status_code == 200 and TITLE_RU in russian.text
    assert cached(report_app, "case-report-inputs") == inputs  # the same entry, not redone
    (first,) = inputs.values()
    (after,) = cached(report_app, "case-report-inputs").values()
    assert after is first
    models = cached(report_app, "case-report-model")
    assert sorted(key[-1] for key in models) == ["en", "ru"]
    assert viewer.get("/cases/default/report.xlsx?lang=ru").status_code == 200
    assert len(cached(report_app, "case-report-inputs")) == 1
    assert len(cached(report_app, "case-report-model")) == 2


def pdf_text(content: bytes, folder: Path) -> str:
    path = folder / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True, timeout=120
    ).stdout


def test_pdf_report_download_in_english_and_russian(viewer: TestClient, tmp_path: Path) -> None:
    from crmroi.reports.pdf import pdf_available

    if not pdf_available() or shutil.which("pdftotext") is None:
        pytest.skip("WeasyPrint, Pango or pdftotext is not installed (see test_report_pdf.py)")
    english = viewer.get("/cases/default/report.pdf")
    assert english.status_code == 200, english.text
    assert english.content.startswith(b"%PDF")
    assert english.headers["content-type"] == "application/pdf"
    english_text = pdf_text(english.content, tmp_path)
    assert TITLE_EN in english_text and TITLE_RU not in english_text
    russian = viewer.get("/cases/default/report.pdf?lang=ru")
    assert russian.status_code == 200 and russian.content.startswith(b"%PDF")
    russian_text = pdf_text(russian.content, tmp_path)
    assert TITLE_RU in russian_text and TITLE_EN not in russian_text
    assert "Допущения и их источники" in russian_text
    labels = russian_labels()
    assert len([label for label in labels if label in russian_text]) >= 5
    assert [label for label in labels if label in english_text] == []


def test_accept_language_picks_the_report_language(viewer: TestClient) -> None:
    prefers_russian = {"accept-language": "fr-CH, ru-RU;q=0.9, en;q=0.8"}
    by_header = viewer.get("/cases/default/report.html", headers=prefers_russian)
    assert by_header.status_code == 200
    assert TITLE_RU in by_header.text and by_header.headers["content-language"] == "ru"
    assert "accept-language" in by_header.headers["vary"].lower()
    explicit = viewer.get("/cases/default/report.html?lang=en", headers=prefers_russian)
    assert TITLE_EN in explicit.text  # the query parameter wins over the header
    page = viewer.get("/cases/default", headers={**HTML, **prefers_russian})
    assert page.status_code == 200
    assert re.search(r'<option value="ru" lang="ru" selected>Русский</option>', page.text)
    assert re.search(r'<option value="en" lang="en">English</option>', page.text)
    assert 'formaction="/cases/default/report.pdf"' in page.text
    english_page = viewer.get("/cases/default", headers={**HTML, "accept-language": "de"})
    assert '<option value="en" lang="en" selected>' in english_page.text


@pytest.mark.parametrize("lang", ["xx", "", "RU", "ru-RU", "de", "ru;drop", "x" * 5000])
def test_an_unknown_language_is_a_clear_400(viewer: TestClient, lang: str) -> None:
    response = viewer.get("/cases/default/report.pdf", params={"lang": lang})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail.startswith("unknown report language") and "en, ru, bg, fa, zh" in detail
    assert len(detail) < 200
    page = viewer.get("/cases/default/report.html", params={"lang": lang}, headers=HTML)
    assert page.status_code == 400 and "unknown report language" in page.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("ru", "ru"),
        ("RU-ru", "ru"),
        ("en-GB,ru;q=0.9", "en"),
        ("en;q=0.5, ru;q=0.8", "ru"),
        ("de, fr;q=0.9, *;q=0.1", "en"),
        ("ru;q=0, en", "en"),
        ("ru;q=0", "en"),
        ("ru;q=abc, en;q=0.1", "en"),
        ("zh-Hans-CN, ru-Cyrl;q=0.3", "zh"),
        ("fa-IR;q=0.2, bg-BG;q=0.4", "bg"),
        ("ja-JP, ru-Cyrl;q=0.3", "ru"),
        (";;,,=,q", "en"),
    ],
)
def test_negotiate_language(header: str | None, expected: str) -> None:
    assert negotiate_language(header) == expected
