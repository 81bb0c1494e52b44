"""Users, API tokens and the audit log (admin), and each user's own account page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from crmroi.errors import ConfigurationError, PermissionDenied
from crmroi.messages import M_, Said, said_of
from crmroi.web.audit import events, record
from crmroi.web.auth import Role, Session
from crmroi.web.deps import Admin, State, Viewer
from crmroi.web.language import MONEY_UNITS, saved_money_units
from crmroi.web.pages import render

router = APIRouter()


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, state: State, session: Admin) -> HTMLResponse:
    return render(
        request, "admin_users.html", {"users": state.accounts.users(), "roles": list(Role)}
    )


@router.post("/admin/users", include_in_schema=False)
def create_user(
    request: Request,
    state: State,
    session: Admin,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[Role, Form()],
) -> HTMLResponse:
    try:
        state.accounts.create_user(username, password, role)
    except ConfigurationError as exc:
        context = {"users": state.accounts.users(), "roles": list(Role)}
        context |= {"flash": said_of(exc), "flash_kind": "error"}
        return render(request, "admin_users.html", context, status=400)
    with state.access.transaction() as tx:
        record(tx, session.user.username, "user.create", user=username, role=role.value)
    context = {"users": state.accounts.users(), "roles": list(Role)}
    context["flash"] = M_("user_created", "User %(user)s created.", user=username)
    return render(request, "admin_users.html", context)


@router.post("/admin/users/{user_id}", include_in_schema=False)
def change_user(
    state: State,
    session: Admin,
    user_id: str,
    action: Annotated[str, Form(pattern="^(role|disable|enable|password)$")],
    role: Annotated[Role | None, Form()] = None,
    password: Annotated[str | None, Form(max_length=1000)] = None,
) -> RedirectResponse:
    """Change a user's role, disable or enable it, or set its password."""
    if user_id == session.user.user_id and action in ("role", "disable"):
        raise ConfigurationError(
            M_("admin_self", "you cannot change your own role or disable yourself")
        )
    if action == "role" and role is not None:
        state.accounts.set_role(user_id, role)
    elif action in ("disable", "enable"):
        state.accounts.set_disabled(user_id, action == "disable")
    elif action == "password" and password:
        state.accounts.set_password(user_id, password)
    else:
        raise ConfigurationError(
            M_("admin_no_value", "%(action)s: give the new value", action=action)
        )
    with state.access.transaction() as tx:
        detail: dict[str, Any] = {"user_id": user_id, "role": role.value if role else None}
        record(tx, session.user.username, f"user.{action}", **detail)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit", include_in_schema=False)
def audit_page(request: Request, state: State, session: Admin) -> HTMLResponse:
    return render(request, "admin_audit.html", {"events": events(state.access)})


@router.get("/account", include_in_schema=False)
def account_page(request: Request, state: State, session: Viewer) -> HTMLResponse:
    context = {
        "tokens": state.accounts.api_tokens(session.user),
        "money_units": MONEY_UNITS,
        "money_units_chosen": saved_money_units(state.access, session.user.user_id),
    }
    return render(request, "account.html", context)


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token_page(state: State, session: Viewer, token_id: str) -> RedirectResponse:
    """Revoke one of this user's API tokens (audited)."""
    _revoke(state, session, token_id)
    return RedirectResponse("/account", status_code=303)


def _revoke(state: State, session: Session, token_id: str) -> None:
    if not state.accounts.revoke_api_token(session.user, token_id):
        missing = M_("token_not_found", "you have no token %(token)s", token=repr(token_id))
        raise HTTPException(status_code=404, detail=Said(missing))
    with state.access.transaction() as tx:
        record(tx, session.user.username, "token.revoke", token_id=token_id)


class TokenOut(BaseModel):
    """One of the caller's API tokens (the token itself is shown only when made)."""

    token_id: str
    label: str
    created_at: str
    expires_at: str | None
    expired: bool


@router.get("/api/v1/tokens", tags=["account"])
def tokens_api(state: State, session: Viewer) -> list[TokenOut]:
    """The caller's API tokens, newest first, with their expiry."""
    return [
        TokenOut(
            token_id=t.token_id,
            label=t.label,
            created_at=t.created_at.isoformat(),
            expires_at=t.expires_at.isoformat() if t.expires_at else None,
            expired=t.expired,
        )
        for t in state.accounts.api_tokens(session.user)
    ]


@router.delete(
    "/api/v1/tokens/{token_id}",
    tags=["account"],
    status_code=204,
    responses={404: {"description": "The caller has no such token"}},
)
def revoke_token_api(state: State, session: Viewer, token_id: str) -> Response:
    """Revoke one of the caller's API tokens (a token may revoke itself; audited)."""
    _revoke(state, session, token_id)
    return Response(status_code=204)


@router.post("/account/tokens", include_in_schema=False)
def create_token(
    request: Request,
    state: State,
    session: Viewer,
    label: Annotated[str, Form(max_length=100)] = "token",
) -> HTMLResponse:
    """A bearer token for scripts, acting with this user's role; shown once.

    Only a logged-in person makes tokens: a token cannot mint more of itself.
    """
    if getattr(request.state, "bearer", False):
        raise PermissionDenied("an API token cannot make tokens; log in to the web app")
    token = state.accounts.create_api_token(session.user, label, state.settings.api_token_days)
    with state.access.transaction() as tx:
        record(tx, session.user.username, "token.create", label=label)
    tokens = state.accounts.api_tokens(session.user)
    context = {"new_token": token, "tokens": tokens, "money_units": MONEY_UNITS}
    context["money_units_chosen"] = saved_money_units(state.access, session.user.user_id)
    return render(request, "account.html", context)


@router.get("/api/v1/audit", tags=["admin"])
def audit_api(state: State, session: Admin, limit: int = 200) -> list[dict[str, Any]]:
    """The latest audit events, newest first (admin)."""
    return [
        {"at": e.at.isoformat(), "username": e.username, "action": e.action, "detail": e.detail}
        for e in events(state.access, max(1, min(limit, 5000)))
    ]


@router.get("/api/v1/users", tags=["admin"])
def users_api(state: State, session: Admin) -> list[dict[str, Any]]:
    """Every user, its role and whether it is disabled (admin)."""
    return [
        {"user_id": u.user_id, "username": u.username, "role": u.role.value, "disabled": off}
        for u, off in state.accounts.users()
    ]
