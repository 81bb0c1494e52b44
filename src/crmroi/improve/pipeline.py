"""Pipeline forecast: expected won revenue by month for the next `months` months, and
its accuracy back-tested on the history.

At a date t the forecast of calendar month m (1 = the month after t's month) is the
sum of two parts:

- **open deals** (created on or before t, not closed by t): amount x P(win) x
  P(close in month m | open at its age). P(win) is the scoring model's calibrated
  logistic probability (`crmroi.improve.models.LogisticScorer`) times an age
  factor: the win rate of closed deals whose cycle outlasted the deal's age over the
  win rate of all closed deals (a deal still open after 120 days is less likely to
  be won than a fresh one). The timing is the measured cycle length of won deals
  longer than the deal's age and of its size (terciles of won amounts: big deals
  take longer). The model, the factor and the cycles learn from the
  deals created at least `SETTLED_DAYS` before t and closed by t: with younger
  deals, only the quickly closed ones would be seen, and cycles would look short;
- **deals not yet created**: the mean, over the 12 latest origins whose month m is
  over by t, of the won revenue in month m from deals created after that origin.

The model's own interval (80%, normal approximation: the open deals' Bernoulli variances
plus the spread of the not-yet-created part across origins) leaves out the uncertainty of
timing and of the run rate, and held only 60-74% of the demo's months. So the interval
shown is calibrated on the back-test's own errors (`crmroi.improve.pipeline_calibration`:
split conformal on actual / forecast per horizon, from the months over by t only); the
model's interval is kept, labelled, only while too few errors exist.

The back-test repeats this at the first day of each month, with only what was known
then (deals closed by then train the model and give the cycle lengths), and scores
each forecast month with the `forecast_accuracy` KPI's rule, 1 - |actual -
forecast| / actual, beside a naive forecast (the mean won revenue of the three
months before the origin) and the share of actual months inside the interval. Where the
back-test does not show the forecast beating the naive mean at a horizon, the blend (the
mean of the two) is the recommended figure (said per month).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmroi.errors import UserError
from crmroi.improve.pipeline_calibration import Verdict, calibrate_rows, interval, verdict
from crmroi.messages import M_, said_of

__all__ = ["Backtest", "Forecast", "backtest", "forecast_and_backtest", "forecast_pipeline"]

Z80 = 1.2815515655446004  # the standard normal's 90th percentile
RUN_RATE_ORIGINS = 12
SETTLED_DAYS = 120  # deals created this long before t train the model and give the cycles
SIZE_CLASSES = 3
REFIT_MONTHS = 3  # the back-test refits the model every this many origins
AGE_BUCKETS = (0, 15, 30, 60, 90, 180, 365, 100_000)  # days


class NotEnoughPipeline(UserError):
    """Too little closed history to forecast from."""


@dataclass
class ForecastMonth:
    """One forecast month: expected won revenue from open and not-yet-created deals, its
    80% interval (calibrated on the back-test when `calibrated`, else the model's), the
    naive three-month mean, the blend (mean of the two) with its calibrated interval (None
    without a back-test) and the back-test's verdict at this horizon (money)."""

    month: pd.Timestamp
    horizon: int
    open_deals: float
    new_deals: float
    low: float
    high: float
    naive: float
    calibrated: bool = False
    blend_low: float | None = None
    blend_high: float | None = None
    verdict: Verdict = "untested"

    @property
    def expected(self) -> float:
        return self.open_deals + self.new_deals

    @property
    def blend(self) -> float:
        """The mean of the pipeline forecast and the naive mean."""
        return (self.expected + self.naive) / 2

    @property
    def recommended(self) -> str:
        """ "pipeline" where the back-test showed it beat the naive mean, else "blend"."""
        return "pipeline" if self.verdict == "better" else "blend"

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month.date().isoformat(),
            "horizon": self.horizon,
            "expected": self.expected,
            "open_deals": self.open_deals,
            "new_deals": self.new_deals,
            "low": self.low,
            "high": self.high,
            "interval": "calibrated" if self.calibrated else "model (not calibrated)",
            "naive": self.naive,
            "blend": self.blend,
            "blend_low": self.blend_low,
            "blend_high": self.blend_high,
            "better_than_naive": self.verdict,
            "recommended": self.recommended,
        }


