"""Supplied baselines: import (atomic, idempotent, clear refusals) on every engine."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.cli.app import console
from crmroi.demo import generate_company, write_demo
from crmroi.errors import UserError
from crmroi.ingest.pipeline import import_files
from crmroi.kpi import KpiReport, compute_kpi_report
from crmroi.kpi.definitions import KPI_DEFINITIONS
from crmroi.messages import render
from crmroi.reports.i18n import get_lang
from crmroi.store import Store
from crmroi.store.schema import SUPPLIED_KPIS, TABLES

from .conftest import scratch_database

GOOD = (
    "kpi,month,value,source,note\n"
    "sales_volume,2023-01-01,412000,Finance ledger (GL 4000),net of credit notes\n"
    'Sales volume,2023-02-01,"400,500",Finance ledger (GL 4000),\n'
    "win-rate,2023-01-01,0.25,Sales spreadsheet,\n"
)


def _file(folder: Path, text: str, name: str = "baselines.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(store: Store) -> list[tuple[str, str, float, str]]:
    rows = store.to_arrow("supplied_baselines", order_by=["kpi", "period_start"]).to_pylist()
    return [(r["kpi"], str(r["period_start"]), r["value"], r["source"]) for r in rows]


def test_the_schema_names_every_kpi_of_the_registry() -> None:
    assert set(SUPPLIED_KPIS) == set(KPI_DEFINITIONS)
    assert TABLES["supplied_baselines"].key == ("kpi", "period_start")


def test_import_loads_monthly_values_and_a_reimport_changes_nothing(
    workspace: Store, tmp_path: Path
) -> None:
    path = _file(tmp_path, GOOD)
    first = import_files(workspace, [path], source="baselines")
    assert (first.rows_loaded, first.rows_rejected) == (3, 0)
    want = [
        ("sales_volume", "2023-01-01", 412000.0, "Finance ledger (GL 4000)"),
        ("sales_volume", "2023-02-01", 400500.0, "Finance ledger (GL 4000)"),
        ("win_rate", "2023-01-01", 0.25, "Sales spreadsheet"),
    ]
    assert _rows(workspace) == want
    second = import_files(workspace, [path], source="baselines")
    assert second.files[0].unchanged == 3 and second.files[0].inserted == 0
    assert _rows(workspace) == want
    # a corrected figure for a month replaces that month's value
    fixed = _file(tmp_path, "kpi,month,value,source\nsales_volume,2023-02-01,401000,ERP\n", "2.csv")
    import_files(workspace, [fixed], source="baselines")
    assert _rows(workspace)[1] == ("sales_volume", "2023-02-01", 401000.0, "ERP")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "sales_vol,2023-03-01,1,ERP",
            "row 3, column kpi: kpi 'sales_vol' is not a valid kpi; did you mean 'sales_volume'?",
        ),
        ("churn,2023-03-01,1,ERP", "row 3, column kpi: kpi 'churn' is not a valid kpi; the clos"),
        ("sales_volume,2023-03-15,1,ERP", "row 3, column period_start: 2023-03-15 is not the"),
        ("sales_volume,2023-03-01,abc,ERP", "row 3, column value: cannot read 'abc' as a number"),
        ("sales_volume,2023-03-01,1,", "row 3, column source: source is empty"),
    ],
)
def test_one_bad_row_refuses_the_whole_file_naming_row_column_and_reason(
    workspace: Store, tmp_path: Path, line: str, message: str
) -> None:
    path = _file(tmp_path, f"kpi,month,value,source\nwon_deals,2023-03-01,40,ERP\n{line}\n")
    with pytest.raises(UserError) as caught:
        import_files(workspace, [path], source="baselines")
    assert str(caught.value).startswith(f"baselines.csv {message}"), str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert workspace.count("supplied_baselines") == 0
    batches = workspace.table("import_batches").to_pyarrow().to_pylist()
    assert [b["status"][:6] for b in batches] == ["failed"]


def test_a_month_given_twice_is_refused(workspace: Store, tmp_path: Path) -> None:
    text = "kpi,month,value,source\nwon_deals,2023-03-01,40,ERP\nwon_deals,2023-03-01,41,CFO\n"
    with pytest.raises(UserError, match="nothing was imported"):
        import_files(workspace, [_file(tmp_path, text)], source="baselines")
    assert workspace.count("supplied_baselines") == 0


def _engine_roundtrip(location: str, path: Path) -> None:
    with Store.open(location, create=True) as store:
        import_files(store, [path], source="baselines")
        assert _rows(store)[0][:3] == ("sales_volume", "2023-01-01", 412000.0)
        assert import_files(store, [path], source="baselines").files[0].unchanged == 3


@pytest.mark.parametrize("scheme", ["parquet", "delta"])
def test_a_lake_gets_the_table(tmp_path: Path, scheme: str) -> None:
    if scheme == "delta":
        pytest.importorskip("deltalake", reason="deltalake is not installed")
    _engine_roundtrip(f"{scheme}://{tmp_path / 'lake'}", _file(tmp_path, GOOD))


def test_postgres_gets_the_table(tmp_path: Path) -> None:
    with scratch_database() as url:
        _engine_roundtrip(url, _file(tmp_path, GOOD))


# -- used by the KPI engine -----------------------------------------------------------
GO_LIVE = dt.date(2024, 7, 1)  # both windows inside the demo's data, whole
TOTALS = ("sales_volume", "won_deals", "calls_outbound", "leads")
RATIOS = ("win_rate", "avg_deal_size", "sales_cycle_days", "lead_conversion_rate")
DELETE = {  # every pre-go-live row of the tables these KPIs count, by the date they count
    "deals": "closed_at",
    "activities": "occurred_at",
    "leads": "created_at",
}


@dataclass
class Measured:
    """The demo's measured reports (12 and 1 baseline months) before its history is cut."""

    folder: Path
    twelve: KpiReport
    one: KpiReport
    monthly: dict[str, dict[dt.date, float]]
    volume: dict[dt.date, float]  # won amount by closing month, the baseline's first on


