"""Bounded inputs: hostile files (generated here) are refused or read cheaply, never padded.

Each hostile file is one a security probe used to take the server down (issue 17): an XLSX
declaring A1:XFD1048576, one cell in column XFD on 20,000 rows, a 100,000-column CSV, a
416-byte alias bomb, a backtracking pattern, a case with thousands of lines. The ones whose
old behaviour was to run out of memory or time run in a subprocess with a timeout and
report their peak memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from crmroi.errors import ConfigurationError, InputFileError, MappingError
from crmroi.finance.case import case_from_text
from crmroi.ingest.mapping import parse_mapping
from crmroi.ingest.patterns import compile_pattern, pattern_matches
from crmroi.ingest.reading import read_raw
from crmroi.limits import current_limits

SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    """Limits are read from the environment once per process: re-read them per test."""
    current_limits.cache_clear()
    compile_pattern.cache_clear()
    yield
    current_limits.cache_clear()
    compile_pattern.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """A limit a test sets (environment and cache) never reaches the next test."""
    yield
    current_limits.cache_clear()
    compile_pattern.cache_clear()


def set_limit(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    monkeypatch.setenv(f"CRMROI_{name.upper()}", str(value))
    current_limits.cache_clear()
    compile_pattern.cache_clear()


def xlsx_with_sheet(path: Path, sheet_xml: str) -> Path:
    """A real workbook (written by openpyxl) whose first sheet's XML is `sheet_xml`."""
    wb = Workbook()
    wb.active["A1"] = "placeholder"
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = sheet_xml.encode() if info.filename == SHEET else src.read(info.filename)
            dst.writestr(info.filename, data)
    plain.unlink()
    return path


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: str, dimension: str = "A1:B3") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def run_bounded(code: str, timeout: float = 60) -> dict[str, object]:
    """Run `code` (which sets `result`) in a fresh interpreter; result and peak RSS (MiB).

    The peak is the interpreter's own VmHWM: `ru_maxrss` would also carry the resident
    size of the test process it was forked from (Linux keeps it across exec).
    """
    script = (
        "import json, re\n" + code + "\nstatus = open('/proc/self/status').read()\n"
        "result['peak_mib'] = int(re.search(r'VmHWM:\\s*(\\d+)', status).group(1)) / 1024\n"
        "print(json.dumps(result))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


READ_IN_SUBPROCESS = """
from pathlib import Path
from crmroi.ingest.reading import read_raw
table = read_raw(Path({path!r}))
result = {{'shape': list(table.frame.shape), 'bad': len(table.bad_rows),
           'first': list(table.frame.iloc[0]) if len(table.frame) else [],
           'bad_2': table.bad_rows.get(2)}}
"""


# --------------------------------------------------------------------------- XLSX


def test_xlsx_declaring_the_whole_sheet_reads_only_its_cells(tmp_path: Path) -> None:
    rows = (
        f'<row r="1">{inline("A1", "deal_id")}{inline("B1", "amount")}</row>'
        f'<row r="2">{inline("A2", "D1")}<c r="B2"><v>10</v></c></row>'
    )
    path = xlsx_with_sheet(tmp_path / "bomb.xlsx", sheet_xml(rows, "A1:XFD1048576"))
    assert path.stat().st_size < 10_000
    result = run_bounded(READ_IN_SUBPROCESS.format(path=str(path)), timeout=60)
    assert result["shape"] == [1, 2]
    assert result["first"] == ["D1", "10"]
    assert float(str(result["peak_mib"])) < 600


def test_xlsx_with_a_cell_in_column_xfd_on_every_row(tmp_path: Path) -> None:
    rows = [f'<row r="1">{inline("A1", "deal_id")}{inline("B1", "amount")}</row>']
    rows += [
        f'<row r="{r}">{inline(f"A{r}", f"D{r}")}<c r="B{r}"><v>{r}</v></c>'
        f'<c r="XFD{r}"><v>1</v></c></row>'
        for r in range(2, 20_002)
    ]
    path = xlsx_with_sheet(tmp_path / "wide.xlsx", sheet_xml("".join(rows)))
    result = run_bounded(READ_IN_SUBPROCESS.format(path=str(path)), timeout=120)
    assert result["shape"] == [20_000, 2]
    assert result["bad"] == 20_000  # every row reported: it has a value right of the header
    assert float(str(result["peak_mib"])) < 800
    assert result["bad_2"] == "row has 16384 fields, header has 2"


def test_xlsx_header_wider_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "max_columns", 3)
    cells = "".join(inline(f"{c}1", f"h{c}") for c in "ABCD")
    path = xlsx_with_sheet(tmp_path / "w.xlsx", sheet_xml(f'<row r="1">{cells}</row>'))
    with pytest.raises(InputFileError, match=r"4 columns; at most 3 .*CRMROI_MAX_COLUMNS"):
        read_raw(path)


