"""`crmroi roi` through `python -m crmroi`: JSON contract keys and exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # a wide terminal: rich would otherwise wrap the one-line error at 80 columns
    env = {**os.environ, "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "crmroi", "roi", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_json_has_the_contract_keys() -> None:
    proc = run(str(EXAMPLE), "--simulate", "5000", "--seed", "7", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    summary_keys = {
        "horizon_months",
        "discount_rate",
        "pv_benefits",
        "pv_costs",
        "npv",
        "roi",
        "irr",
        "payback_months",
        "discounted_payback_months",
    }
    assert summary_keys <= set(doc)
    assert summary_keys <= set(doc["risk_adjusted"])
    assert doc["horizon_months"] == 36
    assert doc["discount_rate"] == 0.10
    sim = doc["simulation"]
    assert {
        "runs",
        "seed",
        "p_roi_positive",
        "roi_p10",
        "roi_p50",
        "roi_p90",
        "npv_p10",
        "npv_p50",
        "npv_p90",
    } <= set(sim)
    assert sim["runs"] == 5000 and sim["seed"] == 7
    assert sim["roi_p10"] <= sim["roi_p50"] <= sim["roi_p90"]
    by = sim["p_roi_positive_by_horizon"]
    assert set(by) == {"12", "36"}
    assert by["36"] == {
        "p_roi_positive": sim["p_roi_positive"],
        "p_roi_positive_risk_adjusted": sim["p_roi_positive_risk_adjusted"],
    }
    for p in by.values():
        assert p["p_roi_positive_risk_adjusted"] <= p["p_roi_positive"]


def test_simulation_table_shows_the_four_probabilities() -> None:
    proc = run(str(EXAMPLE), "--simulate", "2000", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Probability that ROI > 0 (same runs)" in proc.stdout
    lines = proc.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "Probability that ROI > 0" in line)
    block = "\n".join(lines[head : head + 8])
    assert "12 months" in block and "36 months" in block
    assert "before risk adj." in block and "risk adjusted" in block


def test_table_output() -> None:
    proc = run(str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    for text in ("Cash flows by category", "Monthly cash flows", "NPV", "Intangible benefits"):
        assert text in proc.stdout


def test_bad_case_file_is_exit_1_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text(EXAMPLE.read_text().replace("discount_rate: 0.10", "discount_rate: ten"))
    proc = run(str(bad))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "case.yaml line 20: discount_rate" in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_file_and_missing_workspace_are_exit_1(tmp_path: Path) -> None:
    proc = run(str(EXAMPLE), "--workspace", str(tmp_path / "nowhere"), "--actuals")
    assert proc.returncode == 1
    assert "not a crmroi workspace" in proc.stderr
    assert run(str(EXAMPLE), "--actuals").returncode == 1


def test_bad_usage_is_exit_2() -> None:
    assert run(str(EXAMPLE), "--format", "xml").returncode == 2
    assert run().returncode == 2
