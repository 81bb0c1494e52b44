"""The report as a paginated PDF (WeasyPrint), charts as SVG rendered offline by vl-convert.

The page is the HTML report's template in "print" mode: no scripts; each chart is an
SVG image made by `vl_convert.vegalite_to_svg` with the report language's number
locale (a PNG for a right-to-left language: see `chart_svgs`). Fonts come from the
system (Debian's fonts-noto-core and fonts-noto-cjk give Latin, Cyrillic, Arabic
script and CJK glyphs; see `.ci/run`); the page's font stacks
name Noto Sans Arabic and Noto Sans CJK SC so fa and zh text is embedded, never tofu.
Page sizes: A4, Letter.
"""

from __future__ import annotations

import base64
from pathlib import Path

from crmroi.errors import ConfigurationError
from crmroi.reports.html import render_page
from crmroi.reports.i18n import get_lang
from crmroi.reports.model import ReportModel

__all__ = ["PAGE_SIZES", "chart_svgs", "pdf_available", "render_pdf", "write_pdf"]

PAGE_SIZES = ("A4", "Letter")
PNG_SCALE = 2.0
"""Pixels per CSS pixel of a chart drawn as PNG (right-to-left languages)."""


def pdf_available() -> bool:
    """True when WeasyPrint and its system libraries (Pango) can be loaded."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def chart_svgs(model: ReportModel) -> dict[str, str]:
    """Each chart as an image data URI, rendered offline with the report's locales.

    SVG (vector, its text searchable) for left-to-right languages; PNG at twice the
    size for a right-to-left one, drawn by vl-convert (resvg), because WeasyPrint's
    SVG text is laid out glyph by glyph: Persian letters came out unjoined, in reverse
    order, and legend entries overlapped.
    """
    import vl_convert

    lang = get_lang(model.lang)
    numbers, times = lang.vega_format_locale(), lang.vega_time_locale()
    out = {}
    for name, spec in model.charts.items():
        if lang.direction == "rtl":
            png = vl_convert.vegalite_to_png(
                spec, scale=PNG_SCALE, format_locale=numbers, time_format_locale=times
            )
            out[name] = f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}"
            continue
        svg = vl_convert.vegalite_to_svg(spec, format_locale=numbers, time_format_locale=times)
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        out[name] = f"data:image/svg+xml;base64,{data}"
    return out


def render_pdf(
    model: ReportModel, page_size: str = "A4", svgs: dict[str, str] | None = None
) -> bytes:
    """The PDF of `model` on `page_size` pages (A4 or Letter); `svgs` from `chart_svgs`."""
    if page_size not in PAGE_SIZES:
        raise ConfigurationError(f"page size {page_size!r}: use one of {', '.join(PAGE_SIZES)}")
    if not pdf_available():
        raise ConfigurationError("PDF reports need WeasyPrint and Pango (pip install weasyprint)")
    import weasyprint

    if svgs is None:
        svgs = chart_svgs(model)
    html = render_page(model, "print", svgs=svgs, page_size=page_size)
    pdf: bytes = weasyprint.HTML(string=html, base_url=str(Path.cwd())).write_pdf()
    return pdf


def write_pdf(model: ReportModel, path: Path, page_size: str = "A4") -> Path:
    """Write the PDF to `path`; return the path."""
    path.write_bytes(render_pdf(model, page_size))
    return path
