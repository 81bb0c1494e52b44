"""Write a generated demo company into a workspace store (one transaction)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from crmroi.demo.company import DemoCompany
from crmroi.store.schema import IMPORT_BATCHES, TABLES
from crmroi.store.store import BATCHES_TABLE, Store


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def write_demo(store: Store, company: DemoCompany, folder: Path | None) -> dict[str, int]:
    """Replace the workspace's demo rows with `company`; write truth.json into `folder`.

    Everything happens in one transaction: rows of every canonical table whose
    source_system is "demo" are deleted, the new tables appended, one import batch
    recorded and the settings (go-live dates, seed, scale) stored. Returns the row
    count written per table.
    """
    started = _now()
    batch_id = f"demo-{company.seed}"
    counts: dict[str, int] = {}
    with store.transaction() as tx:
        ph = "?" if getattr(tx, "dialect", "duckdb") == "duckdb" else "%s"
        for name in TABLES:
            tx.execute(f'DELETE FROM "{name}" WHERE source_system = {ph}', ("demo",))
        tx.execute(f'DELETE FROM "{BATCHES_TABLE}" WHERE source_system = {ph}', ("demo",))
        for name in TABLES:
            if name not in company.tables:  # supplied baselines: a demo has its history
                counts[name] = 0
                continue
            table = company.tables[name]
            tx.append(name, table)
            counts[name] = table.num_rows
        total = sum(counts.values())
        batch: dict[str, list[Any]] = {
            "batch_id": [batch_id],
            "started_at": [started],
            "finished_at": [_now()],
            "source_system": ["demo"],
            "files": [f"generated: seed={company.seed} scale={company.scale}"],
            "rows_in": [total],
            "rows_loaded": [total],
            "rows_rejected": [0],
            "status": ["loaded"],
        }
        tx.append(BATCHES_TABLE, pa.table(batch, schema=IMPORT_BATCHES))
        go_live = {team: day.isoformat() for team, day in company.go_live_by_team.items()}
        tx.write_settings(
            {
                "base_currency": "USD",
                "go_live": min(go_live.values()),
                "go_live_by_team": go_live,
                "demo_seed": company.seed,
                "demo_scale": company.scale,
            }
        )
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(company.truth, indent=2, sort_keys=True, ensure_ascii=False)
        (folder / "truth.json").write_text(text + "\n", encoding="utf-8")
    return counts
