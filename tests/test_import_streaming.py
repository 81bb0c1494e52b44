"""Large files read in blocks and staged in the store give exactly the import of the file
read whole: rows, refusals (duplicates across blocks), summary, idempotence, no stage left.

CRMROI_STREAM_BYTES=0 streams every text file; CRMROI_STREAM_BLOCK_BYTES=64 cuts a
small file into blocks of one or two records, so every block boundary case is met.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import crmroi.ingest.mapped as files
from crmroi.ingest import staging, streaming
from crmroi.ingest.pipeline import ImportReport, import_files
from crmroi.ingest.summary import summary_json
from crmroi.store import Store
from crmroi.store import store as store_module
from crmroi.store.engines import DuckDBTransaction
from crmroi.store.store import STAGE_PREFIX
from crmroi.store.undo import undo_batch

MAPPING = """
source_system: t
tables:
  - entity: activities
    columns:
      activity_id: Id
      occurred_at: ActivityDate
      kind: {column: Type, map: {Call: call, Email: email}}
      rep_id: OwnerId
      account_id: AccountId
"""


def _export(folder: Path, encoding: str = "utf-8") -> Path:
    lines = ["Activities export", "Id,ActivityDate,Type,OwnerId,AccountId"]
    for i in range(60):
        kind = "Call" if i % 3 else "Email"
        lines.append(f"T{i % 41},2024-01-{1 + i % 28:02d},{kind},U{i % 3},A{i % 5}")
        if i == 20:
            lines.append("")  # a blank line inside the data
        if i == 30:
            lines.append('T90,2024-02-01,Call,"U\nwith a line break",A1')
    lines.append("T5,not a date,Call,U1,A1")  # the last T5 is refused: earlier T5s too
    lines.append("Tü,2024-03-01,Visit,U1,Ä")  # not a mapped kind: kept, counted as unmapped
    lines += ["", "Confidential"]  # a report footer
    path = folder / "tasks.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _import(folder: Path, csv: Path, name: str) -> tuple[ImportReport, pa.Table, int]:
    (folder / "m.yaml").write_text(MAPPING, encoding="utf-8")
    with Store.open(folder / name, create=True) as store:
        report = import_files(store, [csv], mapping=folder / "m.yaml")
        table = store.to_arrow("activities", order_by=["source_id"]).drop(["batch_id"])
        con: Any = store.engine.con  # type: ignore[attr-defined]
        left = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()
    return report, table, int(left[0])


def _streamed(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("CRMROI_STREAM_BYTES", "0")
    monkeypatch.setenv("CRMROI_STREAM_BLOCK_BYTES", "64")
    calls = {"streamed": 0, "read whole": 0}
    real = files.map_stream

    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            result = real(*args, **kwargs)
        except streaming.NotStreamable:
            calls["read whole"] += 1
            raise
        calls["streamed"] += 1
        return result

    monkeypatch.setattr(files, "map_stream", counted)
    return calls


def _same(whole: ImportReport, streamed: ImportReport) -> None:
    assert [(r.row, r.column, r.reason, r.value) for r in streamed.rejects] == [
        (r.row, r.column, r.reason, r.value) for r in whole.rejects
    ]
    assert summary_json(streamed.summary) == summary_json(whole.summary)
    for a, b in zip(whole.files, streamed.files, strict=True):
        assert (b.rows_in, b.rejected, b.inserted, b.updated, b.unchanged) == (
            a.rows_in,
            a.rejected,
            a.inserted,
            a.updated,
            a.unchanged,
        )
        assert (b.encoding, b.delimiter, b.detected, b.header) == (
            a.encoding,
            a.delimiter,
            a.detected,
            a.header,
        )


@pytest.mark.parametrize("flush_rows", [staging.FLUSH_ROWS, 1])
def test_streamed_import_equals_whole_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flush_rows: int
) -> None:
    """Into an empty workspace (the stage takes the canonical table's place), the blocks
    written at the end or each by the writer thread as it is mapped (`flush_rows` 1)."""
    csv = _export(tmp_path)
    whole, whole_rows, _ = _import(tmp_path, csv, "whole")
    calls = _streamed(monkeypatch)
    monkeypatch.setattr(staging, "FLUSH_ROWS", flush_rows)
    copies = _count_copies(monkeypatch)
    streamed, streamed_rows, left = _import(tmp_path, csv, "streamed")
    assert calls == {"streamed": 1, "read whole": 0}
    assert copies == [], "the staged rows were copied, not renamed"
    assert streamed_rows.equals(whole_rows)
    _same(whole, streamed)
    assert left == 0  # the staged rows are dropped after the import
    duplicates = [r for r in streamed.rejects if r.reason.startswith("duplicate id 'T5'")]
    assert [r.row for r in duplicates] == [8, 51]  # both earlier T5 rows, across blocks
    assert streamed_rows.num_rows == 41 + 1 + 1 - 1  # T0..T40, T90, Tü; T5 refused


def _count_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables `upsert_from` copies staged rows into (none when a stage is renamed)."""
    copies: list[str] = []
    real = DuckDBTransaction.upsert_from

    def counted(self: DuckDBTransaction, name: str, *args: Any, **kwargs: Any) -> Any:
        copies.append(name)
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(DuckDBTransaction, "upsert_from", counted)
    return copies


def _stages(store: Store) -> int:
    con: Any = store.engine.con  # type: ignore[attr-defined]
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, ?)", [STAGE_PREFIX]
    ).fetchone()
    return int(found[0])


