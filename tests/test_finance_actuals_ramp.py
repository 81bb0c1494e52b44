"""Plan versus actual: a measured change is not multiplied by the planned ramp again.

Hand computation (docs/business_case.md, "Plan versus actual"): a win-rate driver on
100 opportunities a month, deals of 10,000 at 40% margin, measured change +0.02 (2
points), so V = 100 x 0.02 x 10,000 x 0.4 = 8,000 a month at the measured change. Go-live
in month 1, planned adoption 50% then 100%, measured adoption 40% in month 1 and 80% in
month 2, KPI after window = months 1-2. The line's shape s is 0.4, 0.8, then the plan's
1.0; its mean over the window is 0.6, so actual = 8,000 x 0.4 / 0.6 = 5,333.33 in month 1,
8,000 x 0.8 / 0.6 = 10,666.67 in month 2 and 13,333.33 from month 3. The window's months
add up to 2 x V = 16,000: what the engine measured. Applying the planned ramp to the
measured change (the old rule) gave 4,000 and 8,000, 12,000 over the window, a quarter
less than measured.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pytest

from crmroi.finance.actuals import compare_plan, measured_shape
from crmroi.finance.case import parse_case
from crmroi.finance.inputs import ActualCosts


@dataclass
class _Change:
    name: str
    baseline: float | None
    change_abs: float | None
    change_rel: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    available: bool = True
    reason: str | None = None


def _case(adoption: dict[str, object] | None = None) -> object:
    return parse_case(
        {
            "name": "ramp",
            "start": "2024-01-01",
            "horizon_months": 12,
            "go_live_month": 1,
            "adoption": adoption or {"by_month": [0.5, 1.0]},
            "benefits": [
                {
                    "name": "more deals won",
                    "kind": "win_rate",
                    "opportunities_per_month": 100,
                    "win_rate": 0.25,
                    "avg_deal_size": 10000,
                    "gross_margin": 0.4,
                    "change": 0.01,
                }
            ],
            "costs": [{"category": "licence", "kind": "recurring", "amount": 1000}],
        }
    )


def _costs() -> ActualCosts:
    flows = np.zeros(13)
    flows[1:3] = 1000.0
    return ActualCosts({"licence": flows}, {"licence": flows}, 2)


CHANGES = {"win_rate": _Change("win_rate", 0.25, 0.02, 0.08)}


def test_measured_change_is_not_ramped_twice_hand_computation() -> None:
    p = compare_plan(
        _case(),  # type: ignore[arg-type]
        _costs(),
        CHANGES,
        after_start=dt.date(2024, 1, 1),
        after_end=dt.date(2024, 2, 29),
        adoption={1: 0.4, 2: 0.8},
    )
    line = next(x for x in p.lines if x.name == "more deals won")
    assert line.measured
    assert line.actual.tolist() == pytest.approx([0.0, 8000 * 0.4 / 0.6, 8000 * 0.8 / 0.6])
    assert line.actual_to_date == pytest.approx(16000.0)  # the window averages V
    # the plan keeps its own ramp and its own change: 100 x 0.01 x 10,000 x 0.4 = 4,000
    assert line.plan.tolist() == pytest.approx([0.0, 2000.0, 4000.0])
    # the re-forecast carries the same rule on: month 3 at the plan's 100% adoption
    flows = p.reforecast
    assert flows.pv_benefits > 0
    case = _case()
    shape = measured_shape(
        case,  # type: ignore[arg-type]
        case.benefits[0],  # type: ignore[attr-defined]
        np.array([0.0, 0.4, 0.8] + [1.0] * 10),
        (1, 2),
    )
    assert shape[3:].tolist() == pytest.approx([1.0 / 0.6] * 10)


def test_without_measured_adoption_the_plan_shape_is_rescaled_to_the_window() -> None:
    """No adoption measure: s = the plan's 0.5, 1.0; mean 0.75 over months 1-2."""
    p = compare_plan(
        _case(),  # type: ignore[arg-type]
        _costs(),
        CHANGES,
        after_start=dt.date(2024, 1, 1),
        after_end=dt.date(2024, 2, 29),
    )
    line = next(x for x in p.lines if x.name == "more deals won")
    assert line.actual.tolist() == pytest.approx([0.0, 8000 * 0.5 / 0.75, 8000 * 1.0 / 0.75])
    assert line.actual_to_date == pytest.approx(16000.0)


def test_a_window_at_full_adoption_gives_the_measured_change_each_month() -> None:
    """Adoption at 100% from go-live: nothing to rescale, V every month."""
    p = compare_plan(
        _case({"start": 1.0, "end": 1.0}),  # type: ignore[arg-type]
        _costs(),
        CHANGES,
        after_start=dt.date(2024, 2, 1),
        after_end=dt.date(2024, 2, 29),
    )
    line = next(x for x in p.lines if x.name == "more deals won")
    assert line.actual.tolist() == pytest.approx([0.0, 8000.0, 8000.0])


def test_phased_roll_out_rescales_by_the_adoption_within_live_teams() -> None:
    """A change measured team by team from each team's go-live was measured at the share
    of live teams' reps working in the CRM (here 50%), not at the company share: actual =
    8,000 x s_m / (0.5 x 1) = 6,400 and 12,800 for s = 0.4, 0.8."""
    p = compare_plan(
        _case(),  # type: ignore[arg-type]
        _costs(),
        CHANGES,
        after_start=dt.date(2024, 1, 1),
        after_end=dt.date(2024, 2, 29),
        adoption={1: 0.4, 2: 0.8},
        adoption_in_window=0.5,
    )
    line = next(x for x in p.lines if x.name == "more deals won")
    assert line.actual.tolist() == pytest.approx([0.0, 6400.0, 12800.0])


