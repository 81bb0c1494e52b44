"""The app's routers, one module per area; `create_app` includes them in this order."""

from __future__ import annotations

from fastapi import APIRouter

from crmroi.web.routes import admin, auth, cases, cases_api, dashboard, dashboard_api, imports

ROUTERS: list[APIRouter] = [
    auth.router,
    admin.router,
    dashboard.router,
    dashboard_api.router,
    imports.router,
    cases.router,
    cases_api.router,
]
