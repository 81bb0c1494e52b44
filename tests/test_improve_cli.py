"""The improve commands end to end on a small demo workspace."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.demo import generate_company, write_demo
from crmroi.store import Store

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("improve") / "ws"
    with Store.open(folder, create=True) as store:
        write_demo(store, generate_company(scale=0.3, seed=7), store.folder)
    yield folder


def test_score_json(demo_ws: Path) -> None:
    result = runner.invoke(app, ["score", str(demo_ws), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"as_of", "kinds", "skipped"}
    kinds = {k["kind"]: k for k in payload["kinds"]}
    assert set(kinds) == {"leads", "deals"}
    evaluation = kinds["leads"]["evaluations"][1]
    assert evaluation["model"] == "logistic"
    assert {"auc", "log_loss", "brier", "lift_top_decile", "calibration"} <= set(evaluation)
    row = kinds["deals"]["scores"][0]
    assert 0 <= row["logistic_probability"] <= 1 and row["logistic_reasons"]


def test_score_table_and_csv(demo_ws: Path) -> None:
    table = runner.invoke(app, ["score", str(demo_ws), "--top", "3"])
    assert table.exit_code == 0 and "AUC" in table.stdout and "Open leads" in table.stdout
    csv = runner.invoke(app, ["score", str(demo_ws), "--format", "csv"])
    assert csv.exit_code == 0
    assert csv.stdout.splitlines()[0].startswith("kind,id,created_at,naive_bayes_probability")


def _crmroi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmroi", *args], capture_output=True, text=True, check=False
    )


def test_score_bad_date_is_a_user_error(demo_ws: Path) -> None:
    done = _crmroi("score", str(demo_ws), "--train-until", "2025-13-01")
    assert done.returncode == 1
    assert done.stderr.strip() == "error: --train-until: '2025-13-01' is not a date (YYYY-MM-DD)"


def test_score_on_an_empty_workspace_exits_1(tmp_path: Path) -> None:
    Store.open(tmp_path / "empty", create=True).close()
    done = _crmroi("score", str(tmp_path / "empty"))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: nothing to score")
    assert len(done.stderr.strip().splitlines()) == 1


def test_followups_json_and_ics(demo_ws: Path) -> None:
    ics = demo_ws / "reminders.ics"
    result = runner.invoke(
        app,
        ["followups", str(demo_ws), "--format", "json", "--notify", "ics", "--ics", str(ics)],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["count"] == len(payload["items"]) > 0
    assert payload["sent"] == [f"calendar {ics}"]
    kinds = {i["kind"] for i in payload["items"]}
    assert {"stale_deal", "credit_hold", "rep_dependency"} & kinds
    assert "key_person" in kinds  # the largest accounts resting on one current rep
    kp = payload["key_person"]
    assert 0 < kp["revenue_at_risk_current"] < kp["revenue_total"]
    assert kp["summary"].startswith("key-person risk:")
    assert ics.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


def test_followups_webhook_needs_a_url(demo_ws: Path) -> None:
    result = runner.invoke(app, ["followups", str(demo_ws), "--notify", "webhook"])
    assert result.exit_code != 0
    assert str(result.exception) == "--notify webhook needs --webhook-url"


def test_segments_json(demo_ws: Path) -> None:
    result = runner.invoke(app, ["segments", str(demo_ws), "--by", "segment", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["segments"]
    assert {r["value"] for r in rows} == {"SMB", "Mid-market", "Enterprise"}
    assert all(r["win_rate_low"] <= r["win_rate"] <= r["win_rate_high"] for r in rows)
