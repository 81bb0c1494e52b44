"""Server hardening (issue 17): request bodies, case lines, password hashes, Origin, caching,
forwarded headers, file modes and the DuckDB lock message; one test per probe finding."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from crmroi.cli.serve import proxy_options
from crmroi.store import Store
from tests.web_support import PASSWORDS, client, login, make_app

COST = "  - {category: licence, amount: 10}\n"


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    application = make_app(str(tmp_path / "ws"))
    yield application
    application.state.crmroi.access.close()


# --------------------------------------------------------------------------- bodies and cases


def test_non_upload_bodies_have_their_own_small_limit(app) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    big = "name: big\ncosts:\n" + COST * 90_000  # about 3.3 MB of YAML
    assert len(big) > 2 * 1024 * 1024
    response = viewer.post(
        "/api/v1/cases/x/evaluate", content=big, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is too large", "code": "body_too_large"}


def test_a_viewer_cannot_evaluate_a_case_with_thousands_of_lines(app) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    text = "name: big\ncosts:\n" + COST * 5_000  # 0.2 MB: under the body limit
    response = viewer.post(
        "/api/v1/cases/x/evaluate", content=text, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 422
    assert "costs has 5,000 lines; at most 500" in response.json()["detail"]
    small = viewer.post(
        "/api/v1/cases/x/evaluate",
        content="name: small\ncosts:\n" + COST * 3,
        headers={"content-type": "application/yaml"},
    )
    assert small.status_code == 200, small.text


# --------------------------------------------------------------------------- password hashes


def test_a_login_waiting_too_long_for_a_hash_slot_gets_429(tmp_path: Path) -> None:
    app = make_app(str(tmp_path / "ws"), max_concurrent_hashes=1, hash_wait_seconds=0.2)
    try:
        c = client(app)
        token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text)
        assert token
        slots = app.state.crmroi.accounts._hash_slots
        assert slots.acquire(timeout=1)  # another login is hashing
        try:
            busy = c.post(
                "/login",
                data={"username": "viewer", "password": "x" * 12, "login_csrf": token.group(1)},
            )
        finally:
            slots.release()
        assert busy.status_code == 429
        assert "busy checking passwords" in busy.text
        ok = c.post(
            "/login",
            data={
                "username": "viewer",
                "password": PASSWORDS["viewer"],
                "login_csrf": token.group(1),
            },
        )
        assert ok.status_code == 303
    finally:
        app.state.crmroi.access.close()


def test_concurrent_wrong_logins_hash_a_few_at_a_time(tmp_path: Path) -> None:
    """16 threads checking passwords at once: peak memory grows by two hashes, not sixteen."""
    code = rf"""
import json, re, threading
def peak_mib():  # VmHWM: ru_maxrss would carry the forking test process's size
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\s*(\d+)", status).group(1)) / 1024
from crmroi.web.access import WorkspaceAccess
from crmroi.web.auth import Accounts, Role
access = WorkspaceAccess({str(tmp_path / "ws")!r})
accounts = Accounts(access, "s" * 32, 1.0, hash_slots=2, hash_wait_seconds=120)
accounts.create_user("someone", "a long password here", Role.viewer)
before = peak_mib()
threads = [threading.Thread(target=accounts.authenticate, args=("someone", f"wrong {{i}}"))
           for i in range(16)]
