"""The numpy joins and GROUP BY of the KPI cubes (`crmroi.kpi.lookups`) against SQL.

The cubes' account and rep lookups and their second aggregate used to run in the
database; they now run on label codes in numpy. Here both are checked against
DuckDB running the same LEFT JOIN and GROUP BY on the same rows, including NULL
keys, keys missing from the lookup and keys found on several lookup rows.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.kpi.lookups import Lookups, left_join, pick, regroup
from crmroi.kpi.stats import NONE, Labels

codes = st.lists(st.integers(min_value=-1, max_value=6), max_size=25)


def _nullable(values: list[int]) -> pa.Array:
    return pa.array([None if v == NONE else v for v in values], type=pa.int64())


@settings(max_examples=150, deadline=None)
@given(keys=codes, table=codes)
def test_left_join_is_sqls(keys: list[int], table: list[int]) -> None:
    """Every (row, lookup row) pair of the numpy join is SQL's, with NULLs and repeats."""
    row, match = left_join(np.array(keys, dtype=np.int64), np.array(table, dtype=np.int64))
    got = sorted(zip(row.tolist(), match.tolist(), strict=True))
    con = duckdb.connect()
    con.register("rows", pa.table({"i": list(range(len(keys))), "k": _nullable(keys)}))
    con.register("look", pa.table({"j": list(range(len(table))), "k": _nullable(table)}))
    sql = "SELECT i, coalesce(j, -1) FROM rows LEFT JOIN look USING (k) ORDER BY 1, 2"
    assert got == sorted(con.execute(sql).fetchall())


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(-1, 3),
            st.integers(-1, 2),
            st.sampled_from([0.5, 1.0, 2.25]),
            st.floats(-1e6, 1e6, allow_nan=False),
            st.sampled_from([-np.inf, -2.0, 0.0, 1.0]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_regroup_is_group_by(rows: list[tuple[int, int, float, float, float]]) -> None:
    """Sums and maxima per key (an integer, a code and a float key) as SQL's GROUP BY,
    sorted by the keys; -inf stands for NULL in the maxima."""
    a, b, v, x, m = (np.array(c) for c in zip(*rows, strict=True))
    out = regroup({"a": a, "b": b, "v": v, "x": x, "m": m}, ["a", "b", "v"], ["x"], ["m"])
    null = m == -np.inf  # NULL maxima
    con = duckdb.connect()
    con.register(
        "t",
        pa.table({"a": a, "b": b, "v": v, "x": x, "m": pa.array(np.where(null, 0, m), mask=null)}),
    )
    expected = con.execute(
        "SELECT a, b, v, sum(x), coalesce(max(m), '-inf'::DOUBLE) FROM t GROUP BY ALL "
        "ORDER BY a, b, v"
    ).fetchall()
    got = list(zip(*(out[k].tolist() for k in ("a", "b", "v", "x", "m")), strict=True))
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    np.testing.assert_allclose([g[3] for g in got], [e[3] for e in expected], rtol=1e-12)
    assert [g[4] for g in got] == [e[4] for e in expected]


def test_lookups_fill_team_owner_and_segment() -> None:
    """Rep -> team; account -> segment, owner and the owner's team (NULL owner, unknown
    owner and a rep without team give NONE)."""
    labels = Labels()
    reps = pa.table({"rep_id": ["r1", "r2", "r3"], "team": ["North", "South", None]})
    accounts = pa.table(
        {
            "account_id": ["a1", "a2", "a3", "a4"],
            "segment": ["SMB", None, "Ent", "SMB"],
            "owner_rep_id": ["r2", "r9", None, "r3"],
        }
    )
    lk = Lookups.build(reps, accounts, labels)
    code = labels.ids.get
    acc = np.array([code("a1"), code("a2"), code("a3"), code("a4"), NONE, labels.code_of("a5")])
    row, (seg, owner, team) = lk.account(acc)
    assert row.tolist() == list(range(6))
    assert [labels.name(int(c)) for c in seg] == ["SMB", None, "Ent", "SMB", None, None]
    assert [labels.name(int(c)) for c in owner] == ["r2", "r9", None, "r3", None, None]
    assert [labels.name(int(c)) for c in team] == ["South", None, None, None, None, None]
    row, rep_team = lk.team_of_rep(np.array([code("r1"), code("r9"), NONE]))
    assert [labels.name(int(c)) for c in rep_team] == ["North", None, None]
    assert pick(np.array([], dtype=np.int64), np.array([-1, -1])).tolist() == [NONE, NONE]


@settings(max_examples=60, deadline=None)
@given(
    columns=st.lists(
        st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=40)), max_size=60),
        min_size=1, max_size=6,
    ),
    bulk=st.sampled_from([1, 3, 10_000]),
)  # fmt: skip
def test_labels_codes_are_first_seen_order(columns: list[list[int | None]], bulk: int) -> None:
    """Labels.encode gives each label the code of its first appearance over the columns
    encoded so far (NULL: NONE), whether the distinct values are looked up one by one
    or in Arrow (`BULK`): the same codes as a dictionary filled row by row."""
    labels = Labels()
    labels.BULK = bulk
    expected: dict[str, int] = {}
    for column in columns:
        text = [None if v is None else f"id-{v}" for v in column]
        got = labels.encode(pa.array(text, type=pa.string())).tolist()
        want = [NONE if t is None else expected.setdefault(t, len(expected)) for t in text]
        assert got == want
        assert labels.names == list(expected)
        assert labels.ids == expected
