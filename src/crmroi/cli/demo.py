"""`crmroi demo`: generate the demo company into a workspace."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console, err_console, progress_bar

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
) -> None:
    """Generate the demo company into WORKSPACE, write truth.json, case.yaml and report.html."""
    from crmroi.demo import generate_company, write_demo
    from crmroi.store import open_store
    from crmroi.store.lake import MANIFEST, is_lake

    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("generating", total=100)

        def on_step(description: str, fraction: float) -> None:
            progress.update(task, description=description, completed=round(fraction * 100))

        company = generate_company(scale=scale, seed=seed, progress=on_step)
        progress.update(task, description="writing workspace", completed=100)
        with open_store(workspace, create=True) as store:
            counts = write_demo(store, company, store.folder)
            folder = store.folder if store.folder is not None else Path(workspace)
    elapsed = time.perf_counter() - started
    table = Table(title=f"Demo company (seed {seed}, scale {scale:g}) in {workspace}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    go_lives = ", ".join(f"{t} {d:%Y-%m-%d}" for t, d in sorted(company.go_live_by_team.items()))
    console.print(f"CRM go-live by team: {go_lives}")
    data = folder / (MANIFEST if is_lake(workspace) else "workspace.duckdb")
    console.print(f"Wrote {data} and {folder / 'truth.json'} in {elapsed:.1f} s")
    if report:
        _write_reports(workspace, folder)


def _write_reports(workspace: str, folder: Path) -> None:
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
            progress=lambda text: err_console.print(f"[dim]{text}…[/]", highlight=False),
            **DEMO_REPORT,  # type: ignore[arg-type]
        )
    written = [write_report(model, folder / "report.html")]
    if pdf_available():
        written.append(write_report(model, folder / "report.pdf"))
    names = " and ".join(str(p) for p in written)
    console.print(f"Wrote {case_path} and {names} in {time.perf_counter() - started:.1f} s")
