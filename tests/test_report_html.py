"""The HTML report: self-contained, escaped, and drawn by a real browser (headless Chromium)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.errors import ConfigurationError
from crmroi.reports import write_report
from crmroi.reports.html import render_html, script_json
from crmroi.reports.model import ReportModel
from tests.test_report_model import CASE, HOSTILE, NAMES, REPS, sample_model


@pytest.fixture(scope="module")
def model() -> ReportModel:
    return sample_model()


@pytest.fixture(scope="module")
def page_html(model: ReportModel) -> str:
    return render_html(model)


def test_page_is_self_contained(page_html: str) -> None:
    assert re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?https?:", page_html) is None
    assert "window.vegaEmbed=" in page_html  # the bundle is inlined
    assert page_html.count("<script") == 2


def test_user_text_is_escaped(page_html: str) -> None:
    assert HOSTILE not in page_html
    assert "<script>window.__xss" not in page_html
    assert "&lt;/script&gt;&lt;script&gt;window.__xss=1" in page_html  # tables: escaped text
    assert "\\u003c/script\\u003e" in page_html  # chart JSON: escaped inside the script
    assert "<b>rep</b>" not in page_html and "&lt;b&gt;rep&lt;/b&gt;" in page_html
    for name in NAMES[:3] + REPS[:3]:
        assert f"<bdi>{name}</bdi>" in page_html


def test_script_json_cannot_close_the_script() -> None:
    text = str(script_json({"a": "</script><!-- & \u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text


def test_key_figures_in_page(model: ReportModel, page_html: str) -> None:
    h = model.figure(36, True)
    assert f"${h.npv:,.0f}" in page_html
    assert f"{h.roi:.0%}" in page_html
    assert "Probability of a positive ROI" in page_html
    assert "Assumptions and their sources" in page_html and "Method" in page_html


def test_chromium_draws_the_charts_offline(
    browser: object, model: ReportModel, tmp_path: Path
) -> None:
    from PIL import Image, ImageStat

    path = write_report(model, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1100, "height": 1400})  # type: ignore[attr-defined]
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    for name in model.charts:
        page.wait_for_selector(
            f"#chart-{name} svg .mark-rect, #chart-{name} svg path", timeout=15000
        )
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == []  # nothing from the network
    assert page.evaluate("window.__xss") is None  # the hostile names did not run
    text = page.inner_text("body")
    h = model.figure(36, True)
    assert f"${h.npv:,.0f}" in text and "苏州博远医疗有限公司" in text
    assert page.inner_text("#kf-roi") == f"{h.roi:.0%}"
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    image = Image.open(shot).convert("L")
    assert image.height > 3000
    assert ImageStat.Stat(image).stddev[0] > 20  # not a blank page
    keep = Path("/tmp/crmroi-report-shots")
    keep.mkdir(exist_ok=True)
    shutil.copy(shot, keep / "report-en.png")
    page.close()


def test_cli_report_html_without_workspace(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(CASE), "--out", str(out), "--simulate", "300"])
    assert result.exit_code == 0, result.output
    assert "Executive summary" in out.read_text(encoding="utf-8")


def test_cli_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(CASE), "--out", str(tmp_path / "r.docx")])
    assert isinstance(result.exception, ConfigurationError)  # main() prints it as one line
    assert "r.docx" in str(result.exception)


def test_demo_ends_with_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmroi.cli import demo

    monkeypatch.setattr(
        demo, "DEMO_REPORT", {"runs": 200, "bootstrap": 0, "kpis": ["win_rate", "csat"]}
    )
    monkeypatch.setattr("crmroi.reports.pdf.pdf_available", lambda: False)  # PDF: test_report_pdf
    ws = tmp_path / "ws"
    result = CliRunner().invoke(app, ["demo", str(ws), "--scale", "0.05", "--seed", "3"])
    assert result.exit_code == 0, result.output
    page = (ws / "report.html").read_text(encoding="utf-8")
    assert (ws / "case.yaml").read_text() == CASE.read_text()  # the shipped case is the example
    for section in ("kpi-table", "attribution-table", "source-table", "account-table"):
        assert f'id="{section}"' in page
