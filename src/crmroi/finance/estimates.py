"""Uncertain inputs: a number or a low / most likely / high range, and PERT draws of it.

The PERT distribution (Malcolm et al. 1959; Vose, *Risk Analysis*, 3rd ed., 2008,
section 9.1) is a Beta distribution rescaled to [low, high] with shape
alpha = 1 + 4 (likely - low) / (high - low), beta = 1 + 4 (high - likely) / (high - low),
so its mean is (low + 4 likely + high) / 6.

A range with a `level` (a measured change's 95% interval, or a user's "90% sure")
states an interval, not the extremes: its draws come from the PERT whose central `level`
share lies between low and high (`crmroi.finance.pert_fit`). Taking a 95% interval as
the minimum and maximum would draw the change with about 70% of its measured spread.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmroi.messages import M_


class Range(BaseModel):
    """An uncertain number: low <= likely <= high (drawn from PERT in the simulation).

    Without `level`, low and high are the minimum and maximum; with it (0 < level < 1),
    they are the central interval holding that share of the draws.
    """

    model_config = ConfigDict(extra="forbid")

    low: float
    likely: float
    high: float
    level: float | None = Field(default=None, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low <= self.likely <= self.high:
            raise ValueError(
                M_(
                    "range_order",
                    "a range needs low <= likely <= high (got %(low)s, %(likely)s, %(high)s)",
                    low=str(self.low),
                    likely=str(self.likely),
                    high=str(self.high),
                )
            )
        return self


Estimate = float | Range


def likely(value: Estimate) -> float:
    """The most likely value of an estimate (the number itself when it is not a range)."""
    return value.likely if isinstance(value, Range) else float(value)


def pert_mean(value: Estimate) -> float:
    """The mean of the PERT distribution of an estimate: (min + 4 likely + max) / 6."""
    if isinstance(value, Range):
        from crmroi.finance.pert_fit import pert_bounds

        low, high = pert_bounds(value)
        return (low + 4.0 * value.likely + high) / 6.0
    return float(value)


def pert_draws(value: Estimate, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """`n` draws from the PERT distribution of `value` (a constant array if it is a number)."""
    if not isinstance(value, Range) or value.high == value.low:
        return np.full(n, likely(value), dtype=np.float64)
    from crmroi.finance.pert_fit import pert_bounds

    low, high = pert_bounds(value)
    span = high - low
    alpha = 1.0 + 4.0 * (value.likely - low) / span
    beta = 1.0 + 4.0 * (high - value.likely) / span
    return low + span * rng.beta(alpha, beta, n)
