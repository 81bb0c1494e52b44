"""A streamed file's refused rows kept in the workspace's DuckDB store, not in memory.

Each block's rejects are appended, as they are mapped, to a temporary table of the import's
DuckDB connection (which spills to disk past its memory limit, and dies with the process:
a killed import leaves nothing in the workspace). Memory holds only the counts and the
first `SAMPLE` rejects in row order (what the CLI, JSON summary and web show). The rejects
CSV is written from the table at commit, in the order a file read whole gives: by row,
and within a row in the order the rows were refused (duplicate ids last). A reason that
is a message (`crmroi.messages.Said`) keeps its code and parameters in the table
(`Message.to_record`), so a spooled reject reads back as the file read whole gives it:
the same English text, code and wording in the reader's language.
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from crmroi.ingest.rejects import Reject, common_reason, common_reason_text
from crmroi.messages import Message, Said
from crmroi.store.engines import q

SAMPLE = 1000
"""Rejects of a streamed file held in memory (the first, in row order)."""
_FETCH = 10_000  # rows fetched at a time when the CSV is written


@dataclass
class RejectSpool:
    """The refused rows of one streamed file, in a temporary table of `con`."""

    con: Any
    name: str
    total: int = 0
    """rejects spooled (problems; a row may have several)"""
    sample: list[Reject] = field(default_factory=list)
    """the first `SAMPLE` rejects in file order"""
    _blocks_done: bool = False
    _tail: list[Reject] = field(default_factory=list)  # first refused duplicates

    def add(self, rejects: Iterable[Reject]) -> None:
        """Spool one block's rejects (blocks come in file order; sorted by row here)."""
        block = sorted(rejects, key=lambda r: r.row)
        if not block:
            return
        if self._blocks_done:
            self._tail += block[: max(SAMPLE - len(self._tail), 0)]
        else:
            self.sample += block[: max(SAMPLE - len(self.sample), 0)]
        table = pa.table(
            {
                "row": pa.array([r.row for r in block], pa.int64()),
                "seq": pa.array(range(self.total, self.total + len(block)), pa.int64()),
                "file": pa.array([r.file for r in block], pa.string()),
                "col": pa.array([r.column for r in block], pa.string()),
                "reason": pa.array([str(r.reason) for r in block], pa.string()),
                "value": pa.array([str(r.value) for r in block], pa.string()),
                "common": pa.array([common_reason_text(r) for r in block], pa.string()),
                "said": pa.array([_record(r.reason) for r in block], pa.string()),
                "common_said": pa.array([_record(common_reason(r)) for r in block], pa.string()),
            }
        )
        view = self.name + "_arrow"
        self.con.register(view, table)
        try:
            verb = "INSERT INTO" if self.total else "CREATE TEMP TABLE"
            self.con.execute(
                f"{verb} {q(self.name)} {'' if self.total else 'AS'} SELECT * FROM {q(view)}"
            )
        finally:
            self.con.unregister(view)
        self.total += len(block)

    def blocks_done(self) -> None:
        """Every block is spooled; what is added next (refused duplicate ids) comes after
        the blocks' rejects of the same row, as in a stable sort of a whole file's."""
        self._blocks_done = True

    def finish(self) -> None:
        """Merge the first refused duplicates into the sample (in row order)."""
        merged = heapq.merge(self.sample, self._tail, key=lambda r: r.row)
        self.sample = [r for _, r in zip(range(SAMPLE), merged, strict=False)]
        self._tail = []

    @property
    def rows(self) -> int:
        """Distinct file rows refused."""
        if not self.total:
            return 0
        return int(
            self.con.execute(f"SELECT count(DISTINCT row) FROM {q(self.name)}").fetchone()[0]
        )

    def __iter__(self) -> Iterator[Reject]:
        """Every reject, by row (ties in the order they were refused)."""
        if not self.total:
            return
        cur = self.con.execute(
            f"SELECT file, row, col, reason, value, said FROM {q(self.name)} ORDER BY row, seq"
        )
        while batch := cur.fetchmany(_FETCH):
            for file, row, col, reason, value, said in batch:
                yield Reject(file, int(row), col, _reason(reason, said), value)

    def most_common(self) -> tuple[str, int] | None:
        """`rejects.most_common_reason` of every spooled reject."""
        if not self.total:
            return None
        found = self.con.execute(
            f"SELECT common, count(DISTINCT row) AS n, "
            f"arg_min(common_said, row::HUGEINT * 4294967296 + seq) FROM {q(self.name)} "
            f"GROUP BY common ORDER BY n DESC, min(row::HUGEINT * 4294967296 + seq) LIMIT 1"
        ).fetchone()
        return _reason(str(found[0]), found[2]), int(found[1])

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.con.execute(f"DROP TABLE IF EXISTS {q(self.name)}")


def _record(reason: str) -> str | None:
    """The message a reason remembers, as JSON text (None for plain text)."""
    return reason.message.to_record() if isinstance(reason, Said) else None


def _reason(text: str, record: str | None) -> str:
    """A spooled reason: the message it was (same English `text`), else the text."""
    if record is None:
        return text
    said = Said(Message.from_record(record))
    return said if said == text else text
