"""Exposure: which deals were worked with the CRM (`crmroi.kpi.exposure`).

The database form (`worked_after`, Ibis on DuckDB) and the numpy form
(`worked_after_np`) must give the same answer, and both must match the plain
definition written out by hand: created_at (else closed_at) >= the team's go-live.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.errors import ConfigurationError
from crmroi.kpi.exposure import check_exposure, team_go_live, worked_after, worked_after_np

GO_LIVE = {"North": dt.date(2024, 1, 1), "South": dt.date(2024, 6, 1)}
DEFAULT = dt.date(2024, 3, 1)
DAYS = st.one_of(st.none(), st.datetimes(dt.datetime(2023, 6, 1), dt.datetime(2024, 12, 31)))


def by_hand(created: dt.datetime | None, closed: dt.datetime | None, team: str, how: str) -> bool:
    when = closed if how == "closed" or created is None else created
    live = dt.datetime.combine(GO_LIVE.get(team, DEFAULT), dt.time())
    return when is not None and when >= live


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(DAYS, DAYS, st.sampled_from(["North", "South", "Other"])), min_size=1, max_size=12
    ),
    how=st.sampled_from(["created", "closed"]),
)
def test_database_numpy_and_hand_agree(
    rows: list[tuple[dt.datetime | None, dt.datetime | None, str]], how: str
) -> None:
    created, closed, team = (list(c) for c in zip(*rows, strict=True))
    table = pa.table(
        {
            "created_at": pa.array(created, pa.timestamp("us")),
            "closed_at": pa.array(closed, pa.timestamp("us")),
            "team": pa.array(team, pa.string()),
        }
    )
    con = ibis.duckdb.connect()
    deals = ibis.memtable(table)
    live = team_go_live(deals.team, GO_LIVE, DEFAULT)
    exposure = check_exposure(how)
    flags = con.to_pyarrow(deals.select(after=worked_after(deals, live, exposure)))["after"]
    in_db = [bool(v) for v in flags.to_pylist()]  # NULL (no dates) reads False
    lives = [dt.datetime.combine(GO_LIVE.get(t, DEFAULT), dt.time()) for t in team]
    to_np = np.array([np.datetime64("NaT") if d is None else np.datetime64(d) for d in created])
    cl_np = np.array([np.datetime64("NaT") if d is None else np.datetime64(d) for d in closed])
    in_np = worked_after_np(to_np, cl_np, np.array(lives, dtype="datetime64[us]"), exposure)
    expected = [by_hand(a, b, t, how) for a, b, t in rows]
    assert in_db == expected
    assert in_np.tolist() == expected


def test_a_deal_opened_before_go_live_is_not_an_after_deal_by_default() -> None:
    created = np.array(["2023-12-01"], dtype="datetime64[us]")
    closed = np.array(["2024-02-01"], dtype="datetime64[us]")
    live = np.array(["2024-01-01"], dtype="datetime64[us]")
    assert not worked_after_np(created, closed, live)[0]
    assert worked_after_np(created, closed, live, "closed")[0]


def test_unknown_exposure_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="created, closed"):
        check_exposure("opened")
