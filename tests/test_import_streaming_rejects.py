"""A streamed file's refused rows are spooled to the workspace as blocks are mapped, not
held in memory: the rejects file is byte for byte the one of the file read whole (order,
formula neutralisation, duplicates across blocks), for a loaded, a strict and an
all-refused import; memory holds the counts and the first `SAMPLE` rejects only. So do
the rejects of a large file that is read whole after all (UTF-16, a NUL character).

CRMROI_STREAM_BYTES=0 streams every text file; CRMROI_STREAM_BLOCK_BYTES=64 cuts the file
into blocks of one or two records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import crmroi.ingest.mapped as files
from crmroi.errors import UserError
from crmroi.ingest import reject_spool
from crmroi.ingest.pipeline import ImportReport, import_files
from crmroi.ingest.reject_spool import RejectSpool
from crmroi.store import Store

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
SAMPLE = 25  # the sample held in memory, small so that most rejects are spooled only


def _export(folder: Path, rows: int = 400, good: bool = True) -> Path:
    """Rows refused for a bad date (some formula-like), a missing id, and duplicate ids
    across blocks; with `good`, most rows load."""
    lines = ["Id,ActivityDate,Type,OwnerId,AccountId"]
    for i in range(rows):
        date = f"2024-01-{1 + i % 28:02d}" if good and i % 3 else ["=cmd()", "-1", "x"][i % 3]
        ident = "" if i % 17 == 0 else f"T{i % 150}"
        lines.append(f"{ident},{date},Call,@U{i % 4},A{i % 5}")
    path = folder / "tasks.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(
    folder: Path, csv: Path, name: str, *, strict: bool = False
) -> tuple[ImportReport | str, bytes, int, int]:
    """(report or error text, rejects file, rows stored, temporary tables left)."""
    (folder / "m.yaml").write_text(MAPPING, encoding="utf-8")
    rejects = folder / f"{name}-rejects.csv"
    with Store.open(folder / name, create=True) as store:
        try:
            out: ImportReport | str = import_files(
                store, [csv], mapping=folder / "m.yaml", strict=strict, rejects_path=rejects
            )
        except UserError as exc:
            out = str(exc).replace(rejects.name, "REJECTS.csv")
        con: Any = store.engine.con  # type: ignore[attr-defined]
        left = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()
        stored = store.count("activities")
    return out, rejects.read_bytes(), stored, int(left[0])


def _stream(monkeypatch: pytest.MonkeyPatch) -> list[RejectSpool]:
    """Stream every file in tiny blocks; returns the spools used (checked after each add)."""
    monkeypatch.setenv("CRMROI_STREAM_BYTES", "0")
    monkeypatch.setenv("CRMROI_STREAM_BLOCK_BYTES", "64")
    spools: list[RejectSpool] = []
    real_add = RejectSpool.add

    def add(self: RejectSpool, rejects: Any) -> None:
        real_add(self, rejects)
        if self not in spools:
            spools.append(self)
        held = [v for v in vars(self).values() if isinstance(v, (list, dict, set, tuple))]
        assert all(len(v) <= SAMPLE for v in held), "a spool holds rejects in memory"

    monkeypatch.setattr(RejectSpool, "add", add)
    monkeypatch.setattr(reject_spool, "SAMPLE", SAMPLE)
    return spools


def _streamed_count(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"streamed": 0}
    real = files.map_stream

    def counted(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls["streamed"] += 1
        return result

    monkeypatch.setattr(files, "map_stream", counted)
    return calls


def test_streamed_rejects_file_equals_whole_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _export(tmp_path)
    whole, whole_file, whole_rows, _ = _import(tmp_path, csv, "whole")
    spools = _stream(monkeypatch)
    calls = _streamed_count(monkeypatch)
    streamed, streamed_file, streamed_rows, left = _import(tmp_path, csv, "streamed")
    assert calls == {"streamed": 1}
    assert isinstance(whole, ImportReport) and isinstance(streamed, ImportReport)
    assert streamed_file == whole_file
    text = whole_file.decode("utf-8-sig")
    assert "'=cmd()" in text  # formula neutralised
    assert "duplicate id" in text
    assert streamed.rejects_total == whole.rejects_total == len(whole.rejects) > 10 * SAMPLE
    assert len(streamed.rejects) == SAMPLE  # only the first rejects in memory
    assert streamed.rejects == whole.rejects[:SAMPLE]
    assert streamed.rows_rejected == whole.rows_rejected
    assert streamed_rows == whole_rows > 0
    assert left == 0  # staged rows and spooled rejects dropped
    assert spools and all(len(s.sample) <= SAMPLE for s in spools)


def test_strict_streamed_import_names_every_refused_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _export(tmp_path)
    whole, whole_file, _, _ = _import(tmp_path, csv, "whole", strict=True)
    _stream(monkeypatch)
    streamed, streamed_file, stored, left = _import(tmp_path, csv, "streamed", strict=True)
    assert isinstance(streamed, str) and "--strict" in streamed
    assert streamed == whole
    assert streamed_file == whole_file
    assert (stored, left) == (0, 0)


def test_all_refused_streamed_import_says_the_most_common_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _export(tmp_path, good=False)
    whole, whole_file, _, _ = _import(tmp_path, csv, "whole")
    _stream(monkeypatch)
    streamed, streamed_file, stored, left = _import(tmp_path, csv, "streamed")
    assert isinstance(streamed, str) and "most often" in streamed
    assert streamed == whole
    assert streamed_file == whole_file
    assert (stored, left) == (0, 0)


@pytest.mark.parametrize("how", ["utf-16", "late NUL"])
def test_rejects_of_a_file_read_whole_after_all_are_spooled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A large file that cannot be streamed (UTF-16: found on opening; a NUL character
    in a late block: found while mapping) is read whole, its rejects spooled too."""
    csv = _export(tmp_path)
    if how == "utf-16":
        csv.write_text(csv.read_text(encoding="utf-8"), encoding="utf-16")
    else:
        text = csv.read_text(encoding="utf-8").splitlines()
        text[-3] = text[-3].replace("Call", "Ca\x00ll")
        csv.write_text("\n".join(text) + "\n", encoding="utf-8")
    whole, whole_file, whole_rows, _ = _import(tmp_path, csv, "whole")
    spools = _stream(monkeypatch)
    calls = _streamed_count(monkeypatch)
    streamed, streamed_file, streamed_rows, left = _import(tmp_path, csv, "streamed")
    assert calls == {"streamed": 0}  # read whole
    assert isinstance(whole, ImportReport) and isinstance(streamed, ImportReport)
    assert streamed_file == whole_file
    assert streamed.rejects_total == whole.rejects_total == len(whole.rejects) > 10 * SAMPLE
    assert streamed.rejects == whole.rejects[:SAMPLE]
    assert streamed.rows_rejected == whole.rows_rejected
    assert streamed_rows == whole_rows > 0
    assert left == 0
    assert spools and all(len(s.sample) <= SAMPLE for s in spools)
