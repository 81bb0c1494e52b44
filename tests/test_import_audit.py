"""Exports an outside audit wrote the way users get them, that landed wrong or silently
guessed before: a lone "1.500" read as 1.5, totals rows imported as deals, a report footer
or a `sep=;` line that turned the delimiter into ",", a day/month order chosen for one
column against the evidence of the next, ids a spreadsheet rounded to 1.23457E+11, and
TRUE/FALSE as a Russian Excel saves them. Each file is written in its real encoding."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmroi.ingest.numbers import parse_numbers
from crmroi.ingest.pipeline import import_files
from crmroi.store import Store
from tests.test_import_cli_fuzz import run

NBSP = "\u00a0"
GENERIC = (
    "source_system: audit\ntables:\n  - entity: deals\n    columns:\n"
    "      deal_id: ID\n      name: Name\n      amount: Amount\n"
    "      created_at: Created\n      closed_at: Closed\n      is_won: Won\n"
)
HEAD = "ID,Name,Amount,Created,Closed,Won"


def mapping(tmp_path: Path, text: str = GENERIC) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def deals(store: Store) -> dict[str, dict[str, object]]:
    return {str(r["deal_id"]): r for r in store.to_arrow("deals").to_pylist()}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- numbers


def test_a_lone_dot_before_three_digits_groups_thousands_and_says_so(
    workspace: Store, tmp_path: Path
) -> None:
    """German amounts "1.500", "2.000", "12.750": 1500, 2000, 12750 (they were 1.5, 2.0,
    12.75 with no word), with a warning naming file, column and example."""
    rows = ["D1,A,1.500,2024-01-02,2024-02-01,true", "D2,B,2.000,2024-01-03,2024-02-02,false"]
    rows.append("D3,C,12.750,2024-01-04,2024-02-03,true")
    path = write(tmp_path / "deals.csv", "\n".join([HEAD, *rows]) + "\n")
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    got = {k: r["amount"] for k, r in deals(workspace).items()}
    assert got == {"D1": 1500.0, "D2": 2000.0, "D3": 12750.0}
    said = [w for w in report.summary.warnings if "1.500" in w]
    assert len(said) == 1 and "deals.csv" in said[0] and "'Amount'" in said[0]
    assert "3 numbers" in said[0] and 'decimal: "."' in said[0]


def test_a_decided_column_and_a_given_separator_are_not_warned(
    workspace: Store, tmp_path: Path
) -> None:
    """ "1.234,56" beside "1.500" decides the decimal comma: no warning; numbers: {decimal:
    "."} reads "1.500" as 1.5 on the user's word."""
    rows = ['D1,A,"1.234,56",2024-01-02,2024-02-01,true', "D2,B,1.500,2024-01-03,2024-02-02,no"]
    path = write(tmp_path / "deals.csv", "\n".join([HEAD, *rows]) + "\n")
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    assert {k: r["amount"] for k, r in deals(workspace).items()} == {"D1": 1234.56, "D2": 1500.0}
    assert not [w for w in report.summary.warnings if "separator" in w]
    given_text = GENERIC.replace("tables:", "tables:", 1) + '    numbers: {decimal: "."}\n'
    other = tmp_path / "other"
    other.mkdir()
    path = write(other / "d2.csv", f"{HEAD}\nD9,X,1.500,2024-01-02,2024-02-01,true\n")
    report = import_files(workspace, [path], mapping=mapping(other, given_text))
    assert deals(workspace)["D9"]["amount"] == 1.5
    assert not [w for w in report.summary.warnings if "separator" in w]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(1, 999), min_size=1, max_size=8),
    thousands=st.sampled_from([".", ","]),
)
def test_lone_groups_are_thousands_whatever_the_separator(
    values: list[int], thousands: str
) -> None:
    """In money, every "a.bcd" / "a,bcd" alone in its column is a * 1000 + bcd, each cell
    marked as guessed; an independent reference: int(cell without the separator)."""
    cells = [f"{v}{thousands}{(v * 7) % 1000:03d}" for v in values]
    parsed = parse_numbers(pd.Series(cells, dtype="string[pyarrow]"), money=True)
    assert list(parsed.values) == [float(c.replace(thousands, "")) for c in cells]
    assert parsed.guessed is not None and bool(parsed.guessed.all())
    assert not parsed.bad.any()
    # not money (a market index "101.250"): the decimal point stays the default, marked
    other = parse_numbers(pd.Series(cells, dtype="string[pyarrow]"))
    assert list(other.values) == [float(c.replace(",", "")) for c in cells]
    assert other.guessed is not None and bool(other.guessed.all())


