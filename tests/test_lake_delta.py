"""The Delta Lake workspace (`delta:///folder`): DuckDB's numbers, Delta tables any
Delta reader opens, atomic multi-table commits, re-import, undo and time travel.

The end-to-end test imports the Maven CRM export into a DuckDB workspace and into a
Delta lake and checks that `kpis`, `attribute` and `report` give the same numbers.
The reference for "a Delta table" is delta-rs itself (`deltalake.DeltaTable`), reading
`tables/<name>/` with no crmroi code in between.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from crmroi.errors import ConfigurationError, WorkspaceError
from crmroi.store import Store
from crmroi.store import lake as lake_module
from crmroi.store.lake import MANIFEST, Manifest, parse_location
from tests.test_lake import (
    EXAMPLES,
    GO_LIVE,
    assert_same_numbers,
    cli,
    import_maven,
    maven_files,
    xlsx_values,
)

deltalake = pytest.importorskip("deltalake", reason="deltalake is not installed")


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The Maven export imported into a DuckDB workspace and into a Delta lake."""
    folder = tmp_path_factory.mktemp("delta-twins")
    duck, delta = str(folder / "duck"), f"delta://{folder / 'delta'}"
    for workspace in (duck, delta):
        import_maven(workspace)
        with Store.open(workspace) as store:
            store.set_settings(go_live=GO_LIVE)
    return duck, delta


def _folder(workspace: str) -> Path:
    return Path(workspace.removeprefix("delta://").split("?")[0])


@pytest.mark.slow  # two imports, then kpis, attribute and report on each workspace
def test_import_kpis_attribute_report_give_the_duckdb_numbers(
    twins: tuple[str, str], tmp_path: Path
) -> None:
    duck, delta = twins
    with Store.open(duck) as a, Store.open(delta) as b:
        assert a.counts() == b.counts()
        assert b.counts()["deals"] == 8800
        for name in ("deals", "accounts", "reps"):
            order = ["source_system", "source_id"]
            left, right = a.to_arrow(name, order_by=order), b.to_arrow(name, order_by=order)
            assert right.drop(["batch_id"]).equals(left.drop(["batch_id"])), name
    window = ["--go-live", GO_LIVE, "--baseline-months", "3", "--after-months", "3"]
    for command in (
        ["kpis", *window, "--format", "json", "--bootstrap", "10"],
        ["attribute", "--go-live", GO_LIVE, "--format", "json"],
    ):
        want = json.loads(cli(command[0], duck, *command[1:]))
        got = json.loads(cli(command[0], delta, *command[1:]))
        assert want, command
        assert_same_numbers(got, want, command[0])
    sheets = []
    for name, workspace in (("duck", duck), ("delta", delta)):
        out = tmp_path / f"{name}.xlsx"
        cli_args = ("--simulate", "100", "--bootstrap", "10")
        cli("report", EXAMPLES / "case.yaml", "--workspace", workspace, "--out", out, *cli_args)
        sheets.append(xlsx_values(out))
    assert_same_numbers(sheets[1], sheets[0], "report")


def test_each_table_is_a_delta_table_at_its_pinned_version(twins: tuple[str, str]) -> None:
    duck, delta = twins
    folder = _folder(delta)
    manifest = Manifest.read(folder)
    assert manifest.table_format == "delta"
    assert json.loads((folder / MANIFEST).read_text())["table_format"] == "delta"
    deals = deltalake.DeltaTable(str(folder / "tables" / "deals"))
    assert deals.version() == manifest.delta["deals"]  # nothing committed past the manifest
    table = deals.to_pyarrow_table()
    with Store.open(duck) as reference:
        want = reference.to_arrow("deals", order_by=["source_id"])
    got = table.sort_by("source_id")
    assert got.drop(["batch_id"]).equals(want.drop(["batch_id"]))
    assert table.schema.field("amount").type == pa.float64()
    assert table.schema.field("closed_at").type == want.schema.field("closed_at").type
    # the import appended to the empty table created with the workspace: no rewrite
    assert deals.history(1)[0]["operationParameters"]["mode"] == "Append"