def test_streamed_reimport_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first import renames its stage, the second (rows there) upserts: nothing
    changes; undoing the second then the first leaves the table as before each."""
    csv = _export(tmp_path)
    _streamed(monkeypatch)
    copies = _count_copies(monkeypatch)
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    with Store.open(tmp_path / "ws", create=True) as store:
        first = import_files(store, [csv], mapping=tmp_path / "m.yaml")
        loaded = store.to_arrow("activities", order_by=["source_id"])
        assert copies == []
        statements: list[str] = []
        real = DuckDBTransaction.execute

        def logged(self: DuckDBTransaction, sql: str, params: tuple[Any, ...] = ()) -> Any:
            statements.append(sql)
            return real(self, sql, params)

        monkeypatch.setattr(DuckDBTransaction, "execute", logged)
        again = import_files(store, [csv], mapping=tmp_path / "m.yaml")
        assert copies == ["activities"]
        writes = [s for s in statements if s.startswith(('INSERT INTO "activities"', "DELETE"))]
        assert writes == []  # every row there, unchanged: nothing written, no join to insert
        assert store.count("activities") == first.rows_loaded
        assert _stages(store) == 0
        undo_batch(store, again.batch_id)
        assert store.to_arrow("activities", order_by=["source_id"]).equals(loaded)
        undo_batch(store, first.batch_id)
        assert store.count("activities") == 0
    assert (again.files[0].inserted, again.files[0].updated) == (0, 0)
    assert again.files[0].unchanged == first.rows_loaded


def test_a_stage_left_by_a_killed_import_is_dropped_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage no import of this process is writing is dropped when the workspace is
    opened; one being written (here: registered as such) is kept."""
    monkeypatch.setattr(store_module, "ACTIVE_STAGES", {f"{STAGE_PREFIX}running"})
    with Store.open(tmp_path / "ws", create=True) as store:
        con: Any = store.engine.con  # type: ignore[attr-defined]
        con.execute(f'CREATE TABLE "{STAGE_PREFIX}0123" AS SELECT 1 AS _line')
        con.execute(f'CREATE TABLE "{STAGE_PREFIX}running" AS SELECT 1 AS _line')
        con.execute("CREATE TABLE crmroi_kept AS SELECT 1 AS x")  # not a stage: kept
    with Store.open(tmp_path / "ws") as store:
        assert _stages(store) == 1
        con = store.engine.con  # type: ignore[attr-defined]
        assert con.execute("SELECT count(*) FROM crmroi_kept").fetchone() == (1,)


def test_a_stage_of_other_columns_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A canonical table whose columns differ from the stage's (e.g. in another order)
    is not replaced: the rows are copied into it, its columns kept."""
    csv = _export(tmp_path)
    _, whole_rows, _ = _import(tmp_path, csv, "whole")
    _streamed(monkeypatch)
    copies = _count_copies(monkeypatch)
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    with Store.open(tmp_path / "ws", create=True) as store:
        con: Any = store.engine.con  # type: ignore[attr-defined]
        con.execute("ALTER TABLE activities RENAME TO activities_old")
        con.execute(
            "CREATE TABLE activities AS SELECT COLUMNS(c -> c != 'activity_id'), activity_id "
            "FROM activities_old"
        )
        import_files(store, [csv], mapping=tmp_path / "m.yaml")
        rows = store.to_arrow("activities", order_by=["source_id"])
        assert rows.column_names[-1] == "activity_id"
        assert copies == ["activities"]
        assert _stages(store) == 0
    assert rows.drop(["batch_id"]).select(whole_rows.column_names).equals(whole_rows)


def test_file_that_changes_encoding_after_the_sample_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASCII in the sample, cp1252 further on: read whole, as before streaming."""
    csv = _export(tmp_path, "cp1252")
    whole, whole_rows, _ = _import(tmp_path, csv, "whole")
    calls = _streamed(monkeypatch)
    monkeypatch.setattr(streaming, "SAMPLE_BYTES", 200)
    streamed, streamed_rows, left = _import(tmp_path, csv, "streamed")
    assert calls == {"streamed": 0, "read whole": 1}
    assert streamed_rows.equals(whole_rows)
    _same(whole, streamed)
    assert left == 0


def test_record_blocks_cut_outside_quotes(tmp_path: Path) -> None:
    """Blocks end at line breaks outside quotes, so no record is split."""
    data = b'a,b\n1,"x\n""y""\nz"\n2,w\n' * 50
    path = tmp_path / "q.csv"
    path.write_bytes(data)
    with path.open("rb") as handle:
        blocks = list(streaming._record_blocks(handle, len(data), 7))
    assert b"".join(b for b, _ in blocks) == data
    assert all(b.count(b'"') % 2 == 0 for b, _ in blocks)
    assert [last for _, last in blocks][-1] is True


def test_a_later_file_failing_drops_the_staged_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _export(tmp_path)
    second = tmp_path / "tasks2.csv"
    second.write_bytes(first.read_bytes())
    _streamed(monkeypatch)
    real = files.map_stream
    calls: list[int] = []

    def fail_second(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("the second file")
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "map_stream", fail_second)
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    with Store.open(tmp_path / "ws", create=True) as store:
        with pytest.raises(MemoryError):
            import_files(store, [first, second], mapping=tmp_path / "m.yaml")
        con: Any = store.engine.con  # type: ignore[attr-defined]
        left = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()
        assert left[0] == 0
        assert store.count("activities") == 0
