"""Per-request lookups remembered until the next write (issue 17's load targets): on a DuckDB
workspace the data version, sessions, tokens, saved cases and settings are read once per
write, and every write (import, undo, logout, revoke, disable, case change) is seen by the
very next request."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from crmroi.store import Store
from crmroi.store.engines import DuckDBEngine
from crmroi.web.access import WorkspaceAccess
from tests.web_support import login, make_app

DEALS = "Deal,Account,Amount,Closed,Won\n1,acme,5,2024-01-20,yes\n"
MAPPING = """
source_system: memo
tables:
  - entity: deals
    columns: {deal_id: Deal, account_id: Account, amount: Amount, closed_at: Closed,
              is_won: {column: Won, map: {yes: true, no: false}}}
"""


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    application = make_app(str(tmp_path / "ws"))
    yield application
    application.state.crmroi.access.close()


def test_only_committed_write_transactions_count_as_writes(workspace: Store) -> None:
    engine = workspace.engine
    assert isinstance(engine, DuckDBEngine)
    before = engine.writes
    with workspace.transaction() as tx:
        tx.execute("SELECT count(*) FROM import_batches")
    assert engine.writes == before  # a read
    with pytest.raises(RuntimeError), workspace.transaction() as tx:
        tx.execute("DELETE FROM import_batches")
        raise RuntimeError("rolled back")
    assert engine.writes == before  # nothing changed
    workspace.set_settings(anything=1)
    assert engine.writes == before + 1


def test_memo_recomputes_after_a_write_and_only_then(tmp_path: Path) -> None:
    access = WorkspaceAccess(str(tmp_path / "ws"))
    try:
        calls: list[int] = []

        def compute() -> int:
            calls.append(1)
            return len(calls)

        assert access.memo("k", compute) == 1
        assert access.memo("k", compute) == 1  # remembered
        access.query("SELECT 1")  # reads do not forget it
        assert access.memo("k", compute) == 1
        with access.transaction() as tx:
            tx.write_settings({"x": 1})
        assert access.memo("k", compute) == 2
        assert access.settings()["x"] == 1
    finally:
        access.close()


def test_every_write_is_seen_by_the_next_request(app: FastAPI) -> None:
    state = app.state.crmroi
    analyst = login(app, "analyst")
    viewer = login(app, "viewer")
    assert viewer.get("/api/v1/summary").status_code == 200
    version = state.access.data_version()
    imported = analyst.post(
        "/api/v1/imports",
        files=[
            ("files", ("deals.csv", DEALS.encode(), "text/csv")),
            ("mapping", ("map.yaml", MAPPING.encode(), "application/x-yaml")),
        ],
    )
    assert imported.status_code == 200, imported.text
    assert state.access.data_version() != version  # the import is seen at once

    user = next(u for u, _ in state.accounts.users() if u.username == "viewer")
    bearer = {"Authorization": "Bearer " + state.accounts.create_api_token(user, "memo")}
    assert viewer.get("/api/v1/me", headers=bearer).status_code == 200
    token_id = viewer.get("/api/v1/tokens").json()[0]["token_id"]
    assert viewer.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert viewer.get("/api/v1/me", headers=bearer).status_code == 401  # revoked: refused

    assert viewer.get("/api/v1/me").status_code == 200
    state.accounts.set_disabled(user.user_id, True)
    assert viewer.get("/api/v1/me").status_code == 401  # disabled: the session ends now

    case = "name: memo\ncosts:\n  - {category: licence, amount: 10}\n"
    put = analyst.put(
        "/api/v1/cases/memo", content=case, headers={"content-type": "application/yaml"}
    )
    assert put.status_code == 200, put.text
    assert "memo" in [c["name"] for c in analyst.get("/api/v1/cases").json()]
