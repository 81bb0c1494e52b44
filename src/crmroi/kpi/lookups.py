"""The account and rep lookups of a run as coded numpy arrays, and the joins on them.

A cube's first aggregate (`crmroi.kpi.facts.fetch_cube`) comes back per bucket,
rep, account...; the rep's team, the account's owner, segment and owner's team
are then filled in here from two small tables read once per run (`accounts`:
account id, segment, owner; `reps`: rep id, team), on the integer label codes,
instead of joining every cube with them in the database. The joins keep SQL's
LEFT JOIN meaning: a NULL or unknown key matches nothing (NULL values), and a key
found on several lookup rows repeats the cube row once per match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from crmroi.kpi.stats import NONE, Labels


def left_join(keys: np.ndarray, table_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LEFT JOIN of rows with codes `keys` on lookup rows with codes `table_keys`:
    (row index, lookup row index or -1) per output row, in row order."""
    valid = np.flatnonzero(table_keys != NONE)
    if not len(valid):
        return np.arange(len(keys)), np.full(len(keys), -1, dtype=np.int64)
    size = int(max(keys.max(initial=0), table_keys.max())) + 2  # codes are dense: NONE + 1 = 0
    if np.bincount(table_keys[valid], minlength=size - 1).max() == 1:  # unique: a table
        lut = np.full(size, -1, dtype=np.int64)
        lut[table_keys[valid] + 1] = valid
        return np.arange(len(keys)), lut[keys + 1]
    order = valid[np.argsort(table_keys[valid], kind="stable")]
    sorted_keys = table_keys[order]
    lo = np.searchsorted(sorted_keys, keys, side="left")
    count = np.where(keys == NONE, 0, np.searchsorted(sorted_keys, keys, side="right") - lo)
    times = np.maximum(count, 1)
    row = np.repeat(np.arange(len(keys)), times)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(times) - times, times)
    at = np.minimum(np.repeat(lo, times) + offset, len(order) - 1)
    return row, np.where(np.repeat(count, times) > 0, order[at], -1)


def pick(values: np.ndarray, match: np.ndarray) -> np.ndarray:
    """`values[match]`, NONE where `match` is -1 (no lookup row)."""
    if not len(values):
        return np.full(len(match), NONE, dtype=np.int64)
    return np.where(match >= 0, values[np.maximum(match, 0)], NONE)


@dataclass
class Lookups:
    """Rep id -> team, and account id -> segment, owner rep and the owner's team, as
    parallel code arrays (one entry per lookup row; accounts already joined with reps)."""

    rep: np.ndarray
    rep_team: np.ndarray
    acc: np.ndarray
    acc_seg: np.ndarray
    acc_owner: np.ndarray
    acc_team: np.ndarray

    @classmethod
    def build(cls, reps: pa.Table, accounts: pa.Table, labels: Labels) -> Lookups:
        """From `reps` (rep_id, team) and `accounts` (account_id, segment, owner_rep_id)."""
        rep, rep_team = (labels.encode(reps.column(c)) for c in ("rep_id", "team"))
        acc, seg, owner = (
            labels.encode(accounts.column(c)) for c in ("account_id", "segment", "owner_rep_id")
        )
        row, match = left_join(owner, rep)
        return cls(rep, rep_team, acc[row], seg[row], owner[row], pick(rep_team, match))

    def team_of_rep(self, rep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row index, team) per output row of `rep` LEFT JOIN reps."""
        row, match = left_join(rep, self.rep)
        return row, pick(self.rep_team, match)

    def account(self, acc: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """(row index, (segment, owner, owner's team)) per output row of `acc` LEFT JOIN
        the accounts."""
        row, match = left_join(acc, self.acc)
        return row, tuple(pick(v, match) for v in (self.acc_seg, self.acc_owner, self.acc_team))


def regroup(
    cols: dict[str, np.ndarray], keys: Sequence[str], sums: Sequence[str], maxes: Sequence[str]
) -> dict[str, np.ndarray]:
    """Rows with equal `keys` merged (GROUP BY), sorted by the keys: `sums` added,
    `maxes` the largest (NULLs given as -inf, so that they lose, as SQL's MAX skips
    them). Float keys group by value."""
    if not len(cols[keys[0]]):
        return {k: cols[k] for k in (*keys, *sums, *maxes)}
    coded = [
        np.unique(cols[k], return_inverse=True)[1] if cols[k].dtype.kind == "f" else cols[k]
        for k in keys
    ]
    packed = packed_key(coded)
    if packed is not None:  # one argsort of one int64 key instead of a lexsort
        order = np.argsort(packed, kind="stable")
        new = np.empty(len(order), dtype=bool)
        new[0] = True
        ordered = packed[order]
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    else:
        order = np.lexsort(coded[::-1])
        new = np.zeros(len(order), dtype=bool)
        new[0] = True
        for c in coded:
            v = c[order]
            new[1:] |= v[1:] != v[:-1]
    starts = np.flatnonzero(new)
    out = {k: cols[k][order[starts]] for k in keys}
    for k in sums:
        out[k] = np.add.reduceat(cols[k][order], starts)
    for k in maxes:
        out[k] = np.maximum.reduceat(cols[k][order], starts)
    return out


def packed_key(coded: Sequence[np.ndarray]) -> np.ndarray | None:
    """Integer key columns (each >= -1) as one int64 in mixed radix, in the same order;
    None when they do not fit in 62 bits."""
    key = np.zeros(len(coded[0]), dtype=np.int64)
    room = 1.0
    for c in coded:
        radix = int(c.max()) + 2
        room *= radix
        if room >= 2.0**62:
            return None
        key = key * radix + (c + 1)
    return key
