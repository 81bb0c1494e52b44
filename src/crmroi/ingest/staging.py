"""A large file's mapped rows kept in the DuckDB store while it is read, not in memory.

Each block of a streamed file (`crmroi.ingest.streaming`) is mapped on its own and its
loaded rows appended to a temporary table of the workspace's DuckDB connection (which spills
to disk past its memory limit). Checks over the whole file run there in SQL: duplicate ids
(all but the last row refused, as for a file read whole), then the summary's date ranges,
money totals and link counts. The import's single transaction copies the table into the
canonical one (`Transaction.upsert_from`); the table is dropped afterwards, and a killed
process leaves nothing behind (temporary tables die with the connection).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from crmroi.ingest.columns import MAX_VALUES_SHOWN, ValueCount
from crmroi.ingest.currency import FxRates
from crmroi.ingest.headers import check_duplicates, mapping_names
from crmroi.ingest.mapping import MappingFile, TableMapping, choose_table_mapping
from crmroi.ingest.reasons import duplicate_id
from crmroi.ingest.reject_spool import RejectSpool
from crmroi.ingest.rejects import Reject
from crmroi.ingest.streaming import (
    BLOCK_BYTES,
    NotStreamable,
    StreamedText,
    open_stream,
    read_ahead,
)
from crmroi.ingest.summary import LINKS, DateRange, LinkCount, MoneyTotal
from crmroi.ingest.transform import MappedTable, map_table
from crmroi.store.engines import DuckDBEngine, q
from crmroi.store.schema import ID_COLUMN, TABLES
from crmroi.store.store import Store

STREAM_BYTES = 64 << 20
"""Text files at least this large are streamed (smaller ones are read whole); the
environment's CRMROI_STREAM_BYTES wins (0 streams every text file, as tests do)."""
MEMORY_LIMIT = "512MB"
"""DuckDB's memory limit while an import streams (past it, staged rows spill to disk)."""
THREADS = 1
"""DuckDB's threads while an import streams: its inserts of staged blocks and the final
copy take about half the CPU time on one thread than on two, and Python maps blocks
meanwhile (`benchmarks/bench_import.py`)."""

