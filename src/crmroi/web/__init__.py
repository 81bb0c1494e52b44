"""The web app: dashboard, import wizard, business case editor and REST API.

Build it with `create_app(WebSettings(workspace=...))`; `crmroi serve` runs it.
"""

from __future__ import annotations

from crmroi.web.app import create_app
from crmroi.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
