"""The business case editor: pages, forms validated like case.yaml, downloads, /api/v1/cases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crmroi.casework.evaluate import evaluate_case
from crmroi.web.case_forms import form_from_text, form_items
from crmroi.web.case_library import case_from_text
from crmroi.web.case_results import content_disposition
from tests.conftest import copy_workspace
from tests.web_support import login, make_app

HTML = {"accept": "text/html"}
RUNS = 200


@pytest.fixture
def app(small_demo_folder: Path, tmp_path: Path) -> Iterator[FastAPI]:
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    application = make_app(str(folder), simulation_runs=RUNS, bootstrap=0)  # seeds "default"
    yield application
    application.state.crmroi.access.close()


@pytest.fixture
def analyst(app: FastAPI) -> TestClient:
    return login(app, "analyst")


def default_text(app: FastAPI) -> str:
    saved = app.state.crmroi.access.query("SELECT yaml FROM web_cases WHERE name = 'default'")
    return str(saved[0][0])


def edited(text: str, changes: dict[str, str]) -> dict[str, str]:
    """The editor's fields for `text`, as a browser posts them, with `changes` made."""
    return {k: changes.get(k, v) for k, v in form_items(form_from_text(text))}


def data_roi(html: str) -> float:
    found = re.search(r'id="results"[^>]*data-roi="([^"]+)"', html)
    assert found, html[:2000]
    return float(found.group(1))


def audit(app: FastAPI) -> list[tuple[str, str, str]]:
    rows = app.state.crmroi.access.query(
        "SELECT username, action, detail FROM web_audit WHERE action LIKE 'case.%' "
        "ORDER BY occurred_at"
    )
    return [(r[0], r[1], r[2]) for r in rows]


