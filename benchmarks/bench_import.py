"""Import throughput: crmroi's full import versus DuckDB's raw read_csv of the same file.

    .venv/bin/python benchmarks/bench_import.py --rows 5000000

Generates an activities CSV (the largest table in real CRMs), then times
(1) `crmroi.ingest.pipeline.import_files` into a fresh DuckDB workspace (with the
command line's cell cap, as `crmroi import` runs it): reading,
encoding and delimiter detection, mapping, parsing and validating every cell,
rejects, and the transactional upsert; and (2) DuckDB's own
`CREATE TABLE AS SELECT * FROM read_csv(...)` of the same file, which does none
of that checking. Prints rows per second, the ratio and the peak memory of each run,
each in its own process (VmHWM from /proc/self/status: ru_maxrss would carry the
size of the process that generated the file). Not a test: a measurement.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
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
from crmroi.limits import command_line_limits
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

    raw = _run_child("raw", csv_path, folder)
    crmroi = _run_child("crmroi", csv_path, folder)
    raw_seconds, crmroi_seconds = raw["seconds"], crmroi["seconds"]
    raw_rows = [raw["rows"]]

    table = Table(title=f"Import of {args.rows:,} activities")
    for name in ("loader", "seconds", "CPU seconds", "rows/s", "rows loaded"):
        table.add_column(name, justify="right" if name != "loader" else "left")
    table.add_row(
        "duckdb read_csv",
        f"{raw_seconds:.1f}",
        f"{raw['cpu']:.1f}",
        f"{args.rows / raw_seconds:,.0f}",
        f"{raw_rows[0] if raw_rows else 0:,}",
    )
    table.add_row(
        "crmroi import",
        f"{crmroi_seconds:.1f}",
        f"{crmroi['cpu']:.1f}",
        f"{args.rows / crmroi_seconds:,.0f}",
        f"{crmroi['rows']:,}",
    )
    console.print(table)
    console.print(
        f"crmroi takes {crmroi_seconds / raw_seconds:.1f}x DuckDB's raw read_csv "
        f"({crmroi['cpu'] / raw['cpu']:.1f}x its CPU time); "
        f"peak resident memory: crmroi import {crmroi['peak'] / 1e9:.2f} GB, "
        f"DuckDB read_csv {raw['peak'] / 1e9:.2f} GB"
    )
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


def peak_bytes() -> int:
    """This process's peak resident memory (VmHWM), in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _run_child(which: str, csv_path: Path, folder: Path) -> dict[str, float]:
    """Run one loader in a fresh interpreter; its own time, rows and peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, "--keep", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"the {which} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(which: str, folder: Path) -> None:
    """One timed load of folder/activities.csv; prints JSON (seconds, rows, peak)."""
    csv_path = folder / "activities.csv"
    if which == "raw":
        raw_db = folder / "raw.duckdb"
        raw_db.unlink(missing_ok=True)
        started = time.perf_counter()
        con = duckdb.connect(str(raw_db))
        con.execute(f"CREATE TABLE activities AS SELECT * FROM read_csv('{csv_path}')")
        found = con.execute("SELECT count(*) FROM activities").fetchone()
        con.close()
        rows = found[0] if found else 0
    else:
        workspace = folder / "ws"
        shutil.rmtree(workspace, ignore_errors=True)
        started = time.perf_counter()
        with command_line_limits(), Store.open(workspace, create=True) as store:
            report = import_files(store, [csv_path], mapping=folder / "map.yaml")
        rows = report.rows_loaded
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime  # all threads; the machine may be busy
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "peak": peak_bytes()}))


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1], Path(sys.argv[sys.argv.index("--keep") + 1]))
    else:
        main()
