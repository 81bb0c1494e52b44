"""User activity (`user_logins`) and licences (`crm_users`): imported like any other table
(Salesforce LoginHistory, the Setup download, the generic `logins` CSV), idempotent,
undoable, clear refusals, on DuckDB, the Parquet lake and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from crmroi.errors import UserError
from crmroi.ingest.pipeline import import_files
from crmroi.kpi.logins import measure_login_adoption
from crmroi.store import Store
from crmroi.store.undo import undo_batch

from .conftest import scratch_database

EXPORTS = Path(__file__).parent / "fixtures" / "exports" / "salesforce"
LOGIN_HISTORY = EXPORTS / "loginhistory_object.csv"
SETUP_DOWNLOAD = EXPORTS / "login_history_setup.csv"
USERS = EXPORTS / "user_object.csv"

GENERIC = (
    "user_id,email,name,occurred_at,kind,succeeded\n"
    "U1,ana@example.com,Ana,2025-03-03 08:00:00,login,true\n"
    "U1,ana@example.com,Ana,2025-03-04 08:00:00,,\n"
    "U2,bo@example.com,Bo,2025-03-04,record_created,yes\n"
    "U2,bo@example.com,Bo,2025-03-05 09:30:00,login,failed\n"
)


def _logins(store: Store) -> list[tuple[str, dt.datetime, bool | None, str | None]]:
    rows = store.to_arrow("user_logins", order_by=["user_id", "occurred_at"]).to_pylist()
    return [(r["user_id"], r["occurred_at"], r["succeeded"], r["kind"]) for r in rows]


def test_salesforce_login_history_object_export(workspace: Store) -> None:
    """API field names (Id, UserId, LoginTime, Status, Application): Status "Success"
    is a successful login, any other status (the failure reason) is not; LoginTime's
    +0000 offset is UTC."""
    report = import_files(workspace, [LOGIN_HISTORY], source="salesforce")
    assert (report.rows_loaded, report.rows_rejected) == (5, 0)
    assert report.files[0].entity == "user_logins"
    rows = workspace.to_arrow("user_logins", order_by=["login_id"]).to_pylist()
    assert [r["login_id"] for r in rows][:2] == ["0Ya6g00000Kc1AAAAZ", "0Ya6g00000Kc1ABAAZ"]
    assert [r["succeeded"] for r in rows] == [True, False, True, True, True]
    assert rows[0]["user_id"] == "0056g000001AbCdAAK"
    assert rows[0]["occurred_at"] == dt.datetime(2025, 3, 3, 7, 58, 12)
    assert rows[3]["application"] == "Salesforce for iOS"
    assert {r["kind"] for r in rows} == {"login"}
    assert {r["source_system"] for r in rows} == {"salesforce"}


def test_salesforce_setup_download_and_users_with_licences(workspace: Store) -> None:
    """The Setup > Login History download (labels, no id: keyed by content, user by
    username) and the User export read as crm_users with --entity (IsActive, CreatedDate)."""
    import_files(workspace, [SETUP_DOWNLOAD], source="salesforce")
    got = _logins(workspace)
    assert got[0] == (
        "maria.lopez@example.com.prod",
        dt.datetime(2025, 3, 3, 7, 58, 12),
        True,
        "login",
    )
    assert got[1][2] is False  # Invalid Password
    assert got[2][1] == dt.datetime(2025, 3, 3, 23, 30)
    again = import_files(workspace, [SETUP_DOWNLOAD], source="salesforce")
    assert again.files[0].unchanged == 3 and again.files[0].inserted == 0
    import_files(workspace, [USERS], source="salesforce", entity="crm_users")
    users = workspace.to_arrow("crm_users", order_by=["user_id"]).to_pylist()
    assert [u["licensed"] for u in users] == [True, True, True, False, True]
    assert users[0]["licensed_from"] == dt.date(2022, 2, 1)
    assert users[0]["email"] == "maria.lopez@example.com"
    # the same export without --entity is still the reps table, now with e-mails
    import_files(workspace, [USERS], source="salesforce")
    reps = workspace.to_arrow("reps", order_by=["rep_id"]).to_pylist()
    assert reps[1]["email"] == "tom.becker@example.com"


def test_generic_logins_idempotent_and_undoable(workspace: Store, tmp_path: Path) -> None:
    path = tmp_path / "logins.csv"
    path.write_text(GENERIC, encoding="utf-8")
    first = import_files(workspace, [path], source="logins")
    assert (first.rows_loaded, first.rows_rejected) == (4, 0)
    assert _logins(workspace) == [
        ("U1", dt.datetime(2025, 3, 3, 8), True, "login"),
        ("U1", dt.datetime(2025, 3, 4, 8), None, "login"),  # empty kind: a login
        ("U2", dt.datetime(2025, 3, 4), True, "record_created"),
        ("U2", dt.datetime(2025, 3, 5, 9, 30), False, "login"),
    ]
    second = import_files(workspace, [path], source="logins")
    assert second.files[0].unchanged == 4 and second.files[0].inserted == 0
    users = tmp_path / "users.csv"
    users.write_text(
        "user_id,email,licensed,licensed_from,licensed_until\n"
        "U1,ana@example.com,yes,2025-01-01,\nU2,bo@example.com,no,2025-01-01,2025-03-31\n",
        encoding="utf-8",
    )
    third = import_files(workspace, [users], source="logins")
    assert third.files[0].entity == "crm_users"
    assert workspace.count("crm_users") == 2
    undo_batch(workspace, third.batch_id)
    assert workspace.count("crm_users") == 0
    undo_batch(workspace, first.batch_id)
    assert workspace.count("user_logins") == 0


def test_a_bad_row_names_file_row_column_and_reason(workspace: Store, tmp_path: Path) -> None:
    path = tmp_path / "logins.csv"
    path.write_text(
        GENERIC + "U3,c@example.com,C,2025-03-06 10:00:00,logon,true\n"
        "U3,c@example.com,C,not a time,login,true\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError, match="nothing was imported"):
        import_files(workspace, [path], source="logins", strict=True)
    assert workspace.count("user_logins") == 0  # atomic: nothing written
    report = import_files(workspace, [path], source="logins")
    assert (report.rows_loaded, report.rows_rejected) == (4, 2)
    rejects = [(r.file, r.row, r.column, r.reason) for r in report.rejects]
    assert rejects[0][:3] == ("logins.csv", 6, "kind") and "'logon'" in rejects[0][3]
    assert rejects[1][1:3] == (7, "occurred_at")


def _share_of_licensed_users(store: Store) -> None:
    """The fixtures by hand: the export covers Mon 3 and Tue 4 March 2025 (first and last
    login). Licensed: Maria, Tom, the integration user, Sam (Wei Li is not active and never
    logged in: left out). Maria succeeded on both days (a failed attempt on the 4th, then a
    success), Tom on the 3rd (23:30 UTC) and the integration user on the 4th: 1 of 2 days
    is half, so active; Sam never: 3 of 4. Users are the reps by id (User Id = OwnerId)."""
    a = measure_login_adoption(store, period="week")
    assert a is not None and a.basis == "licensed_users"
    (week,) = a.periods
    assert (week.start, week.licensed, week.active) == (dt.date(2025, 3, 3), 4, 3)
    assert week.by_team == {"": (1, 1), "Sales EMEA": (1, 2), "Sales NA": (1, 1)}
    assert (a.users, a.unmatched_users, a.login_users_left_out) == (4, 0, 0)


def _roundtrip(location: str) -> None:
    with Store.open(location, create=True) as store:
        report = import_files(store, [LOGIN_HISTORY], source="salesforce")
        assert store.count("user_logins") == 5
        assert import_files(store, [LOGIN_HISTORY], source="salesforce").files[0].unchanged == 5
        import_files(store, [USERS], source="salesforce", entity="crm_users")
        assert store.count("crm_users") == 5
        import_files(store, [USERS], source="salesforce")  # the same export as reps
        _share_of_licensed_users(store)
        undo_batch(store, report.batch_id)
        assert store.count("user_logins") == 0
        assert measure_login_adoption(store) is None


@pytest.mark.parametrize("scheme", ["parquet", "delta"])
def test_a_lake_gets_the_tables(tmp_path: Path, scheme: str) -> None:
    if scheme == "delta":
        pytest.importorskip("deltalake", reason="deltalake is not installed")
    _roundtrip(f"{scheme}://{tmp_path / 'lake'}")


def test_postgres_gets_the_tables() -> None:
    with scratch_database() as url:
        _roundtrip(url)


def test_duckdb_gets_the_tables(tmp_path: Path) -> None:
    _roundtrip(str(tmp_path / "ws"))


def test_the_web_api_imports_logins_and_undoes_them(tmp_path: Path) -> None:
    """POST /api/v1/imports with source=logins (the generic layout) and with the
    Salesforce LoginHistory export; the batch is undone through the API too."""
    from tests.web_support import login, make_app

    app = make_app(str(tmp_path / "ws"))
    try:
        analyst = login(app, "analyst")
        sent = analyst.post(
            "/api/v1/imports",
            files=[("files", ("logins.csv", GENERIC.encode(), "text/csv"))],
            data={"source": "logins"},
        )
        assert sent.status_code == 200, sent.text
        body = sent.json()
        assert body["rows_loaded"] == 4
        sf = analyst.post(
            "/api/v1/imports",
            files=[("files", (LOGIN_HISTORY.name, LOGIN_HISTORY.read_bytes(), "text/csv"))],
            data={"source": "salesforce"},
        )
        assert sf.status_code == 200 and sf.json()["rows_loaded"] == 5, sf.text
        with app.state.crmroi.access.store() as store:
            assert store.count("user_logins") == 9
        undone = analyst.post(f"/api/v1/imports/{body['batch_id']}/undo")
        assert undone.status_code == 200, undone.text
        with app.state.crmroi.access.store() as store:
            assert store.count("user_logins") == 5
    finally:
        app.state.crmroi.access.close()


def _make_older(execute: Any) -> None:
    """Drop what this change added: reps.email and the two tables (with undo tables)."""
    execute('ALTER TABLE reps DROP COLUMN "email"')
    execute('ALTER TABLE undo_reps DROP COLUMN "email"')
    for name in ("crm_users", "user_logins"):
        execute(f'DROP TABLE "{name}"')
        execute(f'DROP TABLE "undo_{name}"')


def _older_workspace_upgraded(location: str) -> None:
    with Store.open(location) as store:
        assert "email" in store.table("reps").schema().names
        import_files(store, [USERS], source="salesforce")  # reps, now with e-mails
        second = import_files(store, [USERS], source="salesforce", entity="crm_users")
        import_files(store, [LOGIN_HISTORY], source="salesforce")
        _share_of_licensed_users(store)
        undo_batch(store, second.batch_id)
        assert store.count("crm_users") == 0


def test_an_older_workspace_gains_the_tables_and_the_rep_email(tmp_path: Path) -> None:
    import duckdb

    folder = tmp_path / "ws"
    Store.open(folder, create=True).close()
    with duckdb.connect(str(folder / "workspace.duckdb")) as con:
        _make_older(con.execute)
    _older_workspace_upgraded(str(folder))


def test_an_older_postgres_workspace_gains_them_too() -> None:
    with scratch_database("crmroi_logins") as url:
        import psycopg

        Store.open(url, create=True).close()
        with psycopg.connect(url, autocommit=True) as con:
            _make_older(con.execute)
        _older_workspace_upgraded(url)
