"""Issue 15's classes of misread exports, each written the way its CRM writes it (headers,
quoting, encodings, number and date formats), from one generated set of deals: the rows,
the links and the five sales KPIs must match a count made directly from the generated deals
(`tests/test_presets_ru.py` holds the generator and the independent KPI count).

Classes and where else they are tested: first + last name (tests/test_presets.py), a typo
in a mapping (tests/test_import_mapping.py, and the command line in
tests/test_import_cli_fuzz.py); the rest are here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from crmroi.ingest.pipeline import import_files
from crmroi.store import Store
from tests.test_presets_ru import Deal, check_kpis, deals

ROWS = deals(seed=15, n=90)
ORGS = ["Müller & Söhne GmbH", "Société Générale", "Ålesund Fisk AS", "Peña y Cía", "Acme Corp"]


def org_of(d: Deal) -> str:
    return ORGS[d.id % len(ORGS)]


def csv_line(cells: list[str], sep: str = ",") -> str:
    return sep.join('"' + c.replace('"', '""') + '"' for c in cells)


def write(path: Path, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def stored(store: Store, table: str) -> dict[str, dict[str, object]]:
    return {str(r["source_id"]): r for r in store.to_arrow(table).to_pylist()}


# ------------------------------------------------------------------------ Pipedrive


def pipedrive_files(tmp_path: Path, encoding: str = "utf-8") -> list[Path]:
    """Deals, organizations and activities list exports: no "Deal closed on" column (lost
    deals are dated by "Lost time" only), organizations named, activities name the deal
    only by its title."""
    head = ["Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency"]
    head += ["Deal - Organization", "Deal - Status", "Deal - Deal created"]
    head += ["Deal - Won time", "Deal - Lost time"]
    lines = [csv_line(head)]
    for d in ROWS:
        t = lambda x: "" if x is None else x.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
        won = t(d.closed) if d.outcome == "won" else ""
        lost = t(d.closed) if d.outcome == "lost" else ""
        status = {"won": "Won", "lost": "Lost", "open": "Open"}[d.outcome]
        cells = [str(d.id), f"{org_of(d)} deal {d.id}", f"{d.amount:.2f}", "USD"]
        lines.append(csv_line([*cells, org_of(d), status, t(d.created), won, lost]))
    orgs = [csv_line(["Organization - ID", "Organization - Name"])]
    orgs += [csv_line([str(900 + i), name]) for i, name in enumerate(ORGS)]
    head = ["Activity - ID", "Activity - Type", "Activity - Subject", "Activity - Due date"]
    acts = [csv_line([*head, "Deal - Title"])]
    for d in ROWS[:40]:
        due = d.created.strftime("%Y-%m-%d")
        title = f"{org_of(d)} deal {d.id}"
        acts.append(csv_line([str(5000 + d.id), "Call", "Intro call", due, title]))
    return [
        write(tmp_path / "deals.csv", lines, encoding),
        write(tmp_path / "organizations.csv", orgs, encoding),
        write(tmp_path / "activities.csv", acts, encoding),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_pipedrive_lost_time_names_and_western_encoding(
    workspace: Store, tmp_path: Path, encoding: str
) -> None:
    """Classes 1, 2 and 6: win rate from won/lost time, names kept exact in cp1252, deals
    linked to organizations and activities to deals by name."""
    report = import_files(workspace, pipedrive_files(tmp_path, encoding), source="pipedrive")
    assert report.rejects == [] and report.rows_loaded == len(ROWS) + len(ORGS) + 40
    assert not [w for w in report.summary.warnings if "garbled" in w or "improbable" in w]
    accounts = stored(workspace, "accounts")
    assert sorted(str(a["name"]) for a in accounts.values()) == sorted(ORGS)
    ids = {str(a["name"]): str(a["account_id"]) for a in accounts.values()}
    for key, row in stored(workspace, "deals").items():
        assert row["account_id"] == ids[org_of(ROWS[int(key) - 1])]
    acts = stored(workspace, "activities")
    assert all(acts[str(5000 + d.id)]["deal_id"] == str(d.id) for d in ROWS[:40])
    check_kpis(workspace, ROWS)


# ------------------------------------------------------------------------- HubSpot


def hubspot_deals(tmp_path: Path, semantics: str) -> Path:
    """A deals export from the UI: half the deals in a second pipeline whose stages are
    internal ids; `semantics` says which of HubSpot's own columns are exported."""
    head = ["Record ID", "Deal Name", "Deal Stage", "Amount", "Create Date", "Close Date"]
    head += {
        "closed": ["Is Closed Won", "Is Deal Closed?"],
        "probability": ["Deal probability"],
    }.get(semantics, [])
    lines = [csv_line(head)]
    for d in ROWS:
        second = d.id % 2 == 0
        stage = {"won": "closedwon", "lost": "closedlost", "open": "contractsent"}[d.outcome]
        if second:
            stage = {"won": "81724101", "lost": "81724102", "open": "81724099"}[d.outcome]
        close = "" if d.closed is None else d.closed.strftime("%Y-%m-%d %H:%M")
        cells = [str(d.id), f"Deal {d.id}", stage, f"{d.amount:.2f}"]
        cells += [d.created.strftime("%Y-%m-%d %H:%M"), close]
        if semantics == "closed":
            cells += [str(d.outcome == "won").lower(), str(d.outcome != "open").lower()]
        elif semantics == "probability":
            cells.append({"won": "1.0", "lost": "0.0", "open": "0.9"}[d.outcome])
        lines.append(csv_line(cells))
    return write(tmp_path / "hubspot-crm-exports-all-deals.csv", lines)


