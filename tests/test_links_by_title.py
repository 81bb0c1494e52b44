"""Activities that name their deal only by its title link to the deal, whether it came
in the same import or an earlier one (deals keep their title in `name`); titles no
deal has, or several share, are left unlinked and counted. An older workspace whose
deals table has no `name` column gains it when opened."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmroi.ingest.pipeline import import_files
from crmroi.store import Store
from crmroi.store.undo import undo_batch
from tests.conftest import scratch_database

DEALS = (
    "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Organization,Deal - Status,"
    "Deal - Deal created,Deal - Won time,Deal - Lost time\n"
    "101,Acme deal,25000,USD,,Won,2024-01-10 09:15:22,2024-03-05 16:02:11,\n"
    "102,Globex renewal,12000,USD,,Lost,2023-12-01 13:40:05,,2024-02-20 10:00:00\n"
    "103,Second order,8000,USD,,Open,2024-02-14 08:00:00,,\n"
    "104,Second order,4300,USD,,Open,2024-03-02 15:05:00,,\n"
)
# Pipedrive's activities list export: the deal by title only (no "Deal - ID" column)
ACTIVITIES = (
    "Activity - ID,Activity - Type,Activity - Subject,Activity - Due date,Deal - Title\n"
    "501,Call,Discovery,2024-03-01,Acme deal\n"
    "502,Meeting,Demo,2024-02-20,  acme DEAL \n"
    "503,Email,Proposal,2024-02-10,Globex renewal\n"
    "504,Call,Follow-up,2024-03-10,Second order\n"
    "505,Call,Cold call,2024-03-11,Hooli expansion\n"
    "506,Task,Admin,2024-03-12,\n"
)
EXPECTED = {"501": "101", "502": "101", "503": "102", "504": None, "505": None, "506": None}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def linked(store: Store) -> dict[str, str | None]:
    rows = store.to_arrow("activities").to_pylist()
    return {r["activity_id"]: r["deal_id"] for r in rows}


def deal_links(report: object) -> tuple[int, ...]:
    """activities.deal_id: linked, unknown id, empty; linked by name, name not found, shared."""
    summary = report.summary  # type: ignore[attr-defined]
    (c,) = [c for c in summary.links if (c.table, c.column) == ("activities", "deal_id")]
    return c.resolved, c.unresolved, c.empty, c.by_name, c.name_unmatched, c.name_ambiguous


def test_titles_resolve_within_one_import(workspace: Store, tmp_path: Path) -> None:
    files = [write(tmp_path / "deals.csv", DEALS), write(tmp_path / "acts.csv", ACTIVITIES)]
    report = import_files(workspace, files, source="pipedrive")
    assert not report.rejects
    assert linked(workspace) == EXPECTED
    assert {r["deal_id"]: r["name"] for r in workspace.to_arrow("deals").to_pylist()} == {
        "101": "Acme deal",
        "102": "Globex renewal",
        "103": "Second order",
        "104": "Second order",
    }
    assert deal_links(report) == (3, 0, 3, 3, 1, 1)


def test_titles_resolve_against_the_workspace(workspace: Store, tmp_path: Path) -> None:
    import_files(workspace, [write(tmp_path / "deals.csv", DEALS)], source="pipedrive")
    report = import_files(workspace, [write(tmp_path / "a.csv", ACTIVITIES)], source="pipedrive")
    assert linked(workspace) == EXPECTED
    assert deal_links(report) == (3, 0, 3, 3, 1, 1)
    warnings = " | ".join(report.summary.warnings)
    assert "1 rows name a deals record that several records share, e.g. 'Second order' (1)" in (
        warnings
    )
    assert "1 rows name a deals record that neither this import nor the workspace has, " in (
        warnings
    )
    assert "'Hooli expansion' (1)" in warnings


def test_an_older_workspace_gains_the_deal_title_column(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    Store.open(folder, create=True).close()
    with duckdb.connect(str(folder / "workspace.duckdb")) as con:  # as made before titles
        con.execute('ALTER TABLE deals DROP COLUMN "name"')
        con.execute('ALTER TABLE undo_deals DROP COLUMN "name"')
    with Store.open(folder) as store:
        assert "name" in store.table("deals").schema().names
        first = import_files(store, [write(tmp_path / "d.csv", DEALS)], source="pipedrive")
        changed = DEALS.replace("25000,USD", "26000,USD")
        second = import_files(store, [write(tmp_path / "d2.csv", changed)], source="pipedrive")
        assert second.files[0].updated == 1
        undo_batch(store, second.batch_id)
        amounts = {r["deal_id"]: r["amount"] for r in store.to_arrow("deals").to_pylist()}
        assert amounts["101"] == 25000.0
        assert store.count("deals") == 4 and first.rows_loaded == 4


def test_odoo_activities_link_by_document_name(workspace: Store, tmp_path: Path) -> None:
    """Odoo's mail.activity export without the document id names the opportunity
    ("Document Name"); a title two opportunities share stays unlinked and is counted."""
    leads = write(
        tmp_path / "crm.lead.csv",
        "Opportunity,Customer,Created on,Stage,Probability,Expected Revenue\n"
        "Website redesign,Acme,2024-01-02 10:00:00,Won,100.0,5000\n"
        "Acme's opportunity,Acme,2024-01-03 10:00:00,Qualified,20.0,100\n"
        "Acme's opportunity,Acme,2024-01-04 10:00:00,Qualified,20.0,200\n",
    )
    acts = write(
        tmp_path / "mail.activity.csv",
        "Activity Type,Summary,Due Date,Assigned to,Document Name\n"
        "Call,Kick-off,2024-01-05,Mitchell Admin,Website redesign\n"
        "Email,Offer,2024-01-06,Mitchell Admin,Acme's opportunity\n",
    )
    report = import_files(workspace, [leads, acts], source="odoo", entity=None)
    deals = {r["name"]: r["deal_id"] for r in workspace.to_arrow("deals").to_pylist()}
    rows = workspace.to_arrow("activities").to_pylist()
    by_summary = {r["occurred_at"].day: r["deal_id"] for r in rows}
    assert by_summary == {5: deals["Website redesign"], 6: None}
    warnings = " | ".join(report.summary.warnings)
    assert 'several records share, e.g. "Acme\'s opportunity" (1)' in warnings


def test_an_older_postgres_workspace_gains_the_deal_title_column(tmp_path: Path) -> None:
    """The same on PostgreSQL (skipped when no server is configured)."""
    with scratch_database("crmroi_title") as url:
        import psycopg

        Store.open(url, create=True).close()
        with psycopg.connect(url, autocommit=True) as con:  # as made before titles
            con.execute('ALTER TABLE deals DROP COLUMN "name"')
            con.execute('ALTER TABLE undo_deals DROP COLUMN "name"')
        with Store.open(url) as store:
            assert "name" in store.table("deals").schema().names
            files = [write(tmp_path / "deals.csv", DEALS), write(tmp_path / "a.csv", ACTIVITIES)]
            import_files(store, files, source="pipedrive")
            assert linked(store) == EXPECTED
            changed = DEALS.replace("25000,USD", "26000,USD")
            second = import_files(store, [write(tmp_path / "d2.csv", changed)], source="pipedrive")
            undo_batch(store, second.batch_id)
            amounts = {r["deal_id"]: r["amount"] for r in store.to_arrow("deals").to_pylist()}
            assert amounts["101"] == 25000.0


TITLE_MAPPING = """
source_system: t
tables:
  - entity: deals
    files: ["deals*"]
    columns: {deal_id: ID, name: Title}
    constants: {is_won: false}
  - entity: activities
    files: ["acts*"]
    columns:
      activity_id: ID
      occurred_at: Date
      deal_id: {names: [Deal]}
    constants: {kind: call}
