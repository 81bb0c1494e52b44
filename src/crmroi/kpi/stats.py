"""Aggregated facts as numpy arrays: cubes from the database, placed in windows, per-unit sums.

A *cube* is the small result of one aggregate query (`crmroi.kpi.facts.fetch_cube`):
one row per team, group value, unit (account or rep), bucket (and a few more keys),
with summed measures. Strings are coded as integers shared by every cube of a run
(`Labels`). `Placed` puts a cube's rows in the periods of one evaluation (a window
set) and turns measures into `UnitSums`: numerator and denominator per (group,
team, unit, period), the input of the estimates and the bootstrap
(`crmroi.kpi.changes`). Nothing here touches raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmroi.kpi.buckets import Buckets, Evaluation

NONE = -1  # code of a NULL label (no team, fixed unit, no group)


class Labels:
    """Every string label of a run (teams, units, groups) as a dense integer code."""

    BULK = 2048  # distinct values from which a column's codes are looked up in Arrow

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        self._chunks: list[pa.Array] = []  # the names in code order, as Arrow strings
        self._arrow: pa.Array | None = None

    def encode(self, column: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Codes of a string column (NULL: NONE); new labels are added in the order of
        their first row. Only the column's distinct values are looked up: a few in the
        dictionary of labels, many (the accounts of a cube) in Arrow in one pass
        instead of one Python lookup each."""
        arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        enc = pc.dictionary_encode(arr.cast(pa.string()))
        distinct = enc.dictionary
        if len(distinct) >= self.BULK and self.names:
            found = pc.index_in(distinct, value_set=self._known())
            codes = pc.fill_null(found, NONE).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            codes = np.array([self.ids.get(n, NONE) for n in distinct.to_pylist()], np.int64)
        new = np.flatnonzero(codes == NONE)
        if len(new):  # new labels, in the order of their first row
            added = distinct.take(pa.array(new))
            codes[new] = np.arange(len(self.names), len(self.names) + len(new))
            names = added.to_pylist()
            self.ids.update(zip(names, codes[new].tolist(), strict=True))
            self.names.extend(names)
            self._chunks.append(added)
            self._arrow = None
        lut = np.append(codes, NONE)
        idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return lut[idx]

    def _known(self) -> pa.Array:
        """Every label so far as one Arrow array (index = code)."""
        if self._arrow is None:
            self._arrow = pa.concat_arrays(self._chunks)
            self._chunks = [self._arrow]
        return self._arrow

    def code_of(self, label: str) -> int:
        """The code of `label`, added when new."""
        return int(self.encode(pa.array([label], type=pa.string()))[0])

    def name(self, code: int) -> str | None:
        return None if code == NONE else self.names[code]