@dataclass
class Forecast:
    """The forecast made at `as_of` (open deals, their weighted amount and the months)."""

    as_of: pd.Timestamp
    open_count: int
    open_amount: float
    months: list[ForecastMonth]
    backtest_reason: str | None = None
    """Why there is no back-test to calibrate on (the intervals are then the model's)."""
    open_without_amount: int = 0
    """Open deals with no amount (counted as 0: the open-deal part is understated)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "open_deals": self.open_count,
            "open_amount": self.open_amount,
            "interval": "80%",
            "backtest_reason": self.backtest_reason,
            "open_without_amount": self.open_without_amount,
            "months": [m.to_json() for m in self.months],
        }


def _month(ts: pd.Timestamp, k: int = 0) -> pd.Timestamp:
    return (ts.to_period("M") + k).to_timestamp()


def _won_by_month(deals: pd.DataFrame) -> pd.Series:
    won = deals[deals["is_won"].fillna(False).astype(bool) & deals["closed_at"].notna()]
    return won.groupby(won["closed_at"].dt.to_period("M"))["amount"].sum()


def _naive(won: pd.Series, t: pd.Timestamp) -> float:
    """The mean won revenue of the three latest calendar months over by `t`."""
    last = (t + pd.Timedelta(microseconds=1)).to_period("M") - 1
    return float(np.mean([won.get(last - j, 0.0) for j in range(3)]))


@dataclass
class _History:
    """Deals with their features and logistic scores prepared once."""

    deals: pd.DataFrame
    features: pd.DataFrame = field(repr=False)


def _prepare(frames: dict[str, pd.DataFrame]) -> _History:
    from crmroi.improve.features import deal_examples

    deals = frames["deals"].dropna(subset=["created_at"]).reset_index(drop=True)
    amount = deals["amount"].astype(float)
    deals = deals.assign(amount=amount.fillna(0.0), no_amount=amount.isna())
    examples = deal_examples(
        deals,
        frames.get("accounts"),
        frames.get("reps"),
        frames.get("orders"),
        pd.Timestamp(deals["created_at"].max()),
    )
    return _History(deals, examples.features)


def _size_classes(won_amounts: np.ndarray) -> Any:
    """Deal size classes (terciles of won amounts): bigger deals take longer to close,
    so the timing of money follows the cycles of deals of the same size."""
    cuts = np.quantile(won_amounts, [1 / 3, 2 / 3]) if len(won_amounts) else np.zeros(2)

    def classify(amounts: np.ndarray) -> np.ndarray:
        return np.searchsorted(cuts, amounts, side="right")

    return classify


def _fit(h: _History, closed: np.ndarray) -> Any:
    """The calibrated logistic model fitted on the `closed` deals."""
    from crmroi.improve.models import LogisticScorer

    y = h.deals["is_won"].fillna(False).astype(bool)[closed].astype(float)
    if y.nunique() < 2 or closed.sum() < 30:
        raise NotEnoughPipeline(
            M_(
                "forecast_few_closed",
                "fewer than 30 closed deals created %(days)s+ days before the forecast, "
                "or none of them won or lost: no pipeline forecast",
                days=SETTLED_DAYS,
            )
        )
    return LogisticScorer().fit(h.features[closed], y)


def _forecast(h: _History, t: pd.Timestamp, months: int, model: Any = None) -> Forecast:
    d = h.deals
    closed_at = d["closed_at"]
    known_closed = (d["is_closed"].fillna(False).astype(bool) & (closed_at <= t)).to_numpy()
    created = (d["created_at"] <= t).to_numpy()
    open_ = created & ~known_closed
    settled = (d["created_at"] <= t - pd.Timedelta(days=SETTLED_DAYS)).to_numpy()
    closed = known_closed & settled
    won = d["is_won"].fillna(False).astype(bool).to_numpy() & closed
    cycle = (closed_at - d["created_at"]).dt.days.to_numpy(dtype=float)
    if model is None:
        model = _fit(h, closed)
    p_model = (
        np.asarray(model.predict_proba(h.features[open_]), dtype=float)
        if open_.any()
        else np.zeros(0)
    )
    age = (t - d["created_at"][open_]).dt.days.to_numpy(dtype=float)
    base_rate = won.sum() / closed.sum()
    bucket = np.searchsorted(AGE_BUCKETS, age, side="right") - 1
    factor = np.ones(len(age))
    for b in np.unique(bucket):
        lo = AGE_BUCKETS[b]
        outlasted = closed & (cycle > lo)
        if outlasted.sum() >= 20 and base_rate > 0:
            factor[bucket == b] = (won & outlasted).sum() / outlasted.sum() / base_rate
    p_win = np.clip(p_model * factor, 0.0, 1.0)
    amount = d["amount"].to_numpy(dtype=float)[open_]
    start = _month(t, 1)
    day_ns = 86_400 * 10**9
    edges = np.array([_month(t, 1 + k).value for k in range(months + 1)], dtype=np.int64)
    born = d["created_at"][open_].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    size_of = _size_classes(d["amount"].to_numpy(dtype=float)[won])
    classes = size_of(d["amount"].to_numpy(dtype=float))
    pooled = np.sort(cycle[won])
    cycles = []
    for c in range(SIZE_CLASSES):
        own = np.sort(cycle[won & (classes == c)])
        cycles.append(own if len(own) >= 30 else pooled)
    open_part = np.zeros(months)
    open_var = np.zeros(months)
    for a, p, amt, c0, c in zip(age, p_win, amount, born, classes[open_], strict=True):
        won_cycles = cycles[c]
        longer = won_cycles[np.searchsorted(won_cycles, a, side="right") :]
        if not len(longer) or p <= 0:
            continue
        close = c0 + (longer * day_ns).astype(np.int64)
        counts = np.histogram(close, bins=edges)[0]
        q = p * counts / len(longer)
        open_part += amt * q
        open_var += amt * amt * q * (1.0 - q)
    new_part, new_var = _not_yet_created(d, t, months)
    naive = _naive(_won_by_month(d[(closed_at <= t).to_numpy()]), t)
    out = []
    for k in range(months):
        sd = float(np.sqrt(open_var[k] + new_var[k]))
        mean = open_part[k] + new_part[k]
        out.append(
            ForecastMonth(
                _month(start, k),
                k + 1,
                float(open_part[k]),
                float(new_part[k]),
                max(0.0, mean - Z80 * sd),
                mean + Z80 * sd,
                naive,
            )
        )
    f = Forecast(t, int(open_.sum()), float(amount.sum()), out)
    f.open_without_amount = int((open_ & d["no_amount"].to_numpy()).sum())
    return f


def _not_yet_created(d: pd.DataFrame, t: pd.Timestamp, months: int) -> tuple[np.ndarray, ...]:
    """Mean and variance (across origins) of the won revenue in month k after an origin
    from deals created after it, over the latest origins whose month k is over by t."""
    won = d[d["is_won"].fillna(False).astype(bool) & d["closed_at"].notna()]
    won = won[won["closed_at"] <= t]
    mean = np.zeros(months)
    var = np.zeros(months)
    for k in range(months):
        values = []
        for j in range(RUN_RATE_ORIGINS):
            origin = _month(t, -(k + 1) - j)
            lo, hi = _month(origin, 1 + k), _month(origin, 2 + k)
            if hi > _month(t, 1) or origin < _month(d["created_at"].min(), 1):
                continue
            rows = won[
                (won["created_at"] >= _month(origin, 1))
                & (won["closed_at"] >= lo)
                & (won["closed_at"] < hi)
            ]
            values.append(float(rows["amount"].sum()))
        if values:
            mean[k] = float(np.mean(values))
            var[k] = float(np.var(values, ddof=1)) if len(values) > 1 else 0.0
    return mean, var


def forecast_pipeline(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    months: int = 6,
    backtest: Backtest | None = None,
) -> Forecast:
    """The forecast at `as_of` of the next `months` calendar months (see the module doc);
    with a `backtest`, its intervals and verdicts come from the back-test's months over
    by `as_of`."""
    f = _forecast(_prepare(frames), as_of, months)
    return _calibrated(f, backtest.rows) if backtest is not None else f


def _calibrated(f: Forecast, rows: pd.DataFrame) -> Forecast:
    """`f` with each month's interval calibrated on `rows` (where enough errors exist),
    the blend's interval and the verdict."""
    for m in f.months:
        own = interval(rows, f.as_of, m.horizon, m.expected)
        if own is not None:
            m.low, m.high, m.calibrated = own[0], own[1], True
        blend = interval(rows, f.as_of, m.horizon, m.blend, "blend")
        if blend is not None:
            m.blend_low, m.blend_high = blend
        m.verdict = verdict(rows, f.as_of, m.horizon)
    return f


