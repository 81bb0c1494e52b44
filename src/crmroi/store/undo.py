"""Undo of an import batch: the workspace as it was before the batch.

An import upserts rows on (source_system, source_id): new rows are inserted, changed
rows replaced, identical rows left alone. To undo a batch, both kinds of writes are
reversed, so the store keeps, inside the import's own transaction:

* `undo_log`: one row per (batch, table) the batch wrote, with its counts. Only
  batches listed there can be undone (the demo generator and imports made before
  undo existed are not).
* `undo_<table>` for every canonical table: the previous version of every row a
  batch replaced, with the columns of the table plus `undo_batch_id`, the batch that
  replaced it (`Transaction.upsert(..., history=...)` writes them).

Undoing batch B, in one transaction: delete the rows of each table whose `batch_id`
is B (what B inserted and the new versions of what it replaced), put back the
versions kept in `undo_<table>` with `undo_batch_id = B`, delete those, and mark B
`undone` in `import_batches`. A later batch C that replaced rows B wrote has kept
B's versions under `undo_batch_id = C`: then undoing B is refused until C is undone
(which puts B's versions back and removes that record).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from crmroi.errors import UserError
from crmroi.messages import M_, Items, Message
from crmroi.store.batch_status import failed_message, file_label, status_text
from crmroi.store.engines import Transaction, q
from crmroi.store.schema import TABLES

if TYPE_CHECKING:
    from crmroi.store.store import Store

UNDO_LOG_TABLE = "undo_log"
UNDO_LOG = pa.schema(
    [
        pa.field("batch_id", pa.string()),
        pa.field("table_name", pa.string()),
        pa.field("inserted", pa.int64()),
        pa.field("updated", pa.int64()),
    ]
)
UNDO_BATCH_COLUMN = "undo_batch_id"
LOADED = "loaded"
UNDONE = "undone"


class UndoRefused(UserError):
    """The batch cannot be undone now (unknown, not loaded, or later batches depend on it)."""


class UnknownBatch(UndoRefused):
    """No import batch has this id."""


def undo_table(name: str) -> str:
    """The table keeping the replaced versions of canonical table `name`."""
    return f"undo_{name}"


def undo_schema(name: str) -> pa.Schema:
    """The columns of `name` plus the batch that replaced each kept version."""
    return TABLES[name].arrow_schema().append(pa.field(UNDO_BATCH_COLUMN, pa.string()))


def undo_tables() -> dict[str, pa.Schema]:
    """Every table undo needs, with its schema (created by `Store.ensure_schema`)."""
    wanted = {undo_table(name): undo_schema(name) for name in TABLES}
    wanted[UNDO_LOG_TABLE] = UNDO_LOG
    return wanted


def log_batch_table(
    tx: Transaction, batch_id: str, table: str, inserted: int, updated: int
) -> None:
    """Record, inside the import's transaction, that `batch_id` wrote `table`."""
    ph = tx.placeholder
    tx.execute(
        f"INSERT INTO {q(UNDO_LOG_TABLE)} (batch_id, table_name, inserted, updated) "
        f"VALUES ({ph}, {ph}, {ph}, {ph})",
        (batch_id, table, inserted, updated),
    )


@dataclass(frozen=True)
class BatchInfo:
    """One import batch of the history, and whether it can be undone."""

    batch_id: str
    started_at: datetime | None
    finished_at: datetime | None
    source_system: str
    files: list[str]
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    status: str
    """In English, as the API shows it ('loaded', 'undone', 'failed: REASON')."""
    undoable: bool
    tables: dict[str, int] = field(default_factory=dict)
    failure: Message | None = None
    """A failed import's status as a message (`batch_failed`), for the reader's language."""

    @property
    def file_labels(self) -> list[Message | str]:
        """The files as the reader sees them (`batch_status.file_label`)."""
        return [file_label(f) for f in self.files]


@dataclass(frozen=True)
class UndoReport:
    """What undoing a batch did, per table: rows removed and previous versions restored."""

    batch_id: str
    deleted: dict[str, int]
    restored: dict[str, int]


def list_batches(store: Store, limit: int = 500) -> list[BatchInfo]:
    """The import history, newest first."""
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT batch_id, started_at, finished_at, source_system, files, rows_in, "
            "rows_loaded, rows_rejected, status FROM import_batches "
            f"ORDER BY started_at DESC, batch_id DESC LIMIT {int(limit)}"
        )
        logged = tx.execute(f"SELECT batch_id, table_name, inserted, updated FROM {UNDO_LOG_TABLE}")
    written: dict[str, dict[str, int]] = {}
    for batch_id, table, inserted, updated in logged:
        written.setdefault(batch_id, {})[table] = int(inserted or 0) + int(updated or 0)
    out = []
    for r in rows:
        stored = str(r[8] or "")
        status = status_text(stored)
        out.append(
            BatchInfo(
                batch_id=str(r[0]),
                started_at=r[1],
                finished_at=r[2],
                source_system=str(r[3] or ""),
                files=_file_names(r[4]),
                rows_in=int(r[5] or 0),
                rows_loaded=int(r[6] or 0),
                rows_rejected=int(r[7] or 0),
                status=status,
                undoable=status == LOADED and str(r[0]) in written,
                tables=written.get(str(r[0]), {}),
                failure=failed_message(stored),
            )
        )
    return out


