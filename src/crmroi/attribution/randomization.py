"""Randomisation inference over the roll-out order: intervals that hold with few teams.

With five teams there are five clusters; cluster-robust standard errors and
their t intervals are unreliable there (they covered 85% in the audit of issue
14). Instead the interval asks: had the same go-live dates been given to the
teams in another order, how large an effect would the estimator have found? Under
the sharp hypothesis "the CRM changed every live row by delta", the values
without the CRM are `y - delta * D` (D: the actual live indicator), so every
reordering's estimate is known; delta is kept in the 95% interval when the
actual estimate is not in the outer 5% of them (Fisher 1935; the roll-out order
is assumed as good as random, which the placebo test probes).

The estimator is linear in the values, so a reordering's estimate is
`a - delta * b` (a: its estimate on y, b: on D) and the interval is found
exactly from the points where `|a - delta b| = |theta - delta|`. When D is not
0/1 (rows before go-live that carry part of the effect, `carry` in
`staggered.py`), the actual order's own estimate on D is `b0` < 1: the
statistic is then `theta - delta b0` (theta: the actual estimate on y) and the
point estimate `theta / b0`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

MAX_ENUMERATED = 5040  # all orders of up to 7 distinct dates; beyond, a fixed random sample
SAMPLED = 999


def assignments(starts: Sequence[float], seed: int = 0) -> list[tuple[float, ...]]:
    """Distinct reorderings of the units' go-live months (NaN = never), the actual first."""
    actual = tuple(starts)
    n_orders = math.factorial(len(actual))
    if n_orders <= MAX_ENUMERATED:
        seen: dict[tuple[float, ...], None] = {_key(actual): None}
        out = [actual]
        for order in itertools.permutations(actual):
            key = _key(order)
            if key not in seen:
                seen[key] = None
                out.append(order)
        return out
    rng = np.random.default_rng(seed)
    out = [actual]
    for _ in range(SAMPLED):
        out.append(tuple(np.asarray(actual)[rng.permutation(len(actual))]))
    return out


def _key(order: Sequence[float]) -> tuple[float, ...]:
    return tuple(-1.0 if x != x else float(x) for x in order)


def p_value(theta: float, a: np.ndarray, b: np.ndarray, delta: float, b0: float = 1.0) -> float:
    """Share of orders (the actual one included) at least as extreme as the actual."""
    actual = abs(theta - delta * b0)
    others = np.abs(a - delta * b) >= actual - 1e-12 * (1 + actual)
    return float((1 + others.sum()) / (1 + len(a)))


def interval(
    theta: float, a: np.ndarray, b: np.ndarray, alpha: float = 0.05, b0: float = 1.0
) -> tuple[float, float] | None:
    """The set of delta with p-value above `alpha` around theta / b0; None when unbounded.

    `theta`: the actual estimate on the values, `b0` on the live indicator (1 when
    it is 0/1); `a`, `b`: each other order's estimate on the values and on the
    actual live indicator.
    """
    if (1 + len(a)) * alpha < 1:
        return None  # too few orders: no delta can be rejected at this level
    if not b0 > 0:
        return None  # the statistic does not move with delta
    roots: list[float] = []
    for ai, bi in zip(a, b, strict=True):
        # (ai - d bi)^2 = (theta - d b0)^2
        # <=> (bi^2 - b0^2) d^2 - 2 (ai bi - theta b0) d + ai^2 - theta^2
        qa = bi * bi - b0 * b0
        qb, qc = -2.0 * (ai * bi - theta * b0), ai * ai - theta * theta
        if abs(qa) < 1e-12:
            if abs(qb) > 1e-15:
                roots.append(-qc / qb)
            continue
        disc = qb * qb - 4 * qa * qc
        if disc >= 0:
            s = math.sqrt(disc)
            roots.extend([(-qb - s) / (2 * qa), (-qb + s) / (2 * qa)])
    centre = theta / b0
    points = np.unique(np.array([centre, *roots], dtype=float))
    above = points[points > centre]
    below = points[points < centre][::-1]
    high = _edge(theta, above, a, b, alpha, +1.0, b0)
    low = _edge(theta, below, a, b, alpha, -1.0, b0)
    if high is None or low is None:
        return None
    return low, high


def _edge(
    theta: float,
    points: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    alpha: float,
    side: float,
    b0: float = 1.0,
) -> float | None:
    """Walk from theta / b0 across the breakpoints; the last accepted one, None if never
    rejected. The p-value is constant between breakpoints, so one test per gap decides it.
    """
    centre = theta / b0
    previous = centre
    for point in points:
        if p_value(theta, a, b, (previous + float(point)) / 2, b0) <= alpha:
            return previous
        previous = float(point)
    far = previous + side * 1e3 * (abs(previous - centre) + abs(centre) + 1.0)
    if p_value(theta, a, b, far, b0) <= alpha:
        return previous
    return None
