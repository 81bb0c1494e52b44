"""The open-table (Parquet lake) workspace read by DuckDB: same numbers, atomic commits.

The end-to-end test imports the Maven CRM export into a DuckDB workspace and into a
lake, and checks that `kpis`, `attribute` and `report` give the same numbers. The
Spark reading of the same files is in tests/test_lake_spark.py (slow).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.errors import ConfigurationError, WorkspaceError
from crmroi.store import Store
from crmroi.store import lake as lake_module
from crmroi.store.lake import MANIFEST, Manifest, is_lake, parse_location
from tests.conftest import shared_data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GO_LIVE = "2017-06-01"


def cli(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def maven_files() -> list[Path]:
    folder = shared_data("maven_crm")
    return [folder / f"{n}.csv" for n in ("sales_teams", "accounts", "sales_pipeline")]


def import_maven(workspace: str | Path) -> None:
    cli("import", workspace, *maven_files(), "--mapping", EXAMPLES / "maven_crm.yaml")


def assert_same_numbers(got: Any, want: Any, path: str = "", tol: float = 1e-9) -> None:
    """Equal structure and text; numbers equal to `tol` (summation order differs by file)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), path
        for key in want:
            assert_same_numbers(got[key], want[key], f"{path}.{key}", tol)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same_numbers(g, w, f"{path}[{i}]", tol)
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, int | float), path
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(
            want, rel=tol, abs=tol
        ), path
    else:
        assert got == want, path