def forecast_and_backtest(
    frames: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    months: int = 6,
    refit_months: int = REFIT_MONTHS,
) -> tuple[Forecast, Backtest | None]:
    """The back-test over the whole history and the forecast at `as_of` calibrated on it
    (the features prepared once); without enough history for a back-test, the forecast
    with the model's intervals and the reason."""
    h = _prepare(frames)
    f = _forecast(h, as_of, months)
    try:
        test = _backtest(h, months, None, None, refit_months)
    except NotEnoughPipeline as exc:
        f.backtest_reason = said_of(exc)
        return f, None
    return _calibrated(f, test.rows), test


@dataclass
class Backtest:
    """Forecasts made at past month starts scored against what was won."""

    rows: pd.DataFrame
    """origin, month, horizon (1..), forecast, model_low, model_high (the model's normal
    interval), naive, actual, and from `calibrate_rows`: blend, and from the earlier months
    only: low, high, blend_low, blend_high (NaN while uncalibrated), verdict, recommended."""

    def by_horizon(self) -> pd.DataFrame:
        """Per horizon: forecasts scored, mean accuracy (1 - |actual - forecast| / actual)
        of the forecast, of the naive mean and of the recommended figure, bias (mean
        (forecast - actual) / actual), the share of actual months inside the calibrated
        interval (`coverage`, over the `calibrated` forecasts that had one), inside the
        blend's calibrated interval and inside the model's own interval, and the
        verdict over all the scored months."""
        r = self.rows[self.rows["actual"] > 0]
        a = r["actual"]

        def inside(low: str, high: str) -> pd.Series:
            has = r[low].notna()
            return ((a >= r[low]) & (a <= r[high])).astype(float).where(has)

        g = pd.DataFrame(
            {
                "horizon": r["horizon"],
                "accuracy": 1.0 - ((r["forecast"] - a) / a).abs(),
                "naive_accuracy": 1.0 - ((r["naive"] - a) / a).abs(),
                "recommended_accuracy": 1.0 - ((r["recommended"] - a) / a).abs(),
                "bias": (r["forecast"] - a) / a,
                "coverage": inside("low", "high"),
                "blend_coverage": inside("blend_low", "blend_high"),
                "model_coverage": inside("model_low", "model_high"),
            }
        ).groupby("horizon")
        out = g.mean()
        out.insert(0, "forecasts", g.size())
        out.insert(1, "calibrated", g["coverage"].count())
        end = self.rows["month"].max() + pd.offsets.MonthBegin(1)
        out["better_than_naive"] = [verdict(self.rows, end, int(h)) for h in out.index]
        return out.reset_index()

    def to_json(self) -> dict[str, Any]:
        rows = self.rows.assign(
            origin=self.rows["origin"].dt.date.astype(str),
            month=self.rows["month"].dt.date.astype(str),
        )

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            clean = frame.astype(object).where(frame.notna(), None)
            return [{str(k): v for k, v in r.items()} for r in clean.to_dict(orient="records")]

        return {
            "accuracy_rule": "1 - |actual - forecast| / actual (the forecast_accuracy KPI's)",
            "interval": "80%, split conformal on earlier months' actual / forecast",
            "by_horizon": records(self.by_horizon()),
            "forecasts": records(rows),
        }