def _monthly_totals(store: Store, end: dt.date = GO_LIVE) -> dict[str, dict[dt.date, float]]:
    """Independent monthly totals from the baseline window's first month to `end`
    (pandas over the raw tables)."""
    start = dt.date(GO_LIVE.year - 1, GO_LIVE.month, 1)  # 12 months before go-live
    deals = store.to_arrow("deals").to_pandas()
    won = deals[deals["is_won"].fillna(False).astype(bool)]
    acts = store.to_arrow("activities").to_pandas()
    calls = acts[(acts["kind"] == "call") & (acts["direction"] == "outbound")]
    leads = store.to_arrow("leads").to_pandas()

    def per_month(times: pd.Series, values: pd.Series | None = None) -> dict[dt.date, float]:
        month = times.dt.to_period("M").dt.to_timestamp().dt.date
        ones = pd.Series(1.0, index=times.index) if values is None else values.astype(float)
        sums = ones.groupby(month).sum()
        return {m: float(v) for m, v in sums.items() if start <= m < end}

    return {
        "sales_volume": per_month(won["closed_at"], won["amount"]),
        "won_deals": per_month(won["closed_at"]),
        "calls_outbound": per_month(calls["occurred_at"]),
        "leads": per_month(leads["created_at"]),
    }


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    folder = tmp_path_factory.mktemp("supplied")
    ws = folder / "ws"
    with Store.open(ws, create=True) as store:
        write_demo(store, generate_company(scale=0.1, seed=3), ws)
        options: dict[str, Any] = {"go_live": GO_LIVE, "bootstrap": 0}
        twelve = compute_kpi_report(store, kpis=[*TOTALS, *RATIOS], **options)
        one = compute_kpi_report(store, kpis=list(RATIOS), baseline_months=1, **options)
        monthly = _monthly_totals(store)
        volume = _monthly_totals(store, dt.date(2100, 1, 1))["sales_volume"]
        with store.transaction() as tx:
            for table, column in DELETE.items():
                tx.execute(f"DELETE FROM {table} WHERE {column} < ?", (GO_LIVE,))
    return Measured(ws, twelve, one, monthly, volume)


