"""Every human message the API returns has a stable machine code beside it, and
docs/api.md lists every code (errors, notes, checks, follow-up details)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from crmroi import errors
from tests.conftest import copy_workspace
from tests.web_support import client, login, make_app

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


def _message_codes() -> dict[str, tuple[str, str]]:
    spec = importlib.util.spec_from_file_location(
        "message_codes", ROOT / "scripts/message_codes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: dict[str, tuple[str, str]] = module.message_codes()
    return found


def test_docs_list_every_message_code() -> None:
    codes = _message_codes()
    assert len(codes) > 100 and "stale_deal" in codes and "import_no_id" in codes
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", DOCS, flags=re.M))
    missing = sorted(set(codes) - listed)
    assert missing == [], "regenerate the table: .venv/bin/python scripts/message_codes.py"


def test_docs_list_every_error_code() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and hasattr(c, "code")]
    assert len(classes) >= 12
    codes = {c.code for c in classes} | {"upload_too_large", "upload_unsupported_type"}
    codes |= {"not_found", "method_not_allowed", "conflict", "validation_error"}
    codes |= {"foreign_origin", "body_too_large", "case_not_evaluable"}
    missing = [c for c in sorted(codes) if f"| `{c}` |" not in DOCS]
    assert missing == []


def test_an_error_raised_with_a_message_answers_its_code() -> None:
    from crmroi.messages import M_

    assert errors.error_code(errors.ConfigurationError(M_("x_code", "x %(n)s", n=1))) == "x_code"
    assert errors.error_code(errors.ConfigurationError("plain")) == "configuration"
    assert errors.error_code(errors.UploadRefused("big", 413)) == "upload_too_large"
    assert errors.error_code(ValueError("other")) == "error"


@pytest.fixture(scope="module")
def app(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("codes") / "ws")
    application = make_app(str(folder), simulation_runs=50, bootstrap=10)
    yield application
    application.state.crmroi.access.close()


def test_error_bodies_carry_codes(app: FastAPI) -> None:
    anonymous = client(app).get("/api/v1/kpis")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    viewer = login(app, "viewer")
    unknown = viewer.get("/api/v1/kpis/no_such_kpi/series")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    invalid = viewer.get("/api/v1/kpis", params={"months": "many"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "validation_error"
    assert isinstance(invalid.json()["detail"], list)
    denied = viewer.put("/api/v1/cases/x", content=b"name: x\n")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    analyst = login(app, "analyst")
    bad = analyst.put(
        "/api/v1/cases/bad", content=b"name: [\n", headers={"content-type": "application/yaml"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "case_yaml_invalid_line"
    assert "line" in bad.json()["detail"]


def test_notes_and_details_carry_codes(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    kpis = viewer.get("/api/v1/kpis", params={"region": "EMEA", "months": 6}).json()
    assert kpis["notes"] and kpis["note_codes"] == ["region_not_applied"]
    by = viewer.get("/api/v1/kpis", params={"team": "APAC", "by": "rep"}).json()
    assert by["note_codes"] == ["by_narrows_groups"] and by["notes"][0].startswith("by=rep:")
    follow = viewer.get("/api/v1/followups").json()
    assert len(follow["note_codes"]) == len(follow["notes"])
    assert follow["items"] and all(i["detail_code"] for i in follow["items"])
    assert {i["detail_code"] for i in follow["items"]} & {"overdue_task", "stale_deal"}


def test_case_checks_warnings_and_notes_carry_codes(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    names = [c["name"] for c in viewer.get("/api/v1/cases").json()]
    assert names
    detail = viewer.get(f"/api/v1/cases/{names[0]}").json()
    results = detail["results"]
    assert results["checks"] and all(c["code"] for c in results["checks"])
    assert len(results["warning_codes"]) == len(results["warnings"])
    assert len(results["note_codes"]) == len(results["notes"])


def test_openapi_says_every_error_has_a_code(app: FastAPI) -> None:
    schema = login(app, "viewer").get("/api/v1/openapi.json").json()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["detail", "code"]
    validation = schema["components"]["schemas"]["HTTPValidationError"]
    assert validation["properties"]["code"]["enum"] == ["validation_error"]
