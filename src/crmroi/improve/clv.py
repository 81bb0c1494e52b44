"""Customer lifetime value: RFM preparation, BG/NBD and Gamma-Gamma.

- `rfm`: per customer, repeat purchase days (`frequency`), `recency` (first to last
  purchase) and age `T` (first purchase to the end of the calibration period), in
  weeks (days / 7), and `monetary_value` (mean spend per repeat purchase day), as in
  Fader, Hardie & Lee (2005) and pymc-marketing's `rfm_summary`.
- `fit_bgnbd`: maximum likelihood of the BG/NBD model with scipy (equation 6 of
  Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
  Science 24(2)); the cross-check of the pymc-marketing fit.
- `fit_pymc`: BG/NBD and Gamma-Gamma through pymc-marketing (the optional `clv`
  extra), with expected purchases and value per customer over a horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from crmroi.errors import ConfigurationError, UserError

INSTALL_HINT = "pip install 'crmroi[clv]'"
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
        raise UserError(f"transactions: column {missing[0]!r} is missing")
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


def fit_bgnbd(summary: pd.DataFrame) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit with scipy (log-parameters, L-BFGS-B)."""
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)

    def negative(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        return -float(bgnbd_log_likelihood((r, alpha, a, b), x, t_x, T).sum())

    best = minimize(negative, np.zeros(4), method="L-BFGS-B", options={"maxiter": 2000})
    best = minimize(negative, best.x, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-8})
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    return BgNbdFit(r, alpha, a, b, -float(best.fun))


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
