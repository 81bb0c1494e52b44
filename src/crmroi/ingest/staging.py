"""A large file's mapped rows kept in the DuckDB store while it is read, not in memory.

Each block of a streamed file (`crmroi.ingest.streaming`) is mapped on its own and its
loaded rows appended, by a writer thread while the next blocks are mapped
(`crmroi.ingest.stage_writer`), to a stage table of the workspace's DuckDB connection.
Checks over the whole file run there in SQL: duplicate ids (all but the last row refused,
as for a file read whole), then the summary's date ranges, money totals and link counts.

Into an empty canonical table (a first import) the stage is an ordinary table of the
workspace, written compressed as the blocks come; the import's single transaction renames
it into the canonical table's place (nothing copied). Else it is a temporary table (which
spills to disk past the memory limit) that the transaction copies into the canonical one
(`Transaction.upsert_from`). The stage is dropped afterwards; a killed process leaves a
temporary table nowhere and an ordinary one unreferenced, dropped when the workspace is
next opened (`Store.drop_stray_stages`).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from crmroi.ingest.block_notes import ValueKey, add_values, merge_details, top_values
from crmroi.ingest.currency import FxRates
from crmroi.ingest.headers import check_duplicates, mapping_names
from crmroi.ingest.mapping import MappingFile, TableMapping, choose_table_mapping
from crmroi.ingest.reasons import duplicate_id
from crmroi.ingest.reject_spool import RejectSpool
from crmroi.ingest.rejects import Reject
from crmroi.ingest.stage_writer import Writer, few_threads
from crmroi.ingest.streaming import (
    BLOCK_BYTES,
    NotStreamable,
    StreamedText,
    open_stream,
    read_ahead,
)
from crmroi.ingest.summary import LINKS, DateRange, LinkCount, MoneyTotal
from crmroi.ingest.transform import MappedTable, map_table
from crmroi.store.engines import DuckDBEngine, Transaction, UpsertCounts, q
from crmroi.store.schema import ID_COLUMN, TABLES
from crmroi.store.store import ACTIVE_STAGES, STAGE_PREFIX, Store

STREAM_BYTES = 64 << 20
"""Text files at least this large are streamed (smaller ones are read whole); the
environment's CRMROI_STREAM_BYTES wins (0 streams every text file, as tests do)."""
MEMORY_LIMIT = "512MB"
"""DuckDB's memory limit while an import streams (past it, staged rows spill to disk)."""

Note = Callable[[str], None]
FLUSH_ROWS = 1 << 18
"""Staged rows written to DuckDB at a time (two of its row groups), unless `FLUSH_BYTES`."""
FLUSH_BYTES = 64 << 20
_SPOOL_ROWS = 100_000  # rejects of a file read whole spooled at a time
_BLOCK_VALUES = 10_000  # distinct values counted per column and block (exact merged counts)


def streamable(store: Store, path: Path, mapping_file: MappingFile) -> bool:
    """Whether `path` is read in blocks: a large text file, a DuckDB workspace, and a
    mapping without partial files or links by name (those need every row at once)."""
    if type(store.engine) is not DuckDBEngine:
        return False
    if path.suffix.lower() not in (".csv", ".txt", ".tsv", ".tab"):
        return False
    try:
        if path.stat().st_size < _setting("CRMROI_STREAM_BYTES", STREAM_BYTES):
            return False
    except OSError:
        return False
    for table in mapping_file.tables:
        if table.partial or table.names or any(s.names for s in table.columns.values()):
            return False
    return True


def _setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


@contextlib.contextmanager
def bounded_memory(store: Store) -> Iterator[None]:
    """DuckDB's memory limit set to `MEMORY_LIMIT` for the block, then restored."""
    con = store.engine.con  # type: ignore[attr-defined]
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            con.execute(f"SET memory_limit = '{before[0]}'")


