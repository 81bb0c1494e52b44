"""The web app in a real browser: Debian's Chromium driven by Playwright.

A live server (uvicorn in a thread, on loopback) serves the app; the tests log in,
import a cp1251 export through the wizard and see the dashboard change, edit a case
and see its ROI change, and download the XLSX report. Screenshots are kept in
`test-output/web/` for people to look at.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page

from tests.conftest import copy_workspace
from tests.web_support import PASSWORDS, make_app

SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "web"

pytestmark = pytest.mark.slow

HEADER = (
    "Id;AccountId;OwnerId;LeadSource;Type;CreatedDate;CloseDate;StageName;IsClosed;IsWon;Amount"
)
ROWS = [  # a Russian-locale export: cp1251, semicolons, DD.MM.YYYY, decimal commas
    "006A1;001A1;005A1;Выставка;New Business;03.01.2024;15.03.2024;Closed Won;1;1;25 000,50",
    "006A2;001A2;005A1;Веб-сайт;New Business;10.01.2024;20.04.2024;Closed Lost;1;0;12 500",
    "006A3;001A3;005A2;Выставка;Upsell;01.02.2024;30.05.2024;Closed Won;1;1;8 750,25",
    "006A4;001A3;005A2;Партнёр;New Business;05.02.2024;31.12.2024;Prospecting;0;0;сто",
]  # fmt: skip
OPPORTUNITIES = "\n".join([HEADER, *ROWS]) + "\n"


class LiveServer:
    """The app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.app = app

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.app.state.crmroi.access.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def new_page(browser: Browser, server: LiveServer, role: str) -> tuple[Page, list[str]]:
    """A fresh browser context logged in as `role`; the list collects page errors and any
    request that leaves the server (nothing may be loaded from the internet)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: None if r.url.startswith(server.url("")) else errors.append(f"fetched {r.url}"),
    )
    page.goto(server.url("/dashboard"))
    assert "/login" in page.url  # not logged in: sent to the login page
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", PASSWORDS[role])
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/dashboard")
    return page, errors


def test_import_through_the_wizard_updates_the_dashboard(browser: Browser, tmp_path: Path) -> None:
    app = make_app(str(tmp_path / "ws"), simulation_runs=100, bootstrap=10)
    export = tmp_path / "Opportunity.csv"
    export.write_bytes(OPPORTUNITIES.encode("cp1251"))
    with LiveServer(app) as server:
        page, errors = new_page(browser, server, "analyst")
        assert page.locator("#empty-data").is_visible()
        page.screenshot(path=str(SHOTS / "1-empty-dashboard.png"), full_page=True)

        page.goto(server.url("/imports"))
        page.set_input_files("input[name=files]", str(export))
        page.select_option("select[name=source]", "salesforce")
        page.click("form[action='/imports/upload'] button[type=submit]")
        page.wait_for_selector("#preview")
        preview = page.inner_text("main")
        assert "cp1251" in preview.lower() or "windows-1251" in preview.lower()
        assert "Выставка" in preview
        rejects = page.inner_text("#rejects")
        assert "Amount" in rejects and "5" in rejects  # the bad amount, on spreadsheet row 5
        page.screenshot(path=str(SHOTS / "2-import-preview.png"), full_page=True)
        page.click("form[action$='/commit'] button[type=submit]")
        page.wait_for_url("**/imports**")
        history = page.inner_text("#import-history")
        assert "salesforce" in history and "Opportunity.csv" in history

        page.goto(server.url("/dashboard"))
        assert page.locator("#empty-data").count() == 0
        page.screenshot(path=str(SHOTS / "3-dashboard-after-import.png"), full_page=True)
        assert errors == []


def test_edit_a_case_and_download_the_workbook(
    browser: Browser, small_demo_folder: Path, tmp_path: Path
) -> None:
    import openpyxl

    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    app = make_app(str(folder), simulation_runs=100, bootstrap=10)
    with LiveServer(app) as server:
        page, errors = new_page(browser, server, "analyst")
        page.wait_for_selector("#chart-cashflow svg", timeout=120_000)
        page.screenshot(path=str(SHOTS / "4-dashboard.png"), full_page=True)

        page.goto(server.url("/cases/default"))
        results = page.locator("#results")
        results.wait_for()
        before = float(results.get_attribute("data-roi"))
        field = page.locator("input[name='costs.0.amount~likely']")
        old = float(field.input_value())
        field.fill(str(old * 20))
        field.dispatch_event("change")
        page.wait_for_function(
            "before => document.querySelector('#results')?.dataset.roi != String(before)",
            arg=before,
            timeout=60_000,
        )
        after = float(page.locator("#results").get_attribute("data-roi"))
        assert after < before  # a twenty-fold cost lowers the ROI
        page.wait_for_selector("#chart-results svg")
        page.screenshot(path=str(SHOTS / "5-case-edited.png"), full_page=True)

        with page.expect_download(timeout=180_000) as download_info:
            # the click waits for the response, which is the whole workbook being built
            page.click("button[formaction$='/report.xlsx']", timeout=180_000)
        download = download_info.value
        assert download.suggested_filename.endswith(".xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
        assert "Cash flow" in workbook.sheetnames
        assert errors == []
