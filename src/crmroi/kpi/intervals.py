"""Confidence intervals: a seeded, vectorised bootstrap over units and an analytic median CI.

Bootstrap (Efron & Tibshirani 1993, ch. 6; the Poisson variant of Hanley &
MacGibbon 2006): each resampling unit (account or rep) gets a Poisson(1) weight per
replicate, so a replicate's numerator and denominator sums are one matrix product
`W @ S` of the weights (replicates x units) with the per-unit sums S (units x
columns). Units are clusters: all rows of an account move together, which keeps
the within-account correlation in the interval. Rows without a unit (spend) are
fixed. The 95% interval is the 2.5 and 97.5 percentiles of the replicates.

The weights are counter-based (`BootstrapWeights`): unit u's weight in replicate r
is a fixed function of (seed, u's id, r), a SplitMix64 hash (Steele, Lea & Flood
2014) turned into a Poisson(1) draw by its inverse distribution function at 16-bit
resolution. So every KPI of a report sees the same replicates of the same accounts
(a joint bootstrap), and the draws do not depend on which KPIs, engine or row order.

Median (sales cycle): the distribution-free interval of the median from order
statistics (Conover 1999, section 3.2): ranks n/2 -/+ 1.96 sqrt(n)/2 give a 95%
interval, whose half-width / 1.96 is used as the standard error; the difference
of two independent medians then gets d -/+ 1.96 sqrt(se_b^2 + se_a^2).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

Z95 = 1.959963984540054
BLOCK_CELLS = 2_000_000  # hashes per block (uint64: 16 MB, four weights each)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
# Poisson(1) inverse distribution function on 2**16 equally likely 16-bit values
_POISSON = np.searchsorted(
    stats.poisson.cdf(np.arange(16), 1.0), (np.arange(65536) + 0.5) / 65536, side="right"
).astype(np.float64)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (uint64, wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def label_keys(labels: Sequence[str]) -> np.ndarray:
    """A 64-bit key per unit id (BLAKE2b of its text)."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
         for s in labels],
        dtype=np.uint64,
    )  # fmt: skip


def poisson_weights(seed: int, replicates: int, labels: Sequence[str]) -> np.ndarray:
    """(units x replicates) Poisson(1) weights of the unit ids `labels` (float64).

    One 64-bit hash of (seed, unit, q) gives the four 16-bit draws of replicates
    4q .. 4q + 3.
    """
    keys = label_keys(labels) ^ _mix(np.array([seed], dtype=np.uint64) + _GOLDEN)
    n, quads = len(keys), -(-replicates // 4)
    w = np.empty((n, quads * 4), dtype=np.float64)
    rows = max(1, BLOCK_CELLS // max(quads, 1))
    q = (np.arange(quads, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
    with np.errstate(over="ignore"):
        for u0 in range(0, n, rows):
            x = _mix(keys[u0 : u0 + rows, None] + q[None, :])
            w[u0 : u0 + rows] = _POISSON[x.view(np.uint16)]
    return w[:, :replicates]


class BootstrapWeights:
    """Weights of every unit code of a run (`names[code]` is its id), made on first use
    in blocks of codes, so units found later only add a block."""

    def __init__(self, seed: int, replicates: int, names: Sequence[str]) -> None:
        self.seed, self.replicates, self.names = seed, replicates, names
        self.blocks: list[tuple[int, np.ndarray]] = []  # (first code, units x replicates)
        self.size = 0

    def replicate_sums(self, units: np.ndarray, per_unit: np.ndarray) -> np.ndarray:
        """(replicates x columns) sums of `per_unit` (units x columns) over the unit
        codes `units` (distinct, sorted), each weighted by its replicate weight."""
        if len(units) and units[-1] >= self.size:
            new = list(self.names[self.size :])
            self.blocks.append((self.size, poisson_weights(self.seed, self.replicates, new)))
            self.size += len(new)
        out = np.zeros((self.replicates, per_unit.shape[1]))
        for first, w in self.blocks:
            lo, hi = np.searchsorted(units, [first, first + w.shape[0]])
            if hi == lo:
                continue
            local, part = units[lo:hi] - first, per_unit[lo:hi]
            if (hi - lo) * 4 >= w.shape[0]:  # most of the block: one product with it all
                full = np.zeros((w.shape[0], per_unit.shape[1]))
                full[local] = part
                out += w.T @ full
            else:
                out += w[local].T @ part
        return out


def percentile_ci(samples: np.ndarray) -> tuple[float | None, float | None]:
    """The 2.5% and 97.5% percentiles of finite samples (None when fewer than 10)."""
    finite = samples[np.isfinite(samples)]
    if finite.size < 10:
        return None, None
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def median_of_counts(values: np.ndarray, counts: np.ndarray) -> float | None:
    """The median of values repeated `counts` times (the mean of the two middle ones)."""
    n = int(counts.sum())
    if n == 0:
        return None
    order = np.argsort(values)
    v, c = values[order], np.cumsum(counts[order])
    lo = v[np.searchsorted(c, (n - 1) // 2, side="right")]
    hi = v[np.searchsorted(c, n // 2, side="right")]
    return float((lo + hi) / 2.0)


def median_se(values: np.ndarray, counts: np.ndarray) -> float | None:
    """Standard error of the median from the order-statistic 95% interval."""
    n = int(counts.sum())
    if n < 5:
        return None
    order = np.argsort(values)
    v, c = values[order], np.cumsum(counts[order])
    half = Z95 * math.sqrt(n) / 2.0
    r_lo = max(math.floor(n / 2.0 - half), 1) - 1  # 0-based ranks
    r_hi = min(math.ceil(n / 2.0 + half), n) - 1
    x_lo = v[np.searchsorted(c, r_lo, side="right")]
    x_hi = v[np.searchsorted(c, r_hi, side="right")]
    return float(x_hi - x_lo) / (2.0 * Z95)


def normal_ci(estimate: float, se: float | None) -> tuple[float | None, float | None]:
    """estimate -/+ 1.96 se."""
    if se is None or not math.isfinite(se):
        return None, None
    return estimate - Z95 * se, estimate + Z95 * se
