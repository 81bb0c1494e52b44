"""A range with a `level` is an interval: its PERT holds that share of the draws inside it.

References: scipy's Beta quantiles (the closed form for a symmetric range) and Monte Carlo
draws of the same PERT.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crmroi.finance.estimates import Range, pert_draws, pert_mean
from crmroi.finance.model import MeasuredChange
from crmroi.finance.pert_fit import _tails, pert_bounds, symmetric_factor


def test_symmetric_factor_is_the_beta33_quantile() -> None:
    # Beta(3, 3) is the PERT of a symmetric range; its 97.5% quantile is 0.8534
    q = stats.beta.ppf(0.975, 3, 3)
    assert q == pytest.approx(0.853367, abs=1e-6)
    assert symmetric_factor(0.95) == pytest.approx(1.0 / (2 * q - 1), rel=1e-12)
    lo, hi = pert_bounds(Range(low=0.03, likely=0.05, high=0.07, level=0.95))
    assert (lo, hi) == pytest.approx((0.05 - 0.02 * 1.41496, 0.05 + 0.02 * 1.41496), rel=1e-5)


def test_without_level_the_range_is_minimum_and_maximum() -> None:
    r = Range(low=1.0, likely=2.0, high=5.0)
    assert pert_bounds(r) == (1.0, 5.0)
    draws = pert_draws(r, 10_000, np.random.default_rng(0))
    assert draws.min() >= 1.0 and draws.max() <= 5.0
    assert pert_mean(r) == pytest.approx((1 + 8 + 5) / 6)


@settings(max_examples=60, deadline=None)
@given(
    likely=st.floats(-1.0, 1.0),
    width=st.floats(1e-3, 2.0),
    share_below=st.floats(0.02, 0.98),  # up to 49 times as far on one side as the other
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_level_share_lies_inside_the_interval(
    likely: float, width: float, share_below: float, level: float
) -> None:
    below, above = width * share_below, width * (1 - share_below)
    r = Range(low=likely - below, likely=likely, high=likely + above, level=level)
    a, b = pert_bounds(r)
    assert a < r.low and b > r.high
    tail_low, tail_high = _tails(a, r.likely, b, r.low, r.high)
    assert tail_low == pytest.approx((1 - level) / 2, abs=1e-7)
    assert tail_high == pytest.approx((1 - level) / 2, abs=1e-7)


def test_an_estimate_at_its_interval_edge_still_gets_tails() -> None:
    r = Range(low=0.0, likely=0.0, high=0.05, level=0.95)
    a, b = pert_bounds(r)
    assert a < 0.0 and b > 0.05
    assert _tails(a, 0.0, b, 0.0, 0.05) == pytest.approx((0.025, 0.025), abs=1e-7)


def test_draws_cover_the_interval_at_its_level() -> None:
    r = Range(low=0.0, likely=0.01, high=0.05, level=0.95)  # lopsided, as measured ratios are
    draws = pert_draws(r, 400_000, np.random.default_rng(7))
    inside = float(np.mean((draws >= r.low) & (draws <= r.high)))
    assert inside == pytest.approx(0.95, abs=0.002)  # Monte Carlo error about 0.0003
    assert float(np.mean(draws < r.low)) == pytest.approx(0.025, abs=0.0015)


def test_measured_change_is_a_95_percent_interval() -> None:
    est = MeasuredChange(0.05, 0.03, 0.07).estimate()
    assert isinstance(est, Range) and est.level == 0.95
    assert (est.low, est.likely, est.high) == (0.03, 0.05, 0.07)
    draws = pert_draws(est, 200_000, np.random.default_rng(3))
    # a symmetric PERT is Beta(3, 3) on its range: sd = range / sqrt(28)
    sd = 2 * symmetric_factor(0.95) * 0.02 / np.sqrt(28)
    assert float(draws.std()) == pytest.approx(sd, rel=0.01)
    # close to a normal 95% interval's sd (0.02 / 1.96); PERT alone, at [0.03, 0.07], is 0.71x
    assert 1.0 < sd / (0.02 / 1.96) < 1.06


def test_level_must_be_a_share() -> None:
    with pytest.raises(ValueError):
        Range(low=0.0, likely=0.5, high=1.0, level=1.0)


def test_the_case_editor_keeps_a_range_level() -> None:
    from importlib.resources import files

    from crmroi.web.case_forms import data_from_form, form_from_text, form_items

    text = files("crmroi.reports").joinpath("demo_case.yaml").read_text(encoding="utf-8")
    old = "change: {low: 0.0, likely: 0.015, high: 0.04}"
    assert old in text
    text = text.replace(old, "change: {low: 0.0, likely: 0.015, high: 0.04, level: 0.9}")
    data = data_from_form(form_items(form_from_text(text)))
    changes = [b.get("change") for b in data["benefits"]]
    assert {"low": 0.0, "likely": 0.015, "high": 0.04, "level": 0.9} in changes
    # without a level, the editor writes none
    plain = data_from_form(form_items(form_from_text(text.replace(", level: 0.9", ""))))
    plain_changes = [b.get("change") for b in plain["benefits"]]
    assert {"low": 0.0, "likely": 0.015, "high": 0.04} in plain_changes
    assert not any(isinstance(c, dict) and "level" in c for c in plain_changes)


@pytest.mark.parametrize("level", [0.5, 0.8, 0.95, 0.99, 0.999])
@pytest.mark.parametrize("likely", [0.0, 1e-6, 0.5, 1.0 - 1e-6, 1.0])
def test_extreme_intervals_still_solve(level: float, likely: float) -> None:
    # an estimate at either end of its interval, or lopsided a million to one
    lo, hi = pert_bounds(Range(low=0.0, likely=likely, high=1.0, level=level))
    tail_low, tail_high = _tails(lo, likely, hi, 0.0, 1.0)
    assert tail_low == pytest.approx((1 - level) / 2, abs=1e-7)
    assert tail_high == pytest.approx((1 - level) / 2, abs=1e-7)


def test_a_range_no_pert_fits_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from scipy import optimize

    from crmroi.errors import ConfigurationError
    from crmroi.finance import pert_fit

    class Stuck:
        x = np.zeros(2)  # a root finder that never moves from its start

    pert_fit._solve.cache_clear()
    monkeypatch.setattr(optimize, "root", lambda *args, **kwargs: Stuck())
    with pytest.raises(ConfigurationError, match="no PERT distribution holds"):
        pert_bounds(Range(low=0.0, likely=0.01, high=0.05, level=0.95))
    pert_fit._solve.cache_clear()