def test_reimport_commits_no_data_table_and_old_versions_stay_readable(tmp_path: Path) -> None:
    folder = tmp_path / "delta"
    delta = f"delta://{folder}"
    import_maven(delta)
    first = Manifest.read(folder)
    import_maven(delta)
    second = Manifest.read(folder)
    assert second.version == first.version + 1
    changed = {n for n in second.delta if second.delta[n] != first.delta.get(n)}
    assert changed == {"import_batches", "undo_log"}  # the batch's record, not the data
    with Store.open(delta) as store:
        assert store.count("deals") == 8800
        assert store.count("import_batches") == 2
    with Store.open(f"{delta}?version={first.version}") as old:
        assert old.count("import_batches") == 1
        with pytest.raises(WorkspaceError, match="read-only"):
            old.set_settings(base_currency="EUR")
    # Delta's own time travel agrees: the pinned version of the table, read by delta-rs
    old_batches = deltalake.DeltaTable(
        str(folder / "tables" / "import_batches"), version=first.delta["import_batches"]
    )
    assert old_batches.to_pyarrow_table().num_rows == 1


def test_a_crash_before_the_manifest_swap_is_invisible_and_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "delta"
    import_maven(f"delta://{folder}")
    before = Manifest.read(folder)
    real = lake_module._write_atomically

    def crash_on_manifest(path: Path, text: str) -> None:
        if path.name == MANIFEST:
            raise OSError("disk full")
        real(path, text)

    monkeypatch.setattr(lake_module, "_write_atomically", crash_on_manifest)
    with Store.open(folder) as store:
        with pytest.raises(OSError, match="disk full"), store.transaction() as tx:
            tx.execute('DELETE FROM "deals"')
        assert store.count("deals") == 8800  # back to what the manifest pins
    deals = str(folder / "tables" / "deals")
    assert deltalake.DeltaTable(deals).version() > before.delta["deals"]  # the orphan commit
    monkeypatch.undo()
    with Store.open(folder) as store:
        assert store.count("deals") == 8800
        row = store.to_arrow("deals").slice(0, 1)
        index = row.schema.get_field_index("source_id")
        with store.transaction() as tx:  # the next write restores, then appends
            tx.append("deals", row.set_column(index, "source_id", pa.array(["new-deal"])))
        assert store.count("deals") == 8801
    after = Manifest.read(folder)
    assert deltalake.DeltaTable(deals).version() == after.delta["deals"]
    assert deltalake.DeltaTable(deals).to_pyarrow_table().num_rows == 8801


def test_an_import_that_changes_rows_is_a_delta_update_with_the_duckdb_result(
    tmp_path: Path,
) -> None:
    """A second export with one deal in ten at a new amount: an update commit, the DuckDB
    workspace's rows, and the version before it still readable by delta-rs (time travel)."""
    teams, accounts, pipeline = maven_files()
    header, *rows = pipeline.read_text(encoding="utf-8").splitlines()
    bumped = {r.split(",")[0] for i, r in enumerate(rows) if i % 10 == 0}
    edited = [r.rsplit(",", 1)[0] + ",777" if r.split(",")[0] in bumped else r for r in rows]
    export = tmp_path / "sales_pipeline.csv"
    export.write_text("\n".join([header, *edited]) + "\n", encoding="utf-8")
    duck, delta = str(tmp_path / "duck"), f"delta://{tmp_path / 'delta'}"
    for workspace in (duck, delta):
        import_maven(workspace)
        cli("import", workspace, teams, accounts, export, "--mapping", EXAMPLES / "maven_crm.yaml")
    order = ["source_system", "source_id"]
    with Store.open(duck) as a, Store.open(delta) as b:
        assert a.counts() == b.counts()
        left, right = a.to_arrow("deals", order_by=order), b.to_arrow("deals", order_by=order)
    assert right.drop(["batch_id"]).equals(left.drop(["batch_id"]))
    now = dict(zip(right["source_id"].to_pylist(), right["amount"].to_pylist(), strict=True))
    assert {i for i, amount in now.items() if amount == 777.0} >= bumped
    deals = str(tmp_path / "delta" / "tables" / "deals")
    latest = deltalake.DeltaTable(deals)
    assert latest.history(1)[0]["operationParameters"]["mode"] == "Overwrite"
    before = deltalake.DeltaTable(deals, version=latest.version() - 1).to_pyarrow_table()
    then = dict(zip(before["source_id"].to_pylist(), before["amount"].to_pylist(), strict=True))
    for row in rows:  # the version before the update holds the first export's amounts
        source_id, amount = row.split(",")[0], row.rsplit(",", 1)[1]
        assert then[source_id] == (float(amount) if amount else None), source_id


