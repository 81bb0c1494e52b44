"""crmroi.finance.metrics against spreadsheet documentation examples and numpy-financial."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.finance.cashflow import annualise, discount_factors, monthly_rate
from crmroi.finance.metrics import (
    discounted_payback,
    irr,
    mirr,
    npv,
    payback,
    payback_many,
    xirr,
    xnpv,
)

# Microsoft Excel help, "NPV function", example 1:
# https://support.microsoft.com/en-us/office/npv-function-8672cb67-2576-4d07-b67b-ac28acf2a568
# NPV(10%, -10000, 3000, 4200, 6800) = 1,188.44 (the first value is discounted one period).
# Example 2: NPV(8%, 8000, 9200, 10000, 12000, 14500) + (-40000) = 1,922.06.


def test_npv_excel_examples() -> None:
    assert npv(0.10, [0, -10000, 3000, 4200, 6800]) == pytest.approx(1188.44, abs=0.005)
    flows = [-40000, 8000, 9200, 10000, 12000, 14500]
    assert npv(0.08, flows) == pytest.approx(1922.06, abs=0.005)


# Microsoft Excel help, "IRR function":
# https://support.microsoft.com/en-us/office/irr-function-64925eaa-9988-495b-b290-3ad0c163c1bc
# -70000, 12000, 15000, 18000, 21000 -> -2.1%; adding 26000 -> 8.7%;
# -70000, 12000, 15000 -> -44.4%. The CellWorks manual gives 0.0866 for the five-year flows:
# https://cellworks.au/manual/irrFunctionExplanation.html


def test_irr_excel_examples() -> None:
    assert irr([-70000, 12000, 15000, 18000, 21000]) == pytest.approx(-0.021245, abs=5e-5)
    assert irr([-70000, 12000, 15000, 18000, 21000, 26000]) == pytest.approx(0.086631, abs=5e-5)
    assert irr([-70000, 12000, 15000]) == pytest.approx(-0.443507, abs=5e-5)


def test_irr_without_sign_change_is_nan() -> None:
    assert math.isnan(irr([100, 200]))
    assert math.isnan(irr([-100, -200]))


# Microsoft Excel help, "MIRR function" (-120000, 39000, 30000, 21000, 37000, 46000;
# finance 10%, reinvest 12%): 12.6% over five years, -4.8% over three, 13.5% at 14%.
# https://support.microsoft.com/en-us/excel/functions/mirr-function


def test_mirr_excel_examples() -> None:
    flows = [-120000, 39000, 30000, 21000, 37000, 46000]
    assert mirr(flows, 0.10, 0.12) == pytest.approx(0.126094, abs=5e-5)
    assert mirr(flows[:4], 0.10, 0.12) == pytest.approx(-0.048044, abs=5e-5)
    assert mirr(flows, 0.10, 0.14) == pytest.approx(0.134759, abs=5e-5)


# Microsoft Excel help, "XNPV function" and "XIRR function" (same data):
# https://support.microsoft.com/en-us/office/xnpv-function-1b42bbf6-370f-4532-a0eb-d67c16b664b7
# https://support.microsoft.com/en-us/office/xirr-function-de1242ec-6477-445b-b11b-a303ad9adc9d
# XNPV(9%, ...) = 2,086.65 (the VBA reference page gives 2086.6476); XIRR = 0.373362535.
XDATES = [
    dt.date(2008, 1, 1),
    dt.date(2008, 3, 1),
    dt.date(2008, 10, 30),
    dt.date(2009, 2, 15),
    dt.date(2009, 4, 1),
]
XVALUES = [-10000, 2750, 4250, 3250, 2750]


def test_xnpv_excel_example() -> None:
    assert xnpv(0.09, XVALUES, XDATES) == pytest.approx(2086.6476, abs=5e-4)


def test_xirr_excel_example() -> None:
    assert xirr(XVALUES, XDATES) == pytest.approx(0.373362535, abs=1e-8)
    assert xnpv(xirr(XVALUES, XDATES), XVALUES, XDATES) == pytest.approx(0.0, abs=1e-6)


def test_xirr_bisection_fallback_and_errors() -> None:
    # a bad guess makes Newton leave (-1, inf); bisection still finds the root
    assert xirr(XVALUES, XDATES, guess=-0.99) == pytest.approx(0.373362535, abs=1e-6)
    assert math.isnan(xirr([1, 2], XDATES[:2]))
    with pytest.raises(ValueError, match="values but"):
        xnpv(0.1, [1, 2, 3], XDATES[:2])
    with pytest.raises(ValueError, match="on or after the first date"):
        xnpv(0.1, [1, 2], [XDATES[1], XDATES[0]])


@pytest.mark.parametrize("rate", [0.0, 0.01, 0.05, 0.2])
def test_npv_matches_numpy_financial(rate: float) -> None:
    rng = np.random.default_rng(1)
    flows = rng.normal(0, 1000, 37)
    assert npv(rate, flows) == pytest.approx(float(npf.npv(rate, flows)))


def test_monthly_rate_round_trip() -> None:
    assert monthly_rate(0.10) == pytest.approx(1.1 ** (1 / 12) - 1)
    assert annualise(monthly_rate(0.10)) == pytest.approx(0.10)
    assert discount_factors(0.10, 13)[12] == pytest.approx(1 / 1.1)


def test_payback_interpolates() -> None:
    assert payback([-100, 30, 30, 30, 30]) == pytest.approx(3 + 10 / 30)
    assert payback([50, 10]) == 0.0
    assert math.isnan(payback([-100, 10, 10]))
    # a later outlay pushes the cumulative flow below zero again: the later crossing counts
    assert payback([-100, 150, -100, 100]) == pytest.approx(2 + 50 / 100)


def test_discounted_payback_is_later_than_simple() -> None:
    flows = [-1000] + [100] * 20
    assert payback(flows) == pytest.approx(10.0)
    r = 0.01
    d = discounted_payback(r, flows)
    disc = np.array(flows) / (1 + r) ** np.arange(21)
    cum = np.cumsum(disc)
    k = int(np.argmax(cum >= 0))
    assert d == pytest.approx(k - 1 + -cum[k - 1] / disc[k])
    assert d > 10.0


flows_strategy = st.lists(
    st.floats(min_value=1.0, max_value=1e5, allow_nan=False), min_size=2, max_size=40
)


@settings(max_examples=150, deadline=None)
@given(outlay=st.floats(min_value=10.0, max_value=1e6), inflows=flows_strategy)
def test_npv_at_irr_is_zero(outlay: float, inflows: list[float]) -> None:
    flows = [-outlay, *inflows]
    r = irr(flows)
    assert math.isfinite(r)
    scale = outlay + sum(inflows)
    assert abs(npv(r, flows)) <= 1e-6 * scale


@settings(max_examples=150, deadline=None)
@given(
    flows=st.lists(st.floats(min_value=-1e5, max_value=1e5), min_size=2, max_size=40),
    extra=st.floats(min_value=0.0, max_value=1e5),
    where=st.integers(min_value=0, max_value=39),
)
def test_payback_monotone_in_costs(flows: list[float], extra: float, where: int) -> None:
    more_costs = list(flows)
    more_costs[where % len(flows)] -= extra
    before, after = payback(flows), payback(more_costs)
    if math.isnan(before):
        assert math.isnan(after)
    elif not math.isnan(after):
        assert after >= before - 1e-9


def test_payback_many_matches_scalar() -> None:
    rng = np.random.default_rng(7)
    rows = np.column_stack([-rng.uniform(100, 1000, 200), rng.normal(40, 30, (200, 24))])
    many = payback_many(rows)
    one = np.array([payback(r) for r in rows])
    np.testing.assert_allclose(many, one, equal_nan=True)