def test_xlsx_empty_rows_count_towards_the_cell_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "max_cells", 1_000)
    rows = (
        f'<row r="1">{inline("A1", "a")}{inline("B1", "b")}</row>'
        f'<row r="1000000">{inline("A1000000", "far")}</row>'
    )
    path = xlsx_with_sheet(tmp_path / "tall.xlsx", sheet_xml(rows))
    with pytest.raises(InputFileError, match=r"exceed the limit of 1,000 cells"):
        read_raw(path)


def test_xlsx_gaps_and_trailing_empty_rows_keep_row_numbers(tmp_path: Path) -> None:
    rows = (
        f'<row r="1">{inline("A1", "a")}{inline("C1", "c")}</row>'
        f'<row r="3">{inline("C3", "x")}</row>'
        '<row r="900000"><c r="A900000" s="1"/></row>'  # styled but empty: not a row
    )
    table = read_raw(xlsx_with_sheet(tmp_path / "gaps.xlsx", sheet_xml(rows)))
    assert list(table.frame.columns) == ["a", "column_2", "c"]
    assert table.frame.shape == (2, 3)
    assert list(table.frame.iloc[1]) == [None, None, "x"]
    assert table.row_number(1) == 3


def test_xlsx_declaring_a_huge_unpacked_size_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "max_xlsx_unpacked_bytes", 50_000)
    rows = "".join(f'<row r="{r}">{inline(f"A{r}", "x" * 50)}</row>' for r in range(1, 2_000))
    path = xlsx_with_sheet(tmp_path / "big.xlsx", sheet_xml(rows))
    with pytest.raises(InputFileError, match="CRMROI_MAX_XLSX_UNPACKED_BYTES"):
        read_raw(path)


# --------------------------------------------------------------------------- CSV


def test_csv_with_100000_columns_is_refused_before_parsing(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(100_000))
    path = tmp_path / "wide.csv"
    path.write_text(header + "\n" + ",".join("1" for _ in range(100_000)) + "\n")
    assert path.stat().st_size < 1_000_000
    code = (
        "from pathlib import Path\nfrom crmroi.errors import InputFileError\n"
        "from crmroi.ingest.reading import read_raw\n"
        f"try:\n    read_raw(Path({str(path)!r}))\n    result = {{'error': None}}\n"
        "except InputFileError as exc:\n    result = {'error': str(exc)}\n"
    )
    result = run_bounded(code, timeout=60)
    assert result["error"] == (
        "wide.csv: the header has 100,000 columns; at most 2,000 are read "
        "(setting CRMROI_MAX_COLUMNS)"
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(width=st.integers(1, 12), limit=st.integers(1, 12), rows=st.integers(0, 5))
def test_csv_column_limit_is_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int, limit: int, rows: int
) -> None:
    set_limit(monkeypatch, "max_columns", limit)
    path = tmp_path / "t.csv"
    lines = [",".join(f"h{i}" for i in range(width))]
    lines += [",".join(str(r * i) for i in range(width)) for r in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    if width > limit:
        with pytest.raises(InputFileError, match="CRMROI_MAX_COLUMNS"):
            read_raw(path)
    else:
        assert read_raw(path).frame.shape == (rows, width)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.integers(1, 30), width=st.integers(1, 6), limit=st.integers(1, 100))
def test_csv_cell_limit_counts_records_not_line_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int, width: int, limit: int
) -> None:
    set_limit(monkeypatch, "max_cells", limit)
    path = tmp_path / "t.csv"
    # every field holds a quoted line break, so lines overstate the records
    body = [",".join(f'"v{r}\n{i}"' for i in range(width)) for r in range(rows)]
    path.write_text(",".join(f"h{i}" for i in range(width)) + "\n" + "\n".join(body) + "\n")
    if (rows + 1) * width > limit:
        with pytest.raises(InputFileError, match="CRMROI_MAX_CELLS"):
            read_raw(path)
    else:
        assert read_raw(path).frame.shape == (rows, width)


@pytest.mark.parametrize("ragged", [False, True], ids=["fast-parser", "ragged-rows"])
def test_csv_field_longer_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ragged: bool
) -> None:
    set_limit(monkeypatch, "max_field_bytes", 1_000)
    extra = ",extra" if ragged else ""
    path = tmp_path / "long.csv"
    path.write_text(f"id,note\n1,short{extra}\n2,{'x' * 1_500}\n")
    with pytest.raises(InputFileError, match=r"longer than 1,000 characters.*FIELD_BYTES"):
        read_raw(path)


# --------------------------------------------------------------------------- YAML


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * fan) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    return "\n".join(lines) + f"\nsource_system: *a{levels - 1}\ntables: []\n"