@pytest.mark.parametrize("semantics", ["closed", "probability"])
def test_hubspot_second_pipeline_by_its_own_columns(
    workspace: Store, tmp_path: Path, semantics: str
) -> None:
    """Class 4: stages of a second pipeline are placed by "Is Closed Won" / "Is Deal
    Closed?", or by the stage probability (1.0 won, 0.0 lost), never guessed open."""
    report = import_files(workspace, [hubspot_deals(tmp_path, semantics)], source="hubspot")
    assert report.rejects == [] and report.rows_loaded == len(ROWS)
    check_kpis(workspace, ROWS)


def test_hubspot_second_pipeline_without_them_is_refused(workspace: Store, tmp_path: Path) -> None:
    """Without those columns the second pipeline's rows are refused and listed, never
    loaded as open deals; the default pipeline's rows load."""
    report = import_files(workspace, [hubspot_deals(tmp_path, "none")], source="hubspot")
    second = {str(d.id) for d in ROWS if d.id % 2 == 0}
    assert {str(r.row - 1) for r in report.rejects} == second  # header is row 1
    assert report.rows_loaded == len(ROWS) - len(second)
    unmapped = {v.value for t, v in report.summary.values if t == "deals" and not v.mapped}
    assert {"81724101", "81724102", "81724099"} <= unmapped


# ----------------------------------------------------------- currencies in the cell

RATES = {"EUR": 1.1, "JPY": 0.0067, "USD": 1.0}


