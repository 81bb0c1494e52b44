"""The dashboard and its /api/v1 routes show what the core computes, filtered honestly."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from crmroi.casework.evaluate import evaluate_case, model_for
from crmroi.finance.simulation import simulate
from crmroi.kpi import compute_kpi_report, kpi_panel
from crmroi.store import Store
from crmroi.web.case_library import CaseLibrary
from crmroi.web.dashboard_data import roi_probabilities
from crmroi.web.dashboard_view import Fmt
from tests.conftest import copy_workspace
from tests.web_support import client, login, make_app

RUNS, BOOTSTRAP = 200, 20
SCRIPT = "<script>alert(1)</script>"
HTML = {"accept": "text/html"}
HTMX = {"accept": "text/html", "hx-request": "true"}
POINT_FIELDS = ("baseline", "after", "change_abs", "change_rel")


@pytest.fixture(scope="module")
def app(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app over a copy of the small demo whose credit-hold accounts are named `SCRIPT`."""
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("dash") / "ws")
    with Store.open(folder) as store, store.transaction() as tx:
        tx.execute("UPDATE accounts SET name = ? WHERE lower(credit_status) = 'hold'", (SCRIPT,))
    application = make_app(str(folder), simulation_runs=RUNS, bootstrap=BOOTSTRAP)
    yield application
    application.state.crmroi.access.close()


@pytest.fixture(scope="module")
def viewer(app: FastAPI) -> Any:
    return login(app, "viewer")


def store_of(app: FastAPI) -> Any:
    """The app's own workspace connection (DuckDB allows one per file)."""
    return app.state.crmroi.access.store()


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_dashboard_summary_equals_the_business_case_engine(app: FastAPI, viewer: Any) -> None:
    page = viewer.get("/dashboard", headers=HTML)
    assert page.status_code == 200, page.text
    assert "<html" in page.text and 'id="dashboard-filters"' in page.text
    saved, case = CaseLibrary(app.state.crmroi.access).active()  # type: ignore[misc]
    with store_of(app) as store:
        model = model_for(case, store, bootstrap=BOOTSTRAP, seed=0)
        result = evaluate_case(case, store, model=model)
    fmt = Fmt()
    cells = dict(re.findall(r'data-metric="([^"]+)">([^<]*)<', page.text))
    assert cells["roi-36-p"] == fmt.pct(result.summary.roi)
    assert cells["roi-36-r"] == fmt.pct(result.summary_risk.roi)
    assert cells["npv-12-p"] == fmt.money(result.short.npv, case.currency)
    roi = viewer.get("/api/v1/roi").json()
    by_key = {(f["horizon_months"], f["risk_adjusted"]): f for f in roi["figures"]}
    for summary, risk in ((result.summary, False), (result.summary_risk, True)):
        got = by_key[(36, risk)]
        assert close(got["npv"], summary.npv) and close(got["roi"], summary.roi)
        assert close(got["irr"], summary.irr)
        assert close(got["payback_months"], summary.payback_months)
    assert by_key[(12, False)]["payback_months"] is None  # NaN: no payback in a year
    assert close(by_key[(12, True)]["npv"], result.short_risk.npv)
    # P(ROI > 0): the simulation's own figure at the horizon, and both horizons shown
    probabilities = {(p["horizon_months"], p["risk_adjusted"]): p for p in roi["probabilities"]}
    assert set(probabilities) == {(12, False), (12, True), (36, False), (36, True)}
    expected = simulate(model, RUNS, 0, with_tornado=False).p_roi_positive
    assert probabilities[(36, False)]["p_roi_positive"] == expected
    assert cells["p-36-p"] == fmt.pct(expected)
    assert (
        probabilities[(12, True)]["p_roi_positive"] <= probabilities[(12, False)]["p_roi_positive"]
    )
    mine = roi_probabilities(model, 300, 3, (12, case.horizon_months))
    assert mine[(case.horizon_months, False)] == simulate(model, 300, 3).p_roi_positive
    assert roi["simulation_runs"] == RUNS and roi["case"] == saved.name
    assert 'data-chart="chart-cashflow"' in page.text