def test_mapping_alias_bomb_is_refused() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 600
    with pytest.raises(MappingError, match=r"more than 50 YAML aliases.*line"):
        parse_mapping(bomb, "bomb.yaml")


def test_few_aliases_that_expand_hugely_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    set_limit(monkeypatch, "yaml_max_aliases", 1_000)
    with pytest.raises(MappingError, match="expands to more than 100,000 values"):
        parse_mapping(alias_bomb(levels=7, fan=9), "bomb.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source_system: " + "[" * 5_000 + "]" * 5_000 + "\ntables: []\n", "nested deeper"),
        ("source_system: &a [*a]\ntables: []\n", "refers to a value containing it"),
    ],
    ids=["deep", "recursive"],
)
def test_deep_and_recursive_yaml_is_refused(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_mapping(text, "m.yaml")
    with pytest.raises(ConfigurationError, match=message):
        case_from_text(text.replace("source_system", "name"), "case.yaml")


def test_alias_bomb_via_the_command_line_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    (tmp_path / "d.csv").write_text("id\n1\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmroi",
            "import",
            str(tmp_path / "ws"),
            str(tmp_path / "d.csv"),
            "--mapping",
            str(tmp_path / "bomb.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "more than 50 YAML aliases" in done.stderr
    assert done.stderr.strip().count("\n") == 0


@settings(max_examples=30, deadline=None)
@given(count=st.integers(0, 80))
def test_alias_count_limit_is_exact(count: int) -> None:
    refs = ", ".join(["*x"] * count)
    text = f"x: &x 1\nsource_system: s\ndescription: d\ntables: []\nextra: [{refs}]\n"
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, "m.yaml")
    # under the limit the file is parsed and refused for its unknown key; over it, for aliases
    assert ("YAML aliases" in str(caught.value)) == (count > 50)


# --------------------------------------------------------------------------- patterns


def test_backreference_pattern_is_refused_naming_the_line() -> None:
    text = (
        "source_system: s\ntables:\n  - entity: deals\n    columns:\n"
        "      deal_id: {column: id, pattern: '(a)\\1'}\n"
    )
    with pytest.raises(MappingError, match=r"m.yaml line 5: .*pattern.*not supported"):
        parse_mapping(text, "m.yaml")


def test_catastrophic_pattern_runs_in_linear_time() -> None:
    code = (
        "import pandas as pd\nfrom crmroi.ingest.patterns import pattern_matches\n"
        "values = pd.Series(['a' * 28 + 'b', 'a' * 5000 + 'b', 'aaa', None], dtype='string')\n"
        "result = {'hits': pattern_matches(values, r'(a+)+$').tolist()}\n"
    )
    # Python's re needs minutes for the 28-character value; RE2 is instant
    assert run_bounded(code, timeout=30)["hits"] == [False, False, True, False]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.text(alphabet="0Q36ab-", max_size=8)), max_size=12),
    pattern=st.sampled_from(["006", "00Q", "[0-9]+$", "a|b", "(ab)*-", "^$", "0{2}[36Q]"]),
)
def test_pattern_matches_agree_with_python_re(values: list[str | None], pattern: str) -> None:
    import re

    import pandas as pd

    series = pd.Series(values, dtype="string")
    expected = [v is not None and re.match(pattern, v) is not None for v in values]
    assert pattern_matches(series, pattern).tolist() == expected


def test_pattern_length_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    set_limit(monkeypatch, "pattern_max_chars", 10)
    with pytest.raises(ValueError, match="CRMROI_PATTERN_MAX_CHARS"):
        compile_pattern("a" * 11)


# --------------------------------------------------------------------------- cases


def test_case_with_too_many_lines_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    line = "  - {category: licence, amount: 10}\n"
    text = "name: big\ncosts:\n" + line * 501
    with pytest.raises(ConfigurationError, match=r"costs has 501 lines; at most 500"):
        case_from_text(text, "case.yaml")
    set_limit(monkeypatch, "case_max_lines", 600)
    assert len(case_from_text(text, "case.yaml").costs) == 501


def test_the_command_line_reads_exports_beyond_the_web_apps_cell_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2,000,001 rows x 30 columns is over the web app's 10M cells, not over the CLI's cap;
    an explicit CRMROI_MAX_CELLS wins over both; nothing outlives the block."""
    from crmroi.limits import COMMAND_LINE_MAX_CELLS, command_line_limits, current_limits

    monkeypatch.delenv("CRMROI_MAX_CELLS", raising=False)
    current_limits.cache_clear()
    assert current_limits().max_cells == 10_000_000
    with command_line_limits():
        assert current_limits().max_cells == COMMAND_LINE_MAX_CELLS >= 2_000_001 * 30
    assert current_limits().max_cells == 10_000_000
    set_limit(monkeypatch, "max_cells", 1234)
    with command_line_limits():
        assert current_limits().max_cells == 1234
