"""Time buckets: every window bound of a run, so that one aggregate serves every window.

A run evaluates KPIs over several window sets at once (the report's per-team
windows and the difference-in-differences windows; or calendar months for a
panel). All their bounds (starts, ends and midpoints) are sorted into one list
B_0 < B_1 < ...; a timestamp's *bucket* is the number of bounds at or before it,
so a window [B_i, B_j) is exactly the buckets i+1 .. j and the facts can be
aggregated per bucket once in the database. Placing a bucket in a window is then
a lookup in a small table per team (numpy), for any number of window sets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import ibis
import ibis.expr.types as ir
import numpy as np

NO_BUCKET = -1  # a NULL timestamp: in no window


@dataclass(frozen=True)
class Span:
    """One window of one team: [start, end), with its midpoint (for first/second halves)."""

    start: dt.datetime
    end: dt.datetime
    mid: dt.datetime | None = None


class Evaluation(Protocol):
    """A window set: the periods (index = period number) a team's rows fall in."""

    def spans(self, team: str | None) -> Sequence[Span]: ...


@dataclass(frozen=True)
class Months:
    """Calendar months as periods (monthly panels); the same for every team."""

    starts: tuple[dt.datetime, ...]  # month starts, the last one only closes the grid

    def spans(self, team: str | None) -> Sequence[Span]:
        del team
        return [Span(a, b) for a, b in zip(self.starts[:-1], self.starts[1:], strict=True)]


class Buckets:
    """The sorted bounds of several evaluations, as an Ibis expression and numpy lookups."""

    def __init__(self, evaluations: Sequence[Evaluation], teams: Sequence[str]) -> None:
        points: set[dt.datetime] = set()
        edges: set[dt.datetime] = set()
        for ev in evaluations:
            for team in (None, *teams):
                for s in ev.spans(team):
                    edges |= {s.start, s.end}
                    points |= {s.start, s.end} | ({s.mid} if s.mid is not None else set())
        self.bounds: list[dt.datetime] = sorted(points)
        self.index = {b: i for i, b in enumerate(self.bounds)}
        # window edges only (no midpoints): coarser buckets for cubes that need no halves
        self.edges: list[dt.datetime] = sorted(edges)
        first = [0] + [self.index[e] + 1 for e in self.edges]
        self._edge_lut = np.array([NO_BUCKET, *first], dtype=np.int64)

    def expr(self, ts: ir.Value, halves: bool = True) -> ir.IntegerValue:
        """The bucket of each timestamp (NULL: NO_BUCKET), as an int32 column.

        A balanced tree of CASE expressions: log2(bounds) comparisons per row.
        Without `halves`, buckets between window edges only (see `from_edges`).
        """
        ts = ts.cast("timestamp")
        bounds = self.bounds if halves else self.edges
        lits = [ibis.literal(b, type="timestamp") for b in bounds]

        def tree(lo: int, hi: int) -> ir.Value:  # bucket in lo..hi
            if lo == hi:
                return ibis.literal(lo, type="int32")
            mid = (lo + hi + 1) // 2  # bucket >= mid  <=>  ts >= bounds[mid - 1]
            return ibis.cases((ts < lits[mid - 1], tree(lo, mid - 1)), else_=tree(mid, hi))

        inner = tree(0, len(bounds))
        return ibis.cases((ts.isnull(), ibis.literal(NO_BUCKET, type="int32")), else_=inner)

    def from_edges(self, buckets: np.ndarray) -> np.ndarray:
        """Buckets between window edges as (the first of) the full buckets they span:
        the same windows, only the midpoints (halves) are lost."""
        return np.asarray(self._edge_lut[buckets + 1])

    def lookups(self, ev: Evaluation, team: str | None) -> tuple[np.ndarray, ...]:
        """Per bucket (offset by one, so NO_BUCKET is index 0): period (-1: none),
        bucket of the window's start and bucket of its midpoint."""
        n = len(self.bounds) + 2
        period, start, mid = (np.full(n, -1, dtype=np.int64) for _ in range(3))
        for p, s in enumerate(ev.spans(team)):
            i, j = self.index[s.start], self.index[s.end]
            sl = slice(i + 2, j + 2)  # buckets i+1 .. j, shifted by one
            period[sl], start[sl] = p, i
            mid[sl] = self.index[s.mid] if s.mid is not None else j
        return period, start, mid
