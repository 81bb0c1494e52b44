"""Tests for crmroi.ingest.reading: encodings, delimiters, quoting, XLSX and broken files."""

from __future__ import annotations

import contextlib
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from crmroi.errors import InputFileError
from crmroi.ingest.reading import RawTable, detect_delimiter, detect_encoding, read_raw

DATA = Path(__file__).parents[2] / "shared" / "data"

RUSSIAN = (
    "Имя;Компания;Сумма;Дата\n"
    "Иван Петров;ООО «Ромашка»;1 234,50;05.03.2024\n"
    "Ольга Смирнова;АО Вектор;99,90;06.03.2024\n"
    "Сергей Кузнецов;ИП Жуков;15 000;07.03.2024\n"
)
CHINESE = (
    "客户名称,金额,日期,负责人\n"
    "北京科技有限公司,1234.5,2018/2/1,张三\n"
    "上海贸易公司,99,2018/2/2,李四\n"
    "广州电子商务平台,15000,2018/3/15,王五\n"
)
PERSIAN = "نام,مبلغ,تاریخ\nعلی رضایی,۱۲۳۴,۱۴۰۲/۰۱/۱۵\nمریم احمدی,۵۶۷,۱۴۰۲/۰۲/۲۰\n"


def write(tmp_path: Path, data: bytes | str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def first_row(table: RawTable) -> list[str | None]:
    return list(table.frame.iloc[0])


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        (RUSSIAN, "utf-8", "utf-8"),
        (RUSSIAN, "utf-8-sig", "utf-8-sig"),
        (RUSSIAN, "utf-16", "utf-16"),
        (RUSSIAN, "utf-16-be", "utf-16-be"),
        (RUSSIAN, "cp1251", "cp1251"),
        (CHINESE, "utf-8", "utf-8"),
        (CHINESE, "utf-8-sig", "utf-8-sig"),
        (CHINESE, "utf-16", "utf-16"),
        (CHINESE, "gbk", "gbk"),
        (PERSIAN, "utf-8", "utf-8"),
        (PERSIAN, "utf-8-sig", "utf-8-sig"),
        (PERSIAN, "utf-16", "utf-16"),
        (PERSIAN, "utf-16-le", "utf-16-le"),
    ],
)
def test_encoding_round_trip(tmp_path: Path, text: str, encoding: str, expected: str) -> None:
    path = write(tmp_path, text.encode(encoding))
    table = read_raw(path)
    assert table.encoding == expected
    lines = [line for line in text.splitlines()]
    delim = ";" if text is RUSSIAN else ","
    assert table.delimiter == delim
    assert list(table.frame.columns) == lines[0].split(delim)
    assert [list(r) for r in table.frame.itertuples(index=False)] == [
        line.split(delim) for line in lines[1:]
    ]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Привет, мир! Это тестовая строка на русском языке.", "cp1251"),
        ("Клиент;Сделка\nЁлка;Щука\n", "cp1251"),
        ("你好，世界！这是一个中文测试字符串。", "gbk"),
        ("销售额,客户\n一百,王\n", "gbk"),
    ],
)
def test_detect_cp1251_vs_gbk(text: str, encoding: str) -> None:
    assert detect_encoding(text.encode(encoding)) == encoding


