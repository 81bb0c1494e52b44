"""The dashboard's Improve area and /api/v1/scores, /segments, /clv show the report's
improvement sections; the cache warm-up computes the default dashboard in the background."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crmroi.improve.frames import load_frames
from crmroi.reports.i18n import get_lang
from crmroi.reports.improve import FRAMES, TOP, improvements
from crmroi.reports.model import Improvements
from crmroi.web import dashboard_data as data
from crmroi.web.dashboard_filters import Filters
from crmroi.web.dashboard_view import Fmt, panels_key
from crmroi.web.state import ResultCache
from tests.conftest import copy_workspace
from tests.web_support import client, login, make_app

RUNS, BOOTSTRAP = 200, 20
HTMX = {"accept": "text/html", "hx-request": "true"}
SECTIONS = ("scoring", "segments", "clv", "forecast")


class Missing(Exception):
    pass


def cached(cache: ResultCache, key: Hashable) -> bool:
    """Whether `cache` holds `key` (without computing anything)."""

    def missing() -> Any:
        raise Missing

    try:
        cache.get_or_compute(key, missing)
    except Missing:
        return False
    return True


def wait_for(condition: Callable[[], bool], timeout: float = 300.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def app(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("improve") / "ws")
    application = make_app(str(folder), simulation_runs=RUNS, bootstrap=BOOTSTRAP)
    yield application
    application.state.crmroi.access.close()


@pytest.fixture(scope="module")
def viewer(app: FastAPI) -> Any:
    return login(app, "viewer")


@pytest.fixture(scope="module")
def report(app: FastAPI) -> Improvements:
    """The report's improvement sections on the same workspace (the public builder)."""
    with app.state.crmroi.access.store() as store:
        frames = load_frames(store, FRAMES)
    return improvements(frames, get_lang("en"))