# ---------------------------------------------------------------- totals rows


def test_totals_rows_are_left_out_not_imported(workspace: Store, tmp_path: Path) -> None:
    """A Chinese GBK export ending in 合计: the totals row is left out with a warning naming
    it (not refused: --strict still imports), never a deal with the sum as its amount."""
    zh = "商机编号,名称,金额,创建日期,关闭日期,赢单\n"
    zh += 'S001,北京科技有限公司,"￥1,234.50",2024/2/1,2024/3/15,是\n'
    zh += 'S002,上海贸易公司,￥980.00,2024/2/3,2024/3/20,否\n合计,,"￥2,214.50",,,\n'
    zh_map = (
        "source_system: zh\ntables:\n  - entity: deals\n    columns: {deal_id: 商机编号, "
        "name: 名称, amount: 金额, created_at: 创建日期, closed_at: 关闭日期, is_won: 赢单}\n"
    )
    path = write(tmp_path / "zh.csv", zh, "gbk")
    report = import_files(workspace, [path], mapping=mapping(tmp_path, zh_map), base_currency="CNY")
    assert sorted(deals(workspace)) == ["S001", "S002"]
    assert not report.rejects and report.files[0].rows_in == 2
    assert report.summary.warnings == [
        "zh.csv: rows 4 ('合计') are totals of the rows above, not records; left out"
    ]


def test_a_salesforce_report_footer_keeps_its_semicolons(workspace: Store, tmp_path: Path) -> None:
    """A Salesforce report in the Russian locale (cp1251, ";", "1 234,56" with no-break
    spaces) ending in "Итого" and the copyright lines: read with ";" (the footer's commas
    made it ","), the totals row left out with a warning, the three deals exact."""
    head = "Opportunity Name;Account Name;Stage;Amount;Close Date;Created Date;Won;Closed"
    lines = [
        head,
        f"Поставка станков;ООО Ромашка;Closed Won;1{NBSP}234,56;31.01.2024;05.01.2024;1;1",
        "Сервис 2024;АО Вектор;Closed Lost;980,00;15.02.2024;10.01.2024;0;1",
        f"Лицензии «Про»;ИП Ёлкин;Negotiation;12{NBSP}000,00;28.03.2024;13.02.2024;0;0",
        f"Итого (3 записи);;;14{NBSP}214,56;;;;",
        "",
        "Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved.",
        "Confidential Information - Do Not Distribute",
        "Generated By:  Иван Петров  03.04.2024 10:12",
    ]
    path = write(tmp_path / "report.csv", "\r\n".join(lines) + "\r\n", "cp1251")
    report = import_files(workspace, [path], source="salesforce", strict=True)
    got = {k: (r["amount"], r["closed_at"]) for k, r in deals(workspace).items()}
    assert got == {
        "Поставка станков": (1234.56, dt.datetime(2024, 1, 31)),
        "Сервис 2024": (980.0, dt.datetime(2024, 2, 15)),
        "Лицензии «Про»": (12000.0, dt.datetime(2024, 3, 28)),
    }
    assert not report.rejects
    assert report.summary.warnings == [
        "report.csv: rows 5 ('Итого (3 записи)') are totals of the rows above, not records; "
        "left out"
    ]


def test_a_company_called_total_is_a_record(workspace: Store, tmp_path: Path) -> None:
    """A last row whose first cell is "Total" but which fills every cell is kept."""
    text = f"Company,{HEAD}\nAcme,D1,A,100,2024-01-02,2024-02-01,true\n"
    text += "Total,D2,B,200,2024-01-03,2024-02-02,false\n"
    path = write(tmp_path / "deals.csv", text)
    import_files(workspace, [path], mapping=mapping(tmp_path))
    assert sorted(deals(workspace)) == ["D1", "D2"]


# ---------------------------------------------------------------- delimiter


