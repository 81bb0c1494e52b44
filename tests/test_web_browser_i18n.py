"""The web app in Russian and Persian in a real browser (Debian's Chromium, Playwright).

The user picks the language in the header's switcher; the choice is kept on the account.
Each page then has the language's `lang` and `dir`, none of the app's English labels,
and in Persian a right-to-left layout, Persian digits and Solar Hijri dates.
Screenshots of each language's dashboard are kept in `test-output/web/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from crmroi.calendars import SOLAR_HIJRI_MONTHS
from tests.conftest import copy_workspace
from tests.test_web_browser import SHOTS, LiveServer, new_page
from tests.web_support import make_app

pytestmark = pytest.mark.slow

ENGLISH_LABELS = (
    "Executive summary",
    "What to act on",
    "Lead sources",
    "Improve the return",
    "Log out",
    "Import history",
    "Business cases",
)


@pytest.mark.parametrize("code", ["ru", "fa"])
def test_pages_in_the_chosen_language(
    browser: Browser, small_demo_folder: Path, tmp_path: Path, code: str
) -> None:
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    app = make_app(str(folder), simulation_runs=100, bootstrap=10)
    with LiveServer(app) as server:
        page, errors = new_page(browser, server, "viewer")
        page.select_option("select[name=language]", code)  # htmx saves it and reloads
        page.wait_for_function(f"document.documentElement.lang === '{code}'", timeout=60_000)
        page.wait_for_selector("#summary")
        direction = "rtl" if code == "fa" else "ltr"
        for path in ("/dashboard", "/imports", "/cases"):
            page.goto(server.url(path))
            html = page.locator("html")
            assert html.get_attribute("lang") == code and html.get_attribute("dir") == direction
            text = page.inner_text("body")
            assert [e for e in ENGLISH_LABELS if e in text] == [], path
        page.goto(server.url("/dashboard"))
        page.wait_for_selector("#chart-cashflow svg", timeout=120_000)
        page.screenshot(path=str(SHOTS / f"dashboard-{code}.png"), full_page=True)
        if code == "fa":
            brand = page.locator("header.top .brand").bounding_box()
            logout = page.locator("header.top .logout").bounding_box()
            assert brand and logout and brand["x"] > logout["x"]  # mirrored: brand on the right
            text = page.inner_text("main")
            assert any(month in text for month in SOLAR_HIJRI_MONTHS)
            assert "۱" in text or "۲" in text
        assert errors == []
