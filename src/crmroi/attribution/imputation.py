"""The imputation estimator of a staggered roll-out (Borusyak, Jaravel & Spiess 2024).

For a panel of units (teams) going live in different months:

1. fit `value[u, t] = alpha[u] + gamma[t]` by weighted least squares on the rows
   *not yet* live only (months before a unit's go-live, and never-live units);
2. impute each live row's value without the CRM as `alpha[u] + gamma[t]`;
3. the row's effect is its value minus that imputation; the overall effect is the
   weighted mean over live rows (weights: the KPI's denominator, e.g. closed deals,
   so "per deal"), and the effect `k` months after go-live is the same mean over
   rows with that horizon (the event study).

Live rows are compared with units not yet live in the same month only, never with
units already live, so effects that grow after go-live do not bias the estimate
(the defect of two-way fixed effects; Goodman-Bacon 2021, de Chaisemartin &
D'Haultfoeuille 2020). Live rows in months when every unit is live cannot be
imputed and are left out (their number is reported). Gardner's two-stage
estimator gives the same point estimate. The estimate is linear in the values,
which `randomization.py` uses for exact randomisation-inference intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crmroi.attribution.results import AttributionError

RANK_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Imputed:
    """Effects of one assignment of go-live months, for each column of values.

    `overall[j]`: weighted mean effect over usable live rows of column j;
    `by_horizon[k][j]`: the same over rows k months after go-live; `weight[k]`:
    summed weight at horizon k; `counterfactual[j]`: weighted mean of the imputed
    values of usable live rows (the level without the CRM), `counterfactual_by_horizon[k][j]`
    the same at horizon k; `dropped`: live rows that could not be imputed.
    """

    overall: np.ndarray
    by_horizon: dict[int, np.ndarray]
    weight: dict[int, float]
    counterfactual: np.ndarray
    used: int
    dropped: int
    counterfactual_by_horizon: dict[int, np.ndarray] = field(default_factory=dict)


def _design(unit: np.ndarray, period: np.ndarray, units: int, periods: int) -> np.ndarray:
    """Dummy matrix of rows' codes: unit effects, period effects without the first."""
    x = np.zeros((len(unit), units + periods - 1))
    idx = np.arange(x.shape[0])
    x[idx, unit] = 1.0
    p = period
    x[idx[p > 0], units + p[p > 0] - 1] = 1.0
    return x


def impute(
    values: np.ndarray,
    unit: np.ndarray,
    period: np.ndarray,
    weight: np.ndarray,
    since: np.ndarray,
) -> Imputed:
    """Imputation estimates for the columns of `values` (n x m).

    `unit`, `period`: integer codes 0..; `weight` > 0; `since`: months since the
    unit's go-live for each row (NaN for a unit never live).
    """
    live = since >= 0
    control = ~live
    if not live.any():
        raise AttributionError("no unit is live within the data")
    seen_units = np.zeros(int(unit.max()) + 1, dtype=bool)
    seen_units[unit[control]] = True
    seen_periods = np.zeros(int(period.max()) + 1, dtype=bool)
    seen_periods[period[control]] = True
    usable = live & seen_units[unit] & seen_periods[period]
    if not usable.any():
        raise AttributionError(
            "no live month has a unit still without the CRM to compare with; "
            "a staggered comparison needs units not yet live"
        )
    # re-code the fitted units and periods densely so every dummy has rows
    _, u_code = np.unique(unit[control], return_inverse=True)
    _, p_code = np.unique(period[control], return_inverse=True)
    n_units, n_periods = int(u_code.max()) + 1, int(p_code.max()) + 1
    x = _design(u_code, p_code, n_units, n_periods)
    xtw = x.T * weight[control]
    gram = xtw @ x
    eig = np.linalg.eigvalsh(gram)
    if eig[0] <= RANK_TOLERANCE * eig[-1]:
        raise AttributionError(
            "the months before go-live do not link every team with every month "
            "(the comparison is not identified)"
        )
    coef = np.linalg.solve(gram, xtw @ values[control])
    unit_map = np.full(int(unit.max()) + 1, -1)
    unit_map[np.unique(unit[control])] = np.arange(n_units)
    period_map = np.full(int(period.max()) + 1, -1)
    period_map[np.unique(period[control])] = np.arange(n_periods)
    xu = _design(unit_map[unit[usable]], period_map[period[usable]], n_units, n_periods)
    predicted = xu @ coef
    tau = values[usable] - predicted
    w = weight[usable]
    horizon = since[usable].astype(np.int64)
    ks, code = np.unique(horizon, return_inverse=True)
    totals = np.bincount(code, weights=w)

    def summed(x: np.ndarray) -> np.ndarray:
        columns = [
            np.bincount(code, weights=w * x[:, j], minlength=len(ks)) for j in range(x.shape[1])
        ]
        return np.stack(columns, axis=1)

    sums, imputed = summed(tau), summed(predicted)
    by_horizon = {int(k): sums[i] / totals[i] for i, k in enumerate(ks)}
    weights = {int(k): float(totals[i]) for i, k in enumerate(ks)}
    return Imputed(
        overall=(w @ tau) / w.sum(),
        by_horizon=by_horizon,
        weight=weights,
        counterfactual=(w @ predicted) / w.sum(),
        used=int(usable.sum()),
        dropped=int(live.sum() - usable.sum()),
        counterfactual_by_horizon={int(k): imputed[i] / totals[i] for i, k in enumerate(ks)},
    )
