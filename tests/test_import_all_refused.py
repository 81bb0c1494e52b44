"""An import in which every row of a file is refused fails (exit 1, nothing written), with a
one-line error naming the file and the most common reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmroi.errors import UserError
from crmroi.ingest.pipeline import import_files
from crmroi.ingest.rejects import Reject, most_common_reason
from crmroi.store import Store

MAPPING = """
source_system: t
tables:
  - entity: deals
    columns:
      deal_id: id
      amount: amount
      closed_at: closed
      is_won: {column: won, map: {yes: true, no: false}}
"""


def write(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("id,amount,closed,won\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_most_common_reason_counts_rows_and_generalises_values() -> None:
    rejects = [
        Reject("d.csv", 2, "amount", "cannot read 'x' as a number"),
        Reject("d.csv", 3, "amount", "cannot read 'y' as a number"),
        Reject("d.csv", 3, "closed", "cannot read 'z' as a date"),
    ]
    assert most_common_reason(rejects) == ("column amount: cannot read '…' as a number", 2)
    assert most_common_reason([]) is None


def test_a_file_with_every_row_refused_fails_the_import(workspace: Store, tmp_path: Path) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    good = write(tmp_path, "good.csv", ["1,100,2024-01-05,yes"])
    bad = write(tmp_path, "bad.csv", ["2,１万円?,2024-01-05,yes", "3,n/a,2024-01-06,no"])
    with pytest.raises(UserError) as caught:
        import_files(workspace, [good, bad], mapping=mapping)
    message = str(caught.value)
    assert message.startswith("bad.csv: all 2 rows were refused, nothing was imported")
    assert "most often (2 rows) column amount: cannot read '…' as a number" in message
    assert "\n" not in message
    assert workspace.count("deals") == 0  # the good file is not written either: atomic
    report = import_files(workspace, [good], mapping=mapping)
    assert report.rows_loaded == 1


def test_cli_exits_1_with_one_line(tmp_path: Path) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    bad = write(tmp_path, "bad.csv", ["2,abc,2024-01-05,yes", "3,2,31.02.2024,no"])
    result = subprocess.run(
        [sys.executable, "-m", "crmroi", "import", str(tmp_path / "ws"), str(bad),
         "--mapping", str(mapping)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: bad.csv: all 2 rows were refused")
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
