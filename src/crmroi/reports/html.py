"""The report as one self-contained HTML page (Jinja2), and the shared template environment.

The page needs no network: Vega, Vega-Lite and vega-embed are inlined from the bundle
vl-convert-python ships (`vl_convert.javascript_bundle(None)`), and the chart specs are
embedded as JSON made safe for a `<script>` element (`<`, `>`, `&` and the line
separators escaped as \\uXXXX). Every other piece of user text goes through Jinja's
autoescaping; user-given names sit in `<bdi>` so right-to-left names stay right-to-left.
A right-to-left language (fa) gets `<html dir="rtl">`; the page's CSS uses logical sides
(`text-align: start/end`), so tables, headings and notes mirror without a second sheet.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from crmroi.reports.i18n import Lang, get_lang
from crmroi.reports.labels import input_label, method_label, scoring_label, unit_label
from crmroi.reports.model import ReportModel

__all__ = ["render_html", "render_page", "script_json", "vega_bundle"]

TEMPLATES = Path(__file__).with_name("templates")
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_SCRIPT_ESCAPES["\u2029"] = "\\u2029"


def script_json(value: Any) -> Markup:
    """`value` as JSON that cannot end or confuse the `<script>` element it is put in."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for char, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return Markup(text)


@lru_cache(maxsize=1)
def vega_bundle() -> Markup:
    """Vega + Vega-Lite + vega-embed as one script (from vl-convert; no network)."""
    import vl_convert

    bundle: str = vl_convert.javascript_bundle()  # type: ignore[call-arg]
    return Markup(bundle.replace("</script", "<\\/script"))


@lru_cache(maxsize=4)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=False,
        lstrip_blocks=False,
    )
    return env


def chart_label(spec: dict[str, Any], fallback: str) -> str:
    """A chart's accessible name (the PDF image's `alt`): its own title, as the live
    page's script gives it (`spec.description`), else `fallback` ('Chart', translated)."""
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if isinstance(text, list):
        text = " ".join(str(t) for t in text)
    return str(spec.get("description") or text or fallback)


def render_page(model: ReportModel, mode: str, **extra: Any) -> str:
    """The report page in `mode` "html" (live charts) or "print" (SVG images, for PDF)."""
    lang: Lang = get_lang(model.lang)
    env = _environment().overlay()
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lang.gettext, lang.ngettext, newstyle=False
    )
    env.filters.update(lang.filters())
    template = env.get_template("report.html.j2")
    return template.render(
        model=model,
        mode=mode,
        direction=lang.direction,
        unit=lambda unit: unit_label(lang, unit, model.currency),
        method=lambda method: method_label(lang, method),
        input_label=lambda name: input_label(lang, name),
        scoring=lambda name: scoring_label(lang, name),
        kv=lambda value, unit: lang.kpi_value(value, unit, model.currency),
        semicolon=lang.semicolon,
        chart_label=lambda name: chart_label(model.charts[name], lang.gettext("Chart")),
        **extra,
    )


def render_html(model: ReportModel) -> str:
    """The self-contained HTML page of `model`."""
    lang = get_lang(model.lang)
    return render_page(
        model,
        "html",
        vega_bundle=vega_bundle(),
        specs_json=script_json(model.charts),
        format_locale=script_json(lang.vega_format_locale()),
        time_locale=script_json(lang.vega_time_locale()),
    )


def write_html(model: ReportModel, path: Path) -> Path:
    """Write the page to `path` (UTF-8); return the path."""
    path.write_text(render_html(model), encoding="utf-8")
    return path
