"""The text encoding in the web wizard (a select per file) and the API (a form field): it
overrides detection and presets, and garbled-looking text is shown as a warning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web_support import login, make_app

GERMAN = (
    "Deal - ID;Deal - Title;Deal - Organization;Deal - Value;Deal - Currency;Deal - Status;"
    "Deal - Deal created;Deal - Deal closed on\n"
    "1;Rahmenvertrag;Müller & Söhne GmbH;1.000,50;EUR;won;2024-01-05;2024-02-01\n"
    "2;Wartung Büro;Bäckerei Groß KG;250,00;EUR;lost;2024-01-09;2024-02-03\n"
).encode("cp1252")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    application = make_app(str(tmp_path / "ws"))
    with application.state.crmroi.access.store() as store:
        store.set_settings(base_currency="EUR")
    yield application
    application.state.crmroi.access.close()


@pytest.fixture
def analyst(app: FastAPI) -> TestClient:
    return login(app, "analyst")


def api(c: TestClient, **fields: str) -> Any:
    return c.post(
        "/api/v1/imports",
        files=[("files", ("deals.csv", GERMAN, "text/csv"))],
        data={"source": "pipedrive", "dry_run": "true", **fields},
    )


def test_api_encoding_overrides_detection(analyst: TestClient) -> None:
    detected = api(analyst).json()["files"][0]
    assert detected["encoding"] == "cp1252" and detected["warnings"] == []
    forced = api(analyst, encoding="cp1251").json()["files"][0]
    assert forced["encoding"] == "cp1251"
    assert forced["warnings"] and "Mьller" in forced["warnings"][0]
    bad = api(analyst, encoding="klingon")
    assert bad.status_code == 400
    assert "encoding: unknown encoding 'klingon'" in bad.json()["detail"]


def test_wizard_encoding_select(analyst: TestClient) -> None:
    page = analyst.post(
        "/imports/upload",
        files={"files": ("deals.csv", GERMAN, "text/csv")},
        data={"source": "pipedrive", "csrf_token": analyst.headers["X-CSRF-Token"]},
        headers={"accept": "text/html"},
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert 'name="f0.encoding"' in page.text and "Müller &amp; Söhne GmbH" in page.text
    upload_id = str(page.url).rstrip("/").split("/")[-1]
    form = {
        "csrf_token": analyst.headers["X-CSRF-Token"],
        "f0.entity": "deals",
        "f0.encoding": "cp1251",
        "f0.col.deal_id": "Deal - ID",
        "f0.col.account_id": "Deal - Organization",
        "f0.col.amount": "Deal - Value",
        "f0.col.created_at": "Deal - Deal created",
    }
    chosen = analyst.post(
        f"/imports/{upload_id}/mapping", data=form, headers={"accept": "text/html"}
    )
    assert chosen.status_code == 200
    assert '<option value="cp1251" selected>' in chosen.text
    assert "look garbled when read as cp1251 (given)" in chosen.text
    yaml_text = analyst.get(f"/imports/{upload_id}/mapping.yaml").text
    assert "encoding: cp1251" in yaml_text
