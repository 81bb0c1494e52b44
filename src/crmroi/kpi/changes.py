"""From per-unit sums to values, changes, difference-in-differences and intervals (numpy).

A *cell* is a set of sum rows (a group's baseline window, a team's after window,
...). `Cells` holds each cell's numerator and denominator sums and, with a
bootstrap, the same sums for every replicate, so any KPI value, change or
difference in differences is computed once on the point sums and once, vectorised,
on the replicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmroi.kpi.intervals import (
    Z95,
    BootstrapWeights,
    median_of_counts,
    median_se,
    percentile_ci,
)
from crmroi.kpi.stats import UnitSums

Sums = tuple[np.ndarray, np.ndarray]  # numerator, denominator (any leading shape)


@dataclass
class Cells:
    """Point and replicate (numerator, denominator) sums per cell.

    The replicate sums (`reps`: replicates x (numerators, denominators)) are filled
    by the run's `BootstrapWeights.flush`, for every KPI at once; `replicates`
    flushes on first use if nobody did.
    """

    num: np.ndarray  # (cells,)
    den: np.ndarray
    reps: np.ndarray | None = None  # (replicates, 2 * cells)
    weights: BootstrapWeights | None = None

    @classmethod
    def build(
        cls, sums: UnitSums, cell: np.ndarray, n_cells: int, weights: BootstrapWeights | None
    ) -> Cells:
        """Sum rows into cells (`cell` = cell index per row, -1 = unused)."""
        use = cell >= 0
        c, num, den = cell[use], sums.num[use], sums.den[use]
        p_num = np.bincount(c, weights=num, minlength=n_cells)
        p_den = np.bincount(c, weights=den, minlength=n_cells)
        unit, team = sums.unit[use], sums.team[use]
        has = unit >= 0
        if weights is None or not has.any():  # nothing to resample: no interval
            return cls(p_num, p_den)
        fixed = np.concatenate(
            [
                np.bincount(c[~has], weights=num[~has], minlength=n_cells),
                np.bincount(c[~has], weights=den[~has], minlength=n_cells),
            ]
        ).astype(np.float64)  # (bincount of nothing is int64)
        reps = np.repeat(fixed[None, :], weights.replicates, axis=0)
        u, t, ch = unit[has], team[has], c[has]
        weights.add(
            reps, np.concatenate([u, u]), np.concatenate([t, t]),
            np.concatenate([ch, ch + n_cells]), np.concatenate([num[has], den[has]]),
        )  # fmt: skip
        return cls(p_num, p_den, reps, weights)

    def point(self, cells: list[int] | np.ndarray) -> Sums:
        """Sums of the cells `cells` (a list; or an array: summed over its last axis)."""
        return self.num[cells].sum(axis=-1), self.den[cells].sum(axis=-1)

    def replicates(self, cells: list[int] | np.ndarray) -> Sums | None:
        """Per replicate (first axis), sums of the cells `cells` as in `point`."""
        if self.reps is None:
            return None
        if self.weights is not None and self.weights.pending:
            self.weights.flush()
        c = np.asarray(cells, dtype=np.int64)
        return self.reps[:, c].sum(axis=-1), self.reps[:, len(self.num) + c].sum(axis=-1)


def value(kind: str, sums: Sums, months: int) -> np.ndarray:
    """A KPI value from summed numerator and denominator (NaN when undefined).

    total: the numerator (0 for a window without rows); ratio: num / den; annual:
    (num / den) compounded from a half window of `months` / 2 months to 12 months.
    """
    num, den = (np.asarray(x, dtype=np.float64) for x in sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "total":
            return num
        ratio = np.where(den > 0, num / den, np.nan)
        if kind == "annual":
            return ratio ** (12.0 / (months / 2.0))
        return ratio


def rel(change: np.ndarray | float, base: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(base) != 0, np.asarray(change) / np.asarray(base), np.nan)


def did(effect: str, t_b: np.ndarray, t_a: np.ndarray, c_b: np.ndarray, c_a: np.ndarray) -> Sums:
    """Difference in differences: (net_abs, net_rel) of treated (t) against controls (c).

    effect "abs" (rates): net_abs = (t_a - t_b) - (c_a - c_b), net_rel = net_abs / t_b.
    effect "rel" (amounts, counts, durations): the controls' relative change is the
    counterfactual trend, net_rel = (t_a / t_b) / (c_a / c_b) - 1, net_abs = net_rel t_b.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if effect == "abs":
            net_abs = (t_a - t_b) - (c_a - c_b)
            return net_abs, rel(net_abs, t_b)
        net_rel = (t_a / t_b) / (c_a / c_b) - 1.0
        return net_rel * t_b, net_rel


def ci(samples: np.ndarray | None) -> tuple[float | None, float | None]:
    return (None, None) if samples is None else percentile_ci(samples)


@dataclass
class MedianCells:
    """For median KPIs: values and counts per cell, pooled on demand."""

    sums: UnitSums
    cell: np.ndarray

    def median(self, cells: list[int]) -> tuple[float | None, float | None]:
        """(median, standard error) of the pooled cells."""
        m = np.isin(self.cell, cells)
        v, n = self.sums.num[m], self.sums.den[m]
        return median_of_counts(v, n), median_se(v, n)

    def count(self, cells: list[int]) -> float:
        """Number of rows (values) in the pooled cells."""
        return float(self.sums.den[np.isin(self.cell, cells)].sum())

    def per_cell(self, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
        """(median, standard error) of every cell 0 .. n_cells - 1 on its own (NaN:
        undefined), all cells in one sort: the numbers of `median` for each cell."""
        use = (self.cell >= 0) & (self.cell < n_cells)
        cell, v, n = self.cell[use], self.sums.num[use], self.sums.den[use]
        order = np.lexsort((v, cell))  # by cell, then value
        cell, v, c = cell[order], v[order], np.cumsum(n[order])
        total = np.bincount(cell, weights=n[order], minlength=n_cells)
        before = np.concatenate([[0.0], np.cumsum(total)[:-1]])  # counts of earlier cells
        count = np.floor(total)  # int(counts.sum()): whole values

        def at(rank: np.ndarray) -> np.ndarray:
            """The value of 0-based `rank` in each cell (counts are whole numbers)."""
            i = np.searchsorted(c, before + rank, side="right")
            return np.asarray(v[np.minimum(i, len(v) - 1)]) if len(v) else np.full(n_cells, np.nan)

        med = np.where(count > 0, (at((count - 1) // 2) + at(count // 2)) / 2.0, np.nan)
        half = Z95 * np.sqrt(count) / 2.0
        r_lo = np.maximum(np.floor(count / 2.0 - half), 1) - 1
        r_hi = np.minimum(np.ceil(count / 2.0 + half), count) - 1
        se = np.where(count >= 5, (at(r_hi) - at(r_lo)) / (2.0 * Z95), np.nan)
        return med, se