@dataclass
class StreamPlan:
    """A streamable file opened for reading, with the table mapping chosen for it."""

    stream: StreamedText
    mapping: TableMapping


def plan_stream(path: Path, mapping_file: MappingFile, entity: str | None) -> StreamPlan:
    """Open `path` for block reading and choose its table mapping from the header, as
    `mapped.read_for_mapping` does for a file read whole. Raises `NotStreamable` for a
    file loaded into several tables or an fx_rates file (read whole)."""
    hinted = [t for t in mapping_file.tables if t.matches_file(path) and entity in (None, t.entity)]
    first = hinted[0].csv if hinted else None
    expected = mapping_names([t for t in mapping_file.tables if entity in (None, t.entity)])
    block = _setting("CRMROI_STREAM_BLOCK_BYTES", BLOCK_BYTES)
    stream = open_stream(
        path,
        block_bytes=block,
        encoding=first.encoding if first else None,
        delimiter=first.delimiter if first else None,
        header_row=first.header_row if first else None,
        header_names=expected,
    )
    if len(hinted) > 1 and len({t.entity for t in hinted}) == len(hinted):
        raise NotStreamable("one file, several tables")
    chosen = choose_table_mapping(mapping_file, path, stream.names, entity)
    if chosen.entity in ("fx_rates", "supplied_baselines"):  # small; checked whole
        raise NotStreamable(chosen.entity)
    settings = chosen.csv
    fixed = settings.encoding or settings.delimiter or settings.sheet or settings.header_row
    if first != settings and fixed:
        stream = open_stream(
            path,
            block_bytes=block,
            encoding=settings.encoding,
            delimiter=settings.delimiter,
            header_row=settings.header_row,
            header_names=mapping_names([chosen]),
        )
    check_duplicates(path.name, stream.names, stream.duplicates, chosen)
    return StreamPlan(stream, chosen)


