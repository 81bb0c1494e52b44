"""The app factory: `create_app(settings)` builds one FastAPI app over one workspace.

Nothing happens at import time; `crmroi serve` and the tests call the factory, and
`uvicorn --factory crmroi.web.app:app_from_environment` builds it in each worker from
`CRMROI_*` variables. crmroi's own errors are translated to statuses here only.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmroi import __version__
from crmroi.errors import (
    AccessError,
    CrmroiError,
    NotAuthenticated,
    PermissionDenied,
    ServerBusy,
    TooManyAttempts,
    UploadRefused,
    UserError,
    error_code,
)
from crmroi.messages import N_, said_of
from crmroi.web.access import WorkspaceAccess
from crmroi.web.auth import Accounts
from crmroi.web.deps import _session
from crmroi.web.health import HealthProbe
from crmroi.web.language import install_i18n
from crmroi.web.openapi import complete_schema
from crmroi.web.pages import render
from crmroi.web.settings import WebSettings
from crmroi.web.snapshots import Snapshots
from crmroi.web.state import STATIC_DIR, TEMPLATES_DIR, AppState
from crmroi.web.workers import WorkPool

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    # Vega compiles its expressions with Function(); inline scripts stay forbidden.
    "script-src 'self' 'unsafe-eval'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The web app over `settings.workspace` (settings read from the environment if None)."""
    settings = settings or WebSettings()  # type: ignore[call-arg]
    access = WorkspaceAccess(settings.workspace)
    from crmroi.web.case_library import CaseLibrary

    CaseLibrary(access).seed()  # once, here: not on every request
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.globals["version"] = __version__
    install_i18n(templates.env)
    state = AppState(
        settings=settings,
        access=access,
        accounts=Accounts(
            access,
            settings.secret_key,
            settings.session_hours,
            hash_slots=settings.max_concurrent_hashes,
            hash_wait_seconds=settings.hash_wait_seconds,
        ),
        templates=templates,
        work=WorkPool(settings.workers, settings.worker_queue, settings.worker_kind),
        health=HealthProbe(access),
    )
    if access.duckdb_file is not None and settings.worker_kind == "process":
        state.snapshots = Snapshots(access, access.duckdb_file.parent)
    app = FastAPI(
        title="crmroi",
        version=__version__,
        description="Does your CRM pay for itself? KPIs, ROI and improvement lists.",
        docs_url=None,  # Swagger UI loads from a CDN; the schema is served by a route
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan,
    )
    app.state.crmroi = state
    app.openapi = lambda: complete_schema(app)  # type: ignore[method-assign]
    app.state.warmer = None  # a CacheWarmer while the app runs with `warm_cache`
    app.add_middleware(OriginCheck)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_upload_bytes, max_other_bytes=settings.max_request_bytes
    )
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    _add_error_handlers(app)
    from crmroi.web.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the worker processes, settle the heap (`crmroi.web.heap`) and the cache
    warm-up (when `settings.warm_cache`), in the background; stop them at shutdown."""
    from crmroi.web.warmup import CacheWarmer

    state: AppState = app.state.crmroi
    threading.Thread(target=state.work.start_processes, daemon=True).start()  # seconds, aside
    threading.Thread(target=_settle_heap, name="crmroi-heap", daemon=True).start()
    warmer = None
    if state.settings.warm_cache:
        warmer = CacheWarmer(state, state.settings.warm_interval_seconds)
        warmer.start()
    app.state.warmer = warmer
    try:
        yield
    finally:
        if warmer is not None:
            await asyncio.to_thread(warmer.stop)
        # until they have exited; started again if the app is used again
        await asyncio.to_thread(state.work.stop_processes, True)


def _settle_heap() -> None:
    """Freeze the heap as it is after start (`crmroi.web.heap`; the cache warm-up settles
    it again once it has imported and computed the dashboard)."""
    from crmroi.web import heap

    heap.settle()


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` (several workers on a PostgreSQL workspace)."""
    return create_app()


