"""Investment metrics: NPV, IRR, MIRR, XNPV, XIRR, simple and discounted payback.

Pure functions over cash flows (money per period; negative = money out). Periodic
functions take flows at t = 0, 1, ..., n-1 periods with the first one not
discounted (numpy-financial's convention). Note that the spreadsheet NPV(rate,
v1..vn) discounts its first value by one period: it equals `npv(rate, [0, v1..vn])`.

Date-based functions follow the spreadsheet convention (Excel, LibreOffice,
Google Sheets): actual/365 day count from the first date,
XNPV = sum_i v_i / (1 + r) ** ((d_i - d_0) / 365), r an annual rate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy_financial as npf
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "discounted_payback",
    "irr",
    "mirr",
    "npv",
    "payback",
    "payback_many",
    "xirr",
    "xnpv",
]


def npv(rate: float, values: ArrayLike) -> float:
    """Net present value: sum_t v_t / (1 + rate)^t, t = 0..n-1 periods.

    `rate` is per period (a monthly rate for monthly flows); the result is in the
    money of `values`. numpy-financial's `npv`.
    """
    return float(npf.npv(rate, np.asarray(values, dtype=np.float64)))


def irr(values: ArrayLike) -> float:
    """Internal rate of return per period: the r with npv(r, values) = 0.

    For monthly flows annualise it with `crmroi.finance.cashflow.annualise`
    ((1 + r_m)^12 - 1). NaN when there is no sign change (no IRR exists).
    numpy-financial's `irr` (roots of the NPV polynomial, the real root closest
    to zero when there are several).
    """
    v = np.asarray(values, dtype=np.float64)
    if not (np.any(v > 0) and np.any(v < 0)):
        return math.nan
    return float(npf.irr(v))


def mirr(values: ArrayLike, finance_rate: float, reinvest_rate: float) -> float:
    """Modified IRR per period (numpy-financial's `mirr`, same as the spreadsheet MIRR).

    MIRR = (FV of inflows at `reinvest_rate` / -PV of outflows at `finance_rate`)
    ** (1 / (n - 1)) - 1; both rates per period. NaN without a sign change.
    """
    v = np.asarray(values, dtype=np.float64)
    if not (np.any(v > 0) and np.any(v < 0)):
        return math.nan
    return float(npf.mirr(v, finance_rate, reinvest_rate))


def _year_fractions(dates: Sequence[dt.date]) -> NDArray[np.float64]:
    if not dates:
        raise ValueError("xnpv/xirr need at least one date")
    first = dates[0]
    days = np.array([(d - first).days for d in dates], dtype=np.float64)
    if np.any(days < 0):
        raise ValueError("every date must be on or after the first date")
    return days / 365.0


def xnpv(rate: float, values: ArrayLike, dates: Sequence[dt.date]) -> float:
    """NPV of dated flows: sum_i v_i / (1 + rate) ** ((d_i - d_0) / 365).

    `rate` is annual (fraction); actual/365 from the first date, as XNPV in
    Excel and LibreOffice.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size != len(dates):
        raise ValueError(f"{v.size} values but {len(dates)} dates")
    t = _year_fractions(dates)
    return float(np.sum(v / (1.0 + rate) ** t))


def xirr(
    values: ArrayLike, dates: Sequence[dt.date], guess: float = 0.1, tol: float = 1e-10
) -> float:
    """Annual rate r with xnpv(r, values, dates) = 0 (spreadsheet XIRR, actual/365).

    Newton's method from `guess`, falling back to bisection on a bracketing
    interval in (-1, 1e6) when Newton does not converge. NaN without a sign change.
    """
    v = np.asarray(values, dtype=np.float64)
    if not (np.any(v > 0) and np.any(v < 0)):
        return math.nan
    t = _year_fractions(dates)

    def f(r: float) -> float:
        return float(np.sum(v / (1.0 + r) ** t))

    r = guess
    for _ in range(100):
        if r <= -1.0:
            break
        fr = f(r)
        dfr = float(np.sum(-t * v / (1.0 + r) ** (t + 1.0)))
        if dfr == 0.0 or not math.isfinite(fr):
            break
        step = fr / dfr
        r -= step
        if abs(step) < tol:
            return r if r > -1.0 else math.nan
    return _bisect(f, tol)


def _bisect(func: Callable[[float], float], tol: float) -> float:
    grid = [-0.999999, -0.9, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0, 3.0, 10.0, 100.0, 1e6]
    values = [func(g) for g in grid]
    for i in range(len(grid) - 1):
        a, fa, b, fb = grid[i], values[i], grid[i + 1], values[i + 1]
        if fa == 0.0:
            return a
        if fa * fb < 0:
            for _ in range(200):
                mid = 0.5 * (a + b)
                fm = func(mid)
                if fa * fm <= 0:
                    b = mid
                else:
                    a, fa = mid, fm
                if b - a < tol:
                    break
            return 0.5 * (a + b)
    return math.nan


def payback_many(values: ArrayLike) -> NDArray[np.float64]:
    """Payback in periods of each row of a 2-D array of flows (runs x periods).

    The payback is the time from which the cumulative cash flow stays
    non-negative, interpolated linearly inside the period where it crosses zero:
    with C_t the cumulative flow to the end of period t and t* the first period
    after which C never falls below 0 again, payback = (t* - 1) + (-C_{t*-1}) / v_{t*}
    (flows at index t are received over the period ending at t). 0 when C_0 >= 0;
    NaN when the cumulative flow is negative at the end.
    """
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    cum = np.cumsum(v, axis=1)
    n = v.shape[1]
    negative = cum < 0
    # last negative index per row (-1 when never negative)
    rev_any = negative[:, ::-1]
    has_neg = rev_any.any(axis=1)
    last_neg = np.where(has_neg, n - 1 - np.argmax(rev_any, axis=1), -1)
    out = np.full(v.shape[0], np.nan)
    never = last_neg == -1
    out[never] = 0.0
    crossing = has_neg & (last_neg < n - 1)
    rows = np.nonzero(crossing)[0]
    k = last_neg[rows]
    out[rows] = k + (-cum[rows, k]) / v[rows, k + 1]
    return out


def payback(values: ArrayLike) -> float:
    """Simple payback in periods (months for monthly flows), interpolated; see `payback_many`."""
    return float(payback_many(np.asarray(values, dtype=np.float64)[None, :])[0])


def discounted_payback(rate: float, values: ArrayLike) -> float:
    """Payback of the discounted flows v_t / (1 + rate)^t (rate per period); see `payback_many`."""
    v = np.asarray(values, dtype=np.float64)
    discounted = v / (1.0 + rate) ** np.arange(v.size)
    return payback(discounted)
