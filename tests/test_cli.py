"""The command line as a user runs it: exit codes, one-line errors, printed summaries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmroi.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "crmroi", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.fixture
def deals_csv(tmp_path: Path) -> Path:
    path = tmp_path / "deals.csv"
    path.write_text(
        "id,amount,stage,closed\n1,100,Won,2024-01-05\n2,abc,Lost,2024-01-06\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(
        "source_system: test\ntables:\n  - entity: deals\n    columns:\n"
        "      deal_id: id\n      amount: amount\n      stage: stage\n      closed_at: closed\n"
        "      is_won: {column: stage, map: {won: true}, default: false}\n",
        encoding="utf-8",
    )
    return path


def test_import_prints_counts_and_refused_rows(
    tmp_path: Path, deals_csv: Path, mapping: Path
) -> None:
    result = run("import", tmp_path / "ws", deals_csv, "--mapping", mapping)
    assert result.returncode == 0, result.stderr
    assert "Loaded 1 of 2 rows; refused 1." in result.stdout
    assert "cannot read 'abc' as a number" in result.stdout
    assert (tmp_path / "ws" / "workspace.duckdb").exists()
    assert list((tmp_path / "ws" / "rejects").glob("*.csv"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "generic"], "the generic source needs a mapping file"),
        (["--source", "sap"], "unknown source 'sap'"),
        (["--mapping", "missing.yaml"], "missing.yaml: cannot read mapping file"),
    ],
)
def test_user_errors_are_one_line_exit_1(
    tmp_path: Path, deals_csv: Path, args: list[str], message: str
) -> None:
    result = run("import", tmp_path / "ws", deals_csv, *args, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_unreadable_file_is_one_line_exit_1(tmp_path: Path, mapping: Path) -> None:
    garbage = tmp_path / "deals.xlsx"
    garbage.write_bytes(b"\x00\x01 not a workbook")
    result = run("import", tmp_path / "ws", garbage, "--mapping", mapping)
    assert result.returncode == 1
    assert result.stderr.startswith("error: deals.xlsx:")
    assert "Traceback" not in result.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert run("import").returncode == 2
    assert run("no-such-command").returncode == 2


def test_not_a_workspace(tmp_path: Path) -> None:
    from crmroi.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="not a crmroi workspace"):
        Store.open(tmp_path / "nothing-here")
