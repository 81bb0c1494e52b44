"""Customer lifetime value: RFM preparation, BG/NBD and Gamma-Gamma.

- `rfm`: per customer, repeat purchase days (`frequency`), `recency` (first to last
  purchase) and age `T` (first purchase to the end of the calibration period), in
  weeks (days / 7), and `monetary_value` (mean spend per repeat purchase day), as in
  Fader, Hardie & Lee (2005) and pymc-marketing's `rfm_summary`.
- `fit_bgnbd`: maximum likelihood of the BG/NBD model with scipy (equation 6 of
  Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
  Science 24(2)); `BgNbdFit.expected_purchases` (their equation 10) and
  `BgNbdFit.p_alive` (Fader, Hardie & Lee 2008, "Computing P(alive) using the
  BG/NBD model") per customer. The Gamma-Gamma spend model is in `spend.py`.
- `fit_pymc`: BG/NBD and Gamma-Gamma through pymc-marketing (the optional `clv`
  extra), with expected purchases and value per customer over a horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, hyp2f1

from crmroi.errors import ConfigurationError, UserError
from crmroi.improve.bounded_fit import finite_or_unusable, minimise_within_bounds
from crmroi.messages import M_, Items, Said

INSTALL_HINT = "pip install 'crmroi[clv]'"
SHAPE_MIN = 1e-4  # bounds of every BG/NBD parameter (alpha relative to the mean age T)
SHAPE_MAX = 1e4
DAYS_PER_WEEK = 7.0


def rfm(
    transactions: pd.DataFrame,
    calibration_end: pd.Timestamp,
    customer: str = "customer_id",
    when: str = "date",
    amount: str = "amount",
) -> pd.DataFrame:
    """RFM summary in weeks for purchases up to `calibration_end` (inclusive day).

    Several purchases on one day count as one purchase of their summed amount.
    """
    missing = [c for c in (customer, when, amount) if c not in transactions]
    if missing:
        raise UserError(
            M_(
                "clv_column_missing",
                "transactions: column %(column)s is missing",
                column=repr(missing[0]),
            )
        )
    frame = transactions[[customer, when, amount]].dropna(subset=[customer, when])
    frame = frame.assign(_day=pd.to_datetime(frame[when]).dt.normalize())
    frame = frame[frame["_day"] <= calibration_end.normalize()]
    days = frame.groupby([customer, "_day"], as_index=False).agg({amount: "sum"})
    days = days.sort_values([customer, "_day"])
    first = days.groupby(customer)["_day"].transform("min")
    repeat = days[days["_day"] > first]
    per = days.groupby(customer).agg(first=("_day", "min"), last=("_day", "max"))
    out = pd.DataFrame(index=per.index)
    out["frequency"] = repeat.groupby(customer).size().reindex(per.index, fill_value=0)
    out["recency"] = (per["last"] - per["first"]).dt.days / DAYS_PER_WEEK
    out["T"] = (calibration_end.normalize() - per["first"]).dt.days / DAYS_PER_WEEK
    spend = repeat.groupby(customer)[amount].mean()
    out["monetary_value"] = spend.reindex(per.index).fillna(0.0)
    return out.reset_index().rename(columns={customer: "customer_id"})


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    first = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-12))
            - betaln(a, b)
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return np.asarray(base + np.logaddexp(first, second))


@dataclass(frozen=True)
class BgNbdFit:
    """Fitted BG/NBD parameters (time unit: the unit of `recency` and `T`)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    warning: str | None = None

    def _odds_dead(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """delta(x > 0) a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_odds = (
                np.log(self.a)
                - np.log(np.maximum(self.b + x - 1.0, 1e-300))
                + (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x))
            )
        return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(still active at T | x repeat purchases, the last at t_x): 1 / (1 + odds)."""
        return np.asarray(1.0 / (1.0 + self._odds_dead(x, t_x, T)))

    def expected_purchases(
        self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in (T, T + t] given (x, t_x, T) (FHL 2005, eq. 10).

        [(a + b + x - 1) / (a - 1)] [1 - ((alpha + T) / (alpha + T + t))^(r + x)
        2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))] / (1 + odds of dropout).
        """
        x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        head = (a + b + x - 1.0) / (a - 1.0) if abs(a - 1.0) > 1e-9 else np.inf
        body = 1.0 - ratio * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        return np.asarray(head * body / (1.0 + self._odds_dead(x, t_x, T)))


def fit_bgnbd(summary: pd.DataFrame) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit with scipy, inside bounds (L-BFGS-B, Nelder-Mead).

    The fit is in (log r, log alpha / mean T, log a, log b), each within
    [`SHAPE_MIN`, `SHAPE_MAX`], so no direction of the likelihood can walk off to
    infinity. A parameter that ends on a bound is the limit of a model without that
    heterogeneity (r and alpha large: every customer buys at the same rate; a and b
    large: every customer has the same drop-out chance); the fit is kept and
    `BgNbdFit.warning` names the parameters. No repeat purchase at all, or no finite
    maximum, is a `UserError`.
    """
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    usable = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(T) & (t_x <= T) & (t_x >= 0)
    x, t_x, T = x[usable], t_x[usable], T[usable]
    if not len(x) or not (x > 0).any():
        raise UserError(
            M_(
                "bgnbd_no_repeaters",
                "the purchase model (BG/NBD) needs customers who ordered again",
            )
        )
    if not (T > 0).any():
        raise UserError(
            M_("bgnbd_no_orders", "the purchase model (BG/NBD) needs orders before the as-of date")
        )
    scale = float(np.mean(T[T > 0]))
    bounds = [(np.log(SHAPE_MIN), np.log(SHAPE_MAX))] * 4

    def negative(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        return finite_or_unusable(
            -float(bgnbd_log_likelihood((r, alpha * scale, a, b), x, t_x, T).sum())
        )

    fit = minimise_within_bounds(negative, bounds, ("r", "alpha", "a", "b"))
    if not fit.finite:
        raise UserError(
            M_(
                "bgnbd_no_maximum",
                "the purchase model (BG/NBD) found no finite maximum on these orders",
            )
        )
    edge = list(fit.at_bound)
    theta = fit.theta
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    warning = (
        Said(
            M_(
                "bgnbd_at_edge",
                "purchase model (BG/NBD): %(names)s at the edge of the search range "
                "[%(low)s, %(high)s]; the fit is the limit of a simpler model "
                "(customers alike in that respect)",
                names=Items(edge),
                low=format(SHAPE_MIN, "g"),
                high=format(SHAPE_MAX, "g"),
            )
        )
        if edge
        else None
    )
    return BgNbdFit(r, alpha * scale, a, b, -fit.objective, warning)


def fit_pymc(
    summary: pd.DataFrame, horizon_weeks: int = 52
) -> tuple[dict[str, float], pd.DataFrame]:
    """BG/NBD + Gamma-Gamma MAP fits with pymc-marketing; returns the BG/NBD parameters
    and, per customer, expected purchases in `horizon_weeks` and expected value
    (expected purchases x expected spend per purchase, undiscounted)."""
    try:
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
    except ImportError:
        raise ConfigurationError(
            f"lifetime value needs pymc-marketing, an optional extra: {INSTALL_HINT}"
        ) from None
    data = summary[["customer_id", "frequency", "recency", "T", "monetary_value"]]
    bg = BetaGeoModel(data=data[["customer_id", "frequency", "recency", "T"]])
    bg.fit(method="map", progressbar=False)
    posterior = bg.fit_result
    params = {k: float(posterior[k].mean()) for k in ("r", "alpha", "a", "b")}
    purchases = bg.expected_purchases(data=data, future_t=horizon_weeks)
    out = data[["customer_id", "frequency", "recency", "T", "monetary_value"]].copy()
    out["expected_purchases"] = np.asarray(purchases.mean(("chain", "draw")))
    repeaters = data[data["frequency"] > 0]
    spend = np.full(len(data), np.nan)
    if len(repeaters) >= 10:
        gg = GammaGammaModel(data=repeaters[["customer_id", "frequency", "monetary_value"]])
        gg.fit(method="map", progressbar=False)
        expected = gg.expected_customer_spend(
            data=data[["customer_id", "frequency", "monetary_value"]]
        )
        spend = np.asarray(expected.mean(("chain", "draw")))
    out["expected_spend"] = spend
    out["expected_value"] = out["expected_purchases"] * out["expected_spend"]
    return params, out
