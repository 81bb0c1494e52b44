"""The web app on a PostgreSQL workspace: logins, roles and audit shared by several workers;
uploads and case evaluations in the same worker pool as on DuckDB."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import crmroi.ingest.pipeline as pipeline_module
from crmroi.demo import generate_company, write_demo
from crmroi.store import Store
from tests.test_links_by_title import ACTIVITIES, DEALS, EXPECTED, linked
from tests.web_support import PASSWORDS, login, make_app

pytestmark = pytest.mark.postgres


def test_app_on_postgres_keeps_users_sessions_and_audit(postgres_url: str) -> None:
    with Store.open(postgres_url) as store:
        write_demo(store, generate_company(scale=0.05, seed=3), None)
    app = make_app(postgres_url, simulation_runs=50, bootstrap=5)
    try:
        admin = login(app, "admin")
        assert admin.get("/api/v1/me").json() == {"username": "admin", "role": "admin"}
        form = {"username": "Ольга", "password": "Olga keeps the ledger 1975!", "role": "analyst"}
        assert admin.post("/admin/users", data=form).status_code == 200
        users = {u["username"]: u["role"] for u in admin.get("/api/v1/users").json()}
        assert users["ольга"] == "analyst"  # names are stored NFKC case-folded
        assert admin.get("/api/v1/audit").json()[0]["action"] == "user.create"
    finally:
        app.state.crmroi.access.close()


def test_uploads_and_evaluations_on_postgres_run_in_the_worker_pool(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL workspace uses the same bounded pool and worker processes as a DuckDB
    one: an upload is read, mapped, linked and summarised in a worker process (the server
    only writes), a case is simulated there, each from one of the pool's threads."""
    app = make_app(postgres_url, worker_kind="process", workers=1)
    state = app.state.crmroi
    computed: list[tuple[str, str]] = []  # (function, the thread that handed it over)
    real_compute = state.work.compute

    def compute(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        computed.append((fn.__name__, threading.current_thread().name))
        return real_compute(fn, *args, **kwargs)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("linked and summarised in the server")

    monkeypatch.setattr(state.work, "compute", compute)
    monkeypatch.setattr(pipeline_module, "_link_and_summarise", refuse)
    try:
        analyst = login(app, "analyst")
        files = [
            ("files", ("deals.csv", DEALS.encode(), "text/csv")),
            ("files", ("acts.csv", ACTIVITIES.encode(), "text/csv")),
        ]
        dry = analyst.post(
            "/api/v1/imports", files=files, data={"source": "pipedrive", "dry_run": "true"}
        )
        assert dry.status_code == 200, dry.text
        done = analyst.post("/api/v1/imports", files=files, data={"source": "pipedrive"})
        assert done.status_code == 200, done.text
        assert done.json()["rows_loaded"] == 10
        with Store.open(postgres_url) as store:
            assert linked(store) == EXPECTED
        case = "name: small\ncosts:\n  - {category: licence, amount: 10}\n"
        headers = {"content-type": "application/yaml"}
        evaluated = analyst.post("/api/v1/cases/x/evaluate", content=case, headers=headers)
        assert evaluated.status_code == 200, evaluated.text
    finally:
        state.work.close()
        state.access.close()
    names = [name for name, _ in computed]
    assert names.count("map_in_folder") == 2 and names.count("figures_of") == 1, computed
    assert all(thread.startswith("crmroi-work") for _, thread in computed), computed


START_SECONDS = 60 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
"""How long a server may take to start: a minute, longer on a machine busier than its cores."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_several_workers_share_one_login(postgres_url: str, tmp_path: Path) -> None:
    """`crmroi serve URL --workers 2`: a session made by one worker is valid in the other."""
    port = _free_port()
    env = {
        **os.environ,
        "CRMROI_ADMIN_PASSWORD": PASSWORDS["admin"],
        "CRMROI_SECRET_KEY": "workers-test-secret-0123456789",
        # what is tested is the shared login: no worker processes and no warm-up to start
        # in each server worker (they made the start take over a minute on a busy machine)
        "CRMROI_WORKER_KIND": "thread",
        "CRMROI_WARM_CACHE": "false",
    }
    command = [sys.executable, "-m", "crmroi", "serve", postgres_url, "--port", str(port)]
    command += ["--workers", "2", "--development"]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        with httpx.Client(base_url=base) as client:
            page = client.get("/login")
            token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
            assert token
            form = {"username": "admin", "password": PASSWORDS["admin"]}
            response = client.post("/login", data={**form, "login_csrf": token.group(1)})
            assert response.status_code == 303
            workers: set[int] = set()
            asked = 0
            # until both workers have answered (the second may still be starting): each
            # new connection goes to whichever worker accepts it first
            while len(workers) < 2 and (asked < 60 or time.monotonic() < deadline):
                with httpx.Client(base_url=base, cookies=client.cookies) as fresh:
                    me = fresh.get("/api/v1/me")
                    assert me.status_code == 200
                    workers.add(fresh.get("/healthz").json()["worker"])
                asked += 1
        assert len(workers) == 2, workers  # both workers answered, with the same session
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