def test_the_seeded_default_case_is_listed_and_shown(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    page = viewer.get("/cases", headers=HTML)
    assert page.status_code == 200
    assert 'href="/cases/default"' in page.text and "active" in page.text
    case = viewer.get("/cases/default", headers=HTML)
    assert case.status_code == 200
    assert 'name="costs.0.amount~likely"' in case.text
    assert "Save as" not in case.text and "disabled" in case.text  # read only for viewers
    expected = evaluate_case(case_from_text(default_text(app)), None, runs=RUNS, seed=0)
    assert data_roi(case.text) == expected.summary_risk.roi
    listed = viewer.get("/api/v1/cases").json()
    assert [(c["name"], c["active"]) for c in listed] == [("default", True)]


def test_editing_a_cost_gives_the_roi_of_the_edited_yaml(app: FastAPI, analyst: TestClient) -> None:
    text = default_text(app)
    form = edited(text, {"costs.0.amount~likely": "145000"})
    preview = analyst.post("/cases/default/preview", data=form, headers=HTML)
    assert preview.status_code == 200
    saved = analyst.post("/cases/default", data={**form, "action": "save"}, headers=HTML)
    assert saved.status_code == 303
    new_text = default_text(app)
    assert "amount: 145000" in new_text
    case = case_from_text(new_text)
    result = evaluate_case(case, None, runs=RUNS, seed=0)
    assert data_roi(preview.text) == result.summary_risk.roi
    before = evaluate_case(case_from_text(text), None, runs=RUNS, seed=0)
    assert result.summary_risk.roi < before.summary_risk.roi
    page = analyst.get("/cases/default", headers=HTML)
    assert data_roi(page.text) == result.summary_risk.roi
    api = analyst.get("/api/v1/cases/default").json()
    assert api["yaml"] == new_text
    figures = {(f["months"], f["risk_adjusted"]): f for f in api["results"]["figures"]}
    assert figures[(36, True)]["roi"] == result.summary_risk.roi
    assert figures[(12, False)]["npv"] == pytest.approx(result.short.npv)


def test_invalid_form_input_shows_the_field_error_and_stores_nothing(
    app: FastAPI, analyst: TestClient
) -> None:
    text = default_text(app)
    form = edited(text, {"costs.0.amount~likely": "lots", "discount_rate": "2"})
    preview = analyst.post("/cases/default/preview", data=form, headers=HTML)
    assert preview.status_code == 200
    error = re.search(
        r'id="err-f-costs-0-amount"[^>]*><span data-code="case_expected">([^<]+)<', preview.text
    )
    assert error and "number" in error.group(1)
    less = r'id="err-f-discount_rate"[^>]*><span data-code="case_less_than_equal">[^<]*less than'
    assert re.search(less + " or equal to 1", preview.text)
    response = analyst.post("/cases/default", data={**form, "action": "save"}, headers=HTML)
    assert response.status_code == 400
    assert re.search(r'id="err-f-costs-0-amount"[^>]*><span[^>]*>[^<]*number', response.text)
    assert "Nothing was saved" in response.text
    assert default_text(app) == text
    ranged = edited(text, {"costs.3.amount~low": "90000"})  # low above likely
    bad = analyst.post("/cases/default", data={**ranged, "action": "save"}, headers=HTML)
    assert bad.status_code == 400
    order = r'id="err-f-costs-3-amount"[^>]*><span data-code="case_value_error">[^<]*low &lt;= '
    assert re.search(order + "likely", bad.text)
    assert default_text(app) == text
    assert [a for _, a, _ in audit(app)] == ["case.create"]  # only the seed


def test_raw_yaml_errors_give_line_numbers(app: FastAPI, analyst: TestClient) -> None:
    text = default_text(app)
    broken = text.replace("discount_rate: 0.10", "discount_rate: [0.1")
    response = analyst.post(
        "/cases/default/yaml", data={"yaml": broken, "action": "save"}, headers=HTML
    )
    assert response.status_code == 400
    assert re.search(r"default\.yaml line \d+: not valid YAML", response.text)
    wrong = text.replace("horizon_months: 36", "horizon_months: 999")
    line = wrong.splitlines().index(next(x for x in wrong.splitlines() if "999" in x)) + 1
    response = analyst.post("/cases/default/yaml", data={"yaml": wrong}, headers=HTML)
    assert response.status_code == 400
    assert f"default.yaml line {line}: horizon_months" in response.text
    preview = analyst.post("/cases/default/yaml/preview", data={"yaml": wrong}, headers=HTML)
    assert f"line {line}: horizon_months" in preview.text
    assert default_text(app) == text
    commented = text.replace("users: 40", "users: 41   # two more seats")
    ok = analyst.post("/cases/default/yaml", data={"yaml": commented, "action": "save"})
    assert ok.status_code == 303
    assert default_text(app) == commented  # saved exactly as typed, comments included


def test_save_as_delete_and_activate_are_audited_with_the_user(
    app: FastAPI, analyst: TestClient
) -> None:
    text = default_text(app)
    form = edited(text, {"users": "50"})
    response = analyst.post(
        "/cases/default", data={**form, "action": "save_as", "save_as": "bigger team"}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/cases/" + quote("bigger team", safe=""))
    assert default_text(app) == text
    assert analyst.post("/cases/default", data={**form, "action": "save"}).status_code == 303
    assert analyst.post("/cases/bigger%20team/activate").status_code == 303
    assert analyst.get("/api/v1/cases").json()[0] == {
        **analyst.get("/api/v1/cases").json()[0],
        "name": "bigger team",
        "active": True,
    }
    assert analyst.post("/cases/default/delete").status_code == 303
    assert [c["name"] for c in analyst.get("/api/v1/cases").json()] == ["bigger team"]
    events = audit(app)
    assert [(u, a) for u, a, _ in events] == [
        ("crmroi", "case.create"),
        ("analyst", "case.create"),
        ("analyst", "case.update"),
        ("analyst", "case.activate"),
        ("analyst", "case.delete"),
    ]
    assert "bigger team" in events[1][2] and "default" in events[4][2]


def test_viewers_cannot_edit(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    text = default_text(app)
    form = edited(text, {"users": "50"})
    for path, data in [
        ("/cases/default", {**form, "action": "save"}),
        ("/cases/default/preview", form),
        ("/cases/default/form", form),
        ("/cases/default/yaml", {"yaml": text}),
        ("/cases/default/delete", {}),
        ("/cases/default/activate", {}),
        ("/cases", {"name": "mine"}),
    ]:
        assert viewer.post(path, data=data, headers=HTML).status_code == 403, path
    assert viewer.put("/api/v1/cases/x", content=text).status_code == 403
    assert viewer.delete("/api/v1/cases/default").status_code == 403
    assert default_text(app) == text


def test_structural_edits_add_and_remove_rows(app: FastAPI, analyst: TestClient) -> None:
    form = edited(default_text(app), {})
    added = analyst.post("/cases/default/form", data={**form, "action": "add:costs"}, headers=HTML)
    assert added.status_code == 200
    n_costs = len(case_from_text(default_text(app)).costs)  # type: ignore[arg-type]
    assert f'name="costs.{n_costs}.category"' in added.text
    removed = analyst.post(
        "/cases/default/form", data={**form, "action": "remove:benefits.0"}, headers=HTML
    )
    assert "more deals won" not in removed.text
    kind = analyst.post(
        "/cases/default/form", data={**form, "benefits.0.kind": "cac"}, headers=HTML
    )
    assert 'name="benefits.0.new_customers_per_month~likely"' in kind.text


def test_compare_shows_both_scenarios(app: FastAPI, analyst: TestClient) -> None:
    text = default_text(app)
    cheaper = text.replace("amount: 85 ", "amount: 40 ")
    assert analyst.put("/api/v1/cases/cheap licences", content=cheaper).status_code == 200
    page = analyst.get(
        "/cases/compare", params=[("names", "default"), ("names", "cheap licences")], headers=HTML
    )
    assert page.status_code == 200
    assert "default" in page.text and "cheap licences" in page.text
    rois = re.findall(r'data-roi="([^"]+)"', page.text)
    assert len(rois) == 8  # two scenarios x four views
    spec = re.search(r'data-chart="chart-compare">(.*?)</script>', page.text, re.S)
    assert spec and '"series": "cheap licences"' in spec.group(1)


def test_yaml_download_round_trips_byte_exact(app: FastAPI, analyst: TestClient) -> None:
    text = "# ünïcode comment\n" + default_text(app).replace("users: 40", "users: 40  # seats")
    name = "Сценарий 中文 <script>"
    assert (
        analyst.put("/api/v1/cases/" + quote(name, safe=""), content=text.encode()).status_code
        == 200
    )
    response = analyst.get("/cases/" + quote(name, safe="") + "/case.yaml")
    assert response.status_code == 200
    assert response.content == text.encode("utf-8")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''" + quote(name + ".yaml", safe="") in disposition
    disposition.encode("latin-1")  # headers stay ASCII


def test_content_disposition_is_safe() -> None:
    header = content_disposition('a"b\r\nc/..\\d', ".pdf")
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="a_b_c_d.pdf"')
    assert content_disposition("中文", ".xlsx").startswith('attachment; filename="case.xlsx"')


def test_a_script_name_is_escaped(app: FastAPI, analyst: TestClient) -> None:
    name = "<script>alert(1)"  # slashes are not allowed in names
    text = default_text(app).replace(
        "name: CRM roll-out", "name: <script>alert(2)</script> CRM roll-out", 1
    )
    response = analyst.put("/api/v1/cases/" + quote(name, safe=""), content=text)
    assert response.status_code == 200, response.text
    for path in ("/cases", "/cases/" + quote(name, safe=""), "/cases/compare?names=" + quote(name)):
        page = analyst.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text, path
        assert "&lt;script&gt;alert(" in page.text, path


def test_api_put_evaluate_and_delete(app: FastAPI, analyst: TestClient) -> None:
    text = default_text(app)
    invalid = analyst.put("/api/v1/cases/x", content="name: x\nhorizon_months: 0\n")
    assert invalid.status_code == 422 and "line 2" in invalid.json()["detail"]
    assert analyst.put("/api/v1/cases/x", content=b"\xff\xfe").status_code in (400, 422)
    assert analyst.put("/api/v1/cases/x", json=[1, 2]).status_code == 400
    assert analyst.put("/api/v1/cases/%00", content=text).status_code == 400
    created = analyst.put("/api/v1/cases/from json", json={"yaml": text})
    assert created.status_code == 200 and created.json()["yaml"] == text
    as_object = analyst.put(
        "/api/v1/cases/object", json={"name": "JSON case", "costs": [], "benefits": []}
    )
    assert as_object.status_code == 200
    assert as_object.json()["outline"]["title"] == "JSON case"
    what_if = text.replace("users: 40", "users: 80")
    evaluated = analyst.post("/api/v1/cases/default/evaluate", content=what_if)
    assert evaluated.status_code == 200
    expected = evaluate_case(case_from_text(what_if), None, runs=RUNS, seed=0)
    figures = {(f["months"], f["risk_adjusted"]): f for f in evaluated.json()["figures"]}
    assert figures[(36, True)]["roi"] == expected.summary_risk.roi
    assert default_text(app) == text  # evaluating saves nothing
    saved = analyst.post("/api/v1/cases/default/evaluate").json()
    assert saved["p_roi_positive"] is not None
    assert analyst.post("/api/v1/cases/default/evaluate", content="name: [").status_code == 422
    assert analyst.delete("/api/v1/cases/object").status_code == 204
    assert analyst.delete("/api/v1/cases/object").status_code == 404
    assert analyst.get("/api/v1/cases/nothing-here").status_code == 404


def test_a_measured_change_is_read_from_the_workspace(app: FastAPI, analyst: TestClient) -> None:
    from crmroi.casework.evaluate import model_for

    text = default_text(app)
    form = edited(text, {"benefits.0.change~low": "", "benefits.0.change~high": ""})
    form["benefits.0.change~likely"] = "measured"
    preview = analyst.post("/cases/default/preview", data=form, headers=HTML)
    assert preview.status_code == 200
    saved = analyst.post("/cases/default", data={**form, "action": "save"})
    assert saved.status_code == 303
    new_text = default_text(app)
    assert "change: measured" in new_text
    case = case_from_text(new_text)
    with app.state.crmroi.access.store() as store:
        model = model_for(case, store, bootstrap=0)
        expected = evaluate_case(case, store, runs=RUNS, seed=0, model=model)
    assert data_roi(preview.text) == expected.summary_risk.roi


def test_odd_form_fields_never_give_a_server_error(app: FastAPI, analyst: TestClient) -> None:
    form = edited(default_text(app), {})
    odd = {
        "benefits.0.kind.x": "1",
        "costs.0": "x",
        "costs.99999999.amount~likely": "1",
        "name.sub": "x",
        "risk": "high",
        "adoption.by_month": "[0.5, {a: 1}",
        "costs.1.amount~low": "1e400",
        "..": "",
        "do_nothing.٣.name": "x",
    }
    for path in ("/cases/default/preview", "/cases/default/form", "/cases/default"):
        for key, value in odd.items():
            response = analyst.post(path, data={**form, key: value}, headers=HTML)
            assert response.status_code in (200, 303, 400), (path, key, response.status_code)


def test_case_page_and_api_show_checks_roi_ways_and_tco(app: FastAPI) -> None:
    """The evaluated case's practitioners' checks, ROI five ways and TCO roll-up, as the
    engine gives them, on the page and in /api/v1/cases/NAME."""
    viewer = login(app, "viewer")
    expected = evaluate_case(case_from_text(default_text(app)), None, runs=RUNS, seed=0)
    results = viewer.get("/api/v1/cases/default").json()["results"]
    assert {(c["rule"], c["passed"]) for c in results["checks"]} == {
        (c.rule, c.passed) for c in expected.checks
    }
    ways = {w["kind"]: w for w in results["roi_ways"]}
    assert set(ways) == {w.kind for w in expected.roi_ways[36][True]}
    net = next(w for w in expected.roi_ways[36][True] if w.kind == "net_roi")
    assert ways["net_roi"]["values"][3] == pytest.approx(net.value)  # 36 months, risk adj.
    assert ways["net_roi"]["values"][3] == pytest.approx(expected.summary_risk.roi)
    assert [w["kind"] for w in results["roi_ways"] if w["headline"]] == [expected.case.headline_roi]
    assert expected.tco is not None
    total = next(r for r in results["tco"] if r["group"] == "total")
    assert total["horizon"] == pytest.approx(expected.tco.total)
    assert total["first_year"] == pytest.approx(expected.tco.total_12)
    page = viewer.get("/cases/default", headers=HTML).text
    assert 'id="roi-ways"' in page and 'id="checks"' in page and 'id="tco"' in page
    assert 'data-way="benefit_cost_ratio"' in page and 'data-group="total"' in page
    ru = viewer.get("/cases/default", headers={**HTML, "accept-language": "ru"}).text
    assert 'lang="ru"' in ru  # the viewer has no saved language: Accept-Language decides
    assert "Проверка по правилам практиков" in ru and "Чистый ROI" in ru


def test_a_measured_adoption_ramp_is_read_and_said(app: FastAPI, analyst: TestClient) -> None:
    from crmroi.casework.evaluate import model_for

    text = default_text(app)
    ramp = "adoption: {start: 0.2, end: 1.0, months: 17}"
    assert ramp in text
    measured = text.replace(ramp, "adoption: {start: 0.2, end: 1.0, months: 17, measured: true}")
    answer = analyst.post("/api/v1/cases/default/evaluate", content=measured)
    assert answer.status_code == 200, answer.text
    case = case_from_text(measured)
    with app.state.crmroi.access.store() as store:
        model = model_for(case, store, bootstrap=0)
    expected = evaluate_case(case, None, runs=RUNS, seed=0, model=model)
    body = answer.json()
    assert body["notes"] == model.notes
    assert body["notes"][0].startswith("adoption: measured in case months 4-")
    figures = {(f["months"], f["risk_adjusted"]): f for f in body["figures"]}
    assert figures[(36, True)]["roi"] == expected.summary_risk.roi
    plain = evaluate_case(case_from_text(text), None, runs=RUNS, seed=0)
    assert figures[(36, True)]["roi"] != plain.summary_risk.roi  # the measure was used
    assert analyst.put("/api/v1/cases/measured", content=measured).status_code == 200
    page = analyst.get("/cases/measured", headers=HTML)
    assert page.status_code == 200
    assert 'id="case-notes"' in page.text and "adoption: measured in case months 4-" in page.text


def test_a_measured_case_says_how_wide_its_npv_is(small_demo_folder: Path, tmp_path: Path) -> None:
    """With intervals behind the measured changes (bootstrap > 0), the case page, the
    evaluate API and /api/v1/roi carry the NPV's range on the measurement alone, as
    `evaluate_case` gives it; a case with nothing measured has none."""
    from crmroi.casework.evaluate import model_for
    from crmroi.store import Store

    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    text = (folder / "case.yaml").read_text(encoding="utf-8")
    measured = text.replace("change: {low: 0.0, likely: 0.015, high: 0.04}", "change: measured")
    assert measured != text
    app = make_app(str(folder), simulation_runs=RUNS, bootstrap=60)
    try:
        analyst = login(app, "analyst")
        assert analyst.put("/api/v1/cases/measured", content=measured).status_code == 200
        case = case_from_text(measured)
        with Store.open(folder) as store:
            model = model_for(case, store, bootstrap=60)
        expected = evaluate_case(case, None, runs=RUNS, seed=0, model=model).measured_range
        assert expected is not None and expected.inputs == ("more deals won.change",)
        body = analyst.post("/api/v1/cases/measured/evaluate").json()
        assert body["measured_range"]["npv"] == pytest.approx(list(expected.npv))
        roi = analyst.get("/api/v1/roi", params={"case": "measured"}).json()
        risk_adjusted = list(expected.npv_risk_adjusted)
        assert roi["measured_range"]["npv_risk_adjusted"] == pytest.approx(risk_adjusted)
        assert roi["measured_range"] == {**body["measured_range"], "inputs": list(expected.inputs)}
        page = analyst.get("/cases/measured", headers=HTML).text
        low = f"{expected.npv[0]:,.0f}"
        assert re.search(r'<p id="measured-range">On the measurement alone \(the 1 measured', page)
        assert low in page.split('id="measured-range"')[1].split("</p>")[0]
        default = analyst.post("/api/v1/cases/default/evaluate").json()
        assert default["measured_range"] is None  # nothing measured: ranges are the case's own
        # the dashboard shows it beside the active case's figures
        assert 'data-metric="measured-' not in analyst.get("/dashboard", headers=HTML).text
        assert analyst.post("/api/v1/cases/measured/activate").status_code == 200
        dashboard = analyst.get("/dashboard", headers=HTML).text
        cell = dashboard.split('data-metric="measured-36-p">')[1].split("</td>")[0]
        assert cell == f"{expected.npv[0]:,.0f} USD – {expected.npv[1]:,.0f} USD"
        assert 'data-metric="measured-12-r">–</td>' in dashboard
    finally:
        app.state.crmroi.access.close()
