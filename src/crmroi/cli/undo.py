"""`crmroi undo`: put the workspace back as it was before an import batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console

if TYPE_CHECKING:
    from crmroi.store import Store


@app.command()
def undo(
    workspace: WorkspaceArg,
    batch_id: Annotated[
        str | None,
        typer.Argument(help="The import batch to undo (omit it to list the import history)."),
    ] = None,
) -> None:
    """Undo an import batch: its new rows removed, the rows it replaced restored."""
    from crmroi.store import open_store
    from crmroi.store.undo import undo_batch

    with open_store(workspace) as store:
        if batch_id is None:
            _print_history(store)
            return
        report = undo_batch(store, batch_id)
    table = Table(title=f"Undid {report.batch_id}")
    for name in ("table", "rows removed", "previous rows restored"):
        table.add_column(name, justify="left" if name == "table" else "right")
    for name in report.deleted:
        table.add_row(name, f"{report.deleted[name]:,}", f"{report.restored[name]:,}")
    console.print(table)


def _print_history(store: Store) -> None:
    from crmroi.store.undo import list_batches

    table = Table(title="Import history (newest first)")
    table.add_column("batch", no_wrap=True)
    for name in ("started (UTC)", "source", "files", "loaded", "refused", "status"):
        table.add_column(name)
    for b in list_batches(store):
        started = b.started_at.strftime("%Y-%m-%d %H:%M") if b.started_at else ""
        status = b.status + (" (undoable)" if b.undoable else "")
        table.add_row(
            b.batch_id,
            started,
            escape(b.source_system),
            escape(", ".join(b.files))[:60],
            f"{b.rows_loaded:,}",
            f"{b.rows_rejected:,}",
            escape(status[:80]),
        )
    console.print(table)
