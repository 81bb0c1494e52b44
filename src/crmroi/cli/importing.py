"""`crmroi import`: load CRM exports into the canonical tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console, progress_bar

if TYPE_CHECKING:
    from crmroi.ingest.pipeline import ImportReport


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
    with open_store(workspace, create=True) as store, progress_bar() as progress:
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


def _print_import_report(report: ImportReport) -> None:
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
