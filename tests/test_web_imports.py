"""The import wizard, the import history with undo, and /api/v1/imports."""

from __future__ import annotations

import io
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crmroi.ingest.mapping import parse_mapping
from crmroi.store import TABLES
from crmroi.store.undo import list_batches
from crmroi.web.audit import events
from crmroi.web.auth import Role
from tests.web_support import PASSWORDS, login, make_app

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
HEADER = "Номер;Клиент;Сумма;Дата закрытия;Этап\n"
ROWS = [
    "D-1;ООО «Ромашка»;1 234,50;05.03.2024;true\n",
    "D-2;ЗАО Берёзка;10 000,00;13.03.2024;false\n",
    "D-3;ИП Иванов;много;28.02.2024;false\n",  # refused: not a number
    "D-4;ООО Вектор;99,90;31.02.2024;true\n",  # refused: no such date
]
COLUMNS = {
    "f0.entity": "deals",
    "f0.col.deal_id": "Номер",
    "f0.col.account_id": "Клиент",
    "f0.col.amount": "Сумма",
    "f0.col.closed_at": "Дата закрытия",
    "f0.col.is_won": "Этап",
}
MAPPING = """
source_system: web_test
tables:
  - entity: deals
    columns:
      deal_id: Номер
      account_id: Клиент
      amount: Сумма
      closed_at: Дата закрытия
      is_won: Этап
"""


def cp1251(rows: list[str]) -> bytes:
    return (HEADER + "".join(rows)).encode("cp1251")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    application = make_app(str(tmp_path / "ws"))
    yield application
    application.state.crmroi.access.close()


@pytest.fixture
def analyst(app: FastAPI) -> TestClient:
    return login(app, "analyst")


def html(c: TestClient) -> dict[str, str]:
    return {"accept": "text/html", "X-CSRF-Token": c.headers["X-CSRF-Token"]}


def deals_table(app: FastAPI) -> pa.Table:
    with app.state.crmroi.access.store() as store:
        return store.to_arrow("deals", order_by=["source_system", "source_id"])


def snapshot(app: FastAPI) -> dict[str, pa.Table]:
    with app.state.crmroi.access.store() as store:
        return {n: store.to_arrow(n, order_by=["source_system", "source_id"]) for n in TABLES}


