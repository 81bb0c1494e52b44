"""The web app in en, ru, bg, fa and zh: which language a page is in, and its text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from crmroi.calendars import SOLAR_HIJRI_MONTHS
from crmroi.web.dashboard_view import Fmt
from crmroi.web.language import accepted_language
from tests.conftest import copy_workspace
from tests.web_support import client, login, make_app

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def app(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("i18n") / "ws")
    application = make_app(str(folder), simulation_runs=50, bootstrap=10)
    yield application
    application.state.crmroi.access.close()


def _visible(page: str) -> str:
    """The page's text as a reader sees it (no tags, attributes or scripts)."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", page, flags=re.S))


def _html_attrs(page: str) -> tuple[str, str]:
    found = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', page)
    assert found, page[:300]
    return found.group(1), found.group(2)


def test_accept_language_ranges() -> None:
    assert accepted_language("ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert accepted_language("de, fa;q=0.5, zh;q=0.7") == "zh"
    assert accepted_language("zh-Hans-CN") == "zh"
    assert accepted_language("en;q=0, bg") == "bg"
    assert accepted_language("de, fr") is None
    assert accepted_language("") is None


def test_login_page_follows_accept_language_then_the_cookie(app: FastAPI) -> None:
    c = client(app)
    assert _html_attrs(c.get("/login").text) == ("en", "ltr")
    page = c.get("/login", headers={"accept-language": "ru-RU,ru;q=0.9"}).text
    assert _html_attrs(page) == ("ru", "ltr") and "Имя пользователя" in page
    chosen = c.get("/language/fa", params={"next": "/login"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/login"
    page = c.get("/login", headers={"accept-language": "ru"}).text
    assert _html_attrs(page) == ("fa", "rtl") and "گذرواژه" in page
    assert c.get("/language/xx").status_code == 400


def test_workspace_default_language(small_demo_folder: Path, tmp_path: Path) -> None:
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    other = make_app(str(folder), default_language="bg", simulation_runs=10, bootstrap=5)
    try:
        page = client(other).get("/login").text
        assert _html_attrs(page) == ("bg", "ltr") and "Потребителско име" in page
        page = client(other).get("/login", headers={"accept-language": "zh-CN"}).text
        assert _html_attrs(page) == ("zh", "ltr") and "用户名" in page
    finally:
        other.state.crmroi.access.close()


def test_the_saved_language_wins_and_is_per_user(app: FastAPI) -> None:
    analyst = login(app, "analyst")
    saved = analyst.post("/account/language", data={"language": "zh", "next": "/account"})
    assert saved.status_code == 303 and saved.headers["location"] == "/account"
    page = analyst.get("/account", headers={**HTML, "accept-language": "ru"}).text
    assert _html_attrs(page) == ("zh", "ltr") and "创建令牌" in page
    htmx = analyst.post("/account/language", data={"language": "en"}, headers={"hx-request": "1"})
    assert htmx.headers.get("hx-refresh") == "true"
    assert _html_attrs(analyst.get("/account", headers=HTML).text) == ("en", "ltr")
    assert analyst.post("/account/language", data={"language": "xx"}).status_code == 400
    admin = login(app, "admin")  # another user keeps their own language
    assert _html_attrs(admin.get("/account", headers=HTML).text) == ("en", "ltr")


@pytest.mark.parametrize("code", ["ru", "bg", "fa", "zh"])
def test_the_dashboard_is_in_its_language(app: FastAPI, code: str) -> None:
    viewer = login(app, "viewer")
    page = viewer.get("/dashboard", headers={**HTML, "accept-language": code}).text
    assert _html_attrs(page) == (code, "rtl" if code == "fa" else "ltr")
    text = _visible(page)
    ui = ("What to act on", "Executive summary", "Lead sources", "Log out", "Discount rate")
    for english in (*ui, "Improve the return", "net of market", "months before and after"):
        assert english not in text, english
    assert "nan" not in text.split()
    if code == "fa":
        assert "۰" in page or "۱" in page  # Persian digits in the figures
        assert any(month in text for month in SOLAR_HIJRI_MONTHS)  # Solar Hijri dates
        chart = page[page.index('data-chart="chart-cashflow"') :]
        assert json.dumps("ماه")[1:-1] in chart[: chart.index("</script>")]  # axis title


def test_followups_without_an_account_show_a_dash(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    page = viewer.get("/dashboard", headers=HTML).text
    body = page[page.index('id="followups"') :]
    cells = re.findall(r"<td>([^<]*)</td>", body)
    assert "nan" not in cells and "None" not in cells
    assert Fmt().text(float("nan"), None, "") == "—"
    assert Fmt().text(float("nan"), "A-1") == "A-1"


def test_english_stays_english(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    page = viewer.get("/dashboard", headers=HTML).text
    assert _html_attrs(page) == ("en", "ltr")
    assert "What to act on" in page and "Executive summary" in page


def _figures(page: str) -> Any:
    return re.findall(r'data-metric="(roi-[^"]+)">([^<]*)<', page)


def test_persian_dashboard_shows_the_same_figures(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    en = dict(_figures(viewer.get("/dashboard", headers=HTML).text))
    fa = dict(_figures(viewer.get("/dashboard", headers={**HTML, "accept-language": "fa"}).text))
    assert en and en.keys() == fa.keys()
    latin = str.maketrans("۰۱۲۳۴۵۶۷۸۹٫٬٪−", "0123456789.,%-")
    for key, text in en.items():
        assert fa[key].replace("\u200e", "").translate(latin) == text


PAGES = {
    "/imports": ("Import history", "Upload CRM exports", "No imports yet"),
    "/cases": ("Business cases", "New scenario", "Last saved"),
    "/admin/users": ("Add a user", "Set role", "Password (at least"),
    "/admin/audit": ("When (UTC)", "Audit log"),
    "/account": ("Create a token", "API token"),
}


@pytest.mark.parametrize("code", ["ru", "fa", "zh", "bg"])
def test_every_page_is_in_its_language(app: FastAPI, code: str) -> None:
    admin = login(app, "admin")
    for path, english in PAGES.items():
        page = admin.get(path, headers={**HTML, "accept-language": code})
        assert page.status_code == 200, path
        assert _html_attrs(page.text) == (code, "rtl" if code == "fa" else "ltr")
        text = _visible(page.text)
        assert not [e for e in english if e in text], path


def test_the_import_wizard_in_persian(app: FastAPI) -> None:
    analyst = login(app, "admin")  # the analyst saved a language of its own above
    csv = b"deal_id,stage,amount\nD1,won,1200\nD2,lost,x\n"
    staged = analyst.post(
        "/imports/upload",
        files={"files": ("deals.csv", csv, "text/csv")},
        data={"source": "generic", "csrf_token": analyst.headers["X-CSRF-Token"]},
        headers=HTML,
    )
    assert staged.status_code == 303, staged.text
    page = analyst.get(staged.headers["location"], headers={**HTML, "accept-language": "fa"})
    assert _html_attrs(page.text) == ("fa", "rtl")
    text = _visible(page.text)
    assert "پیش‌نمایش" in text and "ثبت نهایی" in text
    for english in ("Preview with these columns", "Refused rows", "Mapping in use", "Cancel"):
        assert english not in text, english


def test_kpi_drill_down_and_its_chart_in_russian(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    page = viewer.get("/dashboard/kpi/win_rate", headers={**HTML, "accept-language": "ru"}).text
    assert _html_attrs(page) == ("ru", "ltr")
    assert "Доля выигранных сделок по месяцам" in page  # the heading and the chart title
    assert '"title": "Month"' not in page and "by month" not in _visible(page)


def test_series_chart_months_in_the_readers_calendar() -> None:
    """Vega writes English Gregorian months; the chart's axis and tooltip take the
    reader's month names instead (Persian: Solar Hijri), at most 12 ticks."""
    import datetime as dt

    import pandas as pd

    from crmroi.reports.i18n import get_lang
    from crmroi.web.dashboard_data import MONTH_TICKS, series_chart

    months = pd.date_range("2023-01-01", periods=30, freq="MS")
    frame = pd.DataFrame({"month": months, "unit": "total", "value": 0.25})
    spec = series_chart("win_rate", "team", frame, get_lang("fa"))
    axis = spec["encoding"]["x"]["axis"]
    ticks = axis["values"]
    assert 1 < len(ticks) <= MONTH_TICKS and all(t["utc"] and t["date"] == 1 for t in ticks)
    lookup = json.loads(axis["labelExpr"][1 : axis["labelExpr"].index(")[")])
    assert lookup["2023-03"] == "اسفند ۱۴۰۱" and lookup["2023-04"] == "فروردین ۱۴۰۲"
    rows = spec["datasets"][spec["data"]["name"]] if "datasets" in spec else spec["data"]["values"]
    assert {r["label"] for r in rows} == set(lookup.values())
    assert spec["encoding"]["tooltip"][0] == {"field": "label", "title": "ماه", "type": "nominal"}
    russian = series_chart("win_rate", "team", frame.head(2), get_lang("ru"))
    assert "янв. 2023" in russian["encoding"]["x"]["axis"]["labelExpr"]
    assert dt.date(2023, 1, 1).isoformat() in {r["month"] for r in rows}
