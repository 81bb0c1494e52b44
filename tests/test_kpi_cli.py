"""`crmroi kpis` as a user runs it: table, JSON and CSV output, --by, errors; and kpi_panel."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmroi.demo import generate_company, write_demo
from crmroi.kpi import kpi_panel
from crmroi.store import Store


def run(*args: str | Path, locale: str = "C.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_MESSAGES")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "LC_ALL": locale})
    return subprocess.run(
        [sys.executable, "-m", "crmroi", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("kpi-cli") / "ws"
    with Store.open(folder, create=True) as store:
        write_demo(store, generate_company(scale=0.05, seed=5), folder)
    yield folder


def test_json_output(ws: Path) -> None:
    out = run("kpis", ws, "--format", "json", "--bootstrap", "30")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["go_live"] == "2024-01-01"  # the demo's first team
    assert doc["baseline"]["start"] == "2023-01-01"
    assert len(doc["go_live_by_team"]) == 5
    assert {k["name"] for k in doc["kpis"]} >= {"win_rate", "csat", "relationship_concentration"}


def test_table_output_groups_by_area(ws: Path) -> None:
    out = run("kpis", ws, "--bootstrap", "30", "--go-live", "2024-07-01")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for area in ("sales", "marketing", "service", "cost"):
        assert area in text
    assert text.index("sales_volume") < text.index("csat") < text.index("admin_time_share")
    assert "95% interval of the change excludes 0" in text


def test_table_in_the_language_of_lang_or_the_locale(ws: Path) -> None:
    russian = run("kpis", ws, "--bootstrap", "0", "--lang", "ru", locale="fa_IR.UTF-8")
    assert russian.returncode == 0, russian.stderr
    for text in ("KPI: база 01.01.2023", "изменение", "чистое (DiD)", "Доля выигранных сделок"):
        assert text in russian.stdout, text
    assert "сделки за покрытый месяц" in russian.stdout
    assert "Поэтапный запуск, у каждой команды свои окна: APAC 01.06.2024" in russian.stdout
    for english in ("baseline", "95% interval", "Win rate", "per covered month", "Phased"):
        assert english not in russian.stdout, english
    persian = run("kpis", ws, "--bootstrap", "0", locale="fa_IR.UTF-8")  # the locale's
    assert persian.returncode == 0, persian.stderr
    assert "مبنا ۱۱ دی ۱۴۰۱" in persian.stdout and "نرخ موفقیت معاملات" in persian.stdout
    assert "needs whole windows" not in persian.stdout and "به بازه‌های کامل" in persian.stdout


def test_csv_by_source(ws: Path) -> None:
    out = run("kpis", ws, "--format", "csv", "--by", "source", "--bootstrap", "0")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {r["name"] for r in rows} >= {"leads", "cost_per_lead", "cost_per_won_deal"}
    assert {r["group"] for r in rows} >= {"web", "paid_search", "referral"}


def test_errors(tmp_path: Path, ws: Path) -> None:
    out = run("kpis", tmp_path / "missing")
    assert out.returncode == 1 and "not a crmroi workspace" in out.stderr
    out = run("kpis", ws, "--go-live", "2024-13-01")
    assert out.returncode == 1 and "--go-live" in out.stderr
    out = run("kpis", ws, "--by", "planet")
    assert out.returncode == 2


def test_monthly_panel(ws: Path) -> None:
    with Store.open(ws) as store:
        panel = kpi_panel(store, ["win_rate", "sales_volume", "sales_cycle_days"], unit="team")
    assert list(panel.columns) == ["kpi", "unit", "month", "num", "den", "value"]
    win = panel[panel.kpi == "win_rate"]
    assert win.unit.nunique() == 5 and win.month.nunique() >= 30
    assert ((win.value >= 0) & (win.value <= 1)).all()
    assert (win.value == win.num / win.den).all()