def api_import(
    c: TestClient, content: bytes, name: str = "сделки.csv", **fields: str
) -> dict[str, Any]:
    response = c.post(
        "/api/v1/imports",
        files=[
            ("files", (name, content, "text/csv")),
            ("mapping", ("map.yaml", MAPPING.encode(), "application/x-yaml")),
        ],
        data=fields,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def upload(c: TestClient, content: bytes, name: str = "сделки.csv", source: str = "generic"):  # type: ignore[no-untyped-def]
    return c.post(
        "/imports/upload",
        files={"files": (name, content, "text/csv")},
        data={"source": source, "csrf_token": c.headers["X-CSRF-Token"]},
        headers={"accept": "text/html"},
    )


def test_wizard_previews_a_cp1251_export_then_commits_one_batch(
    app: FastAPI, analyst: TestClient, tmp_path: Path
) -> None:
    staged = upload(analyst, cp1251(ROWS))
    assert staged.status_code == 303, staged.text
    page_url = staged.headers["location"]
    upload_id = page_url.rsplit("/", 1)[1]
    assert (tmp_path / "ws" / "uploads" / upload_id).is_dir()
    first = analyst.get(page_url, headers=html(analyst))
    assert first.status_code == 200
    assert 'name="f0.entity"' in first.text and "Номер" in first.text

    # map the columns interactively (htmx posts the form on every change)
    form = {"use": "columns", "source_system": "web_test", **COLUMNS}
    preview = analyst.post(
        f"{page_url}/mapping", data=form, headers={**html(analyst), "HX-Request": "true"}
    )
    assert preview.status_code == 200, preview.text
    text = preview.text
    assert "<html" not in text  # the wizard's body only
    assert '<dd class="encoding">cp1251</dd>' in text
    assert "semicolon" in text and "decimal comma" in text
    assert "1234.5" in text and "10000" in text and "2024-03-05" in text
    rejects = re.search(r'<table id="rejects">(.*?)</table>', text, re.S)
    assert rejects, text
    assert "сделки.csv" in rejects.group(1)
    assert '<td class="num">4</td>' in rejects.group(1)  # D-3 is file row 4
    assert "много" in rejects.group(1) and "31.02.2024" in rejects.group(1)
    assert "2 would be refused" in text.replace("<strong>", "").replace("</strong>", "")
    assert deals_table(app).num_rows == 0  # nothing written before the commit

    yaml_text = analyst.get(f"{page_url}/mapping.yaml").text
    mapping = parse_mapping(yaml_text, "mapping.yaml")
    assert mapping.source_system == "web_test"
    assert mapping.tables[0].columns["deal_id"].column == "Номер"

    committed = analyst.post(f"{page_url}/commit", headers=html(analyst))
    assert committed.status_code == 303, committed.text
    batch_id = committed.headers["location"].split("imported=")[1]
    assert not (tmp_path / "ws" / "uploads" / upload_id).exists()
    rows = deals_table(app).to_pylist()
    assert [r["deal_id"] for r in rows] == ["D-1", "D-2"]
    assert rows[0]["amount"] == pytest.approx(1234.5)
    assert {r["batch_id"] for r in rows} == {batch_id}

    history = analyst.get(f"/imports?imported={batch_id}", headers=html(analyst))
    assert f"Imported batch {batch_id}: 2 rows loaded, 2 refused." in history.text
    assert history.text.count(f"/imports/batches/{batch_id}/undo") == 1
    listed = analyst.get("/api/v1/imports").json()
    assert [b["batch_id"] for b in listed] == [batch_id]
    assert listed[0]["status"] == "loaded" and listed[0]["undoable"]
    assert listed[0]["files"] == ["сделки.csv"]


def test_a_preset_upload_previews_without_mapping(app: FastAPI, analyst: TestClient) -> None:
    content = (FIXTURES / "salesforce" / "opportunity_object.csv").read_bytes()
    staged = upload(analyst, content, "Opportunity.csv", source="salesforce")
    page = analyst.get(staged.headers["location"], headers=html(analyst))
    assert page.status_code == 200
    assert "the salesforce preset" in page.text and "→ deals" in page.text
    assert "Import " in page.text and "/commit" in page.text
    cancel = analyst.post(f"{staged.headers['location']}/cancel", headers=html(analyst))
    assert cancel.status_code == 303
    assert analyst.get(staged.headers["location"], headers=html(analyst)).status_code == 400


def test_undo_through_the_pages_restores_the_previous_rows(
    app: FastAPI, analyst: TestClient
) -> None:
    api_import(analyst, cp1251(ROWS[:2]))
    before = snapshot(app)
    changed = ["D-1;ООО «Ромашка»;2 000,00;05.03.2024;true\n", "D-5;Новый;1,00;01.04.2024;false\n"]
    second = api_import(analyst, cp1251(changed))
    assert [(f["inserted"], f["updated"]) for f in second["files"]] == [(1, 1)]
    assert deals_table(app).num_rows == 3
    batch_id = second["batch_id"]
    undone = analyst.post(f"/imports/batches/{batch_id}/undo", headers=html(analyst))
    assert undone.status_code == 303, undone.text
    after = snapshot(app)
    for name, table in before.items():
        assert after[name].equals(table), name
    page = analyst.get("/imports", headers=html(analyst))
    assert "undone" in page.text
    assert page.text.count("/undo") == 1  # only the first batch can still be undone


def test_undo_is_refused_while_a_later_batch_changed_the_same_rows(
    app: FastAPI, analyst: TestClient
) -> None:
    first = api_import(analyst, cp1251(ROWS[:1]))
    after_first = snapshot(app)
    second = api_import(analyst, cp1251(["D-1;ООО «Ромашка»;5,00;05.03.2024;true\n"]))
    refused = analyst.post(f"/api/v1/imports/{first['batch_id']}/undo")
    assert refused.status_code == 409
    assert str(second["batch_id"]) in refused.json()["detail"]
    page = analyst.post(f"/imports/batches/{first['batch_id']}/undo", headers=html(analyst))
    assert page.status_code == 409 and "undo " in page.text
    ok = analyst.post(f"/api/v1/imports/{second['batch_id']}/undo")
    assert ok.status_code == 200 and ok.json()["restored"] == {"deals": 1}
    assert all(snapshot(app)[n].equals(t) for n, t in after_first.items())
    assert analyst.post(f"/api/v1/imports/{first['batch_id']}/undo").status_code == 200
    assert deals_table(app).num_rows == 0
    assert analyst.post(f"/api/v1/imports/{first['batch_id']}/undo").status_code == 409
    assert analyst.post("/api/v1/imports/nope/undo").status_code == 404


def test_api_dry_run_writes_nothing_and_shows_rejects(app: FastAPI, analyst: TestClient) -> None:
    result = api_import(analyst, cp1251(ROWS), dry_run="true")
    assert result["dry_run"] is True and result["batch_id"] is None
    assert (result["rows_in"], result["rows_rejected"]) == (4, 2)
    [file] = result["files"]
    assert file["encoding"] == "cp1251" and file["delimiter"] == "semicolon"
    assert "decimal comma" in file["detected"]["amount"]
    assert file["preview"][0][file["columns"].index("amount")] == "1234.5"
    rows = {(r["row"], r["column"]) for r in result["rejects"]}
    assert (4, "Сумма") in rows and (5, "Дата закрытия") in rows
    by_place = {(r["row"], r["column"]): r for r in result["rejects"]}
    number, date = by_place[(4, "Сумма")], by_place[(5, "Дата закрытия")]
    assert number["reason"] == "cannot read 'много' as a number"  # English, as before
    assert number["reason_code"] == "import_not_a_number"
    assert number["reason_params"] == {"value": "'много'"}
    assert date["reason"] == "cannot read '31.02.2024' as a date"
    assert date["reason_code"] == "import_not_a_date"
    assert analyst.get("/api/v1/imports").json() == []
    assert deals_table(app).num_rows == 0


def test_viewers_see_the_history_but_cannot_import_or_undo(
    app: FastAPI, analyst: TestClient
) -> None:
    batch = api_import(analyst, cp1251(ROWS[:1]))
    viewer = login(app, "viewer")
    page = viewer.get("/imports", headers=html(viewer))
    assert page.status_code == 200 and str(batch["batch_id"]) in page.text
    assert "/imports/upload" not in page.text and "/undo" not in page.text
    assert viewer.get("/api/v1/imports").status_code == 200
    assert upload(viewer, cp1251(ROWS)).status_code == 403
    files = {"files": ("d.csv", cp1251(ROWS), "text/csv")}
    assert viewer.post("/api/v1/imports", files=files).status_code == 403
    assert viewer.post(f"/api/v1/imports/{batch['batch_id']}/undo").status_code == 403
    undo_page = viewer.post(f"/imports/batches/{batch['batch_id']}/undo", headers=html(viewer))
    assert undo_page.status_code == 403
    assert deals_table(app).num_rows == 1


def test_uploads_above_the_limit_are_refused(tmp_path: Path) -> None:
    application = make_app(str(tmp_path / "ws"), max_upload_bytes=2000)
    try:
        c = login(application, "analyst")
        big = cp1251(ROWS * 200)  # far above the limit: refused by the body limit
        assert upload(c, big).status_code == 413
        near = cp1251(ROWS * 25)  # above the per-file limit, inside the form allowance
        assert 2000 < len(near) < 60_000
        response = c.post("/api/v1/imports", files={"files": ("big.csv", near, "text/csv")})
        assert response.status_code == 413
        assert "big.csv" in response.json()["detail"]
        assert not any((tmp_path / "ws" / "uploads").iterdir())
    finally:
        application.state.crmroi.access.close()


CHUNK = 16 * 1024


def post_chunked(
    app: FastAPI, path: str, fields: dict[str, str], content: bytes
) -> tuple[httpx.Response, int, int]:
    """POST a multipart form with one file as a chunked stream (no Content-Length), as
    the analyst with a bearer token; the response, the chunks read, the chunks sent."""
    state = app.state.crmroi
    analyst = next(u for u, _ in state.accounts.users() if u.username == "analyst")
    token = state.accounts.create_api_token(analyst, "chunked")
    boundary = "crmroi-test-boundary"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    read = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal read
        for start in range(0, len(body), CHUNK):
            read += 1
            yield body[start : start + CHUNK]

    async def post() -> httpx.Response:
        headers = {
            "authorization": f"Bearer {token}",
            "content-type": f"multipart/form-data; boundary={boundary}",
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            return await c.post(path, content=chunks(), headers=headers)

    with anyio.from_thread.start_blocking_portal() as portal:  # a loop of its own thread
        response = portal.call(post)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    return response, read, -(-len(body) // CHUNK)


def history_of(app: FastAPI) -> list[Any]:
    with app.state.crmroi.access.store() as store:
        return list_batches(store)


@pytest.mark.parametrize(
    ("path", "fields"), [("/imports/upload", {"source": "generic"}), ("/api/v1/imports", {})]
)
def test_a_chunked_upload_above_the_limit_gets_413_and_stores_nothing(
    tmp_path: Path, path: str, fields: dict[str, str]
) -> None:
    """No Content-Length: the body limit counts the stream and answers 413 itself."""
    application = make_app(str(tmp_path / "ws"), max_upload_bytes=2000)
    try:
        api_import(login(application, "analyst"), cp1251(ROWS[:2]))  # a history to keep
        before, history = snapshot(application), history_of(application)
        response, read, chunks = post_chunked(application, path, fields, cp1251(ROWS * 4000))
        assert response.status_code == 413, response.text
        assert response.json() == {
            "detail": "the request body is too large",
            "code": "body_too_large",
        }
        assert 1 < read < chunks  # read up to the limit, not to the end
        assert history_of(application) == history
        assert all(snapshot(application)[n].equals(t) for n, t in before.items())
        assert not any((tmp_path / "ws" / "uploads").iterdir())
    finally:
        application.state.crmroi.access.close()


def test_a_chunked_upload_within_the_limit_is_staged(tmp_path: Path) -> None:
    """The streamed count refuses only what is too large: several chunks, under the limit."""
    application = make_app(str(tmp_path / "ws"), max_upload_bytes=60_000)
    try:
        content = cp1251(ROWS[:2] * 400)
        assert 2 * CHUNK < len(content) < 60_000
        response, read, chunks = post_chunked(
            application, "/imports/upload", {"source": "generic"}, content
        )
        assert response.status_code == 303, response.text
        assert read == chunks
        upload_id = response.headers["location"].rsplit("/", 1)[1]
        folder = tmp_path / "ws" / "uploads" / upload_id
        staged = [f.read_bytes() for f in folder.rglob("*") if f.is_file()]
        assert content in staged  # the whole file, not a cut-off part
    finally:
        application.state.crmroi.access.close()


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("tool.exe", b"MZ\x90\x00" + bytes(200), "only CSV"),
        ("report.csv", b"MZ\x90\x00\x03" + bytes(500), "Windows program"),
        ("noise.csv", os.urandom(4000), "binary data"),
        ("picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
        ("table.xlsx", b"id,name\n1,a\n", "not an Excel workbook"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel"),
        ("archive.xlsx", b"", "ZIP archive is not an Excel"),
    ],
)
def test_wrong_types_are_refused_naming_the_file(
    app: FastAPI, analyst: TestClient, name: str, content: bytes, why: str, tmp_path: Path
) -> None:
    if name == "archive.xlsx":
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("hello.txt", "hi")
        content = buffer.getvalue()
    response = analyst.post("/api/v1/imports", files={"files": (name, content, "text/csv")})
    assert response.status_code == 415, response.text
    assert name in response.json()["detail"] and why in response.json()["detail"]
    page = upload(analyst, content, name)
    assert page.status_code == 415 and name in page.text
    assert not any((tmp_path / "ws" / "uploads").iterdir())


def test_client_file_names_never_choose_a_path(
    app: FastAPI, analyst: TestClient, tmp_path: Path
) -> None:
    staged = upload(analyst, cp1251(ROWS), name="../../../etc/evil name;rm.csv")
    assert staged.status_code == 303
    upload_id = staged.headers["location"].rsplit("/", 1)[1]
    files = list((tmp_path / "ws" / "uploads" / upload_id).rglob("*.csv"))
    assert [f.name for f in files] == ["evil name_rm.csv"]
    assert not (tmp_path / "etc").exists()
    assert analyst.get("/imports/..%2F..%2Fx", headers=html(analyst)).status_code in (400, 404)


def test_another_analysts_upload_is_not_visible(app: FastAPI, analyst: TestClient) -> None:
    staged = upload(analyst, cp1251(ROWS))
    app.state.crmroi.accounts.create_user("other", "other-password-1", Role.analyst)
    PASSWORDS["other"] = "other-password-1"
    try:
        other = login(app, "other")
    finally:
        del PASSWORDS["other"]
    assert other.get(staged.headers["location"], headers=html(other)).status_code == 400
    assert (
        other.post(f"{staged.headers['location']}/commit", headers=html(other)).status_code == 400
    )


def test_audit_log_records_imports_and_undos(app: FastAPI, analyst: TestClient) -> None:
    batch = api_import(analyst, cp1251(ROWS[:2]))
    assert analyst.post(f"/api/v1/imports/{batch['batch_id']}/undo").status_code == 200
    logged = [
        (e.username, e.action, e.detail.get("batch_id")) for e in events(app.state.crmroi.access)
    ]
    assert ("analyst", "import", batch["batch_id"]) in logged
    assert ("analyst", "undo", batch["batch_id"]) in logged
    [imported] = [e for e in events(app.state.crmroi.access) if e.action == "import"]
    assert imported.detail["rows_loaded"] == 2 and imported.detail["files"] == ["сделки.csv"]


def test_generic_api_import_without_mapping_is_a_clear_400(analyst: TestClient) -> None:
    response = analyst.post("/api/v1/imports", files={"files": ("d.csv", cp1251(ROWS), "text/csv")})
    assert response.status_code == 400
    assert "mapping" in response.json()["detail"]


@pytest.mark.postgres
def test_wizard_and_undo_on_postgres(postgres_url: str) -> None:
    """A PostgreSQL workspace stages uploads in a temporary folder; undo works the same."""
    from crmroi.web.import_wizard import upload_area

    application = make_app(postgres_url)
    try:
        c = login(application, "analyst")
        area = upload_area(application.state.crmroi)
        assert "crmroi-uploads-" in str(area.root)
        staged = upload(c, cp1251(ROWS))
        assert staged.status_code == 303
        upload_id = staged.headers["location"].rsplit("/", 1)[1]
        assert (area.root / upload_id).is_dir()
        preview = c.post(
            f"{staged.headers['location']}/mapping",
            data={"use": "columns", "source_system": "web_test", **COLUMNS},
            headers={**html(c), "HX-Request": "true"},
        )
        assert '<dd class="encoding">cp1251</dd>' in preview.text
        committed = c.post(f"{staged.headers['location']}/commit", headers=html(c))
        assert committed.status_code == 303, committed.text
        assert not (area.root / upload_id).exists()
        before = snapshot(application)
        changed = ["D-1;ООО «Ромашка»;7,00;05.03.2024;true\n"]
        second = api_import(c, cp1251(changed))
        assert deals_table(application).column("amount").to_pylist()[0] == pytest.approx(7.0)
        assert c.post(f"/api/v1/imports/{second['batch_id']}/undo").status_code == 200
        after = snapshot(application)
        assert all(after[n].equals(t) for n, t in before.items())
    finally:
        application.state.crmroi.access.close()


def test_wizard_shows_mapping_problems_and_switches_tables(analyst: TestClient) -> None:
    staged = upload(analyst, cp1251(ROWS))
    url = staged.headers["location"]
    hx = {**html(analyst), "HX-Request": "true"}
    bad_name = analyst.post(
        f"{url}/mapping", data={"use": "columns", "source_system": "a b", **COLUMNS}, headers=hx
    )
    assert "source system name" in bad_name.text and "/commit" not in bad_name.text
    no_id = {**COLUMNS, "f0.col.deal_id": ""}
    missing = analyst.post(
        f"{url}/mapping", data={"use": "columns", "source_system": "x", **no_id}, headers=hx
    )
    assert "deal_id" in missing.text and "required" in missing.text
    accounts = analyst.post(
        f"{url}/mapping",
        data={"use": "columns", "source_system": "x", **COLUMNS, "f0.entity": "accounts"},
        headers=hx,
    )
    assert 'name="f0.col.industry"' in accounts.text  # the accounts columns are offered
    preset = analyst.post(f"{url}/mapping", data={"use": "preset", "source": "hubspot"}, headers=hx)
    assert preset.status_code == 200 and "the hubspot preset" in preset.text
    assert "do not match any hubspot export" in preset.text


def test_batch_ids_with_odd_characters_can_be_undone(app: FastAPI, analyst: TestClient) -> None:
    odd = MAPPING.replace("source_system: web_test", "source_system: 'web test/ру?'")
    response = analyst.post(
        "/api/v1/imports",
        files=[
            ("files", ("d.csv", cp1251(ROWS[:1]), "text/csv")),
            ("mapping", ("map.yaml", odd.encode(), "application/x-yaml")),
        ],
    )
    batch_id = response.json()["batch_id"]
    assert batch_id.startswith("web test/ру?-")
    page = analyst.get("/imports", headers=html(analyst))
    action = re.search(r'action="(/imports/batches/[^"]+/undo)"', page.text)
    assert action
    undone = analyst.post(action.group(1), headers=html(analyst))
    assert undone.status_code == 303, undone.text
    assert deals_table(app).num_rows == 0


def test_xlsx_upload_dry_run(analyst: TestClient) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Номер", "Клиент", "Сумма", "Дата закрытия", "Этап"])
    sheet.append(["X-1", "ООО «Ромашка»", 1234.5, "05.03.2024", "true"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = api_import(analyst, buffer.getvalue(), name="deals.xlsx", dry_run="true")
    [file] = result["files"]
    assert file["name"] == "deals.xlsx" and file["encoding"] is None
    assert file["preview"][0][file["columns"].index("amount")] == "1234.5"
    assert result["rows_rejected"] == 0


def test_the_import_summary_in_the_wizard_and_the_api(app: FastAPI, analyst: TestClient) -> None:
    content = (
        b"Deal - ID,Deal - Title,Deal - Status,Deal - Value,Deal - Currency,Deal - Deal created\n"
        b"1,A,Won,10,USD,2024-01-02\n2,B,Lost,20,USD,2024-01-05\n3,C,Frozen,5,USD,2024-01-07\n"
    )
    staged = upload(analyst, content, "deals.csv", source="pipedrive")
    page = analyst.get(staged.headers["location"], headers=html(analyst))
    assert page.status_code == 200
    values = page.text.split('id="import-values"')[1].split("</table>")[0]
    assert "Frozen" in values and "not mapped" in values
    assert 'id="import-dates"' in page.text and "2024-01-07" in page.text
    response = analyst.post(
        "/api/v1/imports",
        files=[("files", ("deals.csv", content, "text/csv"))],
        data={"source": "pipedrive"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["rows_loaded"], result["rows_rejected"]) == (2, 1)
    unmapped = {(v["column"], v["value"]) for v in result["summary"]["values"] if not v["mapped"]}
    assert unmapped == {("is_won", "Frozen"), ("is_closed", "Frozen")}
    (created,) = [d for d in result["summary"]["dates"] if d["column"] == "created_at"]
    assert (created["first"], created["last"]) == ("2024-01-02T00:00:00", "2024-01-05T00:00:00")