def test_currency_codes_and_signs_in_the_amount_cell(workspace: Store, tmp_path: Path) -> None:
    """Class 3: "EUR 1,000.00", "JPY 1,000,000", "€", "￥" set the row's currency and are
    converted with the rates; KPIs in the base currency match the converted amounts."""
    fx = write(
        tmp_path / "rates.csv",
        ["Date,Code,Rate", *(f"2020-01-01,{c},{r}" for c, r in RATES.items() if c != "USD")],
    )
    fx_map = tmp_path / "fx.yaml"
    fx_map.write_text(
        "source_system: fx\ntables:\n  - entity: fx_rates\n"
        "    columns: {rate_date: Date, currency: Code, rate_to_base: Rate}\n",
        encoding="utf-8",
    )
    import_files(workspace, [fx], mapping=fx_map)
    lines = [csv_line(["ID", "Amount", "Stage", "Created", "Closed"])]
    converted = []
    for d in ROWS:
        code = ["EUR", "JPY", "USD"][d.id % 3]
        if code == "EUR":
            cell = f"EUR {d.amount:,.2f}" if d.id % 2 else f"€{d.amount:,.2f}"
            value = round(d.amount, 2)
        elif code == "JPY":
            yen = round(d.amount * 150)
            cell = f"JPY {yen:,}" if d.id % 2 else f"￥{yen:,}"
            value = yen
        else:
            cell, value = f"${d.amount:,.2f}", round(d.amount, 2)
        converted.append(Deal(d.id, d.created, d.closed, d.outcome, value * RATES[code]))
        closed = "" if d.closed is None else d.closed.strftime("%Y-%m-%d")
        lines.append(csv_line([str(d.id), cell, d.outcome, d.created.strftime("%Y-%m-%d"), closed]))
    mapping = tmp_path / "deals.yaml"
    mapping.write_text(
        """
source_system: my_crm
tables:
  - entity: deals
    columns:
      deal_id: ID
      amount: Amount
      created_at: Created
      closed_at: Closed
      is_won: {column: Stage, map: {won: true, lost: false, open: false}, strict: true}
      is_closed: {column: Stage, map: {won: true, lost: true, open: false}, strict: true}
""",
        encoding="utf-8",
    )
    report = import_files(workspace, [write(tmp_path / "deals.csv", lines)], mapping=mapping)
    assert report.rejects == []
    money = {m.currency: m.rows for m in report.summary.money}
    assert money == {c: sum(1 for d in ROWS if ["EUR", "JPY", "USD"][d.id % 3] == c) for c in RATES}
    check_kpis(workspace, converted)


# ------------------------------------------------- other scripts: Chinese, Persian

CN_MAPPING = """
source_system: cn_crm
tables:
  - entity: deals
    columns:
      deal_id: 商机编号
      name: 商机名称
      amount: 金额
      created_at: 创建日期
      closed_at: 成交日期
      is_won: {column: 阶段, map: {赢单: true, 输单: false, 跟进中: false}, strict: true}
      is_closed: {column: 阶段, map: {赢单: true, 输单: true, 跟进中: false}, strict: true}
    constants: {currency: CNY}
"""


def full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789,.", "０１２３４５６７８９，．"))


def cn_amount(value: float, i: int) -> tuple[str, float]:
    """Amounts as a Chinese CRM writes them: ￥ and full-width digits, or 万."""
    if i % 3 == 0:
        wan = round(value / 10_000, 2)
        return f"{wan}万", wan * 10_000
    cents = round(value, 2)
    return ("￥" + full_width(f"{cents:,.2f}") if i % 3 == 1 else f"{cents:.2f}"), cents


def test_chinese_export_in_gbk(workspace: Store, tmp_path: Path) -> None:
    """Class 5: GBK, ￥ and full-width digits, 万, 2024年2月1日 dates."""
    workspace.set_settings(base_currency="CNY")
    lines = [csv_line(["商机编号", "商机名称", "金额", "阶段", "创建日期", "成交日期"])]
    expected = []
    for d in ROWS:
        text, value = cn_amount(d.amount, d.id)
        expected.append(Deal(d.id, d.created, d.closed, d.outcome, value))
        stage = {"won": "赢单", "lost": "输单", "open": "跟进中"}[d.outcome]
        closed = "" if d.closed is None else f"{d.closed.year}年{d.closed.month}月{d.closed.day}日"
        created = f"{d.created.year}年{d.created.month}月{d.created.day}日"
        lines.append(csv_line([str(d.id), f"商机{d.id}", text, stage, created, closed]))
    mapping = tmp_path / "cn.yaml"
    mapping.write_text(CN_MAPPING, encoding="utf-8")
    path = write(tmp_path / "商机.csv", lines, "gbk", "\r\n")
    report = import_files(workspace, [path], mapping=mapping)
    assert report.rejects == [] and report.rows_loaded == len(ROWS)
    assert report.files[0].encoding in ("gbk", "gb18030")
    check_kpis(workspace, by_day(expected))


