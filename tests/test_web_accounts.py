"""Accounts (issue 17): throttling that nobody can turn into a lockout, `crmroi users`,
sessions and tokens ended on a reset or role change, tokens that cannot mint tokens,
normalised user names and guessable passwords refused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmroi.web.auth as auth
from crmroi.errors import ConfigurationError
from crmroi.web.identity import check_password, name_key, normalise_username
from tests.web_support import PASSWORDS, client, login, make_app


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    application = make_app(str(tmp_path / "ws"))
    yield application
    application.state.crmroi.access.close()


def _login_form(c, username: str, password: str):  # type: ignore[no-untyped-def]
    token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    return c.post(
        "/login", data={"username": username, "password": password, "login_csrf": token.group(1)}
    )


def test_an_attacker_elsewhere_cannot_lock_the_owner_out_for_long(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [auth.now()]
    monkeypatch.setattr(auth, "now", lambda: clock[0])
    accounts = app.state.crmroi.accounts
    for i in range(200):  # 200 failures for "admin" from many addresses, all at once
        accounts.record_failure("admin", f"198.51.100.{i % 50}")
    c = client(app)
    first = _login_form(c, "admin", PASSWORDS["admin"])
    assert first.status_code == 429
    assert int(first.headers["retry-after"]) <= 60  # the user-wide wait is capped
    clock[0] += auth.timedelta(seconds=61)
    assert _login_form(c, "admin", PASSWORDS["admin"]).status_code == 303


def test_password_reset_and_role_change_end_sessions_and_tokens(app) -> None:  # type: ignore[no-untyped-def]
    accounts = app.state.crmroi.accounts
    for change in ("password", "role"):
        viewer = login(app, "viewer")
        page = viewer.post("/account/tokens", data={"label": "bi"})
        token = re.search(r'id="new-token">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
        bearer = client(app)
        bearer.headers["Authorization"] = f"Bearer {token}"
        assert bearer.get("/api/v1/me").status_code == 200
        assert viewer.get("/api/v1/me").status_code == 200
        user, _ = accounts.find_user("viewer")
        if change == "password":
            accounts.set_password(user.user_id, "a-new-viewer-password-7")
            accounts.set_password(user.user_id, PASSWORDS["viewer"])
        else:
            accounts.set_role(user.user_id, auth.Role.analyst)
            accounts.set_role(user.user_id, auth.Role.viewer)
        assert viewer.get("/api/v1/me").status_code == 401, change
        assert bearer.get("/api/v1/me").status_code == 401, change


def test_a_token_cannot_mint_tokens(app) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    page = viewer.post("/account/tokens", data={"label": "bi"})
    token = re.search(r'id="new-token">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    bearer = client(app)
    bearer.headers["Authorization"] = f"Bearer {token}"
    minted = bearer.post("/account/tokens", data={"label": "more"})
    assert minted.status_code == 403
    assert "cannot make tokens" in minted.text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Admin", "exists already"),
        ("ＡＤＭＩＮ", "exists already"),  # full-width letters: NFKC makes them "admin"
        ("\u0430dmin", "mixes letters of several scripts"),  # Cyrillic а
        ("adm\u200bin", "invisible"),
        ("", "1 to 64 characters"),
    ],
)
def test_look_alike_names_are_refused(app, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match=message):
        app.state.crmroi.accounts.create_user(name, "a-perfectly-fine-pass-42", auth.Role.viewer)


def test_login_accepts_the_name_in_any_case(app) -> None:  # type: ignore[no-untyped-def]
    assert _login_form(client(app), " ADMIN ", PASSWORDS["admin"]).status_code == 303


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("ten-chars!", "at least 12 characters"),
        ("password1234", "too easy to guess"),
        ("qwertyuiop12", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
    ],
)
def test_short_and_common_passwords_are_refused(password: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        check_password(password, "someone")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=20))
def test_name_normalisation_is_idempotent_and_one_script(name: str) -> None:
    try:
        stored = normalise_username(name)
    except ConfigurationError:
        return
    assert normalise_username(stored) == stored == name_key(name)
    letters = {ch for ch in stored if ch.isalpha()}
    assert len({__import__("unicodedata").name(ch, "?").split(" ")[0] for ch in letters}) <= 1


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmroi", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


def test_crmroi_users_manages_users_from_the_command_line(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    make_app(ws).state.crmroi.access.close()  # admin, analyst and viewer
    added = run_cli("users", ws, "add", "Olga", "--role", "analyst", stdin="olga-new-password-5\n")
    assert added.returncode == 0, added.stderr
    assert "Added olga (analyst)." in added.stdout
    listed = run_cli("users", ws, "list")
    assert re.search(r"olga\s+.*analyst", listed.stdout)
    weak = run_cli("users", ws, "reset-password", "olga", stdin="password1234\n")
    assert weak.returncode == 1 and "too easy to guess" in weak.stderr
    last = run_cli("users", ws, "set-role", "admin", "--role", "viewer")
    assert last.returncode == 1 and "only enabled admin" in last.stderr
    generated = run_cli("users", ws, "reset-password", "ADMIN", "--generate")
    assert generated.returncode == 0, generated.stderr
    password = re.search(r"shown once\): (\S+)", generated.stdout).group(1)  # type: ignore[union-attr]
    assert run_cli("users", ws, "disable", "viewer").returncode == 0
    assert run_cli("users", ws, "unlock", "viewer").returncode == 0
    app = make_app_existing(ws)
    try:
        assert _login_form(client(app), "admin", password).status_code == 303
        assert _login_form(client(app), "viewer", PASSWORDS["viewer"]).status_code == 401
    finally:
        app.state.crmroi.access.close()
    missing = run_cli("users", ws, "unlock", "nobody")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1


def make_app_existing(ws: str):  # type: ignore[no-untyped-def]
    from crmroi.web import WebSettings, create_app
    from tests.web_support import SECRET

    return create_app(WebSettings(workspace=ws, secret_key=SECRET, warm_cache=False))


def _new_token(c, label: str = "bi") -> str:  # type: ignore[no-untyped-def]
    page = c.post("/account/tokens", data={"label": label})
    found = re.search(r'id="new-token">([^<]+)<', page.text)
    assert found, page.text
    return found.group(1)


def test_tokens_expire_and_are_listed_and_revocable(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    first, second = _new_token(viewer, "first"), _new_token(viewer, "second")
    bearer = client(app)
    bearer.headers["Authorization"] = f"Bearer {first}"
    listed = bearer.get("/api/v1/tokens").json()
    assert [t["label"] for t in listed] == ["second", "first"]
    assert all(not t["expired"] and t["expires_at"] for t in listed)
    page = viewer.get("/account", headers={"accept": "text/html"}).text
    assert all(t["token_id"] in page for t in listed)
    # revoke "second" from the account page, then "first" revokes itself over the API
    second_id = listed[0]["token_id"]
    assert viewer.post(f"/account/tokens/{second_id}/revoke").status_code == 303
    other = client(app)
    other.headers["Authorization"] = f"Bearer {second}"
    assert other.get("/api/v1/me").status_code == 401
    assert bearer.delete("/api/v1/tokens/000000000000").status_code == 404
    assert bearer.delete(f"/api/v1/tokens/{listed[1]['token_id']}").status_code == 204
    assert bearer.get("/api/v1/me").status_code == 401
    # a token stops working when it expires (90 days by default)
    third = _new_token(viewer, "third")
    late = client(app)
    late.headers["Authorization"] = f"Bearer {third}"
    assert late.get("/api/v1/me").status_code == 200
    later = auth.now() + auth.timedelta(days=91)
    monkeypatch.setattr(auth, "now", lambda: later)
    assert late.get("/api/v1/me").status_code == 401


def test_another_users_token_cannot_be_revoked(app) -> None:  # type: ignore[no-untyped-def]
    viewer, analyst = login(app, "viewer"), login(app, "analyst")
    _new_token(viewer)
    token_id = app.state.crmroi.accounts.api_tokens(
        app.state.crmroi.accounts.find_user("viewer")[0]
    )[0].token_id
    assert analyst.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert analyst.delete(f"/api/v1/tokens/{token_id}").status_code == 404


def test_a_workspace_made_before_token_expiry_gains_the_column(tmp_path: Path) -> None:
    from crmroi.store import Store

    with Store.open(tmp_path / "ws", create=True) as store, store.transaction() as tx:
        tx.execute(
            "CREATE TABLE web_api_tokens (token_hash VARCHAR PRIMARY KEY, "
            "user_id VARCHAR NOT NULL, label VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)"
        )
    app = make_app(str(tmp_path / "ws"))
    try:
        viewer = login(app, "viewer")
        bearer = client(app)
        bearer.headers["Authorization"] = f"Bearer {_new_token(viewer)}"
        assert bearer.get("/api/v1/me").status_code == 200
    finally:
        app.state.crmroi.access.close()