def test_the_dashboard_loads_the_improve_area_lazily(app: FastAPI, viewer: Any) -> None:
    page = viewer.get("/dashboard", headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    for name in SECTIONS:
        assert f'hx-get="/dashboard/improve/{name}" hx-trigger="revealed"' in page.text
    version = app.state.crmroi.access.data_version()
    # The page itself fitted no model: the sections are computed when revealed.
    for name in SECTIONS:
        assert not cached(app.state.crmroi.cache, ("improve", version, name))


def test_scores_equal_the_report(viewer: Any, report: Improvements) -> None:
    body = viewer.get("/api/v1/scores").json()
    assert body["available"] and body["as_of"] == report.as_of.isoformat()
    assert body["reasons"] == report.scoring_reasons
    assert [s["kind"] for s in body["scoring"]] == [s.kind for s in report.scoring]
    for got, want in zip(body["scoring"], report.scoring, strict=True):
        assert got["train_until"] == want.train_until.isoformat()
        assert got["open_records"] == want.open_records
        models = {e["model"]: e for e in got["evaluations"]}
        assert set(models) == {"logistic", "naive_bayes"}
        for e in want.evaluations:
            assert close(models[e.model]["auc"], e.auc)
            assert close(models[e.model]["lift_top_decile"], e.lift_top_decile)
            assert close(models[e.model]["log_loss"], e.log_loss)
        assert len(got["top"]) == min(TOP, want.open_records)
        assert [r["id"] for r in got["top"]] == [r.id for r in want.top]
        for r, w in zip(got["top"], want.top, strict=True):
            assert close(r["logistic"], w.logistic) and close(r["naive_bayes"], w.naive_bayes)
            assert r["reasons"] == w.reasons
        probabilities = [r["logistic"] for r in got["top"]]
        assert probabilities == sorted(probabilities, reverse=True)


def test_scores_partial_shows_both_models_and_the_top_records(
    viewer: Any, report: Improvements
) -> None:
    page = viewer.get("/dashboard/improve/scoring", headers=HTMX)
    assert page.status_code == 200, page.text
    assert "<html" not in page.text and 'data-section="scoring"' in page.text
    for section in report.scoring:
        for e in section.evaluations:
            assert f'data-field="auc">{e.auc:.3f}<' in page.text
            assert f'data-field="lift">{e.lift_top_decile:.2f}×<' in page.text
        for r in section.top:
            assert f'data-id="{r.id}"' in page.text
            assert Fmt().pct(r.logistic) in page.text
    # Without htmx the section is a page of its own.
    whole = viewer.get("/dashboard/improve/scoring", headers={"accept": "text/html"})
    assert whole.status_code == 200 and "<html" in whole.text


def test_segments_equal_the_report(viewer: Any, report: Improvements) -> None:
    body = viewer.get("/api/v1/segments").json()
    assert report.segments, report.segments_reason
    assert body["available"] and body["reason"] is None and body["total"] == len(report.segments)
    for got, want in zip(body["segments"], report.segments, strict=True):
        assert (got["dimension"], got["value"], got["accounts"]) == (
            want.dimension,
            want.value,
            want.accounts,
        )
        for name in ("win_rate", "revenue_per_account", "churn_rate"):
            triple = getattr(want, name)
            assert close(got[name]["value"], triple[0])
            assert close(got[name]["low"], triple[1]) and close(got[name]["high"], triple[2])
    region = viewer.get("/api/v1/segments", params={"dimension": "region", "limit": 1}).json()
    assert region["total"] == sum(1 for g in report.segments if g.dimension == "region")
    assert len(region["segments"]) == 1 and region["segments"][0]["dimension"] == "region"

    page = viewer.get("/dashboard/improve/segments", headers=HTMX).text
    best = report.segments[0]
    assert f'data-dimension="{best.dimension}" data-value="{best.value}"' in page
    assert f'data-field="accounts">{best.accounts:,}<' in page
    assert Fmt().pct(best.win_rate[1]) in page and Fmt().pct(best.win_rate[2]) in page


def test_clv_equals_the_report(viewer: Any, report: Improvements) -> None:
    body = viewer.get("/api/v1/clv").json()
    lv = report.clv
    assert lv is not None, report.clv_reason
    assert body["available"] and body["customers"] == lv.customers
    for key, value in lv.bgnbd.items():
        assert close(body["bgnbd"][key], value)
    for key, value in lv.gamma_gamma.items():
        assert close(body["gamma_gamma"][key], value)
    assert close(body["active_customers"], lv.active_customers)
    assert close(body["value_per_customer_month"], lv.value_per_customer_month)
    assert [g["segment"] for g in body["segments"]] == [g.segment for g in lv.segments]
    for got, want in zip(body["segments"], lv.segments, strict=True):
        assert close(got["expected_value"], want.expected_value)

    page = viewer.get("/dashboard/improve/clv", headers=HTMX).text
    fmt = Fmt()
    for key, value in lv.bgnbd.items():
        assert f'data-param="{key}">{key} = {fmt.param(value)}<' in page
    assert f'data-field="value">{fmt.money(lv.value_per_customer_month)}<' in page
    for g in lv.segments:
        assert f'data-segment="{g.segment}"' in page


def test_forecast_equals_the_report(viewer: Any, report: Improvements) -> None:
    body = viewer.get("/api/v1/forecast").json()
    pf = report.forecast
    assert pf is not None, report.forecast_reason
    assert body["available"] and body["open_deals"] == pf.open_deals
    assert [m["month"] for m in body["months"]] == [m.month.isoformat() for m in pf.months]
    for got, want in zip(body["months"], pf.months, strict=True):
        assert close(got["expected"], want.expected) and close(got["low"], want.low)
    assert [r["horizon"] for r in body["backtest"]] == [r.horizon for r in pf.backtest]
    for got, want in zip(body["backtest"], pf.backtest, strict=True):
        assert close(got["accuracy"], want.accuracy)
        assert close(got["coverage"], want.coverage) and got["calibrated"] == want.calibrated
        assert close(got["naive_accuracy"], want.naive_accuracy)
        assert got["better_than_naive"] == want.better_than_naive
    for got, want in zip(body["months"], pf.months, strict=True):
        assert got["calibrated"] == want.calibrated and got["recommended"] == want.recommended
        assert close(got["naive"], want.naive) and got["better_than_naive"] == want.verdict
    page = viewer.get("/dashboard/improve/forecast", headers=HTMX).text
    fmt = Fmt()
    assert f'data-field="expected">{fmt.money(pf.months[0].expected)}<' in page
    assert f'data-field="accuracy">{fmt.pct(pf.backtest[0].accuracy)}<' in page
    assert f'data-field="coverage">{fmt.pct(pf.backtest[0].coverage)}<' in page
    assert f'data-recommended="{pf.months[-1].recommended}"' in page


def test_sections_are_cached_per_data_version(app: FastAPI, viewer: Any) -> None:
    viewer.get("/api/v1/clv")
    version = app.state.crmroi.access.data_version()
    for name in SECTIONS:
        viewer.get(f"/dashboard/improve/{name}", headers=HTMX)
        assert cached(app.state.crmroi.cache, ("improve", version, name))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/scores?kind=contacts",
        "/api/v1/scores?limit=-1",
        f"/api/v1/scores?limit={TOP + 1}",
        "/api/v1/scores?limit=abc",
        "/api/v1/segments?dimension=colour",
        "/api/v1/segments?limit=100000",
    ],
)
def test_bad_query_values_are_client_errors(viewer: Any, url: str) -> None:
    response = viewer.get(url)
    assert 400 <= response.status_code < 500, response.text