def test_adoption_measured_reads_measured_months_then_the_plan() -> None:
    from crmroi.errors import ConfigurationError
    from crmroi.finance.adoption import measured_then_plan
    from crmroi.finance.model import build_model

    case = _case({"start": 0.5, "end": 1.0, "months": 3, "measured": True})
    assert case.needs_workspace  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="adoption is 'measured'"):
        build_model(case)  # type: ignore[arg-type]
    resolved, note = measured_then_plan(case, {1: 0.3, 2: 0.6, 20: 0.9})  # type: ignore[arg-type]
    # months 1-2 measured, then the plan's 1.0 (its ramp: 0.5, 0.75, 1.0); month 20 is
    # past the horizon and ignored
    assert resolved.adoption.by_month == pytest.approx([0.3, 0.6, 1.0] + [1.0] * 9)
    assert not resolved.adoption.measured
    assert note == (
        "adoption: measured in case months 1-2 (month 2: 60% of users working in the CRM, "
        "plan 75%), the plan's ramp from month 3"
    )
    from crmroi.messages import render
    from crmroi.reports.i18n import get_lang

    russian = render(note, get_lang("ru"))
    assert russian.startswith("внедрение: измерено в месяцах кейса 1–2") and "60%" in russian
    flows = build_model(resolved).table().benefits["more deals won"]
    assert flows[1:4].tolist() == pytest.approx([4000 * 0.3, 4000 * 0.6, 4000 * 1.0])


def test_only_the_adoption_ramp_can_be_measured() -> None:
    from crmroi.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="only the adoption ramp can be measured"):
        parse_case({"name": "x", "benefit_ramp": {"measured": True}})
    with pytest.raises(ConfigurationError, match="needed to place measured adoption"):
        parse_case({"name": "x", "adoption": {"measured": True}})


def _one_month(share: float) -> object:
    """Measured over case month 1 only, at `share` adoption (plan 50% then 100%)."""
    return compare_plan(
        _case(),  # type: ignore[arg-type]
        _costs(),
        CHANGES,
        after_start=dt.date(2024, 1, 1),
        after_end=dt.date(2024, 1, 31),
        adoption={1: share},
    )


def test_a_change_measured_at_low_adoption_stays_at_plan_with_a_warning() -> None:
    """Measured at 10% adoption: S = 0.1, full adoption books 1 / 0.1 = 10 x the measured
    change, above the limit of 5: the line stays at plan (2,000 then 4,000, as the plan
    computes it: 100 x 0.01 x 10,000 x 0.4 = 4,000 at 50% then 100%)."""
    from crmroi.messages import render
    from crmroi.reports.i18n import get_lang

    p = _one_month(0.1)
    line = next(x for x in p.lines if x.name == "more deals won")  # type: ignore[attr-defined]
    assert not line.measured
    assert line.actual.tolist() == pytest.approx([0.0, 2000.0, 4000.0])
    (x,) = p.extrapolated  # type: ignore[attr-defined]
    assert (x.line, x.refused) == ("more deals won", True)
    assert x.measured_at == pytest.approx(0.1) and x.factor == pytest.approx(10.0)
    message = x.message()
    assert message.code == "measured_not_extrapolated"
    assert str(message).startswith("more deals won: the change was measured at 10% of its full")
    assert "multiplied by 10.0, more than 5" in str(message)
    doc = p.to_json()["warnings"]  # type: ignore[attr-defined]
    assert doc == [
        {
            "code": "measured_not_extrapolated",
            "line": "more deals won",
            "measured_at": pytest.approx(0.1),
            "factor": pytest.approx(10.0),
            "refused": True,
            "message": str(message),
        }
    ]
    russian = render(message, get_lang("ru"))
    assert russian.startswith("more deals won: изменение измерено при 10%")
    from crmroi.web.api_actuals import ActualsOut, strict_json

    api = ActualsOut(case="ramp", available=True, **strict_json(p.to_json()))  # type: ignore[attr-defined]
    assert api.warnings == doc


def test_a_change_measured_under_half_adoption_is_extrapolated_with_a_warning() -> None:
    """At 40%: S = 0.4, factor 1 / 0.4 = 2.5 (above 2, under 5): re-valued, V = 8,000 in the
    window's month 1 and 8,000 / 0.4 = 20,000 at the plan's 100% in month 2, warned."""
    p = _one_month(0.4)
    line = next(x for x in p.lines if x.name == "more deals won")  # type: ignore[attr-defined]
    assert line.measured
    assert line.actual.tolist() == pytest.approx([0.0, 8000.0, 20000.0])
    (x,) = p.extrapolated  # type: ignore[attr-defined]
    assert not x.refused and x.factor == pytest.approx(2.5)
    assert x.message().code == "measured_extrapolated"
    assert "books up to 2.5 times it" in str(x.message())


def test_at_half_adoption_the_factor_is_two_and_nothing_warns() -> None:
    """S = 0.5, factor exactly 2: the warning is for factors above 2."""
    p = _one_month(0.5)
    assert p.extrapolated == []  # type: ignore[attr-defined]
    line = next(x for x in p.lines if x.name == "more deals won")  # type: ignore[attr-defined]
    assert line.actual.tolist() == pytest.approx([0.0, 8000.0, 16000.0])
