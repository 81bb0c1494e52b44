"""The PDF report: A4 and Letter pages, not blank, key figures and every script's names in it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crmroi.reports.model import ReportModel
from crmroi.reports.pdf import chart_svgs, pdf_available, render_pdf
from tests.test_report_model import sample_model

POPPLER = ("pdftoppm", "pdftotext", "pdfinfo", "pdffonts")
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

pytestmark = [
    pytest.mark.skipif(not pdf_available(), reason="WeasyPrint or Pango is not installed"),
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in POPPLER),
        reason="poppler-utils (pdftoppm, pdftotext) is absent; .ci/run installs it",
    ),
]


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def model() -> ReportModel:
    return sample_model()


@pytest.fixture(scope="module")
def svgs(model: ReportModel) -> dict[str, str]:
    return chart_svgs(model)


@pytest.fixture(scope="module")
def a4(model: ReportModel, svgs: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report-a4.pdf"
    path.write_bytes(render_pdf(model, "A4", svgs))
    return path


def test_a4_pages_are_not_blank(a4: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    info = run("pdfinfo", str(a4))
    assert "(A4)" in info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages >= 4
    run("pdftoppm", "-r", "40", "-png", str(a4), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        gray = Image.open(image).convert("L")
        assert ImageStat.Stat(gray).stddev[0] > 8, f"{image.name} looks blank"
    keep = Path("/tmp/crmroi-report-shots")
    keep.mkdir(exist_ok=True)
    run("pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(a4), str(keep / "pdf-a4"))


def test_key_figures_and_names_in_the_text(model: ReportModel, a4: Path) -> None:
    text = BIDI_CONTROLS.sub("", run("pdftotext", str(a4), "-"))
    h = model.figure(36, True)
    assert f"${h.npv:,.0f}" in text
    assert f"{h.roi:.0%}" in text
    for name in ("Общество «Ромашка»", "苏州博远医疗有限公司", "شرکت پارس", "محمد موسوی"):
        assert name in text
    assert "Cumulative cash flow and payback" in text  # the chart's SVG text is in the PDF
    fonts = run("pdffonts", str(a4))
    assert "CJK" in fonts  # Chinese names are drawn with a CJK font, not as empty boxes


def test_letter(model: ReportModel, svgs: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "report-letter.pdf"
    path.write_bytes(render_pdf(model, "Letter", svgs))
    assert "(letter)" in run("pdfinfo", str(path)).lower()