def test_dashboard_shows_plan_versus_actual(app: FastAPI, viewer: Any) -> None:
    from crmroi.casework.actuals import plan_vs_actual

    page = viewer.get("/dashboard", headers=HTML)
    assert page.status_code == 200, page.text
    _, case = CaseLibrary(app.state.crmroi.access).active()  # type: ignore[misc]
    with store_of(app) as store:
        pva = plan_vs_actual(case, store, bootstrap=BOOTSTRAP, seed=0)
    fmt = Fmt()
    cells = dict(re.findall(r'data-metric="([^"]+)">([^<]*)<', page.text))
    for i, line in enumerate(pva.lines):
        assert cells[f"variance-{i}"] == fmt.money(line.variance, case.currency)
    assert pva.plan is not None

    def shown(months: float) -> str:
        return "never" if months != months else fmt.fixed(months, 1)

    expected = (
        f"payback (months): {shown(pva.reforecast.payback_months)} "
        f"(plan: {shown(pva.plan.payback_months)})"
    )
    assert expected in page.text
    assert "Human-capital ROI (ratio)" in page.text  # the report's label
    assert pva.adoption is not None
    seen = [(m, a) for m, _, a in pva.adoption.months if a is not None]
    assert seen
    for m, a in seen[-6:]:
        assert cells[f"adoption-{m}"] == fmt.pct(a)
    assert "With the measured adoption, payback (months):" in page.text
    # the demo has a login export: the paragraph names that basis (crmroi.kpi.logins)
    assert (pva.adoption_measure or {}).get("basis") == "licensed_users"
    assert "from the user-activity export: users logging in" in page.text
    assert 'data-chart="chart-adoption"' in page.text
    assert 'data-chart="chart-adoption-weeks"' in page.text
    assert ('data-metric="adoption-lag"' in page.text) == (pva.adoption.warning() is not None)
    # weekly adoption: the last six weeks, share and records per rep-day as measured
    assert pva.usage is not None
    weeks = pva.usage.to_json()["weeks"][-6:]
    assert weeks
    for w in weeks:
        year, number, _ = dt.date.fromisoformat(w["week"]).isocalendar()
        label = f"{year}-W{number:02d}"
        assert cells[f"week-share-{label}"] == fmt.pct(w["share"])
        assert cells[f"week-records-{label}"] == fmt.fixed(w["records_per_rep_day"], 1)
    assert "the export carries no scheduled activities" in cells["next-activity"]
    # the share of licensed users active by week, from the login export
    licensed = pva.usage.to_json()["licensed_users"]["weeks"][-6:]
    assert licensed
    for w in licensed:
        year, number, _ = dt.date.fromisoformat(w["week"]).isocalendar()
        assert cells[f"licensed-share-{year}-W{number:02d}"] == fmt.pct(w["share"])
    # the same in /api/v1/actuals, strict JSON (a payback that never comes is null)
    body = viewer.get("/api/v1/actuals").json()
    assert body["available"] and body["months_to_date"] == pva.months_to_date
    assert [x["variance"] for x in body["lines"]] == pytest.approx([x.variance for x in pva.lines])
    assert body["adoption"]["payback_measured"] == pytest.approx(pva.adoption.payback_measured)
    assert body["adoption"]["warning"] == pva.adoption.warning()
    assert body["warnings"] == [x.to_json() for x in pva.extrapolated]
    assert ('data-metric="extrapolated-0"' in page.text) == bool(pva.extrapolated)
    assert [w["share"] for w in body["usage"]["weeks"][-6:]] == [w["share"] for w in weeks]
    assert body["usage"]["next_activity"]["share"] is None
    assert viewer.get("/api/v1/actuals?case=missing").status_code == 404


def _kpis(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["name"]: k for k in payload["kpis"]}


def test_team_filter_gives_the_engines_figures_for_that_team(app: FastAPI, viewer: Any) -> None:
    names = ["sales_volume", "win_rate", "calls_outbound"]
    with store_of(app) as store:
        direct = compute_kpi_report(store, by="team", bootstrap=0, kpis=names)
    expected = {k.name: k for k in direct.kpis if k.group == "APAC"}
    api = viewer.get("/api/v1/kpis", params={"team": "APAC"})
    assert api.status_code == 200, api.text
    got = _kpis(api.json())
    for name in names:
        for field in POINT_FIELDS:
            assert close(got[name][field], getattr(expected[name], field)), (name, field)
        assert got[name]["group"] == "APAC"
    assert not got["cac"]["available"]  # spend has no team: said, not zeroed
    company = _kpis(viewer.get("/api/v1/kpis").json())
    assert company["sales_volume"]["after"] != got["sales_volume"]["after"]
    # the htmx swap: only the panels, with the team's figures
    partial = viewer.get("/dashboard", params={"team": "APAC"}, headers=HTMX)
    assert partial.status_code == 200 and "<html" not in partial.text
    row = re.search(r'data-kpi="sales_volume">.*?data-field="after">([^<]*)<', partial.text, re.S)
    assert row and row.group(1) == Fmt().kpi(expected["sales_volume"].after, "USD")
    assert "team APAC" in partial.text
    assert "do not apply to lead sources" in partial.text  # filters that do not apply say so


