"""The import summary (dates, money, values, links, warnings), links by name, --format json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from crmroi.ingest.pipeline import import_files, prepare_import
from crmroi.store import Store


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


MAPPING = """source_system: shop
tables:
  - entity: accounts
    files: ["orgs*.csv"]
    columns: {account_id: Org ID, name: Org}
  - entity: deals
    files: ["deals*.csv"]
    names: [Title]
    columns:
      deal_id: Deal ID
      account_id: {column: [Org ID], names: [Organization]}
      amount: Value
      currency: Currency
      created_at: Created
      closed_at: Closed
      stage: Stage
      is_won: {column: Stage, map: {Won: true, Lost: false, Open: false}, strict: true}
      is_closed: {column: Stage, map: {Won: true, Lost: true, Open: false}, strict: true}
  - entity: activities
    files: ["acts*.csv"]
    columns:
      activity_id: ID
      occurred_at: Due
      kind: {column: Type, map: {Call: call, Meeting: meeting}, default: task}
      deal_id: {column: [Deal ID], names: [Deal]}
"""


def files(tmp_path: Path) -> list[Path]:
    return [
        write(tmp_path / "orgs.csv", "Org ID,Org\n1,Acme Corp\n2,Globex\n3,Globex\n"),
        write(
            tmp_path / "deals.csv",
            "Deal ID,Title,Organization,Value,Currency,Created,Closed,Stage\n"
            "D1,Acme deal, acme  corp ,100,USD,2024-01-02,2024-02-01,Won\n"
            "D2,Globex deal,Globex,200,EUR,2024-01-03,2024-02-05,Lost\n"
            "D3,Ghost deal,Initech,300,USD,2024-01-04,,Open\n"
            "D4,Empty deal,,50,USD,2024-01-09,,Open\n",
        ),
        write(
            tmp_path / "acts.csv",
            "ID,Due,Type,Deal\nA1,2024-01-05,Call,Acme deal\nA2,2024-01-06,Meeting,Nope\n"
            "A3,2024-01-07,Lunch,\n",
        ),
    ]


def rates(tmp_path: Path) -> Path:
    return write(
        tmp_path / "rates.yaml",
        "source_system: fx\ntables:\n  - entity: fx_rates\n"
        "    columns: {rate_date: Date, currency: Code, rate_to_base: Rate}\n",
    )


def test_names_become_ids_and_the_summary_counts_everything(
    workspace: Store, tmp_path: Path
) -> None:
    fx = write(tmp_path / "fx.csv", "Date,Code,Rate\n2024-01-01,EUR,1.5\n")
    import_files(workspace, [fx], mapping=rates(tmp_path))
    mapping = write(tmp_path / "map.yaml", MAPPING)
    report = import_files(workspace, files(tmp_path), mapping=mapping)
    assert report.rows_loaded == 10 and not report.rejects
    deals = {r["deal_id"]: r for r in workspace.to_arrow("deals").to_pylist()}
    assert deals["D1"]["account_id"] == "1"  # by name, ignoring case and spaces
    assert deals["D2"]["account_id"] is None  # two organizations are called Globex
    assert deals["D3"]["account_id"] is None  # no organization is called Initech
    acts = {r["activity_id"]: r for r in workspace.to_arrow("activities").to_pylist()}
    assert acts["A1"]["deal_id"] == "D1" and acts["A2"]["deal_id"] is None

    summary = report.summary
    warnings = " | ".join(summary.warnings)
    assert "1 rows name a accounts record that several records share, e.g. 'Globex' (1)" in (
        warnings
    )
    assert "e.g. 'Initech' (1); left unlinked" in warnings and "'Nope' (1)" in warnings
    links = {(c.table, c.column): (c.resolved, c.unresolved, c.empty) for c in summary.links}
    assert links[("deals", "account_id")] == (1, 0, 3)
    assert links[("activities", "deal_id")] == (1, 0, 2)
    money = {m.currency: (m.rows, m.original, m.converted) for m in summary.money}
    assert money == {"USD": (3, 450.0, 450.0), "EUR": (1, 200.0, 300.0)}
    closed = next(d for d in summary.dates if (d.table, d.column) == ("deals", "closed_at"))
    assert (closed.first, closed.last, closed.filled) == (
        datetime(2024, 2, 1),
        datetime(2024, 2, 5),
        2,
    )
    kinds = {
        (v.value, v.canonical, v.count, v.mapped) for t, v in summary.values if t == "activities"
    }
    assert kinds == {
        ("Call", "call", 1, True),
        ("Meeting", "meeting", 1, True),
        ("Lunch", "task", 1, False),
    }


def test_names_resolve_against_the_workspace_and_the_dry_run_says_the_same(
    workspace: Store, tmp_path: Path
) -> None:
    mapping = write(tmp_path / "map.yaml", MAPPING)
    orgs, deals, _ = files(tmp_path)
    import_files(workspace, [orgs], mapping=mapping)
    prepared = prepare_import(workspace, [deals], mapping=mapping)
    (links,) = [c for c in prepared.summary.links if c.column == "account_id"]
    assert (links.resolved, links.empty) == (1, 2)  # D2 (EUR) is refused: no rate
    report = import_files(workspace, [deals], mapping=mapping)
    assert [(c.resolved, c.empty) for c in report.summary.links] == [(1, 2)]
    assert workspace.count("deals") == 3


def test_cli_prints_the_summary_as_json(tmp_path: Path) -> None:
    mapping = write(tmp_path / "map.yaml", MAPPING)
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    args = [sys.executable, "-m", "crmroi", "import", str(tmp_path / "ws"), "--mapping"]
    args += [str(mapping), "--format", "json", "--base-currency", "USD"]
    paths = [str(p) for p in files(tmp_path)[:2]]
    done = subprocess.run(
        [*args, *paths], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["rows_loaded"] == 6 and data["rows_refused"] == 1  # EUR has no rate
    assert {f["table"] for f in data["files"]} == {"accounts", "deals"}
    assert {r["reason"] for r in data["refused"]} == {
        "no exchange rate for EUR into USD (import fx_rates first)"
    }
    stages = {(v["value"], v["mapped"]) for v in data["values"] if v["column"] == "is_won"}
    assert stages == {("Won", True), ("Lost", True), ("Open", True)}
    assert any("Initech" in w for w in data["warnings"])
    assert data["dates"][0]["first"].startswith("2024-01-0")
    text = subprocess.run(
        [*args[:-4], "--mapping", str(mapping), *paths],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert text.returncode == 0, text.stderr
    assert "Values read" in text.stdout and "Links" in text.stdout and "Warning:" in text.stdout
