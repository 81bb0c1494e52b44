"""The command line: thin commands over the core, errors translated here only.

Exit codes: 0 success, 1 a user error (one line on stderr, no traceback),
2 bad usage (typer/click's own).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crmroi.errors import CrmroiError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="crmroi: does your CRM pay for itself? Measure, decide, improve.",
)
console = Console()
err_console = Console(stderr=True)

WorkspaceArg = Annotated[
    str, typer.Argument(help="Workspace folder (holds workspace.duckdb) or a postgresql:// URL.")
]


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )


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
    with _progress() as progress:
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


@app.command("import")
def import_(
    workspace: WorkspaceArg,
    files: Annotated[list[Path], typer.Argument(help="CSV or XLSX exports to load.")],
    source: Annotated[
        str, typer.Option(help="salesforce, hubspot, pipedrive, odoo or generic.")
    ] = "generic",
    mapping: Annotated[
        Path | None, typer.Option(help="YAML mapping file (required for generic).")
    ] = None,
    entity: Annotated[
        str | None, typer.Option(help="Canonical table to load into (default: detected).")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Import nothing if any row is refused.")] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Where to write the CSV of refused rows.")
    ] = None,
    base_currency: Annotated[
        str | None, typer.Option(help="ISO code amounts are converted into (set once).")
    ] = None,
) -> None:
    """Load CRM exports into the workspace's canonical tables (atomic, idempotent)."""
    from crmroi.ingest.pipeline import import_files, resolve_mapping
    from crmroi.store import open_store

    mapping_file = resolve_mapping(
        source, mapping
    )  # fail on a bad mapping before creating anything
    with open_store(workspace, create=True) as store, _progress() as progress:
        task = progress.add_task("importing", total=None)

        def on_step(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        report = import_files(
            store,
            files,
            source=source,
            mapping=mapping_file,
            entity=entity,
            strict=strict,
            rejects_path=rejects,
            base_currency=base_currency,
            progress=on_step,
        )
    _print_import_report(report)


def _print_import_report(report: object) -> None:
    from crmroi.ingest.pipeline import ImportReport

    assert isinstance(report, ImportReport)
    table = Table(title=f"Import {report.batch_id}")
    for name in ("file", "table", "rows", "new", "changed", "unchanged", "refused", "read as"):
        table.add_column(name, justify="left" if name in ("file", "table", "read as") else "right")
    for f in report.files:
        read_as = ", ".join(x for x in (f.encoding, _delimiter_name(f.delimiter)) if x)
        table.add_row(
            f.path.name,
            f"{f.entity} ({f.label})" if f.label != f.entity else f.entity,
            f"{f.rows_in:,}",
            f"{f.inserted:,}",
            f"{f.updated:,}",
            f"{f.unchanged:,}",
            f"{f.rejected:,}",
            read_as,
        )
    console.print(table)
    if report.rejects:
        shown = Table(title=f"Refused rows (first 20 of {len(report.rejects):,} problems)")
        for name in ("file", "row", "column", "reason"):
            shown.add_column(name)
        for r in report.rejects[:20]:
            shown.add_row(*(escape(x) for x in (r.file, str(r.row), r.column, r.reason)))
        console.print(shown)
        if report.rejects_path:
            console.print(f"All refused rows: {report.rejects_path}")
    loaded, total, refused = report.rows_loaded, report.rows_in, report.rows_rejected
    console.print(f"Loaded {loaded:,} of {total:,} rows; refused {refused:,}.")


def _delimiter_name(delimiter: str | None) -> str | None:
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    return None if delimiter is None else names.get(delimiter, repr(delimiter))


def main() -> None:
    """Entry point: run the app, turning crmroi's own errors into one line and exit 1."""
    try:
        app()
    except CrmroiError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