def test_a_sep_line_gives_the_delimiter(workspace: Store, tmp_path: Path) -> None:
    """UTF-8 with BOM, Excel's "sep=;" line and empty trailing columns: ";" (it was read
    as "," and refused as having no ID column)."""
    text = "sep=;\r\nID;Name;Amount;Created;Closed;Won;;;\r\n"
    text += "D1;A;1,5;02.01.2024;01.02.2024;1;;;\r\nD2;B;2;03.01.2024;13.02.2024;0;;;\r\n"
    path = tmp_path / "deals.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    got = {k: (r["amount"], r["created_at"]) for k, r in deals(workspace).items()}
    assert got == {"D1": (1.5, dt.datetime(2024, 1, 2)), "D2": (2.0, dt.datetime(2024, 1, 3))}
    assert report.files[0].delimiter == ";"


# ---------------------------------------------------------------- dates


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    created=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12)), min_size=1, max_size=6),
    late_day=st.integers(13, 28),
    sep=st.sampled_from(["/", "-"]),
)
def test_one_column_shows_the_order_for_the_whole_file(
    tmp_path_factory: pytest.TempPathFactory,
    created: list[tuple[int, int]],
    late_day: int,
    sep: str,
) -> None:
    """Created dates all ambiguous, one Closed date day-first (13 or later): every date is
    day-first (Created used to be read month-first from the "/" alone), with no warning."""
    tmp_path = tmp_path_factory.mktemp("order")
    lines = [HEAD]
    for i, (day, month) in enumerate(created):
        closed = f"{late_day:02d}{sep}03{sep}2024" if i == 0 else f"01{sep}04{sep}2024"
        lines.append(f"D{i},N,10,{day:02d}{sep}{month:02d}{sep}2024,{closed},true")
    path = write(tmp_path / "deals.csv", "\n".join(lines) + "\n")
    store = Store.open(tmp_path / "ws", create=True)
    try:
        report = import_files(store, [path], mapping=mapping(tmp_path))
        got = deals(store)
    finally:
        store.close()
    for i, (day, month) in enumerate(created):
        assert got[f"D{i}"]["created_at"] == dt.datetime(2024, month, day)
    assert got["D0"]["closed_at"] == dt.datetime(2024, 3, late_day)
    assert not [w for w in report.summary.warnings if "day-first" in w]


def test_an_order_nothing_tells_is_said_and_can_be_given(tmp_path: Path) -> None:
    """01/02/2024 and 03/04/2024 alone: read month-first (the "/" convention) with a
    warning naming file, column and example; --date-order DMY reads them day-first."""
    text = f"{HEAD}\nD1,A,10,01/02/2024,03/04/2024,true\nD2,B,20,05/06/2024,07/08/2024,no\n"
    path = write(tmp_path / "deals.csv", text)
    m = mapping(tmp_path)
    code, out = run(
        ["import", str(tmp_path / "ws"), str(path), "--mapping", str(m), "--format", "json"]
    )
    assert code == 0
    warnings = json.loads(out)["warnings"]
    said = [w for w in warnings if "'01/02/2024'" in w]
    assert len(said) == 1 and "'Created'" in said[0] and "read as MDY" in said[0]
    assert "--date-order DMY" in said[0]
    code, out = run(
        ["import", str(tmp_path / "ws2"), str(path), "--mapping", str(m), "--date-order", "DMY"]
    )
    assert code == 0, out
    store = Store.open(tmp_path / "ws2")
    try:
        got = deals(store)
    finally:
        store.close()
    assert got["D1"]["created_at"] == dt.datetime(2024, 2, 1)
    assert got["D2"]["closed_at"] == dt.datetime(2024, 8, 7)


def test_a_dotted_order_nothing_tells_is_said_day_first(tmp_path: Path) -> None:
    """01.02.2024 alone: the "." convention reads it day-first, and the warning says so
    (the order named is the one the dates were read in, not the "/" one)."""
    text = f"{HEAD}\nD1,A,10,01.02.2024,03.04.2024,true\nD2,B,20,05.06.2024,07.08.2024,no\n"
    path = write(tmp_path / "deals.csv", text)
    code, out = run(
        ["import", str(tmp_path / "ws"), str(path), "--mapping", str(mapping(tmp_path)),
         "--format", "json"]
    )  # fmt: skip
    assert code == 0, out
    said = [w for w in json.loads(out)["warnings"] if "'01.02.2024'" in w]
    assert len(said) == 1 and "read as DMY" in said[0] and "--date-order MDY" in said[0]
    store = Store.open(tmp_path / "ws")
    try:
        assert deals(store)["D1"]["created_at"] == dt.datetime(2024, 2, 1)
    finally:
        store.close()