def _supply(folder: Path, rows: list[tuple[str, dt.date, float]], name: str) -> None:
    lines = ["kpi,month,value,source"]
    lines += [f"{k},{m.isoformat()},{v!r},Finance ledger" for k, m, v in rows]
    path = folder / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store.open(folder / "ws") as store:
        import_files(store, [path], source="baselines")


def test_without_history_and_without_supplied_values_the_kpis_are_unavailable(
    measured: Measured,
) -> None:
    with Store.open(measured.folder) as store:
        assert store.count("supplied_baselines") == 0
        report = compute_kpi_report(store, go_live=GO_LIVE, bootstrap=0, kpis=["won_deals"])
    k = report.get("won_deals")
    assert not k.available and "below the 25% coverage floor" in (k.reason or "")


def test_supplied_totals_equal_to_the_true_baseline_reproduce_the_measured_change(
    measured: Measured,
) -> None:
    rows = [(k, m, v) for k in TOTALS for m, v in sorted(measured.monthly[k].items())]
    assert len(rows) == 12 * len(TOTALS)
    _supply(measured.folder.parent, rows, "totals")
    with Store.open(measured.folder) as store:
        report = compute_kpi_report(store, go_live=GO_LIVE, bootstrap=100, kpis=list(TOTALS))
    for name in TOTALS:
        want, got = measured.twelve.get(name), report.get(name)
        assert want.baseline is not None and want.after is not None
        assert want.coverage is not None and want.coverage["basis"] == "window"
        assert want.baseline == pytest.approx(sum(measured.monthly[name].values()), rel=1e-9)
        assert got.available, got.reason
        assert got.baseline_basis == "supplied"
        assert got.baseline_label == "supplied (source: Finance ledger)"
        assert got.unit.endswith("per covered month")
        assert got.baseline == pytest.approx(want.baseline / 12, rel=1e-9)
        assert got.after == pytest.approx(want.after / 12, rel=1e-9)
        assert got.change_rel == pytest.approx(want.change_rel, rel=1e-9)
        assert got.ci_low is None and got.ci_high is None and not got.significant
        assert got.net_change_abs is None
        assert "no sampling information" in (got.interval_note or "")
        assert got.interval_note is not None and "Finance ledger" in got.interval_note
        russian = render(got.interval_note, get_lang("ru"))
        assert "не несёт информации о выборке" in russian and "Finance ledger" in russian
        assert got.coverage is not None and got.coverage["baseline"]["supplied"] is True
        assert got.coverage["baseline"]["months"] == 12
        doc = got.to_json()
        assert doc["baseline_basis"] == "supplied" and doc["baseline_source"] == "Finance ledger"


def test_supplied_ratios_over_one_month_reproduce_the_measured_change(
    measured: Measured,
) -> None:
    month = dt.date(GO_LIVE.year, GO_LIVE.month - 1, 1)
    rows = []
    for name in RATIOS:
        b = measured.one.get(name).baseline
        assert b is not None
        rows.append((name, month, b))
    _supply(measured.folder.parent, rows, "ratios")
    with Store.open(measured.folder) as store:
        report = compute_kpi_report(
            store, go_live=GO_LIVE, bootstrap=0, baseline_months=1, kpis=list(RATIOS)
        )
    for name in RATIOS:
        want, got = measured.one.get(name), report.get(name)
        assert got.available, (name, got.reason)
        assert got.baseline_basis == "supplied", name
        assert got.baseline == pytest.approx(want.baseline, rel=1e-12)
        assert got.after == pytest.approx(want.after, rel=1e-9), name
        assert got.change_abs == pytest.approx(want.change_abs, rel=1e-9, abs=1e-12), name
        assert "unweighted mean" in (got.interval_note or "")


