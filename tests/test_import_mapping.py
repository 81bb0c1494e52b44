"""Mapping keys end to end: coalesce, join, strict value maps, typos, several ids, row keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.errors import MappingError
from crmroi.ingest.pipeline import import_files
from crmroi.store import Store


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def mapping(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "map.yaml", "source_system: test\ntables:\n" + text)


def rows(store: Store, table: str, key: str) -> dict[str, dict[str, object]]:
    return {str(r[key]): r for r in store.to_arrow(table).to_pylist()}


DEALS = """
  - entity: deals
    columns:
      deal_id: ID
      closed_at: {column: [Deal closed on, Won time, Lost time], coalesce: true}
      is_won: {column: Status, map: {won: true, lost: false, open: false}, strict: true}
      is_closed: {column: Status, map: {won: true, lost: true, open: false}, strict: true}
      amount: Value
"""


def test_coalesce_takes_the_first_filled_column_per_row(workspace: Store, tmp_path: Path) -> None:
    # Pipedrive without "Deal closed on": won deals fill Won time, lost ones Lost time
    data = write(
        tmp_path / "deals.csv",
        "ID,Status,Value,Won time,Lost time\n"
        "1,won,100,2024-03-01,\n"
        "2,lost,50,,2024-03-05\n"
        "3,open,70,,\n",
    )
    report = import_files(workspace, [data], mapping=mapping(tmp_path, DEALS))
    assert report.rows_loaded == 3
    got = rows(workspace, "deals", "deal_id")
    assert str(got["1"]["closed_at"])[:10] == "2024-03-01"
    assert str(got["2"]["closed_at"])[:10] == "2024-03-05"
    assert got["3"]["closed_at"] is None
    closed = [r for r in got.values() if r["is_closed"]]
    assert sum(r["is_won"] for r in closed) / len(closed) == 0.5  # not 1.0


def test_strict_map_refuses_unknown_values_and_counts_them(
    workspace: Store, tmp_path: Path
) -> None:
    data = write(
        tmp_path / "deals.csv",
        "ID,Status,Value,Won time\n1,won,100,2024-03-01\n2,Won - contract signed,80,2024-03-02\n"
        "3,Won - contract signed,90,2024-03-03\n4,open,1,\n",
    )
    report = import_files(workspace, [data], mapping=mapping(tmp_path, DEALS))
    assert report.rows_loaded == 2 and report.rows_rejected == 2
    reasons = {r.reason for r in report.rejects}
    assert "is_won: 'Won - contract signed' is not one of the mapping's values for 'Status'" in (
        reasons
    )
    won = [v for v in report.files[0].values if v.column == "is_won"]
    unknown = [v for v in won if not v.mapped]
    assert [(v.value, v.count) for v in unknown] == [("Won - contract signed", 2)]
    assert {(v.value, v.canonical, v.count) for v in won if v.mapped} == {
        ("won", "true", 1),
        ("open", "false", 1),
    }


def test_join_builds_a_name_from_several_columns(workspace: Store, tmp_path: Path) -> None:
    text = """
  - entity: contacts
    columns:
      contact_id: Record ID
      name: {column: [First Name, Last Name], join: " "}
"""
    data = write(
        tmp_path / "contacts.csv",
        "Record ID,First Name,Last Name\n1,Ada,Lovelace\n2,,Curie\n3,Plato,\n4,,\n",
    )
    import_files(workspace, [data], mapping=mapping(tmp_path, text))
    got = {k: r["name"] for k, r in rows(workspace, "contacts", "contact_id").items()}
    assert got == {"1": "Ada Lovelace", "2": "Curie", "3": "Plato", "4": None}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "closed_at: Close Dat",
            r"column 'Close Dat' \(mapped to deals.closed_at\) "
            r"is not in the file; did you mean 'Close Date'\?",
        ),
        ("closed_at: {column: [Close Dat], join: ' '}", r"did you mean 'Close Date'\?"),
        ("closed_at: Zzzz", r"'Zzzz'.*its columns are: 'ID', 'Close Date'"),
    ],
)
def test_a_missing_single_column_is_a_typo(
    workspace: Store, tmp_path: Path, spec: str, message: str
) -> None:
    data = write(tmp_path / "deals.csv", "ID,Close Date\n1,2024-01-01\n")
    text = f"  - entity: deals\n    columns:\n      deal_id: ID\n      {spec}\n"
    with pytest.raises(MappingError, match="deals.csv: .*" + message):
        import_files(workspace, [data], mapping=mapping(tmp_path, text))
    assert workspace.count("deals") == 0


def test_alternatives_may_be_missing_and_optional_mappings_skip(
    workspace: Store, tmp_path: Path
) -> None:
    data = write(tmp_path / "deals.csv", "ID,Close Date\n1,2024-01-01\n")
    text = "  - entity: deals\n    columns: {deal_id: ID, closed_at: [Closed, Close Date]}\n"
    import_files(workspace, [data], mapping=mapping(tmp_path, text))
    lenient = write(
        tmp_path / "lenient.yaml",
        "source_system: t2\nmissing_columns: ignore\ntables:\n  - entity: deals\n"
        "    columns: {deal_id: ID, amount: Amount}\n",
    )
    report = import_files(workspace, [data], mapping=lenient)
    assert report.rows_loaded == 1


def test_several_ids_in_a_link_cell_keep_the_first(workspace: Store, tmp_path: Path) -> None:
    text = "  - entity: deals\n    columns: {deal_id: ID, account_id: Companies}\n"
    data = write(tmp_path / "deals.csv", "ID,Companies\n1,11;12\n2,13\n3, 14 ; 15;16\n")
    report = import_files(workspace, [data], mapping=mapping(tmp_path, text))
    got = {k: r["account_id"] for k, r in rows(workspace, "deals", "deal_id").items()}
    assert got == {"1": "11", "2": "13", "3": "14"}
    (warning,) = report.files[0].warnings
    assert "2 cells of 'Companies' (deals.account_id) hold several ids" in warning


ODOO_UI = """
  - entity: deals
    missing_id: row_hash
    columns:
      deal_id: [ID]
      account_id: Customer
      amount: Expected Revenue
      created_at: Created on
