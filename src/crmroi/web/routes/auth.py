"""Public routes (login page, health check, static bundles) and the session's own routes."""

from __future__ import annotations

import hmac
import os
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from crmroi import __version__
from crmroi.errors import PermissionDenied, TooManyAttempts, UserError
from crmroi.languages import LANGUAGES
from crmroi.messages import M_, Items
from crmroi.reports.i18n import N_
from crmroi.web.auth import Throttle
from crmroi.web.deps import SESSION_COOKIE, State, Viewer
from crmroi.web.language import LANGUAGE_COOKIE, MONEY_UNITS, save_language, save_money_units
from crmroi.web.pages import render

router = APIRouter()
LOGIN_CSRF_COOKIE = "crmroi_login"


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    return target


@router.get("/healthz", tags=["public"])
async def health(state: State) -> dict[str, Any]:
    """Public health check (`worker` tells several workers apart).

    `workspace` is "ok", or "busy" while an import or undo holds a DuckDB workspace or
    the workspace does not answer within 50 ms: the check never waits longer for it
    (`crmroi.web.health`), and asks it on a thread of its own (not the pool that page
    requests share).
    """
    answered = await state.health.workspace_answers()
    return {
        "status": "ok",
        "workspace": "ok" if answered else "busy",
        "version": __version__,
        "worker": os.getpid(),
    }


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/assets/vega.js", include_in_schema=False)
async def vega_js() -> Response:
    """Vega-Embed, Vega-Lite and Vega, built locally (nothing is loaded from the internet)."""
    from crmroi.reports.html import vega_bundle  # the same bundle the HTML report inlines

    body = str(await run_in_threadpool(vega_bundle))
    return Response(
        body,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/login", include_in_schema=False)
async def login_page(request: Request, state: State, next: str = "/dashboard") -> Response:
    """The login form, rendered on the event loop: it reads nothing from the workspace
    (no session here), so it never waits for a thread of the pool that page requests
    share, nor for the workspace."""
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", {"login_csrf": token, "next": safe_next(next), "username": ""}
    )
    _set_cookie(response, state, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    login_csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    """Check the pre-login CSRF cookie and the rate limit, then the password."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, login_csrf):
        raise PermissionDenied("the login form expired; reload the page and try again")
    settings = state.settings
    ip = request.client.host if request.client else "unknown"
    policy = Throttle(
        window=timedelta(seconds=settings.login_window_seconds),
        free_per_pair=settings.login_failures_per_pair,
        free_per_user=settings.login_failures_per_user,
        free_per_ip=settings.login_failures_per_ip,
        max_delay=settings.login_max_delay_seconds,
        max_user_delay=settings.login_user_max_delay_seconds,
    )
    wait = state.accounts.login_delay(username, ip, policy)
    if wait > 0:
        raise TooManyAttempts(wait)
    user = state.accounts.authenticate(username, password)
    if user is None:
        state.accounts.record_failure(username, ip)
        context = {"error": N_("Wrong user name or password."), "username": username}
        context |= {"login_csrf": login_csrf, "next": safe_next(next)}
        return render(request, "login.html", context, status=401)
    state.accounts.clear_failures(username)
    token, _ = state.accounts.start_session(user)
    response = RedirectResponse(safe_next(next), status_code=303)
    _set_cookie(response, state, SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, state: State, session: Viewer) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        state.accounts.end_session(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/account/language", include_in_schema=False)
def choose_language(
    request: Request,
    state: State,
    session: Viewer,
    language: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    """Save the header switcher's language on the user's account and reload the page."""
    if language not in LANGUAGES:
        raise UserError(
            M_(
                "unknown_language",
                "unknown language %(language)s; choose one of: %(choices)s",
                language=repr(language[:10]),
                choices=Items(LANGUAGES),
            )
        )
    save_language(state.access, session.user.user_id, language)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/account/money-units", include_in_schema=False)
def choose_money_units(
    state: State,
    session: Viewer,
    money_units: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Save how the user sees amounts (`MONEY_UNITS`: tomans, 万/亿) and show the account."""
    if money_units not in MONEY_UNITS:
        raise UserError(
            M_(
                "unknown_money_units",
                "unknown money display %(units)s; choose one of: %(choices)s",
                units=repr(money_units[:10]),
                choices=Items(repr(u) for u in MONEY_UNITS),
            )
        )
    save_money_units(state.access, session.user.user_id, money_units)
    return RedirectResponse("/account", status_code=303)


@router.get("/language/{code}", include_in_schema=False)
def language_before_login(state: State, code: str, next: str = "/login") -> Response:
    """The language of the login page (a cookie; after login the account's choice wins)."""
    if code not in LANGUAGES:
        raise UserError(
            M_(
                "unknown_language",
                "unknown language %(language)s; choose one of: %(choices)s",
                language=repr(code[:10]),
                choices=Items(LANGUAGES),
            )
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    _set_cookie(response, state, LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600)
    return response


@router.get("/api/v1/openapi.json", include_in_schema=False)
def openapi_schema(request: Request, session: Viewer) -> dict[str, Any]:
    """The OpenAPI schema of `/api/v1` (for any logged-in user or token)."""
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/api/v1/me", tags=["account"])
def me(session: Viewer) -> dict[str, str]:
    """The user behind this session or token, and its role."""
    return {"username": session.user.username, "role": session.user.role.value}


def _set_cookie(response: Response, state: State, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=state.settings.cookie_secure,
        samesite="strict" if name == LOGIN_CSRF_COOKIE else "lax",
        path="/",
    )