def xlsx_values(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in book.worksheets}


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The Maven export imported into a DuckDB workspace and into a lake workspace."""
    folder = tmp_path_factory.mktemp("lake-twins")
    duck, lake = str(folder / "duck"), f"parquet://{folder / 'lake'}"
    for workspace in (duck, lake):
        import_maven(workspace)
        with Store.open(workspace) as store:  # a settings write, on both
            store.set_settings(go_live=GO_LIVE)
    return duck, lake


@pytest.mark.slow  # two imports, then kpis, attribute and report on each workspace
def test_import_kpis_attribute_report_give_the_duckdb_numbers(
    twins: tuple[str, str], tmp_path: Path
) -> None:
    duck, lake = twins
    with Store.open(duck) as a, Store.open(lake) as b:
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
        got = json.loads(cli(command[0], lake, *command[1:]))
        assert want, command
        assert_same_numbers(got, want, command[0])
    sheets = []
    for name, workspace in (("duck", duck), ("lake", lake)):
        out = tmp_path / f"{name}.xlsx"
        cli_args = ("--simulate", "100", "--bootstrap", "10")
        cli("report", EXAMPLES / "case.yaml", "--workspace", workspace, "--out", out, *cli_args)
        sheets.append(xlsx_values(out))
    assert_same_numbers(sheets[1], sheets[0], "report")


def test_the_lake_is_plain_parquet_with_a_manifest(twins: tuple[str, str]) -> None:
    import pyarrow.parquet as pq

    folder = Path(twins[1].removeprefix("parquet://"))
    manifest = Manifest.read(folder)
    assert (folder / "versions" / f"{manifest.version}.json").read_text() == (
        folder / MANIFEST
    ).read_text()
    (deals,) = manifest.tables["deals"]
    table = pq.read_table(folder / deals)
    assert table.num_rows == 8800
    assert table.schema.field("amount").type == pa.float64()
    assert is_lake(folder)  # a plain folder holding the manifest opens as a lake
    with Store.open(folder) as store:
        assert store.count("deals") == 8800
        assert store.folder == folder


def test_reimport_changes_no_data_file_and_old_versions_stay_readable(tmp_path: Path) -> None:
    folder = tmp_path / "lake"
    lake = f"parquet://{folder}"
    import_maven(lake)
    first = Manifest.read(folder)
    import_maven(lake)
    second = Manifest.read(folder)
    assert second.version == first.version + 1
    changed = {n for n in second.tables if second.tables[n] != first.tables.get(n)}
    assert changed == {"import_batches", "undo_log"}  # the batch's record, not the data
    with Store.open(lake) as store:
        assert store.count("deals") == 8800
        assert store.count("import_batches") == 2
    with Store.open(f"{lake}?version={first.version}") as old:
        assert old.count("import_batches") == 1
        with pytest.raises(WorkspaceError, match="read-only"):
            old.set_settings(base_currency="EUR")
    with pytest.raises(WorkspaceError, match="no version 99"):
        Store.open(f"{lake}?version=99")


def _row_of(store: Store, name: str) -> pa.Table:
    return store.to_arrow(name).slice(0, 1)


def _with_id(row: pa.Table, source_id: str) -> pa.Table:
    index = row.schema.get_field_index("source_id")
    return row.set_column(index, "source_id", pa.array([source_id]))


def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    lake = f"parquet://{tmp_path / 'lake'}"
    import_maven(lake)
    before = (tmp_path / "lake" / MANIFEST).read_text()
    files = sorted(p.name for p in tmp_path.glob("lake/tables/*/*"))
    with Store.open(lake) as store:
        row = _row_of(store, "deals")
        with pytest.raises(RuntimeError, match="stop"), store.transaction() as tx:
            tx.execute('DELETE FROM "deals"')
            raise RuntimeError("stop")
        assert store.count("deals") == 8800
        with store.transaction() as tx:  # the store stays usable
            tx.append("deals", _with_id(row, "new-deal"))
        assert store.count("deals") == 8801
    assert (tmp_path / "lake" / MANIFEST).read_text() != before
    assert set(files) < {p.name for p in tmp_path.glob("lake/tables/*/*")}


def test_a_crash_before_the_manifest_swap_keeps_the_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "lake"
    import_maven(f"parquet://{folder}")
    before = (folder / MANIFEST).read_text()
    real = lake_module._write_atomically

    def crash_on_manifest(path: Path, text: str) -> None:
        if path.name == MANIFEST:
            raise OSError("disk full")
        real(path, text)

    monkeypatch.setattr(lake_module, "_write_atomically", crash_on_manifest)
    with Store.open(folder) as store:
        with pytest.raises(OSError, match="disk full"), store.transaction() as tx:
            tx.execute('DELETE FROM "deals"')
        assert store.count("deals") == 8800  # back to what is on disk
    assert (folder / MANIFEST).read_text() == before
    monkeypatch.undo()
    with Store.open(folder) as store:
        assert store.count("deals") == 8800


def test_a_writer_starts_from_the_newest_version(tmp_path: Path) -> None:
    folder = tmp_path / "lake"
    import_maven(f"parquet://{folder}")
    with Store.open(folder) as first, Store.open(folder) as second:
        row = _row_of(first, "deals")
        with first.transaction() as tx:
            tx.append("deals", _with_id(row, "from-first"))
        assert second.count("deals") == 8801  # a reader sees the newest commit
        with second.transaction() as tx:  # opened before first's commit: reloads it
            tx.append("deals", _with_id(row, "from-second"))
    with Store.open(folder) as store:
        ids = set(store.table("deals").source_id.to_pyarrow().to_pylist())
        assert {"from-first", "from-second"} <= ids
        assert store.count("deals") == 8802


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("parquet://", "no folder"),
        ("parquet:///x?engine=oracle", "choose duckdb or spark"),
        ("parquet:///x?master=local[2]", "need engine=spark"),
        ("parquet:///x?version=last", "not a version number"),
        ("parquet:///x?colour=red", "unknown parameter 'colour'"),
    ],
)
def test_bad_lake_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_location(url)


def test_lake_url_forms() -> None:
    where = parse_location("parquet:///data/ws?engine=spark&master=spark://h:7077&version=3")
    assert (where.folder, where.engine, where.master, where.version) == (
        Path("/data/ws"),
        "spark",
        "spark://h:7077",
        3,
    )
    assert parse_location("parquet://rel/ws").folder == Path("rel/ws")
    assert parse_location("parquet:///ws?engine=spark&remote=sc://h:15002").remote == (
        "sc://h:15002"
    )


def test_a_missing_lake_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["kpis", f"parquet://{tmp_path / 'none'}"])
    assert result.exit_code == 1
    assert isinstance(result.exception, WorkspaceError)
    assert "not a crmroi lake workspace" in str(result.exception)


def test_undo_on_a_lake_restores_and_marks_the_batch(tmp_path: Path) -> None:
    lake = f"parquet://{tmp_path / 'lake'}"
    import_maven(lake)
    with Store.open(lake) as store:
        (batch,) = store.to_arrow("import_batches")["batch_id"].to_pylist()
    cli("undo", lake, batch)
    with Store.open(lake) as store:
        assert store.count("deals") == 0
        assert store.to_arrow("import_batches")["status"].to_pylist() == ["undone"]


def test_an_unrecognised_write_publishes_every_table(tmp_path: Path) -> None:
    folder = tmp_path / "lake"
    import_maven(f"parquet://{folder}")
    before = Manifest.read(folder)
    with Store.open(folder) as store, store.transaction() as tx:
        tx.execute("UPDATE deals SET amount = 1 WHERE source_id = 'no-such-id'")  # no row
        tx.execute("WITH x AS (SELECT 1) DELETE FROM accounts WHERE source_id = 'none'")
    after = Manifest.read(folder)
    assert after.version == before.version + 1
    assert all(after.tables[n] != before.tables[n] for n in before.tables)


def test_spark_without_an_object_store_connector_says_what_is_missing() -> None:
    from crmroi.store.lake_spark import _why

    java = (
        "An error occurred while calling o40.parquet.\n"
        ": java.lang.RuntimeException: java.lang.ClassNotFoundException: "
        "Class org.apache.hadoop.fs.s3a.S3AFileSystem not found\n"
        "\tat org.apache.hadoop.conf.Configuration.getClass(Configuration.java:2737)\n"
    )
    why = _why(RuntimeError(java))
    assert why.startswith("java.lang.RuntimeException: java.lang.ClassNotFoundException")
    assert "hadoop-aws" in why and "\n" not in why
    assert _why(RuntimeError("plain failure\nmore")) == "plain failure"
