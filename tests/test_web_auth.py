"""Web app security: login, sessions, roles, CSRF, rate limit, escaping, body limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from crmroi.web import WebSettings
from crmroi.web.routes import ROUTERS
from crmroi.web.settings import DEFAULT_SECRET
from tests.web_support import PASSWORDS, client, login, make_app

PUBLIC = {"/healthz", "/login", "/", "/assets/vega.js", "/language/{code}"}


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    application = make_app(str(tmp_path / "ws"))
    yield application
    application.state.crmroi.access.close()


def test_settings_refuse_the_default_secret_outside_development(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CRMROI_SECRET_KEY is the development default"):
        WebSettings(workspace=str(tmp_path), secret_key=DEFAULT_SECRET)
    with pytest.raises(ValueError, match="at least 16 characters"):
        WebSettings(workspace=str(tmp_path), secret_key="short")
    ok = WebSettings(workspace=str(tmp_path), environment="development")
    assert ok.secret_key == DEFAULT_SECRET


def test_health_is_public(app) -> None:  # type: ignore[no-untyped-def]
    response = client(app).get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_every_non_public_route_needs_a_session(app) -> None:  # type: ignore[no-untyped-def]
    c = client(app)
    checked = 0
    routes = [r for router in ROUTERS for r in router.routes]
    for route in routes:
        if not isinstance(route, APIRoute) or route.path in PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        for method in route.methods - {"HEAD"}:
            api = c.request(method, path, headers={"accept": "application/json"})
            assert api.status_code == 401, (method, path, api.status_code)
            page = c.request(method, path, headers={"accept": "text/html"})
            assert page.status_code in (303, 401), (method, path)
            if page.status_code == 303:
                assert page.headers["location"].startswith("/login?next=")
            checked += 1
    assert checked >= 8


def test_login_sets_a_secure_http_only_same_site_cookie(app) -> None:  # type: ignore[no-untyped-def]
    c = client(app)
    page = c.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = c.post(
        "/login",
        data={"username": "viewer", "password": PASSWORDS["viewer"], "login_csrf": token},
    )
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if "crmroi_session" in h)
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert c.get("/api/v1/me").json() == {"username": "viewer", "role": "viewer"}


def test_login_without_the_form_token_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    c = client(app)
    c.get("/login")
    response = c.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert response.status_code == 403
    assert "crmroi_session" not in response.headers.get("set-cookie", "")


def test_wrong_passwords_are_slowed_down_with_growing_delays(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import crmroi.web.auth as auth

    clock = [auth.now()]
    monkeypatch.setattr(auth, "now", lambda: clock[0])
    c = client(app)
    token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    form = {"username": "admin", "password": "wrong-password", "login_csrf": token}
    statuses = [c.post("/login", data=form).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]  # three free failures, then a wait
    waits = []
    for _ in range(4):
        limited = c.post("/login", data=form)
        assert limited.status_code == 429
        waits.append(int(limited.headers["retry-after"]))
        clock[0] += auth.timedelta(seconds=waits[-1])
        assert c.post("/login", data=form).status_code == 401  # allowed again, and wrong
    assert waits == [1, 2, 4, 8]  # each failure past the free ones doubles the wait
    # the right password is refused too while a wait holds, and works after it
    form["password"] = PASSWORDS["admin"]
    assert c.post("/login", data=form).status_code == 429
    clock[0] += auth.timedelta(seconds=16)
    assert c.post("/login", data=form).status_code == 303


def test_unknown_user_and_wrong_password_look_the_same(app) -> None:  # type: ignore[no-untyped-def]
    c = client(app)
    token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    a = c.post("/login", data={"username": "nobody", "password": "x" * 12, "login_csrf": token})
    b = c.post("/login", data={"username": "admin", "password": "x" * 12, "login_csrf": token})
    assert a.status_code == b.status_code == 401
    assert "Wrong user name or password." in a.text and "Wrong user name or password." in b.text


def test_posts_without_the_csrf_token_are_refused(app) -> None:  # type: ignore[no-untyped-def]
    c = login(app, "admin")
    token = c.headers.pop("X-CSRF-Token")
    form = {"username": "eve", "password": "eve-password-1", "role": "viewer"}
    refused = c.post("/admin/users", data=form, headers={"accept": "text/html"})
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    wrong = c.post("/admin/users", data={**form, "csrf_token": "forged"})
    assert wrong.status_code == 403
    ok = c.post("/admin/users", data={**form, "csrf_token": token})
    assert ok.status_code == 200
    assert "eve" in [u["username"] for u in c.get("/api/v1/users").json()]


def test_roles_are_enforced(app) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    assert viewer.get("/api/v1/users").status_code == 403
    form = {"username": "mallory", "password": "mallory-pass-1", "role": "admin"}
    assert viewer.post("/admin/users", data=form).status_code == 403
    analyst = login(app, "analyst")
    assert analyst.get("/admin/audit", headers={"accept": "text/html"}).status_code == 403
    admin = login(app, "admin")
    assert admin.get("/api/v1/users").status_code == 200


def test_logout_ends_the_session(app) -> None:  # type: ignore[no-untyped-def]
    c = login(app, "viewer")
    assert c.post("/logout").status_code == 303
    assert c.get("/api/v1/me").status_code == 401


def test_disabling_a_user_ends_its_sessions_and_tokens(app) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    page = viewer.post("/account/tokens", data={"label": "script"})
    token = re.search(r'id="new-token">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    bearer = client(app)
    assert bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    admin = login(app, "admin")
    users = {u["username"]: u["user_id"] for u in admin.get("/api/v1/users").json()}
    disabled = admin.post(f"/admin/users/{users['viewer']}", data={"action": "disable"})
    assert disabled.status_code == 303
    assert viewer.get("/api/v1/me").status_code == 401
    assert bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    events = admin.get("/api/v1/audit").json()
    assert [e["action"] for e in events][:2] == ["user.disable", "token.create"]


def test_bearer_tokens_need_no_csrf_but_keep_the_role(app) -> None:  # type: ignore[no-untyped-def]
    viewer = login(app, "viewer")
    page = viewer.post("/account/tokens", data={"label": "bi tool"})
    token = re.search(r'id="new-token">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    bearer = client(app)
    bearer.headers["Authorization"] = f"Bearer {token}"
    form = {"username": "x-user", "password": "x-password-1", "role": "viewer"}
    assert bearer.post("/admin/users", data=form).status_code == 403


def test_names_are_escaped_on_pages(app) -> None:  # type: ignore[no-untyped-def]
    admin = login(app, "admin")
    name = "<script>alert(1)</script>"
    form = {"username": name, "password": "xss-password-1", "role": "viewer"}
    admin.post("/admin/users", data=form)
    page = admin.get("/admin/users").text
    assert name not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_pages_carry_a_strict_content_security_policy(app) -> None:  # type: ignore[no-untyped-def]
    response = client(app).get("/login")
    policy = response.headers["content-security-policy"]
    scripts = policy.split("script-src")[1].split(";")[0]
    assert "'self'" in scripts and "unsafe-inline" not in scripts
    assert response.headers["x-frame-options"] == "DENY"


def test_bodies_above_the_limit_are_refused(tmp_path: Path) -> None:
    application = make_app(str(tmp_path / "ws"), max_upload_bytes=1000)
    try:
        c = login(application, "admin")
        big = "x" * 200_000
        form = {"username": big, "password": "p" * 12, "role": "viewer"}
        response = c.post("/admin/users", data=form)
        assert response.status_code == 413
    finally:
        application.state.crmroi.access.close()


def test_login_redirects_only_to_local_paths(app) -> None:  # type: ignore[no-untyped-def]
    c = client(app)
    token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    form = {"username": "viewer", "password": PASSWORDS["viewer"], "login_csrf": token}
    response = c.post("/login", data={**form, "next": "//evil.example/"})
    assert response.headers["location"] == "/dashboard"