def test_inserts_after_a_delete_in_one_session_are_appended_exactly(tmp_path: Path) -> None:
    """The web app keeps one store open: a delete, then an insert-only write, appends just
    the new row (row ids after a delete), and a standard reader sees the workspace's rows."""
    folder = tmp_path / "delta"
    import_maven(f"delta://{folder}")
    with Store.open(f"delta://{folder}") as store:
        row = store.to_arrow("deals", order_by=["source_id"]).slice(0, 1)
        (gone,) = row["source_id"].to_pylist()
        with store.transaction() as tx:
            tx.execute('DELETE FROM "deals" WHERE source_id = ?', (gone,))
        index = row.schema.get_field_index("source_id")
        with store.transaction() as tx:
            tx.append("deals", row.set_column(index, "source_id", pa.array(["again"])))
        want = sorted(store.table("deals").source_id.to_pyarrow().to_pylist())
    deals = deltalake.DeltaTable(str(folder / "tables" / "deals"))
    modes = [h["operationParameters"]["mode"] for h in deals.history(2)]
    assert modes == ["Append", "Overwrite"]  # newest first
    assert sorted(deals.to_pyarrow_table()["source_id"].to_pylist()) == want
    assert "again" in want and gone not in want and len(want) == 8800


def test_undo_on_a_delta_lake_restores_and_marks_the_batch(tmp_path: Path) -> None:
    delta = f"delta://{tmp_path / 'delta'}"
    import_maven(delta)
    with Store.open(delta) as store:
        (batch,) = store.to_arrow("import_batches")["batch_id"].to_pylist()
    cli("undo", delta, batch)
    with Store.open(delta) as store:
        assert store.count("deals") == 0
        assert store.to_arrow("import_batches")["status"].to_pylist() == ["undone"]
    deals = deltalake.DeltaTable(str(tmp_path / "delta" / "tables" / "deals"))
    assert deals.to_pyarrow_table().num_rows == 0  # a standard reader sees the undo
    assert deals.history(1)[0]["operationParameters"]["mode"] == "Overwrite"


def test_the_format_of_a_lake_is_its_manifests(tmp_path: Path) -> None:
    folder = tmp_path / "delta"
    with Store.open(f"delta://{folder}", create=True) as store:  # creates the tables
        assert store.count("deals") == 0
    with Store.open(f"parquet://{folder}") as store:  # parquet:// opens what is there
        assert store.engine.table_format == "delta"  # type: ignore[attr-defined]
    with pytest.raises(WorkspaceError, match="holds delta tables, not parquet"):
        Store.open(f"parquet://{folder}?format=parquet")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("delta://", "no folder"),
        ("delta:///x?format=parquet", "delta format"),
        ("parquet:///x?format=iceberg", "choose parquet or delta"),
        ("s3://", "no folder"),
        ("s3://bucket/x?colour=red", "unknown parameter 'colour'"),
    ],
)
def test_bad_delta_and_object_store_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_location(url)


def test_delta_and_object_store_url_forms() -> None:
    where = parse_location("delta:///data/ws?engine=spark&version=3")
    assert (where.folder, where.url, where.table_format, where.engine, where.version) == (
        Path("/data/ws"),
        None,
        "delta",
        "spark",
        3,
    )
    assert parse_location("parquet:///data/ws?format=delta").table_format == "delta"
    assert parse_location("parquet:///data/ws").table_format is None  # what is there
    s3 = parse_location("s3://bucket/crm/ws?format=delta&version=2")
    assert (s3.folder, s3.url, s3.table_format, s3.version) == (
        None,
        "s3://bucket/crm/ws",
        "delta",
        2,
    )
    assert parse_location("gs://bucket/ws").url == "gs://bucket/ws"
