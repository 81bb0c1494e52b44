"""The API's OpenAPI schema, completed with the answers every protected route can give.

FastAPI documents what a route declares; the statuses that come from the shared parts
(the role dependency, the error handler, the body limit, the Origin check) are added
here, per operation, from what the route actually depends on:

- a route that needs a role: 401 (no session or token), 403 (role too low, CSRF,
  Origin) and 400 (crmroi's `UserError`: the request cannot be used), with the role
  named in the description and the bearer/cookie security schemes;
- a route with a path parameter: 404; a route with a request body: 413;
- 422 covers both FastAPI's validation errors (a list) and the routes' own refusals
  (a sentence).
Every error body is `{"detail": ..., "code": ...}`: `code` is a stable machine code
(docs/api.md lists them) beside the English text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from crmroi.web.auth import Role

ERROR_SCHEMA = {
    "title": "ErrorOut",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "code": {"type": "string", "title": "Code", "description": "A stable machine code."},
    },
    "required": ["detail", "code"],
}
VALIDATION_CODE = {"type": "string", "enum": ["validation_error"], "title": "Code"}
VALIDATION_SCHEMA = {  # FastAPI's own, for an app whose routes declare no parameters
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {"type": "array", "items": {"type": "object"}},
        "code": VALIDATION_CODE,
    },
}
PROTECTED = {
    "400": "The request cannot be used (the message says why)",
    "401": "Not logged in, or the token expired or was revoked",
    "403": "The role does not allow it, the CSRF token is wrong, or another site sent it",
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (/account)"},
    "session": {"type": "apiKey", "in": "cookie", "name": "crmroi_session"},
}


def role_of(route: APIRoute) -> Role | None:
    """The role a route's dependencies require (None: a public route)."""
    for dependency in route.dependant.dependencies:
        role = getattr(dependency.call, "role", None)
        if isinstance(role, Role):
            return role
    return None


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, inside included routers too (none of ours adds a prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)  # FastAPI >= 0.16x: an included router
        if inner is not None:
            yield from api_routes(inner.routes)


def complete_schema(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI schema with the shared answers declared (built once, cached)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ErrorOut"] = ERROR_SCHEMA
    validation = schemas.setdefault("HTTPValidationError", VALIDATION_SCHEMA)
    validation.setdefault("properties", {})["code"] = VALIDATION_CODE
    components["securitySchemes"] = SECURITY_SCHEMES
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for route in api_routes(app.routes):
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _complete(operation, role_of(route), error)
    app.openapi_schema = schema
    return schema


def _complete(operation: dict[str, Any], role: Role | None, error: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation["responses"]

    def declare(status: str, description: str) -> None:
        answer = responses.setdefault(status, {"description": description})
        answer.setdefault("content", error)

    if role is not None:
        for status, description in PROTECTED.items():
            declare(status, description)
        responses["403"]["description"] += f" (this needs the {role.value} role)"
        operation["security"] = [{"bearer": []}, {"session": []}]
        operation["description"] = (
            operation.get("description", "") + f"\n\nNeeds the {role.value} role."
        ).strip()
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        declare("404", "Nothing of that name")
    if "requestBody" in operation:
        declare("413", "The request body is larger than the limit")
    if "422" in responses:
        content = responses["422"].setdefault("content", {}).setdefault("application/json", {})
        given = content.get("schema", {"$ref": "#/components/schemas/HTTPValidationError"})
        content["schema"] = {"anyOf": [given, {"$ref": "#/components/schemas/ErrorOut"}]}
