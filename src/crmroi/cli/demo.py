"""`crmroi demo`: generate the demo company into a workspace."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console, progress_bar


@app.command()
def demo(
    workspace: WorkspaceArg,
    scale: Annotated[float, typer.Option(min=0.01, help="Volume multiplier (1 = ~40 reps).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same company.")] = 42,
) -> None:
    """Generate the demo company into WORKSPACE and write truth.json."""
    from crmroi.demo import generate_company, write_demo
    from crmroi.store import open_store

    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("generating", total=100)

        def on_step(description: str, fraction: float) -> None:
            progress.update(task, description=description, completed=round(fraction * 100))

        company = generate_company(scale=scale, seed=seed, progress=on_step)
        progress.update(task, description="writing workspace", completed=100)
        with open_store(workspace, create=True) as store:
            counts = write_demo(store, company, store.folder)
    elapsed = time.perf_counter() - started
    table = Table(title=f"Demo company (seed {seed}, scale {scale:g}) in {workspace}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    go_lives = ", ".join(f"{t} {d:%Y-%m-%d}" for t, d in sorted(company.go_live_by_team.items()))
    console.print(f"CRM go-live by team: {go_lives}")
    folder = Path(workspace)
    console.print(
        f"Wrote {folder / 'workspace.duckdb'} and {folder / 'truth.json'} in {elapsed:.1f} s"
    )
