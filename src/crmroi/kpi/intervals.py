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
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
UNIT_BLOCK = 512  # units per block of weights (x 500 replicates, float64: 2 MB)
LANES = 4  # blocks i, i + LANES, ... summed in lane i; lanes added in order (any threads)
THREADS = max(1, min(LANES, os.cpu_count() or 1))  # lanes run in parallel
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
# Poisson(1) distribution function P(X <= k) = e^-1 sum_{i <= k} 1 / i!, k = 0..15 (no
# scipy.stats: importing it costs every `crmroi kpis` about a second; the nearest of the
# 16-bit levels below lies 7e-7 from a value, so rounding in the last bit changes nothing)
_CDF = np.array([math.exp(-1.0) * math.fsum(1.0 / math.factorial(i) for i in range(k + 1))
                 for k in range(16)])  # fmt: skip
# Poisson(1) inverse distribution function on 2**16 equally likely 16-bit values
_POISSON = np.searchsorted(_CDF, (np.arange(65536) + 0.5) / 65536, side="right").astype(np.float64)
_POISSON_BYTES = _POISSON.astype(np.uint8)  # the same table, 64 KB


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (uint64, wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _mix_into(x: np.ndarray, tmp: np.ndarray) -> None:
    """`_mix` in place on `x` (`tmp`: scratch of its shape): no temporary arrays."""
    for shift, mult in ((30, _M1), (27, _M2), (31, None)):
        np.right_shift(x, np.uint64(shift), out=tmp)
        np.bitwise_xor(x, tmp, out=x)
        if mult is not None:
            np.multiply(x, mult, out=x)


def label_keys(labels: Sequence[str]) -> np.ndarray:
    """A 64-bit key per unit id (BLAKE2b of its text)."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
         for s in labels],
        dtype=np.uint64,
    )  # fmt: skip


def unit_keys(seed: int, labels: Sequence[str]) -> np.ndarray:
    """The 64-bit key of each unit id in the run's `seed` (the hash input of its weights)."""
    return label_keys(labels) ^ _mix(np.array([seed], dtype=np.uint64) + _GOLDEN)


def weight_blocks(
    keys: np.ndarray, replicates: int, lane: int = 0, lanes: int = 1, block: int = UNIT_BLOCK
) -> Iterator[tuple[slice, np.ndarray]]:
    """The rows of the Poisson weights of units `keys` (`unit_keys`), block by block:
    (the block's rows, its (block units x replicates) float64 weights); only the
    blocks `lane`, `lane + lanes`, ... Every block is made in the same buffers (the
    next one overwrites it), so the weights of many units are never held at once
    (500 replicates: 4 KB per unit).

    One 64-bit hash of (key, q) gives the four 16-bit draws of replicates 4q ..
    4q + 3. The weights are small integers, exact in any float; they are looked up
    as bytes (a 64 KB table that stays in cache) and then widened.
    """
    quads = -(-replicates // 4)
    q = (np.arange(quads, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
    x = np.empty((min(block, len(keys)), quads), dtype=np.uint64)
    tmp = np.empty_like(x)
    small = np.empty((len(x), quads * 4), dtype=np.uint8)
    w = np.empty((len(x), quads * 4), dtype=np.float64)
    for lo in range(lane * block, len(keys), lanes * block):
        k = keys[lo : lo + block]
        n = len(k)
        with np.errstate(over="ignore"):
            np.add(k[:, None], q[None, :], out=x[:n])
            _mix_into(x[:n], tmp[:n])
        np.take(_POISSON_BYTES, x[:n].view(np.uint16), out=small[:n])
        w[:n] = small[:n]
        yield slice(lo, lo + n), w[:n, :replicates]


def weighted_sums(
    keys: np.ndarray, replicates: int, shape: tuple[int, int],
    product: Callable[[slice, np.ndarray, np.ndarray], None],
) -> np.ndarray:  # fmt: skip
    """The sum over blocks of units of `product(units, w, out)`, which writes a `shape`
    array (from the block's rows `units` and their weights `w`) into `out`: e.g.
    `W.T @ S` one block at a time. Lane i sums blocks i, i + LANES, ... in order, the
    lanes run in threads (numpy and BLAS release the GIL; BLAS itself on one thread
    each) and are added in lane order: the same numbers with any number of cores."""
    from threadpoolctl import threadpool_limits

    def lane(i: int) -> np.ndarray:
        total, part = np.zeros(shape), np.empty(shape)
        for units, w in weight_blocks(keys, replicates, i, LANES):
            product(units, w, part)
            total += part
        return total

    with threadpool_limits(limits=1, user_api="blas"):
        if THREADS > 1 and len(keys) > UNIT_BLOCK:
            with ThreadPoolExecutor(THREADS) as pool:
                parts = list(pool.map(lane, range(LANES)))
        else:
            parts = [lane(i) for i in range(LANES)]
    out = parts[0]
    for p in parts[1:]:
        out += p
    return out


def poisson_weights(
    seed: int, replicates: int, labels: Sequence[str], dtype: type = np.float64
) -> np.ndarray:
    """(units x replicates) Poisson(1) weights of the unit ids `labels` (every block of
    `weight_blocks` in one array)."""
    w: np.ndarray = np.empty((len(labels), replicates), dtype=dtype)
    for rows, block in weight_blocks(unit_keys(seed, labels), replicates):
        w[rows] = block
    return w


@dataclass
class _Request:
    """One KPI's per-unit sums to resample: entry i adds `val[i]` to column `col[i]`
    for unit `unit[i]` (a row of team `team[i]`); the replicate sums go to `out`."""

    out: np.ndarray  # (replicates x columns), already holding the fixed rows
    unit: np.ndarray
    team: np.ndarray
    col: np.ndarray
    val: np.ndarray


@dataclass
class _Block:
    """One request's entries of one team: `val[i]` adds to (units[u_idx[i]], cols[c_idx[i]])."""

    out: np.ndarray
    units: np.ndarray  # distinct unit codes, sorted
    cols: np.ndarray  # the columns of `out` this block adds to, sorted
    u_idx: np.ndarray
    c_idx: np.ndarray
    val: np.ndarray


class BootstrapWeights:
    """Replicate sums of every KPI of a run, with the weights of every unit code
    (`names[code]` is its id).

    KPIs `add` their per-unit sums; `flush` computes them all at once: the weights
    are made once per unit used, and the sums are multiplied by them in one matrix
    product per team (and size class), with the columns of every KPI side by side.
    Per team, because a team's rows only reach the cells of that team (its own
    difference-in-differences cells and its group's), so the mostly empty columns
    of the other teams never enter a product; side by side, because one wide
    product reads the weights once instead of once per KPI. A batch whose (units x
    columns) sums are mostly zeros (grouped by rep or segment: each account reaches
    few of the many group cells) is multiplied as a sparse matrix, so the work is
    the nonzero sums times the replicates, not every unit times every column.
    The weights are made and multiplied one block of units at a time
    (`weighted_sums`): the (units x replicates) matrix is never held whole (at
    scale 20 it took 60 MB per team, and touching that much new memory cost more
    than the products).
    """

    SMALL = 5000  # requests with fewer units (reps) are batched apart from accounts
    SPARSE = 0.05  # batches with fewer nonzero sums than this share: sparse product

    def __init__(self, seed: int, replicates: int, names: Sequence[str]) -> None:
        self.seed, self.replicates, self.names = seed, replicates, names
        self.pending: list[_Request] = []

    def add(
        self, out: np.ndarray, unit: np.ndarray, team: np.ndarray, col: np.ndarray,
        val: np.ndarray,
    ) -> None:  # fmt: skip
        """Queue sums to resample into `out` (replicates x columns) at the next flush
        (the codes kept as int32: a report queues millions of entries until then)."""
        keep = val != 0
        if keep.any():
            u, t, c = (x[keep].astype(np.int32) for x in (unit, team, col))
            self.pending.append(_Request(out, u, t, c, val[keep]))

    def flush(self) -> None:
        """Compute every queued request's replicate sums (added to its `out`)."""
        requests, self.pending = self.pending, []
        if not requests:
            return
        size = len(self.names)
        batches: dict[tuple[int, bool], list[_Block]] = {}
        for r in requests:
            small = bool(np.count_nonzero(np.bincount(r.unit, minlength=size)) < self.SMALL)
            for team, block in _split(r, size):
                batches.setdefault((team, small), []).append(block)
        for blocks in batches.values():
            units, _ = _distinct(np.concatenate([b.units for b in blocks]), size)
            width = [len(b.cols) for b in blocks]
            offsets = np.concatenate([[0], np.cumsum(width)])
            rows = np.concatenate([np.searchsorted(units, b.units)[b.u_idx] for b in blocks])
            cols = np.concatenate(
                [lo + b.c_idx for b, lo in zip(blocks, offsets[:-1], strict=True)]
            )
            vals = np.concatenate([b.val for b in blocks])
            keys = unit_keys(self.seed, [self.names[c] for c in units])
            shape = (len(units), int(offsets[-1]))
            if len(vals) < self.SPARSE * shape[0] * shape[1]:
                product = _sparse_product(keys, rows, cols, vals, shape, self.replicates)
            else:
                product = _dense_product(keys, rows, cols, vals, shape, self.replicates)
            for b, lo, hi in zip(blocks, offsets[:-1], offsets[1:], strict=True):
                b.out[:, b.cols] += product[:, lo:hi]


def _dense_product(
    keys: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
    shape: tuple[int, int], replicates: int,
) -> np.ndarray:  # fmt: skip
    """(replicates x columns) `W.T @ S` with W the (units x replicates) weights of the
    units `keys` and S (units x columns) the summed entries, as dense products over
    S's distinct columns, one block of units at a time (`weighted_sums`)."""
    by_col = np.bincount(cols * shape[0] + rows, weights=vals, minlength=shape[0] * shape[1])
    by_col = by_col.reshape(shape[::-1])  # S.T: a column's sums contiguous
    distinct, copies = _distinct_rows(by_col)
    m = by_col[distinct]

    def product(units: slice, w: np.ndarray, out: np.ndarray) -> None:
        np.matmul(w.T, m[:, units].T, out=out)

    sums = weighted_sums(keys, replicates, (replicates, len(distinct)), product)
    return np.asarray(sums[:, copies])


def _sparse_product(
    keys: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
    shape: tuple[int, int], replicates: int,
) -> np.ndarray:  # fmt: skip
    """(replicates x columns) `W.T @ S` as in `_dense_product`, with S sparse: work in
    proportion to S's nonzeros times the replicates."""
    from scipy import sparse  # only grouped reports need it

    s_t = sparse.csc_array((vals, (cols, rows)), shape=(shape[1], shape[0]))

    def product(units: slice, w: np.ndarray, out: np.ndarray) -> None:
        out[:] = s_t[:, units] @ w

    return np.ascontiguousarray(weighted_sums(keys, replicates, (shape[1], replicates), product).T)


def _distinct(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of `codes` (in 0 .. size - 1), sorted, and each code's index
    among them (a counting sort: no comparison sort of millions of codes)."""
    seen = np.zeros(size, dtype=bool)
    seen[codes] = True
    values = np.flatnonzero(seen)
    lut = np.zeros(size, dtype=np.int64)
    lut[values] = np.arange(len(values))
    return values, lut[codes]


def _distinct_rows(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of m's distinct rows and, per row, the position of its copy among them.
    (m is S transposed: the same cells of several KPIs, or a team's cells in its own
    windows and in the identical difference-in-differences windows, are equal
    columns of S: each is multiplied once.) Candidates share a random projection;
    equality is then checked, row against row."""
    if m.shape[0] < 2:
        return np.arange(m.shape[0]), np.arange(m.shape[0])
    probe = m @ np.random.default_rng(0).standard_normal(m.shape[1])
    _, first, copies = np.unique(probe, return_index=True, return_inverse=True)
    dup = np.flatnonzero(first[copies] != np.arange(m.shape[0]))
    if any(not np.array_equal(m[i], m[first[copies[i]]]) for i in dup.tolist()):
        return np.arange(m.shape[0]), np.arange(m.shape[0])  # a collision: no merging
    return first, copies


def _split(r: _Request, size: int) -> list[tuple[int, _Block]]:
    """A request's per-unit entries, one block per team."""
    out = []
    for team in np.unique(r.team).tolist():
        m = r.team == team
        units, u_idx = _distinct(r.unit[m], size)
        cols, c_idx = _distinct(r.col[m], r.out.shape[1])
        out.append((team, _Block(r.out, units, cols, u_idx, c_idx, r.val[m])))
    return out


def percentile_ci(samples: np.ndarray) -> tuple[float | None, float | None]:
    """The 2.5% and 97.5% percentiles of finite samples (None when fewer than 10)."""
    lo, hi = percentile_cis(np.asarray(samples, dtype=np.float64)[:, None])
    return (None, None) if np.isnan(lo[0]) else (float(lo[0]), float(hi[0]))


def percentile_cis(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of (replicates x columns) `samples`: the 2.5% and 97.5% percentiles
    of its finite values (NaN when fewer than 10), all columns in one sort.

    The same numbers as `np.percentile` (linear method) on each column's finite
    values: the same order statistics and the same interpolation formula."""
    s = np.sort(np.where(np.isfinite(samples), samples, np.nan), axis=0)  # NaN last
    n = np.count_nonzero(~np.isnan(s), axis=0)
    cols = np.arange(s.shape[1])
    out = []
    for q in (2.5, 97.5):
        virtual = (np.maximum(n, 1) - 1) * (q / 100)
        prev = np.floor(virtual).astype(np.intp)
        below = s[prev, cols]
        above = s[np.minimum(prev + 1, np.maximum(n, 1) - 1), cols]
        t = virtual - prev
        diff = above - below
        value = np.where(t >= 0.5, above - diff * (1 - t), below + diff * t)  # np's _lerp
        out.append(np.where(n >= 10, value, np.nan))
    return out[0], out[1]


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