"""


def test_no_id_column_keys_rows_by_content_and_never_drops_them(
    workspace: Store, tmp_path: Path
) -> None:
    body = "Opportunity,Customer,Expected Revenue,Created on\n" + "".join(
        f"{c}'s opportunity,{c},{a},2024-01-0{d}\n"
        for c, a, d in [("Acme", 10, 1), ("Acme", 20, 2), ("Beta", 5, 1), ("Beta", 5, 1)]
    )
    data = write(tmp_path / "crm.lead.csv", body)
    report = import_files(workspace, [data], mapping=mapping(tmp_path, ODOO_UI))
    assert report.rows_loaded == 4 and not report.rejects
    assert "no id column for deals" in report.files[0].warnings[0]
    ids = sorted(rows(workspace, "deals", "deal_id"))
    assert len(set(ids)) == 4 and all(i.startswith("row-") for i in ids)
    assert sum(i.endswith("-2") for i in ids) == 1  # the two identical Beta rows
    again = import_files(workspace, [data], mapping=mapping(tmp_path, ODOO_UI))
    assert again.files[0].unchanged == 4 and workspace.count("deals") == 4


def test_without_row_hash_a_missing_id_column_is_refused(workspace: Store, tmp_path: Path) -> None:
    data = write(tmp_path / "deals.csv", "Customer,Expected Revenue,Created on\nA,1,2024-01-01\n")
    with pytest.raises(MappingError, match=r"'ID' \(mapped to deals.deal_id\).*missing_id"):
        import_files(
            workspace, [data], mapping=mapping(tmp_path, ODOO_UI.replace("missing_id", "#"))
        )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "a", "b", "Ω"]),
            st.sampled_from(["", "x", "y"]),
            st.sampled_from(["", "p", "q"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_coalesce_and_join_match_a_plain_python_reference(
    cells: list[tuple[str, str, str]],
) -> None:
    import pandas as pd

    from crmroi.ingest.columns import ColumnNotes, FileColumns, source_text
    from crmroi.ingest.mapping import parse_mapping
    from crmroi.store.schema import TABLES

    frame = pd.DataFrame(cells, columns=["A", "B", "C"]).replace("", None)
    header = {c.casefold(): c for c in frame.columns}
    file = FileColumns("f.csv", frame, header, optional=False)
    text = (
        "source_system: t\ntables:\n  - entity: contacts\n    columns:\n"
        "      contact_id: {column: [A, B, C], coalesce: true}\n"
        "      name: {column: [A, B, C], join: '-'}\n"
    )
    table = parse_mapping(text, "m.yaml").tables[0]
    contacts = TABLES["contacts"]

    def run(name: str) -> list[object]:
        out = source_text(contacts.column(name), table, file, str, lambda *a: None, ColumnNotes())
        assert out is not None
        return [None if v is pd.NA else v for v in out[0]]

    assert run("contact_id") == [next((v for v in row if v), None) for row in cells]
    assert run("name") == ["-".join(v for v in row if v) or None for row in cells]


def test_pipedrive_preset_dates_lost_deals_from_lost_time(workspace: Store, tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    lines = [
        '"Deal - ID","Deal - Title","Deal - Status","Deal - Value","Deal - Currency",'
        '"Deal - Deal created","Deal - Won time","Deal - Lost time"'
    ]
    truth = {"won": 0, "lost": 0, "open": 0}
    for i in range(1, 61):
        status = rng.choice(["won", "lost", "lost", "open"])
        truth[status] += 1
        won = "2024-03-02 10:00:00" if status == "won" else ""
        lost = "2024-03-04 11:30:00" if status == "lost" else ""
        lines.append(
            f'{i},"Deal {i}",{status.title()},{i * 10},USD,2024-01-05 09:00:00,{won},{lost}'
        )
    data = write(tmp_path / "deals-export.csv", "\n".join(lines) + "\n")
    workspace.set_settings(base_currency="USD")
    report = import_files(workspace, [data], source="pipedrive")
    assert report.rows_loaded == 60 and not report.rejects
    got = list(rows(workspace, "deals", "deal_id").values())
    closed = [r for r in got if r["is_closed"]]
    assert all(r["closed_at"] is not None for r in closed)
    assert len(closed) == truth["won"] + truth["lost"]
    assert sum(r["is_won"] for r in closed) / len(closed) == truth["won"] / len(closed)
    assert truth["lost"] > 0


def test_hubspot_preset_refuses_stages_of_another_pipeline(
    workspace: Store, tmp_path: Path
) -> None:
    data = write(
        tmp_path / "hubspot-crm-exports-all-deals.csv",
        "Record ID,Deal Name,Deal Stage,Amount,Create Date,Close Date\n"
        "1,A,Closed Won,100,2024-01-01,2024-02-01\n"
        "2,B,Won - contract signed,200,2024-01-01,2024-02-02\n"
        "3,C,Appointment Scheduled,300,2024-01-01,\n"
        "4,D,Closed Lost,50,2024-01-01,2024-02-03\n",
    )
    report = import_files(workspace, [data], source="hubspot")
    assert report.rows_loaded == 3 and report.rows_rejected == 1
    assert {r.row for r in report.rejects} == {3}
    unmapped = {(v.column, v.value, v.count) for v in report.files[0].values if not v.mapped}
    assert ("is_won", "Won - contract signed", 1) in unmapped
    # with the export's own "Is Closed Won" column, the second pipeline's stage is read
    with_flags = write(
        tmp_path / "all-deals-2.csv",
        "Record ID,Deal Name,Deal Stage,Is Closed Won,Is Deal Closed?,Amount,Create Date\n"
        "2,B,Won - contract signed,true,true,200,2024-01-01\n",
    )
    import_files(workspace, [with_flags], source="hubspot")
    assert rows(workspace, "deals", "deal_id")["2"]["is_won"] is True


PARTIAL = """
  - entity: leads
    files: ["mql*.csv"]
    columns: {lead_id: mql_id, created_at: first_contact_date, source: origin}
  - entity: leads
    files: ["closed*.csv"]
    partial: true
    columns: {lead_id: mql_id, converted_at: won_date, deal_id: seller_id}
