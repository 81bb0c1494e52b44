"""What the case editor shows of an evaluated case: key figures, a cash-flow chart, files.

Everything is computed by `crmroi.casework.evaluate_case` and `crmroi.reports`; this
module only picks the figures, cleans them for JSON (NaN and infinity become None),
formats them for pages and builds the Vega-Lite spec of the cumulative cash flow.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from crmroi.casework.evaluate import evaluate_case, model_for
from crmroi.errors import UserError
from crmroi.finance.case import Case
from crmroi.finance.evaluate import CaseResult
from crmroi.finance.measured_range import MeasuredRange
from crmroi.finance.model import CaseModel
from crmroi.finance.summary import Summary
from crmroi.finite import finite
from crmroi.messages import N_, Said, Translator, code_of
from crmroi.reports.i18n import Lang
from crmroi.reports.model import TcoRow
from crmroi.web.case_analysis import CaseCheck, RoiWay, case_checks, roi_ways, tco_lines
from crmroi.web.case_library import SavedCase, case_from_text
from crmroi.web.state import AppState

if TYPE_CHECKING:
    from crmroi.reports import ReportInputs, ReportModel


@dataclass(frozen=True)
class Figures:
    """The figures of one horizon, before or after the risk adjustment."""

    months: int
    risk_adjusted: bool
    roi: float | None
    npv: float | None
    irr: float | None
    payback_months: float | None
    discounted_payback_months: float | None
    pv_benefits: float | None
    pv_costs: float | None
    simple_roi: float | None

    @classmethod
    def of(cls, summary: Summary, risk_adjusted: bool) -> Figures:
        return cls(
            months=summary.horizon_months,
            risk_adjusted=risk_adjusted,
            roi=finite(summary.roi),
            npv=finite(summary.npv),
            irr=finite(summary.irr),
            payback_months=finite(summary.payback_months),
            discounted_payback_months=finite(summary.discounted_payback_months),
            pv_benefits=finite(summary.pv_benefits),
            pv_costs=finite(summary.pv_costs),
            simple_roi=finite(summary.simple_roi),
        )


@dataclass
class CaseFigures:
    """One evaluated scenario: figures at 12 months and the horizon, flows, warnings."""

    name: str
    title: str
    currency: str
    horizon_months: int
    figures: list[Figures]
    p_roi_positive: float | None
    simulation_runs: int
    cumulative: list[float | None] = field(default_factory=list)
    cumulative_risk: list[float | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    warning_codes: list[str] = field(default_factory=list)
    """A stable machine code for each of `warnings`, in order (docs/api.md)."""
    checks: list[CaseCheck] = field(default_factory=list)
    """The practitioners' rules applied to the case (`crmroi.web.case_analysis`)."""
    roi_ways: list[RoiWay] = field(default_factory=list)
    """ROI five ways, one value per entry of `figures`."""
    tco: list[TcoRow] = field(default_factory=list)
    """Total cost of ownership by IT / people / process, 12 months and the horizon."""
    notes: list[str] = field(default_factory=list)
    """What was read from the workspace and how (measured adoption, exchange rates)."""
    note_codes: list[str] = field(default_factory=list)
    """A stable machine code for each of `notes`, in order ('' for a plain text)."""
    measured_range: MeasuredRange | None = None
    """The NPV's range on the measured changes' intervals alone (`measured_range`)."""

    def at(self, months: int, risk_adjusted: bool) -> Figures:
        """The figures at `months` (at most the horizon), before or after risk adjustment."""
        months = min(months, self.horizon_months)
        for f in self.figures:
            if f.months == months and f.risk_adjusted == risk_adjusted:
                return f
        return self.figures[-1]

    @property
    def main(self) -> Figures:
        """The figures at the horizon, risk adjusted (what finance signs off)."""
        return self.at(self.horizon_months, True)


