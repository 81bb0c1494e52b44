"""Rendering pages: every template gets the user, its CSRF token and the navigation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from crmroi.reports.i18n import N_
from crmroi.web.auth import Role, Session
from crmroi.web.language import LANGUAGE_NAMES, page_language

# (path, label, role needed) of the top navigation; labels are translated in base.html.
NAVIGATION: list[tuple[str, str, Role]] = [
    ("/dashboard", N_("Dashboard"), Role.viewer),
    ("/imports", N_("Import"), Role.viewer),
    ("/cases", N_("Business case"), Role.viewer),
    ("/admin/users", N_("Users"), Role.admin),
    ("/admin/audit", N_("Audit log"), Role.admin),
]

ROLE_LABELS = (N_("viewer"), N_("analyst"), N_("admin"))
"""The roles' names as the header shows them (translated in base.html)."""


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The template as a response in the request's language (`page_language`);
    Jinja autoescaping is on for every page."""
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
        "ui": page_language(request),
        "languages": LANGUAGE_NAMES,
        **(context or {}),
    }
    if full["ui"].money_units and "money" in full:  # the case pages' amounts, as chosen
        from crmroi.web.dashboard_view import Fmt

        full["money"] = Fmt(full["ui"]).money
    templates = request.app.state.crmroi.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, template, full, status_code=status, headers=headers
    )
    return response