def _file_names(value: Any) -> list[str]:
    if value is None:
        return []
    try:
        names = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(n) for n in names] if isinstance(names, list) else [str(names)]


def undo_batch(
    store: Store,
    batch_id: str,
    *,
    on_commit: Callable[[Transaction, UndoReport], None] | None = None,
) -> UndoReport:
    """Undo `batch_id` in one transaction (see the module docstring).

    `on_commit` runs inside the same transaction after the undo (the web app writes
    its audit event there). Raises `UndoRefused` when the batch cannot be undone.
    """
    with store.transaction() as tx:
        ph = tx.placeholder
        found = tx.execute("SELECT status FROM import_batches WHERE batch_id = " + ph, (batch_id,))
        if not found:
            raise UnknownBatch(
                M_("undo_unknown_batch", "there is no import batch %(batch)s", batch=repr(batch_id))
            )
        stored = str(found[0][0] or "")
        status = status_text(stored)
        if status == UNDONE:
            raise UndoRefused(
                M_("undo_already_undone", "batch %(batch)s is already undone", batch=batch_id)
            )
        if status != LOADED:
            raise UndoRefused(
                M_(
                    "undo_nothing_loaded",
                    "batch %(batch)s did not load anything (%(status)s); nothing to undo",
                    batch=batch_id,
                    status=failed_message(stored) or status,
                )
            )
        tables = [
            str(r[0])
            for r in tx.execute(
                f"SELECT DISTINCT table_name FROM {UNDO_LOG_TABLE} WHERE batch_id = {ph}",
                (batch_id,),
            )
        ]
        if not tables:
            raise UndoRefused(
                M_(
                    "undo_no_history",
                    "batch %(batch)s was written without undo history (by the demo generator "
                    "or an older crmroi); it cannot be undone",
                    batch=batch_id,
                )
            )
        tables = sorted(t for t in tables if t in TABLES)
        later = _later_batches(tx, batch_id, tables)
        if later:
            names = Items(later)
            raise UndoRefused(
                M_(
                    "undo_later_batches",
                    "batch %(batch)s cannot be undone: later batch(es) %(names)s changed the "
                    "same rows; undo %(names)s first",
                    batch=batch_id,
                    names=names,
                )
            )
        deleted: dict[str, int] = {}
        restored: dict[str, int] = {}
        for name in tables:
            t, h = q(name), q(undo_table(name))
            cols = ", ".join(q(c) for c in TABLES[name].column_names)
            deleted[name] = _count(tx, f"SELECT count(*) FROM {t} WHERE batch_id = {ph}", batch_id)
            tx.execute(f"DELETE FROM {t} WHERE batch_id = {ph}", (batch_id,))
            restored[name] = _count(
                tx, f"SELECT count(*) FROM {h} WHERE {UNDO_BATCH_COLUMN} = {ph}", batch_id
            )
            tx.execute(
                f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {h} WHERE {UNDO_BATCH_COLUMN} = {ph}",
                (batch_id,),
            )
            tx.execute(f"DELETE FROM {h} WHERE {UNDO_BATCH_COLUMN} = {ph}", (batch_id,))
        tx.execute(
            f"UPDATE import_batches SET status = {ph} WHERE batch_id = {ph}", (UNDONE, batch_id)
        )
        report = UndoReport(batch_id, deleted, restored)
        if on_commit is not None:
            on_commit(tx, report)
    store.reclaim_space()  # the removed rows' space is reused by the next import
    return report


def _later_batches(tx: Transaction, batch_id: str, tables: list[str]) -> list[str]:
    """Batches still loaded that replaced rows `batch_id` wrote."""
    ph = tx.placeholder
    later: set[str] = set()
    for name in tables:
        rows = tx.execute(
            f"SELECT DISTINCT {UNDO_BATCH_COLUMN} FROM {q(undo_table(name))} WHERE batch_id = {ph}",
            (batch_id,),
        )
        later.update(str(r[0]) for r in rows)
    later.discard(batch_id)
    return sorted(later)


def _count(tx: Transaction, statement: str, value: str) -> int:
    return int(tx.execute(statement, (value,))[0][0])