def test_segment_and_period_filters(app: FastAPI, viewer: Any) -> None:
    names = ["won_deals", "win_rate"]
    with store_of(app) as store:
        direct = compute_kpi_report(
            store, by="segment", baseline_months=6, after_months=6, bootstrap=0, kpis=names
        )
    expected = {k.name: k for k in direct.kpis if k.group == "SMB"}
    payload = viewer.get("/api/v1/kpis", params={"segment": "SMB", "months": 6}).json()
    got = _kpis(payload)
    assert payload["filters"]["months"] == 6
    assert payload["after"]["start"] == direct.after[0].isoformat()
    for name in names:
        for field in POINT_FIELDS:
            assert close(got[name][field], getattr(expected[name], field)), (name, field)
    region = viewer.get("/api/v1/kpis", params={"region": "EMEA", "months": 6}).json()
    assert any("Region does not narrow" in n for n in region["notes"])


def test_drill_down_returns_the_monthly_series(app: FastAPI, viewer: Any) -> None:
    part = viewer.get("/dashboard/kpi/win_rate", params={"team": "APAC"}, headers=HTMX)
    assert part.status_code == 200 and "<html" not in part.text
    assert 'data-chart="chart-series-win_rate"' in part.text
    page = viewer.get("/dashboard/kpi/win_rate", headers=HTML)
    assert page.status_code == 200 and "<html" in page.text
    with store_of(app) as store:
        panel = kpi_panel(store, ["win_rate"], unit="team")
    apac = panel[panel["unit"] == "APAC"]
    series = viewer.get("/api/v1/kpis/win_rate/series", params={"team": "APAC"}).json()
    points = [p for p in series["points"] if p["unit"] == "APAC"]
    assert len(points) == len(apac) > 0
    for p, (_, row) in zip(points, apac.iterrows(), strict=True):
        assert p["month"] == row["month"].date().isoformat()
        assert close(p["value"], float(row["value"]))
    pooled = viewer.get("/api/v1/kpis/win_rate/series").json()
    assert {p["unit"] for p in pooled["points"]} >= {"APAC", "total"}


def test_sources_and_followups_match_the_core(app: FastAPI, viewer: Any) -> None:
    with store_of(app) as store:
        direct = compute_kpi_report(store, by="source", bootstrap=0, kpis=["leads"])
    leads = {k.group: k.after for k in direct.kpis if k.available}
    payload = viewer.get("/api/v1/sources").json()
    got = {
        s["source"]: k["after"]
        for s in payload["sources"]
        for k in s["kpis"]
        if k["name"] == "leads"
    }
    assert got.keys() == leads.keys()
    assert all(close(got[s], leads[s]) for s in leads)
    from crmroi.improve.followups import followups
    from crmroi.improve.frames import data_date, load_frames

    with store_of(app) as store:
        frames = load_frames(store, ["reps", "accounts", "leads", "deals", "activities", "orders"])
    day = data_date(frames)
    core = followups(frames, day, 14)
    # overdue tasks: the demo's open deals all had activity in the last two weeks, so it
    # has no stale deal (the rows once listed were all-null artefacts of a pandas assign)
    api = viewer.get("/api/v1/followups", params={"kind": "overdue_task", "limit": 5}).json()
    assert api["as_of"] == day.date().isoformat()
    assert api["total"] == int((core["kind"] == "overdue_task").sum()) > 0
    assert len(api["items"]) == 5
    team = viewer.get("/api/v1/followups", params={"team": "APAC"}).json()
    assert 0 < team["total"] < viewer.get("/api/v1/followups").json()["total"]
    assert all(i["team"] == "APAC" for i in team["items"])