@dataclass
class UnitSums:
    """Numerator and denominator per (group, team, unit, period), as parallel arrays.

    `grp`, `team` and `unit` are `Labels` codes (`unit` NONE: a fixed row, not
    resampled); `period` is the period number of the evaluation (0 baseline, 1 after;
    or the month). Several rows may share a key: they add up.
    """

    grp: np.ndarray
    team: np.ndarray
    unit: np.ndarray
    period: np.ndarray
    num: np.ndarray
    den: np.ndarray

    def __len__(self) -> int:
        return len(self.num)

    def take(self, mask: np.ndarray) -> UnitSums:
        return UnitSums(*(getattr(self, k)[mask] for k in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: Sequence[UnitSums]) -> UnitSums:
        keys = list(UnitSums.__dataclass_fields__)
        return UnitSums(*(np.concatenate([getattr(p, k) for p in parts]) for k in keys))


@dataclass
class Cube:
    """One aggregate query's result: coded key columns and float64 measures."""

    cols: dict[str, np.ndarray]
    _teams: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __len__(self) -> int:
        return len(self.cols["b"])

    @classmethod
    def from_arrow(cls, table: pa.Table, labels: Labels, sort: Sequence[str]) -> Cube:
        """Columns as numpy (strings coded), rows sorted by `sort` (key columns)."""
        return cls.sorted(coded_columns(table, labels), sort)

    @classmethod
    def sorted(cls, cols: dict[str, np.ndarray], sort: Sequence[str]) -> Cube:
        """A cube of `cols`, rows sorted by the `sort` key columns."""
        if sort and len(cols[sort[0]]):
            order = _order(cols, sort)
            cols = cols if order is None else {k: v[order] for k, v in cols.items()}
        return cls(cols)

    def of_teams(self, codes: Sequence[int]) -> Cube:
        """The rows of the teams `codes`, in their order here (one team's rows, which
        lie together in a cube sorted by team first: views, not copies)."""
        idx = np.flatnonzero(np.isin(self.cols["team"], np.asarray(codes, dtype=np.int64)))
        if len(idx) and idx[-1] - idx[0] + 1 == len(idx):
            rows: slice | np.ndarray = slice(int(idx[0]), int(idx[-1]) + 1)
        else:
            rows = idx
        return Cube({k: v[rows] for k, v in self.cols.items()})

    def teams(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct team codes, each row's index into them)."""
        if self._teams is None:
            self._teams = np.unique(self.cols["team"], return_inverse=True)
        return self._teams


def coded_columns(
    table: pa.Table, labels: Labels, nulls: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """An Arrow table as numpy columns: strings as `Labels` codes (NULL: NONE), integers
    as int64 (NULL: -1), anything else as float64 (NULL: 0.0, or `nulls[name]`)."""
    cols: dict[str, np.ndarray] = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            cols[name] = labels.encode(col)
        elif pa.types.is_integer(col.type):
            cols[name] = pc.fill_null(col, -1).to_numpy().astype(np.int64)
        else:
            null = (nulls or {}).get(name, 0.0)
            cols[name] = pc.fill_null(col.cast(pa.float64()), null).to_numpy()
    return cols


def _order(cols: dict[str, np.ndarray], sort: Sequence[str]) -> np.ndarray | None:
    """The row order sorting by the `sort` keys (codes >= -1), None when already sorted.

    The keys are packed into one int64 (mixed radix) when they fit: one argsort
    instead of a lexsort over every key."""
    key = np.zeros(len(cols[sort[0]]), dtype=np.int64)
    room = 1.0
    for k in sort:
        radix = int(cols[k].max()) + 2
        room *= radix
        if room >= 2.0**62:
            return np.lexsort([cols[k] for k in reversed(sort)])
        key = key * radix + (cols[k] + 1)
    if np.all(key[1:] > key[:-1]):
        return None
    return np.argsort(key)  # the keys are group-by keys: no ties


class Placed:
    """A cube's rows placed in one evaluation's periods, with the group of each row.

    `grp` is the cube's group column, or the team (difference in differences).
    `period` is -1 outside every window; `start` and `mid` are the buckets of the
    row's window start and midpoint (see `crmroi.kpi.buckets`).
    """

    def __init__(
        self, cube: Cube, buckets: Buckets, ev: Evaluation, labels: Labels, by_team: bool
    ) -> None:
        self.cube, self.labels, self.buckets, self.ev = cube, labels, buckets, ev
        teams, row_team = cube.teams()
        tables = [buckets.lookups(ev, labels.name(int(t))) for t in teams]
        self._row_team = row_team
        width = len(buckets.bounds) + 2
        self._luts = [np.array([t[k] for t in tables]).reshape(len(teams), width) for k in range(3)]
        self.period = self._lookup(0, cube["b"])
        self.grp = cube["team"] if by_team else cube["grp"]
        self.inside = (self.period >= 0) & (self.grp != NONE)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cube[name]

    @cached_property
    def start(self) -> np.ndarray:
        """Per row, the bucket of its window's start (looked up when first used)."""
        return self._lookup(1, self.cube["b"])

    @cached_property
    def mid(self) -> np.ndarray:
        """Per row, the bucket of its window's midpoint (looked up when first used)."""
        return self._lookup(2, self.cube["b"])

    def _lookup(self, k: int, buckets: np.ndarray) -> np.ndarray:
        if not len(buckets):
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self._luts[k][self._row_team, buckets + 1])

    def period_of(self, column: str) -> np.ndarray:
        """The period of another bucket column (e.g. the customer's `since`) per row,
        in the row's team windows."""
        return self._lookup(0, self.cube[column])

    def period_in(self, column: str, ev: Evaluation) -> np.ndarray:
        """The period of a bucket column per row in another evaluation `ev` (whose
        bounds are among the run's buckets), in the row's team windows."""
        if ev is self.ev:
            return self.period_of(column)
        teams, row_team = self.cube.teams()
        width = len(self.buckets.bounds) + 2
        lut = np.array([self.buckets.lookups(ev, self.labels.name(int(t)))[0] for t in teams])
        buckets = self.cube[column]
        if not len(buckets):
            return np.zeros(0, dtype=np.int64)
        return np.asarray(lut.reshape(len(teams), width)[row_team, buckets + 1])

    def code(self, label: str) -> int:
        """The code of a label (-2 when no cube of the run holds it)."""
        return self.labels.ids.get(label, -2)

    def sums(
        self, unit: str | None, num: np.ndarray | float, den: np.ndarray | float,
        mask: np.ndarray | None = None,
    ) -> UnitSums:  # fmt: skip
        """One UnitSums row per cube row in a window (summed measures: num and den add up)."""
        keep = self.inside if mask is None else self.inside & mask
        n = len(self.cube)
        num_a, den_a = (np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)) for x in (num, den))
        units = self.cube[unit] if unit else np.full(n, NONE, dtype=np.int64)
        return UnitSums(
            self.grp[keep], self.cube["team"][keep], units[keep], self.period[keep],
            num_a[keep], den_a[keep],
        )  # fmt: skip

    def runs(self, unit: str, mask: np.ndarray, extra: Sequence[str] = ()) -> RunIndex:
        """Consecutive kept rows with one (group, team, unit, *extra, period): the cube
        is sorted by team, group, unit then bucket, so each such key is one run."""
        idx = np.flatnonzero(self.inside & mask)
        keys = [self.grp, self.cube["team"], self.cube[unit], *(self.cube[k] for k in extra)]
        keys.append(self.period)
        new = np.zeros(len(idx), dtype=bool)
        new[:1] = True
        for k in keys:
            v = k[idx]
            new[1:] |= v[1:] != v[:-1]
        return RunIndex(idx, np.flatnonzero(new))

    def maxima(self, unit: str, flags: dict[str, np.ndarray], mask: np.ndarray) -> UnitSums:
        """Per (group, team, unit, period): `num` and `den` are the maxima of the flags
        'num' and 'den' over the rows (e.g. "bought in the window": 1 or 0)."""
        r = self.runs(unit, mask)
        first = r.idx[r.starts]
        num, den = (r.reduce(np.maximum, flags[k]) for k in ("num", "den"))
        return UnitSums(
            self.grp[first], self.cube["team"][first], self.cube[unit][first],
            self.period[first], num, den,
        )  # fmt: skip


@dataclass
class RunIndex:
    """Rows `idx` of a cube split into runs starting at positions `starts`."""

    idx: np.ndarray
    starts: np.ndarray

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        if not len(self.idx):
            return np.zeros(0)
        return np.asarray(ufunc.reduceat(values[self.idx], self.starts), dtype=np.float64)


def values_in(placed: Placed, value: str, count: str, mask: np.ndarray | None = None) -> UnitSums:
    """For medians: each row's value (`num`) and its count (`den`), no resampling unit."""
    return placed.sums(None, placed[value], placed[count], mask)
