"""Header rows below title rows, and repeated header names, in CSV and XLSX exports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from crmroi.errors import MappingError
from crmroi.ingest.headers import dedupe_names, find_header_row
from crmroi.ingest.mapping import parse_mapping
from crmroi.ingest.pipeline import import_files
from crmroi.ingest.reading import read_raw
from crmroi.store import Store

# A Salesforce report exported with its title block ("Export Details" in Excel).
TITLE = [
    ["Opportunities by Stage"],
    ["Generated 01.02.2024 by Anna Admin"],
    [],
]
HEADER = [
    "Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Amount",
    "Close Date", "Created Date", "Closed", "Won",
]  # fmt: skip
ROWS = [
    ["Anna", "Acme", "Acme - 100 seats", "Closed Won", "1000", "2024-01-10", "2023-12-01",
     "true", "true"],
    ["Ben", "Globex", "Globex renewal", "Closed Lost", "abc", "2024-01-12", "2023-12-05",
     "true", "false"],
    ["Ben", "Initech", "Initech pilot", "Prospecting", "300", "", "2024-01-02", "false", "false"],
]  # fmt: skip


def csv_text(rows: list[list[str]]) -> str:
    return "".join(",".join(f'"{c}"' if "," in c else c for c in r) + "\n" for r in rows)


def test_find_header_row() -> None:
    assert find_header_row([HEADER, *ROWS]) == 0
    assert find_header_row([*TITLE, HEADER, *ROWS]) == 3
    assert find_header_row([["Report", "2024"], HEADER, *ROWS], ["Amount", "Stage"]) == 1
    assert find_header_row([["a", "b"], ["c", "d"]], ["x"]) == 0  # no evidence: row 1
    # a header with one named cell is still the header when the mapping reads that name
    assert find_header_row([["id", None, None], ["1", "2", "3"]], ["id"]) == 0


def test_dedupe_names() -> None:
    names, dupes = dedupe_names(["Amount", "Stage", "amount", "Amount (2)", "Amount"])
    assert names == ["Amount", "Stage", "amount (3)", "Amount (2)", "Amount (4)"]
    assert dupes == {"Amount": [1, 3, 5]}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_title_rows_above_the_header(workspace: Store, tmp_path: Path, suffix: str) -> None:
    """The preset finds the header below the title; rows keep the numbers a user sees."""
    path = tmp_path / f"report{suffix}"
    if suffix == ".csv":
        path.write_text(csv_text([*TITLE, HEADER, *ROWS]), encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for row in [*TITLE, HEADER, *ROWS]:
            sheet.append(row or [None])
        book.save(path)
    raw = read_raw(path, header_names=["Opportunity Name", "Amount", "Stage"])
    assert list(raw.frame.columns) == HEADER and len(raw.frame) == 3
    assert raw.first_data_line == 5
    report = import_files(workspace, [path], source="salesforce")
    assert report.rows_loaded == 2
    (reject,) = report.rejects
    assert (reject.row, reject.column) == (6, "Amount")  # the spreadsheet's own row number
    stored = workspace.table("deals").to_pandas().set_index("deal_id")
    assert stored.loc["Acme - 100 seats", "amount"] == 1000.0


def test_header_row_in_the_mapping(workspace: Store, tmp_path: Path) -> None:
    """`header_row:` names the header when nothing else finds it (a two-cell title)."""
    path = tmp_path / "deals.csv"
    path.write_text("Report,2024\nid,value\n1,10\n2,20\n", encoding="utf-8")
    text = (
        "source_system: t\ntables:\n  - entity: deals\n    files: ['deals*']\n"
        "    columns: {deal_id: id, amount: value}\n    constants: {is_won: false}\n"
        "    csv: {header_row: 2}\n"
    )
    report = import_files(workspace, [path], mapping=parse_mapping(text, "m.yaml"))
    assert report.rows_loaded == 2 and report.rejects == []
    with pytest.raises(
        MappingError, match="header_row: Input should be greater than or equal to 1"
    ):
        parse_mapping(text.replace("header_row: 2", "header_row: 0"), "m.yaml")


def test_repeated_header_names(workspace: Store, tmp_path: Path) -> None:
    """A repeated column the mapping does not read is harmless; one it reads is refused."""
    path = tmp_path / "deals.csv"
    path.write_text("id,value,Note,Note\n1,10,a,b\n2,20,c,d\n", encoding="utf-8")
    raw = read_raw(path)
    assert list(raw.frame.columns) == ["id", "value", "Note", "Note (2)"]
    assert raw.duplicates == {"Note": [3, 4]}
    base = "source_system: t\ntables:\n  - entity: deals\n    columns: {deal_id: id, amount: value"
    fine = parse_mapping(base + "}\n    constants: {is_won: false}\n", "m.yaml")
    assert import_files(workspace, [path], mapping=fine).rows_loaded == 2
    reads = parse_mapping(base + ", stage: Note}\n    constants: {is_won: false}\n", "m.yaml")
    with pytest.raises(MappingError, match=r"2 columns named 'Note' \(columns 3, 4\)"):
        import_files(workspace, [path], mapping=reads)


def test_cli_header_row(tmp_path: Path) -> None:
    """`crmroi import --header-row 2` reads a file whose two-cell title nothing else finds."""
    path = tmp_path / "deals.csv"
    path.write_text("Report,2024\nid,value\n1,10\n2,20\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "source_system: t\ntables:\n  - entity: deals\n"
        "    columns: {deal_id: id, amount: value}\n    constants: {is_won: false}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    args = [sys.executable, "-m", "crmroi", "import", str(tmp_path / "ws"), str(path)]
    args += ["--mapping", str(mapping), "--header-row", "2"]
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "Loaded 2 of 2 rows; refused 0." in result.stdout