def test_given_encoding_is_honoured(tmp_path: Path) -> None:
    # cp1251 bytes read as given cp1251; and a wrong given encoding names the offset
    path = write(tmp_path, RUSSIAN.encode("cp1251"))
    assert read_raw(path, encoding="cp1251").frame.iloc[0, 0] == "Иван Петров"
    with pytest.raises(InputFileError, match=r"utf-8.*offset 0"):
        read_raw(path, encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown encoding"):
        read_raw(path, encoding="no-such-codec")


def test_bom_stripped_from_header(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf id , name\n1,a\n")
    table = read_raw(path)
    assert list(table.frame.columns) == ["id", "name"]


def test_nul_bytes_are_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1\x00,2\n")
    assert first_row(read_raw(path)) == ["1", "2"]


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_each_delimiter(tmp_path: Path, delim: str) -> None:
    rows = [["id", "name", "amount"], ["1", "Acme, Inc; x|y", "10,5"], ["2", "Beta", ""]]
    lines = [delim.join(f'"{v}"' if any(c in v for c in ",;|\t") else v for v in r) for r in rows]
    path = write(tmp_path, "\n".join(lines) + "\n", "f.txt")
    table = read_raw(path)
    assert table.delimiter == delim
    assert first_row(table) == ["1", "Acme, Inc; x|y", "10,5"]
    assert list(table.frame.iloc[1]) == ["2", "Beta", None]
    assert read_raw(path, delimiter=delim).frame.shape == (2, 3)


def test_detect_delimiter_respects_quotes() -> None:
    sample = 'name;note\n"a, b, c";"x, y"\n"d, e";f\n'
    assert detect_delimiter(sample) == ";"
    assert detect_delimiter("only_one_column\nvalue\n") == ","
    assert detect_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"


def test_quoted_fields(tmp_path: Path) -> None:
    text = 'id,text,n\n1,"line one\nline two, with comma",3\n2,"she said ""hi""",4\n3,,5\n'
    table = read_raw(write(tmp_path, text))
    assert table.frame.shape == (3, 3)
    assert table.frame.iloc[0, 1] == "line one\nline two, with comma"
    assert table.frame.iloc[1, 1] == 'she said "hi"'
    assert table.frame.iloc[2, 1] is None
    assert set(table.frame.dtypes.astype(str)) == {"object"}
    assert table.first_data_line == 2
    assert table.bad_rows == {}


def test_crlf_and_blank_lines(tmp_path: Path) -> None:
    table = read_raw(write(tmp_path, b"a,b\r\n1,2\r\n\r\n3,4\r\n\r\n\r\n"))
    # interior blank line kept (row numbers stay right), trailing ones dropped
    assert table.frame.shape == (3, 2)
    assert list(table.frame.iloc[1]) == [None, None]
    assert table.row_number(2) == 4


# --------------------------------------------------------------------------- bad files


def test_ragged_rows(tmp_path: Path) -> None:
    text = "a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5,6,7\n1,2\n"
    table = read_raw(write(tmp_path, text))
    assert table.frame.shape == (3, 5)
    assert table.bad_rows == {3: "row has 7 fields, header has 5"}
    assert list(table.frame.iloc[1]) == ["1", "2", "3", "4", "5"]
    assert list(table.frame.iloc[2]) == ["1", "2", None, None, None]


def test_long_fields_recorded(tmp_path: Path) -> None:
    text = "a,b\n1," + "x" * 50 + "\n2,y\n"
    table = read_raw(write(tmp_path, text), max_field_chars=20)
    assert table.bad_rows == {2: "field in column b is longer than 20 characters"}
    assert table.frame.shape == (2, 2)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b",,\n1,2,3\n", "no header"),
    ],
)
def test_bad_text_files(tmp_path: Path, data: bytes, match: str) -> None:
    with pytest.raises(InputFileError, match=match):
        read_raw(write(tmp_path, data))


def test_header_only_and_unknown_extension(tmp_path: Path) -> None:
    table = read_raw(write(tmp_path, "a;b;c\n"))
    assert list(table.frame.columns) == ["a", "b", "c"]
    assert len(table.frame) == 0
    with pytest.raises(InputFileError, match="unknown file extension"):
        read_raw(write(tmp_path, "a,b\n", "f.json"))
    with pytest.raises(InputFileError, match="no such file"):
        read_raw(tmp_path / "missing.csv")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".xlsx"]))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    try:
        table = read_raw(path)
    except InputFileError:
        return
    assert isinstance(table, RawTable)
    for col in table.frame.columns:
        assert all(v is None or isinstance(v, str) for v in table.frame[col])


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=5), min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1251", "gbk", "latin-1"]),
    cut=st.integers(min_value=0, max_value=200),
    given_encoding=st.booleans(),
)
def test_truncated_and_random_encodings_never_crash(
    tmp_path: Path, rows: list[list[str]], encoding: str, cut: int, given_encoding: bool
) -> None:
    text = "\n".join(",".join(r) for r in rows)
    data = text.encode(encoding, errors="replace")[: max(len(text) - cut, 0) or None]
    path = tmp_path / "trunc.csv"
    path.write_bytes(data)
    with contextlib.suppress(InputFileError):
        read_raw(path, encoding=encoding if given_encoding else None)


