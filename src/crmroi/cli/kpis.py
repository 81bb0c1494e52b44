"""`crmroi kpis`: every KPI, baseline versus after go-live, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.allocators import prefer_fast_allocators
from crmroi.cli.app import WorkspaceArg, app, console, progress_bar
from crmroi.cli.report import Language
from crmroi.languages import locale_language

if TYPE_CHECKING:
    from crmroi.kpi import KpiChange, KpiReport
    from crmroi.reports.i18n import Lang


class KpiFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ExposureChoice(StrEnum):
    created = "created"
    closed = "closed"


class GroupBy(StrEnum):
    team = "team"
    rep = "rep"
    segment = "segment"
    source = "source"


CSV_COLUMNS = [
    "group", "area", "name", "unit", "baseline", "after", "change_abs", "change_rel",
    "ci_low", "ci_high", "significant", "net_change_abs", "net_change_rel", "net_ci_low",
    "net_ci_high", "available", "reason", "basis",
    "baseline_covered_from", "baseline_covered_to", "baseline_covered_months",
    "after_covered_from", "after_covered_to", "after_covered_months",
    "baseline_basis", "baseline_source", "interval_note",
]  # fmt: skip
COVERAGE_FIELDS = {"covered_from": "start", "covered_to": "end", "covered_months": "months"}


def _num(value: float | None, unit: str, ui: Lang | None = None) -> str:
    """A value for the table: fractions as percentages, money and counts with separators
    (English as ever; another language `ui` with its separators and digits: fa ۱۲٫۳٪)."""
    if value is None:
        return "-"
    if ui is not None:
        if unit.startswith("fraction"):
            return ui.percent(value, 1)
        return ui.number(value, 0 if abs(value) >= 1000 else 2)
    if unit.startswith("fraction"):
        return f"{value * 100:.1f}%"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _pct(value: float | None, ui: Lang | None = None) -> str:
    if value is None:
        return "-"
    if ui is not None:
        return ("+" if value == 0 else "") + ui.percent(value, 1, signed=True)
    return f"{value * 100:+.1f}%"


def _covered(k: KpiChange, ui: Lang | None = None) -> str:
    """'covered months / nominal months' of the baseline and after windows."""
    if not k.coverage:
        return "-"
    b, a = k.coverage["baseline"], k.coverage["after"]
    text = f"{b['months']:.1f}/{b['nominal_months']} | {a['months']:.1f}/{a['nominal_months']}"
    if ui is None:
        return text
    months = [ui.number(b["months"], 1), ui.number(a["months"], 1)]
    nominal = [ui.number(b["nominal_months"]), ui.number(a["nominal_months"])]
    return f"{months[0]}/{nominal[0]} | {months[1]}/{nominal[1]}"


def _change(k: KpiChange, ui: Lang | None = None) -> str:
    if k.change_abs is None:
        return "-"
    if ui is not None and k.change_abs >= 0:
        sign = ui.symbols["plusSign"] if ui.numbering_system != "latn" else "+"
        text = sign + _num(k.change_abs, k.unit, ui)
    else:
        text = ("+" if k.change_abs >= 0 else "") + _num(k.change_abs, k.unit, ui)
    return f"[bold green]{text} *[/]" if k.significant else text


def render_table(report: KpiReport, lang: str = "en") -> None:
    """The rich table: KPIs grouped by area, significant changes marked with *; its
    headings, KPI names, units, reasons and numbers in `lang` (its separators and digits,
    as the reports write them: Persian digits in fa)."""
    from crmroi.kpi.coverage import PER_MONTH
    from crmroi.kpi.definitions import AREAS
    from crmroi.messages import M_, N_, Message, render
    from crmroi.reports.i18n import get_lang
    from crmroi.reports.labels import kpi_label, unit_label

    ui = get_lang(lang)
    english = ui.code == "en"
    _ = ui.gettext
    fmt = None if english else ui  # numbers: English as ever, else the language's

    def say(message: Message | str | None) -> str:
        """English exactly as before (ISO dates); other languages worded by `ui`."""
        if message is None:
            return ""
        return str(message) if english else render(message, ui)

    def name_of(kpi: str) -> str:
        return kpi if english else kpi_label(ui, kpi)

    def unit_text(unit: str) -> str:
        """A unit in `ui` ('USD per deal' keeps its code; '... per covered month')."""
        if unit.endswith(" " + PER_MONTH):
            base = unit_text(unit.removesuffix(" " + PER_MONTH))
            return _("%(unit)s per covered month") % {"unit": base}
        return unit_label(ui, unit, unit.partition(" ")[0])

    b, a = report.baseline, report.after
    title = M_(
        "kpis_title",
        "KPIs: baseline %(b0)s..%(b1)s vs after %(a0)s..%(a1)s",
        b0=b[0],
        b1=b[1],
        a0=a[0],
        a1=a[1],
    )
    table = Table(
        title=escape(say(title)),
        caption=escape(
            _(
                "* 95% interval of the change excludes 0; covered: months of each window "
                "(baseline | after) the KPI's own data cover; totals of partly covered windows "
                "are per covered month"
            )
        ),
    )
    if report.by:
        table.add_column(escape(_(report.by)))
    heads = [N_("KPI"), N_("unit"), N_("baseline"), N_("after"), N_("change"), N_("rel.")]
    heads += [N_("95% interval"), N_("net (DiD)"), N_("covered")]
    for col in heads:
        table.add_column(escape(_(col)), justify="left" if col in ("KPI", "unit") else "right")
    for area in AREAS:
        rows = [k for k in report.kpis if k.area == area]
        if not rows:
            continue
        table.add_section()
        table.add_row(*([""] if report.by else []), f"[bold]{escape(_(area))}[/]", *[""] * 8)
        for k in rows:
            lead = [k.group or ""] if report.by else []
            name = name_of(k.name)
            unit = k.unit if english else ui.localise_digits(unit_text(k.unit))
            if not k.available:
                why = say(k.why or k.reason)
                gone = escape(_("unavailable: %(reason)s") % {"reason": why})
                table.add_row(
                    *lead, name, unit, f"[dim]{gone}[/]", *[""] * 5, _covered(k, fmt),
                )  # fmt: skip
                continue
            interval = (
                "-"
                if k.ci_low is None
                else f"{_num(k.ci_low, k.unit, fmt)}..{_num(k.ci_high, k.unit, fmt)}"
            )
            base = _num(k.baseline, k.unit, fmt)
            if k.baseline_basis == "supplied":
                base = escape(_("%(value)s supplied") % {"value": base})
                base, interval = f"[yellow]{base}[/]", f"[dim]{escape(_('withheld'))}[/]"
            table.add_row(
                *lead, name, unit, base, _num(k.after, k.unit, fmt), _change(k, fmt),
                _pct(k.change_rel, fmt), interval, _pct(k.net_change_rel, fmt), _covered(k, fmt),
            )  # fmt: skip
    console.print(table)
    for k in report.kpis:
        if k.available and k.baseline_basis == "supplied":
            console.print(escape(f"{name_of(k.name)}: {say(k.interval_note)}"))
    if report.exposure == "created":
        created = N_(
            "Deals count in the window they were created and closed in (--exposure created)."
        )
        console.print(escape(_(created)))
    if report.go_live_by_team:
        teams = sorted(report.go_live_by_team.items())
        dates = ui.items(f"{t} {d:%Y-%m-%d}" if english else f"{t} {ui.date(d)}" for t, d in teams)
        phased = _("Phased roll-out, each team over its own windows: %(dates)s")
        console.print(escape(phased % {"dates": dates}))


def write_csv(report: KpiReport) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for k in report.kpis:
        row = k.to_json()
        cov = row.pop("coverage") or {}
        row["basis"] = cov.get("basis")
        for period in ("baseline", "after"):
            for name, key in COVERAGE_FIELDS.items():
                row[f"{period}_{name}"] = (cov.get(period) or {}).get(key)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])


@app.command()
def kpis(
    workspace: WorkspaceArg,
    go_live: Annotated[
        str | None,
        typer.Option(help="Go-live date YYYY-MM-DD (default: the date(s) in the workspace)."),
    ] = None,
    baseline_months: Annotated[int, typer.Option(min=1, help="Months before go-live.")] = 12,
    after_months: Annotated[int, typer.Option(min=1, help="Months from go-live on.")] = 12,
    by: Annotated[
        GroupBy | None, typer.Option(help="Group by team, rep, segment or source.")
    ] = None,
    format: Annotated[KpiFormat, typer.Option(help="table, json or csv.")] = KpiFormat.table,
    bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap replicates (0: none).")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    exposure: Annotated[
        ExposureChoice,
        typer.Option(
            help="closed (default): a deal counts in the window of its close date; created: "
            "only in the window it was created and closed in (a deal opened before go-live "
            "is not an after deal; see docs/kpis.md for when the two differ)."
        ),
    ] = ExposureChoice.closed,
    lang: Annotated[
        Language | None,
        typer.Option(help="Language of the table (default: the locale's, else English)."),
    ] = None,
) -> None:
    """Every KPI for the baseline and after windows, the change and its 95% interval."""
    prefer_fast_allocators(report=True)  # before pyarrow loads
    from crmroi.kpi import compute_kpi_report
    from crmroi.kpi.windows import parse_date
    from crmroi.store import open_store

    day: dt.date | None = parse_date(go_live, "--go-live") if go_live else None
    with open_store(workspace) as store, progress_bar() as progress:
        task = progress.add_task("computing KPIs", total=100)

        def on_step(name: str, fraction: float) -> None:
            progress.update(task, description=name, completed=round(fraction * 100))

        report = compute_kpi_report(
            store,
            go_live=day,
            baseline_months=baseline_months,
            after_months=after_months,
            by=by.value if by else None,
            bootstrap=bootstrap,
            seed=seed,
            progress=on_step,
            exposure=exposure.value,
        )
    if format is KpiFormat.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    elif format is KpiFormat.csv:
        write_csv(report)
    else:
        render_table(report, str(lang) if lang else locale_language(os.environ))
