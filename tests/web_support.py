"""Helpers for web tests: build an app over a workspace and log clients in."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from crmroi.web import WebSettings, create_app
from crmroi.web.auth import Role

SECRET = "test-secret-0123456789-abcdefghij"
PASSWORDS = {
    "admin": "admin-password-1",
    "analyst": "analyst-password-1",
    "viewer": "viewer-password-1",
}


def make_app(workspace: str, **overrides: object) -> FastAPI:
    """The app over `workspace` with one user per role (admin, analyst, viewer).

    The cache warm-up is off unless a test asks for it (`warm_cache=True`): a background
    computation would slow the other tests and make their timing depend on it. Slow work
    runs in threads (`worker_kind="thread"`) unless a test asks for worker processes.
    """
    overrides.setdefault("warm_cache", False)
    overrides.setdefault("worker_kind", "thread")  # worker processes: tests/test_web_work_pool.py
    settings = WebSettings(workspace=workspace, secret_key=SECRET, **overrides)  # type: ignore[arg-type]
    app = create_app(settings)
    accounts = app.state.crmroi.accounts
    for role in Role:
        accounts.create_user(role.value, PASSWORDS[role.value], role)
    return app


def client(app: FastAPI) -> TestClient:
    """A client on https (the session cookie is Secure) that does not follow redirects."""
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def login(app: FastAPI, role: str) -> TestClient:
    """A client logged in as the user of `role`; its CSRF token is in `.headers`."""
    c = client(app)
    page = c.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token, page.text
    response = c.post(
        "/login",
        data={"username": role, "password": PASSWORDS[role], "login_csrf": token.group(1)},
    )
    assert response.status_code == 303, response.text
    c.headers["X-CSRF-Token"] = csrf_of(c)
    return c


def csrf_of(c: TestClient) -> str:
    """The session's CSRF token, read from a page the way a browser would."""
    page = c.get("/account", headers={"accept": "text/html"})
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)
