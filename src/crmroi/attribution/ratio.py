"""A ratio KPI's effect as a ratio of imputed totals (calls per won deal).

Calls per won deal is C / W, two random sums over a cell's deals (calls fall on lost
deals too). Imputing the cell ratios and averaging them keeps part of each cell's ratio
bias (about (R s_w^2 - s_cw) / (n w^2), Cochran 1977, 6.8) wherever the imputation's
coefficients are not proportional to W: with no effect the estimate read -1.2% of the
level on the demo. Instead the numerator and the denominator are imputed separately,
each as a rate per unit of exposure (calls per deal and won deals per deal, weighted by
deals: a count the outcomes do not drive), and the effect is a ratio of sums over the
usable live cells:

    effect = C_live / W_live - C_imputed / W_imputed

(`C_imputed`: the sum over those cells of deals x imputed calls per deal). A ratio of
sums has no ratio bias to speak of on either side.

Randomisation interval: under the sharp hypothesis "the CRM changed every live cell's
calls per won deal by delta", each live cell's calls without it are `C - delta W`
(W as observed), so every reordering's statistic is `a - delta b`: `a` the statistic on
(C, W), `b` the same statistic with numerator W x live (the actual live indicator).
Both are ratios of imputed totals, so numerator and denominator move together under
every reordering, and `randomization.interval` applies as for a linear estimator. For
the actual order `b` is 1 (the live cells' W over themselves, less an imputation of
zeros from cells not live).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from crmroi.attribution.imputation import Imputed

Pick = Callable[[Imputed], tuple[float, float] | None]
"""A statistic of one run: (on the values, on the live indicator), or None."""


def ratio_columns(
    num: np.ndarray, den: np.ndarray, exposure: np.ndarray, live: np.ndarray
) -> np.ndarray:
    """Rates per unit of exposure to impute: num, den and den x live (n x 3)."""
    return np.column_stack([num, den, den * live.astype(float)]) / exposure[:, None]


def _statistic(observed: np.ndarray, imputed: np.ndarray) -> tuple[float, float] | None:
    """(on the values, on the live indicator) from mean rates per unit of exposure of
    the cells (observed) and of their imputations; None when a denominator is not > 0."""
    if not (observed[1] > 0 and imputed[1] > 0):
        return None
    on_y = observed[0] / observed[1] - imputed[0] / imputed[1]
    on_d = observed[2] / observed[1] - imputed[2] / imputed[1]
    return float(on_y), float(on_d)


def overall(run: Imputed) -> tuple[float, float] | None:
    """The ratio-of-totals statistic over every usable live cell."""
    return _statistic(run.overall + run.counterfactual, run.counterfactual)


def at_horizon(k: int) -> Pick:
    """The statistic over the usable live cells `k` months after go-live."""

    def pick(run: Imputed) -> tuple[float, float] | None:
        if k not in run.by_horizon:
            return None
        imputed = run.counterfactual_by_horizon[k]
        return _statistic(run.by_horizon[k] + imputed, imputed)

    return pick


def counterfactual(run: Imputed) -> float:
    """The ratio without the CRM over the usable live cells: imputed num / imputed den."""
    return float(run.counterfactual[0] / run.counterfactual[1])


def denominator_at(run: Imputed, k: int) -> float:
    """Summed denominator (e.g. won deals) of the live cells at horizon k."""
    return float((run.by_horizon[k][1] + run.counterfactual_by_horizon[k][1]) * run.weight[k])
