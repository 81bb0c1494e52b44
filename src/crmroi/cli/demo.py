"""`crmroi demo`: generate the demo company into a workspace."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console, err_console, progress_bar
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_, Num

DEMO_CASE = Path(__file__).resolve().parents[1] / "reports" / "demo_case.yaml"
DEMO_REPORT = {"runs": 10_000, "bootstrap": 200, "kpis": None}
"""Options of the demo's report: simulation runs, KPI bootstrap replicates, KPIs (None: all)."""


@app.command()
def demo(
    workspace: WorkspaceArg,
    scale: Annotated[float, typer.Option(min=0.01, help="Volume multiplier (1 = ~40 reps).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same company.")] = 42,
    report: Annotated[
        bool, typer.Option(help="End by writing report.html (and report.pdf) from case.yaml.")
    ] = True,
    lang: LangOption = None,
) -> None:
    """Generate the demo company into WORKSPACE, write truth.json, case.yaml and report.html."""
    from crmroi.demo import generate_company, write_demo
    from crmroi.store import open_store
    from crmroi.store.lake import MANIFEST, is_lake

    started = time.perf_counter()
    say = speaker(lang)
    with progress_bar() as progress:
        task = progress.add_task(say(N_("generating")), total=100)

        def on_step(description: str, fraction: float) -> None:
            progress.update(task, description=description, completed=round(fraction * 100))

        company = generate_company(scale=scale, seed=seed, progress=on_step)
        progress.update(task, description=say(N_("writing workspace")), completed=100)
        with open_store(workspace, create=True) as store:
            counts = write_demo(store, company, store.folder)
            folder = store.folder if store.folder is not None else Path(workspace)
    elapsed = time.perf_counter() - started
    title = M_(
        "demo_title", "Demo company (seed %(seed)s, scale %(scale)s) in %(workspace)s",
        seed=str(seed), scale=say.digits(f"{scale:g}"), workspace=workspace,
    )  # fmt: skip
    table = Table(title=escape(say.say(title)))
    table.add_column(say(N_("table")))
    table.add_column(say(N_("rows")), justify="right")
    for name, count in counts.items():
        table.add_row(name, say.num(count))
    console.print(table)
    teams = sorted(company.go_live_by_team.items())
    go_lives = say.items(f"{t} {say.day(d)}" for t, d in teams)
    console.print(
        escape(say.say(M_("demo_go_live", "CRM go-live by team: %(dates)s", dates=go_lives)))
    )
    data = folder / (MANIFEST if is_lake(workspace) else "workspace.duckdb")
    console.print(_wrote([data, folder / "truth.json"], elapsed, say))
    if report:
        _write_reports(workspace, folder, say)


def _wrote(paths: list[Path], seconds: float, say: Speaker) -> str:
    """'Wrote A and B in 1.2 s' in the language (paths stay as they are)."""
    if say.english:
        return f"Wrote {' and '.join(map(str, paths))} in {seconds:.1f} s"
    names = f" {say(N_('and'))} ".join(map(str, paths))
    wrote = M_("wrote_in", "Wrote %(files)s in %(seconds)s s", files=names, seconds=Num(seconds, 1))
    return say.say(wrote)


def _write_reports(workspace: str, folder: Path, say: Speaker) -> None:
    """The demo's business case (case.yaml, written if absent) as report.html and .pdf."""
    from crmroi.finance.case import load_case
    from crmroi.reports import report_for, write_report
    from crmroi.reports.pdf import pdf_available
    from crmroi.store import open_store

    started = time.perf_counter()
    case_path = folder / "case.yaml"
    if not case_path.exists():
        case_path.write_text(DEMO_CASE.read_text(encoding="utf-8"), encoding="utf-8")
    with open_store(workspace) as store:
        model = report_for(
            load_case(case_path),
            store,
            workspace=workspace,
            lang=say.code,
            progress=lambda text: err_console.print(
                f"[dim]{escape(say(text))}…[/]", highlight=False
            ),
            **DEMO_REPORT,  # type: ignore[arg-type]
        )
    written = [write_report(model, folder / "report.html")]
    if pdf_available():
        written.append(write_report(model, folder / "report.pdf"))
    console.print(_wrote([case_path, *written], time.perf_counter() - started, say))