def case_figures(result: CaseResult, name: str) -> CaseFigures:
    """The editor's view of an evaluated case (checks, ROI ways and TCO in English)."""
    from crmroi.reports.i18n import get_lang

    case = result.case
    sim = result.simulation
    lang = get_lang("en")
    columns = [
        (s.horizon_months, risk)
        for s, risk in (
            (result.short, False),
            (result.short_risk, True),
            (result.summary, False),
            (result.summary_risk, True),
        )
    ]
    return CaseFigures(
        name=name,
        title=case.name,
        currency=case.currency,
        horizon_months=case.horizon_months,
        figures=[
            Figures.of(result.short, False),
            Figures.of(result.short_risk, True),
            Figures.of(result.summary, False),
            Figures.of(result.summary_risk, True),
        ],
        p_roi_positive=finite(sim.p_roi_positive) if sim is not None else None,
        simulation_runs=sim.runs if sim is not None else 0,
        cumulative=[finite(v) for v in np.cumsum(result.table.net())],
        cumulative_risk=[finite(v) for v in np.cumsum(result.table_risk.net())],
        warnings=[Said(w.text) for w in result.warnings],  # English text, worded on the page
        warning_codes=[w.code for w in result.warnings],
        checks=case_checks(result, lang),
        roi_ways=roi_ways(result, columns, lang),
        tco=tco_lines(result, lang),
        notes=[str(n) for n in result.model.notes],
        note_codes=[code_of(n, "") or "" for n in result.model.notes],
        measured_range=result.measured_range,
    )


# -- evaluation, cached ---------------------------------------------------------------
def evaluate_text(state: AppState, text: str, name: str) -> CaseFigures:
    """Validate and evaluate case.yaml text (cached by its digest and the data version).

    Raises `ConfigurationError` for an invalid case and crmroi's `UserError`s when the
    workspace lacks what the case reads.
    """
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    case = case_from_text(text, f"{name}.yaml")
    runs = state.settings.simulation_runs
    version = state.access.data_version() if case.needs_workspace else ""
    key = ("case-figures", digest, version, runs, name)

    def compute() -> CaseFigures:
        model = None
        copy = state.snapshot(version) if case.needs_workspace else None
        if copy is not None:  # measured and evaluated in a worker process
            from crmroi.web.snapshots import case_figures_in

            bootstrap = state.settings.bootstrap
            return state.work.compute(
                case_figures_in, str(copy), case, name, runs or None, bootstrap
            )
        if case.needs_workspace:
            with state.access.reader() as store:  # beside reports, never during a write
                model = model_for(case, store, bootstrap=state.settings.bootstrap)
        # the simulation runs in a worker process (`crmroi.web.workers`)
        return state.work.compute(figures_of, case, name, runs or None, model)

    return state.cache.get_or_compute(key, compute)


def figures_of(case: Case, name: str, runs: int | None, model: CaseModel | None) -> CaseFigures:
    """Evaluate `case` (with `model`, else the case alone) and pick the editor's figures.
    Picklable arguments and result: it runs in the web app's worker processes."""
    return case_figures(evaluate_case(case, None, runs=runs, seed=0, model=model), name)


REPORT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_bytes(state: AppState, saved: SavedCase, fmt: str, lang: str = "en") -> bytes:
    """The report of a saved case over the workspace in `lang` (a code of
    `crmroi.reports.LANGUAGES`), cached by digest, data version and language.

    The costly, language-free inputs (simulation, KPIs, attribution, improvement fits)
    are cached apart, by digest, data version, runs and bootstrap: a second language
    only words them again.
    """
    from crmroi.reports import gather_report_inputs, report_model, write_report

    case = case_from_text(saved.yaml, f"{saved.name}.yaml")
    runs, bootstrap = state.settings.simulation_runs, state.settings.bootstrap
    version = state.access.data_version()
    label = Path(state.settings.workspace).name if state.access.shared else None

    def gather() -> ReportInputs:
        with state.access.reader() as store:  # beside other reports, never during a write
            try:
                return gather_report_inputs(case, store, runs=runs, bootstrap=bootstrap, seed=0)
            except UserError:
                if case.needs_workspace:
                    raise
        # a workspace without data yet (no go-live, no deals): the case alone
        return gather_report_inputs(case, None, runs=runs, seed=0)

    def build_model() -> ReportModel:
        inputs = state.cache.get_or_compute(
            ("case-report-inputs", saved.digest, version, runs, bootstrap), gather
        )
        return report_model(inputs, lang=lang, workspace=label)

    def render() -> bytes:
        model = state.cache.get_or_compute(
            ("case-report-model", saved.digest, version, runs, bootstrap, lang), build_model
        )
        with tempfile.TemporaryDirectory(prefix="crmroi-report-") as folder:
            path = write_report(model, Path(folder) / f"report.{fmt}")
            return path.read_bytes()

    key = ("case-report", fmt, saved.digest, version, runs, lang)
    return state.cache.get_or_compute(key, render)


