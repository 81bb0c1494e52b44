"""Space after a failed import (issue 17): a rolled-back import gives its space back, so
the import after one that failed on a full disk is not refused for the same reason."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from crmroi.errors import ImportAborted
from crmroi.ingest.mapping import parse_mapping
from crmroi.ingest.pipeline import ImportReport, import_files
from crmroi.store import Store
from crmroi.store.engines import Transaction

MAPPING = parse_mapping(
    """
source_system: space
tables:
  - entity: deals
    columns: {deal_id: Deal, account_id: Account, amount: Amount, closed_at: Closed,
              is_won: {column: Won, map: {yes: true, no: false}}}
""",
    "map.yaml",
)
ROWS = 600_000  # several of DuckDB's row groups: written to the file before the commit


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("workspace.duckdb*"))


def _rolled_back_insert(store: Store) -> None:
    rows = pa.table({"i": range(ROWS), "s": [f"row {i}" for i in range(ROWS)]})
    with pytest.raises(OSError), store.transaction() as tx:
        tx.append("big", rows)  # as an import writes its rows
        raise OSError(28, "No space left on device")


def test_space_of_rolled_back_rows_is_given_back(workspace: Store) -> None:
    folder = workspace.folder
    assert folder is not None
    with workspace.transaction() as tx:
        tx.execute("CREATE TABLE big (i BIGINT, s VARCHAR)")
    workspace.reclaim_space()
    empty = _size(folder)
    _rolled_back_insert(workspace)
    workspace.set_settings(note="the failed import's log entry")
    kept = _size(folder) - empty  # DuckDB keeps the blocks it wrote ...
    workspace.reclaim_space()
    left = _size(folder) - empty  # ... until a checkpoint after a write frees them
    assert kept > 1_000_000, kept
    assert left < kept / 4, (kept, left)


def test_a_failed_import_logs_the_failure_then_reclaims_space(
    workspace: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal,Account,Amount,Closed,Won\n1,acme,5,2024-01-20,yes\n")
    order: list[str] = []
    monkeypatch.setattr(Store, "reclaim_space", lambda self: order.append("reclaim"))

    def disk_full(tx: Transaction, report: ImportReport) -> None:
        order.append("write")
        raise OSError(28, "No space left on device")

    with pytest.raises(ImportAborted, match="No space left on device"):
        import_files(workspace, [deals], mapping=MAPPING, on_commit=disk_full)
    assert order == ["write", "reclaim"]
    assert workspace.count("deals") == 0
    status = workspace.table("import_batches").status.execute().tolist()
    assert [s[:7] for s in status] == ["failed:"]
