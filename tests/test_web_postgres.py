"""The web app on a PostgreSQL workspace: logins, roles and audit shared by several workers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crmroi.demo import generate_company, write_demo
from crmroi.store import Store
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
    }
    command = [sys.executable, "-m", "crmroi", "serve", postgres_url, "--port", str(port)]
    command += ["--workers", "2", "--development"]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
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
            workers = set()
            for _ in range(60):
                with httpx.Client(base_url=base, cookies=client.cookies) as fresh:
                    me = fresh.get("/api/v1/me")
                    assert me.status_code == 200
                    workers.add(fresh.get("/healthz").json()["worker"])
        assert len(workers) == 2, workers  # both workers answered, with the same session
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
