"""Upload bodies received without parsing them on the event loop (issue 17).

For a route declared with `@streamed_post(router, path)` (a `StreamedFormRoute`), a
multipart/form-data body is streamed chunk by chunk (`request.stream()`) into a private
folder (0700) under the staging root; the event loop only collects the chunks (about
64 KiB each) and passes about 1 MiB at a time to a thread that writes it to the file (a
write, like making and removing the folder, can wait for the disk while other work
fills the page cache). The body is then
parsed by Starlette's own `MultiPartParser` in the work pool (`WorkPool.compute`: a
worker process by default), which saves every file part in the same folder. The parsed
form is handed to FastAPI as if it had read it itself (`request._form`), so the routes,
their `File`/`Form` parameters, the CSRF check, the validation errors (422), the
parser's errors (400) and the OpenAPI schema stay as they are. The folder is removed
when the request ends, whatever happened.

The size limit stays with `crmroi.web.app.BodyLimit`, which counts the bytes as they are
received here and answers 413 when they pass the limit; the streaming stops there.
Bodies that are not multipart go to FastAPI untouched.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncGenerator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute, APIRouter
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

READ_CHUNK = 64 * 1024
WRITE_BYTES = 1024 * 1024
"""Received chunks are written to the body file (on a thread) about this many at a time."""
INCOMING_PREFIX = "incoming-"
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


@dataclass(frozen=True)
class Part:
    """One field of a parsed form: a text `value`, or a file saved at `path` (bytes `size`)."""

    name: str
    value: str | None = None
    filename: str | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()
    path: str | None = None
    size: int = 0


def _run_apart(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine `make()` gives to completion on a loop of its own: here, or in a
    short-lived thread where this thread already runs a loop (asyncio.run refuses one
    inside another; e.g. a caller that drives Playwright's sync API)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmroi-parse") as apart:
        return apart.submit(lambda: asyncio.run(make())).result()


def parse_body(body: str, content_type: str, folder: str) -> list[Part]:
    """Parse the multipart body saved at `body`; save its files in `folder` (runs in the
    work pool). Raises Starlette's `MultiPartException` for a malformed body."""

    async def chunks() -> AsyncGenerator[bytes, None]:
        with open(body, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    headers = Headers(raw=[(b"content-type", content_type.encode("latin-1"))])
    form = _run_apart(lambda: MultiPartParser(headers, chunks()).parse())
    parts = []
    try:
        for index, (name, value) in enumerate(form.multi_items()):
            if isinstance(value, str):
                parts.append(Part(name, value=value))
                continue
            path = Path(folder) / f"part-{index}"
            value.file.seek(0)
            with path.open("xb") as out:
                shutil.copyfileobj(value.file, out, READ_CHUNK)
                size = out.tell()
            raw = tuple(value.headers.raw)
            saved = Part(name, filename=value.filename, headers=raw, path=str(path), size=size)
            parts.append(saved)
    finally:
        for _, value in form.multi_items():
            if not isinstance(value, str):
                value.file.close()
    return parts


async def receive_form(request: Request, folder: Path) -> FormData:
    """Stream the body of `request` into `folder`, parse it in the work pool, and give the
    form with its files opened from `folder`."""
    state = request.app.state.crmroi
    body = folder / "body"
    out = await asyncio.to_thread(body.open, "xb")
    try:
        pending: list[bytes] = []  # chunks as the server received them: no parsing here
        size = 0
        async for chunk in request.stream():
            pending.append(chunk)
            size += len(chunk)
            if size >= WRITE_BYTES:  # written on a thread: a write can wait for the disk
                await asyncio.to_thread(out.writelines, pending)
                pending, size = [], 0
        await asyncio.to_thread(out.writelines, pending)
    finally:
        await asyncio.to_thread(out.close)
    content_type = request.headers["content-type"]
    try:
        parts = await state.work.run(
            state.work.compute, parse_body, str(body), content_type, str(folder)
        )
    except MultiPartException as exc:  # what Starlette answers when it parses the body
        raise HTTPException(status_code=400, detail=exc.message) from None
    finally:
        await asyncio.to_thread(body.unlink, missing_ok=True)
    items: list[tuple[str, str | UploadFile]] = []
    for part in parts:
        if part.path is None:
            items.append((part.name, part.value or ""))
        else:
            handle = open(part.path, "rb")  # noqa: SIM115  # closed with the form
            headers = Headers(raw=list(part.headers))
            upload = UploadFile(handle, size=part.size, filename=part.filename, headers=headers)
            items.append((part.name, upload))
    return FormData(items)


def incoming_folder(root: Path) -> Path:
    """A new private folder (0700) under `root` for one request's body."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Path(tempfile.mkdtemp(prefix=INCOMING_PREFIX, dir=root))


class StreamedFormRoute(APIRoute):
    """An API route whose multipart body is received and parsed off the event loop."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def app(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if not content_type.lower().startswith("multipart/form-data"):
                return await handler(request)
            from crmroi.web.import_wizard import upload_area

            root = upload_area(request.app.state.crmroi).root
            folder = await asyncio.to_thread(incoming_folder, root)  # file system: off the loop
            form: FormData | None = None
            try:
                form = await receive_form(request, folder)
                request._form = form  # FastAPI and the CSRF check read it from here
                return await handler(request)
            finally:
                if form is not None:
                    await form.close()
                await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)

        return app


def streamed_post(router: APIRouter, path: str, **options: Any) -> Callable[[F], F]:
    """Like `@router.post(path, **options)`, for a `StreamedFormRoute`."""

    def decorator(endpoint: F) -> F:
        router.add_api_route(
            path, endpoint, methods=["POST"], route_class_override=StreamedFormRoute, **options
        )
        return endpoint

    return decorator
