"""Request dependencies: the app state, the current user with a role, CSRF checks.

Use the `Annotated` aliases in routes: `user: Viewer`, `user: Analyst`, `user: Admin`.
Every route that is not explicitly public takes one of them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from crmroi.errors import NotAuthenticated, PermissionDenied
from crmroi.messages import M_, Message
from crmroi.web.auth import Role, Session
from crmroi.web.state import AppState

SESSION_COOKIE = "crmroi_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.crmroi
    return state


State = Annotated[AppState, Depends(get_state)]


async def _session(request: Request, state: AppState) -> Session | None:
    """The session of the cookie, or of a bearer token (which needs no CSRF token)."""
    cached: Session | None = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    session: Session | None = None
    if header.lower().startswith("bearer "):
        user = await run_in_threadpool(state.accounts.api_token_user, header[7:].strip())
        session = Session(user, csrf_token="") if user else None
        request.state.bearer = True
    else:
        token = request.cookies.get(SESSION_COOKIE)
        session = await run_in_threadpool(state.accounts.session, token) if token else None
        request.state.bearer = False
    request.state.session = session
    return session


async def check_csrf(request: Request, session: Session) -> None:
    """Refuse a state-changing cookie request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS or getattr(request.state, "bearer", False):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf_token):
        raise PermissionDenied(
            M_(
                "permission_denied",
                "missing or wrong CSRF token; reload the page and try again",
            )
        )


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Session]]:
    """A dependency giving the session of a user holding at least `role`."""

    async def dependency(request: Request, state: State) -> Session:
        session = await _session(request, state)
        if session is None:
            raise NotAuthenticated("log in first")
        if not session.user.role.allows(role):
            needs = M_(
                "permission_denied",
                "this needs the %(role)s role",
                role=Message("role", role.value),  # viewer, analyst, admin: in the catalogue
            )
            raise PermissionDenied(needs)
        await check_csrf(request, session)
        return session

    dependency.role = role  # type: ignore[attr-defined]  # read by crmroi.web.openapi
    return dependency


Viewer = Annotated[Session, Depends(require(Role.viewer))]
Analyst = Annotated[Session, Depends(require(Role.analyst))]
Admin = Annotated[Session, Depends(require(Role.admin))]


async def optional_session(request: Request, state: State) -> Session | None:
    """The session when there is one (for public pages that greet a logged-in user)."""
    return await _session(request, state)
