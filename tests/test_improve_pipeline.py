"""Pipeline forecast (crmroi.improve.pipeline): by hand and back-tested on the demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.improve.frames import load_frames
from crmroi.improve.pipeline import backtest, forecast_pipeline
from crmroi.store import Store


def _deals() -> pd.DataFrame:
    """Each month from 2023-01 to 2025-06 two deals are created on the 1st: one won on the 10th
    (amount 100), one lost on the 10th; cycles are 9 days. Plus one open deal of 1,000
    created on 2025-06-28 (age 2 days on 2025-06-30)."""
    rows = []
    for month in pd.date_range("2023-01-01", "2025-06-01", freq="MS"):
        for i, won in enumerate((True, False)):
            rows.append(
                {
                    "deal_id": f"D{month:%Y%m}{i}",
                    "account_id": "A",
                    "owner_rep_id": "R1",
                    "created_at": month,
                    "closed_at": month + pd.Timedelta(days=9),
                    "is_closed": True,
                    "is_won": won,
                    "amount": 100.0,
                }
            )
    rows.append(
        {
            "deal_id": "OPEN",
            "account_id": "A",
            "owner_rep_id": "R1",
            "created_at": pd.Timestamp("2025-06-28"),
            "closed_at": pd.NaT,
            "is_closed": False,
            "is_won": False,
            "amount": 1000.0,
        }
    )
    return pd.DataFrame(rows)


def test_forecast_by_hand() -> None:
    """The open deal is won at about the win rate (one half) and closes 9 days after
    creation, in July; deals not yet created bring 100 won a month (each month's deal
    created after the origin wins in the month)."""
    frames = {"deals": _deals()}
    f = forecast_pipeline(frames, pd.Timestamp("2025-06-30"), months=3)
    assert [m.month for m in f.months] == list(pd.date_range("2025-07-01", periods=3, freq="MS"))
    assert f.open_count == 1 and f.open_amount == 1000.0
    july, aug, sep = f.months
    assert july.open_deals == pytest.approx(500.0, rel=0.05)
    assert aug.open_deals == sep.open_deals == 0.0
    assert [m.new_deals for m in f.months] == [100.0, 100.0, 100.0]
    q = july.open_deals / 1000.0
    sd = np.sqrt(1000.0**2 * q * (1 - q))  # the run rate has no spread here
    assert july.high - july.expected == pytest.approx(1.2815515655446004 * sd)
    # no back-test given: the model's own interval, labelled, and no verdict
    assert not july.calibrated and july.verdict == "untested"
    assert july.to_json()["interval"] == "model (not calibrated)"
    # naive: April, May and June each won 100
    assert [m.naive for m in f.months] == [100.0, 100.0, 100.0]


@pytest.fixture(scope="module")
def demo_frames(small_demo_folder: Path) -> dict[str, pd.DataFrame]:
    with Store.open(small_demo_folder) as store:
        return load_frames(store, ["reps", "accounts", "deals", "orders"])


def test_backtest_on_the_demo(demo_frames: dict[str, pd.DataFrame]) -> None:
    """Four origins (a few seconds): the accuracy is the forecast_accuracy rule over the
    rows, and the forecast is closer than the naive run rate on the demo."""
    b = backtest(
        demo_frames,
        months=3,
        first_origin=pd.Timestamp("2025-01-01"),
        last_origin=pd.Timestamp("2025-04-01"),
    )
    rows = b.rows
    assert set(rows["origin"]) == set(pd.date_range("2025-01-01", "2025-04-01", freq="MS"))
    deals = demo_frames["deals"]
    won = deals[deals["is_won"].fillna(False).astype(bool)]
    for r in rows.itertuples():
        end = r.month + pd.offsets.MonthBegin()
        inside = (won["closed_at"] >= r.month) & (won["closed_at"] < end)
        assert r.actual == pytest.approx(won.loc[inside, "amount"].sum())
    table = b.by_horizon().set_index("horizon")
    h1 = rows[rows["horizon"] == 1]
    expected = (1 - (h1["forecast"] - h1["actual"]).abs() / h1["actual"]).mean()
    assert table.loc[1, "accuracy"] == pytest.approx(expected)
    assert table["accuracy"].mean() > 0.6  # the full run on the demo: docs/improve.md
    assert (rows["model_low"] <= rows["forecast"]).all()
    assert (rows["forecast"] <= rows["model_high"]).all()
    assert rows["low"].isna().all()  # four origins: too few earlier months to calibrate
    assert table["calibrated"].eq(0).all() and table["better_than_naive"].eq("untested").all()


def test_forecast_cli_json(small_demo_folder: Path) -> None:
    args = ["forecast", str(small_demo_folder), "--months", "2", "--no-backtest"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["interval"] == "80%" and len(doc["months"]) == 2
    first = doc["months"][0]
    assert first["expected"] == pytest.approx(first["open_deals"] + first["new_deals"])
    assert first["low"] <= first["expected"] <= first["high"]


def test_forecast_cli_json_carries_the_backtest(small_demo_folder: Path) -> None:
    """With the back-test (the default), the JSON gives per horizon the accuracy, the naive
    accuracy, the calibrated coverage and the verdict, and per month the calibrated interval,
    the naive figure, the blend and which to use; the per-horizon figures equal a recount from the
    back-test's own rows."""
    result = CliRunner().invoke(app, ["forecast", str(small_demo_folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_horizon = {r["horizon"]: r for r in doc["backtest"]["by_horizon"]}
    rows = pd.DataFrame(doc["backtest"]["forecasts"])
    assert sorted(by_horizon) == list(range(1, 7))
    for h, r in by_horizon.items():
        own = rows[(rows["horizon"] == h) & (rows["actual"] > 0)]
        acc = (1 - (own["forecast"] - own["actual"]).abs() / own["actual"]).mean()
        assert r["accuracy"] == pytest.approx(acc)
        with_interval = own[own["low"].notna()]
        assert r["calibrated"] == len(with_interval) > 0
        inside = (with_interval["actual"] >= with_interval["low"]) & (
            with_interval["actual"] <= with_interval["high"]
        )
        assert r["coverage"] == pytest.approx(inside.mean())
        assert {"naive_accuracy", "recommended_accuracy", "blend_coverage"} <= set(r)
        assert r["better_than_naive"] in {"better", "no_better", "untested"}
    for m in doc["months"]:
        h = m["horizon"]
        assert m["interval"] == "calibrated" and m["low"] <= m["high"]
        assert m["better_than_naive"] == by_horizon[h]["better_than_naive"]
        better = m["better_than_naive"] == "better"
        assert m["recommended"] == ("pipeline" if better else "blend")
        assert m["blend"] == pytest.approx((m["expected"] + m["naive"]) / 2)
        assert m["blend_low"] <= m["blend_high"]
