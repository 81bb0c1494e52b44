"""The Ibis KPI engine against the independent pandas implementation, on the demo company.

Both compute every KPI's baseline and after values over the same windows; they must
agree to 1e-9 (relative). Checked with one go-live date for every team and with the
demo's phased roll-out (each team over its own windows), on DuckDB and on a real
PostgreSQL server (same numbers up to the order of floating-point sums); the Spark
run is in test_kpi_spark.py.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmroi.demo import generate_company, write_demo
from crmroi.kpi import CONTRACT_KPIS, KPI_DEFINITIONS, KpiReport, compute_kpi_report
from crmroi.store import Store
from tests.conftest import scratch_database
from tests.test_kpi_reference import Ref, pandas_kpis, read_frames


def _fill(store: Store, folder: Path | None) -> Store:
    write_demo(store, generate_company(scale=0.1, seed=3), folder)
    return store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder: Path = tmp_path_factory.mktemp("kpi-demo")
    store = _fill(Store.open(folder, create=True), folder)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def pg_store() -> Iterator[Store]:
    """The same demo company in a fresh database on the test PostgreSQL server."""
    with scratch_database("crmroi_kpi") as url:
        store = _fill(Store.open(url), None)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_store(request: pytest.FixtureRequest) -> Store:
    """The demo workspace on each engine (PostgreSQL skipped without a server)."""
    name = "demo_store" if request.param == "duckdb" else "pg_store"
    store: Store = request.getfixturevalue(name)
    return store


def assert_matches(report: KpiReport, expected: dict[str, dict[str, float]]) -> None:
    checked = 0
    for k in report.kpis:
        want = expected[k.name]
        for period in ("baseline", "after"):
            got, ref = getattr(k, period), want[period]
            if ref is None or (isinstance(ref, float) and math.isnan(ref)):
                assert got is None, f"{k.name} {period}: engine {got}, pandas has none"
                continue
            tol = (
                1e-5 if k.name == "sales_cycle_days" else 1e-9
            )  # medians of values rounded to 1e-5 days
            assert got == pytest.approx(float(ref), rel=1e-9, abs=tol), f"{k.name} {period}"
            checked += 1
    assert checked >= 2 * 25


@pytest.mark.parametrize("exposure", ["created", "closed"])
def test_single_go_live_matches_pandas(engine_store: Store, exposure: str) -> None:
    demo_store = engine_store
    go_live = dt.date(2024, 7, 1)
    report = compute_kpi_report(demo_store, go_live=go_live, bootstrap=0, exposure=exposure)
    assert {k.name for k in report.kpis} == set(KPI_DEFINITIONS)
    assert all(k.available for k in report.kpis), [k for k in report.kpis if not k.available]
    ref = Ref(read_frames(demo_store), go_live, {})
    assert_matches(report, pandas_kpis(ref, exposure))
    assert report.baseline == (dt.date(2023, 7, 1), dt.date(2024, 6, 30))
    assert report.after == (dt.date(2024, 7, 1), dt.date(2025, 6, 30))


def test_phased_windows_match_pandas(engine_store: Store) -> None:
    demo_store = engine_store
    report = compute_kpi_report(demo_store, bootstrap=0, baseline_months=9, after_months=9)
    settings = demo_store.settings()
    by_team = {t: dt.date.fromisoformat(d) for t, d in settings["go_live_by_team"].items()}
    ref = Ref(read_frames(demo_store), min(by_team.values()), by_team, 9, 9)
    assert_matches(report, pandas_kpis(ref))


def test_json_contract(demo_store: Store) -> None:
    doc = compute_kpi_report(demo_store, bootstrap=50).to_json()
    assert set(doc) >= {"go_live", "baseline", "after", "kpis"}
    assert set(doc["baseline"]) == {"start", "end"}
    names = [k["name"] for k in doc["kpis"]]
    assert set(CONTRACT_KPIS) <= set(names)
    for k in doc["kpis"]:
        assert set(k) >= {"name", "unit", "baseline", "after", "change_abs", "change_rel"}
        assert set(k) >= {"ci_low", "ci_high"}
    win = next(k for k in doc["kpis"] if k["name"] == "win_rate")
    assert 0 < win["baseline"] < 1  # rates are fractions
    assert win["ci_low"] <= win["change_abs"] <= win["ci_high"]


def test_bootstrap_is_seeded(engine_store: Store) -> None:
    demo_store = engine_store

    def run(seed: int) -> list[tuple[float | None, float | None]]:
        r = compute_kpi_report(demo_store, bootstrap=80, seed=seed, kpis=["win_rate", "csat"])
        return [(k.ci_low, k.ci_high) for k in r.kpis]

    first = run(7)
    assert run(7) == first
    assert run(8) != first


def test_group_by_team_pools_to_total(demo_store: Store) -> None:
    report = compute_kpi_report(demo_store, bootstrap=0, by="team", kpis=["sales_volume"])
    total = compute_kpi_report(demo_store, bootstrap=0, kpis=["sales_volume"]).kpis[0]
    teams = [k for k in report.kpis if k.available]
    assert len(teams) == 5
    assert sum(k.baseline or 0 for k in teams) == pytest.approx(total.baseline)
    assert sum(k.after or 0 for k in teams) == pytest.approx(total.after)


def test_group_by_source_and_unsupported_groupings(demo_store: Store) -> None:
    report = compute_kpi_report(demo_store, bootstrap=0, by="source")
    names = {k.name for k in report.kpis}
    assert {"leads", "lead_conversion_rate", "marketing_spend", "cost_per_lead"} <= names
    assert {k.group for k in report.kpis if k.name == "leads"} >= {"web", "referral"}
    spend = report.get("marketing_spend", "web")
    assert spend.available and spend.baseline and spend.baseline > 0
    by_rep = compute_kpi_report(demo_store, bootstrap=0, by="rep", kpis=["cac", "win_rate"])
    cac = by_rep.get("cac")
    assert not cac.available and "not available by rep" in (cac.reason or "")
    assert len([k for k in by_rep.kpis if k.name == "win_rate"]) > 3
