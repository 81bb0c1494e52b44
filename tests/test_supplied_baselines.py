"""Supplied baselines: import (atomic, idempotent, clear refusals) on every engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmroi.errors import UserError
from crmroi.ingest.pipeline import import_files
from crmroi.kpi.definitions import KPI_DEFINITIONS
from crmroi.store import Store
from crmroi.store.schema import SUPPLIED_KPIS, TABLES

from .conftest import scratch_database

GOOD = (
    "kpi,month,value,source,note\n"
    "sales_volume,2023-01-01,412000,Finance ledger (GL 4000),net of credit notes\n"
    'Sales volume,2023-02-01,"400,500",Finance ledger (GL 4000),\n'
    "win-rate,2023-01-01,0.25,Sales spreadsheet,\n"
)


def _file(folder: Path, text: str, name: str = "baselines.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(store: Store) -> list[tuple[str, str, float, str]]:
    rows = store.to_arrow("supplied_baselines", order_by=["kpi", "period_start"]).to_pylist()
    return [(r["kpi"], str(r["period_start"]), r["value"], r["source"]) for r in rows]


def test_the_schema_names_every_kpi_of_the_registry() -> None:
    assert set(SUPPLIED_KPIS) == set(KPI_DEFINITIONS)
    assert TABLES["supplied_baselines"].key == ("kpi", "period_start")


def test_import_loads_monthly_values_and_a_reimport_changes_nothing(
    workspace: Store, tmp_path: Path
) -> None:
    path = _file(tmp_path, GOOD)
    first = import_files(workspace, [path], source="baselines")
    assert (first.rows_loaded, first.rows_rejected) == (3, 0)
    want = [
        ("sales_volume", "2023-01-01", 412000.0, "Finance ledger (GL 4000)"),
        ("sales_volume", "2023-02-01", 400500.0, "Finance ledger (GL 4000)"),
        ("win_rate", "2023-01-01", 0.25, "Sales spreadsheet"),
    ]
    assert _rows(workspace) == want
    second = import_files(workspace, [path], source="baselines")
    assert second.files[0].unchanged == 3 and second.files[0].inserted == 0
    assert _rows(workspace) == want
    # a corrected figure for a month replaces that month's value
    fixed = _file(tmp_path, "kpi,month,value,source\nsales_volume,2023-02-01,401000,ERP\n", "2.csv")
    import_files(workspace, [fixed], source="baselines")
    assert _rows(workspace)[1] == ("sales_volume", "2023-02-01", 401000.0, "ERP")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "sales_vol,2023-03-01,1,ERP",
            "row 3, column kpi: kpi 'sales_vol' is not a valid kpi; did you mean 'sales_volume'?",
        ),
        ("sales_volume,2023-03-15,1,ERP", "row 3, column period_start: 2023-03-15 is not the"),
        ("sales_volume,2023-03-01,abc,ERP", "row 3, column value: cannot read 'abc' as a number"),
        ("sales_volume,2023-03-01,1,", "row 3, column source: source is empty"),
    ],
)
def test_one_bad_row_refuses_the_whole_file_naming_row_column_and_reason(
    workspace: Store, tmp_path: Path, line: str, message: str
) -> None:
    path = _file(tmp_path, f"kpi,month,value,source\nwon_deals,2023-03-01,40,ERP\n{line}\n")
    with pytest.raises(UserError) as caught:
        import_files(workspace, [path], source="baselines")
    assert str(caught.value).startswith(f"baselines.csv {message}"), str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert workspace.count("supplied_baselines") == 0
    batches = workspace.table("import_batches").to_pyarrow().to_pylist()
    assert [b["status"][:6] for b in batches] == ["failed"]


def test_a_month_given_twice_is_refused(workspace: Store, tmp_path: Path) -> None:
    text = "kpi,month,value,source\nwon_deals,2023-03-01,40,ERP\nwon_deals,2023-03-01,41,CFO\n"
    with pytest.raises(UserError, match="nothing was imported"):
        import_files(workspace, [_file(tmp_path, text)], source="baselines")
    assert workspace.count("supplied_baselines") == 0


def _engine_roundtrip(location: str, path: Path) -> None:
    with Store.open(location, create=True) as store:
        import_files(store, [path], source="baselines")
        assert _rows(store)[0][:3] == ("sales_volume", "2023-01-01", 412000.0)
        assert import_files(store, [path], source="baselines").files[0].unchanged == 3


def test_a_lake_gets_the_table(tmp_path: Path) -> None:
    _engine_roundtrip(f"parquet://{tmp_path / 'lake'}", _file(tmp_path, GOOD))


def test_postgres_gets_the_table(tmp_path: Path) -> None:
    with scratch_database() as url:
        _engine_roundtrip(url, _file(tmp_path, GOOD))
