"""The import pipeline end to end on real files: formats, rejects, atomicity, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from crmroi.errors import ImportAborted, InputFileError, MappingError, UserError
from crmroi.ingest.pipeline import import_files
from crmroi.ingest.rejects import Reject
from crmroi.store import Store
from crmroi.store.engines import DuckDBTransaction

RU_MAPPING = """
source_system: crm_ru
tables:
  - entity: deals
    files: ["сделки*.csv", "deals*.csv", "*.xlsx"]
    columns:
      deal_id: Номер
      account_id: Клиент
      amount: Сумма
      currency: Валюта
      closed_at: Дата закрытия
      stage: Этап
      is_won: {column: Этап, map: {Выиграна: true}, default: false}
      is_closed: {column: Этап, map: {Выиграна: true, Проиграна: true}, default: false}
    constants: {kind: new}
  - entity: fx_rates
    files: ["курсы*.csv", "rates*.csv"]
    columns:
      rate_date: Дата
      currency: Валюта
      rate_to_base: Курс
"""

HEADER = "Номер;Клиент;Сумма;Валюта;Дата закрытия;Этап\n"
ROWS = [
    "D-1;ООО «Ромашка»;1 234,50;RUB;05.03.2024;Выиграна\n",
    "D-2;北京科技有限公司;10 000,00;RUB;13.03.2024;Проиграна\n",
    "D-3;شرکت پارس;750,25;RUB;28.02.2024;Переговоры\n",
]


def write(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(autouse=True)
def rouble_workspace(workspace: Store) -> None:
    """These exports are in roubles; most tests keep RUB as the base currency."""
    workspace.set_settings(base_currency="RUB")


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(RU_MAPPING, encoding="utf-8")
    return path


@pytest.fixture
def deals_file(tmp_path: Path) -> Path:
    # cp1251 cannot hold Chinese or Persian: such exports come as UTF-8 with a BOM
    return write(tmp_path / "сделки.csv", HEADER + "".join(ROWS), "utf-8-sig")


def deals(store: Store) -> list[dict[str, object]]:
    return store.to_arrow("deals", order_by=["deal_id"]).to_pylist()


def test_russian_export_with_decimal_comma_and_dmy_dates(
    workspace: Store, mapping: Path, deals_file: Path
) -> None:
    report = import_files(workspace, [deals_file], mapping=mapping)
    assert report.rows_loaded == 3 and not report.rejects
    rows = deals(workspace)
    assert [r["account_id"] for r in rows] == ["ООО «Ромашка»", "北京科技有限公司", "شرکت پارس"]
    assert rows[0]["amount_original"] == pytest.approx(1234.50)
    assert rows[1]["amount_original"] == pytest.approx(10000.0)
    assert str(rows[0]["closed_at"])[:10] == "2024-03-05"
    assert str(rows[2]["closed_at"])[:10] == "2024-02-28"
    assert [(r["is_won"], r["is_closed"]) for r in rows] == [
        (True, True),
        (False, True),
        (False, False),
    ]
    assert {r["source_system"] for r in rows} == {"crm_ru"}
    assert {r["batch_id"] for r in rows} == {report.batch_id}


def test_cp1251_file_is_detected(workspace: Store, mapping: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "deals_cp.csv", HEADER + ROWS[0], "cp1251")
    report = import_files(workspace, [path], mapping=mapping)
    assert report.files[0].encoding == "cp1251"
    assert report.files[0].delimiter == ";"
    assert deals(workspace)[0]["account_id"] == "ООО «Ромашка»"


def test_currency_converted_with_rates_in_the_same_import(
    workspace: Store, mapping: Path, deals_file: Path, tmp_path: Path
) -> None:
    workspace.set_settings(base_currency="USD")
    rates = write(
        tmp_path / "rates.csv",
        "Дата;Валюта;Курс\n01.02.2024;RUB;0,0110\n01.03.2024;RUB;0,0100\n10.03.2024;RUB;0,0120\n",
    )
    import_files(workspace, [deals_file, rates], mapping=mapping)
    rows = {r["deal_id"]: r for r in deals(workspace)}
    assert rows["D-1"]["currency"] == "RUB"
    assert rows["D-1"]["amount"] == pytest.approx(
        1234.50 * 0.0100
    )  # rate of 01.03 applies on 05.03
    assert rows["D-2"]["amount"] == pytest.approx(10000 * 0.0120)  # 10.03 applies on 13.03
    assert rows["D-3"]["amount"] == pytest.approx(750.25 * 0.0110)  # 01.02 applies on 28.02
    assert rows["D-3"]["amount_original"] == pytest.approx(750.25)


def test_missing_rate_refuses_the_row(workspace: Store, mapping: Path, tmp_path: Path) -> None:
    workspace.set_settings(base_currency="EUR")
    path = write(tmp_path / "deals_eur.csv", HEADER + ROWS[0], "utf-8")
    # its only row refused: the import fails, naming the file and the reason
    with pytest.raises(UserError, match="no exchange rate for RUB into EUR") as caught:
        import_files(workspace, [path], mapping=mapping)
    assert str(caught.value).startswith("deals_eur.csv: all 1 rows were refused")
    assert workspace.count("deals") == 0


def test_reimport_changes_nothing(workspace: Store, mapping: Path, deals_file: Path) -> None:
    first = import_files(workspace, [deals_file], mapping=mapping)
    before = deals(workspace)
    second = import_files(workspace, [deals_file], mapping=mapping)
    assert (second.files[0].inserted, second.files[0].updated) == (0, 0)
    assert second.files[0].unchanged == 3
    assert deals(workspace) == before
    assert {r["batch_id"] for r in before} == {first.batch_id}
    batches = workspace.to_arrow("import_batches").to_pylist()
    assert [b["status"] for b in batches] == ["loaded", "loaded"]


def test_changed_row_is_updated_not_duplicated(
    workspace: Store, mapping: Path, deals_file: Path, tmp_path: Path
) -> None:
    import_files(workspace, [deals_file], mapping=mapping)
    edited = write(tmp_path / "deals_edit.csv", HEADER + ROWS[0].replace("1 234,50", "2 000"))
    report = import_files(workspace, [edited], mapping=mapping)
    assert (report.files[0].inserted, report.files[0].updated) == (0, 1)
    rows = {r["deal_id"]: r for r in deals(workspace)}
    assert len(rows) == 3
    assert rows["D-1"]["amount"] == pytest.approx(2000.0)
    assert rows["D-1"]["batch_id"] == report.batch_id


def test_bad_cells_are_refused_with_file_row_column_reason(
    workspace: Store, mapping: Path, tmp_path: Path
) -> None:
    text = HEADER + ROWS[0] + "D-2;Бета;двадцать;RUB;31.02.2024;Выиграна\n" + ROWS[2]
    path = write(tmp_path / "deals_bad.csv", text)
    report = import_files(workspace, [path], mapping=mapping)
    assert report.rows_loaded == 2 and report.rows_rejected == 1
    assert Reject(
        "deals_bad.csv", 3, "Сумма", "cannot read 'двадцать' as a number", "двадцать"
    ) in (report.rejects)
    assert any(r.column == "Дата закрытия" and r.row == 3 for r in report.rejects)
    assert report.rejects_path is not None and report.rejects_path.exists()
    written = report.rejects_path.read_text(encoding="utf-8-sig")
    assert "deals_bad.csv,3,Сумма" in written


def test_strict_refuses_the_whole_import(workspace: Store, mapping: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "deals_bad.csv", HEADER + ROWS[0] + "D-9;X;abc;RUB;01.01.2024;x\n")
    with pytest.raises(UserError, match=r"nothing was imported \(--strict\)"):
        import_files(workspace, [path], mapping=mapping, strict=True)
    assert workspace.count("deals") == 0


def test_duplicate_ids_keep_the_last_row(workspace: Store, mapping: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "deals_dup.csv", HEADER + ROWS[0] + ROWS[0].replace("1 234,50", "9"))
    report = import_files(workspace, [path], mapping=mapping)
    assert deals(workspace)[0]["amount_original"] == 9.0
    assert report.rejects[0].row == 2
    assert "row 3 has the same id and was kept" in report.rejects[0].reason


def test_missing_required_column_fails_before_writing(
    workspace: Store, mapping: Path, deals_file: Path, tmp_path: Path
) -> None:
    bad = write(tmp_path / "deals_nocol.csv", "Клиент;Сумма\nА;1\n")
    message = r"deals_nocol.csv: column 'Номер' \(mapped to deals.deal_id\) is not in the file"
    with pytest.raises(MappingError, match=message):
        import_files(workspace, [deals_file, bad], mapping=mapping)
    assert workspace.count("deals") == 0
    statuses = [b["status"] for b in workspace.to_arrow("import_batches").to_pylist()]
    assert len(statuses) == 1 and statuses[0].startswith("failed")


def test_unreadable_second_file_leaves_the_first_unwritten(
    workspace: Store, mapping: Path, deals_file: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "deals_broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(InputFileError, match=r"deals_broken\.xlsx"):
        import_files(workspace, [deals_file, broken], mapping=mapping)
    assert workspace.count("deals") == 0


def test_database_failure_rolls_back_every_file(
    workspace: Store,
    mapping: Path,
    deals_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace.set_settings(base_currency="USD")
    rates = write(tmp_path / "rates.csv", "Дата;Валюта;Курс\n01.02.2024;RUB;0,0110\n")
    real_upsert = DuckDBTransaction.upsert
    calls: list[str] = []

    def failing_upsert(self: DuckDBTransaction, name: str, *args: object) -> object:
        calls.append(name)
        if len(calls) == 2:  # the rates are written, then the deals fail
            self.execute("SELECT * FROM no_such_table")
        return real_upsert(self, name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(DuckDBTransaction, "upsert", failing_upsert)
    with pytest.raises(ImportAborted, match="rolled back"):
        import_files(workspace, [rates, deals_file], mapping=mapping)
    assert calls == ["fx_rates", "deals"]
    assert workspace.count("fx_rates") == 0 and workspace.count("deals") == 0


def test_xlsx_with_real_date_and_number_cells(
    workspace: Store, mapping: Path, tmp_path: Path
) -> None:
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Номер", "Клиент", "Сумма", "Валюта", "Дата закрытия", "Этап"])
    sheet.append(["X-1", "Альфа", 1500.5, "RUB", dt.datetime(2024, 5, 17), "Выиграна"])
    sheet.append([1002, "Бета", 20, "RUB", dt.date(2024, 6, 1), "Проиграна"])
    path = tmp_path / "deals.xlsx"
    book.save(path)
    import_files(workspace, [path], mapping=mapping)
    rows = {r["deal_id"]: r for r in deals(workspace)}
    assert set(rows) == {"X-1", "1002"}
    assert rows["X-1"]["amount_original"] == 1500.5
    assert str(rows["1002"]["closed_at"])[:10] == "2024-06-01"


def test_mapping_errors_name_the_line(workspace: Store, tmp_path: Path, deals_file: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source_system: x\ntables:\n  - entity: deals\n    columns:\n      deal_id: Номер\n"
        "      amonut: Сумма\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match=r"bad.yaml line 3: .*no column 'amonut'"):
        import_files(workspace, [deals_file], mapping=bad)


def test_generic_source_needs_a_mapping(workspace: Store, deals_file: Path) -> None:
    with pytest.raises(MappingError, match="needs a mapping file"):
        import_files(workspace, [deals_file], source="generic")


def test_batches_record_files_and_counts(workspace: Store, mapping: Path, deals_file: Path) -> None:
    report = import_files(workspace, [deals_file], mapping=mapping)
    [batch] = workspace.to_arrow("import_batches").to_pylist()
    assert batch["batch_id"] == report.batch_id
    assert json.loads(batch["files"]) == ["сделки.csv"]
    assert (batch["rows_in"], batch["rows_loaded"], batch["rows_rejected"]) == (3, 3, 0)
    assert batch["finished_at"] >= batch["started_at"]


def test_base_currency_is_fixed_once_money_is_stored(
    workspace: Store, mapping: Path, deals_file: Path
) -> None:
    import_files(workspace, [deals_file], mapping=mapping, base_currency="rub")
    with pytest.raises(UserError, match="cannot become EUR"):
        import_files(workspace, [deals_file], mapping=mapping, base_currency="EUR")
    assert workspace.base_currency == "RUB"


def test_blank_lines_and_report_footer_are_not_rows(
    workspace: Store, mapping: Path, tmp_path: Path
) -> None:
    text = (
        HEADER
        + ROWS[0]
        + ";;;;;\n"
        + ROWS[1]
        + "\n"
        + '"Confidential Information - Do Not Distribute"\n'
        + '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
    )
    path = write(tmp_path / "deals_report.csv", text)
    report = import_files(workspace, [path], mapping=mapping)
    assert report.rejects == []
    assert report.files[0].rows_in == 2
    assert [r["deal_id"] for r in deals(workspace)] == ["D-1", "D-2"]


def test_rejects_csv_neutralises_formula_like_cells(tmp_path: Path) -> None:
    from crmroi.ingest.rejects import write_rejects_csv

    path = tmp_path / "rejects.csv"
    rejects = [Reject("f.csv", 2, "amount", "cannot read", '=HYPERLINK("http://x")')]
    assert write_rejects_csv([*rejects, Reject("f.csv", 3, "@x", "-bad", "+1")], path) == 2
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1] == 'f.csv,2,amount,cannot read,"\'=HYPERLINK(""http://x"")"'
    assert lines[2] == "f.csv,3,'@x,'-bad,'+1"


@pytest.mark.parametrize(
    "numbers", ['{decimal: ","}', '{decimal: ".", thousands: ","}', '{thousands: "."}', "{}"]
)
def test_numbers_written_as_numbers_in_the_mapping_keep_their_value(
    workspace: Store, tmp_path: Path, numbers: str
) -> None:
    """A constant or value-map target written as a YAML number (1500.5) is a number,
    whatever decimal separator the file's own numbers use."""
    text = f"""
source_system: crm_ru
tables:
  - entity: deals
    files: ["сделки*.csv"]
    numbers: {numbers}
    columns:
      deal_id: Номер
      account_id: Клиент
      cost: {{column: Этап, map: {{Выиграна: 250.75}}, default: 0.5}}
    constants: {{amount: 1500.5, kind: new, currency: RUB}}
"""
    path = tmp_path / "numbers.yaml"
    path.write_text(text, encoding="utf-8")
    rows = "".join(r.replace("1 234,50", "1") for r in ROWS)
    deals_file = write(tmp_path / "сделки.csv", HEADER + rows)
    report = import_files(workspace, [deals_file], mapping=path)
    assert report.rows_loaded == 3 and not report.rejects
    stored = deals(workspace)
    assert [r["amount"] for r in stored] == [1500.5, 1500.5, 1500.5]
    assert [r["cost"] for r in stored] == [250.75, 0.5, 0.5]
