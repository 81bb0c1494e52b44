"""Undo of an import batch: the workspace exactly as it was before the batch."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.ingest.pipeline import import_files
from crmroi.store import TABLES, Store
from crmroi.store.undo import UndoRefused, list_batches, undo_batch, undo_table

MAPPING = """
source_system: undo_test
tables:
  - entity: deals
    files: ["deals*.csv"]
    columns:
      deal_id: id
      account_id: account
      amount: amount
      closed_at: closed
      stage: stage
      is_won: {column: stage, map: {won: true}, default: false}
  - entity: accounts
    files: ["accounts*.csv"]
    columns:
      account_id: id
      name: name
      segment: segment
"""


def deals_csv(folder: Path, name: str, rows: list[tuple[str, str, str]]) -> Path:
    """A deals file: (id, amount, stage) per row, closed on 05.03.2024, decimal commas."""
    path = folder / name
    lines = ["id;account;amount;closed;stage"]
    lines += [f"{i};Клиент {i};{amount};05.03.2024;{stage}" for i, amount, stage in rows]
    path.write_text("\n".join(lines) + "\n", encoding="cp1251")
    return path


def accounts_csv(folder: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    path = folder / name
    path.write_text("id,name,segment\n" + "".join(f"{i},{n},smb\n" for i, n in rows))
    return path


def snapshot(store: Store) -> dict[str, pa.Table]:
    """Every canonical table, sorted by its lineage key (for exact comparisons)."""
    return {name: store.to_arrow(name, order_by=["source_system", "source_id"]) for name in TABLES}


def assert_same(store: Store, before: dict[str, pa.Table]) -> None:
    after = snapshot(store)
    for name, table in before.items():
        assert after[name].equals(table), (name, after[name].to_pylist(), table.to_pylist())


def history_rows(store: Store, name: str) -> int:
    with store.transaction() as tx:
        return int(tx.execute(f'SELECT count(*) FROM "{undo_table(name)}"')[0][0])


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


@pytest.fixture
def store(workspace: Store) -> Store:
    workspace.set_settings(base_currency="RUB")
    return workspace


def test_undo_of_an_insert_only_batch(store: Store, mapping: Path, tmp_path: Path) -> None:
    first = deals_csv(tmp_path, "deals1.csv", [("1", "1 234,50", "won"), ("2", "10", "lost")])
    import_files(store, [first], mapping=mapping)
    before = snapshot(store)
    second = deals_csv(tmp_path, "deals2.csv", [("3", "7,25", "won")])
    accounts = accounts_csv(tmp_path, "accounts.csv", [("A1", "Alpha")])
    report = import_files(store, [second, accounts], mapping=mapping)
    assert store.count("deals") == 3 and store.count("accounts") == 1
    undone = undo_batch(store, report.batch_id)
    assert undone.deleted == {"accounts": 1, "deals": 1}
    assert undone.restored == {"accounts": 0, "deals": 0}
    assert_same(store, before)
    statuses = {b.batch_id: b.status for b in list_batches(store)}
    assert statuses[report.batch_id] == "undone"


def test_undo_restores_the_rows_a_batch_replaced(
    store: Store, mapping: Path, tmp_path: Path
) -> None:
    first = deals_csv(tmp_path, "deals1.csv", [("1", "100", "open"), ("2", "200", "open")])
    import_files(store, [first], mapping=mapping)
    before = snapshot(store)
    changed = deals_csv(
        tmp_path, "deals2.csv", [("1", "150", "won"), ("2", "200", "open"), ("3", "5", "lost")]
    )
    report = import_files(store, [changed], mapping=mapping)
    assert (report.files[0].inserted, report.files[0].updated) == (1, 1)
    assert report.files[0].unchanged == 1
    assert history_rows(store, "deals") == 1
    undone = undo_batch(store, report.batch_id)
    assert undone.deleted == {"deals": 2} and undone.restored == {"deals": 1}
    assert_same(store, before)
    assert history_rows(store, "deals") == 0


def test_undo_is_refused_while_a_later_batch_changed_the_same_rows(
    store: Store, mapping: Path, tmp_path: Path
) -> None:
    empty = snapshot(store)
    first = import_files(
        store, [deals_csv(tmp_path, "deals1.csv", [("1", "100", "open")])], mapping=mapping
    )
    after_first = snapshot(store)
    second = import_files(
        store, [deals_csv(tmp_path, "deals2.csv", [("1", "300", "won")])], mapping=mapping
    )
    with pytest.raises(UndoRefused, match=f"later batch\\(es\\) {second.batch_id}"):
        undo_batch(store, first.batch_id)
    undo_batch(store, second.batch_id)
    assert_same(store, after_first)
    undo_batch(store, first.batch_id)
    assert_same(store, empty)


def test_a_later_batch_leaving_rows_unchanged_does_not_block_undo(
    store: Store, mapping: Path, tmp_path: Path
) -> None:
    rows = [("1", "100", "open")]
    first = import_files(store, [deals_csv(tmp_path, "deals1.csv", rows)], mapping=mapping)
    import_files(store, [deals_csv(tmp_path, "deals2.csv", rows)], mapping=mapping)
    undo_batch(store, first.batch_id)
    assert store.count("deals") == 0


def test_two_files_of_one_batch_writing_the_same_row(
    store: Store, mapping: Path, tmp_path: Path
) -> None:
    import_files(
        store, [deals_csv(tmp_path, "deals0.csv", [("1", "100", "open")])], mapping=mapping
    )
    before = snapshot(store)
    first = deals_csv(tmp_path, "deals1.csv", [("1", "200", "open")])
    second = deals_csv(tmp_path, "deals2.csv", [("1", "300", "won")])
    report = import_files(store, [first, second], mapping=mapping)
    assert store.to_arrow("deals").column("amount").to_pylist() == [300.0]
    undo_batch(store, report.batch_id)
    assert_same(store, before)


def test_undo_refuses_unknown_undone_failed_and_demo_batches(
    store: Store, mapping: Path, tmp_path: Path
) -> None:
    with pytest.raises(UndoRefused, match="no import batch"):
        undo_batch(store, "nope")
    report = import_files(
        store, [deals_csv(tmp_path, "deals1.csv", [("1", "1", "won")])], mapping=mapping
    )
    undo_batch(store, report.batch_id)
    with pytest.raises(UndoRefused, match="already undone"):
        undo_batch(store, report.batch_id)
    with pytest.raises(Exception):  # noqa: B017 - an unreadable file records a failed batch
        import_files(store, [tmp_path / "missing.csv"], mapping=mapping)
    failed = [b for b in list_batches(store) if b.status.startswith("failed")]
    assert failed and not failed[0].undoable
    with pytest.raises(UndoRefused, match="did not load"):
        undo_batch(store, failed[0].batch_id)


def test_demo_batches_cannot_be_undone(small_demo_folder: Path) -> None:
    with Store.open(small_demo_folder) as store:
        [demo] = list_batches(store)
        assert not demo.undoable
        with pytest.raises(UndoRefused, match="without undo history"):
            undo_batch(store, demo.batch_id)


def test_cli_lists_and_undoes(store: Store, mapping: Path, tmp_path: Path) -> None:
    report = import_files(
        store, [deals_csv(tmp_path, "deals1.csv", [("1", "1", "won")])], mapping=mapping
    )
    location = store.location
    store.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["undo", location], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert report.batch_id[:20] in listed.output
    done = runner.invoke(app, ["undo", location, report.batch_id])
    assert done.exit_code == 0, done.output
    assert "deals" in done.output
    again = runner.invoke(app, ["undo", location, report.batch_id])
    assert again.exit_code != 0
    assert isinstance(again.exception, UndoRefused)


@pytest.mark.postgres
def test_undo_on_postgres(postgres_url: str, mapping: Path, tmp_path: Path) -> None:
    with Store.open(postgres_url) as store:
        store.set_settings(base_currency="RUB")
        empty = snapshot(store)
        first = import_files(
            store,
            [deals_csv(tmp_path, "deals1.csv", [("1", "1 234,50", "open"), ("2", "9", "lost")])],
            mapping=mapping,
        )
        after_first = snapshot(store)
        second = import_files(
            store,
            [
                deals_csv(tmp_path, "deals2.csv", [("1", "2 000,00", "won"), ("3", "1", "won")]),
                accounts_csv(tmp_path, "accounts.csv", [("A1", "Alpha")]),
            ],
            mapping=mapping,
        )
        with pytest.raises(UndoRefused, match="later batch"):
            undo_batch(store, first.batch_id)
        report = undo_batch(store, second.batch_id)
        assert report.restored["deals"] == 1
        assert_same(store, after_first)
        undo_batch(store, first.batch_id)
        assert_same(store, empty)


# -- round trips on random small tables -------------------------------------------------
ids = st.sampled_from([str(i) for i in range(1, 9)])
amounts = st.integers(min_value=0, max_value=10_000).map(lambda n: f"{n // 100},{n % 100:02d}")
stages = st.sampled_from(["won", "lost", "open"])
batch_rows = st.lists(
    st.tuples(ids, amounts, stages), min_size=1, max_size=6, unique_by=lambda r: r[0]
)


@pytest.fixture(scope="module")
def mapping_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "map.yaml"
        path.write_text(MAPPING, encoding="utf-8")
        yield path


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(batch_rows, min_size=1, max_size=3))
def test_import_then_undo_round_trips(
    mapping_file: Path, batches: list[list[tuple[str, str, str]]]
) -> None:
    """Import batches one after the other, then undo them newest first: each undo gives
    back exactly the tables seen before that batch."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with Store.open(root / "ws", create=True) as store:
            store.set_settings(base_currency="RUB")
            seen = [snapshot(store)]
            reports = []
            for n, rows in enumerate(batches):
                path = deals_csv(root, f"deals{n}.csv", rows)
                reports.append(import_files(store, [path], mapping=mapping_file))
                seen.append(snapshot(store))
            for report, before in zip(reversed(reports), reversed(seen[:-1]), strict=True):
                undo_batch(store, report.batch_id)
                assert_same(store, before)
