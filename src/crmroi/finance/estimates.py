"""Uncertain inputs: a number or a low / most likely / high range, and PERT draws of it.

The PERT distribution (Malcolm et al. 1959; Vose, *Risk Analysis*, 3rd ed., 2008,
section 9.1) is a Beta distribution rescaled to [low, high] with shape
alpha = 1 + 4 (likely - low) / (high - low), beta = 1 + 4 (high - likely) / (high - low),
so its mean is (low + 4 likely + high) / 6.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, model_validator

from crmroi.messages import M_


class Range(BaseModel):
    """An uncertain number: low <= likely <= high (drawn from PERT in the simulation)."""

    model_config = ConfigDict(extra="forbid")

    low: float
    likely: float
    high: float

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
    """The mean of the PERT distribution of an estimate: (low + 4 likely + high) / 6."""
    if isinstance(value, Range):
        return (value.low + 4.0 * value.likely + value.high) / 6.0
    return float(value)


def pert_draws(value: Estimate, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """`n` draws from the PERT distribution of `value` (a constant array if it is a number)."""
    if not isinstance(value, Range) or value.high == value.low:
        return np.full(n, likely(value), dtype=np.float64)
    span = value.high - value.low
    alpha = 1.0 + 4.0 * (value.likely - value.low) / span
    beta = 1.0 + 4.0 * (value.high - value.likely) / span
    return value.low + span * rng.beta(alpha, beta, n)