def test_too_few_supplied_months_are_refused_with_the_reason(measured: Measured) -> None:
    _supply(measured.folder.parent, [("csat", dt.date(2024, 5, 1), 4.1)], "csat")
    with Store.open(measured.folder) as store:
        # csat's tickets still cover the baseline: the measured baseline wins
        k = compute_kpi_report(store, go_live=GO_LIVE, bootstrap=0, kpis=["csat"]).get("csat")
        assert k.available and k.baseline_basis == "measured"
        with store.transaction() as tx:
            tx.execute("DELETE FROM tickets WHERE opened_at < ?", (GO_LIVE,))
        k = compute_kpi_report(store, go_live=GO_LIVE, bootstrap=0, kpis=["csat"]).get("csat")
    assert not k.available
    assert k.reason == (
        "no measured baseline, and the supplied baseline (source: Finance ledger) gives 1 of "
        "the 12 months 2023-07 to 2024-06, below the 25% coverage floor"
    )
    assert k.why is not None and k.why.code == "supplied_below_floor"
    persian = k.why.render(get_lang("fa"))  # Solar Hijri months, Persian digits
    assert "Finance ledger" in persian and "تیر ۱۴۰۲ تا خرداد ۱۴۰۳" in persian
    assert "آستانهٔ پوشش" in persian and "1" not in persian
    assert "ниже порога покрытия" in k.why.render(get_lang("ru"))


def test_every_kpis_format_labels_the_supplied_baseline(
    measured: Measured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 250)
    rows = [("won_deals", m, v) for m, v in sorted(measured.monthly["won_deals"].items())]
    _supply(measured.folder.parent, rows, "cli")
    base = ["kpis", str(measured.folder), "--go-live", GO_LIVE.isoformat(), "--bootstrap", "0"]
    runner = CliRunner()
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    assert "supplied" in table.output and "withheld" in table.output
    assert "won_deals: baseline supplied (source: Finance ledger), not measured" in table.output
    doc = json.loads(runner.invoke(app, [*base, "--format", "json"]).stdout)
    won = next(k for k in doc["kpis"] if k["name"] == "won_deals")
    assert won["baseline_basis"] == "supplied" and won["baseline_source"] == "Finance ledger"
    assert won["ci_low"] is None and "no sampling information" in won["interval_note"]
    lines = list(csv.DictReader(io.StringIO(runner.invoke(app, [*base, "--format", "csv"]).stdout)))
    row = next(r for r in lines if r["name"] == "won_deals")
    assert row["baseline_basis"] == "supplied" and row["baseline_source"] == "Finance ledger"
    assert next(r for r in lines if r["name"] == "csat")["baseline_basis"] == "measured"


# -- labelled in the report, the workbook, the web API and the business case ------------
def _supplied_report() -> KpiReport:
    from tests.test_report_model import sample_kpis

    report = sample_kpis()
    k = report.get("sales_volume")
    k.baseline_basis, k.baseline_source = "supplied", "Finance <ledger>"
    k.interval_note = "baseline supplied (source: Finance <ledger>), not measured: ..."
    k.ci_low = k.ci_high = None
    return report


