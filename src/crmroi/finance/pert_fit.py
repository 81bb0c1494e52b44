"""The PERT distribution that holds a stated share of its draws inside an interval.

A measured change arrives as an estimate and its 95% interval. Drawing it from the PERT
with the interval's ends as minimum and maximum would keep every draw inside the
interval and give it about 70% of the measured spread (for a symmetric interval the
central 95% of that PERT, a Beta(3, 3), spans 0.707 of its range), so a simulated NPV
would look surer than the measurement is. Here the minimum and maximum are found so that
the PERT with the same most likely value has `level` of its mass between low and high,
(1 - level) / 2 on each side: for a symmetric interval they lie 1.415 half-widths from the
estimate (at level 0.95).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, stats

from crmroi.errors import ConfigurationError

if TYPE_CHECKING:
    from crmroi.finance.estimates import Range

__all__ = ["pert_bounds", "symmetric_factor"]

_TOLERANCE = 1e-9  # largest accepted miss of a tail share


@lru_cache(maxsize=16)
def symmetric_factor(level: float) -> float:
    """Half-range of a symmetric PERT over the half-width of its central `level` interval."""
    inner = 2.0 * float(stats.beta.ppf(0.5 + level / 2.0, 3.0, 3.0)) - 1.0
    return 1.0 / inner


def _tails(a: float, m: float, b: float, lo: float, hi: float) -> tuple[float, float]:
    """Shares of the PERT(a, m, b) below `lo` and above `hi`."""
    span = b - a
    alpha = 1.0 + 4.0 * (m - a) / span
    beta = 1.0 + 4.0 * (b - m) / span
    below = float(stats.beta.cdf((lo - a) / span, alpha, beta))
    above = float(stats.beta.sf((hi - a) / span, alpha, beta))
    return below, above


@lru_cache(maxsize=4096)
def _solve(m: float, lo: float, hi: float, level: float) -> tuple[float, float]:
    width = hi - lo
    k = symmetric_factor(level)
    tail = (1.0 - level) / 2.0
    # start from the symmetric answer, each side scaled from the estimate (logs keep a < lo, b > hi)
    x0 = (k - 1.0) * max(m - lo, 0.1 * width)
    y0 = (k - 1.0) * max(hi - m, 0.1 * width)

    def residual(v: np.ndarray) -> list[float]:
        a = lo - float(np.exp(v[0]))
        b = hi + float(np.exp(v[1]))
        below, above = _tails(a, m, b, lo, hi)
        return [below - tail, above - tail]

    # from the estimate's sides, then from the interval's centre; Powell's hybrid, then
    # Levenberg-Marquardt (a lopsided interval at a high level can stall the first)
    centre = (k - 1.0) * width / 2.0
    for start in ((x0, y0), (centre, centre)):
        for method in ("hybr", "lm"):
            found = optimize.root(residual, np.log(start), method=method)
            if max(abs(r) for r in residual(found.x)) < _TOLERANCE:
                return lo - float(np.exp(found.x[0])), hi + float(np.exp(found.x[1]))
    # never seen (estimates at either end of their interval, intervals lopsided 1e6:1,
    # levels 0.5-0.999 all solve, tests/test_pert_level.py); an approximate PERT would draw
    # the change with a spread nobody asked for, so refuse
    raise ConfigurationError(
        f"cannot draw the range {lo:g} to {hi:g} (most likely {m:g}) as a {level:.0%} "
        "interval: no PERT distribution holds that share of its draws inside it; "
        "give the range without `level` (drawn as minimum and maximum)"
    )


def pert_bounds(value: Range) -> tuple[float, float]:
    """Minimum and maximum of the PERT drawn for `value` (money or the input's unit).

    Without a `level` these are the range's low and high; with one, the bounds whose
    PERT (most likely value unchanged) has `level` of its draws between low and high.
    """
    if value.level is None or value.high == value.low:
        return value.low, value.high
    return _solve(value.likely, value.low, value.high, value.level)
