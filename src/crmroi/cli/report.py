"""`crmroi report`: the business case and the workspace's evidence as HTML, PDF or XLSX."""

from __future__ import annotations

import contextlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmroi.cli.allocators import prefer_fast_allocators
from crmroi.cli.app import app, console, err_console
from crmroi.languages import LANGUAGES


class MoneyUnits(StrEnum):
    standard = "standard"
    toman = "toman"
    wan = "wan"


class PageSize(StrEnum):
    a4 = "A4"
    letter = "Letter"


if TYPE_CHECKING:
    Language = str
else:  # every report language (`crmroi.languages` is light enough for the CLI to import)
    Language = StrEnum("Language", {code: code for code in LANGUAGES})


@app.command()
def report(
    case_file: Annotated[Path, typer.Argument(metavar="CASE.yaml", help="The business case.")],
    out: Annotated[Path, typer.Option(help="Output file: .html (self-contained), .pdf or .xlsx.")],
    workspace: Annotated[
        str | None,
        typer.Option(help="Workspace: KPIs, attribution, lead sources, actuals, measured changes."),
    ] = None,
    lang: Annotated[
        Language | None,
        typer.Option(
            help="Language of the report and of what is printed (default: the "
            "locale's, else English)."
        ),
    ] = None,
    money_units: Annotated[
        MoneyUnits,
        typer.Option(
            help="Amounts in the HTML and PDF: as the currency (standard), rials as tomans "
            "(toman: 1 toman = 10 rials), or zh amounts in 万/亿 (wan); the workbook keeps "
            "the currency's own units."
        ),
    ] = MoneyUnits.standard,
    page_size: Annotated[PageSize, typer.Option(help="PDF page size.")] = PageSize.a4,
    simulate: Annotated[int, typer.Option(min=0, help="Monte Carlo runs (0: none).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the simulation and the bootstrap.")] = 0,
    bootstrap: Annotated[
        int, typer.Option(min=0, help="Bootstrap replicates of the KPI intervals.")
    ] = 200,
    kpi: Annotated[
        list[str] | None, typer.Option(help="Only these KPIs (repeat the option); default all.")
    ] = None,
) -> None:
    """Write the report of CASE.yaml (and WORKSPACE's evidence) to --out."""
    prefer_fast_allocators(report=True)  # before pyarrow loads
    from rich.markup import escape

    from crmroi.cli.language import speaker
    from crmroi.errors import ConfigurationError
    from crmroi.finance.case import load_case
    from crmroi.messages import M_
    from crmroi.reports import FORMATS, report_for, write_report
    from crmroi.store import open_store

    if out.suffix.lower() not in FORMATS:
        raise ConfigurationError(f"--out {out.name}: give a file ending in {', '.join(FORMATS)}")
    say = speaker(lang)
    case = load_case(case_file)
    if workspace is None and case.needs_workspace:
        raise ConfigurationError(
            f"{case_file.name} reads actual costs, measured benefits or lifetime value: "
            "give --workspace"
        )
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(open_store(workspace)) if workspace else None
        model = report_for(
            case,
            store,
            lang=say.code + ("" if money_units == MoneyUnits.standard else f"@{money_units}"),
            runs=simulate,
            seed=seed,
            bootstrap=bootstrap,
            kpis=kpi or None,
            workspace=workspace,
            progress=lambda text: err_console.print(
                f"[dim]{escape(say(text))}…[/]", highlight=False
            ),
        )
    path = write_report(model, out, page_size=page_size.value)
    console.print(say.say(M_("wrote", "Wrote %(path)s", path=str(path))))
