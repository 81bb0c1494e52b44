"""`crmroi serve`: the web app (dashboard, import wizard, case editor, REST API)."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from crmroi.cli.app import WorkspaceArg, app, console
from crmroi.cli.language import LangOption, speaker
from crmroi.messages import M_, N_


@app.command()
def serve(
    workspace: WorkspaceArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (PostgreSQL workspaces only).")
    ] = 1,
    development: Annotated[
        bool, typer.Option("--development", help="Development mode: plain-HTTP cookies.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Serve the web app over WORKSPACE (first run: creates an admin, prints its password)."""
    import uvicorn

    from crmroi.errors import ConfigurationError
    from crmroi.store.store import is_url
    from crmroi.web.access import WorkspaceAccess
    from crmroi.web.auth import Accounts, bootstrap_admin
    from crmroi.web.settings import WebSettings

    if workers > 1 and not is_url(workspace):
        raise ConfigurationError(
            M_(
                "serve_one_process",
                "a DuckDB workspace is served by one process; use a postgresql:// workspace "
                "for --workers above 1",
            )
        )
    secret = os.environ.get("CRMROI_SECRET_KEY") or _workspace_secret(workspace)
    values: dict[str, object] = {"workspace": workspace, "secret_key": secret}
    if development:
        values |= {"environment": "development", "cookie_secure": False}
    try:
        settings = WebSettings(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigurationError(str(exc).splitlines()[-1]) from None
    access = WorkspaceAccess(workspace)
    try:
        accounts = Accounts(access, settings.secret_key, settings.session_hours)
        password = bootstrap_admin(accounts, settings.admin_password)
    finally:
        access.close()
    say = speaker(lang)
    if password:
        created = N_(
            "Created user %(user)s with password %(password)s "
            "(shown once; set CRMROI_ADMIN_PASSWORD to choose it)."
        )
        console.print(say.marked(created, {"user": "admin", "password": password}))
    listening = N_("crmroi web app on %(url)s (Ctrl+C stops it)")
    console.print(say.marked(listening, {}, url=f"http://{host}:{port}/"))
    proxies: dict[str, Any] = proxy_options(settings.trusted_proxies)
    if workers == 1:
        from crmroi.web.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", **proxies)
        return
    os.environ.update({f"CRMROI_{k.upper()}": str(v) for k, v in values.items()})
    uvicorn.run(
        "crmroi.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        **proxies,
    )


def proxy_options(trusted_proxies: str) -> dict[str, object]:
    """uvicorn's forwarded-header options: believed only from the configured proxies.

    uvicorn's own default trusts `X-Forwarded-For` from 127.0.0.1, so anyone on the
    machine could pose as any address and slip past the per-address login limit.
    """
    trusted = ",".join(p.strip() for p in trusted_proxies.split(",") if p.strip())
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}


def _workspace_secret(workspace: str) -> str:
    """The workspace's own random secret, made on first use and kept in its settings."""
    import secrets

    from crmroi.store import open_store

    with open_store(workspace) as store:
        secret = store.settings().get("web_secret_key")
        if not secret:
            secret = secrets.token_urlsafe(32)
            store.set_settings(web_secret_key=secret)
    return str(secret)