def day(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else dt.datetime(t.year, t.month, t.day)


def by_day(rows: list[Deal]) -> list[Deal]:
    """The deals with dates only (exports that write no time of day)."""
    return [Deal(d.id, day(d.created), day(d.closed), d.outcome, d.amount) for d in rows]  # type: ignore[arg-type]


NOWRUZ = {1400: dt.date(2021, 3, 21), 1401: dt.date(2022, 3, 21), 1402: dt.date(2023, 3, 21)}
NOWRUZ |= {1403: dt.date(2024, 3, 20), 1404: dt.date(2025, 3, 21), 1405: dt.date(2026, 3, 21)}


def jalali(day_: dt.date) -> tuple[int, int, int]:
    """Gregorian -> Solar Hijri from the Nowruz dates (independent of the product's
    arithmetic): months 1-6 have 31 days, 7-11 have 30."""
    year = max(y for y, start in NOWRUZ.items() if start <= day_)
    offset = (day_ - NOWRUZ[year]).days
    for month in range(1, 13):
        length = 31 if month <= 6 else 30
        if offset < length or month == 12:
            return year, month, offset + 1
        offset -= length
    raise AssertionError(day_)


def persian(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


FA_MAPPING = """
source_system: fa_sheet
tables:
  - entity: deals
    columns:
      deal_id: شناسه
      amount: مبلغ
      created_at: تاریخ ایجاد
      closed_at: تاریخ بسته شدن
      is_won: {column: وضعیت, map: {برنده: true, بازنده: false, باز: false}, strict: true}
      is_closed: {column: وضعیت, map: {برنده: true, بازنده: true, باز: false}, strict: true}
    numbers: {thousands: "٬", decimal: "٫"}
"""


def test_persian_spreadsheet_with_solar_hijri_dates(workspace: Store, tmp_path: Path) -> None:
    """Class 5: Persian digits, ٬ and ٫ separators, Solar Hijri dates."""
    workspace.set_settings(base_currency="IRR")

    def fa_date(t: dt.datetime | None) -> str:
        return "" if t is None else persian("{:04d}/{:02d}/{:02d}".format(*jalali(t.date())))

    lines = [csv_line(["شناسه", "مبلغ", "وضعیت", "تاریخ ایجاد", "تاریخ بسته شدن"])]
    for d in ROWS:
        whole, frac = f"{d.amount:,.2f}".split(".")
        amount = persian(whole.replace(",", "٬") + "٫" + frac)
        status = {"won": "برنده", "lost": "بازنده", "open": "باز"}[d.outcome]
        lines.append(
            csv_line([persian(str(d.id)), amount, status, fa_date(d.created), fa_date(d.closed)])
        )
    mapping = tmp_path / "fa.yaml"
    mapping.write_text(FA_MAPPING, encoding="utf-8")
    report = import_files(workspace, [write(tmp_path / "fa.csv", lines)], mapping=mapping)
    assert report.rejects == [] and report.rows_loaded == len(ROWS)
    check_kpis(workspace, by_day(ROWS))


# --------------------------------------------------------------------- Odoo, no id


def test_odoo_export_without_id_keeps_every_deal(workspace: Store, tmp_path: Path) -> None:
    """Class 7: default opportunity names repeat; no deal is dropped as a duplicate."""
    head = ["Opportunity", "Customer", "Created on", "Closed Date", "Stage", "Probability"]
    lines = [csv_line([*head, "Expected Revenue", "Salesperson"])]
    for d in ROWS:
        stage, probability = {"won": ("Won", "100.0"), "lost": ("Proposition", "0.0")}.get(
            d.outcome, ("Qualified", "30.0")
        )
        closed = "" if d.closed is None else d.closed.strftime("%Y-%m-%d %H:%M:%S")
        cells = [f"{org_of(d)}'s opportunity", org_of(d), d.created.strftime("%Y-%m-%d %H:%M:%S")]
        cells += [closed, stage, probability, f"{d.amount:.2f}", "Mitchell Admin"]
        lines.append(csv_line(cells))
    report = import_files(workspace, [write(tmp_path / "crm.lead.csv", lines)], source="odoo")
    assert report.rejects == [] and workspace.count("deals") == len(ROWS)
    assert any("no id column" in w for w in report.summary.warnings + report.files[0].warnings)
    check_kpis(workspace, ROWS)


# ------------------------------------------- title rows, repeated unused header


def test_xlsx_report_with_title_rows_and_a_repeated_unused_header(
    workspace: Store, tmp_path: Path
) -> None:
    """Class 8: a Salesforce report saved as XLSX with its title rows, and a column
    name repeated that the preset does not read."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Opportunities by stage"])
    sheet.append(["Generated 2025-02-03 by Maria Lopez"])
    sheet.append([None])
    head = ["Opportunity Name", "Opportunity ID", "Amount", "Close Date", "Created Date"]
    sheet.append([*head, "Stage", "Won", "Closed", "Notes", "Notes"])
    for d in ROWS:
        closed = d.closed or dt.datetime(2025, 6, 30)  # open deals carry an expected date
        cells: list[object] = [f"Deal {d.id}", f"0066g0000{d.id:06d}", d.amount, closed]
        cells += [
            d.created,
            {"won": "Closed Won", "lost": "Closed Lost"}.get(d.outcome, "Prospecting"),
        ]
        cells += [int(d.outcome == "won"), int(d.outcome != "open"), "a", "b"]
        sheet.append(cells)
    path = tmp_path / "report.xlsx"
    book.save(path)
    report = import_files(workspace, [path], source="salesforce")
    assert report.rejects == [] and report.rows_loaded == len(ROWS)
    check_kpis(workspace, by_day(ROWS))


# -------------------------------------------------------------- partial records

PARTIAL_MAPPING = """
source_system: my_crm
tables:
  - entity: deals
    files: ["deals*.csv"]
    columns:
      deal_id: ID
      amount: Amount
      created_at: Created
      closed_at: Closed
      is_won: {column: Status, map: {won: true, lost: false, open: false}, strict: true}
      is_closed: {column: Status, map: {won: true, lost: true, open: false}, strict: true}
  - entity: deals
    files: ["changes*.csv"]
    partial: true
    columns:
      deal_id: ID
      closed_at: Closed
      is_won: {column: Status, map: {won: true, lost: false, open: false}, strict: true}
      is_closed: {column: Status, map: {won: true, lost: true, open: false}, strict: true}
"""


def test_a_later_export_of_changed_stages_updates_only_them(
    workspace: Store, tmp_path: Path
) -> None:
    """Class 11: the first export has every deal open; a later one carries only the id,
    status and close date of the deals that closed since."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(PARTIAL_MAPPING, encoding="utf-8")
    first = [csv_line(["ID", "Amount", "Status", "Created", "Closed"])]
    first += [
        csv_line([str(d.id), f"{d.amount:.2f}", "open", d.created.isoformat(sep=" "), ""])
        for d in ROWS
    ]
    import_files(workspace, [write(tmp_path / "deals.csv", first)], mapping=mapping)
    later = [csv_line(["ID", "Status", "Closed"])]
    later += [
        csv_line([str(d.id), d.outcome, d.closed.isoformat(sep=" ")])
        for d in ROWS
        if d.closed is not None
    ]
    report = import_files(workspace, [write(tmp_path / "changes.csv", later)], mapping=mapping)
    assert report.rejects == [] and workspace.count("deals") == len(ROWS)
    assert report.files[0].updated == len(later) - 1
    check_kpis(workspace, ROWS)