def test_account_names_are_escaped_on_the_dashboard_lists(viewer: Any) -> None:
    page = viewer.get("/dashboard", headers=HTML).text
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(" in page
    held = viewer.get("/api/v1/followups", params={"kind": "credit_hold"}).json()
    assert held["items"] and held["items"][0]["account_name"] == SCRIPT


def test_viewer_reads_everything_and_bad_values_are_4xx(viewer: Any) -> None:
    for url in (
        "/api/v1/summary",
        "/api/v1/kpis?by=rep&team=APAC",
        "/api/v1/kpis?kpi=win_rate&kpi=csat",
        "/api/v1/roi?case=default",
        "/api/v1/sources?months=6",
        "/api/v1/followups?region=EMEA&segment=SMB",
        "/api/v1/kpis/retention_rate/series",
    ):
        assert viewer.get(url).status_code == 200, url
    summary = viewer.get("/api/v1/summary").json()
    assert summary["has_data"] and summary["case"] == "default" and summary["followups"] > 0
    for url, status in (
        ("/api/v1/kpis?team=nobody", 400),
        ("/api/v1/kpis?months=0", 422),
        ("/api/v1/kpis?by=planet", 422),
        ("/api/v1/kpis?kpi=nope", 404),
        ("/api/v1/kpis/nope/series", 404),
        ("/api/v1/roi?case=missing", 404),
        ("/api/v1/followups?stale_days=-1", 422),
        ("/dashboard?segment=nobody", 400),
    ):
        response = viewer.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.json()["detail"]
    schema = viewer.get("/api/v1/openapi.json").json()
    kpi_schema = schema["components"]["schemas"]["KpiOut"]["properties"]
    assert "ci_low" in kpi_schema and "/api/v1/kpis/{name}/series" in schema["paths"]


# Every route that reads team, region and segment, and every one that reads the period.
GROUP_ROUTES = (
    "/api/v1/kpis",
    "/api/v1/kpis/win_rate/series",
    "/api/v1/followups",
    "/dashboard",
    "/dashboard/kpi/win_rate",
)
PERIOD_ROUTES = (*(r for r in GROUP_ROUTES if r != "/api/v1/followups"), "/api/v1/sources")


@pytest.mark.parametrize(
    ("field", "value", "known"),
    [("team", "nobody", "APAC"), ("region", "Atlantis", "EMEA"), ("segment", "Galaxy", "SMB")],
)
def test_an_unknown_filter_value_is_the_same_400_on_every_route(
    viewer: Any, field: str, value: str, known: str
) -> None:
    details = set()
    for route in GROUP_ROUTES:
        response = viewer.get(route, params={field: value})
        assert response.status_code == 400, (route, response.text)
        details.add(response.json()["detail"])
    [detail] = details
    assert detail.startswith(f"{field}: no {field} {value!r} in the workspace (")
    assert known in detail  # the values there are, to pick from
    for route in ("/dashboard", "/dashboard/kpi/win_rate"):  # browsers get the error page
        page = viewer.get(route, params={field: value}, headers=HTML)
        assert page.status_code == 400 and f"{field}: no {field} " in page.text


@pytest.mark.parametrize(
    ("field", "value", "routes", "kind"),
    [
        ("team", "x" * 201, GROUP_ROUTES, "string_too_long"),
        ("segment", "x" * 201, GROUP_ROUTES, "string_too_long"),
        ("months", "0", PERIOD_ROUTES, "greater_than_equal"),
        ("months", "37", PERIOD_ROUTES, "less_than_equal"),
        ("months", "twelve", PERIOD_ROUTES, "int_parsing"),
    ],
)
def test_an_invalid_filter_value_is_the_same_422_on_every_route(
    viewer: Any, field: str, value: str, routes: tuple[str, ...], kind: str
) -> None:
    errors = []
    for route in routes:
        response = viewer.get(route, params={field: value})
        assert response.status_code == 422, (route, response.text)
        errors.append(response.json()["detail"])
    assert all(e == errors[0] for e in errors), errors
    [error] = errors[0]
    assert error["loc"] == ["query", field] and error["type"] == kind and error["msg"]


def test_filters_are_checked_only_after_the_login(app: FastAPI) -> None:
    """An anonymous request learns nothing of the workspace's teams from a refusal."""
    anonymous = client(app)
    for route in GROUP_ROUTES:
        response = anonymous.get(route, params={"team": "nobody"})
        assert response.status_code == 401, (route, response.text)
        assert "APAC" not in response.text


def test_filter_parameters_stay_documented(viewer: Any) -> None:
    paths = viewer.get("/api/v1/openapi.json").json()["paths"]
    for route, names in (
        ("/api/v1/kpis", {"team", "region", "segment", "months", "by", "kpi"}),
        ("/api/v1/kpis/{name}/series", {"name", "team", "region", "segment", "months"}),
        ("/api/v1/followups", {"team", "region", "segment", "kind", "stale_days", "limit"}),
        ("/api/v1/sources", {"months"}),
    ):
        parameters = paths[route]["get"]["parameters"]
        assert {p["name"] for p in parameters} == names, route
        described = [p for p in parameters if p["name"] in ("team", "region", "segment", "months")]
        assert described and all(p.get("description") for p in described), route
    months = next(p for p in paths["/api/v1/kpis"]["get"]["parameters"] if p["name"] == "months")
    assert months["schema"] == {
        "type": "integer",
        "maximum": 36,
        "minimum": 1,
        "default": 12,
        "title": "Months",
        "description": "Baseline and after window length, months.",
    }


def test_empty_workspace_shows_the_empty_state(tmp_path: Path) -> None:
    app = make_app(str(tmp_path / "empty"), simulation_runs=RUNS, bootstrap=BOOTSTRAP)
    try:
        c = login(app, "viewer")
        page = c.get("/dashboard", headers=HTML)
        assert page.status_code == 200
        assert 'id="empty-data"' in page.text and 'href="/imports"' in page.text
        assert 'id="empty-case"' in page.text and 'href="/cases"' in page.text
        assert c.get("/api/v1/summary").json()["has_data"] is False
        assert c.get("/api/v1/roi").status_code == 404
        assert c.get("/api/v1/followups").json()["total"] == 0
    finally:
        app.state.crmroi.access.close()
