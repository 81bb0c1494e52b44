"""The pipeline forecast's honest interval and its per-horizon verdict against the naive
run rate, both from the back-test's own out-of-sample errors.

Interval (split conformal on relative errors): at a date t, the 80% interval of a
forecast F at horizon h is F x [lower, upper], where lower and upper are the
floor(0.1 (n + 1))-th and ceil(0.9 (n + 1))-th smallest of the n ratios actual /
forecast of the back-test's forecasts at horizon h whose month was over by t. If the
ratios are exchangeable, the next actual lands inside with probability at least 80%
(Vovk, Gammerman & Shafer 2005; Lei et al. 2018, JASA 113(523)); fewer than
`MIN_ERRORS` ratios give no calibrated interval.

Verdict: the pipeline forecast is "better" than the naive three-month mean at horizon h
when the mean of (|naive - actual| - |forecast - actual|) / actual over the same past
forecasts exceeds one standard error of that mean; "no_better" otherwise; "untested"
with fewer than `MIN_ERRORS` scored months. Where it is not shown better, the recommended
figure is the blend, the plain mean of the forecast and the naive mean (equal weights:
weights fitted on the 10-25 past errors a horizon has lost accuracy in back-tests on the
demo, while the equal blend was as accurate as the better of the two at every horizon).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "ALPHA",
    "MIN_ERRORS",
    "Verdict",
    "calibrate_rows",
    "conformal_bounds",
    "interval",
    "verdict",
]

ALPHA = 0.2  # 80% interval
MIN_ERRORS = 9  # floor(0.1 * (n + 1)) >= 1 from n = 9: fewer ratios bound nothing
Verdict = Literal["better", "no_better", "untested"]
_TICK = pd.Timedelta(microseconds=1)


def conformal_bounds(ratios: np.ndarray, alpha: float = ALPHA) -> tuple[float, float] | None:
    """Lower and upper split-conformal bounds from past ratios actual / forecast (None if
    there are too few to bound a 1 - alpha interval)."""
    s = np.sort(np.asarray(ratios, dtype=float))
    n = len(s)
    lo = math.floor(alpha / 2 * (n + 1))
    hi = math.ceil((1 - alpha / 2) * (n + 1))
    if lo < 1 or hi > n:
        return None
    return float(s[lo - 1]), float(s[hi - 1])


def _past(rows: pd.DataFrame, t: pd.Timestamp, horizon: int) -> pd.DataFrame:
    """Back-test rows at `horizon` whose month was over by `t`."""
    ends = rows["month"] + pd.offsets.MonthBegin(1)
    return rows[(rows["horizon"] == horizon) & (ends <= t + _TICK)]


def interval(
    rows: pd.DataFrame, t: pd.Timestamp, horizon: int, point: float, column: str = "forecast"
) -> tuple[float, float] | None:
    """The calibrated 80% interval at `t` around `point`, a forecast of the kind in
    `column` ("forecast" or "naive") at `horizon` (None: too few past errors)."""
    past = _past(rows, t, horizon)
    past = past[past[column] > 0]
    bounds = conformal_bounds((past["actual"] / past[column]).to_numpy())
    if bounds is None:
        return None
    return point * bounds[0], point * bounds[1]


def verdict(rows: pd.DataFrame, t: pd.Timestamp, horizon: int) -> Verdict:
    """Whether the pipeline forecast beat the naive mean at `horizon` in the back-test
    months over by `t` (see the module doc)."""
    past = _past(rows, t, horizon)
    past = past[past["actual"] > 0]
    if len(past) < MIN_ERRORS:
        return "untested"
    a = past["actual"]
    gain = ((past["naive"] - a).abs() - (past["forecast"] - a).abs()) / a
    se = float(gain.std(ddof=1)) / math.sqrt(len(gain))
    return "better" if float(gain.mean()) > se else "no_better"


def calibrate_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Back-test rows with the blend (mean of forecast and naive) and, at each origin, what
    only the earlier months could give: the calibrated intervals of the forecast and of the
    blend (NaN while too few errors), the verdict and the recommended figure (the forecast
    where it was shown better than the naive mean, else the blend)."""
    rows = rows.assign(blend=(rows["forecast"] + rows["naive"]) / 2)
    bounds: dict[str, list[float]] = {c: [] for c in ("low", "high", "blend_low", "blend_high")}
    verdicts: list[str] = []
    recommended: list[float] = []
    origins = pd.to_datetime(rows["origin"])
    horizons = rows["horizon"].astype(int).tolist()
    forecasts = rows["forecast"].astype(float).tolist()
    blends = rows["blend"].astype(float).tolist()
    for origin, h, forecast, blend in zip(origins, horizons, forecasts, blends, strict=True):
        t = pd.Timestamp(origin) - _TICK
        for column, point, (lo, hi) in (
            ("forecast", forecast, ("low", "high")),
            ("blend", blend, ("blend_low", "blend_high")),
        ):
            pair = interval(rows, t, h, point, column)
            bounds[lo].append(np.nan if pair is None else pair[0])
            bounds[hi].append(np.nan if pair is None else pair[1])
        v = verdict(rows, t, h)
        verdicts.append(v)
        recommended.append(forecast if v == "better" else blend)
    return rows.assign(**bounds, verdict=verdicts, recommended=recommended)