# --------------------------------------------------------------------------- xlsx


def _workbook(tmp_path: Path, rows: list[list[object]], name: str = "f.xlsx") -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Deals"
    for row in rows:
        ws.append(row)
    other = wb.create_sheet("Other")
    other.append(["x"])
    other.append([1])
    path = tmp_path / name
    wb.save(path)
    return path


def test_xlsx_cells_to_strings(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path,
        [
            [" id ", "when", "stamp", "n", "x", "flag", "empty"],
            [12, dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 10, 20, 30), 3.0, 2.5, True, None],
            ["A-1", None, None, 0.1, -7, False, ""],
        ],
    )
    table = read_raw(path)
    assert table.sheet == "Deals"
    assert table.encoding is None and table.delimiter is None
    assert list(table.frame.columns) == ["id", "when", "stamp", "n", "x", "flag", "empty"]
    assert first_row(table) == ["12", "2024-03-05", "2024-03-05T10:20:30", "3", "2.5", "true", None]
    assert list(table.frame.iloc[1]) == ["A-1", None, None, "0.1", "-7", "false", None]
    assert read_raw(path, sheet="Other").frame.iloc[0, 0] == "1"
    with pytest.raises(InputFileError, match="no sheet named 'Nope'"):
        read_raw(path, sheet="Nope")


def test_xlsx_ragged_and_duplicates(tmp_path: Path) -> None:
    path = _workbook(tmp_path, [["a", "b"], [1, 2, 3], [4]], "r.xlsm")
    table = read_raw(path)
    assert table.bad_rows == {2: "row has 3 fields, header has 2"}
    assert list(table.frame.iloc[1]) == ["4", None]
    # a repeated header name is kept apart (refused only if a mapping reads it: test_headers)
    dup = _workbook(tmp_path, [["a", "a"], [1, 2]], "d.xlsx")
    table = read_raw(dup)
    assert list(table.frame.columns) == ["a", "a (2)"] and table.duplicates == {"a": [1, 2]}


def test_text_duplicates_kept_apart(tmp_path: Path) -> None:
    table = read_raw(write(tmp_path, " a ,b,a\n1,2,3\n", "d.csv"))
    assert list(table.frame.columns) == ["a", "b", "a (2)"] and table.duplicates == {"a": [1, 3]}
    assert list(table.frame.iloc[0]) == ["1", "2", "3"]


def test_fake_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n1,2\n", "renamed.xlsx")
    with pytest.raises(InputFileError, match="not a real XLSX"):
        read_raw(path)
    zipped = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    with pytest.raises(InputFileError):
        read_raw(zipped)


# --------------------------------------------------------------------------- real files


def _shared(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip("shared data folder ../shared/data is absent")
    return path


def test_real_olist_files() -> None:
    leads = read_raw(_shared("olist_funnel", "olist_marketing_qualified_leads_dataset.csv"))
    assert leads.delimiter == ","
    assert leads.encoding == "utf-8"
    assert list(leads.frame.columns) == ["mql_id", "first_contact_date", "origin"]
    assert len(leads.frame) == 8000
    assert leads.frame["origin"].isna().sum() == 60
    deals = read_raw(_shared("olist_funnel", "olist_closed_deals_dataset.csv"))
    assert len(deals.frame) == 842
    assert deals.frame.columns[4] == "won_date"
    assert deals.bad_rows == {}


def test_real_maven_pipeline() -> None:
    table = read_raw(_shared("maven_crm", "sales_pipeline.csv"))
    assert table.frame.shape == (8800, 8)
    assert table.frame["close_date"].isna().sum() > 0