for t in threads: t.start()
for t in threads: t.join()
after = peak_mib()
print(json.dumps({{"grew_mib": after - before}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    grew = json.loads(done.stdout.strip().splitlines()[-1])["grew_mib"]
    assert grew < 300, f"peak memory grew by {grew:.0f} MiB"  # 16 x 64 MiB = 1 GiB before


# --------------------------------------------------------------------------- Origin, caching


def test_state_changing_requests_from_another_origin_are_refused(app) -> None:  # type: ignore[no-untyped-def]
    analyst = login(app, "analyst")
    evil = analyst.put("/api/v1/cases/o", content="name: o\n", headers={
        "content-type": "application/yaml", "origin": "https://evil.example"})  # fmt: skip
    assert evil.status_code == 403
    assert "another site" in evil.json()["detail"]
    cross = analyst.put("/api/v1/cases/o", content="name: o\n", headers={
        "content-type": "application/yaml", "sec-fetch-site": "cross-site"})  # fmt: skip
    assert cross.status_code == 403
    same = analyst.put("/api/v1/cases/o", content="name: o\n", headers={
        "content-type": "application/yaml", "origin": "https://testserver"})  # fmt: skip
    assert same.status_code == 200, same.text
    assert analyst.get("/api/v1/cases", headers={"origin": "https://evil.example"}).is_success


def test_pages_and_api_answers_are_not_stored_by_caches(app) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    account = viewer.get("/account", headers={"accept": "text/html"})
    assert account.status_code == 200
    assert account.headers["cache-control"] == "no-store"
    assert viewer.get("/api/v1/me").headers["cache-control"] == "no-store"
    assert "no-store" not in viewer.get("/assets/vega.js").headers["cache-control"]


# --------------------------------------------------------------------------- forwarded headers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The app on a real uvicorn server (localhost), with `crmroi serve`'s proxy options."""
    app = make_app(str(tmp_path / "ws"), login_failures_per_ip=3, cookie_secure=False)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **proxy_options("")
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.state.crmroi.access.close()


def test_x_forwarded_for_from_localhost_does_not_evade_the_address_limit(served: str) -> None:
    statuses = []
    with httpx.Client(base_url=served, follow_redirects=False, timeout=30) as c:
        for i in range(6):
            page = c.get("/login")
            token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
            assert token
            answer = c.post(
                "/login",
                data={"username": f"nobody{i}", "password": "wrong", "login_csrf": token.group(1)},
                headers={"x-forwarded-for": f"203.0.113.{i}"},
            )
            statuses.append(answer.status_code)
    assert statuses == [401, 401, 401, 429, 429, 429]
    assert proxy_options("10.0.0.1, 10.0.0.2") == {
        "proxy_headers": True,
        "forwarded_allow_ips": "10.0.0.1,10.0.0.2",
    }


# --------------------------------------------------------------------------- workspace files


def test_a_new_workspace_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws", create=True):
        pass
    assert stat.S_IMODE((tmp_path / "ws").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "ws" / "workspace.duckdb").stat().st_mode) == 0o600


def test_cli_on_a_workspace_held_by_the_server_says_what_to_do(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws", create=True):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"c = duckdb.connect({str(tmp_path / 'ws' / 'workspace.duckdb')!r})\n"
         "print('held', flush=True)\ntime.sleep(120)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = subprocess.run(
            [sys.executable, "-m", "crmroi", "kpis", str(tmp_path / "ws")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "COLUMNS": "300"},
        )
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert f"in use by process {holder.pid}" in done.stderr
    assert "stop the server" in done.stderr
    assert "PostgreSQL workspace" in done.stderr


def test_health_and_login_page_answer_while_a_write_holds_the_workspace(app) -> None:  # type: ignore[no-untyped-def]
    """An import or undo holds the DuckDB workspace for its whole write; meanwhile the health
    check and the login page still answer (the health check says the workspace is busy)."""
    holding, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with app.state.crmroi.access.store():
            holding.set()
            release.wait(timeout=120)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert holding.wait(timeout=30)
        c = client(app)
        health = c.get("/healthz")
        login_page = c.get("/login")
        still_writing = writer.is_alive()
    finally:
        release.set()
        writer.join(timeout=30)
    assert still_writing  # both answers came while the write was under way
    assert health.status_code == 200
    assert health.json()["workspace"] == "busy"
    assert login_page.status_code == 200
    assert client(app).get("/healthz").json()["workspace"] == "ok"


def test_health_check_never_waits_for_a_workspace_that_does_not_answer(app) -> None:  # type: ignore[no-untyped-def]
    """A workspace whose `SELECT 1` hangs (a stuck disk, a long checkpoint): `/healthz`
    answers "busy" while the question is still open, and later checks do not ask again
    until it has been answered (no threads piling up behind it)."""
    access = app.state.crmroi.access
    asked, release = threading.Event(), threading.Event()
    questions = []

    def stuck_ping(wait_seconds: float = 0.05) -> bool:
        questions.append(wait_seconds)
        asked.set()
        release.wait(timeout=120)
        return True

    access.ping = stuck_ping
    try:
        c = client(app)
        first = c.get("/healthz")
        assert asked.wait(timeout=30)
        second = c.get("/healthz")
        still_stuck = not release.is_set()
    finally:
        release.set()
    assert still_stuck  # both answers came while the question hung
    assert first.status_code == second.status_code == 200
    assert first.json()["workspace"] == second.json()["workspace"] == "busy"
    assert len(questions) == 1
    deadline = time.monotonic() + 30
    while app.state.crmroi.health.ask().running() and time.monotonic() < deadline:
        time.sleep(0.01)  # the hung question ends
    assert c.get("/healthz").json()["workspace"] == "ok"