# -- errors -------------------------------------------------------------------------
def wants_json(request: Request) -> bool:
    """API clients get JSON; browsers (and htmx) get pages."""
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CrmroiError)
    async def crmroi_error(request: Request, exc: CrmroiError) -> Response:
        status, headers = _status_of(exc)
        if isinstance(exc, NotAuthenticated) and not wants_json(request):
            target = "/login?next=" + quote(request.url.path, safe="/")
            if request.headers.get("hx-request"):
                return Response(status_code=401, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        if wants_json(request):
            body = {"detail": str(exc), "code": error_code(exc)}
            return JSONResponse(body, status_code=status, headers=headers)
        return render(
            request, "error.html", {"status": status, "message": said_of(exc)}, status, headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Starlette's and the routes' HTTP errors, with a machine code beside the text."""
        code = getattr(exc, "code", None) or HTTP_CODES.get(exc.status_code)
        code = code or f"http_{exc.status_code}"
        if not wants_json(request) and request.method == "GET":  # a page for browsers
            with contextlib.suppress(Exception):  # in the user's language, as their pages
                await _session(request, request.app.state.crmroi)
            context = {"status": exc.status_code, "message": exc.detail}
            headers = dict(exc.headers) if exc.headers else None
            return render(request, "error.html", context, exc.status_code, headers)
        body = {"detail": exc.detail, "code": code}
        if (errors := getattr(exc, "errors", None)) is not None:
            body["errors"] = errors
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """FastAPI's validation errors (each with its own `type`), coded as a whole."""
        body = {"detail": jsonable_encoder(exc.errors()), "code": "validation_error"}
        return JSONResponse(body, status_code=422)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 409: "conflict"}
HTTP_PHRASES = (N_("Not Found"), N_("Method Not Allowed"))
"""Starlette's texts of its own HTTP errors, for the catalogue (error pages word them)."""
"""Machine codes of the plain HTTP errors (others: 'http_<status>')."""


def _status_of(exc: CrmroiError) -> tuple[int, dict[str, str]]:
    if isinstance(exc, NotAuthenticated):
        return 401, {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, TooManyAttempts):
        return 429, {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, ServerBusy):
        return 503, {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, PermissionDenied | AccessError):
        return 403, {}
    if isinstance(exc, UploadRefused):
        return exc.status, {}
    if isinstance(exc, UserError):
        return 400, {}
    return 500, {}


# -- middleware ----------------------------------------------------------------------
class SecurityHeaders:
    """Adds a strict content security policy and the usual hardening headers.

    Pages and API answers (which may show tokens, users or figures) get
    `Cache-Control: no-store` unless the route set its own; static files keep theirs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                }
                extra[b"content-security-policy"] = CONTENT_SECURITY_POLICY.encode()
                if not scope["path"].startswith(CACHEABLE_PREFIXES):
                    extra[b"cache-control"] = b"no-store"
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


CACHEABLE_PREFIXES = ("/static/", "/assets/")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class OriginCheck:
    """Refuses state-changing requests sent from another site (403), a second line behind CSRF.

    A browser names the page's origin in `Origin` on every POST/PUT/PATCH/DELETE; its host
    must be the host the request was sent to. Without `Origin`, `Sec-Fetch-Site: cross-site`
    is refused too. Scripts with a bearer token send neither and pass.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = dict(scope.get("headers", []))
            origin = headers.get(b"origin")
            host = headers.get(b"host", b"").decode("latin-1").lower()
            refused = headers.get(b"sec-fetch-site") == b"cross-site"
            if origin is not None:
                netloc = urlsplit(origin.decode("latin-1")).netloc.lower()
                refused = not netloc or netloc != host
            if refused:
                body = (
                    b'{"detail":"the request comes from another site (Origin)",'
                    b'"code":"foreign_origin"}'
                )
                await _answer(send, 403, body)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses request bodies above their limit (413) before they are read into memory.

    File uploads (multipart/form-data) may reach `max_bytes`; any other body (JSON, YAML,
    URL-encoded forms) `max_other_bytes`.

    A declared Content-Length above the limit is refused before the app runs. A body
    sent without one (chunked) is counted as it arrives: when it crosses the limit the
    middleware answers 413 itself, the app sees the client disconnect (so no route runs
    on a cut-off body) and whatever the app then tries to send is dropped, so the
    client gets one response, never the 400 the form parser would make of the cut.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_other_bytes: int | None = None) -> None:
        self.app = app
        self.upload_bytes = max_bytes + 64 * 1024  # room for the form fields around a file
        self.other_bytes = min(max_other_bytes or self.upload_bytes, self.upload_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.upload_bytes if upload else self.other_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send)
            return
        seen = 0
        started = False  # the app began its own response
        cut = False  # the body crossed the limit: the app reads no more of it
        refused = False  # ... and the 413 went out in place of the app's response

        async def counting_receive() -> Message:
            nonlocal seen, cut, refused
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    cut = True
                    if not started:  # once the app has begun answering, a 413 is too late
                        refused = True
                        await _too_large(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; the app's reply to a cut-off body is not
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except ClientDisconnect:
            if not cut:
                raise  # the client really went away: not ours to hide


async def _too_large(scope: Scope, send: Send) -> None:
    await _answer(send, 413, b'{"detail":"the request body is too large","code":"body_too_large"}')


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