# ---------------------------------------------------------------- ids and booleans


def test_ids_a_spreadsheet_rounded_are_refused(workspace: Store, tmp_path: Path) -> None:
    """HubSpot record ids re-saved by Excel as 1.23457E+11 (or 1,23457E+11): the id is
    lost, so the row is refused with that reason rather than stored under a wrong id."""
    text = f"{HEAD}\n1.23457E+11,A,10,2024-01-02,2024-02-01,true\n"
    text += '"1,23458E+11",B,20,2024-01-03,2024-02-02,false\n123456789012,C,30,2024-01-04,,no\n'
    path = write(tmp_path / "deals.csv", text)
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    assert sorted(deals(workspace)) == ["123456789012"]
    assert [r.row for r in report.rejects] == [2, 3]
    assert all("scientific notation" in r.reason for r in report.rejects)


def test_true_and_false_as_spreadsheets_of_other_languages_save_them(
    workspace: Store, tmp_path: Path
) -> None:
    """A cp1251 file from a Russian Excel writes ИСТИНА and ЛОЖЬ (Bulgarian НЕИСТИНА,
    German WAHR/FALSCH, French VRAI/FAUX): read, not refused."""
    cells = {"ИСТИНА": True, "ЛОЖЬ": False, "НЕИСТИНА": False, "WAHR": True, "FALSCH": False}
    cells |= {"VRAI": True, "FAUX": False}
    lines = [HEAD]
    lines += [f"D{i},Иван Петров,1,2024-01-02,2024-02-01,{c}" for i, c in enumerate(cells)]
    path = write(tmp_path / "deals.csv", "\n".join(lines) + "\n", "cp1251")
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    assert not report.rejects
    assert report.files[0].encoding == "cp1251"
    got = deals(workspace)
    assert [got[f"D{i}"]["is_won"] for i in range(len(cells))] == list(cells.values())
    assert got["D0"]["name"] == "Иван Петров"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Иван Петров;ИСТИНА\nЛОЖЬ;НЕИСТИНА\nООО ВЕКТОР;Да\n", "cp1251"),
        ("北京科技有限公司,是\n上海贸易公司,否\n张三 李四 王五 赵六\n", "gbk"),
        ("是\n否\n是\n", "gbk"),
        ("阿里巴巴 华为 小米 百度 京东 赢单 输单 商机 客户 销售 金额 创建日期 关闭日期\n", "gbk"),
    ],
)
def test_uppercase_russian_is_not_read_as_chinese(text: str, encoding: str) -> None:
    """Uppercase cp1251 words are valid GBK of common characters ("ИСТИНА" read as
    "妊胰屠"); the words' shape tells them apart, and Chinese stays Chinese."""
    from crmroi.ingest.encodings import detect_encoding

    assert detect_encoding(text.encode(encoding)) == encoding


# ---------------------------------------------------------------- second round


def test_a_utf8_export_with_a_line_in_another_encoding(workspace: Store, tmp_path: Path) -> None:
    """A UTF-8 export with one line appended in cp1252 was read whole as cp1252, every
    Cyrillic name garbled ("Ð˜Ð²Ð°Ð½"); now UTF-8, and the odd row refused with the
    reason."""
    data = f"{HEAD}\r\nD1,Иван Петров,10,2024-01-02,2024-02-01,true\r\n".encode()
    data += "D2,Müller,20,2024-01-03,2024-02-02,false\r\n".encode()
    data += "D3,Café Noël,30,2024-01-04,2024-02-03,false\r\n".encode("cp1252")
    path = tmp_path / "deals.csv"
    path.write_bytes(data)
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    got = {k: r["name"] for k, r in deals(workspace).items()}
    assert got == {"D1": "Иван Петров", "D2": "Müller"}
    assert [(r.row, "not UTF-8" in r.reason) for r in report.rejects] == [(4, True)]


