"""Adoption measured from the workspace (crmroi.kpi.adoption) against the demo's injected
curve, by hand on small frames, and the plan-vs-measured check (crmroi.finance.adoption)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from crmroi.finance.adoption import compare_adoption, measured_ramp, planned_adoption
from crmroi.finance.case import load_case
from crmroi.finance.model import build_model
from crmroi.kpi.adoption import adoption_from_frames, measure_adoption
from crmroi.reports.i18n import get_lang
from crmroi.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"


def test_demo_adoption_curve_recovered(small_demo_folder: Path) -> None:
    """The measured share per month equals the share of employed reps the generator
    made adopt (truth.json), month by month."""
    truth = json.loads((small_demo_folder / "truth.json").read_text(encoding="utf-8"))
    expected = {
        dt.date.fromisoformat(x["month"]): x["share"] for x in truth["adoption"]["company_by_month"]
    }
    with Store.open(small_demo_folder) as store:
        measured = measure_adoption(store, basis="activities").share_by_month()
    assert set(measured) == set(expected)
    for month, share in expected.items():
        assert measured[month] == pytest.approx(share, abs=1e-6), month
    # the curve rises from nothing before the first go-live to most reps at the end
    assert measured[dt.date(2023, 12, 1)] == 0.0
    assert measured[dt.date(2025, 12, 1)] >= 0.8


def test_adoption_by_hand() -> None:
    """Three reps in June 2024 (20 working days): R1 logs on 12 days (active), R2 on 5
    (not), R3 joined on the 17th (10 working days) and logs on 6 (active); team B is not
    live, so R4 is employed but cannot be active; R5 left before June."""
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "R4", "R5"],
            "team": ["A", "A", "A", "B", "A"],
            "hired_on": [dt.date(2020, 1, 1)] * 2 + [dt.date(2024, 6, 17)] + [None] * 2,
            "left_on": [None] * 4 + [dt.date(2024, 5, 20)],
        }
    )
    june = dt.date(2024, 6, 1)
    logged = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "R4"],
            "month": [june] * 4,
            "days": [12, 5, 6, 20],
            "n": [30, 8, 9, 40],
        }
    )
    a = adoption_from_frames(
        reps, logged, dt.date(2024, 6, 1), {"A": dt.date(2024, 6, 1), "B": dt.date(2024, 9, 1)}
    )
    (m,) = [x for x in a.months if x.month == june]
    assert (m.employed, m.live, m.active) == (4, 3, 2)
    assert m.share == pytest.approx(0.5)
    assert m.by_team == {"A": (2, 3), "B": (0, 1)}
    assert m.logged_per_rep_day == pytest.approx((30 + 8 + 9) / (20 + 20 + 10))


def test_measured_ramp_holds_the_gap() -> None:
    case = load_case(EXAMPLE)
    plan = planned_adoption(case)
    first = case.go_live_month
    assert plan[first - 1] == 0.0 and plan[first] == pytest.approx(case.adoption.start)
    measured = {first: 0.05, first + 1: 0.10}
    ramp = measured_ramp(case, measured, first + 1)
    assert ramp.by_month is not None
    assert ramp.by_month[:2] == [0.05, 0.10]
    gap = plan[first + 1] - 0.10
    assert ramp.by_month[2] == pytest.approx(plan[first + 2] - gap)
    assert max(ramp.by_month) <= 1.0


def _table_for(c: object) -> object:
    return build_model(c).table()  # type: ignore[arg-type]


def test_lagging_adoption_moves_payback_and_warns() -> None:
    case = load_case(EXAMPLE)
    first = case.go_live_month
    slow = {m: 0.02 for m in range(first, first + 12)}
    check = compare_adoption(case, slow, first + 11, _table_for)  # type: ignore[arg-type]
    assert check.npv_measured < check.npv_plan
    assert check.payback_moves
    text = check.warning()
    assert text is not None and "lags the plan" in text and "payback (months)" in text
    pm, pp = check.payback_measured, check.payback_plan
    assert pp is not None and (pm is None or not math.isfinite(pm) or pm > pp)
    doc = json.loads(json.dumps(check.to_json(), allow_nan=False))  # strict JSON
    assert doc["warning"] == text and len(doc["months"]) == 12
    message = check.warning_message()
    assert message is not None and message.code == "adoption_lag" and str(message) == text
    russian = message.render(get_lang("ru"))
    assert russian.startswith("измеренное внедрение отстаёт от плана") and "2%" in russian
    assert "پذیرش اندازه‌گیری‌شده از برنامه عقب است" in message.render(get_lang("fa"))
    # measured exactly at plan: same figures, no warning
    plan = planned_adoption(case)
    same = {m: float(plan[m]) for m in range(first, first + 12)}
    check = compare_adoption(case, same, first + 11, _table_for)  # type: ignore[arg-type]
    assert check.npv_measured == pytest.approx(check.npv_plan)
    assert check.warning() is None
