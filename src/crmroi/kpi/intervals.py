"""Confidence intervals: a seeded, vectorised bootstrap over units and an analytic median CI.

Bootstrap (Efron & Tibshirani 1993, ch. 6; the Poisson variant of Hanley &
MacGibbon 2006): each resampling unit (account or rep) gets a Poisson(1) weight per
replicate, so a replicate's numerator and denominator sums are one matrix product
`W @ S` of the weights (replicates x units) with the per-unit sums S (units x
columns). Units are clusters: all rows of an account move together, which keeps
the within-account correlation in the interval. Rows without a unit (spend) are
fixed. The 95% interval is the 2.5 and 97.5 percentiles of the replicates.

Median (sales cycle): the distribution-free interval of the median from order
statistics (Conover 1999, section 3.2): ranks n/2 -/+ 1.96 sqrt(n)/2 give a 95%
interval, whose half-width / 1.96 is used as the standard error; the difference
of two independent medians then gets d -/+ 1.96 sqrt(se_b^2 + se_a^2).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator

import numpy as np

Z95 = 1.959963984540054
CHUNK_CELLS = 20_000_000  # weights drawn per block (float32: 80 MB)


def rng_for(seed: int, *labels: str) -> np.random.Generator:
    """A generator fixed by the seed and labels (KPI name...), independent of call order."""
    return np.random.default_rng([seed, *(zlib.crc32(label.encode()) for label in labels)])


def weight_blocks(rng: np.random.Generator, replicates: int, units: int) -> Iterator[np.ndarray]:
    """Poisson(1) bootstrap weights, `replicates` x `units`, in row blocks (float32)."""
    rows = max(1, min(replicates, CHUNK_CELLS // max(units, 1)))
    for start in range(0, replicates, rows):
        n = min(rows, replicates - start)
        yield rng.poisson(1.0, size=(n, units)).astype(np.float32)


def replicate_sums(
    rng: np.random.Generator, replicates: int, per_unit: np.ndarray, fixed: np.ndarray
) -> np.ndarray:
    """Bootstrap replicates of column sums: (replicates x columns), float64.

    `per_unit` is (units x columns) of sums per resampling unit, `fixed` the
    column sums of rows that are not resampled.
    """
    s = per_unit.astype(np.float64)
    out = [w.astype(np.float64) @ s for w in weight_blocks(rng, replicates, s.shape[0])]
    reps = np.vstack(out) if out else np.zeros((0, s.shape[1]))
    return reps + fixed[None, :]


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
