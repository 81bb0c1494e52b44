"""`crmroi undo`: put the workspace back as it was before an import batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_

if TYPE_CHECKING:
    from crmroi.store import Store


@app.command()
def undo(
    workspace: WorkspaceArg,
    batch_id: Annotated[
        str | None,
        typer.Argument(help="The import batch to undo (omit it to list the import history)."),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Undo an import batch: its new rows removed, the rows it replaced restored."""
    from crmroi.store import open_store
    from crmroi.store.undo import undo_batch

    say = speaker(lang)
    with open_store(workspace) as store:
        if batch_id is None:
            _print_history(store, say)
            return
        report = undo_batch(store, batch_id)
    table = Table(title=escape(say.say(M_("undid", "Undid %(batch)s", batch=report.batch_id))))
    for name in (N_("table"), N_("rows removed"), N_("previous rows restored")):
        table.add_column(escape(say(name)), justify="left" if name == "table" else "right")
    for name in report.deleted:
        table.add_row(name, say.num(report.deleted[name]), say.num(report.restored[name]))
    console.print(table)


def _print_history(store: Store, say: Speaker) -> None:
    from crmroi.store.undo import list_batches

    table = Table(title=escape(say(N_("Import history (newest first)"))))
    table.add_column(escape(say(N_("batch"))), no_wrap=True)
    heads = (N_("started (UTC)"), N_("source"), N_("files"), N_("loaded"), N_("refused"))
    for name in (*heads, N_("status")):
        table.add_column(escape(say(name)))
    for b in list_batches(store):
        started = b.started_at.strftime("%Y-%m-%d %H:%M") if b.started_at else ""
        if not say.english and b.started_at:
            started = f"{say.day(b.started_at)} {say.digits(b.started_at.strftime('%H:%M'))}"
        said = say.say(b.failure) if b.failure is not None else say(b.status)
        status = said + (say(N_(" (undoable)")) if b.undoable else "")
        table.add_row(
            b.batch_id,
            started,
            escape(b.source_system),
            escape(say.items(say.say(f) for f in b.file_labels))[:60],
            say.num(b.rows_loaded),
            say.num(b.rows_rejected),
            escape(status[:80]),
        )
    console.print(table)
