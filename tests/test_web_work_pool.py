"""Slow work outside the workspace lock (issue 17): an upload is read and mapped, and a case
evaluated, in a bounded pool of worker threads; only the final write holds the workspace,
so `/healthz` and logins answer while a slow parse runs, and a full queue gets 503."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

import crmroi.ingest.mapped as mapped_module
from crmroi.errors import ServerBusy
from crmroi.ingest.mapped import map_unlocked
from crmroi.ingest.mapping import parse_mapping
from crmroi.ingest.pipeline import import_files
from crmroi.store import Store
from crmroi.web.workers import WorkPool
from tests.web_support import PASSWORDS, login, make_app

MAPPING = """
source_system: pool
tables:
  - entity: deals
    files: ["deals*.csv"]
    columns:
      deal_id: Deal
      account_id: Account
      amount: Amount
      closed_at: Closed
      is_won: {column: Won, map: {yes: true, no: false}}
  - entity: fx_rates
    files: ["rates*.csv"]
    columns:
      rate_date: date
      currency: code
      rate_to_base: rate
"""
DEALS = "Deal,Account,Amount,Closed,Won\n1,acme,EUR 10,2024-01-15,yes\n2,acme,5,2024-01-20,no\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """The app on a real uvicorn server: one event loop, as `crmroi serve` runs it."""
    app = make_app(str(tmp_path / "ws"), cookie_secure=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.state.crmroi.access.close()


def _login(c: httpx.Client, role: str) -> httpx.Response:
    page = c.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token
    return c.post(
        "/login",
        data={"username": role, "password": PASSWORDS[role], "login_csrf": token.group(1)},
    )


def test_health_and_login_answer_while_an_upload_is_parsed(
    served: tuple[str, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file reader is held mid-parse; meanwhile `/healthz` finds the workspace free and a
    login (which reads and writes the workspace) succeeds; then the import completes."""
    url, app = served
    state = app.state.crmroi
    analyst = next(u for u, _ in state.accounts.users() if u.username == "analyst")
    bearer = {"Authorization": "Bearer " + state.accounts.create_api_token(analyst, "pool")}
    parsing, release = threading.Event(), threading.Event()
    real_read_raw = mapped_module.read_raw

    def slow_read_raw(*args: Any, **kwargs: Any) -> Any:
        parsing.set()
        release.wait(timeout=120)  # a parse that takes as long as the test wants
        return real_read_raw(*args, **kwargs)

    monkeypatch.setattr(mapped_module, "read_raw", slow_read_raw)
    answer: dict[str, httpx.Response] = {}

    def upload() -> None:
        with httpx.Client(base_url=url, timeout=120) as c:
            answer["import"] = c.post(
                "/api/v1/imports",
                headers=bearer,
                files=[
                    ("files", ("deals.csv", DEALS.encode(), "text/csv")),
                    ("mapping", ("map.yaml", MAPPING.encode(), "application/x-yaml")),
                ],
            )

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert parsing.wait(timeout=60)
        with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as c:
            started = time.perf_counter()
            health = c.get("/healthz")
            health_seconds = time.perf_counter() - started
            logged_in = _login(c, "viewer")
        still_parsing = uploader.is_alive()
    finally:
        release.set()
        uploader.join(timeout=120)
    assert still_parsing  # both answers came while the file was being read
    assert health.status_code == 200
    assert health.json()["workspace"] == "ok"  # the parse does not hold the workspace
    assert health_seconds < 2.0, health_seconds  # ~10 ms alone; 2 s leaves room for a busy CI
    assert logged_in.status_code == 303
    assert answer["import"].status_code == 200, answer["import"].text
    assert answer["import"].json()["rows_loaded"] == 1  # "EUR 10" has no rate: refused


def test_a_full_queue_answers_503_with_retry_after(tmp_path: Path) -> None:
    app = make_app(str(tmp_path / "ws"), workers=1, worker_queue=0)
    try:
        viewer = login(app, "viewer")
        case = "name: small\ncosts:\n  - {category: licence, amount: 10}\n"
        headers = {"content-type": "application/yaml"}
        busy, release = threading.Event(), threading.Event()

        def occupy() -> None:
            busy.set()
            release.wait(timeout=60)

        running = app.state.crmroi.work.submit(occupy)
        try:
            assert busy.wait(timeout=30)
            refused = viewer.post("/api/v1/cases/x/evaluate", content=case, headers=headers)
        finally:
            release.set()
            running.result(timeout=30)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert "busy" in refused.json()["detail"]
        ok = viewer.post("/api/v1/cases/x/evaluate", content=case, headers=headers)
        assert ok.status_code == 200, ok.text
    finally:
        app.state.crmroi.access.close()


def test_the_pool_runs_at_most_its_workers_and_frees_slots() -> None:
    pool = WorkPool(workers=2, queue=1)
    gate = threading.Event()
    active, peak = [0], [0]
    lock = threading.Lock()

    def job() -> int:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        gate.wait(timeout=30)
        with lock:
            active[0] -= 1
        return 1

    futures = [pool.submit(job) for _ in range(3)]  # two run, one waits
    with pytest.raises(ServerBusy):
        pool.submit(job)
    gate.set()
    assert sum(f.result(timeout=30) for f in futures) == 3
    assert peak[0] == 2
    assert pool.submit(lambda: 7).result(timeout=30) == 7  # the slots came back
    pool.close()


# --------------------------------------------------------------------------- pipeline halves


def _files(tmp_path: Path, eur_rate: float) -> tuple[Path, Path]:
    rates = tmp_path / f"rates-{eur_rate:g}.csv"
    rates.write_text(f"date,code,rate\n2024-01-01,EUR,{eur_rate}\n", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text(DEALS, encoding="utf-8")
    return rates, deals


def test_files_mapped_without_the_workspace_are_written_as_mapped(
    workspace: Store, tmp_path: Path
) -> None:
    mapping = parse_mapping(MAPPING, "map.yaml")
    rates, deals = _files(tmp_path, 100.0)
    import_files(workspace, [rates], mapping=mapping)
    mapped = map_unlocked(lambda: contextlib.nullcontext(workspace), [deals], mapping)
    report = import_files(workspace, [deals], mapping=mapping, mapped=mapped)
    assert report.batch_id == mapped.batch_id
    stored = workspace.table("deals").to_pandas().set_index("deal_id")
    assert stored.loc["1", "amount"] == pytest.approx(1000.0)  # EUR 10 at 100


def test_files_are_mapped_again_when_an_import_changed_the_rates_meanwhile(
    workspace: Store, tmp_path: Path
) -> None:
    mapping = parse_mapping(MAPPING, "map.yaml")
    rates, deals = _files(tmp_path, 100.0)
    import_files(workspace, [rates], mapping=mapping)
    mapped = map_unlocked(lambda: contextlib.nullcontext(workspace), [deals], mapping)
    newer, _ = _files(tmp_path, 120.0)
    import_files(workspace, [newer], mapping=mapping)  # another import, while mapping ran
    import_files(workspace, [deals], mapping=mapping, mapped=mapped)
    stored = workspace.table("deals").to_pandas().set_index("deal_id")
    assert stored.loc["1", "amount"] == pytest.approx(1200.0)  # the new rate, not the stale