# -- report languages -------------------------------------------------------------------
def report_languages() -> dict[str, str]:
    """Each report language's code and its name in that language ('ru': 'Русский')."""
    from babel import Locale

    from crmroi.reports import LANGUAGES

    names = {code: Locale.parse(code).get_display_name(code) for code in LANGUAGES}
    return {code: (name[:1].upper() + name[1:]) if name else code for code, name in names.items()}


def negotiate_language(accept_language: str | None) -> str:
    """The report language the Accept-Language header prefers ('en' when it names none)."""
    from crmroi.web.language import accepted_language

    return accepted_language(accept_language) or "en"


# -- files ------------------------------------------------------------------------------
def ascii_name(name: str) -> str:
    """A plain ASCII file name stem for old clients (letters, digits, - and _)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in folded)
    safe = re.sub("_+", "_", safe).strip("_")
    return safe[:60] or "case"


def content_disposition(stem: str, suffix: str) -> str:
    """An attachment header with an ASCII `filename` and the UTF-8 `filename*` (RFC 5987)."""
    clean = "".join(c for c in stem if unicodedata.category(c)[0] != "C" and c not in '/\\"')
    full = f"{clean or 'case'}{suffix}"
    return (
        f'attachment; filename="{ascii_name(stem)}{suffix}"; '
        f"filename*=UTF-8''{quote(full, safe='')}"
    )


# -- charts -----------------------------------------------------------------------------
def script_json(spec: Any) -> Markup:
    """JSON safe inside <script type="application/json"> (no `</script>` can close it)."""
    text = json.dumps(spec, allow_nan=False, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def cashflow_chart(
    scenarios: list[CaseFigures],
    title: str = N_("Cumulative cash flow"),
    lang: Translator | None = None,
) -> dict[str, Any]:
    """Vega-Lite: cumulative net cash flow by month, one line per scenario and view; its
    words in `lang` (English without)."""
    say = lang.gettext if lang is not None else str
    rows: list[dict[str, Any]] = []
    for s in scenarios:
        for label, values in ((N_("plan"), s.cumulative), (N_("risk adjusted"), s.cumulative_risk)):
            series = s.name if len(scenarios) > 1 else say(label)
            if len(scenarios) > 1 and label != "risk adjusted":
                continue
            rows += [
                {"month": m, "cumulative": v, "series": series}
                for m, v in enumerate(values)
                if v is not None
            ]
    currency = scenarios[0].currency if scenarios else ""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": say(title) + (f" ({say('risk adjusted')})" if len(scenarios) > 1 else ""),
        "width": "container",
        "height": 260,
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "line", "point": False},
                "encoding": {
                    "x": {"field": "month", "type": "quantitative", "title": say("month")},
                    "y": {
                        "field": "cumulative",
                        "type": "quantitative",
                        "title": say(N_("cumulative net (%(currency)s)")) % {"currency": currency},
                    },
                    "color": {"field": "series", "type": "nominal", "title": None},
                    "tooltip": [
                        {"field": "series"},
                        {"field": "month"},
                        {"field": "cumulative", "format": ",.0f"},
                    ],
                },
            },
            {"mark": {"type": "rule", "color": "#888"}, "encoding": {"y": {"datum": 0}}},
        ],
    }


# -- formatting for pages ---------------------------------------------------------------
def _page_lang(context: Context) -> Lang | None:
    """The page's language (the template context's `ui`), None for English."""
    lang = context.get("ui")
    return lang if isinstance(lang, Lang) and lang.code != "en" else None


@pass_context
def money(context: Context, value: float | None, currency: str = "") -> str:
    """'1,234 USD' (English as always); the page's digits and separators otherwise."""
    lang = _page_lang(context)
    if value is None:
        return "n/a" if lang is None else lang.gettext(N_("n/a"))
    amount = f"{value:,.0f}" if lang is None else lang.number(value)
    return f"{amount} {currency}".strip()


@pass_context
def percent(context: Context, value: float | None) -> str:
    lang = _page_lang(context)
    if value is None:
        return "n/a" if lang is None else lang.gettext(N_("n/a"))
    return f"{value:.1%}" if lang is None else lang.percent(value, 1)


@pass_context
def months(context: Context, value: float | None) -> str:
    lang = _page_lang(context)
    if value is None:
        return "never" if lang is None else lang.gettext(N_("never"))
    return f"{value:.1f}" if lang is None else lang.number(value, 1)


FORMATTERS = {"money": money, "percent": percent, "months": months}
