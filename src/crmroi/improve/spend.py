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

The likelihood has a degenerate direction: when a customer's purchases hardly vary
around their own mean, it keeps rising as p -> infinity with p gamma fixed, and an
unbounded optimiser walks off to infinity (the fit then returns overflow, `inf` or
`nan`). The fit is therefore made in (log p, log q, log p gamma) inside bounds, with a
numerically stable likelihood. When the optimum lies on a bound (p at `SHAPE_MAX`:
spend varies less than 1% within customers; q at a bound; or q <= 1, an infinite
population mean), or the optimiser does not converge, the Gamma-Gamma model is replaced
by its p -> infinity limit, **mean spend per customer**: a repeat buyer's expected spend
is their own mean, anyone else's the mean over repeat buyers; `SpendFit.warning` says
which and why, and every output that shows the fit shows the warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln

from crmroi.errors import UserError
from crmroi.improve.bounded_fit import finite_or_unusable, minimise_within_bounds
from crmroi.messages import M_, Items, Message, Num, Said

MIN_REPEATERS = 10
SHAPE_MIN = 1e-4
SHAPE_MAX = 1e4  # p = 1e4: spend varies by 1 / sqrt(p) = 1% around a customer's mean
SCALE_RANGE = 1e6  # p gamma within [1e-6, 1e6] x the mean spend
GAMMA_GAMMA = "gamma-gamma"
MEAN_SPEND = "mean spend per customer"


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood of mean repeat spend `m` over `x` purchases (x > 0).

    Written as -log B(px, q) + q log gamma - log m - px log1p(gamma / (m x))
    - q log(gamma + m x), the same density as the module docstring's, without the
    cancellation of large log-gamma differences when p is large.
    """
    p, q, gamma = params
    px = p * x
    return np.asarray(
        -betaln(px, q)
        + q * np.log(gamma)
        - np.log(m)
        - px * np.log1p(gamma / (m * x))
        - q * np.log(gamma + m * x)
    )


@dataclass(frozen=True)
class GammaGammaFit:
    """The fitted spend model: Gamma-Gamma (p, q, gamma), or its mean-spend limit.

    `model` is `GAMMA_GAMMA` or `MEAN_SPEND`; with `MEAN_SPEND`, p, q and gamma are
    None, `population_mean` is the mean over repeat buyers of their mean spend, and
    `warning` says why the Gamma-Gamma fit was not used.
    """

    p: float | None
    q: float | None
    gamma: float | None
    log_likelihood: float | None
    customers: int
    model: str = GAMMA_GAMMA
    population_mean: float | None = None
    warning: str | None = None

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase: p gamma / (q - 1), or the mean-spend limit's."""
        if self.model == MEAN_SPEND:
            assert self.population_mean is not None
            return self.population_mean
        assert self.p is not None and self.q is not None and self.gamma is not None
        return self.p * self.gamma / (self.q - 1.0)

    def parameters(self) -> dict[str, float]:
        """The fitted parameters by name (p, q, gamma; or population_mean_spend)."""
        if self.model == MEAN_SPEND:
            return {"population_mean_spend": self.mean_spend}
        assert self.p is not None and self.q is not None and self.gamma is not None
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    def expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Expected spend per future purchase of each customer, given x and mean m.

        A customer without repeat purchases (x = 0) gets the population mean.
        """
        x = np.asarray(x, dtype=float)
        m = np.nan_to_num(np.asarray(m, dtype=float))
        if self.model == MEAN_SPEND:
            return np.where((x > 0) & (m > 0), m, self.mean_spend)
        assert self.p is not None and self.q is not None and self.gamma is not None
        return np.asarray((self.p * (self.gamma + m * x)) / (self.p * x + self.q - 1.0))


def _mean_spend(m: np.ndarray, reason: Message) -> GammaGammaFit:
    """The p -> infinity limit of the Gamma-Gamma model, with the reason it is used."""
    return GammaGammaFit(
        p=None,
        q=None,
        gamma=None,
        log_likelihood=None,
        customers=len(m),
        model=MEAN_SPEND,
        population_mean=float(np.mean(m)),
        warning=Said(
            M_(
                "spend_mean_fallback",
                "spend per purchase: the Gamma-Gamma model could not be fitted (%(reason)s); "
                "each repeat buyer's expected spend is their own mean, other customers get "
                "the mean over repeat buyers",
                reason=reason,
            )
        ),
    )


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit inside bounds (L-BFGS-B then Nelder-Mead).

    `summary` has `frequency` and `monetary_value` per customer (see `clv.rfm`);
    customers with `frequency` 0 or a non-positive mean are left out. A degenerate or
    failed fit falls back to mean spend per customer (see the module docstring).
    """
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    x = summary.loc[keep, "frequency"].to_numpy(dtype=float)
    m = summary.loc[keep, "monetary_value"].to_numpy(dtype=float)
    finite = np.isfinite(x) & np.isfinite(m)
    x, m = x[finite], m[finite]
    if len(x) < MIN_REPEATERS:
        raise UserError(
            M_(
                "spend_few_repeaters",
                "the spend model needs at least %(least)s customers with a repeat purchase, "
                "not %(found)s",
                least=Num(MIN_REPEATERS, grouped=False),
                found=Num(len(x), grouped=False),
            )
        )
    scale = float(np.mean(m))
    if float(np.max(m) - np.min(m)) <= 1e-9 * scale:
        same = M_("spend_same_mean", "every repeat buyer has the same mean spend")
        return _mean_spend(m, same)
    # theta = (log p, log q, log(p gamma / scale)); gamma = scale exp(theta[2]) / p
    bounds = [
        (np.log(SHAPE_MIN), np.log(SHAPE_MAX)),
        (np.log(SHAPE_MIN), np.log(SHAPE_MAX)),
        (-np.log(SCALE_RANGE), np.log(SCALE_RANGE)),
    ]

    def negative(theta: np.ndarray) -> float:
        p, q, c = np.exp(theta)
        return finite_or_unusable(
            -float(gamma_gamma_log_likelihood((p, q, c * scale / p), x, m).sum())
        )

    fit = minimise_within_bounds(negative, bounds, ("p", "q", "p gamma"), tolerance=1e-9)
    if not fit.finite:
        return _mean_spend(m, M_("fit_no_maximum", "the optimiser found no finite maximum"))
    p, q, c = (float(v) for v in np.exp(fit.theta))
    if "p" in fit.at_upper:
        rising = M_(
            "spend_p_unbounded",
            "the likelihood keeps rising as p grows: spend hardly varies within customers",
        )
        return _mean_spend(m, rising)
    if fit.at_bound:
        names = Items(fit.at_bound)
        edge = M_("fit_at_edge", "%(names)s at the edge of the search range", names=names)
        return _mean_spend(m, edge)
    if q <= 1.0:
        infinite = M_(
            "spend_q_infinite", "q = %(q)s <= 1 gives an infinite mean spend", q=format(q, ".3g")
        )
        return _mean_spend(m, infinite)
    if not fit.converged:
        detail = M_(
            "fit_not_converged", "the optimiser did not converge: %(detail)s", detail=fit.message
        )
        return _mean_spend(m, detail)
    gamma = c * scale / p
    return GammaGammaFit(p, q, gamma, -fit.objective, len(x))
