"""Issue 15's closing table: each class of export, imported now, against an independent count.

Runs the regression exports of `tests/test_import_regressions.py` (written the way each CRM
writes them) and prints, per export, rows loaded and refused, and won deals and win rate in
the baseline and after windows next to the count made directly from the generated deals.

    .venv/bin/python benchmarks/issue15_table.py     # from the repository root, ~30 s
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tests.test_import_regressions as regressions
from tests.test_import_cli_fuzz import run
from tests.test_presets_ru import GO_LIVE, Deal, expected_kpis

from crmroi.ingest import pipeline
from crmroi.kpi import compute_kpi_report
from crmroi.store import Store

CASES: list[tuple[str, str, Callable[..., None], dict[str, Any]]] = [
    ("1, 6", "Pipedrive deals without 'Deal closed on' + organizations + activities by title",
     regressions.test_pipedrive_lost_time_names_and_western_encoding, {"encoding": "utf-8"}),
    ("2", "the same Pipedrive exports in cp1252 ('Müller & Söhne GmbH')",
     regressions.test_pipedrive_lost_time_names_and_western_encoding, {"encoding": "cp1252"}),
    ("3", "amounts 'EUR 1,000.00', '€', 'JPY 1,000,000', '￥', '$' with rates",
     regressions.test_currency_codes_and_signs_in_the_amount_cell, {}),
    ("4", "HubSpot deals, second pipeline, 'Is Closed Won' / 'Is Deal Closed?'",
     regressions.test_hubspot_second_pipeline_by_its_own_columns, {"semantics": "closed"}),
    ("4", "HubSpot deals, second pipeline, 'Deal probability' only",
     regressions.test_hubspot_second_pipeline_by_its_own_columns, {"semantics": "probability"}),
    ("4", "HubSpot deals, second pipeline, no semantic column",
     regressions.test_hubspot_second_pipeline_without_them_is_refused, {}),
    ("5", "Chinese CRM, GBK, ￥ + full-width digits, 万, 2024年2月1日",
     regressions.test_chinese_export_in_gbk, {}),
    ("5", "Persian sheet, ٬ ٫, Persian digits, Solar Hijri dates",
     regressions.test_persian_spreadsheet_with_solar_hijri_dates, {}),
    ("7", "Odoo crm.lead without ID, repeated '<Customer>'s opportunity'",
     regressions.test_odoo_export_without_id_keeps_every_deal, {}),
    ("8", "Salesforce report XLSX, 3 title rows, 'Notes' twice (unused)",
     regressions.test_xlsx_report_with_title_rows_and_a_repeated_unused_header, {}),
    ("11", "full deals export, then a partial export of changed stages",
     regressions.test_a_later_export_of_changed_stages_updates_only_them, {}),
]  # fmt: skip


SHOWN = ("won_deals", "win_rate", "sales_volume")


def links(report: Any) -> str:
    """Links made by name or id: linked / rows, per link column with any value."""
    parts = [
        f"{c.table}.{c.column} {c.resolved}/{c.resolved + c.unresolved + c.empty}"
        for c in report.summary.links
        if c.resolved or c.unresolved
    ]
    return "; ".join(parts) or "-"


def main() -> None:
    seen: dict[str, Any] = {}
    original_check = regressions.check_kpis
    original_import = pipeline.import_files

    def record_check(store: Store, rows: list[Deal]) -> None:
        report = compute_kpi_report(store, go_live=GO_LIVE, bootstrap=0, kpis=list(SHOWN))
        base = expected_kpis(rows, dt.date(2023, 1, 1), GO_LIVE)
        after = expected_kpis(rows, GO_LIVE, dt.date(2025, 1, 1))
        seen["kpis"] = {n: (report.get(n).baseline, report.get(n).after) for n in SHOWN}
        seen["expected"] = {n: (base[n], after[n]) for n in SHOWN}
        original_check(store, rows)

    def record_import(*args: Any, **kwargs: Any) -> Any:
        report = original_import(*args, **kwargs)
        seen["report"] = report
        return report

    regressions.check_kpis = record_check  # type: ignore[assignment]
    regressions.import_files = record_import  # type: ignore[assignment]
    print(
        "| class | export | loaded | refused | links | won deals, win rate, sales volume "
        "(baseline / after) | independent count | test |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for number, label, test, params in CASES:
        seen.clear()
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(Path(tmp) / "ws", create=True)
            try:
                test(workspace=store, tmp_path=Path(tmp), **params)
                verdict = "pass"
            except Exception as exc:  # a regression: show it in the table
                verdict = f"FAIL: {str(exc).splitlines()[0][:80]}"
            finally:
                store.close()
        report = seen.get("report")
        loaded = report.rows_loaded if report else "-"
        refused = report.rows_rejected if report else "-"
        got, want = seen.get("kpis"), seen.get("expected")
        shown = show(got) if got else "-"
        indep = show(want) if want else "-"
        linked = links(report) if report else "-"
        print(
            f"| {number} | {label} | {loaded} | {refused} | {linked} | {shown} | {indep} "
            f"| {verdict} |"
        )
    typo_and_names()


def show(values: dict[str, tuple[float, float]]) -> str:
    won, rate, volume = (values[n] for n in SHOWN)
    return (
        f"{won[0]:g} / {won[1]:g}, {rate[0]:.3f} / {rate[1]:.3f}, "
        f"{volume[0]:,.0f} / {volume[1]:,.0f}"
    )


def typo_and_names() -> None:
    """Classes 9 and 10: a typo in a mapping (the command line's answer), first + last name."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "deals.csv").write_text("ID,Close Date,Won\n1,2024-02-01,yes\n", "utf-8")
        (folder / "m.yaml").write_text(
            "source_system: t\ntables:\n  - entity: deals\n"
            "    columns: {deal_id: ID, closed_at: Close Dat}\n",
            "utf-8",
        )
        code, printed = run(
            [
                "import",
                str(folder / "ws"),
                str(folder / "deals.csv"),
                "--mapping",
                str(folder / "m.yaml"),
            ]
        )
        line = " ".join(printed.split())
        ok = "pass" if code == 1 and "did you mean 'Close Date'?" in line else "FAIL"
        print(f"| 9 | mapping names 'Close Dat' | - | - | - | exit {code}: {line} | - | {ok} |")
        store = Store.open(folder / "ws2", create=True)
        contacts = (
            Path(__file__).resolve().parents[1] / "tests/fixtures/exports/hubspot/contacts_ui.csv"
        )
        pipeline.import_files(store, [contacts], source="hubspot", entity="contacts")
        names = sorted(str(r["name"]) for r in store.to_arrow("contacts").to_pylist())
        store.close()
        shown = ", ".join(names[:2])
        ok = "pass" if "Ana Silva" in names else "FAIL"
        print(f"| 10 | HubSpot contacts (UI export) | {len(names)} | 0 | - | {shown} | - | {ok} |")


if __name__ == "__main__":
    main()