Note = Callable[[str], None]
_ValueKey = tuple[str, str, str, str | None, bool]
_BOOLEANS = re.compile(r"booleans \((\d+) true, (\d+) false\)")
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
    """DuckDB's memory limit set to `MEMORY_LIMIT` and its threads to `THREADS` for the
    block, then restored."""
    con = store.engine.con  # type: ignore[attr-defined]
    before = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchone()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET threads = {THREADS}")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            con.execute(f"SET memory_limit = '{before[0]}'")
            con.execute(f"SET threads = {int(before[1])}")


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
    """The loaded rows of one streamed file, in a temporary DuckDB table.

    Blocks are appended a few at a time (`FLUSH_ROWS` rows or `FLUSH_BYTES`): DuckDB
    spends about three times the CPU on many small inserts as on a few large ones."""

    con: Any
    entity: str
    name: str = field(default_factory=lambda: f"crmroi_import_{uuid.uuid4().hex[:12]}")
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    _refused: str = ""
    rejects: RejectSpool = field(init=False)
    """the file's refused rows, spooled as its blocks are mapped"""
    _pending: dict[str, list[pa.Table]] = field(default_factory=dict)
    _created: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rejects = RejectSpool(self.con, self.name + "_rejects")

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
        """Write the blocks added since the last flush to the tables."""
        pending, self._pending = self._pending, {}
        for name, tables in pending.items():
            self._append(name, pa.concat_tables(tables))

    def _append(self, name: str, table: pa.Table) -> None:
        view = name + "_arrow"
        self.con.register(view, table)
        try:
            if name in self._created:
                self.con.execute(f"INSERT INTO {q(name)} SELECT * FROM {q(view)}")
            else:
                self.con.execute(f"CREATE TEMP TABLE {q(name)} AS SELECT * FROM {q(view)}")
                self._created.add(name)
        finally:
            self.con.unregister(view)

    def refuse_duplicates(self, file: str) -> None:
        """All but the last row of each id refused (loaded or refused rows alike; spooled
        in `rejects`), and removed from the staged rows; as `transform._refuse_duplicates`
        over a whole file."""
        self.flush()
        self.rejects.blocks_done()
        if not self._refused:  # no block staged (refused rows' ids count too)
            return
        every = (
            f"SELECT source_id AS key FROM {q(self.name)} WHERE source_id IS NOT NULL "
            f"UNION ALL SELECT key FROM {q(self._refused)}"
        )
        repeated = self.con.execute(
            f"SELECT count(*) FROM ({every}) GROUP BY key HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        if not repeated:  # the common case: one hash aggregate, no window over every row
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

    def drop(self) -> None:
        self._pending = {}
        self.rejects.drop()
        for name in (self.name, self._refused):
            if name:
                with contextlib.suppress(Exception):
                    self.con.execute(f"DROP TABLE IF EXISTS {q(name)}")


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
    staged = StagedRows(con, plan.mapping.entity)
    path = plan.stream.path
    started = time.perf_counter()
    rows_in = 0
    values: dict[_ValueKey, int] = {}
    details: dict[str, list[str]] = {}
    warnings: list[str] = []
    try:
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
            staged.rejects.add(mapped.rejects)
            _add_values(values, mapped.values)
            for column, detail in mapped.detected.items():
                details.setdefault(column, []).append(detail)
            warnings += [w for w in [*raw.warnings, *mapped.warnings] if w not in warnings]
            seconds = max(time.perf_counter() - started, 1e-9)
            note(f"reading {path.name}: {rows_in:,} rows, {rows_in / seconds:,.0f} rows/s")
        if not staged.columns:  # no record after the header: read whole, as before
            raise NotStreamable("no data block")
        detected = _merge_details(details)
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
        _top_values(values),
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


def _add_values(values: dict[_ValueKey, int], block: list[ValueCount]) -> None:
    """Add one block's value counts; a column with too many distinct values to count
    exactly block by block is read whole."""
    per_column: dict[str, int] = {}
    for v in block:
        per_column[v.column] = per_column.get(v.column, 0) + 1
        key = (v.column, v.source, v.value, v.canonical, v.mapped)
        values[key] = values.get(key, 0) + v.count
    if any(n >= _BLOCK_VALUES for n in per_column.values()):
        raise NotStreamable("too many distinct values in a mapped column")


def _top_values(values: dict[_ValueKey, int]) -> list[ValueCount]:
    """The merged counts as `ColumnNotes.values` lists them: by column, most frequent first."""
    columns: dict[str, list[ValueCount]] = {}
    for (column, source, value, canonical, mapped), n in values.items():
        columns.setdefault(column, []).append(
            ValueCount(column, source, value, canonical, n, mapped)
        )
    out: list[ValueCount] = []
    for counts in columns.values():
        out += sorted(counts, key=lambda v: -v.count)[:MAX_VALUES_SHOWN]
    return out


def _merge_details(details: dict[str, list[str]]) -> dict[str, str]:
    """One detection note per column over all blocks. Blocks that decided a number's
    decimal separator or a date's order differently make the file be read whole (the
    decision is the whole column's); boolean counts are added up."""
    out: dict[str, str] = {}
    for column, notes in details.items():
        booleans = [_BOOLEANS.fullmatch(n) for n in notes]
        if all(booleans):
            true = sum(int(m.group(1)) for m in booleans if m)
            false = sum(int(m.group(2)) for m in booleans if m)
            out[column] = f"booleans ({true} true, {false} false)"
            continue
        seen = {n.split(" (")[0] for n in notes if n != "no dates"}
        if len(seen) > 1 or any("万" in n for n in notes):
            raise NotStreamable(f"blocks read {column} differently: {sorted(seen)}")
        decided = [n for n in notes if "ambiguous" not in n and n != "no dates"]
        out[column] = (decided or notes)[0]
    return out
