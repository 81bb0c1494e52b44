"""End to end on Spark: import into a lake, then kpis, attribute and report read by Spark.

The Maven CRM export is imported (`crmroi import`) into a DuckDB workspace and into a
Parquet lake; `kpis`, `attribute` and `report` run on the lake through a local Spark
session (`parquet://...?engine=spark`) and must give the DuckDB workspace's numbers.
One Spark session (`local[2]`) serves every command. Skipped without pyspark or Java.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmroi.errors import WorkspaceError
from crmroi.store import Store
from tests.test_lake import EXAMPLES, GO_LIVE, assert_same_numbers, cli, import_maven, xlsx_values

# py4j leaves its gateway sockets to the garbage collector
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
    ),
]

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (java is not on PATH)", allow_module_level=True)

# Spark sums in another order and rounds median ties (sales cycle days, kept to 1e-5
# days) differently from DuckDB (see tests/test_kpi_spark.py)
SPARK_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def spark_and_duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from pyspark.sql import SparkSession

    folder = tmp_path_factory.mktemp("lake-spark")
    duck, lake = str(folder / "duck"), f"parquet://{folder / 'lake'}"
    for workspace in (duck, lake):
        import_maven(workspace)
        with Store.open(workspace) as store:
            store.set_settings(go_live=GO_LIVE)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session: Any = (
        SparkSession.builder.master("local[2]")
        .appName("crmroi-lake-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    try:
        yield f"{lake}?engine=spark", duck  # the commands use this active session
    finally:
        session.stop()


def test_kpis_attribute_report_on_spark_give_the_duckdb_numbers(
    spark_and_duck: tuple[str, str], tmp_path: Path
) -> None:
    spark, duck = spark_and_duck
    window = ["--baseline-months", "3", "--after-months", "3"]
    for command in (
        ["kpis", *window, "--format", "json", "--bootstrap", "10"],
        ["attribute", "--format", "json"],
    ):
        want = json.loads(cli(command[0], duck, *command[1:]))
        got = json.loads(cli(command[0], spark, *command[1:]))
        assert want, command
        assert_same_numbers(got, want, command[0], SPARK_TOLERANCE)
    sheets = []
    for name, workspace in (("duck", duck), ("spark", spark)):
        out = tmp_path / f"{name}.xlsx"
        cli("report", EXAMPLES / "case.yaml", "--workspace", workspace, "--out", out,
            "--simulate", "100", "--bootstrap", "10")  # fmt: skip
        sheets.append(xlsx_values(out))
    assert_same_numbers(sheets[1], sheets[0], "report", SPARK_TOLERANCE)


def test_spark_reads_and_refuses_to_write(spark_and_duck: tuple[str, str]) -> None:
    spark, duck = spark_and_duck
    with Store.open(spark) as store, Store.open(duck) as reference:
        assert store.counts() == reference.counts()
        assert store.settings()["go_live"] == GO_LIVE
        with pytest.raises(WorkspaceError, match=r"write to it .* through DuckDB"):
            store.set_settings(base_currency="EUR")


def test_a_lake_written_before_a_table_existed_reads_it_as_empty(
    spark_and_duck: tuple[str, str], tmp_path: Path
) -> None:
    """supplied_baselines (and any later table) is an empty view on an older lake."""
    spark, duck = spark_and_duck
    folder = Path(spark.removeprefix("parquet://").split("?")[0])
    old = tmp_path / "old-lake"
    shutil.copytree(folder, old)
    manifest = old / "crmroi-lake.json"
    body = json.loads(manifest.read_text(encoding="utf-8"))
    del body["tables"]["supplied_baselines"]
    manifest.write_text(json.dumps(body), encoding="utf-8")
    with Store.open(f"parquet://{old}?engine=spark") as store:
        assert store.count("supplied_baselines") == 0
        assert store.table("supplied_baselines").schema().names[:3] == (
            "kpi",
            "period_start",
            "value",
        )
    doc = json.loads(
        cli("kpis", f"parquet://{old}?engine=spark", "--format", "json", "--bootstrap", "0")
    )
    with Store.open(duck) as reference:
        assert reference.count("supplied_baselines") == 0
    assert any(k["available"] for k in doc["kpis"])


def test_spark_reads_a_delta_lake_and_gives_the_duckdb_numbers(
    spark_and_duck: tuple[str, str], tmp_path: Path
) -> None:
    """Spark without delta-spark reads each table's pinned Delta version (its Parquet
    files, listed by delta-rs): a re-import and a settings write later, still the same."""
    pytest.importorskip("deltalake", reason="deltalake is not installed")
    _, duck = spark_and_duck
    delta = f"delta://{tmp_path / 'delta'}"
    import_maven(delta)
    import_maven(delta)  # appends to the batch tables only: several Delta versions
    with Store.open(delta) as store:
        store.set_settings(go_live=GO_LIVE)
    spark = f"{delta}?engine=spark"
    with Store.open(spark) as store, Store.open(duck) as reference:
        counts = reference.counts()
        assert store.counts() == counts
        with pytest.raises(WorkspaceError, match=r"through DuckDB: delta://"):
            store.set_settings(base_currency="EUR")
    window = ["--baseline-months", "3", "--after-months", "3"]
    for command in (
        ["kpis", *window, "--format", "json", "--bootstrap", "10"],
        ["attribute", "--format", "json"],
    ):
        want = json.loads(cli(command[0], duck, *command[1:]))
        got = json.loads(cli(command[0], spark, *command[1:]))
        assert want, command
        assert_same_numbers(got, want, command[0], SPARK_TOLERANCE)