def test_a_cp1251_file_is_not_taken_for_broken_utf8() -> None:
    """Russian cp1251 text holds a UTF-8 sequence only by chance ("С»" in "ЛЮКС»"): it
    is still read as cp1251, not as UTF-8 with refused rows."""
    from crmroi.ingest.encodings import mostly_utf8

    text = "ООО «ЛЮКС»;Иван Петров;Сделка успешна\nЗАО «ВЕКТОР»;Да\n"
    assert mostly_utf8(text.encode("cp1251")) is None
    assert mostly_utf8("Müller;Søren;Café «François»".encode("cp1252")) is None


@pytest.mark.parametrize(
    ("cell", "value"),
    [("$ (1,200.00)", -1200.0), ("($350.10)", -350.1), ("-$1,200.00", -1200.0)],
)
def test_accounting_negatives_with_a_sign_outside_the_parentheses(cell: str, value: float) -> None:
    parsed = parse_numbers(pd.Series([cell, "((5))"], dtype="string[pyarrow]"))
    assert parsed.values.iloc[0] == value
    assert list(parsed.bad) == [False, True]


def test_bulgarian_and_persian_no(workspace: Store, tmp_path: Path) -> None:
    """Bulgarian "да"/"не" and Persian "بله"/"نه": "не" was refused."""
    lines = [HEAD, "D1,A,1,2024-01-02,2024-02-01,да", "D2,B,2,2024-01-03,2024-02-02,не"]
    lines += ["D3,C,3,2024-01-04,2024-02-03,نه"]
    path = write(tmp_path / "deals.csv", "\n".join(lines) + "\n")
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    assert not report.rejects
    assert [deals(workspace)[k]["is_won"] for k in ("D1", "D2", "D3")] == [True, False, False]


@pytest.mark.parametrize(
    ("amounts", "costs", "want"),
    [
        (["1,234.56", "980.00"], ["1.500", "2.250"], [1.5, 2.25]),  # the file's '.' decimal
        (["1.234,56", "980,00"], ["1.500", "2.000"], [1500.0, 2000.0]),  # the file's ','
    ],
)
def test_a_lone_group_follows_the_other_number_columns_of_the_file(
    workspace: Store, tmp_path: Path, amounts: list[str], costs: list[str], want: list[float]
) -> None:
    """Amounts that show the decimal separator settle a cost column of lone "1.500"
    cells, with no warning (it was read as thousands against the file's own evidence)."""
    text = mapping(tmp_path, GENERIC + "      cost: Cost\n")
    lines = [HEAD.replace(",", ";") + ";Cost"]
    for i, (amount, cost) in enumerate(zip(amounts, costs, strict=True)):
        lines.append(f"D{i};N;{amount};2024-01-02;2024-02-01;true;{cost}")
    path = write(tmp_path / "deals.csv", "\n".join(lines) + "\n")
    report = import_files(workspace, [path], mapping=text)
    got = deals(workspace)
    assert [got[f"D{i}"]["cost"] for i in range(len(costs))] == want
    assert not [w for w in report.summary.warnings if "separator" in w]