def test_unknown_sections_and_anonymous_clients(app: FastAPI, viewer: Any) -> None:
    assert viewer.get("/dashboard/improve/nothing", headers=HTMX).status_code == 404
    anonymous = client(app)
    for url in ("/api/v1/scores", "/api/v1/segments", "/api/v1/clv", "/api/v1/forecast"):
        assert anonymous.get(url).status_code == 401
    page = anonymous.get("/dashboard/improve/scoring", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_an_empty_workspace_gives_the_reasons(tmp_path: Path) -> None:
    application = make_app(str(tmp_path / "empty"))
    try:
        viewer = login(application, "viewer")
        scores = viewer.get("/api/v1/scores").json()
        assert not scores["available"] and scores["scoring"] == []
        assert scores["reasons"] == ["the workspace has no leads or deals"]
        segments = viewer.get("/api/v1/segments").json()
        assert not segments["available"] and segments["segments"] == []
        assert segments["reason"] == "the workspace has no accounts"
        clv = viewer.get("/api/v1/clv").json()
        assert not clv["available"] and clv["reason"] == "the workspace has no orders"
        assert clv["bgnbd"] == {} and clv["active_customers"] is None
        pages = {n: viewer.get(f"/dashboard/improve/{n}", headers=HTMX).text for n in SECTIONS}
        assert "Not scored: the workspace has no leads or deals" in pages["scoring"]
        assert "Not available: the workspace has no accounts" in pages["segments"]
        assert "Not available: the workspace has no orders" in pages["clv"]
        assert "Not available: the workspace has no deals" in pages["forecast"]
        forecast = viewer.get("/api/v1/forecast").json()
        assert not forecast["available"] and forecast["reason"] == "the workspace has no deals"
        dashboard = viewer.get("/dashboard", headers={"accept": "text/html"}).text
        assert 'id="improve"' in dashboard
    finally:
        application.state.crmroi.access.close()


# -- the cache warm-up -------------------------------------------------------------------
def default_key(application: FastAPI) -> Hashable:
    state = application.state.crmroi
    return panels_key(state, data.workspace(state), Filters())


DEALS_CSV = "id,client,amount,closed,won\nW-1,A-warm,1000,2024-03-05,true\n"
DEALS_MAPPING = """
source_system: warm_test
tables:
  - entity: deals
    columns:
      deal_id: id
      account_id: client
      amount: amount
      closed_at: closed
      is_won: won
"""


def test_tests_run_without_the_warm_up(app: FastAPI) -> None:
    assert app.state.crmroi.settings.warm_cache is False
    with TestClient(app, base_url="https://testserver"):
        assert app.state.warmer is None


def test_the_warm_up_fills_the_cache_and_warms_again_after_an_import(
    small_demo_folder: Path, tmp_path: Path
) -> None:
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    application = make_app(
        str(folder),
        simulation_runs=RUNS,
        bootstrap=BOOTSTRAP,
        warm_cache=True,
        warm_interval_seconds=0.2,
    )
    state = application.state.crmroi
    try:
        started = time.monotonic()
        with TestClient(application, base_url="https://testserver") as c:
            assert time.monotonic() - started < 5, "the warm-up must not block startup"
            warmer = application.state.warmer
            assert warmer is not None and warmer.running
            assert c.get("/healthz").status_code == 200  # served while warming

            key = default_key(application)
            assert wait_for(lambda: cached(state.cache, key)), "the dashboard was not warmed"
            version = state.access.data_version()
            assert wait_for(
                lambda: all(cached(state.cache, ("improve", version, n)) for n in SECTIONS)
            )
            assert warmer.failures == 0

            # An import (a new data version) is warmed again in the background.
            analyst = login(application, "analyst")
            imported = analyst.post(
                "/api/v1/imports",
                files=[
                    ("files", ("deals.csv", DEALS_CSV.encode(), "text/csv")),
                    ("mapping", ("map.yaml", DEALS_MAPPING.encode(), "application/x-yaml")),
                ],
            )
            assert imported.status_code == 200, imported.text
            assert state.access.data_version() != version
            new_key = default_key(application)
            assert new_key != key
            assert wait_for(lambda: cached(state.cache, new_key)), "not warmed after the import"
        assert not warmer.running, "the warm-up thread outlived the app"
    finally:
        state.access.close()


def test_a_failing_warm_up_is_logged_and_the_app_keeps_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import crmroi.web.warmup as warmup

    def broken(*args: object) -> str:
        raise RuntimeError("the KPI engine fell over")

    monkeypatch.setattr(warmup, "panels_html", broken)
    application = make_app(str(tmp_path / "ws"), warm_cache=True, warm_interval_seconds=0.1)
    try:
        with caplog.at_level("ERROR", logger="crmroi.web.warmup"):
            with TestClient(application, base_url="https://testserver") as c:
                warmer = application.state.warmer
                assert warmer.wait_until_warm(60)
                assert warmer.failures == 1
                assert c.get("/healthz").status_code == 200
                time.sleep(0.3)
                assert warmer.failures == 1, "a failed warm-up is retried only on new data"
            assert not warmer.running
        assert "cache warm-up failed" in caplog.text
        assert "the KPI engine fell over" in caplog.text
    finally:
        application.state.crmroi.access.close()


@pytest.mark.slow
def test_the_improve_area_loads_in_chromium(
    browser: Any, small_demo_folder: Path, tmp_path: Path
) -> None:
    """Served by uvicorn with the warm-up on: the sections load when scrolled into view."""
    from tests.test_web_browser import SHOTS, LiveServer, new_page

    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    application = make_app(str(folder), simulation_runs=RUNS, bootstrap=BOOTSTRAP, warm_cache=True)
    with LiveServer(application) as server:
        page, errors = new_page(browser, server, "viewer")
        page.locator("#improve").scroll_into_view_if_needed()
        for name in SECTIONS:
            page.locator(f"#improve-{name}-body").wait_for(timeout=180_000)
        assert page.locator("table.scoring-holdout").count() >= 1
        assert page.locator("table.clv-parameters").count() == 1
        page.locator("#improve").screenshot(path=str(SHOTS / "dashboard-improve.png"))
        assert not errors, errors
        assert application.state.warmer is not None
    assert not application.state.warmer.running