"""

titles = st.text(alphabet="aAbB ßẞ", min_size=1, max_size=5).filter(lambda t: t.strip() != "")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deal_titles=st.lists(titles, min_size=1, max_size=6), named=st.lists(titles, max_size=6))
def test_titles_link_exactly_as_a_plain_reference(deal_titles: list[str], named: list[str]) -> None:
    """An activity links to the one deal whose title equals its name ignoring case and
    repeated spaces; to none when no deal or several deals have it (a dict, by hand)."""
    key = lambda t: " ".join(t.split()).casefold()  # noqa: E731
    owners: dict[str, list[str]] = {}
    for i, t in enumerate(deal_titles):
        owners.setdefault(key(t), []).append(f"D{i}")
    expected = {
        f"A{j}": owners[key(t)][0] if len(owners.get(key(t), [])) == 1 else None
        for j, t in enumerate(named)
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mapping = write(folder / "m.yaml", TITLE_MAPPING)
        deals = ["ID,Title", *(f'D{i},"{t}"' for i, t in enumerate(deal_titles))]
        acts = ["ID,Date,Deal", *(f'A{j},2024-01-0{1 + j % 9},"{t}"' for j, t in enumerate(named))]
        files = [write(folder / "deals.csv", "\n".join(deals) + "\n")]
        if named:
            files.append(write(folder / "acts.csv", "\n".join(acts) + "\n"))
        with Store.open(folder / "ws", create=True) as store:
            import_files(store, files, mapping=mapping)
            assert linked(store) == expected
