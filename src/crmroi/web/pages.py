"""Rendering pages: every template gets the user, its CSRF token and the navigation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from crmroi.web.auth import Role, Session

# (path, label, role needed) of the top navigation.
NAVIGATION: list[tuple[str, str, Role]] = [
    ("/dashboard", "Dashboard", Role.viewer),
    ("/imports", "Import", Role.viewer),
    ("/cases", "Business case", Role.viewer),
    ("/admin/users", "Users", Role.admin),
    ("/admin/audit", "Audit log", Role.admin),
]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The template as a response; Jinja autoescaping is on for every page."""
    session: Session | None = getattr(request.state, "session", None)
    nav = [
        (path, label)
        for path, label, role in NAVIGATION
        if session is not None and session.user.role.allows(role)
    ]
    full = {
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "nav": nav,
        "path": request.url.path,
        **(context or {}),
    }
    templates = request.app.state.crmroi.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, template, full, status_code=status, headers=headers
    )
    return response