@pytest.mark.parametrize("stream", [False, True])
def test_ids_written_as_excel_text_formulas(
    workspace: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    """Exports that write ids as ="00123" (so Excel keeps the leading zeros) landed with
    the formula as the id; now 00123, read whole or in blocks."""
    if stream:
        monkeypatch.setenv("CRMROI_STREAM_BYTES", "0")
    text = mapping(tmp_path, GENERIC + "      account_id: Acc\n")
    lines = [HEAD + ",Acc", '"=""00123""",A,10,2024-01-02,2024-02-01,true,"=""0042"""']
    lines.append('"=""00124""",B,20,2024-01-03,2024-02-02,false,"=""say ""hi"""')
    path = write(tmp_path / "deals.csv", "\n".join(lines) + "\n")
    import_files(workspace, [path], mapping=text)
    got = deals(workspace)
    assert sorted(got) == ["00123", "00124"]
    assert [got[k]["account_id"] for k in ("00123", "00124")] == ["0042", '="say "hi"']


def test_a_currency_column_holding_signs_and_old_codes(workspace: Store, tmp_path: Path) -> None:
    """A currency column with €, руб., ₽, RUR and usd instead of ISO codes: converted
    with the rates (they were refused as "no exchange rate for €")."""
    rates = write(
        tmp_path / "rates.csv", "Date,Code,Rate\n2024-01-01,EUR,1.1\n2024-01-01,RUB,0.011\n"
    )
    fx = mapping(
        tmp_path,
        "source_system: fx\ntables:\n  - entity: fx_rates\n"
        "    columns: {rate_date: Date, currency: Code, rate_to_base: Rate}\n",
    )
    import_files(workspace, [rates], mapping=fx)
    lines = [HEAD + ",Cur"]
    for i, code in enumerate(["€", "руб.", "₽", "RUR", "usd"]):
        lines.append(f"D{i},N,100,2024-01-02,2024-02-01,true,{code}")
    path = write(tmp_path / "deals.csv", "\n".join(lines) + "\n")
    report = import_files(
        workspace, [path], mapping=mapping(tmp_path, GENERIC + "      currency: Cur\n")
    )
    assert not report.rejects
    got = deals(workspace)
    assert [got[f"D{i}"]["currency"] for i in range(5)] == ["EUR", "RUB", "RUB", "RUB", "USD"]
    assert [got[f"D{i}"]["amount"] for i in range(5)] == pytest.approx(
        [110.0, 1.1, 1.1, 1.1, 100.0]
    )


def test_odoo_probability_with_a_decimal_comma(workspace: Store, tmp_path: Path) -> None:
    """An Odoo opportunities export re-saved by a spreadsheet in a Russian locale writes
    the probability "100,0" and "0,0": won and lost were read as open deals, silently."""
    head = "ID;Opportunity;Customer;Created on;Closed Date;Stage;Probability;Expected Revenue"
    lines = [head, "x1;A;C;05.01.2024 10:00:00;01.02.2024 10:00:00;Выиграно;100,0;10,5"]
    lines += ["x2;B;C;06.01.2024 10:00:00;02.02.2024 10:00:00;Проиграно;0,0;20"]
    lines += ["x3;C;C;07.01.2024 10:00:00;;Новая;33,33;30"]
    path = write(tmp_path / "crm.lead.csv", "\n".join(lines) + "\n", "cp1251")
    import_files(workspace, [path], source="odoo")
    got = {k: (r["is_won"], r["is_closed"], r["amount"]) for k, r in deals(workspace).items()}
    assert got == {"x1": (True, True, 10.5), "x2": (False, True, 20.0), "x3": (False, False, 30.0)}


def test_a_given_thousands_space_keeps_a_lone_dot_a_decimal_point() -> None:
    """numbers: {thousands: " "} says the file groups with spaces: "1.500" is 1.5 then."""
    parsed = parse_numbers(pd.Series(["1.500", "2 000"], dtype="string[pyarrow]"), thousands=" ")
    assert list(parsed.values) == [1.5, 2000.0] and parsed.guessed is None


@pytest.mark.parametrize(
    ("names", "encoding"),
    [
        (["王䶮科技有限公司", "上海贸易公司"], "gb18030"),  # 䶮 needs GB18030's four bytes
        (["台北科技股份有限公司", "高雄貿易公司"], "big5"),  # traditional, Taiwan and Hong Kong
        (["北京科技有限公司", "深圳市腾讯计算机系统有限公司"], "gbk"),
    ],
)
def test_chinese_exports_in_gb18030_and_big5(
    workspace: Store, tmp_path: Path, names: list[str], encoding: str
) -> None:
    """A GB18030 file with a four-byte character was read as cp1251 and a Big5 one as
    Chinese-looking nonsense; each now lands exactly, named in the summary."""
    lines = [HEAD] + [f"C{i},{n},1,2024-01-02,2024-02-01,true" for i, n in enumerate(names)]
    path = write(tmp_path / "deals.csv", "\n".join(lines) + "\n", encoding)
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    assert report.files[0].encoding == encoding
    assert [deals(workspace)[f"C{i}"]["name"] for i in range(len(names))] == names


def test_a_salesforce_report_without_won_and_closed_reads_the_stage(
    workspace: Store, tmp_path: Path
) -> None:
    """A report with Stage but no "Won"/"Closed" columns loaded every deal with won and
    closed empty, silently; now the default stages say it, and a custom stage is refused
    with its name."""
    lines = ["Opportunity Name,Account Name,Stage,Amount,Close Date,Created Date"]
    lines += ['Big,Acme,Closed Won,"1,234.56",1/31/2024,1/5/2024']
    lines += ["Small,Beta,Closed Lost,980.00,2/15/2024,1/10/2024"]
    lines += ["Open,Gamma,Negotiation/Review,500.00,3/15/2024,1/13/2024"]
    lines += ["Custom,Delta,Pilot running,700.00,3/20/2024,1/14/2024"]
    path = write(tmp_path / "report.csv", "\n".join(lines) + "\n")
    report = import_files(workspace, [path], source="salesforce")
    got = {k: (r["is_won"], r["is_closed"]) for k, r in deals(workspace).items()}
    assert got == {"Big": (True, True), "Small": (False, True), "Open": (False, False)}
    assert {(r.row, "'Pilot running'" in r.reason) for r in report.rejects} == {(5, True)}


def test_a_salesforce_object_export_without_iswon_reads_the_stage(
    workspace: Store, tmp_path: Path
) -> None:
    """A Data Loader export of chosen fields (no IsWon / IsClosed) reads the stage."""
    lines = ["Id,StageName,CloseDate,Amount", "0061,Closed Won,2024-01-31,100"]
    lines += ["0062,Closed Lost,2024-02-01,200", "0063,Prospecting,2024-05-01,300"]
    path = write(tmp_path / "extract.csv", "\n".join(lines) + "\n")
    import_files(workspace, [path], source="salesforce")
    got = {k: (r["is_won"], r["is_closed"]) for k, r in deals(workspace).items()}
    assert got == {"0061": (True, True), "0062": (False, True), "0063": (False, False)}


def test_a_preset_says_when_no_column_fills_a_kpi_column(workspace: Store, tmp_path: Path) -> None:
    """An amoCRM export whose budget column the preset does not know ("Бюджет (USD)")
    loaded every deal without an amount, silently; now a warning names the columns looked
    for. "Бюджет ₽" is read."""
    head = "ID;Название сделки;{};Этап сделки;Дата создания;Дата закрытия"
    row = "301;Сделка А;50000;Успешно реализовано;01.02.2024 10:00:00;05.03.2024 11:00:00"
    path = write(tmp_path / "amo.csv", head.format("Бюджет (USD)") + "\n" + row + "\n")
    report = import_files(workspace, [path], source="amocrm", base_currency="RUB")
    said = [w for w in report.summary.warnings if "deals.amount" in w]
    assert len(said) == 1 and "Бюджет ₽" in said[0] and "amo.csv" in said[0]
    path = write(tmp_path / "amo2.csv", head.format("Бюджет ₽") + "\n" + row + "\n")
    report = import_files(workspace, [path], source="amocrm")
    assert deals(workspace)["301"]["amount"] == 50000.0
    assert not [w for w in report.summary.warnings if "deals.amount" in w]


def test_a_mac_excel_csv_in_mac_roman(workspace: Store, tmp_path: Path) -> None:
    """Excel for Mac saves "Comma Separated Values" in Mac Roman with CR line ends: names
    were read as ISO-8859-1 with control characters ("M\\x9fller"), no warning."""
    names = ["Müller & Söhne GmbH", "Société Générale", "Peña y Cía", "Ålesund Fisk AS"]
    lines = [HEAD] + [f"D{i},{n},1,2024-01-02,2024-02-01,true" for i, n in enumerate(names)]
    path = write(tmp_path / "deals.csv", "\r".join(lines) + "\r", "mac_roman")
    report = import_files(workspace, [path], mapping=mapping(tmp_path))
    assert report.files[0].encoding == "mac_roman"
    assert [deals(workspace)[f"D{i}"]["name"] for i in range(len(names))] == names


@pytest.mark.parametrize(
    "text",
    [
        "Müller & Söhne GmbH; Société Générale; Straße Café",
        "It’s “quoted” – Müller, Größe",
        "Œuvre, Škoda, Žilina, naïve, cœur",
        "„Zitat“ – Größe, Ärger; Bjørn Ærø, Crème brûlée",
    ],
)
def test_cp1252_is_not_taken_for_mac_roman(text: str) -> None:
    """Quotes, dashes and Š/Ž starting Slavic names keep a cp1252 file cp1252."""
    from crmroi.ingest.encodings import detect_encoding

    assert detect_encoding(text.encode("cp1252")) == "cp1252"