@dataclass
class StagedRows:
    """The loaded rows of one streamed file, in a DuckDB table of the workspace.

    Blocks are appended a few at a time (`FLUSH_ROWS` rows or `FLUSH_BYTES`): DuckDB
    spends about three times the CPU on many small inserts as on a few large ones.

    `persistent` (the canonical table was empty when the file was opened): the rows are
    staged in an ordinary table of the workspace, written compressed as the blocks come,
    which the import's transaction then renames into the canonical table's place when
    that is still empty (`write`): the rows are written once, beside the mapping of the
    next blocks, not copied at the end. Else a temporary table (dies with the connection),
    copied by `Transaction.upsert_from`. A killed import leaves a persistent stage
    unreferenced: `Store.open` drops it (its name starts with `STAGE_PREFIX`)."""

    con: Any
    entity: str
    persistent: bool = False
    name: str = field(default_factory=lambda: f"{STAGE_PREFIX}{uuid.uuid4().hex[:12]}")
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    _refused: str = ""
    rejects: RejectSpool = field(init=False)
    """the file's refused rows, spooled as its blocks are mapped"""
    _pending: dict[str, list[pa.Table]] = field(default_factory=dict)
    _created: set[str] = field(default_factory=set)
    _writer: Writer = field(default_factory=Writer)

    def __post_init__(self) -> None:
        self.rejects = RejectSpool(self.con, self.name + "_rejects")
        ACTIVE_STAGES.add(self.name)

    def add_rejects(self, rejects: Iterable[Reject]) -> None:
        """Spool one block's refused rows (in the writer thread, after the staged rows
        before them)."""
        block = list(rejects)
        if block:
            self._writer.submit(self.rejects.add, block)

    def wait(self) -> None:
        """Every write handed to the writer thread done (its error raised); the thread
        stops (a later write starts it again)."""
        try:
            self._writer.wait()
        finally:
            self._writer.close()

    def add(self, mapped: MappedTable) -> None:
        """Append one block's loaded rows (with their file rows) and its refused ids."""
        table = mapped.table.append_column("_line", pa.array(mapped.lines, pa.int64()))
        self.columns = list(mapped.table.column_names)
        refused = pa.table(
            {
                "key": pa.array([k for k, _ in mapped.refused_keys], pa.string()),
                "_line": pa.array([r for _, r in mapped.refused_keys], pa.int64()),
            }
        )
        self._refused = self._refused or self.name + "_refused"
        self._pending.setdefault(self.name, []).append(table)
        self._pending.setdefault(self._refused, []).append(refused)
        self.rows += table.num_rows
        waiting = self._pending[self.name]
        size = sum(t.nbytes for t in waiting)
        if sum(t.num_rows for t in waiting) >= FLUSH_ROWS or size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Hand the blocks added since the last flush to the writer thread."""
        pending, self._pending = self._pending, {}
        if pending:
            self._writer.submit(self._write, pending)

    def _write(self, pending: dict[str, list[pa.Table]]) -> None:
        for name, tables in pending.items():
            self._append(name, pa.concat_tables(tables))

    def _append(self, name: str, table: pa.Table) -> None:
        view = name + "_arrow"
        self.con.register(view, table)
        try:
            if name in self._created:
                self.con.execute(f"INSERT INTO {q(name)} SELECT * FROM {q(view)}")
            else:
                kind = "TABLE" if self.persistent and name == self.name else "TEMP TABLE"
                self.con.execute(f"CREATE {kind} {q(name)} AS SELECT * FROM {q(view)}")
                self._created.add(name)
        finally:
            self.con.unregister(view)

    def refuse_duplicates(self, file: str) -> None:
        """All but the last row of each id refused (loaded or refused rows alike; spooled
        in `rejects`), and removed from the staged rows; as `transform._refuse_duplicates`
        over a whole file."""
        self.flush()
        self.wait()
        self.rejects.blocks_done()
        if not self._refused:  # no block staged (refused rows' ids count too)
            return
        every = (
            f"SELECT source_id AS key FROM {q(self.name)} WHERE source_id IS NOT NULL "
            f"UNION ALL SELECT key FROM {q(self._refused)}"
        )
        # ids whose 64-bit hashes differ differ: no repeated hash, no repeated id (the
        # common case, a third of the time of grouping the ids themselves)
        repeated = self.con.execute(
            f"SELECT count(*) FROM (SELECT hash(key) AS h FROM ({every})) "
            f"GROUP BY h HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        if not repeated:  # one hash aggregate, no window over every row
            return
        dups = q(self.name + "_dups")
        self.con.execute(
            f"""
            CREATE TEMP TABLE {dups} AS
            WITH every AS (
                SELECT source_id AS key, _line FROM {q(self.name)} WHERE source_id IS NOT NULL
                UNION ALL SELECT key, _line FROM {q(self._refused)}
            )
            SELECT key, _line, max(_line) OVER (PARTITION BY key) AS kept FROM every
            QUALIFY count(*) OVER (PARTITION BY key) > 1 AND _line < kept
            """
        )
        try:
            last = -1  # keyset pages (the spool writes on the same connection between)
            while page := self.con.execute(
                f"SELECT key, _line, kept FROM {dups} WHERE _line > ? ORDER BY _line LIMIT 10000",
                [last],
            ).fetchall():
                self.rejects.add(
                    Reject(file, int(line), "", duplicate_id(key, int(kept)), str(key))
                    for key, line, kept in page
                )
                last = int(page[-1][1])
            self.con.execute(
                f"DELETE FROM {q(self.name)} WHERE _line IN (SELECT _line FROM {dups})"
            )
        finally:
            self.con.execute(f"DROP TABLE {dups}")
        self.rows = int(self.con.execute(f"SELECT count(*) FROM {q(self.name)}").fetchone()[0])

    def date_ranges(self) -> list[DateRange]:
        """`summary.date_ranges` of the staged rows."""
        out = []
        for col in TABLES[self.entity].columns:
            if col.kind not in ("timestamp", "date"):
                continue
            c = q(col.name)
            first, last, filled, rows = self.con.execute(
                f"SELECT min({c}), max({c}), count({c}), count(*) FROM {q(self.name)}"
            ).fetchone()
            if filled:
                out.append(DateRange(self.entity, col.name, first, last, int(filled), int(rows)))
        return out

    def money_totals(self, base_currency: str) -> list[MoneyTotal]:
        """`summary.money_totals` of the staged rows."""
        if not TABLES[self.entity].has_currency or not self.rows:
            return []
        grouped = self.con.execute(
            f"SELECT currency, count(*), sum(amount_original), sum(amount) "
            f"FROM {q(self.name)} GROUP BY currency"
        ).fetchall()
        out = [
            MoneyTotal(
                self.entity,
                currency or base_currency,
                int(n),
                float(original or 0.0),
                float(converted or 0.0),
                base_currency,
            )
            for currency, n, original, converted in grouped
        ]
        return sorted(out, key=lambda m: (-m.rows, m.currency))

    def link_counts(self, known: Mapping[str, pa.Array]) -> list[LinkCount]:
        """`summary.link_counts` of the staged rows against the ids in `known`."""
        out = []
        for column, target in LINKS.items():
            if column == ID_COLUMN.get(self.entity) or column not in self.columns:
                continue
            if target not in known:
                continue
            view = f"{self.name}_known"
            self.con.register(view, pa.table({"id": known[target]}))
            try:
                c = q(column)
                rows, empty, resolved = self.con.execute(
                    f"SELECT count(*), count(*) FILTER (WHERE {c} IS NULL), "
                    f"count(*) FILTER (WHERE {c} IN (SELECT id FROM {q(view)})) "
                    f"FROM {q(self.name)}"
                ).fetchone()
            finally:
                self.con.unregister(view)
            out.append(
                LinkCount(
                    self.entity, column, target, int(resolved), rows - empty - resolved, empty
                )
            )
        return out

    def own_ids(self) -> pa.Array:
        """The distinct ids of the staged rows (for other files' link counts)."""
        own = ID_COLUMN[self.entity]
        return (
            self.con.execute(f"SELECT DISTINCT {q(own)} FROM {q(self.name)}")
            .fetch_arrow_table()
            .column(0)
            .combine_chunks()
            .cast(pa.string())
        )

    def write(self, tx: Transaction, compare: list[str], history: str | None) -> UpsertCounts:
        """Write the staged rows into the canonical table inside the import's transaction:
        a persistent stage takes the place of a still empty canonical table of the same
        columns (renamed, nothing copied); else `Transaction.upsert_from`."""
        table = self.entity
        staged = self.persistent and self.name in self._created
        if staged and self._same_columns(tx) and not self._count(tx, table):
            tx.execute(f"ALTER TABLE {q(self.name)} DROP COLUMN _line")
            tx.execute(f"DROP TABLE {q(table)}")
            tx.execute(f"ALTER TABLE {q(self.name)} RENAME TO {q(table)}")
            self._created.discard(self.name)
            return UpsertCounts(inserted=self.rows, updated=0, unchanged=0)
        return tx.upsert_from(table, self.name, self.columns, compare, history)

    @staticmethod
    def _count(tx: Transaction, table: str) -> int:
        return int(tx.execute(f"SELECT count(*) FROM {q(table)}")[0][0])

    def _same_columns(self, tx: Transaction) -> bool:
        """Whether the stage has the canonical table's columns (names, types, order) and
        `_line` last."""

        def columns(name: str) -> list[tuple[str, str]]:
            found = tx.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE table_name = ? AND schema_name = 'main' AND NOT internal "
                "AND database_name = current_database() ORDER BY column_index",
                (name,),
            )
            return [(str(n), str(t)) for n, t in found]

        staged = columns(self.name)
        return staged[-1:] == [("_line", "BIGINT")] and staged[:-1] == columns(self.entity)

    def drop(self) -> None:
        self._pending = {}
        self._writer.close()
        self.rejects.drop()
        for name in (self.name, self._refused):
            if name:
                with contextlib.suppress(Exception):
                    self.con.execute(f"DROP TABLE IF EXISTS {q(name)}")
        ACTIVE_STAGES.discard(self.name)


