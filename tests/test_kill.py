"""kill -9 in the middle of a large import leaves the workspace exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from crmroi.store import Store

MAPPING = """
source_system: bulk
tables:
  - entity: activities
    columns:
      activity_id: id
      occurred_at: at
      kind: kind
      rep_id: rep
      duration_minutes: minutes
"""


def write_activities(path: Path, rows: int, start: int = 0) -> None:
    rng = np.random.default_rng(7)
    ids = np.arange(start, start + rows)
    stamps = np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 3e7, rows).astype(
        "timedelta64[s]"
    )
    table = pa.table(
        {
            "id": pa.array(ids.astype(str)),
            "at": pa.array(np.datetime_as_string(stamps)),
            "kind": pa.array(np.array(["call", "email", "meeting"])[ids % 3]),
            "rep": pa.array(np.char.add("R", (ids % 50).astype(str))),
            "minutes": pa.array(rng.integers(1, 60, rows).astype(str)),
        }
    )
    pacsv.write_csv(table, path)


def snapshot(workspace: Path) -> tuple[int, list[dict[str, object]]]:
    with Store.open(workspace) as store:
        rows = store.to_arrow("activities", order_by=["activity_id"]).to_pylist()
        return store.count("import_batches"), rows


def test_kill_9_during_import_leaves_workspace_unchanged(tmp_path: Path) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    write_activities(small, 1_000)
    write_activities(big, 2_000_000, start=500)  # overlaps: an update would change rows
    workspace = tmp_path / "ws"
    command = [sys.executable, "-m", "crmroi", "import", str(workspace)]
    done = subprocess.run(
        [*command, str(small), "--mapping", str(mapping)], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    before = snapshot(workspace)
    db = workspace / "workspace.duckdb"
    wal = workspace / "workspace.duckdb.wal"
    size_before = db.stat().st_size

    process = subprocess.Popen(
        [*command, str(big), "--mapping", str(mapping)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    writing = False
    while time.monotonic() < deadline and process.poll() is None:
        # the write transaction is under way once the database file or its WAL grows
        if db.stat().st_size > size_before or (wal.exists() and wal.stat().st_size > 0):
            writing = True
            break
        time.sleep(0.005)
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert writing, "never saw the import start writing"
    assert snapshot(workspace) == before


def test_kill_9_while_an_empty_table_s_stage_is_written(tmp_path: Path) -> None:
    """Into an empty table a streamed file is staged in a table of the workspace itself
    (renamed into place at the commit): killed while it is written, the workspace reopens
    as it was, the stage dropped, and the next import loads."""
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    write_activities(big, 1_500_000)
    write_activities(small, 1_000)
    workspace = tmp_path / "ws"
    Store.open(workspace, create=True).close()
    before = snapshot(workspace)
    db = workspace / "workspace.duckdb"
    size_before = db.stat().st_size
    command = [sys.executable, "-m", "crmroi", "import", str(workspace)]
    env = {**os.environ, "CRMROI_STREAM_BYTES": "0"}  # streamed whatever its size
    process = subprocess.Popen(
        [*command, str(big), "--mapping", str(mapping)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if db.stat().st_size > size_before:  # the stage's first rows are in the file
            break
        time.sleep(0.005)
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert snapshot(workspace) == before
    with Store.open(workspace) as store:
        con = store.engine.con  # type: ignore[attr-defined]
        left = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'crmroi%'"
        ).fetchone()
        assert left == (0,)
    done = subprocess.run(
        [*command, str(small), "--mapping", str(mapping)], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert snapshot(workspace)[1] != before[1]
