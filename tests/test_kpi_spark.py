"""The KPI engine on Spark (local mode) gives the DuckDB numbers.

The one Spark module of the suite (Spark starts in 10-15 s): a small demo workspace
is built in DuckDB, its tables are copied into an in-memory Spark session through
Arrow, and the same report runs on `ibis.pyspark`. Skipped when pyspark or Java is
missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmroi.demo import generate_company, write_demo
from crmroi.kpi import compute_kpi_report
from crmroi.store import Store
from crmroi.store.schema import TABLES
from crmroi.store.store import SETTINGS_TABLE

# py4j leaves its gateway sockets to the garbage collector
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
    ),
]

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (java is not on PATH)", allow_module_level=True)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store]]:
    import ibis
    from pyspark.sql import SparkSession

    folder: Path = tmp_path_factory.mktemp("kpi-spark")
    duck = Store.open(folder, create=True)
    write_demo(duck, generate_company(scale=0.05, seed=11), folder)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crmroi-kpi-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(folder / "spark-warehouse"))
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    backend = ibis.pyspark.connect(session)
    for name in [*TABLES, SETTINGS_TABLE]:
        backend.create_table(name, obj=duck.table(name).to_pyarrow(), overwrite=True)
    spark: Any = Store(backend, None, "spark")  # type: ignore[arg-type]  (read-only: no engine)
    try:
        yield duck, spark
    finally:
        duck.close()
        session.stop()


def test_spark_gives_the_duckdb_numbers(stores: tuple[Store, Store]) -> None:
    duck, spark = stores
    want = compute_kpi_report(duck, bootstrap=50, seed=3)
    got = compute_kpi_report(spark, bootstrap=50, seed=3)
    assert [k.name for k in got.kpis] == [k.name for k in want.kpis]
    for g, w in zip(got.kpis, want.kpis, strict=True):
        assert g.available == w.available, (g.name, g.reason, w.reason)
        for field in ("baseline", "after", "ci_low", "ci_high", "net_change_abs"):
            a, b = getattr(g, field), getattr(w, field)
            assert (a is None) == (b is None), (g.name, field)
            if a is not None:
                # medians use values rounded to 1e-5 days; engines round ties differently
                tol = 1e-4 if g.name == "sales_cycle_days" else 1e-6
                assert a == pytest.approx(b, rel=1e-9, abs=tol), (g.name, field)
