"""Upload bodies are streamed to a private folder and parsed in the work pool, not on the
event loop (issue 17): `/healthz` answers while a parse is held open, the parsed form is
what the client sent, and the folder is gone after every answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmroi.web.streamed_form as streamed_form
from crmroi.web.import_wizard import upload_area
from crmroi.web.streamed_form import parse_body
from tests.test_web_work_pool import DEALS, MAPPING, served  # noqa: F401  # fixture
from tests.web_support import client, login, make_app

FILES = [
    ("files", ("deals.csv", DEALS.encode(), "text/csv")),
    ("mapping", ("map.yaml", MAPPING.encode(), "application/x-yaml")),
]


def test_health_answers_while_an_upload_body_is_parsed(
    served: tuple[str, FastAPI],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The multipart parser is held mid-parse; meanwhile `/healthz` answers; then the
    import completes with the body as it was sent."""
    url, app = served
    state = app.state.crmroi
    analyst = next(u for u, _ in state.accounts.users() if u.username == "analyst")
    bearer = {"Authorization": "Bearer " + state.accounts.create_api_token(analyst, "body")}
    parsing, release = threading.Event(), threading.Event()

    class HeldParser(streamed_form.MultiPartParser):
        async def parse(self) -> Any:
            parsing.set()
            release.wait(timeout=120)  # blocks whatever runs the parse: not the event loop
            return await super().parse()

    monkeypatch.setattr(streamed_form, "MultiPartParser", HeldParser)
    answer: dict[str, httpx.Response] = {}

    def upload() -> None:
        with httpx.Client(base_url=url, timeout=120) as c:
            answer["import"] = c.post(
                "/api/v1/imports", headers=bearer, files=FILES, data={"dry_run": "true"}
            )

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert parsing.wait(timeout=60)
        with httpx.Client(base_url=url, timeout=30) as c:
            started = time.perf_counter()
            health = c.get("/healthz")
            health_seconds = time.perf_counter() - started
        still_parsing = uploader.is_alive()
    finally:
        release.set()
        uploader.join(timeout=120)
    assert still_parsing
    assert health.status_code == 200
    assert health_seconds < 2.0, health_seconds  # ~10 ms alone; room for a busy CI
    assert answer["import"].status_code == 200, answer["import"].text
    assert answer["import"].json()["rows_in"] == 2


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    app = make_app(str(tmp_path / "ws"), max_upload_bytes=64 * 1024)
    try:
        yield app
    finally:
        app.state.crmroi.access.close()


def _left(app: FastAPI) -> list[str]:
    root = upload_area(app.state.crmroi).root
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def test_the_body_folder_is_removed_after_every_answer(app: FastAPI) -> None:
    analyst = login(app, "analyst")
    dry = {"dry_run": "true"}
    ok = analyst.post("/api/v1/imports", files=FILES, data=dry)
    assert ok.status_code == 200, ok.text
    unknown = analyst.post("/api/v1/imports", files=FILES, data={"source": "nope"})
    assert unknown.status_code == 422
    refused = analyst.post(
        "/api/v1/imports", files=[("files", ("x.exe", b"MZ\x90\x00", "text/csv"))], data=dry
    )
    assert refused.status_code == 415, refused.text
    boundary = {"content-type": "multipart/form-data; boundary=xyz"}
    broken = analyst.post("/api/v1/imports", content=b"--xyz\r\nnot a part", headers=boundary)
    assert broken.status_code == 400, broken.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b"--xyz\r\n"
        for _ in range(40):
            yield b"x" * 4096

    too_large = analyst.post("/api/v1/imports", content=chunks(), headers=boundary)
    assert too_large.status_code == 413
    assert too_large.json()["code"] == "body_too_large"
    wizard = analyst.post("/imports/upload", files=FILES, data={"source": "generic"})
    assert wizard.status_code == 303, wizard.text
    staged = wizard.headers["location"].rsplit("/", 1)[-1]
    assert _left(app) == [staged]  # the staged upload stays for the wizard; the body does not


def test_a_browser_form_upload_is_checked_for_its_csrf_field(app: FastAPI) -> None:
    """The CSRF token of a form post is a field of the body parsed off the loop."""
    analyst = login(app, "analyst")
    token = analyst.headers.pop("X-CSRF-Token")
    wrong = analyst.post("/imports/upload", files=FILES, data={"csrf_token": "forged"})
    assert wrong.status_code == 403
    right = analyst.post("/imports/upload", files=FILES, data={"csrf_token": token})
    assert right.status_code == 303, right.text
    nobody = client(app).post("/api/v1/imports", files=FILES)
    assert nobody.status_code == 401
    assert len(_left(app)) == 1  # only the one staged upload


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=3000),
    text=st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=50),
    name=st.text(alphabet="abc.-_ é", min_size=1, max_size=20),
)
def test_a_parsed_body_is_what_was_sent(
    tmp_path: Path, content: bytes, text: str, name: str
) -> None:
    request = httpx.Request(
        "POST",
        "http://x/",
        data={"note": text},
        files=[("files", (name, content, "text/csv")), ("files", ("b.csv", b"a\r\n--", "x/y"))],
    )
    folder = tmp_path / f"f{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    body = folder / "body"
    body.write_bytes(request.read())
    parts = parse_body(str(body), request.headers["content-type"], str(folder))
    assert [p.name for p in parts] == ["note", "files", "files"]
    assert parts[0].value == text
    sent = [(name, content), ("b.csv", b"a\r\n--")]
    got = [(p.filename, Path(p.path).read_bytes()) for p in parts[1:] if p.path]
    assert got == sent
    assert [p.size for p in parts[1:]] == [len(content), 5]


def test_a_body_parses_where_the_calling_thread_already_runs_a_loop(tmp_path: Path) -> None:
    """parse_body called from a thread that runs an event loop (as under Playwright's sync
    API, which keeps one running) still parses: asyncio.run refuses a loop in a loop."""
    import asyncio
    import threading

    request = httpx.Request("POST", "http://x/", files=[("files", ("a.csv", b"x,y\n1,2\n"))])
    body = tmp_path / "body"
    body.write_bytes(request.read())

    async def inside_a_loop() -> list[Any]:
        return parse_body(str(body), request.headers["content-type"], str(tmp_path))

    got: list[list[Any]] = []  # a thread of its own: this one may already run a loop
    apart = threading.Thread(target=lambda: got.append(asyncio.run(inside_a_loop())))
    apart.start()
    apart.join()
    (parts,) = got
    assert [(p.name, p.filename, p.size) for p in parts] == [("files", "a.csv", 8)]
