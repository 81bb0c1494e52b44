"""Money as each user writes it in the web app (tomans, 万/亿), and chart axes in the
page's digits (Persian digits in fa)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI

from crmroi.reports.i18n import get_lang
from crmroi.web.dashboard_data import series_chart
from crmroi.web.dashboard_view import Fmt
from crmroi.web.language import _chart_locale
from tests.conftest import copy_workspace
from tests.web_support import csrf_of, login, make_app

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def app(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("money") / "ws")
    application = make_app(str(folder), simulation_runs=50, bootstrap=10)
    yield application
    application.state.crmroi.access.close()


def test_fmt_writes_tomans_and_wan_only_where_they_apply() -> None:
    toman = Fmt(get_lang("fa@toman"), "IRR")
    assert toman.money(1_234_560) == "۱۲۳٬۴۵۶ تومان"  # rials / 10, Persian digits
    assert Fmt(get_lang("fa@toman"), "USD").money(1_234_560) == "۱٬۲۳۴٬۵۶۰"  # not rials
    assert Fmt(get_lang("en@toman"), "IRR").money(1_234_560, "IRR") == "123,456 toman"
    wan = Fmt(get_lang("zh@wan"), "USD")
    assert wan.money(123_456_789) == "1.23亿" and wan.money(45_000, "USD") == "4.5万 USD"
    assert wan.money(9_999) == "9,999"  # under 10,000: as ever
    assert Fmt(get_lang("zh"), "USD").money(123_456_789) == "123,456,789"


def test_a_user_chooses_wan_and_sees_it_on_the_dashboard_and_case_pages(app: FastAPI) -> None:
    c = login(app, "analyst")
    page = c.get("/account", headers=HTML).text
    assert 'name="money_units"' in page and "rials as tomans" in page
    before = c.get("/dashboard", headers={**HTML, "accept-language": "zh"}).text
    assert "亿" not in before and "万" not in re.sub(r"<[^>]+>", "", before).replace("万和亿", "")
    chosen = c.post("/account/money-units", data={"money_units": "wan", "csrf_token": csrf_of(c)})
    assert chosen.status_code == 303
    page = c.get("/account", headers={**HTML, "accept-language": "zh"}).text
    assert re.search(r'<option value="wan" selected>', page)
    after = c.get("/dashboard", headers={**HTML, "accept-language": "zh"}).text
    assert re.search(r"\d(\.\d+)?[万亿]", after)
    cases = c.get("/cases", headers={**HTML, "accept-language": "zh"}).text
    assert re.search(r"\d(\.\d+)?[万亿]", cases)
    english = c.get("/dashboard", headers={**HTML, "accept-language": "en"}).text
    assert not re.search(r"\d[万亿]", english)  # 万/亿 only on Chinese pages
    refused = c.post("/account/money-units", data={"money_units": "lakh", "csrf_token": csrf_of(c)})
    assert refused.status_code == 400


def test_pages_carry_the_chart_locale_of_their_language(app: FastAPI) -> None:
    c = login(app, "viewer")
    page = c.get("/dashboard", headers={**HTML, "accept-language": "fa"}).text
    found = re.search(r'<script type="application/json" id="chart-locale">(.*?)</script>', page)
    assert found
    locale = json.loads(found.group(1))
    assert locale["number"]["numerals"] == list("۰۱۲۳۴۵۶۷۸۹")
    assert locale["number"]["decimal"] == "٫"
    assert json.loads(_chart_locale("ru"))["number"]["decimal"] == ","


def test_dashboard_chart_axes_in_persian_digits() -> None:
    import vl_convert

    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    frame = pd.DataFrame(
        {"month": months, "unit": "all", "value": [0.21, 0.24, 0.26, 0.25, 0.3, 0.32]}
    )
    spec = series_chart("win_rate", "team", frame, get_lang("fa"))
    spec["width"] = 400
    locale = json.loads(_chart_locale("fa"))
    svg = vl_convert.vegalite_to_svg(
        spec, format_locale=locale["number"], time_format_locale=locale["time"]
    )
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    percents = [t for t in labels if "٪" in t]
    assert percents and all(re.fullmatch(r"[۰-۹]+٪", t) for t in percents), percents
    assert not any(re.search(r"[0-9]", t) for t in labels), labels
