"""Gamma-Gamma model of spend per purchase, fitted by maximum likelihood with scipy.

Fader, Hardie & Lee (2005), "RFM and CLV: Using iso-value curves for customer base
analysis", Journal of Marketing Research 42(4), section "the spend model", and Hardie's
note "The Gamma-Gamma model of monetary value" (2013). A customer's purchases are
Gamma(p, nu) around a mean p / nu; nu varies across customers as Gamma(q, gamma). For a
customer with x repeat purchases of mean value m (the RFM summary's `frequency` and
`monetary_value`), the density of m is

    f(m | p, q, gamma, x) = Gamma(px + q) / (Gamma(px) Gamma(q))
                            gamma^q m^(px - 1) x^(px) / (gamma + m x)^(px + q)

and the expected spend per purchase given (x, m) is

    E[M | x, m] = (p (gamma + m x)) / (p x + q - 1)     (q > 1),

a weighted mean of the population mean p gamma / (q - 1) and the customer's own mean.
Only customers with at least one repeat purchase (x > 0) enter the fit. Money is in the
unit of the amounts given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln

from crmroi.errors import UserError

MIN_REPEATERS = 10


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood of mean repeat spend `m` over `x` purchases (x > 0)."""
    p, q, gamma = params
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma parameters and the number of repeat buyers behind them."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase, p gamma / (q - 1) (infinite if q <= 1)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")

    def expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Expected spend per future purchase of each customer, given x and mean m.

        A customer without repeat purchases (x = 0) gets the population mean.
        """
        x = np.asarray(x, dtype=float)
        m = np.nan_to_num(np.asarray(m, dtype=float))
        return np.asarray(
            (self.p * (self.gamma + m * x)) / (self.p * x + self.q - 1.0)
            if self.q > 1.0
            else np.full(x.shape, np.inf)
        )


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit (log-parameters; L-BFGS-B then Nelder-Mead).

    `summary` has `frequency` and `monetary_value` per customer (see `clv.rfm`);
    customers with `frequency` 0 or a non-positive mean are left out.
    """
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    x = summary.loc[keep, "frequency"].to_numpy(dtype=float)
    m = summary.loc[keep, "monetary_value"].to_numpy(dtype=float)
    if len(x) < MIN_REPEATERS:
        raise UserError(
            f"the spend model needs at least {MIN_REPEATERS} customers with a repeat "
            f"purchase, not {len(x)}"
        )
    scale = float(np.mean(m))

    def negative(theta: np.ndarray) -> float:
        p, q, g = np.exp(theta)
        return -float(gamma_gamma_log_likelihood((p, q, g * scale), x, m).sum())

    # start from p = q = 1, gamma at the mean spend (the scale makes the fit unit-free)
    best = minimize(negative, np.zeros(3), method="L-BFGS-B", options={"maxiter": 2000})
    best = minimize(
        negative,
        best.x,
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 5000},
    )
    p, q, g = (float(v) for v in np.exp(best.x))
    return GammaGammaFit(p, q, g * scale, -float(best.fun), len(x))
