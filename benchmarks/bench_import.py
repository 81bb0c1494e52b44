"""Import throughput: crmroi's full import versus DuckDB's raw read_csv of the same file.

    .venv/bin/python benchmarks/bench_import.py --rows 5000000

Generates an activities CSV (the largest table in real CRMs), then times
(1) `crmroi.ingest.pipeline.import_files` into a fresh DuckDB workspace: reading,
encoding and delimiter detection, mapping, parsing and validating every cell,
rejects, and the transactional upsert; and (2) DuckDB's own
`CREATE TABLE AS SELECT * FROM read_csv(...)` of the same file, which does none
of that checking. Prints rows per second and the ratio. Not a test: a measurement.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table

from crmroi.ingest.pipeline import import_files
from crmroi.store import Store

MAPPING = """
source_system: bench
tables:
  - entity: activities
    columns:
      activity_id: Id
      occurred_at: ActivityDate
      kind: {column: Type, map: {Call: call, Email: email, Meeting: meeting, Visit: visit}}
      direction: {column: CallType, map: {Inbound: inbound, Outbound: outbound}}
      rep_id: OwnerId
      account_id: AccountId
      deal_id: OpportunityId
      duration_minutes: {column: CallDurationInSeconds, multiply: 0.016666666666666666}
"""


def write_activities(path: Path, rows: int, seed: int = 1) -> None:
    """A Salesforce-like Task export with `rows` rows, written in chunks."""
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    writer: pacsv.CSVWriter | None = None
    kinds = np.array(["Call", "Email", "Meeting", "Visit"])
    directions = np.array(["Inbound", "Outbound", ""])
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        ids = np.arange(start, start + n)
        seconds = rng.integers(0, 3 * 365 * 86400, n).astype("timedelta64[s]")
        stamps = np.datetime64("2023-01-01T00:00:00") + seconds
        table = pa.table(
            {
                "Id": np.char.add("00T", np.char.zfill(ids.astype(str), 15)),
                "ActivityDate": np.char.add(np.datetime_as_string(stamps), ".000Z"),
                "Type": kinds[rng.integers(0, 4, n)],
                "CallType": directions[rng.integers(0, 3, n)],
                "OwnerId": np.char.add(
                    "005", np.char.zfill(rng.integers(0, 800, n).astype(str), 15)
                ),
                "AccountId": np.char.add(
                    "001", np.char.zfill(rng.integers(0, 100_000, n).astype(str), 15)
                ),
                "OpportunityId": np.char.add(
                    "006", np.char.zfill(rng.integers(0, 400_000, n).astype(str), 15)
                ),
                "CallDurationInSeconds": rng.integers(0, 3600, n).astype(str),
            }
        )
        if writer is None:
            writer = pacsv.CSVWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the CSV and workspaces in")
    args = parser.parse_args()
    console = Console()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="crmroi-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "activities.csv"
    mapping = folder / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    if not csv_path.exists() or args.keep is None:
        started = time.perf_counter()
        write_activities(csv_path, args.rows)
        console.print(
            f"wrote {args.rows:,} rows ({csv_path.stat().st_size / 1e6:,.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )

    raw_db = folder / "raw.duckdb"
    raw_db.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(raw_db))
    con.execute(f"CREATE TABLE activities AS SELECT * FROM read_csv('{csv_path}')")
    raw_rows = con.execute("SELECT count(*) FROM activities").fetchone()
    con.close()
    raw_seconds = time.perf_counter() - started

    workspace = folder / "ws"
    shutil.rmtree(workspace, ignore_errors=True)
    started = time.perf_counter()
    with Store.open(workspace, create=True) as store:
        report = import_files(store, [csv_path], mapping=mapping)
    crmroi_seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # bytes on Linux

    table = Table(title=f"Import of {args.rows:,} activities")
    for name in ("loader", "seconds", "rows/s", "rows loaded"):
        table.add_column(name, justify="right" if name != "loader" else "left")
    table.add_row(
        "duckdb read_csv",
        f"{raw_seconds:.1f}",
        f"{args.rows / raw_seconds:,.0f}",
        f"{raw_rows[0] if raw_rows else 0:,}",
    )
    table.add_row(
        "crmroi import",
        f"{crmroi_seconds:.1f}",
        f"{args.rows / crmroi_seconds:,.0f}",
        f"{report.rows_loaded:,}",
    )
    console.print(table)
    console.print(
        f"crmroi takes {crmroi_seconds / raw_seconds:.1f}x DuckDB's raw read_csv; "
        f"peak resident memory {peak / 1e9:.2f} GB"
    )
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