def map_stream(
    store: Store,
    plan: StreamPlan,
    *,
    source_system: str,
    batch_id: str,
    rates: FxRates,
    columns_optional: bool,
    note: Note,
) -> MappedTable:
    """Map every block of a streamed file into a staged table; the result's `table` is
    empty and its `staged` holds the rows. Raises `NotStreamable` (the staged rows
    dropped) when a block shows the file must be read whole."""
    con = store.engine.con  # type: ignore[attr-defined]
    entity = plan.mapping.entity
    empty = not con.execute(f"SELECT count(*) FROM {q(entity)}").fetchone()[0]
    staged = StagedRows(con, entity, persistent=empty)
    path = plan.stream.path
    started = time.perf_counter()
    rows_in = 0
    values: dict[ValueKey, int] = {}
    details: dict[str, list[str]] = {}
    warnings: list[str] = []
    try:
        with few_threads(con):
            for raw, last in read_ahead(plan.stream.blocks()):
                mapped = map_table(
                    raw,
                    plan.mapping,
                    source_system=source_system,
                    batch_id=batch_id,
                    rates=rates,
                    columns_optional=columns_optional,
                    footer=last,
                    dedupe=False,
                    max_values=_BLOCK_VALUES,
                )
                if mapped.hashed:
                    raise NotStreamable("rows keyed by a hash of their values")
                staged.add(mapped)
                rows_in += mapped.rows_in
                staged.add_rejects(mapped.rejects)
                add_values(values, mapped.values, _BLOCK_VALUES)
                for column, detail in mapped.detected.items():
                    details.setdefault(column, []).append(detail)
                warnings += [w for w in [*raw.warnings, *mapped.warnings] if w not in warnings]
                seconds = max(time.perf_counter() - started, 1e-9)
                note(f"reading {path.name}: {rows_in:,} rows, {rows_in / seconds:,.0f} rows/s")
            staged.flush()
            staged.wait()  # the last block written with few threads
        if not staged.columns:  # no record after the header: read whole, as before
            raise NotStreamable("no data block")
        detected = merge_details(details)
        staged.refuse_duplicates(path.name)
        staged.rejects.finish()
    except BaseException:
        staged.drop()
        raise
    schema = TABLES[plan.mapping.entity].arrow_schema()
    return MappedTable(
        plan.mapping.entity,
        plan.mapping.label,
        schema.empty_table(),
        staged.rejects.sample,
        rows_in,
        detected,
        top_values(values),
        warnings,
        file=path.name,
        staged=staged,
        spool=staged.rejects,
        lines=[],
        given=None,
    )


def spool_rejects(store: Store, table: MappedTable) -> None:
    """Move the refused rows of a large file read whole (not streamable after all) into a
    `RejectSpool` of the workspace, as a streamed file's: memory keeps the first
    `reject_spool.SAMPLE` (`table.rejects`), the rejects file is written from the spool."""
    if table.spool is not None or not table.rejects:
        return
    if table.entity in ("fx_rates", "supplied_baselines"):  # small, checked whole
        return
    con = store.engine.con  # type: ignore[attr-defined]
    spool = RejectSpool(con, f"crmroi_rejects_{uuid.uuid4().hex[:12]}")
    try:
        for start in range(0, len(table.rejects), _SPOOL_ROWS):
            spool.add(table.rejects[start : start + _SPOOL_ROWS])
    except BaseException:
        spool.drop()
        raise
    spool.finish()
    table.spool, table.rejects = spool, spool.sample