def test_the_report_and_workbook_label_a_supplied_baseline(tmp_path: Path) -> None:
    import openpyxl

    from crmroi.casework.evaluate import evaluate_case
    from crmroi.finance.case import load_case
    from crmroi.reports import write_report
    from crmroi.reports.build import build_report
    from crmroi.reports.html import render_html
    from tests.test_report_model import CASE

    result = evaluate_case(load_case(CASE), runs=50, seed=1)
    model = build_report(result, kpis=_supplied_report(), lang="en", today=dt.date(2025, 3, 7))
    page = render_html(model)
    assert "(supplied †)" in page and "withheld †" in page
    assert "baseline supplied, not measured; source: <bdi>Finance &lt;ledger&gt;</bdi>" in page
    book = openpyxl.load_workbook(write_report(model, tmp_path / "r.xlsx"))
    sheet = book["KPIs"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[11] == "Baseline from"
    assert rows["Sales volume"][11] == "supplied (Finance <ledger>)"
    assert rows["Win rate"][11] == "measured"
    ru = build_report(result, kpis=_supplied_report(), lang="ru", today=dt.date(2025, 3, 7))
    assert "(предоставлено †)" in render_html(ru)


def test_the_web_api_and_dashboard_label_a_supplied_baseline(measured: Measured) -> None:
    from tests.web_support import login, make_app

    rows = [("won_deals", m, v) for m, v in sorted(measured.monthly["won_deals"].items())]
    _supply(measured.folder.parent, rows, "web")
    with Store.open(measured.folder) as store:
        store.set_settings(go_live=GO_LIVE.isoformat(), go_live_by_team={})
    app = make_app(str(measured.folder), simulation_runs=100, bootstrap=20)
    try:
        viewer = login(app, "viewer")
        api = {k["name"]: k for k in viewer.get("/api/v1/kpis").json()["kpis"]}
        assert api["won_deals"]["baseline_basis"] == "supplied"
        assert api["won_deals"]["baseline_source"] == "Finance ledger"
        assert api["won_deals"]["ci_low"] is None and api["won_deals"]["interval_note"]
        assert api["csat"]["baseline_basis"] == "measured"
        page = viewer.get("/dashboard", headers={"accept": "text/html"}).text
        row = page[page.index('<tr data-kpi="won_deals">') :]
        row = row[: row.index("</tr>")]
        assert "supplied (source: Finance ledger)" in row and "withheld" in row
    finally:
        app.state.crmroi.access.close()


def test_roi_names_the_drivers_drawn_from_a_supplied_baseline(tmp_path: Path) -> None:
    from crmroi.casework.evaluate import _supplied_notes
    from crmroi.finance.case import load_case
    from tests.test_finance_case import BASE

    path = _file(tmp_path, BASE.replace("change: 0.1", "change: measured"), "case.yaml")
    case = load_case(path)
    measured_kpis = [d.kpi for d in case.benefits if d.change == "measured" and d.kpi]
    assert measured_kpis
    k = _supplied_report().get("sales_volume")
    k.name = measured_kpis[0]
    notes = _supplied_notes(case, {measured_kpis[0]: k})
    assert len(notes) == 1 and "supplied (source: Finance <ledger>), not measured" in notes[0]
    assert "the simulation holds it fixed" in notes[0]
    from crmroi.casework.sources import AttributedChange

    attributed = AttributedChange(
        measured_kpis[0], 1.0, 0.1, 0.1, 0.05, 0.15, True, None, "supplied", "ERP"
    )
    notes = _supplied_notes(case, {measured_kpis[0]: attributed})
    assert "attributed over months before go-live supplied (source: ERP)" in notes[0]


def test_attribute_reads_the_supplied_months_as_the_series_before_go_live(
    measured: Measured,
) -> None:
    from crmroi.attribution.its import interrupted_time_series
    from crmroi.attribution.results import Attribution
    from crmroi.attribution.workspace import attribute_workspace

    rows = [("sales_volume", m, v) for m, v in sorted(measured.monthly["sales_volume"].items())]
    _supply(measured.folder.parent, rows, "attribute")
    with Store.open(measured.folder) as store:
        found = attribute_workspace(store, kpis=["sales_volume", "csat"], go_live=GO_LIVE)
    got = {a.name: a for a in found}
    a = got["sales_volume"]
    assert isinstance(a, Attribution) and a.method == "its", a
    assert a.notes[0].startswith("method its: the baseline is supplied (source: Finance ledger)")
    assert "not a sampling interval" in a.notes[1]
    doc = a.to_json()
    assert doc["baseline_basis"] == "supplied" and doc["baseline_source"] == "Finance ledger"
    # the supplied months equal the true ones: the same fit as on the true series
    truth = pd.DataFrame(
        {"period": pd.to_datetime(list(measured.volume)), "value": list(measured.volume.values())}
    )
    want = interrupted_time_series(truth, GO_LIVE, name="sales_volume")
    assert a.effect == pytest.approx(want.effect, rel=1e-6)
    assert (a.ci_low, a.ci_high) == pytest.approx((want.ci_low, want.ci_high), rel=1e-6)
    assert getattr(got["csat"], "method", None) != "its" or "supplied" not in got["csat"].notes[0]
