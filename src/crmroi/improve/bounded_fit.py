"""Maximum likelihood inside a box, shared by the purchase (BG/NBD) and spend
(Gamma-Gamma) fits.

Both models are fitted in log parameters within bounds, so no direction of a flat
likelihood can walk off to infinity; the fit then says which parameters ended on a bound,
because an optimum on a bound is the limit of a simpler model, not an estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

EDGE_TOLERANCE = 1e-3
"""A log parameter within this distance of its bound (0.1% of the parameter) counts as
on the bound."""

_UNUSABLE = 1e300  # objective value returned where the likelihood is not finite


@dataclass(frozen=True)
class BoundedFit:
    """Where a bounded minimisation ended: the log parameters, the objective there
    (a negative log-likelihood), whether it converged, and the parameters on a bound."""

    names: tuple[str, ...]
    theta: np.ndarray
    objective: float
    converged: bool
    message: str
    at_lower: tuple[str, ...]
    at_upper: tuple[str, ...]

    @property
    def finite(self) -> bool:
        """False when the optimiser found no point with a finite likelihood."""
        return bool(np.all(np.isfinite(self.theta)) and self.objective < _UNUSABLE / 10)

    @property
    def at_bound(self) -> tuple[str, ...]:
        """Every parameter on a bound, in the order of `names`."""
        edge = set(self.at_lower) | set(self.at_upper)
        return tuple(name for name in self.names if name in edge)


def finite_or_unusable(value: float) -> float:
    """The objective as the optimiser should see it: non-finite values become a huge
    penalty, so line searches back away from corners instead of failing."""
    return value if np.isfinite(value) else _UNUSABLE


def minimise_within_bounds(
    negative_log_likelihood: Callable[[np.ndarray], float],
    bounds: Sequence[tuple[float, float]],
    names: Sequence[str],
    *,
    tolerance: float = 1e-8,
    max_polish_iterations: int = 8000,
) -> BoundedFit:
    """Minimise from the origin with L-BFGS-B, then polish with Nelder-Mead (robust on the
    flat ridges these likelihoods have); report the parameters that ended on a bound."""
    start = np.zeros(len(bounds))
    with np.errstate(all="ignore"):  # the optimiser probes corners; the result is checked
        first = minimize(
            negative_log_likelihood,
            start,
            method="L-BFGS-B",
            bounds=list(bounds),
            options={"maxiter": 2000},
        )
        best = minimize(
            negative_log_likelihood,
            first.x,
            method="Nelder-Mead",
            bounds=list(bounds),
            options={"xatol": tolerance, "fatol": tolerance, "maxiter": max_polish_iterations},
        )
    theta = np.asarray(best.x, dtype=float)
    at_lower = tuple(
        name
        for name, value, (low, _) in zip(names, theta, bounds, strict=True)
        if value <= low + EDGE_TOLERANCE
    )
    at_upper = tuple(
        name
        for name, value, (_, high) in zip(names, theta, bounds, strict=True)
        if value >= high - EDGE_TOLERANCE
    )
    objective = float(best.fun) if np.isfinite(best.fun) else _UNUSABLE
    return BoundedFit(
        names=tuple(names),
        theta=theta,
        objective=objective,
        converged=bool(best.success or first.success),
        message=str(best.message),
        at_lower=at_lower,
        at_upper=at_upper,
    )
