"""The time series with units that join and leave (reps): each unit against its own
months before go-live.

References: a panel without noise, where the effect is known exactly and the company
series' level moves only with the make-up of the team; a balanced panel, where taking
each unit's level out changes the series by a constant and so must change nothing;
and simulated teams with known truth (no effect), where the interval must hold zero
at about its nominal rate while the plain company series' does not.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmroi.attribution import attribute
from crmroi.attribution.its import interrupted_time_series

GO_LIVE = date(2024, 1, 1)
PERIODS = pd.date_range("2023-01-01", periods=24, freq="MS")  # 12 months before go-live
SLOTS = 30


def _reps(
    seed: int,
    effect: float,
    *,
    noise: float,
    turnover: float,
    shock: float = 0.0,
    log: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A rep-month panel: each rep's own level (a share near 0.30, sd 0.03), a market term,
    a shock common to the month (sd `shock`), rep-month noise and `effect` from go-live
    (in logs every term a factor); each month a slot's rep is replaced by a new one with
    probability `turnover`. Weight: hours."""
    rng = np.random.default_rng(seed)
    market = 1.0 + 0.05 * np.sin(np.arange(PERIODS.size) / 2) + rng.normal(0, 0.01, PERIODS.size)
    live = np.asarray(pd.Timestamp(GO_LIVE) <= PERIODS)
    common = rng.normal(0.0, shock, PERIODS.size)
    rows = []
    next_id = SLOTS
    rep = np.arange(SLOTS)
    level = rng.normal(0.30, 0.03, SLOTS)
    for m, period in enumerate(PERIODS):
        for s in np.flatnonzero(rng.random(SLOTS) < turnover):
            rep[s], level[s] = next_id, rng.normal(0.30, 0.03)
            next_id += 1
        own = rng.normal(0.0, noise, SLOTS) + common[m]
        if log:
            value = level * market[m] ** 0.05 * np.exp(own) * (1.0 + effect * live[m])
        else:
            value = level + 0.05 * (market[m] - 1.0) + own + effect * live[m]
        hours = rng.normal(160.0, 10.0, SLOTS)
        rows += [(f"R{r}", period, v, h) for r, v, h in zip(rep, value, hours, strict=True)]
    panel = pd.DataFrame(rows, columns=["unit", "period", "value", "weight"])
    return panel, pd.DataFrame({"period": PERIODS, "market": market})


def _held(result: object) -> bool:
    return bool(result.ci_low <= 0.0 <= result.ci_high)  # type: ignore[attr-defined]


def test_without_noise_each_unit_against_its_own_months_gives_the_exact_effect() -> None:
    panel, market = _reps(1, -0.06, noise=0.0, turnover=0.05)
    assert panel["unit"].nunique() > SLOTS + 10  # reps do come and go
    got = interrupted_time_series(panel, GO_LIVE, name="x", covariates=market, by_unit=True)
    assert got.effect == pytest.approx(-0.06, abs=1e-10)
    hired_after = panel.groupby("unit")["period"].min() >= pd.Timestamp(GO_LIVE)
    assert any(
        n.endswith(f"units: {(~hired_after).sum()}; left out, with no month before go-live: "
                   f"{hired_after.sum()}")
        for n in got.notes
    )  # fmt: skip
    plain = interrupted_time_series(panel, GO_LIVE, name="x", covariates=market)
    assert abs(plain.effect + 0.06) > 5e-4  # the make-up of the team moved it


def test_in_logs_each_unit_is_taken_relative_to_its_own_level() -> None:
    panel, market = _reps(2, 0.08, noise=0.0, turnover=0.05, log=True)
    got = interrupted_time_series(
        panel, GO_LIVE, name="x", covariates=market, scale="log", by_unit=True
    )
    assert got.effect_rel == pytest.approx(0.08, abs=1e-10)


def _half_width_over_t(result: object) -> float:
    """The interval's half width over its t quantile (the degrees of freedom from the note)."""
    note = next(n for n in result.notes if "degrees of freedom" in n)  # type: ignore[attr-defined]
    df = float(note.rsplit(" with ", 1)[1].split()[0])
    width = result.ci_high - result.ci_low  # type: ignore[attr-defined]
    return float(width / 2 / stats.t.ppf(0.975, df))


def test_a_balanced_panel_gives_the_company_series_result() -> None:
    """No rep joins or leaves and every rep-month weighs the same: the units' levels
    shift every month by the same constant, which the fit's constant takes up; the
    variance is the company series' split in two parts (only its degrees of freedom
    differ)."""
    panel, market = _reps(3, -0.06, noise=0.02, turnover=0.0, shock=0.01)
    panel["weight"] = 160.0
    got = interrupted_time_series(panel, GO_LIVE, name="x", covariates=market, by_unit=True)
    plain = interrupted_time_series(panel, GO_LIVE, name="x", covariates=market)
    assert got.effect == pytest.approx(plain.effect, rel=1e-9)
    assert _half_width_over_t(got) == pytest.approx(
        _half_width_over_t(plain), rel=5e-3
    )  # df rounded in the note


def test_with_reps_coming_and_going_the_interval_holds_zero_at_about_the_nominal_rate() -> None:
    """No effect; reps replaced at 4% a month (their own levels differ by 0.03), rep-month
    noise 0.02 and a shock common to the month of 0.003. The
    company series' level drifts with the make-up of the team between the months fitted
    and those measured, which its months' noise does not show: its intervals are too
    narrow. Unit by unit they hold zero at about 95% (binomial sd over 300: 1.3 points)."""
    runs = 300
    held = plain_held = 0
    for seed in range(runs):
        panel, market = _reps(2000 + seed, 0.0, noise=0.02, turnover=0.04, shock=0.003)
        dates = {u: GO_LIVE for u in panel["unit"].unique()}
        own = attribute(
            panel, dates, name="admin_time_share", covariates=market,
            clusters={u: "team" for u in dates},
        )  # fmt: skip
        plain = attribute(panel, dates, name="admin_time_share", covariates=market)
        assert own.method == plain.method == "its"
        held += _held(own)
        plain_held += _held(plain)
    assert 0.92 <= held / runs <= 0.98
    assert plain_held / runs < 0.88


def test_levels_that_use_up_every_month_before_go_live_are_refused() -> None:
    # unit i is seen before go-live only in month i: each level rests on one month, so the
    # fit has no residual left to tell the units' noise (its error would count as zero)
    from crmroi.attribution.results import AttributionError

    rng = np.random.default_rng(3)
    rows = [
        (f"R{i}", period, 0.3 + rng.normal(0, 0.02), 160.0)
        for i in range(12)
        for m, period in enumerate(PERIODS)
        if m == i or period >= pd.Timestamp(GO_LIVE)
    ]
    panel = pd.DataFrame(rows, columns=["unit", "period", "value", "weight"])
    with pytest.raises(AttributionError, match="nothing is left to tell their noise"):
        interrupted_time_series(panel, GO_LIVE, name="x", by_unit=True)
    # two units seen in the same two months before go-live leave a residual: then it is
    # measured (a unit-month chain without a cycle, R0 in months 0 and 1 alone, would not)
    extra = pd.DataFrame(
        [("R0", PERIODS[1], 0.31, 160.0), ("R1", PERIODS[0], 0.29, 160.0)], columns=panel.columns
    )
    got = interrupted_time_series(pd.concat([panel, extra]), GO_LIVE, name="x", by_unit=True)
    assert np.isfinite(got.effect) and got.ci_low < got.ci_high