"""


def test_a_partial_file_updates_only_its_columns_and_undo_restores(
    workspace: Store, tmp_path: Path
) -> None:
    from crmroi.store.undo import undo_batch

    leads = write(
        tmp_path / "mql.csv",
        "mql_id,first_contact_date,origin\nL1,2024-01-02,paid_search\nL2,2024-01-03,social\n",
    )
    closed = write(
        tmp_path / "closed.csv",
        "mql_id,won_date,seller_id\nL1,2024-02-10,S9\nL7,2024-02-11,S8\n",
    )
    yaml = mapping(tmp_path, PARTIAL)
    import_files(workspace, [leads], mapping=yaml)
    before = workspace.to_arrow("leads", order_by=["lead_id"])
    report = import_files(workspace, [closed], mapping=yaml)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    (reject,) = report.rejects
    assert (reject.file, reject.row, reject.column) == ("closed.csv", 3, "created_at")
    assert "no stored leads row 'L7' to update" in reject.reason
    got = rows(workspace, "leads", "lead_id")
    assert (
        got["L1"]["source"] == "paid_search" and str(got["L1"]["created_at"])[:10] == "2024-01-02"
    )
    assert str(got["L1"]["converted_at"])[:10] == "2024-02-10" and got["L1"]["deal_id"] == "S9"
    assert got["L2"]["converted_at"] is None
    assert report.files[0].updated == 1
    again = import_files(workspace, [closed], mapping=yaml)
    assert again.files[0].unchanged == 1
    undo_batch(workspace, again.batch_id)
    undo_batch(workspace, report.batch_id)
    assert workspace.to_arrow("leads", order_by=["lead_id"]).equals(before)


def test_a_partial_file_merges_with_a_full_file_of_the_same_import(
    workspace: Store, tmp_path: Path
) -> None:
    leads = write(tmp_path / "mql.csv", "mql_id,first_contact_date,origin\nL1,2024-01-02,seo\n")
    closed = write(tmp_path / "closed.csv", "mql_id,won_date,seller_id\nL1,2024-02-10,S9\n")
    report = import_files(workspace, [closed, leads], mapping=mapping(tmp_path, PARTIAL))
    assert not report.rejects
    got = rows(workspace, "leads", "lead_id")["L1"]
    assert (got["source"], got["deal_id"]) == ("seo", "S9")
    assert str(got["converted_at"])[:10] == "2024-02-10"
