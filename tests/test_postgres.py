"""The same import against a real PostgreSQL server (skipped when none is configured)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmroi.errors import ImportAborted
from crmroi.ingest.pipeline import import_files
from crmroi.store import Store
from crmroi.store.engines import PostgresTransaction

pytestmark = pytest.mark.postgres

MAPPING = """
source_system: pg_test
tables:
  - entity: deals
    columns:
      deal_id: id
      account_id: account
      amount: amount
      closed_at: closed
      is_won: {column: stage, map: {won: true}, default: false}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "id;account;amount;closed;stage\n"
        "1;ООО «Ромашка»;1 234,50;05.03.2024;won\n"
        "2;北京科技;99,9;06.03.2024;lost\n"
        "3;شرکت پارس;abc;07.03.2024;won\n",
        encoding="utf-8",
    )
    return mapping, deals


def test_import_into_postgres_is_idempotent(postgres_url: str, files: tuple[Path, Path]) -> None:
    mapping, deals = files
    with Store.open(postgres_url) as store:
        assert store.engine.name == "postgres"
        first = import_files(store, [deals], mapping=mapping)
        assert (first.rows_loaded, first.rows_rejected) == (2, 1)
        rows = store.to_arrow("deals", order_by=["deal_id"]).to_pylist()
        assert [r["account_id"] for r in rows] == ["ООО «Ромашка»", "北京科技"]
        assert rows[0]["amount"] == pytest.approx(1234.5)
        assert str(rows[0]["closed_at"])[:10] == "2024-03-05"
        second = import_files(store, [deals], mapping=mapping)
        assert second.files[0].unchanged == 2 and second.files[0].inserted == 0
        assert store.to_arrow("deals", order_by=["deal_id"]).to_pylist() == rows
        assert store.count("import_batches") == 2


def test_postgres_rolls_back_a_failed_import(
    postgres_url: str, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping, deals = files

    def broken(self: PostgresTransaction, *args: object) -> None:
        self.execute("SELECT * FROM no_such_table")

    with Store.open(postgres_url) as store:
        monkeypatch.setattr(PostgresTransaction, "upsert", broken)
        with pytest.raises(ImportAborted):
            import_files(store, [deals], mapping=mapping)
        assert store.count("deals") == 0
        statuses = [b["status"] for b in store.to_arrow("import_batches").to_pylist()]
        assert len(statuses) == 1 and statuses[0].startswith("failed")