def backtest(
    frames: dict[str, pd.DataFrame],
    months: int = 6,
    first_origin: pd.Timestamp | None = None,
    last_origin: pd.Timestamp | None = None,
    refit_months: int = REFIT_MONTHS,
) -> Backtest:
    """Forecasts at every month start from `first_origin` (default: 12 months after the
    first closed deal) to `last_origin` (default: the last whose first month is complete),
    the model refitted every `refit_months` origins."""
    return _backtest(_prepare(frames), months, first_origin, last_origin, refit_months)


def _backtest(
    h: _History,
    months: int,
    first_origin: pd.Timestamp | None,
    last_origin: pd.Timestamp | None,
    refit_months: int,
) -> Backtest:
    d = h.deals
    first_month = _month(d["closed_at"].min())
    end = d["closed_at"].max()
    first = first_origin or _month(first_month, 12)
    last = last_origin or _month(end, -1)
    won = _won_by_month(d)
    rows = []
    t = first
    model = None
    n = 0
    while t <= last:
        at = t - pd.Timedelta(microseconds=1)
        if n % refit_months == 0:
            settled = (d["created_at"] <= at - pd.Timedelta(days=SETTLED_DAYS)).to_numpy()
            closed = d["is_closed"].fillna(False).astype(bool) & (d["closed_at"] <= at)
            model = _fit(h, closed.to_numpy() & settled)
        n += 1
        f = _forecast(h, at, months, model)
        for k, m in enumerate(f.months):
            if _month(m.month, 1) > end.normalize() + pd.Timedelta(days=1):
                break  # the month is not over in the data
            rows.append(
                {
                    "origin": t,
                    "month": m.month,
                    "horizon": k + 1,
                    "forecast": m.expected,
                    "model_low": m.low,
                    "model_high": m.high,
                    "naive": m.naive,
                    "actual": float(won.get(m.month.to_period("M"), 0.0)),
                }
            )
        t = _month(t, 1)
    if not rows:
        raise NotEnoughPipeline(M_("backtest_short", "the history is too short for a back-test"))
    return Backtest(calibrate_rows(pd.DataFrame(rows)))
